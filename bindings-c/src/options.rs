//! `starfleet_secrets_options`: what a manager is created from.
//!
//! Every setting is optional; whatever is not set is resolved by core exactly as in every
//! other language: argument, then environment (`STARFLEET_SECRET_ID`, ...), then the
//! Starfleet configuration, then the default. Each setter is named after an option of core's
//! description (`starfleet_secrets::options::OPTIONS`; `core/tests/options_described.rs`
//! checks the header has one per option) and hands its value to `Options::set`, which
//! validates what can be validated alone (numbers of seconds, TTL spelling); the location is
//! resolved on first use.

use std::ffi::c_char;
use std::sync::Mutex;

use super::ffi::{boundary, boundary_void, out_arg, ref_arg, str_arg};
use super::starfleet_secrets_result;
use starfleet_secrets::config::ConfigSource;
use starfleet_secrets::error::Result;
use starfleet_secrets::options::{Naming::Snake, OptionValue};
use starfleet_secrets::settings::{self, Options};

/// Options for `starfleet_secrets_manager_new()`: an opaque builder. Made by
/// `starfleet_secrets_options_new()`, released by `starfleet_secrets_options_free()`. A
/// manager copies the options, so they can be freed (or changed for another manager) as soon
/// as the manager exists.
pub struct starfleet_secrets_options {
    inner: Mutex<Options>,
}

impl starfleet_secrets_options {
    pub(crate) fn snapshot(&self) -> Options {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A required UTF-8 string argument, as core's option value.
unsafe fn text(ptr: *const c_char, name: &str) -> Result<OptionValue> {
    Ok(OptionValue::Text(str_arg(ptr, name)?.to_owned()))
}

/// Set one option through the mutex, inside the panic boundary. The conversion and its
/// checks are core's (`Options::set`), as for Python and Node.
unsafe fn set(
    function: &'static str,
    opts: *mut starfleet_secrets_options,
    apply: impl FnOnce(&mut Options) -> Result<()>,
) -> starfleet_secrets_result {
    boundary(function, || {
        let opts = ref_arg(opts.cast_const(), "opts")?;
        let mut guard = opts.inner.lock().unwrap_or_else(|p| p.into_inner());
        apply(&mut guard)
    })
}

/// Make an empty options object (nothing set: everything resolved from the environment and
/// the Starfleet configuration). On success `*out` receives it; free it with
/// `starfleet_secrets_options_free()`.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_new(
    out: *mut *mut starfleet_secrets_options,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_new", || {
        let out = out_arg(out, "out")?;
        let opts = Box::new(starfleet_secrets_options {
            inner: Mutex::new(Options::default()),
        });
        *out = Box::into_raw(opts);
        Ok(())
    })
}

/// Free options made by `starfleet_secrets_options_new()`. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_free(opts: *mut starfleet_secrets_options) {
    boundary_void(|| {
        if !opts.is_null() {
            drop(Box::from_raw(opts));
        }
    })
}

/// The secret's name or ARN (else `STARFLEET_SECRET_ID`, else the configuration).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_secret_id(
    opts: *mut starfleet_secrets_options,
    secret_id: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_secret_id", opts, |o| {
        o.set("secret_id", text(secret_id, "secret_id")?, Snake)
    })
}

/// The secret's AWS region, e.g. `"us-east-2"` (else `STARFLEET_SECRET_REGION`, the
/// configuration, the ARN, `AWS_REGION`).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_region(
    opts: *mut starfleet_secrets_options,
    region: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_region", opts, |o| {
        o.set("region", text(region, "region")?, Snake)
    })
}

/// A Starfleet configuration file, or a directory of `*.yaml`/`*.yml` files merged in name
/// order (else `STARFLEET_CONFIG`). Read on first use, only if the location is incomplete.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_config_path(
    opts: *mut starfleet_secrets_options,
    path: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_config_path", opts, |o| {
        o.set("config", text(path, "path")?, Snake)
    })
}

/// A Starfleet configuration given as YAML text; `name` stands in for a file name in error
/// messages.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_config_yaml(
    opts: *mut starfleet_secrets_options,
    name: *const c_char,
    yaml: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_config_yaml", opts, |o| {
        o.config = Some(ConfigSource::Text {
            name: str_arg(name, "name")?.to_owned(),
            yaml: str_arg(yaml, "yaml")?.to_owned(),
        });
        Ok(())
    })
}

/// How long a fetched value is served, spelled like `STARFLEET_SECRETS_TTL`: `"never"`
/// (keep for the life of the process), `"0"` (no cache: every access fetches) or a number of
/// seconds (`"300"`, `"1.5"`). Default: the environment, else 300 seconds.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_ttl(
    opts: *mut starfleet_secrets_options,
    ttl: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_ttl", opts, |o| {
        o.set("ttl", text(ttl, "ttl")?, Snake)
    })
}

/// The TTL as a number of seconds (`0` = no cache). Negative, NaN or infinite values are
/// INVALID_ARGUMENT; use `starfleet_secrets_options_set_ttl(opts, "never")` for never.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_ttl_seconds(
    opts: *mut starfleet_secrets_options,
    seconds: f64,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_ttl_seconds", opts, |o| {
        o.set("ttl", OptionValue::Number(seconds), Snake)
    })
}

/// Read the version with this staging label (`"AWSCURRENT"` by default, `"AWSPREVIOUS"`, or
/// a custom label). Setting both a stage and a version id is INVALID_ARGUMENT on first use.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_version_stage(
    opts: *mut starfleet_secrets_options,
    stage: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_version_stage", opts, |o| {
        o.set("version_stage", text(stage, "stage")?, Snake)
    })
}

/// Read exactly this VersionId.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_version_id(
    opts: *mut starfleet_secrets_options,
    version_id: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_version_id", opts, |o| {
        o.set("version_id", text(version_id, "version_id")?, Snake)
    })
}

/// Deadline for one fetch, retries included, in seconds (> 0; default
/// `STARFLEET_SECRETS_TIMEOUT`, else 10).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_timeout_seconds(
    opts: *mut starfleet_secrets_options,
    seconds: f64,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_timeout_seconds", opts, |o| {
        o.set("timeout", OptionValue::Number(seconds), Snake)
    })
}

/// How long past its TTL a value may still be served while refreshes fail, in seconds
/// (`0` disables stale-if-error; default `STARFLEET_SECRETS_MAX_STALE`, else 900).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_max_stale_seconds(
    opts: *mut starfleet_secrets_options,
    seconds: f64,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_max_stale_seconds", opts, |o| {
        o.set("max_stale", OptionValue::Number(seconds), Snake)
    })
}

/// A Secrets Manager endpoint URL (else `AWS_ENDPOINT_URL_SECRETS_MANAGER` /
/// `AWS_ENDPOINT_URL`, else AWS).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_endpoint_url(
    opts: *mut starfleet_secrets_options,
    url: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_endpoint_url", opts, |o| {
        o.set("endpoint_url", text(url, "url")?, Snake)
    })
}

/// Refresh in the background once a value is this fraction of its TTL old (in `[0, 1)`, e.g.
/// `0.8`; `0` = off, the default unless `STARFLEET_SECRETS_REFRESH_AHEAD` is set): a read
/// past it is answered from the cache at once and starts one refresh on the library's own
/// threads, so reads never wait for a fetch after the first. Since ABI 3.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_refresh_ahead(
    opts: *mut starfleet_secrets_options,
    fraction: f64,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_refresh_ahead", opts, |o| {
        o.set("refresh_ahead", OptionValue::Number(fraction), Snake)
    })
}

/// Expire values up to this fraction of the TTL early (in `[0, 1)`; `0` = off), by a
/// per-process random share, so a fleet started together does not refresh in lockstep.
/// Default `STARFLEET_SECRETS_EXPIRY_JITTER`, else 0.1. Since ABI 3.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_expiry_jitter(
    opts: *mut starfleet_secrets_options,
    fraction: f64,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_expiry_jitter", opts, |o| {
        o.set("expiry_jitter", OptionValue::Number(fraction), Snake)
    })
}

/// Replica regions to read from, in order, when the secret's region fails with a regional
/// failure (NETWORK, TIMEOUT, SERVICE, THROTTLED; never ACCESS_DENIED, SECRET_NOT_FOUND,
/// DECRYPTION_FAILED, ...), as one comma-separated list: `"us-west-2,eu-west-1"`. An empty
/// string sets none (and so turns off `STARFLEET_SECRET_FALLBACK_REGIONS`, the default).
/// Region names are checked on first use (CONFIG_INVALID), like the region's. All regions
/// share the one fetch deadline. Added in ABI version 3.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_fallback_regions(
    opts: *mut starfleet_secrets_options,
    comma_separated: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_fallback_regions", opts, |o| {
        let list = settings::split_regions(str_arg(comma_separated, "comma_separated")?);
        o.set("fallback_regions", OptionValue::List(list), Snake)
    })
}

/// Where the secret is read from: `"secretsmanager"` (the default), `"file:<path>"` (a
/// mounted file, e.g. Kubernetes' Secrets Store CSI driver), `"env:<NAME>"` (an environment
/// variable, e.g. ECS `secrets`) or `"flyte:<group>/<key>"` (Flyte's injected secret). Else
/// `STARFLEET_SECRET_SOURCE`, else the configuration's `Source`. Checked on first use
/// (CONFIG_INVALID). A platform-delivered secret makes no AWS call. Added in ABI version 5.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_source(
    opts: *mut starfleet_secrets_options,
    source: *const c_char,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_source", opts, |o| {
        o.set("source", text(source, "source")?, Snake)
    })
}

/// `true`: `starfleet_secrets_manager_before_snapshot()` wipes the cached value, and memory
/// the library frees from the first use on is zeroed, so no plaintext secret is in a snapshot
/// of the process (Lambda SnapStart); the first read after the restore fetches. Default
/// `STARFLEET_SECRETS_ZEROIZE_BEFORE_SNAPSHOT`, else off. Added in ABI version 6.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_zeroize_before_snapshot(
    opts: *mut starfleet_secrets_options,
    on: bool,
) -> starfleet_secrets_result {
    set("starfleet_secrets_options_set_zeroize_before_snapshot", opts, |o| {
        o.set("zeroize_before_snapshot", OptionValue::Bool(on), Snake)
    })
}
