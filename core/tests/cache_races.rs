//! Races between loads, refreshes, `invalidate()` and a host's configuration changes, against
//! moto behind the fault proxy. Run through `scripts/with-harness cargo test`.
//!
//! Each test here failed on the cache as it was before the fix it names
//! (shared refreshes on a hung endpoint, `invalidate()` during a fetch, and "a value fetched
//! for an old location is never served").

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::{Code, ConfigSource, Options, Path, SecretsManager, Settings};
use support::*;

fn value_of(secret: &starfleet_secrets::Secret) -> String {
    secret.get_str(&Path::parse_dotted("v").unwrap()).unwrap().to_owned()
}

/// 8 threads refresh on a hung endpoint with a 1 s deadline. Before: each
/// waiter fetched again after the previous one failed (8 fetches, the last call after ~8 s).
#[test]
fn concurrent_refreshes_share_one_fetch_and_keep_the_deadline() {
    let name = unique("refresh-herd");
    run(async {
        create_json(&name, &json!({"v": "one"})).await;
        fault(&name, "hang", 0, json!({"hang_ms": 20000})).await;
    });
    let m = Arc::new(SecretsManager::new(Options {
        timeout: Some(Duration::from_secs(1)),
        ..opts(&name)
    }));
    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                let result = m.refresh_blocking();
                (result.map(drop).map_err(|e| e.code()), started.elapsed())
            })
        })
        .collect();
    for t in threads {
        let (result, took) = t.join().unwrap();
        assert_eq!(result, Err(Code::Timeout));
        assert!(took < Duration::from_secs(2), "a refresh returned after {took:?}");
    }
    assert_eq!(m.stats().fetches, 1, "{:?}", m.stats());
    run(clear_faults(&name));
}

/// `invalidate()` while a fetch is in flight. Before: the older in-flight
/// result was cached afterwards, for a full TTL.
#[test]
fn invalidate_is_not_undone_by_a_fetch_in_flight() {
    let name = unique("invalidate-race");
    run(async {
        create_json(&name, &json!({"v": "old"})).await;
        fault(&name, "delay", 1, json!({"delay_ms": 1500})).await;
    });
    let m = Arc::new(SecretsManager::new(opts(&name)));
    let slow = {
        let m = m.clone();
        std::thread::spawn(move || m.secret_blocking().map(|s| value_of(&s)))
    };
    // The first fetch is held at the proxy: change the secret, then forget the cache.
    std::thread::sleep(Duration::from_millis(500));
    run(put_json(&name, &json!({"v": "new"})));
    m.invalidate();
    slow.join().unwrap().unwrap(); // the in-flight call still answers its caller
                                   // Its outcome was not kept: the next access fetches (before the fix it was a hit on the
                                   // outcome of a fetch made before invalidate(), kept for a full TTL).
    assert_eq!(value_of(&m.secret_blocking().unwrap()), "new");
    assert_eq!(m.stats().fetches, 2, "{:?}", m.stats());
}

/// A host application's configuration (`use_config`) that changes location. The
/// value cached for the old location is never served for the new one, not even from a fetch
/// that was in flight when the location changed.
#[test]
fn a_changed_host_configuration_is_followed() {
    let (a, b) = (unique("host-a"), unique("host-b"));
    run(async {
        create_json(&a, &json!({"v": "a"})).await;
        create_json(&b, &json!({"v": "b"})).await;
    });
    let config = host_config;
    let m = Arc::new(SecretsManager::new(Options {
        ttl: Some(starfleet_secrets::Ttl::Forever),
        ..Default::default()
    }));
    assert!(m.use_config(config(&a)).unwrap());
    assert_eq!(value_of(&m.secret_blocking().unwrap()), "a");
    assert!(!m.use_config(config(&a)).unwrap(), "unchanged settings keep the cache");
    assert_eq!(m.stats().fetches, 1);
    assert!(m.use_config(config(&b)).unwrap());
    assert_eq!(value_of(&m.secret_blocking().unwrap()), "b");

    // The location changes while a fetch for the old one is in flight.
    run(fault(&b, "delay", 1, json!({"delay_ms": 1500})));
    m.invalidate();
    let slow = {
        let m = m.clone();
        std::thread::spawn(move || m.secret_blocking().map(|s| value_of(&s)))
    };
    std::thread::sleep(Duration::from_millis(500));
    assert!(m.use_config(config(&a)).unwrap());
    assert_eq!(
        slow.join().unwrap().unwrap(),
        "a",
        "the load started over for the new location"
    );
    assert_eq!(value_of(&m.secret_blocking().unwrap()), "a");

    // A host configuration without the stanza is CONFIG_MISSING even with SlackEnabled, and
    // nothing cached for the old location is served.
    let popped = ConfigSource::Loaded {
        name: "the host's configuration".into(),
        tree: json!({"STARFLEET": {"SlackEnabled": true}}),
    };
    let e = m.use_config(popped).unwrap_err();
    assert_eq!(e.code(), Code::ConfigMissing, "{e}");
    assert!(e.message().contains("STARFLEET.SecretsManager"), "{e}");
    assert_eq!(m.secret_blocking().unwrap_err().code(), Code::ConfigMissing);
    let wrong = ConfigSource::Loaded {
        name: "the host's configuration".into(),
        tree: json!({"STARFLEET": {"SecretsManager": {"SecretId": "S", "SecretRegion": "Ohio"}}}),
    };
    let e = m.use_config(wrong).unwrap_err();
    assert_eq!(e.code(), Code::ConfigInvalid);
    assert!(e.message().contains("STARFLEET.SecretsManager.SecretRegion"), "{e}");
}

/// A fetch supplied by the caller (Python's moto mock) runs on the calling thread
/// under the fetch lock, and the cache around it is the core's.
#[test]
fn a_caller_supplied_fetch_runs_on_the_callers_thread_under_the_cache() {
    let m = Arc::new(SecretsManager::new(Options {
        secret_id: Some("S".into()),
        region: Some("us-east-2".into()),
        ..Default::default()
    }));
    let caller = std::thread::current().id();
    let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut fetch = {
        let calls = calls.clone();
        move |settings: &Settings| {
            assert_eq!(std::thread::current().id(), caller);
            assert_eq!(settings.location.secret_id, "S");
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let doc = starfleet_secrets::Document::parse(zeroize::Zeroizing::new(r#"{"v": "mocked"}"#.to_owned()))?;
            Ok(starfleet_secrets::Secret::new(
                "S".into(),
                Some("v1".into()),
                starfleet_secrets::Payload::Json(doc),
            ))
        }
    };
    assert_eq!(value_of(&m.secret_blocking_with(&mut fetch).unwrap()), "mocked");
    assert_eq!(value_of(&m.secret_blocking_with(&mut fetch).unwrap()), "mocked");
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the second access is a hit"
    );
    let stats = m.stats();
    assert_eq!((stats.hits, stats.misses, stats.fetches), (1, 1, 1));
    m.refresh_blocking_with(&mut fetch).unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    let mut failing = |_: &Settings| Err(starfleet_secrets::Error::new(Code::SecretNotFound, "gone"));
    assert_eq!(
        m.refresh_blocking_with(&mut failing).unwrap_err().code(),
        Code::SecretNotFound
    );
    assert_eq!(m.stats().version_id.as_deref(), Some("v1"), "the last good value stays");
}
