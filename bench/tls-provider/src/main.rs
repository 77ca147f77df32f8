//! One cold TLS handshake and one HTTPS request, then exit: what a worker's first AWS call
//! costs in TLS, without the SDK around it. Built once per crypto provider (the `aws-lc` or
//! `ring` feature) and timed as a whole process by `bench/tls-provider/run`.
//!
//! The endpoint is `AWS_ENDPOINT_URL_SECRETS_MANAGER` (`https://HOST:PORT`, the harness's
//! HTTPS listener). The roots come from `ROOTS`:
//! - `bundle`: the PEM file in `AWS_CA_BUNDLE` only (what core does when it is set);
//! - `native`: rustls-native-certs, which reads `SSL_CERT_FILE` and `SSL_CERT_DIR` as OpenSSL
//!   does (core's path when only those are set).
//!
//! Verification is rustls's standard WebPKI verification. Prints the response's status line
//! and the key exchange group negotiated (X25519MLKEM768 needs a post-quantum provider).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

#[cfg(all(feature = "aws-lc", not(feature = "ring")))]
fn provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

#[cfg(all(feature = "ring", not(feature = "aws-lc")))]
fn provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("{name} is not set")))
}

fn fail(why: &str) -> ! {
    eprintln!("tls-provider-bench: {why}");
    std::process::exit(1)
}

fn roots() -> RootCertStore {
    let mut store = RootCertStore::empty();
    match env("ROOTS").as_str() {
        "bundle" => {
            let path = env("AWS_CA_BUNDLE");
            for cert in CertificateDer::pem_file_iter(&path).unwrap_or_else(|e| fail(&format!("{path}: {e}"))) {
                let cert = cert.unwrap_or_else(|e| fail(&format!("{path}: {e}")));
                store.add(cert).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
            }
        }
        "native" => {
            let found = rustls_native_certs::load_native_certs();
            if let Some(e) = found.errors.first() {
                fail(&format!("native roots: {e}"));
            }
            store.add_parsable_certificates(found.certs);
        }
        other => fail(&format!("ROOTS={other}: expected bundle or native")),
    }
    store
}

fn main() {
    let endpoint = env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    let authority = endpoint
        .strip_prefix("https://")
        .unwrap_or_else(|| fail("the endpoint is not https://"))
        .trim_end_matches('/');
    let (host, _) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| fail("the endpoint has no port"));

    let config = ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| fail(&e.to_string()))
        .with_root_certificates(roots())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).unwrap_or_else(|e| fail(&e.to_string()));
    let connection = ClientConnection::new(Arc::new(config), name).unwrap_or_else(|e| fail(&e.to_string()));
    let socket = TcpStream::connect(authority).unwrap_or_else(|e| fail(&e.to_string()));
    socket.set_nodelay(true).unwrap_or_else(|e| fail(&e.to_string()));
    let mut tls = StreamOwned::new(connection, socket);

    let request = format!("GET / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes())
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut response = Vec::new();
    // A peer that closes without close_notify still gave us the whole response.
    if let Err(e) = tls.read_to_end(&mut response) {
        if response.is_empty() {
            fail(&e.to_string());
        }
    }
    let status = response.split(|&b| b == b'\r').next().unwrap_or_default();
    let group = tls
        .conn
        .negotiated_key_exchange_group()
        .map(|g| format!("{:?}", g.name()));
    println!(
        "{} ({})",
        String::from_utf8_lossy(status),
        group.as_deref().unwrap_or("no group")
    );
}
