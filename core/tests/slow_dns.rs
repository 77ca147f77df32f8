//! The way to the endpoint's address, through a DNS server of the test:
//!
//! * A slow resolver is still a resolver: when the system's DNS server takes longer to answer
//!   than the connect timeout (3 s, `source::CONNECT_TIMEOUT`), the read waits for its answer
//!   (`starfleet_secrets::dns`, `starfleet_secrets::hedge`) instead of failing every attempt,
//!   as boto3 (whose connect timeout is 60 s) would read.
//! * A black-holed address (a SYN nothing answers) is not waited on alone: after the connect
//!   timeout a copy of the request goes out on another new connection, whose fresh lookup may
//!   name another address (the fault the connect timeout was for, still caught).
//!
//! The example worker runs in a mount namespace of its own (`unshare -m`) whose
//! `/etc/resolv.conf` names a DNS server of this test, on 127.53.53.53:53; the endpoint is the
//! harness's HTTPS listener under a name only that server knows. Needs root (port 53,
//! `mount`), as the test machines have. The two tests share the server's address, so they
//! take turns ([`SERVER_LOCK`]). Run through `scripts/with-harness cargo test`.

mod support;

use std::net::{Ipv4Addr, UdpSocket};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use starfleet_secrets::runtime;
use support::*;

/// Longer than the connect timeout (3 s), well inside the worker's deadline.
const DELAY: Duration = Duration::from_secs(4);
const SERVER: Ipv4Addr = Ipv4Addr::new(127, 53, 53, 53);

/// Serialises the tests: both serve DNS on [`SERVER`].
static SERVER_LOCK: Mutex<()> = Mutex::new(());

/// A DNS server on [`SERVER`] until the returned flag is set: answers each query after
/// `delay`, an A query with `address(n)` (n counting A queries from 0), any other with no
/// record. Also returns the count of queries received.
fn dns_server(
    delay: Duration,
    address: impl Fn(usize) -> Ipv4Addr + Send + 'static,
) -> (Arc<AtomicUsize>, Arc<AtomicBool>) {
    // The other test's server may still hold the port for an answer it is sending late.
    let waited = Instant::now();
    let socket = loop {
        match UdpSocket::bind((SERVER, 53)) {
            Ok(socket) => break socket,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && waited.elapsed() < Duration::from_secs(15) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("bind 127.53.53.53:53 (the test needs root): {e}"),
        }
    };
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let queries = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (counted, stopped) = (Arc::clone(&queries), Arc::clone(&stop));
    std::thread::spawn(move || {
        let mut a_queries = 0;
        while !stopped.load(Ordering::SeqCst) {
            let mut buf = [0u8; 512];
            let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                continue;
            };
            counted.fetch_add(1, Ordering::SeqCst);
            let query = &buf[..len];
            // The question: the name's labels, a zero byte, QTYPE, QCLASS.
            let mut end = 12;
            while query[end] != 0 {
                end += usize::from(query[end]) + 1;
            }
            let qtype = u16::from_be_bytes([query[end + 1], query[end + 2]]);
            let end = end + 5;
            let a = qtype == 1;
            let mut answer = Vec::from(&query[..2]); // the query's id
            answer.extend_from_slice(&[0x81, 0x80, 0, 1, 0, u8::from(a), 0, 0, 0, 0]);
            answer.extend_from_slice(&query[12..end]);
            if a {
                // A pointer to the question's name, A, IN, TTL 60, four bytes: the address.
                answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                answer.extend_from_slice(&address(a_queries).octets());
                a_queries += 1;
            }
            let socket = socket.try_clone().unwrap();
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let _ = socket.send_to(&answer, peer);
            });
        }
    });
    (queries, stop)
}

/// The harness's HTTPS port.
fn https_port() -> u16 {
    let https = std::env::var("STARFLEET_TEST_PROXY_HTTPS").expect("run through scripts/with-harness");
    https.rsplit(':').next().unwrap().parse().unwrap()
}

/// The example worker reading `name` at `https://sm.harness.test:PORT` (a name the harness's
/// certificate covers, *.harness.test, and only [`SERVER`] resolves), in a mount namespace
/// whose resolv.conf names [`SERVER`]; its output and how long it took.
fn read_by_name(name: &str) -> (Output, Duration) {
    let dir = std::env::temp_dir().join(unique("slow-dns-resolv"));
    std::fs::create_dir_all(&dir).unwrap();
    let resolv = dir.join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {SERVER}\noptions timeout:10 attempts:1\n")).unwrap();
    let endpoint = format!("https://sm.harness.test:{}", https_port());
    let started = Instant::now();
    let out = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            r#"mount --bind "$1" /etc/resolv.conf && exec "$2""#,
            "sh",
        ])
        .arg(&resolv)
        .arg(worker_path())
        .env("STARFLEET_SECRET_ID", name)
        .env("STARFLEET_SECRET_REGION", REGION)
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint)
        .env("STARFLEET_SECRETS_TIMEOUT", "20")
        .env_remove("STARFLEET_CONFIG")
        .output()
        .expect("run unshare");
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{endpoint}: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("read STARFLEET.SlackToken"));
    (out, took)
}

#[test]
fn a_resolver_slower_than_the_connect_timeout_is_waited_for() {
    let _turn = SERVER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let (queries, stop) = dns_server(DELAY, |_| Ipv4Addr::LOCALHOST);
    let name = seeded("slow-dns");
    let (_, took) = read_by_name(&name);
    stop.store(true, Ordering::SeqCst);
    // The first lookup's answer, not a later attempt's: about DELAY, under two of them.
    assert!(took >= DELAY && took < DELAY * 2, "took {took:?}");
    assert_eq!(runtime::get().unwrap().block_on(get_count(&name)), 1);
    assert!(queries.load(Ordering::SeqCst) >= 1);
}

#[test]
fn a_black_holed_address_is_left_for_another_connection() {
    let _turn = SERVER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    // 127.0.0.2 at the harness's port drops every SYN.
    let hole = Ipv4Addr::new(127, 0, 0, 2);
    let _hole = black_hole((hole, https_port()).into());
    // The first lookup names the black hole, every later one the harness.
    let (queries, stop) = dns_server(Duration::ZERO, move |n| if n == 0 { hole } else { Ipv4Addr::LOCALHOST });
    let name = seeded("black-hole");
    let (_, took) = read_by_name(&name);
    stop.store(true, Ordering::SeqCst);
    // One connect timeout (3 s) on the black hole, then the copy's connection.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(6),
        "took {took:?}"
    );
    assert_eq!(runtime::get().unwrap().block_on(get_count(&name)), 1);
    assert!(queries.load(Ordering::SeqCst) >= 2, "a second lookup");
}
