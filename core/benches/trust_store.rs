//! Criterion benchmark: building the HTTPS client over the system's root bundle, which every
//! cold start does once (`transport::https_client`: reading the bundle, checking each root and
//! handing the SDK the smallest certificate of each trust anchor, then the two connection
//! pools). The SDK's own decoding of those roots happens later, at its first connection, and is
//! not in this figure (bench/overhead measures whole processes).
//!
//! `pem_lines`: the SDK's own parse of the roots it is handed (rustls-pki-types' PEM reader,
//! then webpki's trust anchor of each, as `aws-smithy-http-client` does at its first
//! connection), over the bundle's certificates written two ways: base64 in lines of 64
//! characters, and each certificate's base64 on one line, as `transport` writes them.
//!
//! `cargo bench -p starfleet-secrets --bench trust_store`. The bundle is named to the library
//! (as `AWS_CA_BUNDLE`) rather than found by probing, which would take the harness's
//! `SSL_CERT_FILE` under `scripts/with-harness`; with neither system bundle present it says so
//! and measures nothing.

use criterion::{criterion_group, criterion_main, Criterion};
use rustls_pki_types::{pem::PemObject, CertificateDer};

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

    let text = std::fs::read(bundle).unwrap();
    let roots: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&text)
        .filter_map(|c| Some(c.ok()?.to_vec()))
        .collect();
    let mut group = c.benchmark_group("pem_lines");
    for line_len in [Some(64), None] {
        let pem = pem_text(&roots, line_len);
        let name = line_len.map_or("one line per root".to_owned(), |n| format!("lines of {n}"));
        group.bench_function(name, |b| b.iter(|| sdk_parse(&pem)));
    }
    group.finish();
}

/// `roots` as PEM, the base64 of each in lines of `line_len` characters (`None`: one line).
fn pem_text(roots: &[Vec<u8>], line_len: Option<usize>) -> Vec<u8> {
    let mut pem = Vec::new();
    for der in roots {
        let text = base64_simd::STANDARD.encode_type::<String>(der);
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in text.as_bytes().chunks(line_len.unwrap_or(text.len())) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

/// What the SDK does with the PEM it holds (`TlsContext::rustls_root_certs`).
fn sdk_parse(pem: &[u8]) -> usize {
    let roots = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    roots
        .iter()
        .filter(|der| webpki::anchor_from_trusted_cert(der).is_ok())
        .count()
}

criterion_group!(benches, bench);
criterion_main!(benches);
