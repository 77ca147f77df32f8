//! `on_change` against the real harness: a new VersionId put through the
//! API reaches the subscribers with the old and new ids, once, on the documented thread.
//! Run through `scripts/with-harness cargo test -p starfleet-secrets --test on_change`.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use starfleet_secrets::{notify, Options, Payload, SecretsManager, Ttl};
use support::*;

fn forever(name: &str) -> Options {
    Options {
        ttl: Some(Ttl::Forever),
        ..opts(name)
    }
}

#[test]
fn a_put_version_reaches_the_subscriber_with_old_and_new_ids_on_the_calling_thread() {
    let name = unique("notify-basic");
    let v1 = run(create_json(&name, &json!({"token": "canary-notify-1"})));
    let m = SecretsManager::new(forever(&name));
    let threads = Arc::new(Mutex::new(Vec::new()));
    let t = threads.clone();
    let _threads_sub = m.on_change(move |_, _| t.lock().unwrap().push(std::thread::current().id()));
    let (_sub, seen) = record(&m);

    m.secret_blocking().unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [(None, v1.clone())],
        "the first load reports no old id"
    );
    m.refresh_blocking().unwrap();
    m.invalidate();
    m.secret_blocking().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1, "the same version again is no change");

    let v2 = run(put_json(&name, &json!({"token": "canary-notify-2"})));
    m.refresh_blocking().unwrap();
    assert_eq!(*seen.lock().unwrap(), [(None, v1.clone()), (Some(v1), v2)]);
    let me = std::thread::current().id();
    assert!(
        threads.lock().unwrap().iter().all(|t| *t == me),
        "blocking calls notify on their own thread"
    );
}

#[test]
fn concurrent_readers_see_one_notification_per_change() {
    let name = unique("notify-herd");
    let v1 = run(create_json(&name, &json!({"k": 1})));
    let m = Arc::new(SecretsManager::new(Options {
        ttl: Some(Ttl::NoCache),
        ..opts(&name)
    }));
    let (_sub, seen) = record(&m);
    m.secret_blocking().unwrap();
    let v2 = run(put_json(&name, &json!({"k": 2})));
    let herd: Vec<_> = (0..16)
        .map(|i| {
            let m = m.clone();
            std::thread::spawn(move || {
                if i % 2 == 0 {
                    m.secret_blocking().map(drop)
                } else {
                    m.refresh_blocking().map(drop)
                }
            })
        })
        .collect();
    for t in herd {
        t.join().unwrap().unwrap();
    }
    assert_eq!(*seen.lock().unwrap(), [(None, v1.clone()), (Some(v1), v2)]);
}

#[test]
fn a_subscriber_may_call_back_into_the_manager() {
    let name = unique("notify-reenter");
    run(create_json(&name, &json!({"k": 1})));
    let m = Arc::new(SecretsManager::new(forever(&name)));
    let weak = Arc::downgrade(&m);
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let _sub = m.on_change(move |_, new| {
        let m = weak.upgrade().unwrap();
        let read = m.secret_blocking().map(|s| s.version_id().map(str::to_owned));
        let refreshed = m.refresh_blocking().map(drop);
        let stats = m.stats().version_id;
        tx.lock()
            .unwrap()
            .send((new.to_owned(), read, refreshed, stats))
            .unwrap();
    });
    m.secret_blocking().unwrap();
    let (new, read, refreshed, stats) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(read.unwrap().as_deref(), Some(new.as_str()));
    refreshed.unwrap();
    assert_eq!(stats.as_deref(), Some(new.as_str()));
}

#[test]
fn a_panicking_subscriber_is_logged_without_its_text_and_the_read_goes_on() {
    let name = unique("notify-panic");
    run(create_json(&name, &json!({"k": "canary-notify-panic-value"})));
    let m = SecretsManager::new(forever(&name));
    let _bad = m.on_change(|_, _| panic!("canary-notify-panic-text"));
    let (_sub, seen) = record(&m);
    let s = m.secret_blocking().unwrap();
    assert_eq!(s.version_id(), seen.lock().unwrap()[0].1.as_str().into());
    let logs = LOGS.lock().unwrap().join("\n");
    assert!(logs.contains("on_change subscriber panicked"), "{logs}");
    assert!(!logs.contains("canary-notify-panic"), "{logs}");
}

#[test]
fn cancel_stops_the_calls() {
    let name = unique("notify-cancel");
    run(create_json(&name, &json!({"k": 1})));
    let m = SecretsManager::new(forever(&name));
    let (sub, seen) = record(&m);
    m.secret_blocking().unwrap();
    sub.cancel();
    run(put_json(&name, &json!({"k": 2})));
    m.refresh_blocking().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn async_calls_notify_on_the_notification_thread() {
    let name = unique("notify-async");
    let v1 = run(create_json(&name, &json!({"k": 1})));
    let m = SecretsManager::new(forever(&name));
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let _sub = m.on_change(move |old, new| {
        let thread = std::thread::current().name().map(str::to_owned);
        tx.lock()
            .unwrap()
            .send((old.map(str::to_owned), new.to_owned(), thread))
            .unwrap();
    });
    run(m.secret()).unwrap();
    let (old, new, thread) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!((old, new), (None, v1));
    assert_eq!(thread.as_deref(), Some(notify::THREAD_NAME));
}

#[test]
fn testing_overrides_do_not_notify() {
    let name = unique("notify-override");
    run(create_json(&name, &json!({"k": 1})));
    let m = SecretsManager::new(forever(&name));
    let (_sub, seen) = record(&m);
    let token = m.push_override(Payload::Binary(zeroize_bytes(b"pinned")));
    m.secret_blocking().unwrap();
    m.refresh_blocking().unwrap();
    m.pop_override(token).unwrap();
    assert!(seen.lock().unwrap().is_empty());
    m.secret_blocking().unwrap();
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the real value after the override is a change"
    );
}

fn zeroize_bytes(b: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(b.to_vec())
}

#[test]
fn a_configuration_naming_another_secret_is_a_change() {
    let ((a, va), (b, vb)) = two_secrets("notify-cfg");
    let config = host_config;
    let m = SecretsManager::new(Options {
        ttl: Some(Ttl::Forever),
        ..Default::default()
    });
    let (_sub, seen) = record(&m);
    m.use_config(config(&a)).unwrap();
    m.secret_blocking().unwrap();
    m.use_config(config(&b)).unwrap();
    m.secret_blocking().unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [(None, va.clone()), (Some(va.clone()), vb.clone())]
    );

    // A binding's configure() replaces its manager through reconfigure(): the subscribers
    // stay, and another secret is a change.
    let replacement = m.reconfigure(forever(&a));
    replacement.secret_blocking().unwrap();
    assert_eq!(seen.lock().unwrap().last().unwrap(), &(Some(vb), va));
}

/// configure() while the old configuration's refresh-ahead is in flight: when that fetch
/// lands, the replaced manager's version is not reported as a change (the subscribers belong
/// to the new manager's generation by then).
#[test]
fn reconfigure_during_a_refresh_ahead_in_flight_reports_only_real_changes() {
    let ((a, va), (b, vb)) = two_secrets("notify-reconf");
    let m = SecretsManager::new(Options {
        ttl: Some(Ttl::For(Duration::from_secs(3))),
        refresh_ahead: Some(0.1),
        expiry_jitter: Some(0.0),
        ..opts(&a)
    });
    let (_sub, seen) = record(&m);
    m.secret_blocking().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    run(fault(&a, "delay", 1, json!({"delay_ms": 800})));
    m.secret_blocking().unwrap(); // a hit past the refresh-ahead point: the slow fetch starts
    std::thread::sleep(Duration::from_millis(150));
    let replacement = m.reconfigure(forever(&b));
    replacement.secret_blocking().unwrap();
    std::thread::sleep(Duration::from_millis(1200)); // the old fetch has landed
    assert!(m.stats().refreshes_ahead >= 1);
    assert_eq!(
        *seen.lock().unwrap(),
        [(None, va.clone()), (Some(va), vb)],
        "a change that did not happen was reported"
    );
    run(clear_faults(&a));
}

/// What survives a reconfiguration is decided once, in core: the testing overrides (same
/// tokens, so a test's undo still works) and the subscribers.
#[test]
fn reconfigure_keeps_the_testing_overrides() {
    let m = SecretsManager::new(Options::default());
    let token = m.push_override(Payload::Json(
        starfleet_secrets::Document::parse(zeroize::Zeroizing::new(r#"{"k": "pinned"}"#.to_owned())).unwrap(),
    ));
    let replacement = m.reconfigure(forever("not-read"));
    let served = replacement.secret_blocking().unwrap();
    assert_eq!(
        served
            .get_str(&starfleet_secrets::Path::parse_dotted("k").unwrap())
            .unwrap(),
        "pinned"
    );
    assert_eq!(replacement.stats().testing_overrides, 1);
    replacement.pop_override(token).unwrap();
    assert_eq!(replacement.stats().testing_overrides, 0);
}

#[test]
fn a_version_brought_by_refresh_ahead_notifies_on_the_notification_thread() {
    let name = unique("notify-ahead");
    let v1 = run(create_json(&name, &json!({"k": 1})));
    // TTL 1 s, refresh from 0.3 s: a read then is answered from the cache and starts the
    // background refresh on the runtime, which stores the new version.
    let m = SecretsManager::new(Options {
        ttl: Some(Ttl::For(Duration::from_secs(1))),
        refresh_ahead: Some(0.3),
        expiry_jitter: Some(0.0),
        ..opts(&name)
    });
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let _sub = m.on_change(move |old, new| {
        let thread = std::thread::current().name().map(str::to_owned);
        tx.lock()
            .unwrap()
            .send((old.map(str::to_owned), new.to_owned(), thread))
            .unwrap();
    });
    m.secret_blocking().unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().1, v1);
    let v2 = run(put_json(&name, &json!({"k": 2})));
    std::thread::sleep(Duration::from_millis(400));
    m.secret_blocking().unwrap(); // a hit past 0.3 s: starts the background refresh
    let (old, new, thread) = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("no call for the new version");
    assert_eq!((old, new), (Some(v1), v2));
    assert_eq!(thread.as_deref(), Some(notify::THREAD_NAME));
    assert!(m.stats().refreshes_ahead >= 1);
}
