//! `starfleet_secrets_manager`: one cached secret, read from C.
//!
//! Every getter goes through the manager's cache (core `SecretsManager`): the first call
//! fetches, concurrent first calls share one `GetSecretValue`, later calls are served from
//! memory until the TTL runs out. Calls block the calling thread; any number of threads may
//! call at once.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Instant;

use super::buffer::OutBuffer;
use super::ffi::{boundary, boundary_void, out_arg, ref_arg, str_arg};
use super::options::starfleet_secrets_options;
use super::starfleet_secrets_result;
use starfleet_secrets::cache::SecretsManager;
use starfleet_secrets::document::{Path, Secret};
use starfleet_secrets::error::{Code, Error, Result};
use starfleet_secrets::settings::{seconds_arg, Options};

/// A cached Starfleet secret: an opaque handle. Made by `starfleet_secrets_manager_new()` or
/// `starfleet_secrets_manager_new_default()`, released by `starfleet_secrets_manager_free()`.
/// Safe to use from many threads at once; free it only when no call on it is in progress.
pub struct starfleet_secrets_manager {
    inner: SecretsManager,
}

fn hand_manager(out: *mut *mut starfleet_secrets_manager, options: Options) -> Result<()> {
    let out = out_arg(out, "out")?;
    // C and Go have no logging framework for the core to feed: `STARFLEET_LOG` → stderr.
    starfleet_secrets::stderr_log::init_from_env();
    let manager = Box::new(starfleet_secrets_manager {
        inner: SecretsManager::new(options),
    });
    // SAFETY: `out` is non-NULL and, per the conventions, valid for a write.
    unsafe { *out = Box::into_raw(manager) };
    Ok(())
}

/// The key path named by a C array of `n` strings, by the rule every binding uses: one
/// element is a dotted path (`"STARFLEET.SlackToken"`, `\.` for a literal dot), several are
/// literal keys (`{"GitHubSyncWorker", "my.org"}`).
unsafe fn path_arg(keys: *const *const c_char, n: usize) -> Result<Path> {
    if n == 0 {
        return Path::from_args::<&str>(&[]);
    }
    if keys.is_null() {
        return Err(Error::new(Code::InvalidArgument, "argument keys is NULL"));
    }
    let mut parts = Vec::with_capacity(n);
    for i in 0..n {
        parts.push(str_arg(*keys.add(i), &format!("keys[{i}]"))?);
    }
    Path::from_args(&parts)
}

/// A dotted key path argument (`"STARFLEET.SlackToken"`).
unsafe fn dotted_arg(path: *const c_char) -> Result<Path> {
    Path::parse_dotted(str_arg(path, "path")?)
}

/// The core manager behind a required handle argument.
pub(crate) unsafe fn manager_arg<'a>(m: *const starfleet_secrets_manager) -> Result<&'a SecretsManager> {
    Ok(&ref_arg(m, "manager")?.inner)
}

/// Whether a getter may wait for a fetch.
#[derive(Clone, Copy)]
enum Wait {
    /// Block the calling thread until the secret is cached or fetched (the plain getters).
    Block,
    /// Answer only what needs no fetch (the `_try_` getters), also taking a value fetched at
    /// or after `since` (a load the caller waited for); `None` when a fetch is needed.
    Never { since: Option<Instant> },
}

/// The secret, cached or fetched (blocking the calling thread), or with [`Wait::Never`]
/// `None` when only a fetch could answer (core's `try_secret`).
fn load(manager: &SecretsManager, wait: Wait) -> Result<Option<Arc<Secret>>> {
    match wait {
        Wait::Block => manager.secret_blocking().map(Some),
        Wait::Never { since } => manager.try_secret(since).transpose(),
    }
}

/// A `_try_` getter's `fetched_within` (seconds; 0 = only a fresh value) as a [`Wait`].
fn try_arg(fetched_within: f64) -> Result<Wait> {
    let within = seconds_arg("fetched_within", fetched_within)?;
    let since = (!within.is_zero())
        .then(|| Instant::now().checked_sub(within))
        .flatten();
    Ok(Wait::Never { since })
}

/// How a getter was called: blocking, or as a `_try_` getter with its `fetched_within` and
/// `out_ready`.
#[derive(Clone, Copy)]
enum Call {
    Block,
    Try(f64, *mut bool),
}

impl Call {
    /// The one body of every getter, so that the families (`_get_document_json`,
    /// `_get_string`, `_get_json`, `_get_binary`, each blocking and `_try_`) differ only in
    /// `answer`: the panic boundary, the manager, a `_try_` getter's arguments checked before
    /// anything is read, then `answer` (hand the value out, waiting as told; `false` when only
    /// a fetch could answer) and a `_try_` getter's `*out_ready` (`false`: nothing else was
    /// written, a fetch is needed).
    unsafe fn get(
        self,
        function: &'static str,
        manager: *const starfleet_secrets_manager,
        answer: impl FnOnce(&SecretsManager, Wait) -> Result<bool>,
    ) -> starfleet_secrets_result {
        boundary(function, || {
            let m = manager_arg(manager)?;
            match self {
                Call::Block => answer(m, Wait::Block).map(drop),
                Call::Try(fetched_within, out_ready) => {
                    let out_ready = out_arg(out_ready, "out_ready")?;
                    *out_ready = answer(m, try_arg(fetched_within)?)?;
                    Ok(())
                }
            }
        })
    }
}

/// Make a manager from `opts` (which may be freed right after). Nothing is resolved or
/// fetched until the first get; a bad location or configuration is reported then (and by
/// `starfleet_secrets_manager_location()`). On success `*out` receives the manager.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_new(
    opts: *const starfleet_secrets_options,
    out: *mut *mut starfleet_secrets_manager,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_new", || {
        let opts = ref_arg(opts, "opts")?;
        hand_manager(out, opts.snapshot())
    })
}

/// Make a manager for the default location: `STARFLEET_SECRET_ID` /
/// `STARFLEET_SECRET_REGION`, else the Starfleet configuration named by `STARFLEET_CONFIG`;
/// TTL, timeout and max staleness from their environment variables or defaults.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_new_default(
    out: *mut *mut starfleet_secrets_manager,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_new_default", || {
        hand_manager(out, Options::default())
    })
}

/// Free a manager and its cached secret (overwritten with zeros). NULL is ignored. No call
/// on the manager may be in progress on another thread.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_free(manager: *mut starfleet_secrets_manager) {
    boundary_void(|| {
        if !manager.is_null() {
            drop(Box::from_raw(manager));
        }
    })
}

/// Resolve where the secret is (arguments, environment, configuration) without fetching it.
/// On success `*out_secret_id` and `*out_region` receive new strings (free each with
/// `starfleet_secrets_string_free()`). Fails with CONFIG_MISSING or CONFIG_INVALID (naming
/// the file and key) when the location cannot be resolved.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_location(
    manager: *const starfleet_secrets_manager,
    out_secret_id: *mut *mut c_char,
    out_region: *mut *mut c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_location", || {
        let m = manager_arg(manager)?;
        let out_id = out_arg(out_secret_id, "out_secret_id")?;
        let out_region = out_arg(out_region, "out_region")?;
        let location = &m.settings()?.location;
        let id = OutBuffer::copy_of(location.secret_id.as_bytes())?;
        let region = OutBuffer::copy_of(location.region.as_bytes())?;
        id.hand_out(out_id, std::ptr::null_mut());
        region.hand_out(out_region, std::ptr::null_mut());
        Ok(())
    })
}

/// The whole document as compact JSON text (a JSON object). On success `*out` receives a
/// NUL-terminated string and `*out_len` (if `out_len` is not NULL) its length in bytes; free
/// it with `starfleet_secrets_string_free()`. SECRET_FORMAT if the secret is binary.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_get_document_json(
    manager: *const starfleet_secrets_manager,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    Call::Block.get("starfleet_secrets_manager_get_document_json", manager, |m, wait| {
        get_document_json(m, out, out_len, wait)
    })
}

/// `starfleet_secrets_manager_get_document_json()` that never waits for a fetch: when the
/// answer needs one, it returns OK with `*out_ready` = false and writes nothing else; otherwise
/// `*out_ready` = true and the rest is as the blocking getter (a value, or the failure whose
/// retry pause is still running). `fetched_within` > 0 also accepts a value fetched less
/// than that many seconds ago even if the TTL says it is no longer fresh: pass how long the
/// caller has waited for a `starfleet_secrets_manager_load()`, so that with TTL 0 the load's
/// value answers the callers that waited for it. With `starfleet_secrets_manager_load()` this
/// lets a runtime park its waiting callers instead of blocking a thread each (docs/c-go.md).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_try_get_document_json(
    manager: *const starfleet_secrets_manager,
    fetched_within: f64,
    out: *mut *mut c_char,
    out_len: *mut usize,
    out_ready: *mut bool,
) -> starfleet_secrets_result {
    Call::Try(fetched_within, out_ready).get("starfleet_secrets_manager_try_get_document_json", manager, |m, wait| {
        get_document_json(m, out, out_len, wait)
    })
}

unsafe fn get_document_json(
    m: &SecretsManager,
    out: *mut *mut c_char,
    out_len: *mut usize,
    wait: Wait,
) -> Result<bool> {
    let out = out_arg(out, "out")?;
    let Some(secret) = load(m, wait)? else {
        return Ok(false);
    };
    let root = secret.document()?.root();
    OutBuffer::json_with(|w| serde_json::to_writer(w, root))?.hand_out(out, out_len);
    Ok(true)
}

/// The string at a dotted key path (`"STARFLEET.SlackToken"`; `\.` is a literal dot, `\\` a
/// backslash). On success `*out` receives a NUL-terminated copy and `*out_len` (if not
/// NULL) its length in bytes (the value itself may contain NUL bytes); free it with
/// `starfleet_secrets_string_free()`. KEY_NOT_FOUND names the missing key; SECRET_FORMAT if
/// the value is not a string (use `starfleet_secrets_manager_get_json()` for any value).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_get_string(
    manager: *const starfleet_secrets_manager,
    path: *const c_char,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    Call::Block.get("starfleet_secrets_manager_get_string", manager, |m, wait| {
        get_at(m, &dotted_arg(path)?, Form::String, out, out_len, wait)
    })
}

/// `starfleet_secrets_manager_get_string()` with the path given as `n` strings: one element
/// is a dotted path, several are literal keys (`{"GitHubSyncWorker", "my.org"}`).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_get_string_path(
    manager: *const starfleet_secrets_manager,
    keys: *const *const c_char,
    n: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    Call::Block.get("starfleet_secrets_manager_get_string_path", manager, |m, wait| {
        get_at(m, &path_arg(keys, n)?, Form::String, out, out_len, wait)
    })
}

/// `starfleet_secrets_manager_get_string_path()` that never waits for a fetch (`*out_ready`
/// as for `starfleet_secrets_manager_try_get_document_json()`).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_try_get_string_path(
    manager: *const starfleet_secrets_manager,
    fetched_within: f64,
    keys: *const *const c_char,
    n: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    out_ready: *mut bool,
) -> starfleet_secrets_result {
    Call::Try(fetched_within, out_ready).get("starfleet_secrets_manager_try_get_string_path", manager, |m, wait| {
        get_at(m, &path_arg(keys, n)?, Form::String, out, out_len, wait)
    })
}

/// `starfleet_secrets_manager_try_get_string_path()` that also says for how long the caller
/// may answer the same read itself from the value it got: `*out_reuse_for` receives the
/// seconds from this call during which that value is the manager's fresh value (until its
/// TTL, or its refresh-ahead point if that comes first, so that the read after it reaches
/// the library and starts the refresh), `INFINITY` while it is held for good (TTL `never`, a
/// testing override), 0 when it must not be reused (a stale value, one no longer fresh). It
/// is written when the call succeeds with `*out_ready` true; NULL is INVALID_ARGUMENT.
///
/// For a binding that keeps the values it converted (as Go does), the way Python's and
/// Node's keep theirs: measure the time from before this call; after anything that replaces
/// the value (`_refresh()`, `_invalidate()`, `_before_snapshot()`, `_after_restore()`, a
/// testing override) ask again, and count every read answered from a kept value with
/// `starfleet_secrets_manager_record_hits()`, so the stats stay exact. Added in ABI version 7.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_try_get_string_path_reusable(
    manager: *const starfleet_secrets_manager,
    fetched_within: f64,
    keys: *const *const c_char,
    n: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    out_ready: *mut bool,
    out_reuse_for: *mut f64,
) -> starfleet_secrets_result {
    Call::Try(fetched_within, out_ready).get(
        "starfleet_secrets_manager_try_get_string_path_reusable",
        manager,
        |m, wait| {
            let reuse_for = out_arg(out_reuse_for, "out_reuse_for")?;
            let Some(secret) = answer_at(m, &path_arg(keys, n)?, Form::String, out, out_len, wait)? else {
                return Ok(false);
            };
            *reuse_for = reusable_for(m, &secret);
            Ok(true)
        },
    )
}

/// How long from now `secret`, which `m` just answered, stays its fresh value, in seconds
/// (core's `fresh_until`; see `starfleet_secrets_manager_try_get_string_path_reusable()`).
fn reusable_for(m: &SecretsManager, secret: &Arc<Secret>) -> f64 {
    match m.fresh_until(secret) {
        None => 0.0,
        Some(None) => f64::INFINITY,
        Some(Some(until)) => until.saturating_duration_since(Instant::now()).as_secs_f64(),
    }
}

/// Count `n` reads that the caller answered itself from values
/// `starfleet_secrets_manager_try_get_string_path_reusable()` vouched for as hits (the
/// stats' "hits"), so the stats stay exact. Added in ABI version 7.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_record_hits(
    manager: *const starfleet_secrets_manager,
    n: u64,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_record_hits", || {
        let m = manager_arg(manager)?;
        for _ in 0..n {
            m.record_hit();
        }
        Ok(())
    })
}

/// What a getter at a key path hands out.
#[derive(Clone, Copy)]
enum Form {
    /// The string value itself (SECRET_FORMAT for any other JSON type).
    String,
    /// Any value, as compact JSON text.
    Json,
}

/// The value at `path` into `*out` (the `_get_string` and `_get_json` families); `false`
/// when `wait` allowed no fetch and one was needed.
unsafe fn get_at(
    m: &SecretsManager,
    path: &Path,
    form: Form,
    out: *mut *mut c_char,
    out_len: *mut usize,
    wait: Wait,
) -> Result<bool> {
    Ok(answer_at(m, path, form, out, out_len, wait)?.is_some())
}

/// [`get_at`], returning the secret the answer came from (`None`: a fetch was needed).
unsafe fn answer_at(
    m: &SecretsManager,
    path: &Path,
    form: Form,
    out: *mut *mut c_char,
    out_len: *mut usize,
    wait: Wait,
) -> Result<Option<Arc<Secret>>> {
    let out = out_arg(out, "out")?;
    let Some(secret) = load(m, wait)? else {
        return Ok(None);
    };
    let buffer = match form {
        Form::String => OutBuffer::copy_of(secret.get_str(path)?.as_bytes())?,
        Form::Json => {
            let value = secret.get(path)?;
            OutBuffer::json_with(|w| serde_json::to_writer(w, value))?
        }
    };
    buffer.hand_out(out, out_len);
    Ok(Some(secret))
}

/// The value at a dotted key path as compact JSON text (any JSON type: `"text"`, `5`,
/// `{...}`). Ownership as for `starfleet_secrets_manager_get_string()`.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_get_json(
    manager: *const starfleet_secrets_manager,
    path: *const c_char,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    Call::Block.get("starfleet_secrets_manager_get_json", manager, |m, wait| {
        get_at(m, &dotted_arg(path)?, Form::Json, out, out_len, wait)
    })
}

/// `starfleet_secrets_manager_get_json()` with the path given as `n` strings (one element:
/// dotted; several: literal keys).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_get_json_path(
    manager: *const starfleet_secrets_manager,
    keys: *const *const c_char,
    n: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    Call::Block.get("starfleet_secrets_manager_get_json_path", manager, |m, wait| {
        get_at(m, &path_arg(keys, n)?, Form::Json, out, out_len, wait)
    })
}

/// `starfleet_secrets_manager_get_json_path()` that never waits for a fetch (`*out_ready`
/// as for `starfleet_secrets_manager_try_get_document_json()`).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_try_get_json_path(
    manager: *const starfleet_secrets_manager,
    fetched_within: f64,
    keys: *const *const c_char,
    n: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
    out_ready: *mut bool,
) -> starfleet_secrets_result {
    Call::Try(fetched_within, out_ready).get("starfleet_secrets_manager_try_get_json_path", manager, |m, wait| {
        get_at(m, &path_arg(keys, n)?, Form::Json, out, out_len, wait)
    })
}

/// The bytes of a binary secret (SecretBinary). On success `*out` receives them and
/// `*out_len` their length (both required); free them with `starfleet_secrets_bytes_free()`.
/// SECRET_FORMAT if the secret is a SecretString.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_get_binary(
    manager: *const starfleet_secrets_manager,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    Call::Block.get("starfleet_secrets_manager_get_binary", manager, |m, wait| {
        get_binary(m, out, out_len, wait)
    })
}

/// `starfleet_secrets_manager_get_binary()` that never waits for a fetch (`*out_ready` as
/// for `starfleet_secrets_manager_try_get_document_json()`).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_try_get_binary(
    manager: *const starfleet_secrets_manager,
    fetched_within: f64,
    out: *mut *mut u8,
    out_len: *mut usize,
    out_ready: *mut bool,
) -> starfleet_secrets_result {
    Call::Try(fetched_within, out_ready).get("starfleet_secrets_manager_try_get_binary", manager, |m, wait| {
        get_binary(m, out, out_len, wait)
    })
}

unsafe fn get_binary(m: &SecretsManager, out: *mut *mut u8, out_len: *mut usize, wait: Wait) -> Result<bool> {
    let out = out_arg(out, "out")?;
    let out_len = out_arg(out_len, "out_len")?;
    let Some(secret) = load(m, wait)? else {
        return Ok(false);
    };
    OutBuffer::copy_of(secret.binary()?)?.hand_out(out, out_len);
    Ok(true)
}

/// Bring the secret into the cache unless it is fresh there, blocking the calling thread
/// while it is fetched (concurrent loads and getters share one fetch). Returns OK or the
/// fetch's failure (the last good value stays cached). Counts no access in the stats: the
/// `_try_` getters that answer the waiting callers count theirs. A thread that runs this
/// for its waiting callers lets them use the `_try_` getters meanwhile.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_load(
    manager: *const starfleet_secrets_manager,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_load", || {
        manager_arg(manager)?.load_blocking()
    })
}

/// Fetch now, whatever the cache holds (concurrent refreshes share one call). On failure
/// the error is returned and the last good value stays cached.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_refresh(
    manager: *const starfleet_secrets_manager,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_refresh", || {
        let m = manager_arg(manager)?;
        m.refresh_blocking().map(drop)
    })
}

/// Forget the cached value and any failure backoff: the next get fetches.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_invalidate(
    manager: *const starfleet_secrets_manager,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_invalidate", || {
        let m = manager_arg(manager)?;
        m.invalidate();
        Ok(())
    })
}

/// Call before the process is snapshotted (Lambda SnapStart: a custom runtime calls it just
/// before `GET /runtime/restore/next`, during which Lambda takes the snapshot; Firecracker
/// or CRIU users before they checkpoint): drops the pooled connections, and with the option
/// `zeroize_before_snapshot` wipes the cached value (the next get fetches). Never waits on the
/// network. Added in ABI version 6.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_before_snapshot(
    manager: *const starfleet_secrets_manager,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_before_snapshot", || {
        manager_arg(manager)?.before_snapshot();
        Ok(())
    })
}

/// Call after the process was restored from a snapshot (a custom runtime: after
/// `/runtime/restore/next` answers): draws a new expiry-jitter share, drops the connections
/// and credentials from before the snapshot, and makes every cached value due, so the next get
/// fetches once within the fetch deadline (stale-if-error counting from the restore). Counted
/// in the stats' "restores". Never waits on the network. Added in ABI version 6.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_after_restore(
    manager: *const starfleet_secrets_manager,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_after_restore", || {
        manager_arg(manager)?.after_restore();
        Ok(())
    })
}

/// The cache counters as JSON: `{"hits", "misses", "fetches", "failures", "stale_served",
/// "refreshes_ahead" (background refreshes, also in "fetches"), "last_refresh" (Unix seconds or null), "version_id" (or null), "last_error" (a code
/// string or null), "testing_overrides" (overrides in force), "region" (the region that
/// served the cached value, a fallback region after a failover, or null), "failovers"
/// (times a fetch moved on to the next region), "hedges" (GetSecretValue requests sent
/// again on a new connection, after a reused one stayed silent or while one was still
/// being opened; at most two per read),
/// "older_replica_answers" (fallback-region
/// answers refused for holding an older version than the cached one), "restores" (restores
/// from a snapshot reported by `starfleet_secrets_manager_after_restore()`)}`. Ownership as for
/// `starfleet_secrets_manager_get_string()`.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_stats_json(
    manager: *const starfleet_secrets_manager,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_stats_json", || {
        let m = manager_arg(manager)?;
        let out = out_arg(out, "out")?;
        let stats = m.stats().to_json();
        OutBuffer::json_with(|w| serde_json::to_writer(w, &stats))?.hand_out(out, out_len);
        Ok(())
    })
}
