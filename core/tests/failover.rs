//! Replica-region failover against moto's replicated secrets, with the fault proxy failing
//! one region (rules scoped by the region of the request's signature).
//! Run with `scripts/with-harness cargo test -p starfleet-secrets --test failover`.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use starfleet_secrets::{Code, Options, Path, SecretsManager};
use support::*;

const REPLICA: &str = "us-west-2";
const SECOND_REPLICA: &str = "eu-west-1";

fn with_fallbacks(secret_id: &str, regions: &[&str]) -> Options {
    Options {
        fallback_regions: Some(regions.iter().map(|r| r.to_string()).collect()),
        ..opts(secret_id)
    }
}

async fn fail_region(name: &str, region: &str, extra: serde_json::Value) {
    let mut rule = json!({"secret_id": name, "region": region, "times": 0});
    rule.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    control("POST", "faults", Some(rule)).await;
}

/// A 503 storm (`ServiceUnavailable`) in `region` for `name`, until the faults are cleared.
async fn unavailable(name: &str, region: &str) {
    fail_region(
        name,
        region,
        json!({"action": "error", "status": 503, "code": "ServiceUnavailable"}),
    )
    .await;
}

fn first_key(secret: &starfleet_secrets::Secret) -> String {
    secret.get_str(&Path::parse_dotted("k").unwrap()).unwrap().to_owned()
}

#[test]
fn a_503_storm_in_the_primary_is_served_from_the_replica() {
    run(async {
        let name = unique("failover-503");
        create_replicated(&name, &json!({"k": "v"}), &[REPLICA]).await;
        unavailable(&name, REGION).await;
        let m = SecretsManager::new(with_fallbacks(&name, &[REPLICA]));
        let secret = m.secret().await.unwrap();
        assert_eq!(first_key(&secret), "v");
        let stats = m.stats();
        assert_eq!(stats.region.as_deref(), Some(REPLICA));
        assert_eq!(stats.failovers, 1);
        assert_eq!((stats.fetches, stats.failures), (1, 0), "one read, served");
        // The primary recovers: the next read is served there again.
        clear_faults(&name).await;
        m.refresh().await.unwrap();
        let stats = m.stats();
        assert_eq!(stats.region.as_deref(), Some(REGION));
        assert_eq!(stats.failovers, 1);
    });
}

#[test]
fn without_fallback_regions_nothing_changes() {
    run(async {
        let name = unique("failover-none");
        create_replicated(&name, &json!({"k": "v"}), &[REPLICA]).await;
        let m = SecretsManager::new(opts(&name));
        assert!(m.stats().region.is_none(), "no region before a value");
        m.secret().await.unwrap();
        assert_eq!(m.stats().region.as_deref(), Some(REGION));
        unavailable(&name, REGION).await;
        let e = m.refresh().await.unwrap_err();
        assert_eq!(e.code(), Code::Service, "{e}");
        assert_eq!(m.stats().failovers, 0);
        clear_faults(&name).await;
    });
}

#[test]
fn access_denied_in_the_primary_does_not_fail_over() {
    run(async {
        let name = unique("failover-denied");
        create_replicated(&name, &json!({"k": "v"}), &[REPLICA]).await;
        for (code, aws_code) in [
            (Code::AccessDenied, "AccessDeniedException"),
            (Code::DecryptionFailed, "DecryptionFailure"),
            (Code::SecretNotFound, "ResourceNotFoundException"),
        ] {
            fail_region(
                &name,
                REGION,
                json!({"action": "error", "status": 400, "code": aws_code, "message": "no"}),
            )
            .await;
            let m = SecretsManager::new(with_fallbacks(&name, &[REPLICA]));
            let e = m.secret().await.unwrap_err();
            assert_eq!(e.code(), code, "{e}");
            assert_eq!(m.stats().failovers, 0, "{aws_code}");
            assert!(m.stats().region.is_none());
            clear_faults(&name).await;
        }
    });
}

#[test]
fn a_hung_primary_fails_over_within_the_deadline() {
    run(async {
        let name = unique("failover-hang");
        create_replicated(&name, &json!({"k": "v"}), &[REPLICA]).await;
        fail_region(&name, REGION, json!({"action": "hang", "hang_ms": 20000})).await;
        let deadline = Duration::from_secs(3);
        let m = SecretsManager::new(Options {
            timeout: Some(deadline),
            ..with_fallbacks(&name, &[REPLICA])
        });
        let started = Instant::now();
        m.secret().await.unwrap();
        let took = started.elapsed();
        assert!(took < deadline + Duration::from_secs(1), "{took:?}");
        assert_eq!(m.stats().region.as_deref(), Some(REPLICA));
        assert_eq!(m.stats().failovers, 1);
        clear_faults(&name).await;
    });
}

#[test]
fn every_region_hung_is_one_timeout_within_the_deadline() {
    run(async {
        let name = unique("failover-all-hang");
        create_replicated(&name, &json!({"k": "v"}), &[REPLICA, SECOND_REPLICA]).await;
        fault(&name, "hang", 0, json!({"hang_ms": 20000})).await;
        let deadline = Duration::from_secs(2);
        let m = SecretsManager::new(Options {
            timeout: Some(deadline),
            ..with_fallbacks(&name, &[REPLICA, SECOND_REPLICA])
        });
        let started = Instant::now();
        let e = m.secret().await.unwrap_err();
        let took = started.elapsed();
        assert_eq!(e.code(), Code::Timeout, "{e}");
        assert!(took < deadline + Duration::from_secs(1), "{took:?}");
        for region in [REGION, REPLICA, SECOND_REPLICA] {
            assert!(e.message().contains(region), "{e}");
        }
        assert_eq!(m.stats().failovers, 2);
        clear_faults(&name).await;
    });
}

#[test]
fn throttling_moves_on_through_the_list_in_order() {
    run(async {
        let name = unique("failover-order");
        create_replicated(&name, &json!({"k": "v"}), &[REPLICA, SECOND_REPLICA]).await;
        fail_region(&name, REGION, json!({"action": "throttle"})).await;
        fail_region(&name, REPLICA, json!({"action": "reset"})).await;
        let m = SecretsManager::new(with_fallbacks(&name, &[REPLICA, SECOND_REPLICA]));
        m.secret().await.unwrap();
        assert_eq!(m.stats().region.as_deref(), Some(SECOND_REPLICA));
        assert_eq!(m.stats().failovers, 2);
        clear_faults(&name).await;
    });
}

#[test]
fn an_arn_secret_id_is_rewritten_for_each_region() {
    run(async {
        let name = unique("failover-arn");
        let arn = create_replicated(&name, &json!({"k": "v"}), &[REPLICA]).await;
        let replica_arn = arn.replace(REGION, REPLICA);
        // Faults are matched on the id exactly as sent: the primary's ARN fails, and only the
        // replica's ARN (not the primary's sent to the replica) can succeed.
        unavailable(&arn, REGION).await;
        let m = SecretsManager::new(with_fallbacks(&arn, &[REPLICA]));
        let secret = m.secret().await.unwrap();
        assert_eq!(m.stats().region.as_deref(), Some(REPLICA));
        assert_eq!(secret.arn(), Some(replica_arn.as_str()));
        assert_eq!(get_count(&replica_arn).await, 1);
        clear_faults(&arn).await;
    });
}

/// A transient outage in the primary and a permanent answer from a replica that lacks the
/// secret: the read failed because of the outage, so the error is the outage's transient
/// code (callers retry it), and the message still names what each region answered.
#[test]
fn an_outage_then_a_replica_without_the_secret_is_transient() {
    run(async {
        let name = unique("failover-transient");
        create_json(&name, &json!({"k": "v"})).await; // no replica in us-west-2
        unavailable(&name, REGION).await;
        let m = SecretsManager::new(with_fallbacks(&name, &[REPLICA]));
        let e = m.secret().await.unwrap_err();
        assert_eq!(e.code(), Code::Service, "{e}");
        assert!(e.code().is_transient());
        assert!(
            e.message().contains(&format!("{REGION} (SERVICE)"))
                && e.message().contains(&format!("{REPLICA} (SECRET_NOT_FOUND)")),
            "{e}"
        );
        clear_faults(&name).await;
    });
}

/// A secret `{"k": "one"}` named after `prefix`, with a copy of that first version (same
/// name, same VersionId) in [`REPLICA`] that later versions never reach: a replica that lags
/// behind the secret's region. Its name and first VersionId.
async fn with_lagging_replica(prefix: &str) -> (String, String) {
    let name = unique(prefix);
    let one = json!({"k": "one"});
    let v1 = create_json(&name, &one).await;
    let reply = control(
        "POST",
        "call",
        Some(json!({"operation": "CreateSecret", "region": REPLICA, "params": {
            "Name": name, "SecretString": one.to_string(), "ClientRequestToken": v1,
        }})),
    )
    .await;
    assert_eq!(reply["status"], 200, "{reply}");
    (name, v1)
}

/// Version two is read from the secret's region; the replica still holds version one. When
/// the secret's region fails, the replica's older answer is not stored, not a change, and
/// counted; the cached version two is served stale-if-error, and the failure is reported.
#[test]
fn a_lagging_replica_never_rolls_the_version_back() {
    run(async {
        let (name, v1) = with_lagging_replica("failover-lagging").await;
        let m = SecretsManager::new(Options {
            ttl: Some(starfleet_secrets::Ttl::from_secs_f64(0.2).unwrap()),
            expiry_jitter: Some(0.0),
            ..with_fallbacks(&name, &[REPLICA])
        });
        let changes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = changes.clone();
        let _sub = m.on_change(move |old, new| seen.lock().unwrap().push((old.map(str::to_owned), new.to_owned())));
        assert_eq!(first_key(&m.secret().await.unwrap()), "one");
        // CreatedDate has a resolution of one second in moto.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let v2 = put_json(&name, &json!({"k": "two"})).await;
        assert_eq!(first_key(&m.refresh().await.unwrap()), "two");
        unavailable(&name, REGION).await;
        // refresh() reports the outage, and keeps version two.
        let e = m.refresh().await.unwrap_err();
        assert_eq!(e.code(), Code::Service, "{e}");
        assert!(e.message().contains(REPLICA) && e.message().contains("older"), "{e}");
        let stats = m.stats();
        assert_eq!(stats.older_replica_answers, 1, "{stats:?}");
        assert_eq!(stats.version_id.as_deref(), Some(v2.as_str()));
        assert_eq!(stats.region.as_deref(), Some(REGION));
        // A read past the TTL is served version two, stale-if-error (after the backoff, the
        // replica is asked again and refused again).
        tokio::time::sleep(Duration::from_millis(1300)).await;
        assert_eq!(first_key(&m.secret().await.unwrap()), "two");
        let stats = m.stats();
        assert_eq!(stats.older_replica_answers, 2, "{stats:?}");
        assert!(stats.stale_served >= 1, "{stats:?}");
        assert_eq!(stats.last_error, Some(Code::Service));
        // Changes blocking or async: on the notification thread for async calls.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            *changes.lock().unwrap(),
            [(None, v1.clone()), (Some(v1.clone()), v2.clone())],
            "the older version was reported as a change"
        );
        clear_faults(&name).await;
    });
}

/// The first load has nothing to compare with: the replica's version is served (the only
/// one available), and later answers are compared with it.
#[test]
fn a_first_load_from_a_lagging_replica_is_served() {
    run(async {
        let (name, _) = with_lagging_replica("failover-lagging-first").await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        put_json(&name, &json!({"k": "two"})).await;
        unavailable(&name, REGION).await;
        let m = SecretsManager::new(with_fallbacks(&name, &[REPLICA]));
        assert_eq!(first_key(&m.secret().await.unwrap()), "one");
        assert_eq!(m.stats().older_replica_answers, 0);
        assert_eq!(m.stats().region.as_deref(), Some(REPLICA));
        clear_faults(&name).await;
    });
}

/// A credential provider that cannot reach its STS endpoint (a regional STS outage: web
/// identity, as on EKS, asks STS in the region of the client, which is per region here) is
/// a regional failure: transient, and the read moves on to the next region, whose client asks
/// its own region's STS. Here every STS is unreachable, so both regions fail, and the error
/// says so (NETWORK, not a permanent CREDENTIALS).
#[test]
fn a_credential_provider_that_cannot_reach_sts_fails_over() {
    let dir = std::env::temp_dir().join(unique("sts-outage"));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "eyJ0eXAiOiJKV1QifQ.e30.c2ln").unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sts = format!("https://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = worker(
        &[
            ("STARFLEET_SECRET_ID", "Any"),
            ("STARFLEET_SECRET_REGION", REGION),
            ("STARFLEET_SECRET_FALLBACK_REGIONS", REPLICA),
            ("STARFLEET_SECRETS_TIMEOUT", "4"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/worker"),
            ("AWS_ENDPOINT_URL_STS", &sts),
        ],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("tried {REGION} (NETWORK), then {REPLICA} (NETWORK)"))
            || stderr.contains(&format!("tried {REGION} (TIMEOUT), then {REPLICA}")),
        "a regional STS failure did not fail over: {stderr}"
    );
}
