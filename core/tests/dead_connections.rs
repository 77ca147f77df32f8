//! A pooled connection that a NAT gateway or a Lambda freeze dropped silently.
//!
//! The harness black-holes every request that arrives on an already-used connection (new
//! connections are served): what such a connection looks like from the client. A read sent
//! into it is hedged on a new connection after `source::HEDGE_DELAY` (`starfleet_secrets::hedge`). Each test
//! uses a deadline no other test uses, so its manager gets an SDK client, and a connection
//! pool, of its own. Run through `scripts/with-harness cargo test`.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::{runtime, source, Code, Options, Path, SecretsManager, Ttl};
use support::*;

fn manager(name: &str, ttl: Ttl, timeout: Duration) -> SecretsManager {
    SecretsManager::new(Options {
        secret_id: Some(name.into()),
        region: Some(REGION.into()),
        ttl: Some(ttl),
        timeout: Some(timeout),
        ..Default::default()
    })
}

fn value(m: &SecretsManager) -> String {
    let secret = runtime::block_on(m.secret()).unwrap();
    secret.get_str(&Path::parse_dotted("v").unwrap()).unwrap().to_owned()
}

#[test]
fn a_black_holed_pooled_connection_costs_about_a_second_not_the_deadline() {
    let rt = runtime::get().unwrap();
    let name = unique("dead-pooled");
    rt.block_on(create_json(&name, &json!({"v": "old"})));
    let m = manager(&name, Ttl::For(Duration::from_secs(1)), Duration::from_millis(9_100));
    assert_eq!(value(&m), "old");

    // The NAT forgot the flow: from now on, requests on a reused connection go nowhere.
    rt.block_on(fault(
        &name,
        "hang",
        0,
        json!({"hang_ms": 20_000, "connection": "reused"}),
    ));
    rt.block_on(put_json(&name, &json!({"v": "new"})));
    std::thread::sleep(Duration::from_millis(1_200)); // past the TTL

    let started = Instant::now();
    assert_eq!(value(&m), "new");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "first read after the drop took {took:?}");
    assert!(
        took >= source::HEDGE_DELAY,
        "the pooled connection was really tried: {took:?}"
    );
    let stats = m.stats();
    assert_eq!(
        (stats.failures, stats.stale_served, stats.hedges),
        (0, 0, 1),
        "{stats:?}"
    );
    // The first read, the attempt into the black hole, the hedge on a new connection.
    assert_eq!(rt.block_on(get_count(&name)), 3);

    // The dead connection left the pool: the next fetch opens a new one, without a hedge.
    let started = Instant::now();
    runtime::block_on(m.refresh()).unwrap();
    let took = started.elapsed();
    assert!(
        took < source::HEDGE_DELAY,
        "the dead connection was used again: {took:?}"
    );
    assert_eq!((m.stats().failures, m.stats().hedges), (0, 1), "{:?}", m.stats());
    assert_eq!(rt.block_on(get_count(&name)), 4);
    rt.block_on(clear_faults(&name));
}

/// The number of seconds a TIMEOUT message says it waited ("no answer within 4.7s").
fn stated_wait(message: &str) -> Duration {
    let (_, rest) = message
        .rsplit_once("no answer within ")
        .unwrap_or_else(|| panic!("{message}"));
    let seconds = rest.split('s').next().unwrap();
    Duration::from_secs_f64(seconds.parse().unwrap_or_else(|_| panic!("{message}")))
}

#[test]
fn a_hung_endpoint_ends_at_the_deadline_and_says_how_long_it_waited() {
    let rt = runtime::get().unwrap();
    let name = unique("hung");
    rt.block_on(create_json(&name, &json!({"v": "x"})));
    // No answer at all, on any connection (a new one, so no hedge either).
    rt.block_on(fault(&name, "hang", 0, json!({"hang_ms": 20_000})));
    let deadline = Duration::from_millis(4_700);
    let m = manager(&name, Ttl::For(Duration::from_secs(1)), deadline);
    let started = Instant::now();
    let err = runtime::block_on(m.secret()).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), Code::Timeout, "{err}");
    // The one request waited for its answer the whole deadline (no shorter timer gave up on
    // it), and not much longer...
    assert!(
        took >= deadline && took < deadline + Duration::from_secs(1),
        "{took:?}: {err}"
    );
    assert_eq!(rt.block_on(get_count(&name)), 1, "one call, never abandoned: {err}");
    // ...and the message says how long, to a tenth of a second.
    let off = stated_wait(&err.to_string()).abs_diff(took);
    assert!(off < Duration::from_millis(300), "took {took:?}: {err}");
    rt.block_on(clear_faults(&name));
}

/// Set in the child process of the idle-timeout test (see below).
const IDLE_CHILD: &str = "STARFLEET_TEST_IDLE_CHILD";

/// The pool's idle timeout, observed: a read shortly after the last one reuses the
/// pooled connection, a read after more than the idle timeout opens a new one. The harness
/// answers requests on a reused connection with AccessDeniedException (not retried), so
/// which connection a refresh used shows in its result. The production timeout is 60 s
/// (`transport::POOL_IDLE_TIMEOUT`); this runs the test binary again, for this test alone,
/// with `STARFLEET_SECRETS_POOL_IDLE_TIMEOUT=1`, since the variable is read when an SDK
/// client is built and clients are shared by the whole process.
#[test]
fn an_idle_pooled_connection_is_dropped_after_the_idle_timeout() {
    const TEST: &str = "an_idle_pooled_connection_is_dropped_after_the_idle_timeout";
    if std::env::var_os(IDLE_CHILD).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(IDLE_CHILD, "1")
            .env(starfleet_secrets::transport::POOL_IDLE_TIMEOUT_VAR, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "child failed:\n{text}"
        );
        return;
    }
    let rt = runtime::get().unwrap();
    let name = unique("idle-pool");
    rt.block_on(create_json(&name, &json!({"v": "x"})));
    // A deadline no other test uses: an SDK client, and a pool, of its own.
    let m = manager(&name, Ttl::For(Duration::ZERO), Duration::from_millis(8_300));
    let refresh = || runtime::block_on(m.refresh());
    refresh().unwrap(); // opens the connection, which goes back to the pool
    rt.block_on(fault(
        &name,
        "error",
        0,
        json!({"status": 400, "code": "AccessDeniedException", "connection": "reused"}),
    ));

    std::thread::sleep(Duration::from_millis(300)); // well inside the 1 s idle timeout
    let err = refresh().unwrap_err();
    assert_eq!(
        err.code(),
        Code::AccessDenied,
        "the pooled connection was reused: {err}"
    );

    std::thread::sleep(Duration::from_millis(1_600)); // past it
    let secret = refresh().expect("a new connection after the idle timeout");
    assert_eq!(secret.get_str(&Path::parse_dotted("v").unwrap()).unwrap(), "x");
    rt.block_on(clear_faults(&name));
}
