//! The HTTP clients every AWS call of the process goes through: one rule for TLS, trusted
//! roots and pooled connections, shared by the Secrets Manager client and the credential
//! providers (see `source::sdk_client`).
//!
//! **TLS is rustls with the *ring* crypto provider**, not the AWS SDK's default (AWS-LC).
//! AWS-LC seeds its random generator with CPU-jitter entropy on the first handshake of a
//! process: ~30 ms of CPU in every cold start, most of a Lambda worker's start-up (the
//! figures and profiles are in BENCHMARKS.md). AWS-LC can skip it, but only through a build
//! variable (`AWS_LC_SYS_NO_JITTER_ENTROPY`) that each user's own build would have to set,
//! whereas ring seeds from the kernel (`getrandom`) in every build and is also smaller. The
//! cost: ring has no post-quantum key exchange (X25519MLKEM768), so connections use classical
//! X25519/ECDHE, and there is no FIPS mode. Verification is rustls's standard WebPKI
//! verification, fully on; the cipher suites are the SDK's own restricted list.
//!
//! **Trusted roots**, in the order other AWS SDKs and OpenSSL use: `AWS_CA_BUNDLE` (a PEM
//! file that replaces the system roots, as botocore and aws-sdk-go-v2 read it); else
//! `SSL_CERT_FILE`/`SSL_CERT_DIR` as OpenSSL reads them; else the system's bundle *file* alone
//! (`/etc/ssl/certs/ca-certificates.crt`, `/etc/pki/tls/certs/ca-bundle.crt` on Amazon Linux,
//! ...) rather than also parsing every file of the certificate directory, which holds the
//! same roots again and costs milliseconds of each cold start. A bundle that cannot be read
//! or holds no usable certificate is a CONFIG_INVALID error naming the variable, never a
//! silent fallback; certificates a bundle holds that are not usable roots are skipped.
//!
//! **Pooled connections** are dropped after [`POOL_IDLE_TIMEOUT`] idle, well below the
//! 350 s after which an AWS NAT gateway silently forgets a flow, and carry TCP keepalive
//! probes. A connection that died anyway (a Lambda freeze, a NAT) is handled by the short
//! per-attempt timeout of `source`: the attempt fails fast and the retry opens a new one.

use std::time::Duration;

use aws_sdk_secretsmanager::config::{IntoShared, SharedHttpClient};
use aws_smithy_http_client::pool::{Builder as PoolBuilder, Client as PoolClient, ConnectionPool};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::{Code, Error, Result};
use crate::settings::EnvLookup;

/// How long an idle pooled connection is kept: below an AWS NAT gateway's 350 s idle limit,
/// and long enough that a burst of calls (a refresh and its retries, a CLI command) shares one.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Overrides [`POOL_IDLE_TIMEOUT`] (seconds, > 0) for the clients built after it is set: for a
/// network whose middleboxes forget idle flows sooner, and for the test that observes the
/// timeout (`core/tests/dead_connections.rs`) without waiting a minute.
pub const POOL_IDLE_TIMEOUT_VAR: &str = "STARFLEET_SECRETS_POOL_IDLE_TIMEOUT";
/// The AWS NAT gateway's idle timeout: a pooled connection kept idle longer is sent into a
/// black hole. [`POOL_IDLE_TIMEOUT`] must stay below it (a unit test checks).
pub const NAT_GATEWAY_IDLE_TIMEOUT: Duration = Duration::from_secs(350);
/// Idle time before the kernel sends TCP keepalive probes on a connection, so a flow that a
/// middlebox would otherwise expire stays known, and a dead peer is noticed.
pub const TCP_KEEPALIVE: Duration = Duration::from_secs(30);

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const PEM_END: &[u8] = b"-----END CERTIFICATE-----";

/// An HTTPS (and HTTP) client: rustls + ring, the roots described in the module doc.
/// Reads the root bundle now, so call it once per SDK client.
pub fn https_client(env: EnvLookup<'_>) -> Result<SharedHttpClient> {
    let context = TlsContext::builder()
        .with_trust_store(trust_store(env)?)
        .build()
        .map_err(|e| Error::new(Code::Internal, format!("cannot set up TLS: {e}")))?;
    let pool = with_policy(ConnectionPool::builder(), pool_idle_timeout(env)?)
        .tls_provider(Provider::rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https();
    shared(pool)
}

/// A client without TLS, for a plain `http://` endpoint (a local emulator): no roots are
/// read for certificates such an endpoint never shows.
pub fn http_client(env: EnvLookup<'_>) -> Result<SharedHttpClient> {
    shared(with_policy(ConnectionPool::builder(), pool_idle_timeout(env)?).build_http())
}

/// The pooling policy of both clients (module doc), with `idle_timeout` (see
/// [`pool_idle_timeout`]).
fn with_policy<Tls>(builder: PoolBuilder<Tls>, idle_timeout: Duration) -> PoolBuilder<Tls> {
    builder
        .idle_timeout(idle_timeout)
        .tcp_keepalive(TCP_KEEPALIVE)
        .tcp_nodelay(true)
}

/// [`POOL_IDLE_TIMEOUT`], or [`POOL_IDLE_TIMEOUT_VAR`] when set (CONFIG_INVALID naming the
/// variable when it is not a positive number of seconds).
fn pool_idle_timeout(env: EnvLookup<'_>) -> Result<Duration> {
    crate::settings::seconds_var(env, POOL_IDLE_TIMEOUT_VAR, POOL_IDLE_TIMEOUT)
}

fn shared<E: std::fmt::Display>(pool: std::result::Result<ConnectionPool, E>) -> Result<SharedHttpClient> {
    let client = pool
        .map_err(|e| e.to_string())
        .and_then(|pool| PoolClient::new(&pool).map_err(|e| format!("{e:?}")))
        .map_err(|e| Error::new(Code::Internal, format!("cannot build the HTTP client: {e}")))?;
    Ok(client.into_shared())
}

/// The roots to trust (see the module doc for the order).
fn trust_store(env: EnvLookup<'_>) -> Result<TrustStore> {
    if let Some(path) = env("AWS_CA_BUNDLE") {
        return bundle_file("AWS_CA_BUNDLE", &path);
    }
    if env("SSL_CERT_FILE").is_some() || env("SSL_CERT_DIR").is_some() {
        // rustls-native-certs reads both variables exactly as OpenSSL does.
        return Ok(TrustStore::default());
    }
    match openssl_probe::probe().cert_file {
        Some(file) => bundle_file("the system CA bundle", &file.to_string_lossy()),
        None => Ok(TrustStore::default()), // no bundle file: the certificate directories
    }
}

/// A trust store holding the usable roots of one PEM bundle file.
fn bundle_file(what: &str, path: &str) -> Result<TrustStore> {
    let invalid = |why: String| Error::new(Code::ConfigInvalid, format!("{what} ({path}): {why}"));
    let pem = std::fs::read(path).map_err(|e| invalid(format!("cannot read the CA bundle: {e}")))?;
    let (store, usable) = trusted_roots(&pem);
    if usable == 0 {
        return Err(invalid("no usable CA certificate in the file".to_owned()));
    }
    Ok(store)
}

/// The certificates of `pem` that parse as trust anchors, and how many there are. Checked
/// here because the SDK treats a certificate it cannot parse as a bug (it panics), while
/// system bundles do carry the odd certificate rustls cannot use.
fn trusted_roots(pem: &[u8]) -> (TrustStore, usize) {
    let mut store = TrustStore::empty();
    let mut usable = 0;
    let mut rest = pem;
    while let Some(start) = find(rest, PEM_BEGIN) {
        let Some(len) = find(&rest[start..], PEM_END) else {
            break;
        };
        let block = &rest[start..start + len + PEM_END.len()];
        rest = &rest[start + len + PEM_END.len()..];
        let anchor = CertificateDer::from_pem_slice(block)
            .ok()
            .filter(|der| webpki::anchor_from_trusted_cert(der).is_ok());
        if anchor.is_some() {
            store.add_pem_certificate(block);
            usable += 1;
        }
    }
    (store, usable)
}

/// The first `needle` in `haystack`: a vectorised substring search (memchr's). A bundle is
/// ~220 KB; comparing a window at every byte, as `windows().position()` does, was a tenth of
/// a cold start's CPU at the release profile's opt-level "z" (BENCHMARKS.md).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    /// A real root (ISRG Root X1) in PEM, as system bundles hold it.
    const ISRG_ROOT_X1: &str = include_str!("../tests/data/isrg-root-x1.pem");

    #[test]
    fn bundle_keeps_usable_roots_and_skips_the_rest() {
        let garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        let text = format!("# comment\n{ISRG_ROOT_X1}\n{garbage}{ISRG_ROOT_X1}");
        let (_, usable) = trusted_roots(text.as_bytes());
        assert_eq!(usable, 2);
        assert_eq!(trusted_roots(garbage.as_bytes()).1, 0);
        assert_eq!(trusted_roots(b"").1, 0);
    }

    #[test]
    fn ca_bundle_errors_name_the_variable_and_path() {
        let err = trust_store(&env(&[("AWS_CA_BUNDLE", "/nonexistent/ca.pem")])).unwrap_err();
        assert_eq!(err.code(), Code::ConfigInvalid);
        assert!(
            err.to_string()
                .contains("AWS_CA_BUNDLE (/nonexistent/ca.pem): cannot read"),
            "{err}"
        );

        let dir = std::env::temp_dir().join(format!("starfleet-empty-bundle-{}", std::process::id()));
        std::fs::write(&dir, "no certificates here").unwrap();
        let path: &'static str = Box::leak(dir.to_string_lossy().into_owned().into_boxed_str());
        let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([("AWS_CA_BUNDLE", path)]));
        let err = trust_store(&env(vars)).unwrap_err();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(err.code(), Code::ConfigInvalid);
        assert!(err.to_string().contains("no usable CA certificate"), "{err}");
    }

    #[test]
    fn pooled_connections_are_dropped_before_a_nat_gateway_forgets_them() {
        // A documented guard: the idle timeout is what keeps a pooled connection from
        // outliving the NAT gateway's flow (issue 14); the harness test observes it.
        assert!(POOL_IDLE_TIMEOUT < NAT_GATEWAY_IDLE_TIMEOUT);
        assert!(TCP_KEEPALIVE < POOL_IDLE_TIMEOUT);
        assert_eq!(pool_idle_timeout(&env(&[])).unwrap(), POOL_IDLE_TIMEOUT);
        let set = env(&[("STARFLEET_SECRETS_POOL_IDLE_TIMEOUT", "1.5")]);
        assert_eq!(pool_idle_timeout(&set).unwrap(), Duration::from_millis(1_500));
        let err = pool_idle_timeout(&env(&[("STARFLEET_SECRETS_POOL_IDLE_TIMEOUT", "0")])).unwrap_err();
        assert_eq!(err.code(), Code::ConfigInvalid);
        assert!(err.to_string().contains("STARFLEET_SECRETS_POOL_IDLE_TIMEOUT"), "{err}");
    }

    #[test]
    fn clients_build() {
        assert!(http_client(&env(&[])).is_ok());
        let bundle = std::env::temp_dir().join(format!("starfleet-bundle-{}", std::process::id()));
        std::fs::write(&bundle, ISRG_ROOT_X1).unwrap();
        let path: &'static str = Box::leak(bundle.to_string_lossy().into_owned().into_boxed_str());
        let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([("AWS_CA_BUNDLE", path)]));
        let built = https_client(&env(vars));
        std::fs::remove_file(&bundle).unwrap();
        assert!(built.is_ok());
    }
}
