//! Secrets the platform mounts as files or sets as environment variables (`source` =
//! `file:`, `env:`, `flyte:`): Kubernetes' atomic-writer layout swapped while 8 threads read,
//! a file rewritten in place, ECS-style variables, both Flyte forms, and each error.
//!
//! No AWS is involved: the process has no credentials and an endpoint nothing listens on, so
//! any SDK call would fail the test. Run with `cargo test -p starfleet-secrets --test mounted`
//! (no harness needed).

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use starfleet_secrets::{Code, Options, Path as KeyPath, SecretsManager, Ttl};
use support::{capture_logs, record, Seen, LOGS};

/// A process where any call to AWS fails: no credentials, no profile, an endpoint nothing
/// listens on, no instance metadata.
fn no_aws() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "STARFLEET_SECRET_ID",
            "STARFLEET_SECRET_REGION",
            "STARFLEET_CONFIG",
            "STARFLEET_SECRET_SOURCE",
        ] {
            std::env::remove_var(name);
        }
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/aws-config");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
        std::env::set_var("AWS_ENDPOINT_URL", "https://127.0.0.1:9");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        capture_logs();
    });
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sf-mounted-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn manager(source: String, ttl: Ttl) -> SecretsManager {
    no_aws();
    SecretsManager::new(Options {
        source: Some(source),
        ttl: Some(ttl),
        ..Default::default()
    })
}

fn key(text: &str) -> KeyPath {
    KeyPath::parse_dotted(text).unwrap()
}

/// Wait (a few seconds at most) until `seen` has `n` entries, then a little longer for any
/// unexpected extra one.
fn settle(seen: &Seen, n: usize) {
    let until = Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().len() < n && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
}

/// One version of the document: the generation twice, far apart, so a read that mixed two
/// versions (or got half a file) cannot pass the check.
fn version(generation: u32) -> String {
    let padding = "x".repeat(64 * 1024);
    format!("{{\"generation\": \"{generation}\", \"padding\": \"{padding}\", \"again\": \"{generation}\"}}")
}

/// Kubernetes' atomic writer: `..<ts>/app.json`, `..data -> ..<ts>`, `app.json -> ..data/app.json`.
fn atomic_write(dir: &Path, stamp: &str, text: &str) {
    let versioned = dir.join(format!("..{stamp}"));
    std::fs::create_dir(&versioned).unwrap();
    std::fs::write(versioned.join("app.json"), text).unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..{stamp}"), &tmp).unwrap();
    let old = std::fs::read_link(dir.join("..data")).ok();
    std::fs::rename(&tmp, dir.join("..data")).unwrap(); // the atomic swap
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old)).unwrap();
    }
    if std::fs::symlink_metadata(dir.join("app.json")).is_err() {
        std::os::unix::fs::symlink("..data/app.json", dir.join("app.json")).unwrap();
    }
}

#[test]
fn an_atomic_writer_swap_read_by_8_threads_is_one_change_and_never_a_mix() {
    let dir = temp_dir("atomic");
    atomic_write(&dir, "2026_12_05_10_00_00.000000001", &version(1));
    // TTL 0: every read goes to the file (its stamp first), the harshest case.
    let m = Arc::new(manager(
        format!("file:{}", dir.join("app.json").display()),
        Ttl::NoCache,
    ));
    let first = m.secret_blocking().unwrap();
    assert_eq!(first.get_str(&key("generation")).unwrap(), "1");
    let v1 = first.version_id().unwrap().to_owned();
    let (_sub, seen) = record(&m);
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (m, stop) = (m.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut generations = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let secret = m.secret_blocking().expect("no read fails while the writer swaps");
                    let generation = secret.get_str(&key("generation")).unwrap().to_owned();
                    assert_eq!(secret.get_str(&key("again")).unwrap(), generation, "a mixed read");
                    if generations.last() != Some(&generation) {
                        generations.push(generation);
                    }
                }
                generations
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    atomic_write(&dir, "2026_12_05_11_00_00.000000002", &version(2));
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        let generations = reader.join().unwrap();
        assert_eq!(generations, ["1", "2"], "each reader saw the old, then the new version");
    }
    settle(&seen, 1);
    let v2 = m.secret_blocking().unwrap().version_id().unwrap().to_owned();
    assert_ne!(v1, v2);
    assert_eq!(*seen.lock().unwrap(), [(Some(v1), v2)], "exactly one change");
    let stats = m.stats();
    assert_eq!((stats.failures, stats.region.as_deref()), (0, None), "{stats:?}");
    assert!(
        !LOGS
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.contains("looser than 0600") && r.contains("atomic")),
        "a projected volume's 0644 files are not warned about"
    );
}

#[test]
fn a_file_rewritten_in_place_is_seen_at_the_next_refresh_and_an_unchanged_one_is_no_change() {
    let dir = temp_dir("in-place");
    let path = dir.join("secret.json");
    std::fs::write(&path, r#"{"token": "canary-in-place-1"}"#).unwrap();
    let m = manager(format!("file:{}", path.display()), Ttl::For(Duration::from_secs(300)));
    let (_sub, seen) = record(&m);
    let one = m.secret_blocking().unwrap();
    let again = m.refresh_blocking().unwrap();
    assert!(Arc::ptr_eq(&one, &again), "an unchanged file keeps the cached value");
    // Same length, so only the times tell: the stamp still sees it.
    std::fs::write(&path, r#"{"token": "canary-in-place-2"}"#).unwrap();
    assert_eq!(
        m.secret_blocking().unwrap().get_str(&key("token")).unwrap(),
        "canary-in-place-1",
        "within the TTL the cached value is served"
    );
    let two = m.refresh_blocking().unwrap();
    assert_eq!(two.get_str(&key("token")).unwrap(), "canary-in-place-2");
    settle(&seen, 2);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].0.as_deref(), one.version_id());
    assert_eq!(m.stats().fetches, 3);
}

#[test]
fn a_file_readable_by_others_is_warned_about_once_without_its_value() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("perms");
    let path = dir.join("loose.json");
    std::fs::write(&path, r#"{"token": "canary-perms"}"#).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    for _ in 0..2 {
        let m = manager(format!("file:{}", path.display()), Ttl::NoCache);
        m.secret_blocking().unwrap();
        m.secret_blocking().unwrap();
    }
    let tight = dir.join("tight.json");
    std::fs::write(&tight, r#"{"token": "canary-perms"}"#).unwrap();
    std::fs::set_permissions(&tight, std::fs::Permissions::from_mode(0o600)).unwrap();
    manager(format!("file:{}", tight.display()), Ttl::NoCache)
        .secret_blocking()
        .unwrap();
    let records = LOGS.lock().unwrap();
    let warnings: Vec<&String> = records.iter().filter(|r| r.contains("looser than 0600")).collect();
    let loose: Vec<&&String> = warnings.iter().filter(|r| r.contains("loose.json")).collect();
    assert_eq!(loose.len(), 1, "{warnings:?}");
    assert!(loose[0].starts_with("WARN") && loose[0].contains("0644"), "{loose:?}");
    assert!(!warnings.iter().any(|r| r.contains("tight.json")), "{warnings:?}");
    assert!(
        !records.iter().any(|r| r.contains("canary-perms")),
        "a value in a log record"
    );
}

#[test]
fn file_errors_are_typed_and_name_the_path() {
    let dir = temp_dir("errors");
    let fifo = dir.join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let not_json = dir.join("not-json");
    std::fs::write(&not_json, "token=canary-not-json").unwrap();
    let a_list = dir.join("a-list.json");
    std::fs::write(&a_list, r#"["canary-list"]"#).unwrap();
    let cases = [
        (dir.join("missing.json"), Code::SecretNotFound, "cannot read"),
        (dir.clone(), Code::ConfigInvalid, "is a directory, not a regular file"),
        (fifo, Code::ConfigInvalid, "is a FIFO, not a regular file"),
        (not_json, Code::SecretFormat, "the value is not valid JSON"),
        (a_list, Code::SecretFormat, "the value is an array, not a JSON object"),
    ];
    for (path, code, says) in cases {
        let started = Instant::now();
        let m = manager(format!("file:{}", path.display()), Ttl::NoCache);
        let e = m.secret_blocking().unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path:?} took {:?}",
            started.elapsed()
        );
        assert_eq!(e.code(), code, "{e}");
        let text = e.to_string();
        assert!(
            text.contains(&path.display().to_string()) && text.contains(says),
            "{text}"
        );
        assert!(!text.contains("canary"), "a value in an error: {text}");
    }
}

#[test]
fn ecs_style_environment_variables() {
    no_aws();
    let name = "SF_TEST_ECS_SECRET";
    std::env::set_var(name, r#"{"db": {"password": "canary-ecs-1"}}"#);
    let m = manager(format!("env:{name}"), Ttl::For(Duration::from_secs(300)));
    let (_sub, seen) = record(&m);
    assert_eq!(
        m.secret_blocking().unwrap().get_str(&key("db.password")).unwrap(),
        "canary-ecs-1"
    );
    m.refresh_blocking().unwrap();
    std::env::set_var(name, r#"{"db": {"password": "canary-ecs-2"}}"#);
    assert_eq!(
        m.refresh_blocking().unwrap().get_str(&key("db.password")).unwrap(),
        "canary-ecs-2",
        "a change of the variable in-process is seen at the next refresh"
    );
    settle(&seen, 2);
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "one load, one change: {:?}",
        seen.lock().unwrap()
    );
    // A json-key injection: one key's value, not a document.
    std::env::set_var(name, "canary-json-key-value");
    let e = m.refresh_blocking().unwrap_err();
    assert_eq!(e.code(), Code::SecretFormat);
    assert!(e.message().contains("json-key") && e.message().contains(name), "{e}");
    assert!(!e.to_string().contains("canary"), "{e}");
    assert_eq!(
        m.secret_blocking().unwrap().get_str(&key("db.password")).unwrap(),
        "canary-ecs-2",
        "the last good value is still served"
    );
    std::env::remove_var(name);
    let e = manager(format!("env:{name}"), Ttl::NoCache)
        .secret_blocking()
        .unwrap_err();
    assert_eq!(e.code(), Code::SecretNotFound);
    assert!(e.message().contains(name) && e.message().contains("not set"), "{e}");
}

#[test]
fn flyte_environment_first_then_file_as_flytekit_looks() {
    no_aws();
    let dir = temp_dir("flyte");
    std::fs::create_dir_all(dir.join("aws-creds")).unwrap();
    std::fs::write(
        dir.join("aws-creds").join("db"),
        "  {\"from\": \"canary-flyte-file\"}\n",
    )
    .unwrap();
    std::env::set_var("FLYTE_SECRETS_DEFAULT_DIR", &dir);
    let source = "flyte:AWS-Creds/DB".to_owned();
    let from = |m: &SecretsManager| m.secret_blocking().map(|s| s.get_str(&key("from")).unwrap().to_owned());
    assert_eq!(
        from(&manager(source.clone(), Ttl::NoCache)).unwrap(),
        "canary-flyte-file"
    );
    std::env::set_var("_FSEC_AWS-CREDS_DB", "{\"from\": \"canary-flyte-env\"}");
    assert_eq!(
        from(&manager(source.clone(), Ttl::NoCache)).unwrap(),
        "canary-flyte-env",
        "the variable comes first"
    );
    std::env::set_var("FLYTE_SECRETS_ENV_PREFIX", "MYPREFIX_");
    assert_eq!(
        from(&manager(source.clone(), Ttl::NoCache)).unwrap(),
        "canary-flyte-file",
        "the prefix is configurable"
    );
    std::env::set_var("FLYTE_SECRETS_FILE_PREFIX", "sec-");
    let e = manager(source.clone(), Ttl::NoCache).secret_blocking().unwrap_err();
    assert_eq!(e.code(), Code::SecretNotFound);
    let expected_file = dir.join("aws-creds").join("sec-db");
    assert!(
        e.message().contains("MYPREFIX_AWS-CREDS_DB") && e.message().contains(&expected_file.display().to_string()),
        "{e}"
    );
    for name in [
        "FLYTE_SECRETS_DEFAULT_DIR",
        "FLYTE_SECRETS_ENV_PREFIX",
        "FLYTE_SECRETS_FILE_PREFIX",
        "_FSEC_AWS-CREDS_DB",
    ] {
        std::env::remove_var(name);
    }
}

#[test]
fn the_source_comes_from_the_configuration_too_and_a_bad_one_is_config_invalid() {
    no_aws();
    let dir = temp_dir("config");
    let path = dir.join("app.json");
    std::fs::write(&path, r#"{"token": "canary-config"}"#).unwrap();
    let m = SecretsManager::new(Options {
        config: Some(starfleet_secrets::ConfigSource::Text {
            name: "starfleet.yaml".into(),
            yaml: format!("STARFLEET:\n  SecretsManager:\n    Source: file:{}\n", path.display()),
        }),
        ..Default::default()
    });
    assert_eq!(
        m.secret_blocking().unwrap().get_str(&key("token")).unwrap(),
        "canary-config"
    );
    let settings = m.settings().unwrap();
    assert_eq!(settings.location.secret_id, format!("file:{}", path.display()));
    assert_eq!(settings.location.region, "");
    let e = SecretsManager::new(Options {
        source: Some("s3://bucket/key".into()),
        ..Default::default()
    })
    .secret_blocking()
    .unwrap_err();
    assert_eq!(e.code(), Code::ConfigInvalid);
    assert!(e.message().contains("argument source"), "{e}");
    let e = SecretsManager::new(Options {
        source: Some(format!("file:{}", path.display())),
        version_stage: Some("AWSPREVIOUS".into()),
        ..Default::default()
    })
    .secret_blocking()
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e}");
}
