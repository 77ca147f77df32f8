//! Hits answered without the state lock (core/src/cache/hit_view.rs) answer exactly what the
//! locked path would: every change of the cache is seen by the very next hit, no hit answers
//! past the TTL, a hit past the refresh-ahead point still starts the background refresh, and
//! concurrent readers never see a value the cache no longer holds once the change returned.
//!
//! A mounted file is the source (no AWS, no harness): `cargo test -p starfleet-secrets --test hits`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use starfleet_secrets::{Document, Options, Path as KeyPath, Payload, SecretsManager, Ttl};
use zeroize::Zeroizing;

fn file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("sf-hits-{name}-{}.json", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn manager(path: &std::path::Path, ttl: Ttl, refresh_ahead: Option<f64>) -> SecretsManager {
    SecretsManager::new(Options {
        source: Some(format!("file:{}", path.display())),
        ttl: Some(ttl),
        refresh_ahead,
        expiry_jitter: Some(0.0),
        ..Default::default()
    })
}

fn generation(m: &SecretsManager) -> Option<String> {
    let key = KeyPath::parse_dotted("generation").unwrap();
    m.cached().map(|s| s.get_str(&key).unwrap().to_owned())
}

fn doc(generation: u32) -> String {
    format!("{{\"generation\": \"{generation}\"}}")
}

#[test]
fn every_change_is_seen_by_the_next_hit() {
    let path = file("changes", &doc(1));
    let m = manager(&path, Ttl::For(Duration::from_secs(3600)), None);
    assert_eq!(generation(&m), None, "nothing loaded yet");
    m.secret_blocking().unwrap();
    assert_eq!(generation(&m).as_deref(), Some("1"));

    std::fs::write(&path, doc(2)).unwrap();
    m.refresh_blocking().unwrap();
    assert_eq!(
        generation(&m).as_deref(),
        Some("2"),
        "a refresh is the next hit's value"
    );

    let token = m.push_override(Payload::Json(Document::parse(Zeroizing::new(doc(3))).unwrap()));
    assert_eq!(generation(&m).as_deref(), Some("3"), "an override answers the next hit");
    m.pop_override(token).unwrap();
    assert_eq!(generation(&m).as_deref(), Some("2"), "its removal too");

    m.invalidate();
    assert_eq!(generation(&m), None, "invalidate() is seen by the next hit");
    assert_eq!(
        m.secret_blocking()
            .unwrap()
            .get_str(&KeyPath::parse_dotted("generation").unwrap())
            .unwrap(),
        "2"
    );
    let stats = m.stats();
    assert_eq!(stats.hits, 4, "{stats:?}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn no_hit_answers_past_the_ttl() {
    let path = file("ttl", &doc(1));
    let ttl = Duration::from_millis(300);
    let m = manager(&path, Ttl::For(ttl), None);
    let before = Instant::now();
    m.secret_blocking().unwrap();
    let loaded = Instant::now();
    // Until the entry expires, every hit is answered; from then on none is.
    let mut last_hit = before;
    loop {
        // The hit is decided between `asked` and `now`: a call made after the TTL that is
        // answered, or a call that returned before it unanswered, is wrong whatever the
        // scheduler did in between (a thread preempted after a hit must not fail the test).
        let asked = Instant::now();
        let answered = m.cached().is_some();
        let now = Instant::now();
        if !answered {
            assert!(now >= before + ttl, "expired early, {:?} after the load", now - before);
            break;
        }
        assert!(
            asked < loaded + ttl,
            "answered a call made {:?} after the load ended",
            asked - loaded
        );
        last_hit = now;
        assert!(now < before + ttl * 3, "never expired");
    }
    assert!(
        last_hit + Duration::from_millis(100) > before + ttl,
        "hits stopped well before the TTL"
    );
    for _ in 0..1000 {
        assert!(m.cached().is_none(), "an expired entry answered again");
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_hit_past_the_refresh_ahead_point_starts_the_background_refresh() {
    let path = file("ahead", &doc(1));
    let m = manager(&path, Ttl::For(Duration::from_millis(600)), Some(0.5));
    m.secret_blocking().unwrap();
    assert!(m.cached().is_some());
    assert_eq!(m.stats().refreshes_ahead, 0);
    std::thread::sleep(Duration::from_millis(350)); // past 300 ms, within the TTL
    std::fs::write(&path, doc(2)).unwrap();
    assert!(m.cached().is_some(), "still fresh: answered");
    let until = Instant::now() + Duration::from_secs(5);
    while m.stats().refreshes_ahead == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        m.stats().refreshes_ahead,
        1,
        "the hit past the point started one refresh"
    );
    while generation(&m).as_deref() != Some("2") && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        generation(&m).as_deref(),
        Some("2"),
        "the refreshed value is the next hits'"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn readers_never_see_a_value_after_invalidate_returned() {
    let path = file("race", &doc(1));
    let m = Arc::new(manager(&path, Ttl::For(Duration::from_secs(3600)), None));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (m, stop) = (m.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut hits = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    hits += u64::from(m.cached().is_some());
                }
                hits
            })
        })
        .collect();
    for _ in 0..2000 {
        m.secret_blocking().unwrap();
        assert!(m.cached().is_some());
        m.invalidate();
        assert!(m.cached().is_none(), "a hit after invalidate() returned");
    }
    stop.store(true, Ordering::Relaxed);
    let hits: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let stats = m.stats();
    assert_eq!(stats.hits, hits + 2000, "every hit counted once: {stats:?}");
    std::fs::remove_file(path).unwrap();
}
