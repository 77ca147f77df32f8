//! HTTPS to Secrets Manager: the harness's TLS listener with certificate verification on,
//! the trusted-roots variables, and refusal (never a fallback) when the roots are wrong.
//! Each case runs the example worker as its own process, since the roots are read once per
//! process. Run through `scripts/with-harness cargo test`.

mod support;

use starfleet_secrets::runtime;
use support::*;

fn proxied_gets(name: &str) -> u64 {
    runtime::get().unwrap().block_on(get_count(name))
}

/// The worker reading `name` over `endpoint`, with `extra` variables and without `remove`d ones.
fn read(name: &str, endpoint: &str, extra: &[(&str, &str)], remove: &[&str]) -> (bool, String) {
    let mut envs = vec![
        ("STARFLEET_SECRET_ID", name),
        ("STARFLEET_SECRET_REGION", REGION),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint),
    ];
    envs.extend_from_slice(extra);
    let out = worker(&envs, remove);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn https_verified_with_the_ca_in_aws_ca_bundle_or_ssl_cert_file() {
    let name = seeded("tls-roots");
    let ca = var("STARFLEET_TEST_CA");
    for (set, remove) in [("AWS_CA_BUNDLE", "SSL_CERT_FILE"), ("SSL_CERT_FILE", "AWS_CA_BUNDLE")] {
        let (ok, stderr) = read(&name, &var("STARFLEET_TEST_PROXY_HTTPS"), &[(set, &ca)], &[remove]);
        assert!(ok, "{set}: {stderr}");
    }
    assert_eq!(proxied_gets(&name), 2);
}

/// The path every deployment takes, reaching Secrets Manager by name: the system resolver (on
/// the runtime's blocking pool), SNI, and the certificate verified for the name rather than
/// for an address. The harness's certificate names `localhost`; where `localhost` also resolves
/// to `::1`, which the harness does not listen on, that attempt is refused and the next address
/// is tried, so the read succeeds either way.
#[test]
fn https_by_host_name_is_resolved_and_verified_for_the_name() {
    let name = seeded("tls-by-name");
    let https = var("STARFLEET_TEST_PROXY_HTTPS");
    let port = https.rsplit(':').next().unwrap();
    let by_name = format!("https://localhost:{port}");
    let (ok, stderr) = read(&name, &by_name, &[("AWS_CA_BUNDLE", &var("STARFLEET_TEST_CA"))], &[]);
    assert!(ok, "{by_name}: {stderr}");
    assert_eq!(proxied_gets(&name), 1);
}

#[test]
fn wrong_roots_are_a_network_error_and_no_request_is_sent() {
    let name = seeded("tls-wrong");
    let https = var("STARFLEET_TEST_PROXY_HTTPS");
    let wrong = var("STARFLEET_TEST_WRONG_CA");
    for (set, remove) in [("AWS_CA_BUNDLE", "SSL_CERT_FILE"), ("SSL_CERT_FILE", "AWS_CA_BUNDLE")] {
        let (ok, stderr) = read(&name, &https, &[(set, &wrong)], &[remove]);
        assert!(!ok, "{set}: a server the roots do not vouch for was accepted");
        assert!(stderr.contains("NETWORK"), "{set}: {stderr}");
        assert!(stderr.contains("certificate"), "{set}: the message says why: {stderr}");
    }
    // The system roots alone (no test CA anywhere) are refused the same way.
    let (ok, stderr) = read(&name, &https, &[], &["AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"]);
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");
    // Verification failed before any request reached the proxy: no unverified fallback.
    assert_eq!(proxied_gets(&name), 0);
}

#[test]
fn an_unusable_ca_bundle_is_a_config_error_naming_the_variable() {
    let name = seeded("tls-missing");
    let https = var("STARFLEET_TEST_PROXY_HTTPS");
    let (ok, stderr) = read(&name, &https, &[("AWS_CA_BUNDLE", "/nonexistent/ca.pem")], &[]);
    assert!(!ok);
    assert!(
        stderr.contains("CONFIG_INVALID") && stderr.contains("AWS_CA_BUNDLE (/nonexistent/ca.pem)"),
        "{stderr}"
    );
    assert_eq!(proxied_gets(&name), 0);
}

#[test]
fn plain_http_endpoint_still_works() {
    let name = seeded("plain-http");
    let (ok, stderr) = read(&name, &var("STARFLEET_TEST_PROXY"), &[], &[]);
    assert!(ok, "{stderr}");
}
