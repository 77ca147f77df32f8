//! Every network path and credential source a worker has: an HTTPS proxy (`HTTPS_PROXY`,
//! `NO_PROXY`, credentials in the proxy URL), `credential_process`, container credentials,
//! web identity, a role assumed from a profile, and the endpoint variables (`AWS_ENDPOINT_URL`, a profile's `endpoint_url`,
//! `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`).
//!
//! Each case runs the example worker as its own process with its own environment, against
//! the harness: its CONNECT proxies (`POST /__harness/connect-proxies`) count tunnels and the
//! host each `CONNECT` asked for, and `STARFLEET_TEST_PRIVATE_ENDPOINT` names the HTTPS
//! listener under a host only those proxies resolve, so a read that succeeds there went
//! through the proxy. Run through `scripts/with-harness cargo test`.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use starfleet_secrets::runtime;
use support::*;

fn block<T>(fut: impl std::future::Future<Output = T>) -> T {
    runtime::get().unwrap().block_on(fut)
}

/// A CONNECT proxy of the harness (`spec`: `auth`, `refuse`); returns its id and URL.
fn connect_proxy(spec: Value) -> (u64, String) {
    let proxy = block(control("POST", "connect-proxies", Some(spec)));
    (proxy["id"].as_u64().unwrap(), proxy["url"].as_str().unwrap().to_owned())
}

fn proxy_stats(id: u64) -> Value {
    block(control("GET", &format!("connect-proxies/{id}"), None))
}

/// The access keys that signed `name`'s GetSecretValue calls, as the harness saw them.
fn signing_keys(name: &str) -> Vec<String> {
    let requests = block(control("GET", &format!("requests?secret_id={name}"), None));
    requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["access_key"].as_str().map(str::to_owned))
        .collect()
}

/// The worker reading `name` with `extra` variables (after the harness's) and without the
/// `remove`d ones: success, and stderr.
fn read(name: &str, extra: &[(&str, &str)], remove: &[&str]) -> (bool, String) {
    read_within(name, extra, remove, WORKER_LIMIT)
}

/// [`read`], the worker killed (and the test failed) if it has not ended within `limit`.
fn read_within(name: &str, extra: &[(&str, &str)], remove: &[&str], limit: Duration) -> (bool, String) {
    let mut envs = vec![("STARFLEET_SECRET_ID", name), ("STARFLEET_SECRET_REGION", REGION)];
    envs.extend_from_slice(extra);
    let mut remove = remove.to_vec();
    // Proxy variables of the machine running the tests never leak into a case.
    remove.extend([
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
    ]);
    remove.retain(|k| !extra.iter().any(|(set, _)| set == k));
    let out = worker_within(&envs, &remove, limit);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A temporary file with `text`, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(prefix: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(unique(prefix));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn reads_through_an_https_proxy_that_counts_the_tunnel() {
    let name = seeded("proxy-read");
    let private = var("STARFLEET_TEST_PRIVATE_ENDPOINT");
    let endpoint = [("AWS_ENDPOINT_URL_SECRETS_MANAGER", private.as_str())];
    // Without the proxy the endpoint is not reachable at all (its host name does not resolve).
    let (ok, stderr) = read(&name, &endpoint, &[]);
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");

    let (id, url) = connect_proxy(json!({}));
    for proxy_var in ["HTTPS_PROXY", "https_proxy"] {
        let (ok, stderr) = read(&name, &[endpoint[0], (proxy_var, &url)], &[]);
        assert!(ok, "{proxy_var}: {stderr}");
    }
    let host = private.trim_start_matches("https://");
    let stats = proxy_stats(id);
    assert_eq!(stats["targets"][host], 2, "one tunnel per worker: {stats}");
    assert_eq!(block(get_count(&name)), 2);
    // The proxy URL without a scheme is an http:// proxy, as botocore reads it.
    let bare = url.trim_start_matches("http://");
    let (ok, stderr) = read(&name, &[endpoint[0], ("HTTPS_PROXY", bare)], &[]);
    assert!(ok, "{stderr}");
    assert_eq!(proxy_stats(id)["tunnels"], 3);
}

/// Longer than the connect timeout (3 s, `source::CONNECT_TIMEOUT`), which covers a proxy's
/// `CONNECT` too, and well inside the worker's deadline.
const SLOW_PROXY: Duration = Duration::from_secs(4);

#[test]
fn a_proxy_slower_than_the_connect_timeout_is_waited_for() {
    let name = seeded("proxy-slow");
    let private = var("STARFLEET_TEST_PRIVATE_ENDPOINT");
    let millis = SLOW_PROXY.as_millis() as u64;
    let (id, url) = connect_proxy(json!({ "delay_ms": millis }));
    let started = Instant::now();
    let (ok, stderr) = read(
        &name,
        &[
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private),
            ("HTTPS_PROXY", &url),
            ("STARFLEET_SECRETS_TIMEOUT", "20"),
        ],
        &[],
    );
    let took = started.elapsed();
    assert!(ok, "{stderr}");
    // The first tunnel's answer (as boto3 reads, in about the proxy's time), not a TIMEOUT
    // after every attempt was cut at 3 s.
    assert!(took >= SLOW_PROXY && took < SLOW_PROXY * 2, "took {took:?}");
    assert_eq!(block(get_count(&name)), 1);
    let host = private.trim_start_matches("https://");
    assert!(
        proxy_stats(id)["requested"][host].as_u64() >= Some(1),
        "through the proxy"
    );
}

#[test]
fn tls_runs_end_to_end_through_the_tunnel() {
    let name = seeded("proxy-tls");
    let (id, url) = connect_proxy(json!({}));
    let wrong = var("STARFLEET_TEST_WRONG_CA");
    let (ok, stderr) = read(
        &name,
        &[
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                &var("STARFLEET_TEST_PRIVATE_ENDPOINT"),
            ),
            ("HTTPS_PROXY", &url),
            ("AWS_CA_BUNDLE", &wrong),
        ],
        &[],
    );
    // The tunnel opened, but the endpoint's certificate is checked against the roots, not
    // trusted because the proxy relayed it.
    assert!(
        !ok && stderr.contains("NETWORK") && stderr.contains("certificate"),
        "{stderr}"
    );
    assert!(proxy_stats(id)["tunnels"].as_u64().unwrap() >= 1);
    assert_eq!(
        block(get_count(&name)),
        0,
        "no request was sent over an unverified connection"
    );
}

#[test]
fn basic_auth_from_the_proxy_url_and_a_refusal_never_shows_the_password() {
    let name = seeded("proxy-auth");
    let private = var("STARFLEET_TEST_PRIVATE_ENDPOINT");
    // A password with characters that must be percent-encoded in a URL.
    let (id, url) = connect_proxy(json!({"auth": "alice:p@ss w0rd:x"}));
    let port = url.rsplit(':').next().unwrap();
    let good = format!("http://alice:p%40ss%20w0rd%3Ax@127.0.0.1:{port}");
    let (ok, stderr) = read(
        &name,
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private), ("HTTPS_PROXY", &good)],
        &[],
    );
    assert!(ok, "{stderr}");
    assert_eq!(proxy_stats(id)["tunnels"], 1);

    let wrong = format!("http://alice:hunter2-wrong@127.0.0.1:{port}");
    let (ok, stderr) = read(
        &name,
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private), ("HTTPS_PROXY", &wrong)],
        &[],
    );
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");
    assert!(
        stderr.contains(&format!("through the proxy http://alice:***@127.0.0.1:{port}")),
        "names the proxy: {stderr}"
    );
    assert!(stderr.contains("HTTPS_PROXY"), "names the variable: {stderr}");
    assert!(stderr.contains("authorization required"), "says why: {stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    assert!(proxy_stats(id)["refused"].as_u64().unwrap() >= 1);
}

#[test]
fn a_refusing_or_absent_proxy_is_a_network_error_naming_it() {
    let name = seeded("proxy-refuses");
    let private = var("STARFLEET_TEST_PRIVATE_ENDPOINT");
    let (id, url) = connect_proxy(json!({"refuse": 403}));
    let port = url.rsplit(':').next().unwrap();
    let with_password = format!("http://bob:s3cr3t-pw@127.0.0.1:{port}");
    let (ok, stderr) = read(
        &name,
        &[
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private),
            ("HTTPS_PROXY", &with_password),
        ],
        &[],
    );
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");
    assert!(stderr.contains(&format!("http://bob:***@127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "the password leaked: {stderr}");
    assert_eq!(proxy_stats(id)["tunnels"], 0);

    // Nothing listening where the proxy should be: the same, fast (no wait for a deadline).
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let absent = format!("http://bob:s3cr3t-pw@127.0.0.1:{closed}");
    let started = Instant::now();
    let (ok, stderr) = read(
        &name,
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private), ("HTTPS_PROXY", &absent)],
        &[],
    );
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{closed}")), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "the password leaked: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    assert_eq!(block(get_count(&name)), 0);
}

#[test]
fn no_proxy_matching_the_endpoint_bypasses_the_proxy() {
    let name = seeded("no-proxy");
    let (id, url) = connect_proxy(json!({}));
    let direct = var("STARFLEET_TEST_PROXY_HTTPS"); // https://127.0.0.1:S
    let port = direct.rsplit(':').next().unwrap();
    let host_port = format!("127.0.0.1:{port}");
    let bypassing = ["127.0.0.1", "example.com, 127.0.0.0/8", "*", &host_port];
    for (n, no_proxy) in bypassing.iter().enumerate() {
        for no_proxy_var in ["NO_PROXY", "no_proxy"] {
            let (ok, stderr) = read(
                &name,
                &[
                    ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &direct),
                    ("HTTPS_PROXY", &url),
                    (no_proxy_var, no_proxy),
                ],
                &[],
            );
            assert!(ok, "{no_proxy_var}={no_proxy}: {stderr}");
            assert_eq!(proxy_stats(id)["tunnels"], 0, "{no_proxy_var}={no_proxy} (case {n})");
        }
    }
    // A NO_PROXY that does not match: through the proxy.
    let (ok, stderr) = read(
        &name,
        &[
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &direct),
            ("HTTPS_PROXY", &url),
            ("NO_PROXY", "example.com,10.0.0.0/8"),
        ],
        &[],
    );
    assert!(ok, "{stderr}");
    assert_eq!(proxy_stats(id)["tunnels"], 1);
    // Suffix rules: `.harness.test` and `*.harness.test` match secretsmanager.harness.test,
    // which only the proxy resolves, so bypassing it is a NETWORK error (DNS).
    let private = var("STARFLEET_TEST_PRIVATE_ENDPOINT");
    for no_proxy in ["harness.test", ".harness.test", "*.harness.test"] {
        let (ok, stderr) = read(
            &name,
            &[
                ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private),
                ("HTTPS_PROXY", &url),
                ("NO_PROXY", no_proxy),
            ],
            &[],
        );
        assert!(!ok && stderr.contains("NETWORK"), "NO_PROXY={no_proxy}: {stderr}");
    }
    assert_eq!(proxy_stats(id)["tunnels"], 1);
}

#[test]
fn an_unusable_proxy_url_is_a_config_error_naming_the_variable() {
    let name = seeded("proxy-bad-url");
    for bad in [
        "socks5://carol:pw-secret@127.0.0.1:1080",
        "http://carol:pw-secret@bad host:1",
    ] {
        let (ok, stderr) = read(&name, &[("HTTPS_PROXY", bad)], &[]);
        assert!(
            !ok && stderr.contains("CONFIG_INVALID") && stderr.contains("HTTPS_PROXY"),
            "{bad}: {stderr}"
        );
        assert!(!stderr.contains("pw-secret"), "the password leaked: {stderr}");
    }
    assert_eq!(block(get_count(&name)), 0);
}

#[test]
fn ssl_cert_file_naming_a_missing_file_is_a_config_error() {
    let name = seeded("ssl-cert-file");
    let (ok, stderr) = read(
        &name,
        &[("SSL_CERT_FILE", "/nonexistent/roots.pem")],
        &["AWS_CA_BUNDLE"],
    );
    assert!(!ok);
    assert!(
        stderr.contains("CONFIG_INVALID") && stderr.contains("SSL_CERT_FILE (/nonexistent/roots.pem)"),
        "{stderr}"
    );
    assert_eq!(block(get_count(&name)), 0);
}

/// The variables that would give the worker credentials without the source under test.
const OTHER_CREDENTIALS: &[&str] = &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/// A `credential_process` script that runs `before` (a shell command, or nothing) and then
/// prints credentials with `access_key`, and a config file whose default profile runs it;
/// both removed when dropped.
fn process_profile(before: &str, access_key: &str) -> (TempFile, TempFile) {
    let script = TempFile::new(
        "credential-process.sh",
        &format!(
            "#!/bin/sh\n{before}\necho '{{\"Version\": 1, \"AccessKeyId\": \"{access_key}\", \"SecretAccessKey\": \"process-secret\", \"SessionToken\": \"process-token\"}}'\n"
        ),
    );
    std::fs::set_permissions(&script.0, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let config = TempFile::new(
        "aws-config",
        &format!("[default]\ncredential_process = {}\n", script.path()),
    );
    (script, config)
}

#[test]
fn credential_process_in_the_profile() {
    let name = seeded("credential-process");
    let (_script, config) = process_profile("", "AKIDFROMPROCESS");
    let (ok, stderr) = read(&name, &[("AWS_CONFIG_FILE", config.path())], OTHER_CREDENTIALS);
    assert!(ok, "{stderr}");
    assert_eq!(signing_keys(&name), ["AKIDFROMPROCESS"]);

    // A process that fails is CREDENTIALS, not a hang or a crash.
    let failing = TempFile::new("aws-config", "[default]\ncredential_process = /bin/false\n");
    let (ok, stderr) = read(&name, &[("AWS_CONFIG_FILE", failing.path())], OTHER_CREDENTIALS);
    assert!(!ok && stderr.contains("CREDENTIALS"), "{stderr}");
}

/// Credentials that take longer than the SDK's own limit on resolving them (its identity
/// cache gives up after about 19 s: three attempts of twice the connect timeout) are waited
/// for when the read's deadline is longer: the deadline is the one limit on a read (boto3 sets
/// none on a credential process).
#[test]
fn a_credential_process_slower_than_the_sdks_limit_is_waited_for_within_the_deadline() {
    let name = seeded("credential-process-slow");
    let (_script, config) = process_profile("sleep 21", "AKIDSLOWPROCESS");
    let started = Instant::now();
    let (ok, stderr) = read(
        &name,
        &[("AWS_CONFIG_FILE", config.path()), ("STARFLEET_SECRETS_TIMEOUT", "40")],
        OTHER_CREDENTIALS,
    );
    assert!(ok, "{stderr}");
    assert!(started.elapsed() >= Duration::from_secs(21));
    assert_eq!(signing_keys(&name), ["AKIDSLOWPROCESS"]);
}

/// Files the worker or the SDK reads by name that are FIFOs or devices: each is
/// CONFIG_INVALID at once, naming the variable (or the profile's setting) and the path, and
/// nothing is sent. Before,
/// each of these hung the read past its 8 s deadline (the SDK reads the shared files and
/// token files with a blocking `std::fs::read` on the thread that drives the read, where
/// the deadline's timer runs too; `/dev/zero` is read until memory runs out). `/dev/null`
/// as the shared config file, the usual way to go without one, still reads.
#[test]
fn a_fifo_or_a_device_named_for_a_file_is_a_config_error_at_once() {
    let name = seeded("special-files");
    let fifo = std::env::temp_dir().join(unique("fifo"));
    mkfifo(&fifo);
    let _fifo = TempFile(fifo.clone());
    let fifo = fifo.to_str().unwrap();
    let role = ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/starfleet-worker");
    let container = ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds");
    // The variable, the special file it names, and what else the case needs set.
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: [Case; 8] = [
        ("AWS_CA_BUNDLE", fifo, &[]),
        ("AWS_CA_BUNDLE", "/dev/zero", &[]),
        ("SSL_CERT_FILE", fifo, &[]),
        ("AWS_CONFIG_FILE", fifo, &[]),
        ("AWS_CONFIG_FILE", "/dev/zero", &[]),
        ("AWS_SHARED_CREDENTIALS_FILE", fifo, &[]),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", fifo, std::slice::from_ref(&role)),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            fifo,
            std::slice::from_ref(&container),
        ),
    ];
    for (var, path, with) in cases {
        let mut envs = vec![(var, path), ("STARFLEET_SECRETS_TIMEOUT", "8")];
        envs.extend_from_slice(with);
        // SSL_CERT_FILE is read only without AWS_CA_BUNDLE (the harness sets it).
        let mut remove = OTHER_CREDENTIALS.to_vec();
        remove.push("AWS_CA_BUNDLE");
        remove.retain(|k| !envs.iter().any(|(set, _)| set == k));
        let started = Instant::now();
        let (ok, stderr) = read_within(&name, &envs, &remove, Duration::from_secs(20));
        let took = started.elapsed();
        assert!(!ok && stderr.contains("CONFIG_INVALID"), "{var}={path}: {stderr}");
        assert!(stderr.contains(var) && stderr.contains(path), "{var}={path}: {stderr}");
        assert!(took < Duration::from_secs(5), "{var}={path}: took {took:?}");
    }
    // The same file named by the selected profile.
    let profile = TempFile::new(
        "aws-config",
        &format!("[default]\nrole_arn = {}\nweb_identity_token_file = {fifo}\n", role.1),
    );
    let envs = [("AWS_CONFIG_FILE", profile.path()), ("STARFLEET_SECRETS_TIMEOUT", "8")];
    let (ok, stderr) = read_within(&name, &envs, OTHER_CREDENTIALS, Duration::from_secs(20));
    assert!(
        !ok && stderr.contains("CONFIG_INVALID")
            && stderr.contains(&format!(
                "web_identity_token_file of AWS profile default ({fifo}): the file is a FIFO"
            )),
        "{stderr}"
    );
    assert_eq!(block(get_count(&name)), 0, "nothing was sent");
    let (ok, stderr) = read(&name, &[("AWS_CONFIG_FILE", "/dev/null")], &[]);
    assert!(ok, "{stderr}");
}

/// What a fake service answers: status, extra header lines (each ending in `\r\n`) and body,
/// given the request head (header names in lower case) and body.
type Answer = (u16, String, String);

/// A local plain-HTTP service (a credentials endpoint, instance metadata, a sign-in or SSO
/// portal) answering every request with `handler`'s answer after `delay`, one request per
/// connection; returns its base URL and the requests it saw (head, then body), which a test
/// reads once its worker has exited.
fn fake_service(
    delay: Duration,
    handler: impl Fn(&str, &str) -> Answer + Send + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head)
                .lines()
                .map(|line| match line.split_once(':') {
                    Some((name, value)) => format!("{}:{value}", name.to_ascii_lowercase()),
                    None => line.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = stream.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body).into_owned();
            let (status, headers, answer) = handler(&head, &body);
            log.lock().unwrap().push(format!("{head}\n\n{body}"));
            std::thread::sleep(delay);
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, seen)
}

/// The requests `seen` by a [`fake_service`] so far.
fn requests(seen: &std::sync::Mutex<Vec<String>>) -> Vec<String> {
    seen.lock().unwrap().clone()
}

/// Container credentials (ECS, EKS Pod Identity) from an endpoint that answers in 6.5 s:
/// longer than the SDK provider's fixed 5 s read timeout, which failed every attempt (a
/// TIMEOUT at any deadline; boto3, whose container fetcher waits 2 s, fails too:
/// CredentialRetrievalError after 9.3 s). Read within the deadline, with the token file's
/// header, and the plain-HTTP call never through a proxy.
#[test]
fn slow_container_credentials_with_a_token_file_and_never_through_a_proxy() {
    let name = seeded("container-credentials");
    let credentials = json!({
        "AccessKeyId": "AKIDFROMCONTAINER",
        "SecretAccessKey": "container-secret",
        "Token": "container-token",
        "Expiration": "2099-01-01T00:00:00Z",
    });
    let body = credentials.to_string();
    let slow = Duration::from_millis(6_500);
    let (base, seen) = fake_service(slow, move |_, _| (200, String::new(), body.clone()));
    let url = format!("{base}/v2/credentials/task");
    // No trailing newline: a header value cannot hold one (botocore refuses it too).
    let token = TempFile::new("container-token", "token-from-file");
    // The Secrets Manager endpoint through a counting proxy, and an HTTP proxy that refuses:
    // the credential provider's plain-HTTP call to 127.0.0.1 goes direct all the same.
    let (id, proxy) = connect_proxy(json!({}));
    let (_, refusing) = connect_proxy(json!({"refuse": 403}));
    let started = Instant::now();
    let (ok, stderr) = read(
        &name,
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token.path()),
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                &var("STARFLEET_TEST_PRIVATE_ENDPOINT"),
            ),
            ("HTTPS_PROXY", &proxy),
            ("HTTP_PROXY", &refusing),
            ("STARFLEET_SECRETS_TIMEOUT", "20"),
        ],
        OTHER_CREDENTIALS,
    );
    assert!(ok, "a slow (6.5 s) credentials endpoint is not a failure: {stderr}");
    assert!(started.elapsed() >= slow);
    let heads = requests(&seen);
    assert_eq!(heads.len(), 1);
    assert!(heads[0].starts_with("GET /v2/credentials/task"), "{heads:?}");
    assert!(heads[0].contains("\nauthorization: token-from-file"), "{heads:?}");
    assert_eq!(signing_keys(&name), ["AKIDFROMCONTAINER"]);
    assert_eq!(proxy_stats(id)["tunnels"], 1);
}

#[test]
fn sso_profile_with_a_cached_token_and_a_local_sso_portal() {
    let name = seeded("sso");
    let home = std::env::temp_dir().join(unique("sso-home"));
    let start_url = "https://starfleet.awsapps.com/start";
    // The legacy SSO profile's token is cached under ~/.aws/sso/cache/<sha1 of the start URL>.json.
    let sha1 = std::process::Command::new("sh")
        .args(["-c", &format!("printf %s '{start_url}' | sha1sum")])
        .output()
        .unwrap();
    let sha1 = String::from_utf8(sha1.stdout).unwrap()[..40].to_owned();
    let cache = home.join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    let token = json!({"accessToken": "cached-sso-token", "expiresAt": "2099-01-01T00:00:00Z", "region": "us-east-1", "startUrl": start_url});
    std::fs::write(cache.join(format!("{sha1}.json")), token.to_string()).unwrap();
    let config = home.join("config");
    std::fs::write(
        &config,
        format!("[default]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Reader\n"),
    )
    .unwrap();
    let role_credentials = json!({"roleCredentials": {
        "accessKeyId": "AKIDFROMSSO", "secretAccessKey": "sso-secret", "sessionToken": "sso-token",
        "expiration": 4_070_908_800_000_u64,
    }});
    let body = role_credentials.to_string();
    let (portal, seen) = fake_service(Duration::ZERO, move |_, _| (200, String::new(), body.clone()));
    let (ok, stderr) = read(
        &name,
        &[
            ("HOME", home.to_str().unwrap()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_ENDPOINT_URL_SSO", &portal),
        ],
        OTHER_CREDENTIALS,
    );
    let _ = std::fs::remove_dir_all(&home);
    assert!(ok, "{stderr}");
    let heads = requests(&seen);
    assert!(
        heads[0].starts_with("GET /federation/credentials?") && heads[0].contains("role_name=Reader"),
        "{heads:?}"
    );
    assert!(
        heads[0].contains("x-amz-sso_bearer_token: cached-sso-token"),
        "{heads:?}"
    );
    assert_eq!(signing_keys(&name), ["AKIDFROMSSO"]);
}

/// Held by each test that counts STS's calls (the harness counts them for all callers).
static STS_COUNTED: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn web_identity_through_a_local_sts() {
    let name = seeded("web-identity");
    let _counted = STS_COUNTED.lock().unwrap_or_else(|p| p.into_inner());
    let token = TempFile::new("web-identity-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.");
    let before = block(control("GET", "counts", None))["AssumeRoleWithWebIdentity"]
        .as_u64()
        .unwrap_or(0);
    let (ok, stderr) = read(
        &name,
        &[
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/starfleet-worker"),
            ("AWS_ROLE_SESSION_NAME", "starfleet-test"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.path()),
            // moto's STS, behind the harness (HTTPS, verified).
            ("AWS_ENDPOINT_URL_STS", &var("STARFLEET_TEST_PROXY_HTTPS")),
        ],
        OTHER_CREDENTIALS,
    );
    assert!(ok, "{stderr}");
    let after = block(control("GET", "counts", None))["AssumeRoleWithWebIdentity"]
        .as_u64()
        .unwrap_or(0);
    assert!(after > before, "STS was not called");
    let keys = signing_keys(&name);
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0], "testing", "signed with the role's credentials from STS");
}

/// A credential provider's call through a proxy that opens each tunnel in 4 s (longer than the
/// 3 s connect timeout): STS's AssumeRoleWithWebIdentity is waited for as GetSecretValue is,
/// where each of its attempts used to be cut at 3 s (the read then failed after about 9 s;
/// boto3, whose connect timeout is 60 s, reads).
#[test]
fn web_identity_through_a_proxy_slower_than_the_connect_timeout() {
    let name = seeded("web-identity-slow-proxy");
    let token = TempFile::new("web-identity-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.");
    let key = read_through_the_slow_proxy(
        &name,
        "AssumeRoleWithWebIdentity",
        &[
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/starfleet-worker"),
            ("AWS_ROLE_SESSION_NAME", "starfleet-test"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.path()),
        ],
    );
    assert_ne!(key, "testing", "signed with the role's credentials");
}

/// A profile that assumes a role (`role_arn`, `source_profile`) from a `credential_process`
/// source, with STS and Secrets Manager behind the slow proxy: the source's credentials sign
/// one AssumeRole and the role's credentials sign the read, each call waited for. (With a
/// source that takes 21 s and a 50 s deadline it also reads, in 25 s: the source is resolved
/// under the outer credentials cache, whose limit is the deadline.)
#[test]
fn a_role_assumed_from_a_credential_process_profile_through_a_slow_proxy() {
    let name = seeded("assume-role-profile");
    let (script, _) = process_profile("", "AKIDSOURCEPROCESS");
    let config = TempFile::new(
        "aws-config",
        &format!(
            "[default]\nrole_arn = arn:aws:iam::123456789012:role/starfleet-worker\nsource_profile = base\n\n\
             [profile base]\ncredential_process = {}\n",
            script.path()
        ),
    );
    let key = read_through_the_slow_proxy(&name, "AssumeRole", &[("AWS_CONFIG_FILE", config.path())]);
    assert!(
        key != "AKIDSOURCEPROCESS" && key != "testing",
        "signed with the role's credentials, not {key}"
    );
}

/// The worker reading `name` with `credentials` (variables) that call STS's `operation`, STS
/// and Secrets Manager both reachable only through a proxy that opens each tunnel in
/// [`SLOW_PROXY`]: checks that it read, waiting at most one tunnel for each of the two calls
/// (not a cut and a retry), with one STS call and one GetSecretValue through the proxy, and
/// returns the access key that signed the read.
fn read_through_the_slow_proxy(name: &str, operation: &str, credentials: &[(&str, &str)]) -> String {
    let private = var("STARFLEET_TEST_PRIVATE_ENDPOINT");
    let (id, url) = connect_proxy(json!({ "delay_ms": SLOW_PROXY.as_millis() as u64 }));
    let _counted = STS_COUNTED.lock().unwrap_or_else(|p| p.into_inner());
    let calls = || block(control("GET", "counts", None))[operation].as_u64().unwrap_or(0);
    let before = calls();
    let mut envs = credentials.to_vec();
    envs.extend([
        ("AWS_ENDPOINT_URL_STS", private.as_str()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private),
        ("HTTPS_PROXY", &url),
        ("STARFLEET_SECRETS_TIMEOUT", "30"),
    ]);
    let started = Instant::now();
    let (ok, stderr) = read(name, &envs, OTHER_CREDENTIALS);
    let took = started.elapsed();
    assert!(ok, "{stderr}");
    assert!(took >= SLOW_PROXY && took < SLOW_PROXY * 3, "took {took:?}");
    assert_eq!(calls() - before, 1, "{operation} was called once");
    assert_eq!(block(get_count(name)), 1);
    let host = private.trim_start_matches("https://");
    assert!(proxy_stats(id)["requested"][host].as_u64() >= Some(1));
    let mut keys = signing_keys(name);
    assert_eq!(keys.len(), 1);
    keys.remove(0)
}

#[test]
fn endpoint_from_aws_endpoint_url_and_from_the_profile() {
    let name = seeded("endpoint-vars");
    let https = var("STARFLEET_TEST_PROXY_HTTPS");
    let dead = "https://127.0.0.1:9";
    // The generic variable, when the service's is not set.
    let (ok, stderr) = read(
        &name,
        &[("AWS_ENDPOINT_URL", &https)],
        &["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
    );
    assert!(ok, "{stderr}");
    // The service's variable wins over the generic one.
    let (ok, stderr) = read(
        &name,
        &[("AWS_ENDPOINT_URL", dead), ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &https)],
        &[],
    );
    assert!(ok, "{stderr}");
    // The profile's endpoint_url, and its services section.
    let profile = TempFile::new("aws-config", &format!("[default]\nendpoint_url = {https}\n"));
    // botocore's spelling (`secrets_manager`) and the Rust SDK's (`secrets-manager`).
    let services: Vec<TempFile> = ["secrets_manager", "secrets-manager"]
        .iter()
        .map(|id| {
            let text = format!("[default]\nservices = local\n\n[services local]\n{id} =\n  endpoint_url = {https}\n");
            TempFile::new("aws-config", &text)
        })
        .collect();
    for config in [&profile, &services[0], &services[1]] {
        let (ok, stderr) = read(
            &name,
            &[("AWS_CONFIG_FILE", config.path())],
            &["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
        );
        assert!(ok, "{stderr}");
    }
    // A plain-HTTP endpoint in the profile (an emulator).
    let plain = TempFile::new(
        "aws-config",
        &format!("[default]\nendpoint_url = {}\n", var("STARFLEET_TEST_PROXY")),
    );
    let (ok, stderr) = read(
        &name,
        &[("AWS_CONFIG_FILE", plain.path())],
        &["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
    );
    assert!(ok, "{stderr}");
    assert_eq!(block(get_count(&name)), 6);
    // The variables come before the profile's services section.
    let (ok, stderr) = read(
        &name,
        &[("AWS_CONFIG_FILE", services[0].path()), ("AWS_ENDPOINT_URL", dead)],
        &["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
    );
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");
}

#[test]
fn the_profiles_ca_bundle_is_trusted() {
    let name = seeded("profile-ca-bundle");
    let profile = TempFile::new(
        "aws-config",
        &format!("[default]\nca_bundle = {}\n", var("STARFLEET_TEST_CA")),
    );
    let (ok, stderr) = read(
        &name,
        &[("AWS_CONFIG_FILE", profile.path())],
        &["AWS_CA_BUNDLE", "SSL_CERT_FILE"],
    );
    assert!(ok, "{stderr}");
    let missing = TempFile::new("aws-config", "[default]\nca_bundle = /nonexistent/profile-ca.pem\n");
    let (ok, stderr) = read(
        &name,
        &[("AWS_CONFIG_FILE", missing.path())],
        &["AWS_CA_BUNDLE", "SSL_CERT_FILE"],
    );
    assert!(
        !ok && stderr.contains("CONFIG_INVALID") && stderr.contains("ca_bundle"),
        "{stderr}"
    );
}

/// The host each region's read asked the proxy for, with `extra` endpoint variables and no
/// endpoint override: FIPS and dual-stack names are not reachable here, so the proxy records
/// which host the rules chose (then fails to reach it, which is the NETWORK error expected).
fn chosen_hosts(extra: &[(&str, &str)]) -> Vec<String> {
    let name = unique("endpoint-rules");
    let (id, url) = connect_proxy(json!({}));
    let mut envs = vec![
        ("HTTPS_PROXY", url.as_str()),
        ("STARFLEET_SECRET_FALLBACK_REGIONS", "eu-west-1"),
    ];
    envs.extend_from_slice(extra);
    let (ok, _) = read(&name, &envs, &["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"]);
    assert!(!ok);
    let mut hosts: Vec<String> = proxy_stats(id)["requested"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    hosts.sort();
    hosts
}

#[test]
fn fips_and_dual_stack_endpoints_in_every_region_read() {
    assert_eq!(
        chosen_hosts(&[]),
        [
            "secretsmanager.eu-west-1.amazonaws.com:443",
            "secretsmanager.us-east-2.amazonaws.com:443"
        ]
    );
    assert_eq!(
        chosen_hosts(&[("AWS_USE_FIPS_ENDPOINT", "true")]),
        [
            "secretsmanager-fips.eu-west-1.amazonaws.com:443",
            "secretsmanager-fips.us-east-2.amazonaws.com:443"
        ]
    );
    // Secrets Manager's standard endpoints already answer over IPv6 too: the SDK's rules keep
    // the same names with dual-stack on (they differ only for FIPS in the China regions).
    assert_eq!(
        chosen_hosts(&[("AWS_USE_DUALSTACK_ENDPOINT", "true")]),
        [
            "secretsmanager.eu-west-1.amazonaws.com:443",
            "secretsmanager.us-east-2.amazonaws.com:443"
        ]
    );
    assert_eq!(
        chosen_hosts(&[
            ("AWS_USE_FIPS_ENDPOINT", "true"),
            ("AWS_USE_DUALSTACK_ENDPOINT", "true")
        ]),
        [
            "secretsmanager-fips.eu-west-1.amazonaws.com:443",
            "secretsmanager-fips.us-east-2.amazonaws.com:443"
        ]
    );
    // The profile's settings count as the variables do.
    let profile = TempFile::new("aws-config", "[default]\nuse_fips_endpoint = true\n");
    assert_eq!(
        chosen_hosts(&[("AWS_CONFIG_FILE", profile.path())]),
        [
            "secretsmanager-fips.eu-west-1.amazonaws.com:443",
            "secretsmanager-fips.us-east-2.amazonaws.com:443"
        ]
    );
}

/// The credential variables removed, and instance metadata turned back on.
fn without_other_credentials() -> Vec<&'static str> {
    let mut remove = OTHER_CREDENTIALS.to_vec();
    remove.push("AWS_EC2_METADATA_DISABLED");
    remove
}

/// Instance metadata as EC2 serves it with IMDSv2 required: a session token from
/// `PUT /latest/api/token`, refused (401) on any other request without it; then the
/// instance's role name and that role's credentials.
fn fake_imds(delay: Duration) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    const TOKEN: &str = "imds-session-token";
    let credentials = json!({
        "Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2026-01-01T00:00:00Z",
        "AccessKeyId": "AKIDFROMIMDS", "SecretAccessKey": "imds-secret", "Token": "imds-token",
        "Expiration": "2099-01-01T00:00:00Z",
    })
    .to_string();
    fake_service(delay, move |head, _| {
        let request: Vec<&str> = head.lines().next().unwrap_or("").split(' ').take(2).collect();
        let with_token = head.contains(&format!("\nx-aws-ec2-metadata-token: {TOKEN}"));
        match request[..] {
            ["PUT", "/latest/api/token"] if head.contains("\nx-aws-ec2-metadata-token-ttl-seconds:") => {
                let ttl = "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n".to_owned();
                (200, ttl, TOKEN.to_owned())
            }
            _ if !with_token => (401, String::new(), String::new()),
            ["GET", "/latest/meta-data/iam/security-credentials/"] => {
                (200, String::new(), "starfleet-worker".to_owned())
            }
            ["GET", "/latest/meta-data/iam/security-credentials/starfleet-worker"] => {
                (200, String::new(), credentials.clone())
            }
            _ => (404, String::new(), String::new()),
        }
    })
}

#[test]
fn imdsv2_credentials_slow_or_not_and_never_through_a_proxy() {
    let name = seeded("imds");
    let (_, refusing) = connect_proxy(json!({"refuse": 403}));
    // An HTTP proxy that refuses everything: instance metadata is reached directly all the
    // same (the README says why core never proxies it).
    let (base, seen) = fake_imds(Duration::ZERO);
    let (ok, stderr) = read(
        &name,
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &base), ("HTTP_PROXY", &refusing)],
        &without_other_credentials(),
    );
    assert!(ok, "{stderr}");
    let seen = requests(&seen);
    assert!(seen[0].starts_with("PUT /latest/api/token "), "{seen:?}");
    assert!(
        seen[1..]
            .iter()
            .all(|r| r.contains("\nx-aws-ec2-metadata-token: imds-session-token")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r.starts_with("GET /latest/meta-data/iam/security-credentials/starfleet-worker ")),
        "{seen:?}"
    );
    assert_eq!(signing_keys(&name), ["AKIDFROMIMDS"]);

    // Every answer 1.5 s late (token, role, credentials: 4.5 s, within the 10 s deadline):
    // waited for, not cut by the metadata client's own 1 s read timeout.
    let (slow, seen) = fake_imds(Duration::from_millis(1_500));
    let started = Instant::now();
    let (ok, stderr) = read(
        &name,
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &slow)],
        &without_other_credentials(),
    );
    assert!(
        ok,
        "a slow (1.5 s) instance metadata service is not a failure: {stderr}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(4_500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&seen).len(), 3, "no request was sent twice");
    assert_eq!(signing_keys(&name), ["AKIDFROMIMDS", "AKIDFROMIMDS"]);
}

/// Instance metadata at an address that black-holes connections (off EC2, 169.254.169.254
/// often answers nothing at all) is given up on at the metadata client's own connect timeout,
/// as boto3 gives up on it after 1 s: a worker with no other credentials gets `CREDENTIALS`
/// in seconds, not a `TIMEOUT` at the deadline (HTTPS calls have no connect timer, plain-HTTP
/// ones keep theirs: `hedge.rs`).
#[test]
fn black_holed_instance_metadata_is_a_credentials_error_before_the_deadline() {
    let name = seeded("imds-black-hole");
    let hole = black_hole("127.0.0.3:0".parse().unwrap());
    let address = hole.0.local_addr().unwrap();
    let started = Instant::now();
    let (ok, stderr) = read(
        &name,
        &[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &format!("http://{address}")),
            ("STARFLEET_SECRETS_TIMEOUT", "40"),
        ],
        &without_other_credentials(),
    );
    let took = started.elapsed();
    assert!(!ok && stderr.contains("CREDENTIALS"), "{stderr}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// The ARN of the console session `aws login` signed in to, as the profile names it.
const LOGIN_SESSION: &str = "arn:aws:iam::123456789012:user/Admin";

/// A home directory with a `login_session` profile and, when `expires_at` is given, the token
/// `aws login` caches for it (`~/.aws/login/cache/<sha256 of the session ARN>.json`, with a
/// fresh P-256 key for the DPoP proofs of a refresh); returns the home and the cache file.
fn login_home(expires_at: Option<&str>) -> (std::path::PathBuf, std::path::PathBuf) {
    let home = std::env::temp_dir().join(unique("login-home"));
    let cache = home.join(".aws/login/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        home.join("config"),
        format!("[default]\nlogin_session = {LOGIN_SESSION}\n"),
    )
    .unwrap();
    let sha256 = std::process::Command::new("sh")
        .args(["-c", &format!("printf %s '{LOGIN_SESSION}' | sha256sum")])
        .output()
        .unwrap();
    let file = cache.join(format!("{}.json", &String::from_utf8(sha256.stdout).unwrap()[..64]));
    if let Some(expires_at) = expires_at {
        let key = std::process::Command::new("openssl")
            .args(["ecparam", "-name", "prime256v1", "-genkey", "-noout"])
            .output()
            .unwrap();
        assert!(key.status.success());
        let token = json!({
            "accessToken": {
                "accessKeyId": "AKIDFROMLOGIN", "secretAccessKey": "login-secret",
                "sessionToken": "login-session-token", "accountId": "123456789012",
                "expiresAt": expires_at,
            },
            "tokenType": "aws_sigv4",
            "refreshToken": "refresh-token-1",
            "clientId": "arn:aws:signin:::devtools/same-device",
            "dpopKey": String::from_utf8(key.stdout).unwrap(),
        });
        std::fs::write(&file, token.to_string()).unwrap();
    }
    (home, file)
}

/// The worker reading `name` with the login profile of `home`, AWS Sign-In at `signin`.
fn read_with_login(name: &str, home: &std::path::Path, signin: &str) -> (bool, String) {
    let config = home.join("config");
    read(
        name,
        &[
            ("HOME", home.to_str().unwrap()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_ENDPOINT_URL_SIGNIN", signin),
        ],
        OTHER_CREDENTIALS,
    )
}

#[test]
fn login_session_profile_with_a_cached_and_a_refreshed_console_session() {
    let name = seeded("login");
    let refreshed = json!({
        "accessToken": {
            "accessKeyId": "AKIDREFRESHED", "secretAccessKey": "refreshed-secret",
            "sessionToken": "refreshed-session-token",
        },
        "tokenType": "aws_sigv4",
        "expiresIn": 900,
        "refreshToken": "refresh-token-2",
    })
    .to_string();
    let (signin, seen) = fake_service(Duration::ZERO, move |_, _| (200, String::new(), refreshed.clone()));

    // A session `aws login` cached and still valid: its credentials, no call to Sign-In.
    let (home, _) = login_home(Some("2099-01-01T00:00:00Z"));
    let (ok, stderr) = read_with_login(&name, &home, &signin);
    let _ = std::fs::remove_dir_all(&home);
    assert!(ok, "{stderr}");
    assert_eq!(signing_keys(&name), ["AKIDFROMLOGIN"]);
    assert!(requests(&seen).is_empty());

    // An expired one: refreshed through AWS Sign-In (its refresh token, a DPoP proof signed
    // with the cached key), and the new token written back to the cache as the CLI does.
    let (home, cache_file) = login_home(Some("2020-01-01T00:00:00Z"));
    let (ok, stderr) = read_with_login(&name, &home, &signin);
    let cached = std::fs::read_to_string(&cache_file).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&home);
    assert!(ok, "{stderr}");
    assert_eq!(signing_keys(&name), ["AKIDFROMLOGIN", "AKIDREFRESHED"]);
    let seen = requests(&seen);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("POST /v1/token "), "{seen:?}");
    assert!(seen[0].contains("\ndpop: "), "a DPoP proof: {seen:?}");
    assert!(seen[0].contains("refresh-token-1"), "{seen:?}");
    assert!(
        cached.contains("refresh-token-2") && cached.contains("AKIDREFRESHED"),
        "{cached}"
    );
}

#[test]
fn login_session_without_a_cached_session_is_a_credentials_error() {
    let name = seeded("login-missing");
    let (signin, seen) = fake_service(Duration::ZERO, |_, _| (500, String::new(), String::new()));
    let (home, _) = login_home(None);
    let started = Instant::now();
    let (ok, stderr) = read_with_login(&name, &home, &signin);
    let _ = std::fs::remove_dir_all(&home);
    assert!(!ok && stderr.contains("CREDENTIALS"), "{stderr}");
    assert!(stderr.contains("login"), "says which source failed: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(requests(&seen).is_empty());
    assert_eq!(block(get_count(&name)), 0);
}

#[test]
fn http_proxy_forwards_requests_to_a_plain_http_endpoint() {
    let name = seeded("http-proxy");
    // The plain-HTTP listener under a name only the proxy resolves.
    let port = var("STARFLEET_TEST_PROXY").rsplit(':').next().unwrap().to_owned();
    let private = format!("http://secretsmanager.harness.test:{port}");
    let endpoint = ("AWS_ENDPOINT_URL_SECRETS_MANAGER", private.as_str());
    let (ok, stderr) = read(&name, &[endpoint], &[]);
    assert!(
        !ok && stderr.contains("NETWORK"),
        "unreachable without the proxy: {stderr}"
    );

    let (id, url) = connect_proxy(json!({"auth": "dave:pw-forward"}));
    let with_auth = url.replace("http://", "http://dave:pw-forward@");
    for proxy_var in ["HTTP_PROXY", "http_proxy"] {
        let (ok, stderr) = read(&name, &[endpoint, (proxy_var, &with_auth)], &[]);
        assert!(ok, "{proxy_var}: {stderr}");
    }
    let stats = proxy_stats(id);
    assert_eq!(
        stats["forward_targets"][format!("secretsmanager.harness.test:{port}")],
        2,
        "{stats}"
    );
    assert_eq!(stats["tunnels"], 0, "{stats}");
    assert_eq!(block(get_count(&name)), 2);
    // HTTPS_PROXY is for https:// endpoints only, as in botocore.
    let (ok, stderr) = read(&name, &[endpoint, ("HTTPS_PROXY", &with_auth)], &[]);
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");
}

#[test]
fn an_https_proxy_url_is_verified_and_tunnels_tls_inside_tls() {
    let name = seeded("tls-proxy");
    let private = var("STARFLEET_TEST_PRIVATE_ENDPOINT");
    let (id, url) = connect_proxy(json!({"tls": true}));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let (ok, stderr) = read(
        &name,
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private), ("HTTPS_PROXY", &url)],
        &[],
    );
    assert!(ok, "{stderr}");
    let host = private.trim_start_matches("https://");
    assert_eq!(proxy_stats(id)["targets"][host], 1);

    // The proxy's own certificate is checked against the same roots.
    let (ok, stderr) = read(
        &name,
        &[
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &private),
            ("HTTPS_PROXY", &url),
            ("AWS_CA_BUNDLE", &var("STARFLEET_TEST_WRONG_CA")),
        ],
        &[],
    );
    assert!(!ok && stderr.contains("NETWORK"), "{stderr}");
    assert_eq!(proxy_stats(id)["tunnels"], 1, "no tunnel through an unverified proxy");

    // An https:// HTTP_PROXY for a plain-HTTP endpoint: TLS to the proxy, HTTP inside.
    let port = var("STARFLEET_TEST_PROXY").rsplit(':').next().unwrap().to_owned();
    let plain = format!("http://secretsmanager.harness.test:{port}");
    let (ok, stderr) = read(
        &name,
        &[("AWS_ENDPOINT_URL_SECRETS_MANAGER", &plain), ("HTTP_PROXY", &url)],
        &[],
    );
    assert!(ok, "{stderr}");
    assert_eq!(proxy_stats(id)["forwarded"], 1);
    assert_eq!(block(get_count(&name)), 2);
}
