//! Test support: the local Secrets Manager harness started by `scripts/with-harness`.
//!
//! `STARFLEET_TEST_MOTO` is the moto server (used directly to set secrets up) and
//! `STARFLEET_TEST_PROXY` the fault proxy in front of it, which the library talks to through
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER`. Faults and request counts are scoped to one secret id,
//! so tests run in parallel against one harness, each with its own secret.
#![allow(dead_code)]

use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::Client;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const REGION: &str = "us-east-2";

/// A variable `scripts/with-harness` sets.
pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the integration tests through `scripts/with-harness cargo test`")
    })
}

pub fn moto_url() -> String {
    var("STARFLEET_TEST_MOTO")
}

pub fn proxy_url() -> String {
    var("STARFLEET_TEST_PROXY")
}

/// A secret name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!(
        "{prefix}-{nanos}-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Run a test body on the library's runtime (where its SDK clients live).
pub fn run<T>(fut: impl std::future::Future<Output = T>) -> T {
    capture_logs();
    starfleet_secrets::runtime::get().unwrap().block_on(fut)
}

/// Options for the secret `name` in the test region.
pub fn opts(name: &str) -> starfleet_secrets::Options {
    starfleet_secrets::Options {
        secret_id: Some(name.into()),
        region: Some(REGION.into()),
        ..Default::default()
    }
}

/// Every log record emitted by the library in this test process, for the leak canary.
pub static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LOGS.lock()
            .unwrap()
            .push(format!("{} {} {}", record.level(), record.target(), record.args()));
    }
    fn flush(&self) {}
}

/// Install the capturing logger at trace level (once per test binary).
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// The `on_change` calls a manager made, as `(old, new)` VersionIds.
pub type Seen = std::sync::Arc<Mutex<Vec<(Option<String>, String)>>>;

/// Subscribe to `m`'s changes, recording each call (keep the subscription alive).
pub fn record(m: &starfleet_secrets::SecretsManager) -> (starfleet_secrets::Subscription, Seen) {
    let seen: Seen = Seen::default();
    let s = seen.clone();
    let sub = m.on_change(move |old, new| s.lock().unwrap().push((old.map(str::to_owned), new.to_owned())));
    (sub, seen)
}

/// A client straight to moto, for setting secrets up (not counted by the proxy).
pub async fn admin() -> Client {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        // moto itself is plain HTTP; the library's own client is what the tests exercise.
        .http_client(starfleet_secrets::transport::http_client(&|_: &str| None).unwrap())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(moto_url())
        .load()
        .await;
    Client::new(&conf)
}

/// Create a secret in [`REGION`] with a JSON string value, replicated to `replicas` (moto
/// keeps the replicas in sync, under the same name and the ARN with the region replaced, as
/// Secrets Manager does); returns its ARN.
pub async fn create_replicated(name: &str, value: &Value, replicas: &[&str]) -> String {
    let mut create = admin()
        .await
        .create_secret()
        .name(name)
        .secret_string(value.to_string());
    for region in replicas {
        create = create.add_replica_regions(
            aws_sdk_secretsmanager::types::ReplicaRegionType::builder()
                .region(*region)
                .build(),
        );
    }
    create.send().await.unwrap().arn.unwrap()
}

/// A black-holed address at `address`: a listener with a full accept queue (backlog 0, one
/// connection waiting), so the kernel drops every further SYN, as a black hole does. It lasts
/// as long as the returned sockets.
pub fn black_hole(address: std::net::SocketAddr) -> (std::net::TcpListener, std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind(address).unwrap();
    // SAFETY: a listening socket's own descriptor; listen() again only lowers its backlog.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let address = listener.local_addr().unwrap();
    let filler = std::net::TcpStream::connect(address).unwrap();
    let probe = std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(300));
    assert!(probe.is_err(), "the black hole at {address} answered");
    (listener, filler)
}

/// A fresh secret holding a Starfleet document (`STARFLEET.SlackToken`); returns its name.
pub fn seeded(prefix: &str) -> String {
    let name = unique(prefix);
    let document = json!({"STARFLEET": {"SlackToken": format!("xoxb-{prefix}")}});
    starfleet_secrets::runtime::get()
        .unwrap()
        .block_on(create_json(&name, &document));
    name
}

/// Create a secret with a JSON string value; returns its VersionId.
pub async fn create_json(name: &str, value: &Value) -> String {
    let out = admin()
        .await
        .create_secret()
        .name(name)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap();
    out.version_id.unwrap()
}

pub async fn create_text(name: &str, text: &str) -> String {
    let out = admin()
        .await
        .create_secret()
        .name(name)
        .secret_string(text)
        .send()
        .await
        .unwrap();
    out.version_id.unwrap()
}

pub async fn create_binary(name: &str, bytes: &[u8]) -> String {
    let out = admin()
        .await
        .create_secret()
        .name(name)
        .secret_binary(Blob::new(bytes))
        .send()
        .await
        .unwrap();
    out.version_id.unwrap()
}

/// Put a new AWSCURRENT version; returns its VersionId.
pub async fn put_json(name: &str, value: &Value) -> String {
    let out = admin()
        .await
        .put_secret_value()
        .secret_id(name)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap();
    out.version_id.unwrap()
}

/// A minimal HTTP/1.1 JSON request to the proxy's control API (keeps dev-deps to tokio).
pub async fn control(method: &str, path_and_query: &str, body: Option<Value>) -> Value {
    let url = proxy_url();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} /__harness/{path_and_query} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "control {path_and_query}: {head}"
    );
    serde_json::from_str(body).unwrap()
}

/// Add a fault rule for `secret` (see tests/harness/README.md for actions).
pub async fn fault(secret: &str, action: &str, times: i64, extra: Value) {
    let mut rule = json!({"secret_id": secret, "action": action, "times": times});
    rule.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    control("POST", "faults", Some(rule)).await;
}

pub async fn clear_faults(secret: &str) {
    control("DELETE", &format!("faults?secret_id={secret}"), None).await;
}

/// GetSecretValue calls the proxy has seen for `secret`.
pub async fn get_count(secret: &str) -> u64 {
    control("GET", &format!("counts?secret_id={secret}"), None).await["GetSecretValue"]
        .as_u64()
        .unwrap_or(0)
}

/// How long [`worker`] may run before it is killed and the test fails: far longer than any
/// case's deadline, so only a hang reaches it.
pub const WORKER_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The example worker (`cargo build --example worker`), run as its own process with a
/// chosen environment, within [`WORKER_LIMIT`].
pub fn worker(envs: &[(&str, &str)], remove: &[&str]) -> std::process::Output {
    worker_within(envs, remove, WORKER_LIMIT)
}

/// [`worker`], killed (and the test failed) if it has not ended within `limit`, so that a
/// hang fails the test rather than stopping the suite.
pub fn worker_within(envs: &[(&str, &str)], remove: &[&str], limit: std::time::Duration) -> std::process::Output {
    use std::process::Stdio;
    let examples = worker_path();
    let mut cmd = std::process::Command::new(&examples);
    for k in remove {
        cmd.env_remove(k);
    }
    cmd.envs(envs.iter().copied()).env_remove("STARFLEET_CONFIG");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", examples.display()));
    let pid = child.id() as libc::pid_t;
    // Waited for on a thread of its own, which drains both pipes as `output()` does.
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match wait.recv_timeout(limit) {
        Ok(out) => out.unwrap_or_else(|e| panic!("wait for {}: {e}", examples.display())),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid, which it keeps until it is reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the worker did not end within {limit:?}: {envs:?}");
        }
    }
}

/// A FIFO at `path` (a file whose open or read waits for a writer).
pub fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}

/// Where `cargo build --example worker` put the example worker.
pub fn worker_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join("worker")
}

/// What a host application hands over (`SecretsManager::use_config`): a loaded Starfleet
/// configuration naming secret `id` in [`REGION`].
pub fn host_config(id: &str) -> starfleet_secrets::ConfigSource {
    starfleet_secrets::ConfigSource::Loaded {
        name: "the host's configuration".into(),
        tree: json!({"STARFLEET": {"SlackEnabled": true, "SecretsManager": {"SecretId": id, "SecretRegion": REGION}}}),
    }
}

/// Two secrets, `{"v": "a"}` and `{"v": "b"}`, named after `prefix`: their names and VersionIds.
pub fn two_secrets(prefix: &str) -> ((String, String), (String, String)) {
    let (a, b) = (unique(&format!("{prefix}-a")), unique(&format!("{prefix}-b")));
    let (va, vb) = run(async {
        (
            create_json(&a, &json!({"v": "a"})).await,
            create_json(&b, &json!({"v": "b"})).await,
        )
    });
    ((a, va), (b, vb))
}
