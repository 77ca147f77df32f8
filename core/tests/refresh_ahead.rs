//! Refresh-ahead and the fleet expiry jitter against the real API (moto) behind the fault
//! proxy, whose `delay` fault makes every fetch take a second.
//! Run through `scripts/with-harness cargo test`.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::{Code, Options, Path, Payload, Secret, SecretsManager, Ttl};
use support::*;

/// The proxy holds every call to the secret this long: about a second, just under the 1 s
/// hedge delay (`source::HEDGE_DELAY`), after which a call on a reused connection would also
/// be sent on a new one and the call counts would double.
const DELAY: Duration = Duration::from_millis(900);
/// A read that took longer than this waited for a fetch.
const WAITED: Duration = Duration::from_millis(300);

fn token(s: &Secret) -> String {
    s.get_str(&Path::parse_dotted("token").unwrap()).unwrap().to_owned()
}

fn ahead(name: &str, ttl_s: f64, fraction: f64) -> Options {
    Options {
        ttl: Some(Ttl::For(Duration::from_secs_f64(ttl_s))),
        refresh_ahead: Some(fraction),
        expiry_jitter: Some(0.0),
        ..opts(name)
    }
}

async fn slow_secret(prefix: &str, value: &str) -> String {
    let name = unique(prefix);
    create_json(&name, &json!({ "token": value })).await;
    fault(&name, "delay", 0, json!({"delay_ms": DELAY.as_millis() as u64})).await;
    name
}

#[test]
fn after_the_first_load_no_blocking_read_waits_for_a_fetch() {
    let name = run(slow_secret("ahead-blocking", "v1"));
    // TTL 3 s, refresh at 1.5 s: a 1 s fetch ends well before the entry expires.
    let m = SecretsManager::new(ahead(&name, 3.0, 0.5));
    let first = Instant::now();
    assert_eq!(token(&m.secret_blocking().unwrap()), "v1");
    assert!(first.elapsed() >= DELAY, "the first load waits for its fetch");
    let start = Instant::now();
    let mut rotated = false;
    let mut slowest = Duration::ZERO;
    let mut seen_v2 = false;
    while start.elapsed() < Duration::from_secs(10) {
        if !rotated && start.elapsed() > Duration::from_secs(4) {
            run(put_json(&name, &json!({"token": "v2"})));
            rotated = true;
        }
        let t = Instant::now();
        let s = m.secret_blocking().unwrap();
        slowest = slowest.max(t.elapsed());
        seen_v2 |= token(&s) == "v2";
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(slowest < WAITED, "a read waited {slowest:?} for a fetch");
    assert!(seen_v2, "the background refreshes bring the new version");
    let stats = m.stats();
    assert!(stats.refreshes_ahead >= 3, "{stats:?}");
    assert_eq!(stats.fetches, stats.refreshes_ahead + 1, "{stats:?}");
    assert_eq!((stats.failures, stats.stale_served), (0, 0), "{stats:?}");
    assert_eq!(stats.to_json()["refreshes_ahead"], json!(stats.refreshes_ahead));
}

#[test]
fn after_the_first_load_no_async_read_waits_for_a_fetch() {
    run(async {
        let name = slow_secret("ahead-async", "v1").await;
        let m = Arc::new(SecretsManager::new(ahead(&name, 3.0, 0.5)));
        m.secret().await.unwrap();
        let start = Instant::now();
        let mut slowest = Duration::ZERO;
        while start.elapsed() < Duration::from_secs(8) {
            // Several readers at once: still one background refresh at a time.
            let t = Instant::now();
            let reads: Vec<_> = (0..8)
                .map(|_| {
                    let m = m.clone();
                    tokio::spawn(async move { m.secret().await.map(|s| token(&s)) })
                })
                .collect();
            for r in reads {
                assert_eq!(r.await.unwrap().unwrap(), "v1");
            }
            slowest = slowest.max(t.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(slowest < WAITED, "a read waited {slowest:?} for a fetch");
        let stats = m.stats();
        assert!(stats.refreshes_ahead >= 2, "{stats:?}");
        assert_eq!(get_count(&name).await, stats.fetches, "{stats:?}");
    });
}

#[test]
fn a_failed_background_refresh_keeps_the_value_then_follows_max_stale() {
    let name = run(async {
        let name = unique("ahead-fail");
        create_json(&name, &json!({"token": "kept"})).await;
        name
    });
    let m = SecretsManager::new(Options {
        max_stale: Some(Duration::from_secs(2)),
        timeout: Some(Duration::from_secs(2)),
        ..ahead(&name, 2.0, 0.25)
    });
    let loaded = Instant::now();
    m.secret_blocking().unwrap();
    run(fault(
        &name,
        "error",
        0,
        json!({"status": 400, "code": "AccessDeniedException"}),
    ));
    std::thread::sleep(Duration::from_millis(600));
    let t = Instant::now();
    assert_eq!(token(&m.secret_blocking().unwrap()), "kept"); // starts the background refresh
    assert!(t.elapsed() < WAITED);
    let deadline = Instant::now() + Duration::from_secs(5);
    while m.stats().failures == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = m.stats();
    assert_eq!((stats.refreshes_ahead, stats.failures), (1, 1), "{stats:?}");
    assert_eq!(stats.last_error, Some(Code::AccessDenied), "{stats:?}");
    assert!(stats.version_id.is_some(), "the value is kept");
    // Fresh until the TTL, then served stale within max_stale...
    assert_eq!(token(&m.secret_blocking().unwrap()), "kept");
    std::thread::sleep(Duration::from_secs(2).saturating_sub(loaded.elapsed()) + Duration::from_millis(200));
    assert_eq!(token(&m.secret_blocking().unwrap()), "kept");
    assert!(m.stats().stale_served >= 1, "{:?}", m.stats());
    // ...and an error past TTL + max_stale.
    std::thread::sleep(Duration::from_secs(4).saturating_sub(loaded.elapsed()) + Duration::from_millis(300));
    assert_eq!(m.secret_blocking().unwrap_err().code(), Code::AccessDenied);
}

/// Set in the child processes of [`two_processes_started_together_expire_at_different_times`].
const PROBE: &str = "STARFLEET_TEST_JITTER_PROBE";

/// In a child: how long this process keeps a value with a 1000 s TTL and 50% jitter.
#[test]
fn jitter_probe() {
    if std::env::var_os(PROBE).is_none() {
        return;
    }
    let m = SecretsManager::new(Options {
        secret_id: Some("S".into()),
        region: Some(REGION.into()),
        ttl: Some(Ttl::For(Duration::from_secs(1000))),
        expiry_jitter: Some(0.5),
        ..Default::default()
    });
    let mut fetch = |_: &starfleet_secrets::Settings| {
        Ok(Secret::new(
            "S".into(),
            Some("v1".into()),
            Payload::Binary(vec![1].into()),
        ))
    };
    let s = m.secret_blocking_with(&mut fetch).unwrap();
    let until = m.fresh_until(&s).unwrap().unwrap();
    println!("fresh-for={}", until.duration_since(Instant::now()).as_secs_f64());
}

#[test]
fn two_processes_started_together_expire_at_different_times() {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["jitter_probe", "--exact", "--nocapture", "--test-threads=1"])
                .env(PROBE, "1")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let fresh_for: Vec<f64> = children
        .into_iter()
        .map(|c| {
            let out = String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap();
            let (_, line) = out.split_once("fresh-for=").expect(&out);
            line.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect();
    for f in &fresh_for {
        assert!(
            (499.0..=1000.0).contains(f),
            "{fresh_for:?} outside [ttl × (1 − 0.5), ttl]"
        );
    }
    // Shares are uniform over 500 s: closer than 10 ms means they were not drawn apart.
    assert!(
        (fresh_for[0] - fresh_for[1]).abs() > 0.01,
        "two processes drew the same share: {fresh_for:?}"
    );
}

/// The read that would start a refresh-ahead is not answered by `try_hit` (the bindings'
/// "answer without consulting anything" call): it goes through the binding's load path,
/// which hands over the host's configuration first, so a configuration that names another
/// secret is followed while reads keep the value fresh (here: as a binding does it).
#[test]
fn the_host_configuration_is_asked_for_before_each_refresh_ahead() {
    let ((a, _), (b, _)) = two_secrets("ahead-host");
    let v = |s: &Secret| s.get_str(&Path::parse_dotted("v").unwrap()).unwrap().to_owned();
    let m = SecretsManager::new(Options {
        ttl: Some(Ttl::For(Duration::from_secs(2))),
        refresh_ahead: Some(0.2),
        expiry_jitter: Some(0.0),
        ..Default::default()
    });
    // A binding's read: try_hit, else hand the configuration over, then read.
    let read = |host: &str| -> String {
        if let Some(hit) = m.try_hit() {
            return v(&hit);
        }
        m.use_config(host_config(host)).unwrap();
        v(&m.secret_blocking().unwrap())
    };
    assert_eq!(read(&a), "a");
    assert!(m.try_hit().is_some(), "fresh and not due: answered at once");
    std::thread::sleep(Duration::from_millis(500));
    // The host now names b; reads keep coming well within the TTL.
    assert_eq!(
        read(&b),
        "b",
        "the refresh-ahead point did not consult the host's configuration"
    );
}
