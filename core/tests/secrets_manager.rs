//! The core against a real Secrets Manager API (moto) behind the fault proxy.
//! Run through `scripts/with-harness cargo test`.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::{Code, ConfigSource, Document, Options, Path, Payload, SecretsManager, Ttl};
use support::*;

fn path(p: &str) -> Path {
    Path::parse_dotted(p).unwrap()
}

fn starfleet_doc(token: &str) -> serde_json::Value {
    json!({"STARFLEET": {"SlackToken": token}, "GitHubSyncWorker": {"my.org": "-----BEGIN KEY-----"}})
}

#[test]
fn reads_a_starfleet_secret_through_the_endpoint_variable() {
    run(async {
        let name = unique("basic");
        create_json(&name, &starfleet_doc("xoxb-1")).await;
        let m = SecretsManager::new(opts(&name));
        let s = m.secret().await.unwrap();
        assert_eq!(s.get_str(&path("STARFLEET.SlackToken")).unwrap(), "xoxb-1");
        assert_eq!(
            s.get_str(&path(r"GitHubSyncWorker.my\.org")).unwrap(),
            "-----BEGIN KEY-----"
        );
        assert_eq!(s.version_stages(), ["AWSCURRENT"]);
        // The library reached moto through AWS_ENDPOINT_URL_SECRETS_MANAGER = the proxy.
        assert_eq!(get_count(&name).await, 1);
        let e = s.get(&path("STARFLEET.Missing")).unwrap_err();
        assert_eq!(e.code(), Code::KeyNotFound);
        assert!(
            e.message().contains(&name) && e.message().contains("STARFLEET.Missing"),
            "{e}"
        );
    });
}

#[test]
fn location_from_a_starfleet_config_directory() {
    run(async {
        let name = unique("configured");
        create_json(&name, &starfleet_doc("xoxb-cfg")).await;
        let dir = std::env::temp_dir().join(unique("cfgdir"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("00-base.yaml"),
            "STARFLEET:\n  SecretsManager:\n    SecretId: Wrong\n    SecretRegion: eu-west-1\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("10-override.yml"),
            format!("STARFLEET:\n  SecretsManager:\n    SecretId: {name}\n    SecretRegion: {REGION}\n  SlackEnabled: true\n"),
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "not yaml: [").unwrap();
        let m = SecretsManager::new(Options {
            config: Some(ConfigSource::Path(dir.clone())),
            ..Default::default()
        });
        assert_eq!(m.settings().unwrap().location.secret_id, name);
        assert_eq!(
            m.secret()
                .await
                .unwrap()
                .get_str(&path("STARFLEET.SlackToken"))
                .unwrap(),
            "xoxb-cfg"
        );
        std::fs::remove_dir_all(dir).unwrap();
    });
}

#[test]
fn stages_and_version_ids() {
    run(async {
        let name = unique("stages");
        let v1 = create_json(&name, &json!({"v": "one"})).await;
        let v2 = put_json(&name, &json!({"v": "two"})).await;
        admin()
            .await
            .update_secret_version_stage()
            .secret_id(&name)
            .version_stage("CANARY")
            .move_to_version_id(&v1)
            .send()
            .await
            .unwrap();
        let read = |o: Options| async move {
            let s = SecretsManager::new(o).secret().await.unwrap();
            (
                s.get_str(&path("v")).unwrap().to_owned(),
                s.version_id().unwrap().to_owned(),
            )
        };
        assert_eq!(read(opts(&name)).await, ("two".into(), v2.clone()));
        let prev = Options {
            version_stage: Some("AWSPREVIOUS".into()),
            ..opts(&name)
        };
        assert_eq!(read(prev).await, ("one".into(), v1.clone()));
        let custom = Options {
            version_stage: Some("CANARY".into()),
            ..opts(&name)
        };
        assert_eq!(read(custom).await, ("one".into(), v1.clone()));
        let by_id = Options {
            version_id: Some(v2.clone()),
            ..opts(&name)
        };
        assert_eq!(read(by_id).await, ("two".into(), v2));
        let missing = Options {
            version_stage: Some("NOPE".into()),
            ..opts(&name)
        };
        assert_eq!(
            SecretsManager::new(missing).secret().await.unwrap_err().code(),
            Code::SecretNotFound
        );
    });
}

#[test]
fn binary_secrets_are_bytes() {
    run(async {
        let name = unique("binary");
        let bytes = [0u8, 159, 146, 150, 255, 1];
        create_binary(&name, &bytes).await;
        let s = SecretsManager::new(opts(&name)).secret().await.unwrap();
        assert_eq!(s.binary().unwrap(), bytes);
        assert_eq!(s.document().unwrap_err().code(), Code::SecretFormat);
        assert!(format!("{s:?}").contains("binary(6 bytes)"));
    });
}

#[test]
fn secret_strings_that_are_not_json_objects_are_format_errors() {
    run(async {
        for (text, kind) in [
            ("[1,2]", "an array"),
            ("\"just text\"", "a string"),
            ("not json {", "not valid JSON"),
        ] {
            let name = unique("format");
            create_text(&name, text).await;
            let e = SecretsManager::new(opts(&name)).secret().await.unwrap_err();
            assert_eq!(e.code(), Code::SecretFormat, "{e}");
            assert!(e.message().contains(kind) && e.message().contains(&name), "{e}");
            assert!(
                !e.message().contains("just text") && !e.message().contains("not json"),
                "{e}"
            );
        }
    });
}

#[test]
fn ttl_expiry_picks_up_an_update_and_same_version_keeps_the_parsed_value() {
    run(async {
        let name = unique("ttl");
        create_json(&name, &json!({"v": "one"})).await;
        let m = SecretsManager::new(Options {
            ttl: Some(Ttl::For(Duration::from_millis(600))),
            ..opts(&name)
        });
        let first = m.secret().await.unwrap();
        put_json(&name, &json!({"v": "two"})).await;
        assert!(
            Arc::ptr_eq(&first, &m.secret().await.unwrap()),
            "within the TTL: cached"
        );
        assert_eq!(get_count(&name).await, 1);
        tokio::time::sleep(Duration::from_millis(700)).await;
        let second = m.secret().await.unwrap();
        assert_eq!(second.get_str(&path("v")).unwrap(), "two");
        tokio::time::sleep(Duration::from_millis(700)).await;
        let third = m.secret().await.unwrap();
        assert!(Arc::ptr_eq(&second, &third), "same VersionId: the parsed value is kept");
        let stats = m.stats();
        assert_eq!((stats.hits, stats.misses, stats.fetches, stats.failures), (1, 3, 3, 0));
        assert_eq!(stats.version_id.as_deref(), second.version_id());
        assert!(stats.last_refresh.is_some());
    });
}

#[test]
fn ttl_never_keeps_the_first_value() {
    run(async {
        let name = unique("never");
        create_json(&name, &json!({"v": "one"})).await;
        let m = SecretsManager::new(Options {
            ttl: Some(Ttl::Forever),
            ..opts(&name)
        });
        m.secret().await.unwrap();
        put_json(&name, &json!({"v": "two"})).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..5 {
            assert_eq!(m.secret().await.unwrap().get_str(&path("v")).unwrap(), "one");
        }
        assert_eq!(get_count(&name).await, 1);
        // An explicit refresh is the way to see the update.
        assert_eq!(m.refresh().await.unwrap().get_str(&path("v")).unwrap(), "two");
        assert_eq!(get_count(&name).await, 2);
    });
}

#[test]
fn ttl_zero_fetches_on_every_access() {
    run(async {
        let name = unique("zero");
        create_json(&name, &json!({})).await;
        let m = SecretsManager::new(Options {
            ttl: Some(Ttl::NoCache),
            ..opts(&name)
        });
        for _ in 0..4 {
            assert!(m.secret().await.unwrap().document().unwrap().is_empty());
        }
        assert_eq!(get_count(&name).await, 4);
        assert!(m.cached().is_none());
    });
}

#[test]
fn empty_document_is_cached() {
    run(async {
        let name = unique("empty");
        create_json(&name, &json!({})).await;
        let m = SecretsManager::new(opts(&name));
        for _ in 0..3 {
            assert!(m.secret().await.unwrap().document().unwrap().is_empty());
        }
        assert_eq!(get_count(&name).await, 1);
        assert!(m.cached().is_some());
    });
}

#[test]
fn sixty_four_concurrent_first_accesses_make_one_call() {
    run(async {
        let name = unique("flight");
        create_json(&name, &starfleet_doc("xoxb-many")).await;
        // Slow the call down so every task arrives while it is in flight.
        fault(&name, "delay", 1, json!({"delay_ms": 300})).await;
        let m = Arc::new(SecretsManager::new(opts(&name)));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move {
                    m.secret()
                        .await
                        .map(|s| s.get_str(&path("STARFLEET.SlackToken")).unwrap().to_owned())
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), "xoxb-many");
        }
        assert_eq!(get_count(&name).await, 1);
        assert_eq!(m.stats().fetches, 1);
    });
}

#[test]
fn sixty_four_blocking_threads_make_one_call() {
    capture_logs();
    let name = unique("threads");
    run(async {
        create_json(&name, &starfleet_doc("xoxb-threads")).await;
        fault(&name, "delay", 1, json!({"delay_ms": 300})).await;
    });
    let m = Arc::new(SecretsManager::new(opts(&name)));
    let barrier = Arc::new(std::sync::Barrier::new(64));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let (m, barrier) = (m.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                m.secret_blocking()
                    .unwrap()
                    .get_str(&path("STARFLEET.SlackToken"))
                    .unwrap()
                    .to_owned()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), "xoxb-threads");
    }
    assert_eq!(run(get_count(&name)), 1);
}

#[test]
fn stale_if_error_serves_the_last_good_value_and_counts_the_failure() {
    run(async {
        let name = unique("stale");
        create_json(&name, &starfleet_doc("xoxb-good")).await;
        let m = SecretsManager::new(Options {
            ttl: Some(Ttl::For(Duration::from_millis(200))),
            ..opts(&name)
        });
        let good = m.secret().await.unwrap();
        fault(&name, "error", 0, json!({"status": 500})).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let served = m.secret().await.unwrap();
        assert!(Arc::ptr_eq(&good, &served));
        // Within the backoff: served again without another call.
        let calls = get_count(&name).await;
        assert!(Arc::ptr_eq(&good, &m.secret().await.unwrap()));
        assert_eq!(get_count(&name).await, calls);
        let stats = m.stats();
        assert_eq!(stats.failures, 1);
        assert_eq!(stats.stale_served, 2);
        assert_eq!(stats.last_error, Some(Code::Service));
        // An explicit refresh reports the failure and keeps the value.
        assert_eq!(m.refresh().await.unwrap_err().code(), Code::Service);
        assert!(Arc::ptr_eq(&good, &m.secret().await.unwrap()));
        clear_faults(&name).await;
        assert_eq!(
            m.refresh()
                .await
                .unwrap()
                .get_str(&path("STARFLEET.SlackToken"))
                .unwrap(),
            "xoxb-good"
        );
        assert_eq!(m.stats().last_error, None);
    });
}

#[test]
fn stale_value_is_bounded_by_max_staleness_then_the_error_shows() {
    run(async {
        let name = unique("deleted");
        create_json(&name, &json!({"v": "one"})).await;
        let m = SecretsManager::new(Options {
            ttl: Some(Ttl::For(Duration::from_millis(200))),
            max_stale: Some(Duration::from_millis(800)),
            ..opts(&name)
        });
        m.secret().await.unwrap();
        admin()
            .await
            .delete_secret()
            .secret_id(&name)
            .force_delete_without_recovery(true)
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(m.secret().await.unwrap().get_str(&path("v")).unwrap(), "one");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let e = m.secret().await.unwrap_err();
        assert_eq!(e.code(), Code::SecretNotFound, "{e}");
        assert!(e.message().contains(&name));
    });
}

#[test]
fn first_load_failure_is_typed_and_backs_off() {
    run(async {
        let name = unique("absent");
        let m = SecretsManager::new(opts(&name));
        let started = Instant::now();
        let e = m.secret().await.unwrap_err();
        assert_eq!(e.code(), Code::SecretNotFound);
        assert!(e.message().contains(&name) && e.message().contains(REGION), "{e}");
        let calls = get_count(&name).await;
        assert_eq!(calls, 1, "not found is not retried");
        for _ in 0..50 {
            assert_eq!(m.secret().await.unwrap_err().code(), Code::SecretNotFound);
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            get_count(&name).await,
            calls,
            "the hot loop made no calls during the backoff"
        );
        // Creating it and invalidating (or waiting out the backoff) recovers.
        create_json(&name, &json!({"v": 1})).await;
        m.invalidate();
        assert!(m.secret().await.is_ok());
    });
}

#[test]
fn throttling_then_success_is_retried() {
    run(async {
        let name = unique("throttle");
        create_json(&name, &json!({"v": "ok"})).await;
        fault(&name, "throttle", 1, json!({})).await;
        let s = SecretsManager::new(opts(&name)).secret().await.unwrap();
        assert_eq!(s.get_str(&path("v")).unwrap(), "ok");
        assert_eq!(get_count(&name).await, 2);
    });
}

#[test]
fn persistent_throttling_is_throttled() {
    run(async {
        let name = unique("throttled");
        create_json(&name, &json!({})).await;
        fault(&name, "throttle", 0, json!({})).await;
        let e = SecretsManager::new(opts(&name)).secret().await.unwrap_err();
        assert_eq!(e.code(), Code::Throttled, "{e}");
    });
}

#[test]
fn service_errors_on_a_cold_cache_are_bounded() {
    run(async {
        let name = unique("storm");
        create_json(&name, &json!({})).await;
        fault(&name, "error", 0, json!({"status": 503, "code": "ServiceUnavailable"})).await;
        let started = Instant::now();
        let e = SecretsManager::new(opts(&name)).secret().await.unwrap_err();
        assert_eq!(e.code(), Code::Service, "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(get_count(&name).await, 3, "3 attempts then give up");
    });
}

#[test]
fn aws_error_codes_are_classified() {
    run(async {
        for (aws, code) in [
            ("AccessDeniedException", Code::AccessDenied),
            ("DecryptionFailure", Code::DecryptionFailed),
            ("UnrecognizedClientException", Code::Credentials),
        ] {
            let name = unique("classify");
            create_json(&name, &json!({})).await;
            fault(
                &name,
                "error",
                0,
                json!({"status": 400, "code": aws, "message": "injected"}),
            )
            .await;
            let e = SecretsManager::new(opts(&name)).secret().await.unwrap_err();
            assert_eq!(e.code(), code, "{aws}: {e}");
            assert!(e.message().contains(aws) && e.message().contains(&name), "{e}");
        }
    });
}

#[test]
fn a_reset_connection_is_retried_and_a_persistent_one_is_network() {
    run(async {
        let name = unique("reset");
        create_json(&name, &json!({"v": "ok"})).await;
        fault(&name, "reset", 1, json!({})).await;
        assert!(SecretsManager::new(opts(&name)).secret().await.is_ok());
        fault(&name, "reset", 0, json!({})).await;
        let e = SecretsManager::new(Options {
            ttl: Some(Ttl::NoCache),
            ..opts(&name)
        })
        .secret()
        .await
        .unwrap_err();
        assert_eq!(e.code(), Code::Network, "{e}");
    });
}

#[test]
fn a_server_that_never_answers_is_a_timeout_within_the_deadline() {
    run(async {
        let name = unique("hang");
        create_json(&name, &json!({})).await;
        fault(&name, "hang", 0, json!({"hang_ms": 20000})).await;
        let started = Instant::now();
        let m = SecretsManager::new(Options {
            timeout: Some(Duration::from_secs(1)),
            ..opts(&name)
        });
        let e = m.secret().await.unwrap_err();
        assert_eq!(e.code(), Code::Timeout, "{e}");
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{:?}",
            started.elapsed()
        );
        clear_faults(&name).await;
    });
}

#[test]
fn a_refused_endpoint_is_network() {
    run(async {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let m = SecretsManager::new(Options {
            endpoint_url: Some(url),
            ..opts("AnySecret")
        });
        let e = m.secret().await.unwrap_err();
        assert_eq!(e.code(), Code::Network, "{e}");
    });
}

#[test]
fn bad_configuration_is_reported_before_any_call() {
    run(async {
        let m = SecretsManager::new(Options {
            config: Some(ConfigSource::Text {
                name: "inline.yaml".into(),
                yaml: "STARFLEET:\n  SecretsManager:\n    SecretId: X\n    SecretRegion: Ohio\n".into(),
            }),
            ..Default::default()
        });
        let e = m.secret().await.unwrap_err();
        assert_eq!(e.code(), Code::ConfigInvalid);
        assert!(
            e.message().contains("inline.yaml") && e.message().contains("SecretRegion"),
            "{e}"
        );
    });
}

#[test]
fn missing_credentials_are_credentials_errors_without_stalling() {
    let started = Instant::now();
    let out = worker(
        &[("STARFLEET_SECRET_ID", "Any"), ("STARFLEET_SECRET_REGION", REGION)],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("CREDENTIALS"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn env_credentials_never_probe_instance_metadata() {
    // A metadata endpoint that accepts connections and never answers: touching it would stall.
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let imds = format!("http://{}", blackhole.local_addr().unwrap());
    let name = unique("imds");
    run(create_json(&name, &starfleet_doc("xoxb-imds")));
    let started = Instant::now();
    let out = worker(
        &[
            ("STARFLEET_SECRET_ID", &name),
            ("STARFLEET_SECRET_REGION", REGION),
            ("AWS_EC2_METADATA_DISABLED", "false"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

/// Display and Debug of `result`'s error, which must have code `want` (so the path really ran).
fn failed<T>(want: Code, what: &str, result: starfleet_secrets::Result<T>) -> String {
    match result {
        Ok(_) => panic!("{what}: expected {want}, got a value"),
        Err(e) => {
            assert_eq!(e.code(), want, "{what}: {e}");
            format!("{what}: {e} {e:?} {}", e.code())
        }
    }
}

/// A fresh manager's first fetch, which must fail with `want`; the error and the manager.
async fn fetch_failure(want: Code, what: &str, options: Options) -> String {
    let m = SecretsManager::new(options);
    let e = failed(want, what, m.secret().await);
    format!("{e} {m:?} {:?}", m.stats())
}

/// The AWS failures the fault proxy injects on the canary secret `name`, each on a fresh
/// manager, then a hang past a 1 s deadline. Leaves faults behind: see the caller.
async fn canary_fault_paths(name: String) -> Vec<String> {
    let mut seen = Vec::new();
    for (want, action, extra) in [
        (
            Code::AccessDenied,
            "error",
            json!({"status": 400, "code": "AccessDeniedException", "message": "denied"}),
        ),
        (
            Code::DecryptionFailed,
            "error",
            json!({"status": 400, "code": "DecryptionFailure"}),
        ),
        (Code::Throttled, "throttle", json!({})),
        (
            Code::Service,
            "error",
            json!({"status": 503, "code": "ServiceUnavailable"}),
        ),
        (
            Code::Credentials,
            "error",
            json!({"status": 400, "code": "UnrecognizedClientException"}),
        ),
    ] {
        fault(&name, action, 0, extra).await;
        seen.push(fetch_failure(want, action, opts(&name)).await);
        clear_faults(&name).await;
    }
    fault(&name, "hang", 0, json!({"hang_ms": 5000})).await;
    let slow = Options {
        timeout: Some(Duration::from_secs(1)),
        ..opts(&name)
    };
    seen.push(fetch_failure(Code::Timeout, "hang", slow).await);
    seen
}

/// Every error code the canary secret's managers can hit besides the document ones, each
/// checked: Display and Debug of the errors, the managers and their stats.
async fn canary_error_paths(name: &str) -> Vec<String> {
    let mut seen = vec![
        fetch_failure(Code::SecretNotFound, "absent", opts(&unique("canary-absent"))).await,
        fetch_failure(
            Code::SecretNotFound,
            "unknown stage",
            Options {
                version_stage: Some("NOPE".into()),
                ..opts(name)
            },
        )
        .await,
    ];
    // On a task of its own, so the faults are cleared even when an assertion fails.
    let faulted = tokio::spawn(canary_fault_paths(name.to_owned())).await;
    clear_faults(name).await;
    seen.extend(faulted.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = Options {
        endpoint_url: Some(format!("http://{}", closed.local_addr().unwrap())),
        ..opts(name)
    };
    drop(closed);
    seen.push(fetch_failure(Code::Network, "refused", refused).await);
    // Bad options. No location: a configuration without a SecretsManager stanza.
    let no_location = Options {
        region: Some(REGION.into()),
        config: Some(ConfigSource::Text {
            name: "canary.yaml".into(),
            yaml: "STARFLEET:\n  Other: 1\n".into(),
        }),
        ..Default::default()
    };
    let bad = [
        (Code::ConfigMissing, "no location", no_location),
        (
            Code::ConfigInvalid,
            "bad region",
            Options {
                region: Some("Ohio".into()),
                ..opts(name)
            },
        ),
        (
            Code::ConfigInvalid,
            "empty region",
            Options {
                region: Some(" ".into()),
                ..opts(name)
            },
        ),
        (
            Code::InvalidArgument,
            "stage and id",
            Options {
                version_stage: Some("AWSCURRENT".into()),
                version_id: Some("v1".into()),
                ..opts(name)
            },
        ),
        (
            Code::InvalidArgument,
            "zero timeout",
            Options {
                timeout: Some(Duration::ZERO),
                ..opts(name)
            },
        ),
    ];
    for (want, what, options) in bad {
        seen.push(fetch_failure(want, what, options).await);
    }
    seen.push(failed(Code::InvalidArgument, "negative ttl", Ttl::from_secs_f64(-1.0)));
    seen.push(failed(
        Code::InvalidArgument,
        "empty segment",
        Path::parse_dotted("STARFLEET..SlackToken"),
    ));
    seen
}

#[test]
fn canary_never_appears_in_errors_debug_or_logs() {
    let canary = format!("CANARY-{}", unique("value"));
    let name = unique("canary");
    let mut seen = Vec::new();
    run(async {
        create_json(
            &name,
            &json!({"STARFLEET": {"SlackToken": canary, "Nested": {"k": canary}}, "N": 1}),
        )
        .await;
        let m = SecretsManager::new(Options {
            ttl: Some(Ttl::NoCache),
            ..opts(&name)
        });
        let s = m.secret().await.unwrap();
        assert_eq!(s.get_str(&path("STARFLEET.SlackToken")).unwrap(), canary);
        seen.push(format!(
            "{s:?} {:?} {} {m:?} {:?}",
            s.document().unwrap(),
            s.document().unwrap(),
            m.stats()
        ));
        for p in ["STARFLEET.SlackToken.x", "STARFLEET.Nested.k.deeper", "N.x", "Missing"] {
            let e = s.get(&path(p)).unwrap_err();
            seen.push(format!("{e} {e:?}"));
        }
        seen.push(format!("{:?}", s.get_str(&path("STARFLEET.Nested")).unwrap_err()));
        seen.push(format!("{:?}", s.binary().unwrap_err()));
        // Every other error code, on managers of the canary secret.
        seen.extend(canary_error_paths(&name).await);
        fault(&name, "error", 0, json!({"status": 500})).await;
        let stale = m.secret().await.unwrap();
        seen.push(format!("{stale:?} {:?}", m.stats()));
        seen.push(format!("{:?}", m.refresh().await.unwrap_err()));
    });
    // The worker process with debug logging, reading the canary.
    let out = worker(
        &[
            ("STARFLEET_SECRET_ID", &name),
            ("STARFLEET_SECRET_REGION", REGION),
            ("STARFLEET_LOG", "trace"),
        ],
        &[],
    );
    run(clear_faults(&name));
    seen.push(String::from_utf8_lossy(&out.stdout).into_owned());
    seen.push(String::from_utf8_lossy(&out.stderr).into_owned());
    let out = worker(
        &[
            ("STARFLEET_SECRET_ID", &name),
            ("STARFLEET_SECRET_REGION", REGION),
            ("STARFLEET_LOG", "trace"),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    seen.push(String::from_utf8_lossy(&out.stdout).into_owned());
    seen.push(String::from_utf8_lossy(&out.stderr).into_owned());
    let logs = LOGS.lock().unwrap().clone();
    for code in [
        "SECRET_NOT_FOUND",
        "ACCESS_DENIED",
        "DECRYPTION_FAILED",
        "THROTTLED",
        "SERVICE",
        "CREDENTIALS",
        "TIMEOUT",
        "NETWORK",
    ] {
        assert!(
            logs.iter()
                .any(|l| l.starts_with("WARN") && l.contains(&format!(" {code}: "))),
            "the {code} failure was logged"
        );
    }
    seen.extend(logs);
    assert!(
        seen.iter().any(|s| s.contains("[starfleet-secrets DEBUG]")),
        "debug logging was exercised"
    );
    for text in &seen {
        assert!(!text.contains(&canary), "canary leaked: {text}");
    }
}

#[test]
fn testing_overrides_nest_and_restore_the_real_cache() {
    run(async {
        let name = unique("override");
        create_json(&name, &json!({"v": "real"})).await;
        let m = SecretsManager::new(opts(&name));
        let real = m.secret().await.unwrap();
        let doc = |v: &str| {
            let text = json!({ "v": v }).to_string();
            Payload::Json(Document::parse(zeroize::Zeroizing::new(text)).unwrap())
        };
        let outer = m.push_override(doc("outer"));
        let inner = m.push_override(doc("inner"));
        let served = m.secret().await.unwrap();
        assert_eq!(served.get_str(&path("v")).unwrap(), "inner");
        assert_eq!(served.name(), format!("{name} (testing override)"));
        assert_eq!(m.refresh().await.unwrap().get_str(&path("v")).unwrap(), "inner");
        assert_eq!(m.stats().testing_overrides, 2);
        assert_eq!(m.stats().to_json()["testing_overrides"], 2);

        let e = m.pop_override(outer).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "out of order: {e}");
        assert_eq!(m.secret().await.unwrap().get_str(&path("v")).unwrap(), "inner");
        m.pop_override(inner).unwrap();
        assert_eq!(m.secret().await.unwrap().get_str(&path("v")).unwrap(), "outer");
        m.pop_override(outer).unwrap();
        assert_eq!(m.pop_override(outer).unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(m.pop_innermost_override().unwrap_err().code(), Code::InvalidArgument);

        assert!(
            Arc::ptr_eq(&real, &m.secret().await.unwrap()),
            "the real cache, as it was"
        );
        assert_eq!(get_count(&name).await, 1, "no call while overridden");
        assert_eq!(m.stats().testing_overrides, 0);
    });
}
