//! A slow answer is still an answer: a Secrets Manager (or the KMS behind it) that takes
//! seconds to answer is read, in about the time it takes, with one call, two at most when the
//! request went out on a reused connection and was hedged (`starfleet_secrets::hedge`). Only
//! the caller's deadline ends a read (`dead_connections.rs` checks that a TIMEOUT then says how
//! long it really waited).
//!
//! Each test uses a deadline no other test of this binary uses, so its managers get an SDK
//! client, and a connection pool, of their own (the pool decides new versus reused
//! connections, which these tests count on). Run through `scripts/with-harness cargo test`.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::{runtime, Options, Path, SecretsManager, Stats, Ttl};
use support::*;

/// The caller's deadline of the slow-answer test, as a user would set it.
const TEN_SECONDS: Duration = Duration::from_secs(10);
/// How much longer than the service's answer a read may take (a loaded debug build).
const SLACK: Duration = Duration::from_millis(900);

fn manager(name: &str, timeout: Duration) -> SecretsManager {
    SecretsManager::new(Options {
        secret_id: Some(name.into()),
        region: Some(REGION.into()),
        ttl: Some(Ttl::For(Duration::ZERO)),
        timeout: Some(timeout),
        ..Default::default()
    })
}

/// A secret whose every GetSecretValue the proxy answers after `delay`.
async fn slow_secret(delay: Duration) -> String {
    let name = unique(&format!("slow-{}ms", delay.as_millis()));
    create_json(&name, &json!({"v": "x"})).await;
    fault(&name, "delay", 0, json!({"delay_ms": delay.as_millis() as u64})).await;
    name
}

/// Reads each secret at once, each from its own thread; how long each read took and its stats.
fn read_all(managers: &[SecretsManager]) -> Vec<(Duration, Stats)> {
    std::thread::scope(|scope| {
        let reads: Vec<_> = managers
            .iter()
            .map(|m| {
                scope.spawn(move || {
                    let started = Instant::now();
                    let secret = m.secret_blocking().unwrap_or_else(|e| panic!("{e}"));
                    let took = started.elapsed();
                    assert_eq!(secret.get_str(&Path::parse_dotted("v").unwrap()).unwrap(), "x");
                    (took, m.stats())
                })
            })
            .collect();
        reads.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

#[test]
fn slow_answers_are_read_in_about_their_time_with_one_call() {
    let rt = runtime::get().unwrap();
    let delays = [900, 1_500, 3_000, 8_000].map(Duration::from_millis);
    let names: Vec<String> = delays.iter().map(|d| rt.block_on(slow_secret(*d))).collect();
    let managers: Vec<_> = names.iter().map(|n| manager(n, TEN_SECONDS)).collect();

    // A pool of its own, empty: the four reads start together, so each goes out on a new
    // connection, which waits for its answer however slow (no hedge, one call).
    for ((took, stats), (delay, name)) in read_all(&managers).into_iter().zip(delays.iter().zip(&names)) {
        assert!(took >= *delay && took < *delay + SLACK, "{delay:?}: took {took:?}");
        assert_eq!((stats.failures, stats.hedges), (0, 0), "{delay:?}: {stats:?}");
        assert_eq!(rt.block_on(get_count(name)), 1, "{delay:?}: one call");
    }

    // Now the pool holds their connections (the proxy keeps them open), so the 1.5 s and 3 s
    // answers come on reused ones: after a second of silence each read is hedged (one more
    // call, on a new connection), and the first answer, the original one, still ends the read
    // in about its time.
    let again = &managers[1..3];
    for ((took, stats), (delay, name)) in read_all(again).into_iter().zip(delays[1..3].iter().zip(&names[1..3])) {
        assert!(
            took >= *delay && took < *delay + SLACK,
            "{delay:?} again: took {took:?}"
        );
        assert_eq!((stats.failures, stats.hedges), (0, 1), "{delay:?} again: {stats:?}");
        assert_eq!(
            rt.block_on(get_count(name)),
            3,
            "{delay:?} again: the first read, the second and its hedge"
        );
    }
    for name in &names {
        rt.block_on(clear_faults(name));
    }
}
