//! The cross-language conformance vectors (`tests/vectors/`, format in its README), run
//! through the Rust API against the harness. The Python, Node and Go suites run the same files.

mod support;

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Map, Value};
use starfleet_secrets::{Code, ConfigSource, Error, Options, Path, SecretsManager, Ttl};
use support::*;

/// Vectors change the process environment; the two tests must not interleave.
static ENV_LOCK: Mutex<()> = Mutex::new(());

/// The managed variables (`tests/vectors/managed-env.json`), unset before every vector.
fn managed_env() -> Vec<String> {
    let text = std::fs::read_to_string(vectors_dir().join("managed-env.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn vectors_dir() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// Every vector file under the given groups, as (id, vector), in a stable order.
fn load(groups: &[&str]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for group in groups {
        let dir = vectors_dir().join(group);
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
            let id = format!("{group}/{}", f.file_stem().unwrap().to_string_lossy());
            out.push((id, serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap()));
        }
    }
    out
}

fn run<T>(fut: impl std::future::Future<Output = T>) -> T {
    starfleet_secrets::runtime::get().unwrap().block_on(fut)
}

/// One moto call through the harness control API.
fn call(operation: &str, params: Value) -> Value {
    call_in(REGION, operation, params)
}

/// One moto call in `region` through the harness control API.
fn call_in(region: &str, operation: &str, params: Value) -> Value {
    let reply = run(control(
        "POST",
        "call",
        Some(json!({"operation": operation, "region": region, "params": params})),
    ));
    assert_eq!(reply["status"], 200, "{operation}: {reply}");
    reply["body"].clone()
}

/// A secret spec's payload: `SecretString` or `SecretBinary`.
fn payload(v: &Value) -> Map<String, Value> {
    let mut p = Map::new();
    if let Some(j) = v.get("json") {
        p.insert("SecretString".into(), Value::String(j.to_string()));
    } else if let Some(s) = v.get("string") {
        p.insert("SecretString".into(), s.clone());
    } else if let Some(b) = v.get("binary_base64") {
        p.insert("SecretBinary".into(), b.clone());
    }
    p
}

/// `PutSecretValue` of one version spec (stages default to AWSCURRENT); its VersionId.
fn put_version(version: &Value, name: &str) -> String {
    let mut params = payload(version);
    params.insert("SecretId".into(), json!(name));
    params.insert(
        "VersionStages".into(),
        version.get("stages").cloned().unwrap_or(json!(["AWSCURRENT"])),
    );
    call("PutSecretValue", Value::Object(params))["VersionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Create the vector's secret (replicated to its `regions`); returns the VersionIds in order
/// and the ARN.
fn create_secret(spec: &Value, name: &str) -> (Vec<String>, String) {
    let versions: Vec<Value> = match spec.get("versions") {
        Some(Value::Array(v)) => v.clone(),
        _ => vec![spec.clone()],
    };
    let mut params = payload(&versions[0]);
    params.insert("Name".into(), json!(name));
    if let Some(Value::Array(regions)) = spec.get("regions") {
        let replicas = regions.iter().map(|r| json!({"Region": r})).collect();
        params.insert("AddReplicaRegions".into(), Value::Array(replicas));
    }
    let created = call("CreateSecret", Value::Object(params));
    let first = created["VersionId"].as_str().unwrap().to_owned();
    // Lagging replicas: a copy of the first version (same name, same VersionId) that later
    // versions never reach.
    if let Some(Value::Array(regions)) = spec.get("lagging_regions") {
        for region in regions {
            let mut copy = payload(&versions[0]);
            copy.insert("Name".into(), json!(name));
            copy.insert("ClientRequestToken".into(), json!(first));
            call_in(region.as_str().unwrap(), "CreateSecret", Value::Object(copy));
        }
    }
    let mut ids = vec![first];
    ids.extend(versions[1..].iter().map(|v| put_version(v, name)));
    (ids, created["ARN"].as_str().unwrap().to_owned())
}

/// Replace `$secret`, `$arn`, `$version:N`, `$closed_endpoint`, `$mounted` in every string of `v`.
fn substitute(v: &Value, vars: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => {
            let mut s = s.clone();
            for (k, val) in vars {
                s = s.replace(k, val);
            }
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, vars)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), substitute(x, vars))).collect()),
        other => other.clone(),
    }
}

/// Sets the vector's environment; puts the previous one back when dropped.
struct EnvGuard(Vec<(String, Option<String>)>);

impl EnvGuard {
    fn set(env: Option<&Value>) -> EnvGuard {
        let managed = managed_env();
        let mut keys = managed.clone();
        if let Some(Value::Object(e)) = env {
            keys.extend(e.keys().cloned());
        }
        let saved = keys.iter().map(|k| (k.clone(), std::env::var(k).ok())).collect();
        for k in &managed {
            std::env::remove_var(k);
        }
        if let Some(Value::Object(e)) = env {
            for (k, v) in e {
                match v.as_str() {
                    Some(v) => std::env::set_var(k, v),
                    None => std::env::remove_var(k),
                }
            }
        }
        EnvGuard(saved)
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (k, v) in &self.0 {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
}

/// Write the vector's config, returning its path.
fn write_config(config: &Value, dir: &FsPath) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    if let Some(text) = config.get("file").and_then(Value::as_str) {
        let file = dir.join("starfleet.yaml");
        std::fs::write(&file, text).unwrap();
        return file;
    }
    if let Some(Value::Object(files)) = config.get("files") {
        let sub = dir.join("config.d");
        std::fs::create_dir_all(&sub).unwrap();
        for (name, text) in files {
            std::fs::write(sub.join(name), text.as_str().unwrap()).unwrap();
        }
        return sub;
    }
    dir.join("does-not-exist.yaml")
}

/// Write the vector's `mounted` files (names may hold `/`) into `dir`, which `$mounted` names.
fn write_mounted(files: &Map<String, Value>, dir: &FsPath) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        let file = dir.join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text.as_str().unwrap()).unwrap();
    }
}

fn seconds(v: &Value) -> Duration {
    Duration::from_secs_f64(v.as_f64().unwrap())
}

fn options(args: Option<&Value>, config: Option<PathBuf>) -> Options {
    let text = |k: &str| args.and_then(|a| a.get(k)).and_then(Value::as_str).map(str::to_owned);
    let arg = |k: &str| args.and_then(|a| a.get(k));
    Options {
        secret_id: text("secret_id"),
        region: text("region"),
        config: config.map(ConfigSource::Path),
        ttl: arg("ttl").map(|t| match t.as_str() {
            Some(s) => Ttl::parse(s).unwrap(),
            None => Ttl::from_secs_f64(t.as_f64().unwrap()).unwrap(),
        }),
        version_stage: text("version_stage"),
        version_id: text("version_id"),
        max_stale: arg("max_stale").map(seconds),
        timeout: arg("timeout").map(seconds),
        endpoint_url: text("endpoint_url"),
        refresh_ahead: arg("refresh_ahead").and_then(Value::as_f64),
        expiry_jitter: arg("expiry_jitter").and_then(Value::as_f64),
        fallback_regions: arg("fallback_regions").map(|regions| {
            let regions = regions.as_array().unwrap().iter();
            regions.map(|r| r.as_str().unwrap().to_owned()).collect()
        }),
        source: text("source"),
        zeroize_before_snapshot: arg("zeroize_before_snapshot").and_then(Value::as_bool),
    }
}

fn path_of(read: &Value) -> Result<Path, Error> {
    match &read["path"] {
        Value::String(s) => Path::parse_dotted(s),
        Value::Array(keys) => Path::from_keys(keys.iter().map(|k| k.as_str().unwrap().to_owned())),
        other => panic!("bad path {other}"),
    }
}

/// One read through the public API, as JSON.
fn read(m: &SecretsManager, read: &Value) -> Result<Value, Error> {
    match read["as"].as_str().unwrap() {
        "string" => {
            let path = path_of(read)?;
            Ok(Value::String(m.secret_blocking()?.get_str(&path)?.to_owned()))
        }
        "json" => {
            let path = path_of(read)?;
            Ok(m.secret_blocking()?.get(&path)?.clone())
        }
        "document" => Ok(Value::Object(m.secret_blocking()?.document()?.root().clone())),
        "binary" => {
            let bytes = base64::engine::general_purpose::STANDARD.encode(m.secret_blocking()?.binary()?);
            Ok(json!({ "base64": bytes }))
        }
        other => panic!("unknown read kind {other}"),
    }
}

fn check(expect: &Value, got: &Result<Value, Error>) -> Result<(), String> {
    match (expect.get("value"), got) {
        (Some(want), Ok(v)) if want == v => Ok(()),
        (Some(_), Ok(_)) => Err("wrong value".into()),
        (Some(_), Err(e)) => Err(format!("expected a value, got {e}")),
        (None, Ok(_)) => Err(format!("expected {}, got a value", expect["error"])),
        (None, Err(e)) => {
            let want = Code::from_str_code(expect["error"].as_str().unwrap()).unwrap();
            if e.code() != want {
                return Err(format!("expected {want}, got {e}"));
            }
            for part in expect
                .get("message_contains")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !e.message().contains(part.as_str().unwrap()) {
                    return Err(format!("message lacks {part}: {e}"));
                }
            }
            for part in expect
                .get("message_excludes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if e.message().contains(part.as_str().unwrap()) {
                    return Err(format!("message contains {part}: {e}"));
                }
            }
            Ok(())
        }
    }
}

/// Secret, placeholders, config and environment for one vector; returns what the steps need.
struct Prepared {
    name: String,
    /// The secret's VersionIds in order (`$version:N`); `put_secret_value` steps add to it.
    versions: Vec<String>,
    vector: Value,
    options: Options,
    _env: EnvGuard,
}

fn prepare(id: &str, raw: &Value, scratch: &FsPath) -> Prepared {
    let name = unique(&format!("vec-{}", id.replace('/', "-")));
    let mut vars = HashMap::from([("$secret".to_owned(), name.clone())]);
    let (versions, arn) = raw
        .get("secret")
        .map_or_else(Default::default, |spec| create_secret(spec, &name));
    for (i, v) in versions.iter().enumerate() {
        vars.insert(format!("$version:{i}"), v.clone());
    }
    vars.insert("$arn".into(), arn);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    vars.insert(
        "$closed_endpoint".into(),
        format!("http://{}", closed.local_addr().unwrap()),
    );
    drop(closed);
    let mounted = scratch.join(id).join("mounted");
    vars.insert("$mounted".into(), mounted.to_string_lossy().into_owned());
    let vector = substitute(raw, &vars);
    if let Some(Value::Object(files)) = vector.get("mounted") {
        write_mounted(files, &mounted);
    }
    let config = vector.get("config").map(|c| write_config(c, &scratch.join(id)));
    let via_env = vector.get("config_via").and_then(Value::as_str) == Some("env");
    let mut env = vector.get("env").cloned().unwrap_or(json!({}));
    let config = match (config, via_env) {
        (Some(path), true) => {
            env["STARFLEET_CONFIG"] = json!(path.to_string_lossy());
            None
        }
        (config, _) => config,
    };
    let guard = EnvGuard::set(Some(&env));
    let options = options(vector.get("args"), config);
    Prepared {
        name,
        versions,
        vector,
        options,
        _env: guard,
    }
}

fn scratch() -> PathBuf {
    std::env::temp_dir().join(unique("starfleet-vectors"))
}

#[test]
fn read_vectors() {
    let _lock = ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let vectors = load(&["config", "precedence", "documents", "paths", "stages", "mounted"]);
    assert!(vectors.len() >= 60, "only {} read vectors", vectors.len());
    let scratch = scratch();
    let mut failures = Vec::new();
    for (id, raw) in &vectors {
        let p = prepare(id, raw, &scratch);
        let manager = SecretsManager::new(p.options.clone());
        let got = read(&manager, &p.vector["read"]);
        if let Err(why) = check(&p.vector["expect"], &got) {
            failures.push(format!("{id}: {why}"));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "conformance: {} passed, {} failed",
        vectors.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

/// A `changes` step's `$version:N` (or null) as the VersionId it names, now that the steps
/// before it may have put versions.
fn version_ref(v: &Value, versions: &[String]) -> Option<String> {
    let text = v.as_str()?;
    Some(
        match text.strip_prefix("$version:").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => versions.get(n).cloned().unwrap_or_else(|| text.to_owned()),
            None => text.to_owned(),
        },
    )
}

type Changes = std::sync::Arc<Mutex<Vec<(Option<String>, String)>>>;

/// Wait (up to 3 s: some languages deliver on another thread) until `seen` has as many
/// changes as `want`, then compare.
fn check_changes(want: &Value, seen: &Changes, versions: &[String]) -> Result<(), String> {
    let want: Vec<(Option<String>, String)> = want
        .as_array()
        .ok_or("changes is not a list")?
        .iter()
        .map(|pair| {
            (
                version_ref(&pair[0], versions),
                version_ref(&pair[1], versions).unwrap_or_default(),
            )
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    while seen.lock().unwrap().len() < want.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let seen = seen.lock().unwrap().clone();
    if seen == want {
        Ok(())
    } else {
        Err(format!("changes: want {want:?}, have {seen:?}"))
    }
}

fn run_steps(p: &mut Prepared) -> Result<(), String> {
    let mut manager = SecretsManager::new(p.options.clone());
    let changes = Changes::default();
    let seen = changes.clone();
    let _subscription =
        manager.on_change(move |old, new| seen.lock().unwrap().push((old.map(str::to_owned), new.to_owned())));
    for (i, step) in p.vector["steps"].as_array().unwrap().iter().enumerate() {
        let at = |why: String| format!("step {i}: {why}");
        if let Some(fault) = step.get("fault") {
            let mut rule = fault.clone();
            if rule.get("secret_id").is_none() {
                rule["secret_id"] = json!(p.name);
            }
            run(control("POST", "faults", Some(rule)));
        } else if let Some(ms) = step.get("sleep_ms") {
            std::thread::sleep(Duration::from_millis(ms.as_u64().unwrap()));
        } else if let Some(version) = step.get("put_secret_value") {
            p.versions.push(put_version(version, &p.name));
        } else if let Some(args) = step.get("configure") {
            // What a binding's configure() does: the same subscribers, a new manager.
            manager = manager.reconfigure(options(Some(args), None));
        } else if let Some(want) = step.get("changes") {
            check_changes(want, &changes, &p.versions).map_err(at)?;
        } else if step.get("delete_secret").is_some() {
            call(
                "DeleteSecret",
                json!({"SecretId": p.name, "ForceDeleteWithoutRecovery": true}),
            );
        } else if let Some(r) = step.get("read") {
            let started = Instant::now();
            let got = read(&manager, r);
            let elapsed = started.elapsed();
            check(&step["expect"], &got).map_err(at)?;
            if let Some(limit) = step.get("within_ms").and_then(Value::as_u64) {
                if elapsed > Duration::from_millis(limit) {
                    return Err(at(format!("took {elapsed:?}, bound {limit} ms")));
                }
            }
        } else if let Some(Value::Object(want)) = step.get("stats") {
            let stats = manager.stats().to_json();
            for (key, value) in want {
                let (name, at_least) = match key.strip_suffix("_min") {
                    Some(n) => (n, true),
                    None => (key.as_str(), false),
                };
                let have = &stats[name];
                let ok = if at_least {
                    have.as_u64() >= value.as_u64()
                } else {
                    have == value
                };
                if !ok {
                    return Err(at(format!("stats {key}: want {value}, have {have}")));
                }
            }
        } else {
            return Err(at(format!("unknown step {step}")));
        }
    }
    Ok(())
}

#[test]
fn fault_vectors() {
    let _lock = ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    capture_logs();
    let vectors = load(&["faults"]);
    let scratch = scratch();
    let mut failures = Vec::new();
    for (id, raw) in &vectors {
        let mut p = prepare(id, raw, &scratch);
        let started = Instant::now();
        let outcome = run_steps(&mut p);
        run(clear_faults(&p.name));
        if let Err(why) = outcome {
            failures.push(format!("{id}: {why}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{id} took {:?}",
            started.elapsed()
        );
    }
    println!(
        "fault matrix: {} passed, {} failed",
        vectors.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} fault vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn the_managed_variables_include_every_one_the_core_reads() {
    use starfleet_secrets::settings::*;
    let managed = managed_env();
    for var in [
        ENV_SECRET_ID,
        ENV_SECRET_REGION,
        ENV_CONFIG,
        ENV_TTL,
        ENV_MAX_STALE,
        ENV_TIMEOUT,
        ENV_SOURCE,
    ] {
        assert!(
            managed.iter().any(|m| m == var),
            "{var} missing from tests/vectors/managed-env.json"
        );
    }
}
