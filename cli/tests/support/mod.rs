//! Test support: the built `starfleet-secrets` binary against the harness started by
//! `scripts/with-harness` (moto behind the fault proxy, tests/harness/README.md).
//!
//! Secrets are set up and inspected through the harness's `POST /__harness/call` (straight to
//! moto, neither counted nor faulted), so these tests need nothing but std and serde_json.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

pub const REGION: &str = "us-east-2";
pub const BIN: &str = env!("CARGO_BIN_EXE_starfleet-secrets");

/// Variables that would steer the tool from the outer environment; every run starts without:
/// the conformance vectors' managed variables (`tests/vectors/managed-env.json`) and colour.
fn managed() -> &'static [String] {
    static MANAGED: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    MANAGED.get_or_init(|| {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/managed-env.json");
        let table: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let mut vars: Vec<String> = table["variables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        vars.extend(["NO_COLOR".to_owned(), "CLICOLOR_FORCE".to_owned()]);
        vars
    })
}

pub fn proxy_url() -> String {
    std::env::var("STARFLEET_TEST_PROXY").unwrap_or_else(|_| {
        panic!(
            "STARFLEET_TEST_PROXY is not set: run through `scripts/with-harness cargo test -p starfleet-secrets-cli`"
        )
    })
}

/// A secret name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!(
        "cli-{prefix}-{nanos}-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A value that must never appear in the tool's output (except from `get`).
pub fn canary(tag: &str) -> String {
    format!("CANARY{}{}", tag, unique("v").replace('-', ""))
}

/// One HTTP/1.1 request to the harness control API; returns (status, JSON body).
pub fn control(method: &str, path_and_query: &str, body: Option<&Value>) -> (u16, Value) {
    let url = proxy_url();
    let host = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = TcpStream::connect(&host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} /__harness/{path_and_query} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// One Secrets Manager call straight to moto; returns (HTTP status, body).
pub fn call(operation: &str, params: Value) -> (u16, Value) {
    let (status, reply) = control(
        "POST",
        "call",
        Some(&json!({"operation": operation, "region": REGION, "params": params})),
    );
    assert_eq!(status, 200, "control call {operation}: {reply}");
    (reply["status"].as_u64().unwrap() as u16, reply["body"].clone())
}

/// A call that must succeed.
pub fn ok(operation: &str, params: Value) -> Value {
    let (status, body) = call(operation, params);
    assert_eq!(status, 200, "{operation}: {body}");
    body
}

/// Create a secret holding `doc` as JSON text; returns its VersionId.
pub fn create(name: &str, doc: &Value) -> String {
    create_text(name, &doc.to_string())
}

pub fn create_text(name: &str, text: &str) -> String {
    ok("CreateSecret", json!({"Name": name, "SecretString": text}))["VersionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A rotation-style update, as a rotation Lambda makes it: PutSecretValue as AWSPENDING,
/// then move AWSCURRENT onto it (AWSPREVIOUS follows). Returns the new VersionId.
pub fn rotate(name: &str, doc: &Value) -> String {
    let current = current_version(name);
    let new = ok(
        "PutSecretValue",
        json!({"SecretId": name, "SecretString": doc.to_string(), "VersionStages": ["AWSPENDING"]}),
    )["VersionId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        "UpdateSecretVersionStage",
        json!({"SecretId": name, "VersionStage": "AWSCURRENT", "MoveToVersionId": new, "RemoveFromVersionId": current}),
    );
    ok(
        "UpdateSecretVersionStage",
        json!({"SecretId": name, "VersionStage": "AWSPENDING", "RemoveFromVersionId": new}),
    );
    new
}

/// VersionId -> staging labels.
pub fn stages(name: &str) -> HashMap<String, Vec<String>> {
    let d = ok("DescribeSecret", json!({"SecretId": name}));
    serde_json::from_value(d["VersionIdsToStages"].clone()).unwrap_or_default()
}

pub fn current_version(name: &str) -> String {
    stages(name)
        .into_iter()
        .find(|(_, s)| s.iter().any(|x| x == "AWSCURRENT"))
        .map(|(v, _)| v)
        .expect("a version labelled AWSCURRENT")
}

/// The document labelled `stage`.
pub fn document(name: &str, stage: &str) -> Value {
    let out = ok("GetSecretValue", json!({"SecretId": name, "VersionStage": stage}));
    serde_json::from_str(out["SecretString"].as_str().unwrap()).unwrap()
}

pub fn fault(secret: &str, operation: &str, action: &str, times: i64, extra: Value) {
    let mut rule = json!({"secret_id": secret, "operation": operation, "action": action, "times": times});
    rule.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, body) = control("POST", "faults", Some(&rule));
    assert_eq!(status, 200, "{body}");
}

pub fn clear_faults(secret: &str) {
    control("DELETE", &format!("faults?secret_id={secret}"), None);
}

/// Requests the proxy has seen for `secret` with `operation`.
pub fn count(secret: &str, operation: &str) -> u64 {
    control("GET", &format!("counts?secret_id={secret}"), None).1[operation]
        .as_u64()
        .unwrap_or(0)
}

pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one run of the tool did.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn of(out: Output) -> Run {
        Run {
            status: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// Assert success and return stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.status, 0, "expected success: {self:?}");
        &self.stdout
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Assert no canary in stdout or stderr.
    pub fn clean_of(&self, canaries: &[&str]) -> &Run {
        for c in canaries {
            assert!(
                !self.stdout.contains(c) && !self.stderr.contains(c),
                "a secret value leaked into the output: {self:?}"
            );
        }
        self
    }
}

/// A run of the tool being prepared: arguments, extra environment, stdin.
pub struct Cli {
    command: Command,
    stdin: Option<Vec<u8>>,
}

pub fn cli(args: &[&str]) -> Cli {
    let mut command = Command::new(BIN);
    command.args(args);
    for var in managed() {
        command.env_remove(var);
    }
    Cli { command, stdin: None }
}

/// The tool on secret `name` in the test region.
pub fn on(name: &str, args: &[&str]) -> Cli {
    let mut all = vec!["--secret-id", name, "--region", REGION];
    all.extend_from_slice(args);
    cli(&all)
}

impl Cli {
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Cli {
        self.command.env(key, value);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cli {
        self.stdin = Some(bytes.into());
        self
    }

    /// Spawn with `stdin` as standard input (a terminal, or a pipe the test writes to).
    pub fn spawn_with_stdin(mut self, stdin: impl Into<Stdio>) -> Child {
        self.command.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
        self.command.spawn().unwrap()
    }

    pub fn spawn(mut self) -> Child {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().unwrap();
        if let Some(bytes) = self.stdin.take() {
            // The tool may stop reading early (an input over its limit): a closed pipe is fine.
            match child.stdin.take().unwrap().write_all(&bytes) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
                _ => {}
            }
        }
        child
    }

    /// Run under resource limits (`setrlimit` in the child: e.g. `RLIMIT_AS`), so a run that
    /// would exhaust the machine fails instead; returns the run and its peak RSS in KiB.
    // The child is reaped by wait4 (which also gives its rusage), not Child::wait.
    #[allow(clippy::zombie_processes)]
    pub fn run_limited(mut self, limits: &[(libc::__rlimit_resource_t, u64)]) -> (Run, u64) {
        use std::os::unix::process::CommandExt;
        let limits = limits.to_vec();
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            self.command.pre_exec(move || {
                for (resource, value) in &limits {
                    let limit = libc::rlimit {
                        rlim_cur: *value,
                        rlim_max: *value,
                    };
                    if libc::setrlimit(*resource, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child = self.spawn();
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                pipe.read_to_end(&mut text).unwrap();
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = child.id() as libc::pid_t;
        assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
        let run = Run {
            status: if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -libc::WTERMSIG(status)
            },
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        };
        (run, usage.ru_maxrss as u64)
    }

    pub fn run(self) -> Run {
        let started = Instant::now();
        let child = self.spawn();
        let run = Run::of(child.wait_with_output().unwrap());
        assert!(started.elapsed() < Duration::from_secs(60), "a run took too long");
        run
    }
}

pub fn wait(child: Child) -> Run {
    Run::of(child.wait_with_output().unwrap())
}
