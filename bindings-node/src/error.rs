//! Core errors as JavaScript errors.
//!
//! A core [`Error`] becomes a JS `Error` whose `code` is the stable core code
//! (`"SECRET_NOT_FOUND"`) and whose message is the core message, which never holds a value.
//! The JS facade (`index.js`) turns these into `StarfleetSecretsError` instances.

use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{sys, JsError};
use starfleet_secrets::{Code, Error};

/// What the binding's functions return: errors carry a core code as their JS `code`.
pub type JsResult<T> = std::result::Result<T, napi::Error<&'static str>>;

/// A core error as a thrown JS error.
pub fn to_js(e: Error) -> napi::Error<&'static str> {
    napi::Error::new(e.code().as_str(), e.message().to_owned())
}

/// A failed Node-API call (the environment is shutting down, out of memory, ...).
pub fn from_napi(e: napi::Error) -> napi::Error<&'static str> {
    napi::Error::new(Code::Internal.as_str(), format!("Node-API call failed: {e}"))
}

/// A panic caught at the boundary, by core's policy (INTERNAL, never the payload's text).
pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Error {
    starfleet_secrets::error::from_panic("starfleet-secrets (Node addon)", payload)
}

/// Run a synchronous entry point with panics turned into INTERNAL errors instead of aborting
/// the Node process.
pub fn shield<T>(f: impl FnOnce() -> JsResult<T>) -> JsResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| Err(to_js(from_panic(p))))
}

/// Build the JS error for `e` on the JS thread, wrapped so that a Promise settled with it is
/// rejected with exactly that object (code and message intact).
///
/// # Safety
/// `env` must be the environment of the current JS thread.
pub unsafe fn rejection(env: sys::napi_env, e: Error) -> napi::Error {
    let value = unsafe { JsError::from(to_js(e)).into_value(env) };
    if value.is_null() {
        return napi::Error::new(napi::Status::GenericFailure, "the JS environment is shutting down");
    }
    match unsafe { Unknown::from_napi_value(env, value) } {
        Ok(unknown) => napi::Error::from(unknown),
        Err(err) => err,
    }
}
