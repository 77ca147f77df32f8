//! Criterion benchmarks: a cached `get` (the hot path of every worker invocation) and the
//! parse of a 64 KiB secret document (the cost of each refresh that changes version).
//!
//! `cached_get` reads from a real cache entry fetched from the local Secrets Manager, so run
//! through the harness: `scripts/with-harness cargo bench -p starfleet-secrets`.
//! Without the harness only the parse benchmark and the pinned-value path run.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use zeroize::Zeroizing;

use starfleet_secrets::{Document, Options, Path, Payload, SecretsManager, Ttl};

/// A Starfleet-shaped document of about 64 KiB: many workers, a few keys each.
pub fn document_64k() -> String {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "STARFLEET".into(),
        serde_json::json!({"SlackToken": "xoxb-0123456789-abcdefghijklmnop"}),
    );
    let mut i = 0;
    while serde_json::to_string(&doc).unwrap().len() < 64 * 1024 - 200 {
        doc.insert(
            format!("Worker{i}"),
            serde_json::json!({"org-a": format!("{:0>100}", i), "org.b": {"key": "x".repeat(60), "n": i}}),
        );
        i += 1;
    }
    serde_json::to_string(&doc).unwrap()
}

fn bench(c: &mut Criterion) {
    let text = document_64k();
    c.bench_function("parse_64k_document", |b| {
        b.iter(|| Document::parse(Zeroizing::new(black_box(text.clone()))).unwrap())
    });

    let path = Path::parse_dotted("STARFLEET.SlackToken").unwrap();
    let pinned = SecretsManager::new(Options::default());
    pinned.push_override(Payload::Json(Document::parse(Zeroizing::new(text.clone())).unwrap()));
    c.bench_function("cached_get_pinned", |b| {
        b.iter(|| {
            pinned
                .secret_blocking()
                .unwrap()
                .get_str(black_box(&path))
                .unwrap()
                .len()
        })
    });

    if std::env::var("STARFLEET_TEST_MOTO").is_err() {
        eprintln!("cached_get skipped: run through scripts/with-harness for the server-backed benchmark");
        return;
    }
    let rt = starfleet_secrets::runtime::get().unwrap();
    let name = format!("bench-{}", std::process::id());
    rt.block_on(async {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(starfleet_secrets::transport::http_client(&|_: &str| None).unwrap())
            .region(aws_config::Region::new("us-east-2"))
            .endpoint_url(std::env::var("STARFLEET_TEST_MOTO").unwrap())
            .load()
            .await;
        aws_sdk_secretsmanager::Client::new(&conf)
            .create_secret()
            .name(&name)
            .secret_string(&text)
            .send()
            .await
            .unwrap();
    });
    let manager = SecretsManager::new(Options {
        secret_id: Some(name),
        region: Some("us-east-2".into()),
        ttl: Some(Ttl::For(std::time::Duration::from_secs(3600))),
        ..Default::default()
    });
    manager.secret_blocking().unwrap();
    c.bench_function("cached_get", |b| {
        b.iter(|| {
            manager
                .secret_blocking()
                .unwrap()
                .get_str(black_box(&path))
                .unwrap()
                .len()
        })
    });
    c.bench_function("cached_peek", |b| {
        b.iter(|| manager.cached().unwrap().get_str(black_box(&path)).unwrap().len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
