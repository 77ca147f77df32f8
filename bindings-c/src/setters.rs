// Generated from core's options (core/src/options.rs, `OPTIONS`) by the test
// `the_setters_are_generated_from_cores_options` (bindings-c/src/tests.rs); do not edit.
// After adding an option in core: STARFLEET_REGENERATE=1 cargo test -p starfleet-secrets-c --lib
// setters, then regenerate the header (scripts/check-header says how).

//! The setter of each of core's options, in each C form of its kind.

use std::ffi::c_char;

use super::ffi::boundary;
use super::options::{options, regions, starfleet_secrets_options, text};
use super::starfleet_secrets_result;
use starfleet_secrets::options::{Naming::Snake, OptionValue};

/// The secret's name or ARN.
///
/// When not set: `STARFLEET_SECRET_ID`, else the Starfleet configuration.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_secret_id(
    opts: *mut starfleet_secrets_options,
    secret_id: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_secret_id", || {
        options(opts)?.set("secret_id", text(secret_id, "secret_id")?, Snake)
    })
}

/// The secret's AWS region, e.g. us-east-2.
///
/// When not set: `STARFLEET_SECRET_REGION`, else the configuration, the ARN's region,
/// AWS_REGION, AWS_DEFAULT_REGION.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_region(
    opts: *mut starfleet_secrets_options,
    region: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_region", || {
        options(opts)?.set("region", text(region, "region")?, Snake)
    })
}

/// A Starfleet configuration: a YAML file, a directory of *.yaml files merged in name order, or
/// YAML text.
///
/// Here as the path of a file or directory, read on first use and only if the location is
/// incomplete; YAML text: `starfleet_secrets_options_set_config_yaml()`. When not set:
/// `STARFLEET_CONFIG`, else none.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_config_path(
    opts: *mut starfleet_secrets_options,
    path: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_config_path", || {
        options(opts)?.set("config", text(path, "path")?, Snake)
    })
}

/// How long a fetched value is served, in seconds; 0 fetches on every access, "never" keeps it
/// for the life of the process.
///
/// As text spelled like `STARFLEET_SECRETS_TTL`: `"never"`, `"0"` or a number of seconds
/// (`"300"`, `"1.5"`). When not set: `STARFLEET_SECRETS_TTL`, else 300.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_ttl(
    opts: *mut starfleet_secrets_options,
    ttl: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_ttl", || {
        options(opts)?.set("ttl", text(ttl, "ttl")?, Snake)
    })
}

/// How long a fetched value is served, in seconds; 0 fetches on every access, "never" keeps it
/// for the life of the process.
///
/// In seconds; negative, NaN or infinite is INVALID_ARGUMENT (never:
/// `starfleet_secrets_options_set_ttl(opts, "never")`). When not set: `STARFLEET_SECRETS_TTL`,
/// else 300.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_ttl_seconds(
    opts: *mut starfleet_secrets_options,
    seconds: f64,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_ttl_seconds", || {
        options(opts)?.set("ttl", OptionValue::Number(seconds), Snake)
    })
}

/// The staging label to read (AWSCURRENT, AWSPREVIOUS or a custom label); with version_id too,
/// INVALID_ARGUMENT on first use.
///
/// When not set: AWSCURRENT.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_version_stage(
    opts: *mut starfleet_secrets_options,
    version_stage: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_version_stage", || {
        options(opts)?.set("version_stage", text(version_stage, "version_stage")?, Snake)
    })
}

/// One exact VersionId to read, instead of a stage.
///
/// When not set: none.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_version_id(
    opts: *mut starfleet_secrets_options,
    version_id: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_version_id", || {
        options(opts)?.set("version_id", text(version_id, "version_id")?, Snake)
    })
}

/// How long past its TTL a value is still served while refreshes fail, in seconds; 0 disables
/// stale-if-error.
///
/// In seconds; negative, NaN or infinite is INVALID_ARGUMENT. When not set:
/// `STARFLEET_SECRETS_MAX_STALE`, else 900.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_max_stale_seconds(
    opts: *mut starfleet_secrets_options,
    seconds: f64,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_max_stale_seconds", || {
        options(opts)?.set("max_stale", OptionValue::Number(seconds), Snake)
    })
}

/// The deadline of one fetch, retries and fallback regions included, in seconds.
///
/// In seconds; negative, NaN or infinite is INVALID_ARGUMENT. When not set:
/// `STARFLEET_SECRETS_TIMEOUT`, else 10.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_timeout_seconds(
    opts: *mut starfleet_secrets_options,
    seconds: f64,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_timeout_seconds", || {
        options(opts)?.set("timeout", OptionValue::Number(seconds), Snake)
    })
}

/// A Secrets Manager endpoint URL.
///
/// When not set: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else AWS_ENDPOINT_URL, else AWS.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_endpoint_url(
    opts: *mut starfleet_secrets_options,
    endpoint_url: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_endpoint_url", || {
        options(opts)?.set("endpoint_url", text(endpoint_url, "endpoint_url")?, Snake)
    })
}

/// Refresh in the background once a value is this fraction of its TTL old, so reads never wait
/// for a fetch after the first.
///
/// In `[0, 1)`; anything else is INVALID_ARGUMENT. When not set:
/// `STARFLEET_SECRETS_REFRESH_AHEAD`, else 0 (off). Added in ABI version 3.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_refresh_ahead(
    opts: *mut starfleet_secrets_options,
    fraction: f64,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_refresh_ahead", || {
        options(opts)?.set("refresh_ahead", OptionValue::Number(fraction), Snake)
    })
}

/// Expire values up to this fraction of the TTL early, by a per-process random share, so a
/// fleet does not refresh in lockstep; 0 turns it off.
///
/// In `[0, 1)`; anything else is INVALID_ARGUMENT. When not set:
/// `STARFLEET_SECRETS_EXPIRY_JITTER`, else 0.1. Added in ABI version 3.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_expiry_jitter(
    opts: *mut starfleet_secrets_options,
    fraction: f64,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_expiry_jitter", || {
        options(opts)?.set("expiry_jitter", OptionValue::Number(fraction), Snake)
    })
}

/// Replica regions read from, in order, when the secret's region fails with NETWORK, TIMEOUT,
/// SERVICE or THROTTLED; every region shares the one fetch deadline.
///
/// As one comma-separated list, `"us-west-2,eu-west-1"`; an empty string sets none (and so
/// turns the environment variable off). Region names are checked on first use (CONFIG_INVALID).
/// When not set: `STARFLEET_SECRET_FALLBACK_REGIONS`, else none. Added in ABI version 3.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_fallback_regions(
    opts: *mut starfleet_secrets_options,
    comma_separated: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_fallback_regions", || {
        options(opts)?.set("fallback_regions", regions(comma_separated, "comma_separated")?, Snake)
    })
}

/// Where the secret is read from: "secretsmanager", "file:<path>" (a mounted file),
/// "env:<NAME>" (an environment variable) or "flyte:<group>/<key>" (Flyte's injected secret); a
/// platform-delivered secret makes no AWS call.
///
/// When not set: `STARFLEET_SECRET_SOURCE`, else the configuration's Source, else
/// secretsmanager. Added in ABI version 5.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_source(
    opts: *mut starfleet_secrets_options,
    source: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_source", || {
        options(opts)?.set("source", text(source, "source")?, Snake)
    })
}

/// Before a snapshot (Lambda SnapStart's before-checkpoint hook), wipe the cached value and
/// zero freed memory, so no plaintext secret is in the snapshot; the first read after the
/// restore fetches.
///
/// `true` or `false`. When not set: `STARFLEET_SECRETS_ZEROIZE_BEFORE_SNAPSHOT`, else false.
/// Added in ABI version 6.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_zeroize_before_snapshot(
    opts: *mut starfleet_secrets_options,
    enabled: bool,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_zeroize_before_snapshot", || {
        options(opts)?.set("zeroize_before_snapshot", OptionValue::Flag(enabled), Snake)
    })
}
