//! `starfleet_secrets_manager`: one cached secret, read from C.
//!
//! Every getter goes through the manager's cache (core `SecretsManager`): the first call
//! fetches, concurrent first calls share one `GetSecretValue`, later calls are served from
//! memory until the TTL runs out. Calls block the calling thread; any number of threads may
//! call at once.

use std::ffi::c_char;
use std::sync::Arc;

use super::buffer::OutBuffer;
use super::ffi::{boundary, boundary_void, out_arg, ref_arg, str_arg};
use super::options::starfleet_secrets_options;
use super::starfleet_secrets_result;
use starfleet_secrets::cache::SecretsManager;
use starfleet_secrets::document::{Path, Secret};
use starfleet_secrets::error::{Code, Error, Result};
use starfleet_secrets::settings::Options;

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

/// The core manager behind a required handle argument.
unsafe fn manager_arg<'a>(m: *const starfleet_secrets_manager) -> Result<&'a SecretsManager> {
    Ok(&ref_arg(m, "manager")?.inner)
}

/// The secret, cached or fetched (blocking the calling thread).
fn load(manager: &SecretsManager) -> Result<Arc<Secret>> {
    manager.secret_blocking()
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
    boundary("starfleet_secrets_manager_get_document_json", || {
        let m = manager_arg(manager)?;
        let out = out_arg(out, "out")?;
        let secret = load(m)?;
        let root = secret.document()?.root();
        OutBuffer::json_with(|w| serde_json::to_writer(w, root))?.hand_out(out, out_len);
        Ok(())
    })
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
    boundary("starfleet_secrets_manager_get_string", || {
        let m = manager_arg(manager)?;
        let path = Path::parse_dotted(str_arg(path, "path")?)?;
        get_string(m, &path, out, out_len)
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
    boundary("starfleet_secrets_manager_get_string_path", || {
        let m = manager_arg(manager)?;
        let path = path_arg(keys, n)?;
        get_string(m, &path, out, out_len)
    })
}

unsafe fn get_string(m: &SecretsManager, path: &Path, out: *mut *mut c_char, out_len: *mut usize) -> Result<()> {
    let out = out_arg(out, "out")?;
    let secret = load(m)?;
    let value = secret.get_str(path)?;
    OutBuffer::copy_of(value.as_bytes())?.hand_out(out, out_len);
    Ok(())
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
    boundary("starfleet_secrets_manager_get_json", || {
        let m = manager_arg(manager)?;
        let path = Path::parse_dotted(str_arg(path, "path")?)?;
        get_json(m, &path, out, out_len)
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
    boundary("starfleet_secrets_manager_get_json_path", || {
        let m = manager_arg(manager)?;
        let path = path_arg(keys, n)?;
        get_json(m, &path, out, out_len)
    })
}

unsafe fn get_json(m: &SecretsManager, path: &Path, out: *mut *mut c_char, out_len: *mut usize) -> Result<()> {
    let out = out_arg(out, "out")?;
    let secret = load(m)?;
    let value = secret.get(path)?;
    OutBuffer::json_with(|w| serde_json::to_writer(w, value))?.hand_out(out, out_len);
    Ok(())
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
    boundary("starfleet_secrets_manager_get_binary", || {
        let m = manager_arg(manager)?;
        let out = out_arg(out, "out")?;
        let out_len = out_arg(out_len, "out_len")?;
        let secret = load(m)?;
        OutBuffer::copy_of(secret.binary()?)?.hand_out(out, out_len);
        Ok(())
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

/// The cache counters as JSON: `{"hits", "misses", "fetches", "failures", "stale_served",
/// "last_refresh" (Unix seconds or null), "version_id" (or null), "last_error" (a code
/// string or null)}`. Ownership as for `starfleet_secrets_manager_get_string()`.
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
