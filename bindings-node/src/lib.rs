//! Node.js binding of starfleet-secrets (napi-rs).
//!
//! This crate is the native half of the npm package `starfleet-secrets`: functions on an opaque
//! manager handle. The public API is the JS facade in `index.js`, which adds
//! `StarfleetSecretsError`, the `SECRETS_MANAGER` singleton, argument checks and the object
//! identity of `secrets()`. The binding only converts: every rule (location precedence, TTL,
//! key paths, error codes, redaction) is core's.
//!
//! Threading: accesses that can wait run on core's tokio runtime and settle a Promise when they
//! finish (see [`promise`]); the JS thread never blocks on I/O. The synchronous functions
//! (`cachedSecrets`, `lookup`, `lookupString`, `invalidate`, `stats`) only read the cache.
//! `onChange` callbacks are queued to the JS thread ([`on_change`]).

mod convert;
mod error;
pub mod on_change;
mod options;
mod promise;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, External, Object};
use napi::Env;
use napi_derive::napi;
use serde_json::json;
use starfleet_secrets::options::Naming;
use starfleet_secrets::{Code, Document, Error, Options, OverrideToken, Path, Payload, Secret, SecretsManager};
use zeroize::Zeroizing;

use convert::{Out, Seen};
use error::{shield, to_js};
pub use options::{ConfigText, HostConfig};
use promise::{dispatch, Answer};

/// The addon's own (Rust) allocations go through core's zeroing allocator: off (one
/// atomic load per free) unless a manager resolves `zeroize_before_snapshot`, then every block
/// the library frees is zeroed, so a snapshot holds no plaintext copy a fetch left behind.
#[global_allocator]
static ALLOCATOR: starfleet_secrets::zeroing::ZeroingAlloc = starfleet_secrets::zeroing::ZeroingAlloc;

/// Which payload an access wants.
#[derive(Clone)]
enum Want {
    Document,
    /// The document, with a value at this key path (core's lookup decides: KEY_NOT_FOUND
    /// naming the key that failed, SECRET_FORMAT through a non-object).
    At(Arc<Path>),
    Binary,
    Either,
}

impl Want {
    fn check(&self, secret: &Secret) -> Result<(), Error> {
        match self {
            Want::Document => secret.document().map(|_| ()),
            Want::At(path) => secret.get(path).map(|_| ()),
            Want::Binary => secret.binary().map(|_| ()),
            Want::Either => Ok(()),
        }
    }

    fn document_or_at(path: Option<&KeyPath>) -> Want {
        match path {
            Some(p) => Want::At(Arc::clone(p)),
            None => Want::Document,
        }
    }
}

/// A key path parsed by core, held by the JS side so a repeated access does not parse again.
type KeyPath = External<Arc<Path>>;

/// One core `SecretsManager` (one secret, one cache) and what the JS side was handed from it.
///
/// JS holds it as an opaque external handle (freed when the facade object is collected) and
/// passes it to the functions below. Plain functions on a handle, rather than a class, keep the
/// per-call cost of the hot path (`cachedSecrets`, `secrets`) low: napi-rs checks an external's
/// type with less work than it unwraps a class instance.
pub struct Manager {
    core: Arc<SecretsManager>,
    seen: Arc<Seen>,
    /// Set once an access has succeeded, so settings are resolved: from then on an access can
    /// be polled on the JS thread without any chance of reading configuration files.
    warm: Arc<AtomicBool>,
}

type Handle = External<Manager>;

/// A manager for the secret `options` point at. Nothing is resolved or fetched yet; a
/// malformed option (a negative ttl, an unknown TTL spelling) is INVALID_ARGUMENT.
#[napi(ts_return_type = "ManagerHandle", ts_args_type = "options?: Record<string, unknown>")]
pub fn create(options: Option<Object<'_>>) -> napi::Result<Handle, &'static str> {
    shield(|| {
        starfleet_secrets::stderr_log::init_from_env();
        Ok(handle(SecretsManager::new(core_options(options)?)))
    })
}

/// The manager that replaces `from` on `configure()`: core's `reconfigure` decides what
/// survives (the `pin()`s in force, the `onChange` callbacks); the cache starts empty.
#[napi(
    ts_return_type = "ManagerHandle",
    ts_args_type = "from: ManagerHandle, options?: Record<string, unknown>"
)]
pub fn reconfigure(from: &Handle, options: Option<Object<'_>>) -> napi::Result<Handle, &'static str> {
    shield(|| Ok(handle(from.core.reconfigure(core_options(options)?))))
}

fn core_options(options: Option<Object<'_>>) -> napi::Result<Options, &'static str> {
    options::from_js(options).map_err(to_js)
}

fn handle(core: SecretsManager) -> Handle {
    External::new(Manager {
        core: Arc::new(core),
        seen: Arc::default(),
        warm: Arc::default(),
    })
}

/// `[generation, document]` from the cache or a fetch; just `generation` when the caller
/// already holds the document of generation `known`. A value when the cache answers at once,
/// else a Promise. With `path`, it fails unless core finds a value there (the JS side then
/// reads it from the document by the path's keys).
#[napi(
    ts_return_type = "number | [generation: number, payload: Record<string, unknown> | Buffer] | Promise<number | [generation: number, payload: Record<string, unknown> | Buffer]>",
    ts_args_type = "manager: ManagerHandle, known: number, path?: KeyPathHandle"
)]
pub fn secrets(env: &Env, manager: &Handle, known: u32, path: Option<&KeyPath>) -> napi::Result<Answer, &'static str> {
    versioned(env, manager, known, Want::document_or_at(path), false)
}

/// As `secrets`, for a SecretBinary: the payload is a Buffer.
#[napi(
    ts_return_type = "number | [generation: number, payload: Record<string, unknown> | Buffer] | Promise<number | [generation: number, payload: Record<string, unknown> | Buffer]>",
    ts_args_type = "manager: ManagerHandle, known: number"
)]
pub fn binary(env: &Env, manager: &Handle, known: u32) -> napi::Result<Answer, &'static str> {
    versioned(env, manager, known, Want::Binary, false)
}

/// Fetch now, whatever the cache holds; settles like `secrets` (or `binary`). Always a
/// Promise.
#[napi(
    ts_return_type = "Promise<number | [generation: number, payload: Record<string, unknown> | Buffer]>",
    ts_args_type = "manager: ManagerHandle, known: number"
)]
pub fn refresh(env: &Env, manager: &Handle, known: u32) -> napi::Result<Answer, &'static str> {
    versioned(env, manager, known, Want::Either, true)
}

/// The whole cached document as `secrets` answers it (with `path`, as `secrets` does), or
/// `undefined` when nothing fresh is cached. Never fetches.
#[napi(
    ts_return_type = "number | [generation: number, payload: Record<string, unknown> | Buffer] | undefined",
    ts_args_type = "manager: ManagerHandle, known: number, path?: KeyPathHandle"
)]
pub fn cached_secrets(manager: &Handle, known: u32, path: Option<&KeyPath>) -> napi::Result<Out, &'static str> {
    shield(|| match manager.core.cached() {
        None => Ok(Out::Nothing),
        Some(secret) => {
            match path {
                Some(path) => secret.get(path).map(drop),
                None => secret.document().map(drop),
            }
            .map_err(to_js)?;
            Ok(Out::Versioned {
                secret,
                known,
                seen: manager.seen.clone(),
            })
        }
    })
}

/// What an access would get right now without waiting (pinned, or cached and fresh), as
/// `secrets` (or `binary`) answers it, counted as a hit; `undefined`, counted as nothing,
/// otherwise. The facade asks this first when the configuration comes from the host, so
/// the host's configuration is consulted for loads only. Never does I/O.
#[napi(
    ts_return_type = "number | [generation: number, payload: Record<string, unknown> | Buffer] | undefined",
    ts_args_type = "manager: ManagerHandle, known: number, binary: boolean, path?: KeyPathHandle"
)]
pub fn hit(manager: &Handle, known: u32, binary: bool, path: Option<&KeyPath>) -> napi::Result<Out, &'static str> {
    shield(|| match manager.core.try_hit() {
        None => Ok(Out::Nothing),
        Some(secret) => {
            let want = if binary {
                Want::Binary
            } else {
                Want::document_or_at(path)
            };
            want.check(&secret).map_err(to_js)?;
            Ok(Out::Versioned {
                secret,
                known,
                seen: manager.seen.clone(),
            })
        }
    })
}

/// Hand core the host's configuration as it is now (before a load): core resolves the
/// settings again and, if they changed, forgets the cached value. Returns whether they did.
/// Reads files when the configuration is a path (a function's answer): called only on loads.
#[napi(ts_args_type = "manager: ManagerHandle, config: HostConfig")]
pub fn use_config(manager: &Handle, config: HostConfig) -> napi::Result<bool, &'static str> {
    shield(|| {
        let source = config.into_core().map_err(to_js)?;
        manager.core.use_config(source).map_err(to_js)
    })
}

/// For `getString`: the string at a key path in the secret last handed to JS, else core's
/// `get_str` error (SECRET_FORMAT naming the key path and what is there instead, never the
/// value).
#[napi(
    ts_return_type = "string",
    ts_args_type = "manager: ManagerHandle, path: KeyPathHandle"
)]
pub fn lookup_string(manager: &Handle, path: &KeyPath) -> napi::Result<Out, &'static str> {
    shield(|| {
        let secret = last_seen(manager)?;
        secret.get_str(path).map_err(to_js)?;
        Ok(Out::Value(secret, Path::clone(path)))
    })
}

/// The secret last handed to JS, else the cached one.
fn last_seen(manager: &Manager) -> napi::Result<Arc<Secret>, &'static str> {
    manager
        .seen
        .secret()
        .or_else(|| manager.core.cached())
        .ok_or_else(|| to_js(Error::new(Code::Internal, "no cached value to look the key path up in")))
}

/// Forget the cached value and any failure backoff.
#[napi(ts_args_type = "manager: ManagerHandle")]
pub fn invalidate(manager: &Handle) {
    manager.core.invalidate();
}

/// Before a snapshot (core's `before_snapshot`: pooled connections dropped; with
/// `zeroizeBeforeSnapshot` the cached value wiped). Returns whether the value last handed to
/// JS is no longer core's, so `index.js` drops its object too.
#[napi(ts_args_type = "manager: ManagerHandle")]
pub fn before_snapshot(manager: &Handle) -> bool {
    manager.core.before_snapshot();
    !manager.seen.secret().is_some_and(|s| manager.core.holds(&s))
}

/// After a restore from a snapshot (core's `after_restore`: new jitter share, connections
/// and credentials; every cached value due). Every read asks core, so nothing else changes.
#[napi(ts_args_type = "manager: ManagerHandle")]
pub fn after_restore(manager: &Handle) {
    manager.core.after_restore();
}

/// Counters and cache state: core's `Stats::to_json`, passed through (typed as `Stats` in
/// `index.d.ts`, which `core/tests/stats_described.rs` checks against core's list).
#[napi(
    ts_return_type = "Record<string, number | string | null>",
    ts_args_type = "manager: ManagerHandle"
)]
pub fn stats(manager: &Handle) -> Out {
    Out::Json(manager.core.stats().to_json())
}

/// Where the secret is and how it is cached, for `util.inspect` and `JSON.stringify` (names
/// and settings only, never a value): once resolved, every setting as core names it.
#[napi(ts_return_type = "Record<string, unknown>", ts_args_type = "manager: ManagerHandle")]
pub fn describe(manager: &Handle) -> Out {
    let core = &manager.core;
    let resolved = manager
        .warm
        .load(Ordering::Acquire)
        .then(|| core.settings().ok())
        .flatten();
    let mut d = match resolved {
        // Core's `Settings::to_json`, as Python's `settings()`: a new setting shows here too.
        Some(s) => s.to_json(Naming::Camel),
        None => {
            // Not resolved yet: what was asked for (resolving here could read files).
            let o = core.options();
            json!({
                "secretId": o.secret_id,
                "region": o.region,
                "config": o.config.as_ref().map(|c| c.to_string()),
                "ttl": o.ttl.map(|t| t.to_string()),
            })
        }
    };
    if let Some(map) = d.as_object_mut() {
        map.retain(|_, v| !v.is_null());
        let stats = core.stats();
        map.insert("cachedVersionId".into(), json!(stats.version_id));
        if stats.testing_overrides > 0 {
            map.insert("testingOverrides".into(), json!(stats.testing_overrides));
        }
    }
    Out::Json(d)
}

/// Serve this JSON document (given as JSON text) instead of AWS until `unpin`: for the unit
/// tests of code that uses the library. Returns the override's token (core's override stack:
/// overrides nest, the innermost is served). SECRET_FORMAT if it is not a JSON object.
#[napi(ts_args_type = "manager: ManagerHandle, jsonText: string")]
pub fn pin(manager: &Handle, json_text: String) -> napi::Result<f64, &'static str> {
    shield(|| {
        let doc = Document::parse(Zeroizing::new(json_text)).map_err(to_js)?;
        Ok(token_number(manager.core.push_override(Payload::Json(doc))))
    })
}

/// Serve these bytes as a SecretBinary instead of AWS until `unpin`; returns the token.
#[napi(ts_args_type = "manager: ManagerHandle, bytes: Buffer")]
pub fn pin_binary(manager: &Handle, bytes: Buffer) -> f64 {
    token_number(
        manager
            .core
            .push_override(Payload::Binary(Zeroizing::new(bytes.to_vec()))),
    )
}

/// Undo the override `token` names (the innermost one when `token` is omitted): what was
/// served before it is served again, or the cache. INVALID_ARGUMENT when an override pushed
/// after it is still in force, or when it is not in force.
#[napi(ts_args_type = "manager: ManagerHandle, token?: number")]
pub fn unpin(manager: &Handle, token: Option<f64>) -> napi::Result<(), &'static str> {
    shield(|| {
        let popped = match token {
            None => manager.core.pop_innermost_override(),
            // Tokens count up from 1 and stay far below 2^53; any other number names none.
            Some(t) if t >= 1.0 && t.fract() == 0.0 => manager.core.pop_override(OverrideToken::from_raw(t as u64)),
            Some(_) => manager.core.pop_override(OverrideToken::from_raw(0)),
        };
        popped.map_err(to_js)
    })
}

/// A token as a JS number (exact: tokens count up from 1 in one process).
fn token_number(token: OverrideToken) -> f64 {
    token.raw() as f64
}

fn versioned(env: &Env, manager: &Manager, known: u32, want: Want, force: bool) -> napi::Result<Answer, &'static str> {
    shield(|| {
        let (core, warm, seen) = (manager.core.clone(), manager.warm.clone(), manager.seen.clone());
        let poll_first = !force && warm.load(Ordering::Acquire);
        dispatch(env, poll_first, async move {
            let result = if force {
                core.refresh().await
            } else {
                core.secret().await
            };
            match result {
                Ok(secret) => {
                    warm.store(true, Ordering::Release);
                    match want.check(&secret) {
                        Ok(()) => Out::Versioned { secret, known, seen },
                        Err(e) => Out::Failed(e),
                    }
                }
                Err(e) => Out::Failed(e),
            }
        })
    })
}

/// A key path as core reads `get(...path)` arguments: one argument is a dotted path (`\.`
/// escapes a dot), several are literal keys. INVALID_ARGUMENT for an empty path or segment.
/// The handle is what the accesses take; the JS side keeps it per argument list.
#[napi(ts_return_type = "KeyPathHandle")]
pub fn parse_path(path: Vec<String>) -> napi::Result<KeyPath, &'static str> {
    shield(|| {
        Path::from_args(&path)
            .map(|p| External::new(Arc::new(p)))
            .map_err(to_js)
    })
}

/// The keys of a parsed path, in order: the JS side reads the value core found by them.
#[napi(ts_args_type = "path: KeyPathHandle")]
pub fn path_keys(path: &KeyPath) -> Vec<String> {
    path.keys().to_vec()
}

/// One stable error code as core lists it.
#[napi(object)]
pub struct CodeInfo {
    /// The string code, e.g. `SECRET_NOT_FOUND`.
    pub code: String,
    /// The stable number (the C enum value).
    pub number: u32,
    /// Whether retrying later could succeed without anyone changing anything.
    pub transient: bool,
}

/// Every stable error code, in number order, with its number and transience (core's list).
#[napi]
pub fn codes() -> Vec<CodeInfo> {
    Code::ALL
        .into_iter()
        .map(|c| CodeInfo {
            code: c.as_str().to_owned(),
            number: c.number(),
            transient: c.is_transient(),
        })
        .collect()
}

/// The version of the Rust core this addon was built from.
#[napi]
pub fn core_version() -> &'static str {
    starfleet_secrets::VERSION
}

/// Test hook, inert unless `STARFLEET_SECRETS_SELF_TEST=1`: unwinds (like a panic, without the
/// panic message) on the JS thread (`"sync"`) or inside an operation on core's runtime
/// (`"async"`), so the test suite can prove that such a failure becomes an INTERNAL error or
/// a rejected Promise, never a crash or a Promise left pending.
///
/// Not part of the API: the facade (`index.js`) does not export it and no typings declare it
/// (`skip_typescript`); only the internal loader `binding.js` carries it, for the test. A
/// cargo feature would need a second addon build for the tests, and the shipped addon would
/// then not be the one tested.
#[napi(js_name = "__selfTest", skip_typescript)]
pub fn self_test(env: &Env, kind: String) -> napi::Result<Answer, &'static str> {
    if std::env::var("STARFLEET_SECRETS_SELF_TEST").as_deref() != Ok("1") {
        return Err(to_js(Error::new(Code::InvalidArgument, "self tests are disabled")));
    }
    let unwind = || std::panic::resume_unwind(Box::new("deliberate unwind (self test)"));
    match kind.as_str() {
        "sync" => shield(|| {
            unwind();
            #[allow(unreachable_code)]
            Ok(Answer::Ready(Out::Nothing))
        }),
        "async" => dispatch(env, false, async move {
            tokio_yield().await;
            unwind();
            #[allow(unreachable_code)]
            Out::Nothing
        }),
        other => Err(to_js(Error::new(
            Code::InvalidArgument,
            format!("unknown self test {other:?}"),
        ))),
    }
}

/// Yield once, so the self test's unwind happens on the runtime, not in the first poll.
async fn tokio_yield() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
