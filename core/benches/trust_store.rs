//! Criterion benchmark: building the HTTPS client over the system's root bundle, which every
//! cold start does once (`transport::https_client`: reading the bundle, checking each root and
//! handing the SDK the smallest certificate of each trust anchor, then the two connection
//! pools). The SDK's own decoding of those roots happens later, at its first connection, and is
//! not in this figure (bench/overhead measures whole processes).
//!
//! `cargo bench -p starfleet-secrets --bench trust_store`; needs a system bundle (Debian's
//! ca-certificates, /etc/ssl/certs/ca-certificates.crt), else it says so and measures nothing.

use criterion::{criterion_group, criterion_main, Criterion};

use starfleet_secrets::transport::https_client;

fn bench(c: &mut Criterion) {
    // No AWS_CA_BUNDLE, SSL_CERT_FILE or SSL_CERT_DIR: the system bundle, as on Lambda.
    let env = |_: &str| None;
    if let Err(e) = https_client(&env) {
        eprintln!("trust_store: no system root bundle to measure ({e})");
        return;
    }
    c.bench_function("https_client_system_bundle", |b| b.iter(|| https_client(&env).unwrap()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
