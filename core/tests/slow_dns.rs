//! A slow resolver is still a resolver: when the system's DNS server takes longer to answer
//! than the connect timeout (3 s, `source::CONNECT_TIMEOUT`), the read waits for its answer
//! (`starfleet_secrets::dns`) instead of failing every attempt, as boto3 (whose connect
//! timeout is 60 s) would read.
//!
//! The example worker runs in a mount namespace of its own (`unshare -m`) whose
//! `/etc/resolv.conf` names a DNS server of this test, on 127.53.53.53:53, which answers every
//! query after [`DELAY`]; the endpoint is the harness's HTTPS listener under a name only that
//! server knows. Needs root (port 53, `mount`), as the test machines have. Run through
//! `scripts/with-harness cargo test`.

mod support;

use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::runtime;
use support::*;

/// Longer than the connect timeout (3 s), well inside the worker's deadline.
const DELAY: Duration = Duration::from_secs(4);
const SERVER: Ipv4Addr = Ipv4Addr::new(127, 53, 53, 53);

/// Answers each query after `DELAY`: an A query with 127.0.0.1, any other with no record.
/// Returns the count of queries received.
fn slow_dns_server() -> Arc<AtomicUsize> {
    let socket = UdpSocket::bind((SERVER, 53)).expect("bind 127.53.53.53:53 (the test needs root)");
    let queries = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&queries);
    std::thread::spawn(move || loop {
        let mut buf = [0u8; 512];
        let Ok((len, peer)) = socket.recv_from(&mut buf) else {
            return;
        };
        counted.fetch_add(1, Ordering::SeqCst);
        let socket = socket.try_clone().unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(DELAY);
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
                // A pointer to the question's name, A, IN, TTL 60, four bytes: 127.0.0.1.
                answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
            }
            let _ = socket.send_to(&answer, peer);
        });
    });
    queries
}

#[test]
fn a_resolver_slower_than_the_connect_timeout_is_waited_for() {
    let queries = slow_dns_server();
    let name = unique("slow-dns");
    runtime::get().unwrap().block_on(create_json(
        &name,
        &json!({"STARFLEET": {"SlackToken": "xoxb-slow-dns"}}),
    ));
    let dir = std::env::temp_dir().join(unique("slow-dns-resolv"));
    std::fs::create_dir_all(&dir).unwrap();
    let resolv = dir.join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {SERVER}\noptions timeout:10 attempts:1\n")).unwrap();
    let https = std::env::var("STARFLEET_TEST_PROXY_HTTPS").expect("run through scripts/with-harness");
    // A name the harness's certificate covers (*.harness.test) and only this server resolves.
    let endpoint = format!("https://sm.harness.test:{}", https.rsplit(':').next().unwrap());

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
        .env("STARFLEET_SECRET_ID", &name)
        .env("STARFLEET_SECRET_REGION", REGION)
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint)
        .env("STARFLEET_SECRETS_TIMEOUT", "20")
        .env_remove("STARFLEET_CONFIG")
        .output()
        .expect("run unshare");
    let took = started.elapsed();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{endpoint}: {stderr}");
    assert!(stdout.contains("read STARFLEET.SlackToken"), "{stdout}");
    // The first lookup's answer, not a later attempt's: about DELAY, under two of them.
    assert!(took >= DELAY && took < DELAY * 2, "took {took:?}");
    assert_eq!(runtime::get().unwrap().block_on(get_count(&name)), 1);
    assert!(queries.load(Ordering::SeqCst) >= 1);
    let _ = std::fs::remove_dir_all(dir);
}
