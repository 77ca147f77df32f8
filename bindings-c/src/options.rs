//! `starfleet_secrets_options`: what a manager is created from.
//!
//! Every setting is optional; whatever is not set is resolved by core exactly as in every
//! other language: argument, then environment (`STARFLEET_SECRET_ID`, ...), then the
//! Starfleet configuration, then the default. The setters of core's options
//! (`starfleet_secrets::options::OPTIONS`) are generated into `setters.rs`, one per option and
//! C parameter shape, each one `Options::set` call, which validates what can be validated
//! alone (numbers of seconds, TTL spelling); the location is resolved on first use. Here are
//! the handle, the helpers those setters use, and the one setter that is not a plain option
//! (`_set_config_yaml`: two strings for one value).

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard};

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

/// The options behind a setter's `opts` argument, locked (INVALID_ARGUMENT if NULL). A setter
/// only writes one field, so a poisoned lock's value is still whole.
pub(crate) unsafe fn options<'a>(opts: *mut starfleet_secrets_options) -> Result<MutexGuard<'a, Options>> {
    let opts = ref_arg(opts.cast_const(), "opts")?;
    Ok(opts.inner.lock().unwrap_or_else(|p| p.into_inner()))
}

/// A required UTF-8 string argument, as core's option value (a text setter's value).
pub(crate) unsafe fn text(ptr: *const c_char, name: &str) -> Result<OptionValue> {
    Ok(OptionValue::Text(str_arg(ptr, name)?.to_owned()))
}

/// A comma-separated list of regions, as core's list value: C has no list of strings to hand
/// over, so the one string is split the way core splits the environment variable.
pub(crate) unsafe fn regions(ptr: *const c_char, name: &str) -> Result<OptionValue> {
    Ok(OptionValue::List(settings::split_regions(str_arg(ptr, name)?)))
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

/// A Starfleet configuration given as YAML text; `name` stands in for a file name in error
/// messages.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_options_set_config_yaml(
    opts: *mut starfleet_secrets_options,
    name: *const c_char,
    yaml: *const c_char,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_options_set_config_yaml", || {
        let mut options = options(opts)?;
        let config = ConfigSource::Text {
            name: str_arg(name, "name")?.to_owned(),
            yaml: str_arg(yaml, "yaml")?.to_owned(),
        };
        options.set("config", OptionValue::Config(config), Snake)
    })
}
