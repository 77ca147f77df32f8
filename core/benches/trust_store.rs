//! Criterion benchmark: building the HTTPS client over the system's root bundle, which every
//! cold start does once (`transport::https_client`: reading the bundle, checking each root and
//! handing the SDK the smallest certificate of each trust anchor, then the two connection
//! pools). The SDK's own decoding of those roots happens later, at its first connection, and is
//! not in this figure (bench/overhead measures whole processes).
//!
//! `cargo bench -p starfleet-secrets --bench trust_store`. The bundle is named to the library
//! (as `AWS_CA_BUNDLE`) rather than found by probing, which would take the harness's
//! `SSL_CERT_FILE` under `scripts/with-harness`; with neither system bundle present it says so
//! and measures nothing.

use criterion::{criterion_group, criterion_main, Criterion};

use starfleet_secrets::transport::https_client;

/// The system bundles of Debian/Ubuntu (ca-certificates) and Amazon Linux (Lambda's images).
const SYSTEM_BUNDLES: &[&str] = &["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];

fn bench(c: &mut Criterion) {
    let Some(bundle) = SYSTEM_BUNDLES.iter().find(|path| std::path::Path::new(path).exists()) else {
        eprintln!("trust_store: no system root bundle to measure (looked for {SYSTEM_BUNDLES:?})");
        return;
    };
    let env = |name: &str| (name == "AWS_CA_BUNDLE").then(|| bundle.to_string());
    c.bench_function("https_client_system_bundle", |b| b.iter(|| https_client(&env).unwrap()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
