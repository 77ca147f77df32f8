//! A pooled connection that a NAT gateway or a Lambda freeze dropped silently (issue 14).
//!
//! The harness black-holes every request that arrives on an already-used connection (new
//! connections are served): what such a connection looks like from the client. Each test
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
        took >= source::ATTEMPT_READ_TIMEOUT,
        "the pooled connection was really tried: {took:?}"
    );
    let stats = m.stats();
    assert_eq!((stats.failures, stats.stale_served), (0, 0), "{stats:?}");
    // The first read, the attempt into the black hole, the retry on a new connection.
    assert_eq!(rt.block_on(get_count(&name)), 3);
    rt.block_on(clear_faults(&name));
}

#[test]
fn a_hung_endpoint_still_ends_within_the_deadline() {
    let rt = runtime::get().unwrap();
    let name = unique("hung");
    rt.block_on(create_json(&name, &json!({"v": "x"})));
    rt.block_on(fault(&name, "hang", 0, json!({"hang_ms": 20_000})));
    let deadline = Duration::from_millis(2_600);
    let m = manager(&name, Ttl::For(Duration::from_secs(1)), deadline);
    let started = Instant::now();
    let err = runtime::block_on(m.secret()).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), Code::Timeout, "{err}");
    assert!(took < deadline + Duration::from_secs(1), "{took:?}");
    rt.block_on(clear_faults(&name));
}
