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

fn first_key(secret: &starfleet_secrets::Secret) -> String {
    secret.get_str(&Path::parse_dotted("k").unwrap()).unwrap().to_owned()
}

#[test]
fn a_503_storm_in_the_primary_is_served_from_the_replica() {
    run(async {
        let name = unique("failover-503");
        create_replicated(&name, &json!({"k": "v"}), &[REPLICA]).await;
        fail_region(
            &name,
            REGION,
            json!({"action": "error", "status": 503, "code": "ServiceUnavailable"}),
        )
        .await;
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
        fail_region(
            &name,
            REGION,
            json!({"action": "error", "status": 503, "code": "ServiceUnavailable"}),
        )
        .await;
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
        fail_region(
            &arn,
            REGION,
            json!({"action": "error", "status": 503, "code": "ServiceUnavailable"}),
        )
        .await;
        let m = SecretsManager::new(with_fallbacks(&arn, &[REPLICA]));
        let secret = m.secret().await.unwrap();
        assert_eq!(m.stats().region.as_deref(), Some(REPLICA));
        assert_eq!(secret.arn(), Some(replica_arn.as_str()));
        assert_eq!(get_count(&replica_arn).await, 1);
        clear_faults(&arn).await;
    });
}
