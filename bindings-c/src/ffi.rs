//! The panic boundary, the result enum, the per-thread last error and argument checks.

use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use starfleet_secrets::error::{self, Code, Error, Result};

pub use crate::result::starfleet_secrets_result;

pub(crate) const fn result_of(code: Code) -> starfleet_secrets_result {
    starfleet_secrets_result::from_code(code)
}

// The C numbers are core's numbers, for every code (the enum is generated from core's list;
// this holds even if the generated file were edited by hand).
const _: () = {
    let mut i = 0;
    while i < Code::ALL.len() {
        assert!(result_of(Code::ALL[i]) as u32 == Code::ALL[i].number());
        i += 1;
    }
};

thread_local! {
    /// The last failure on this thread; cleared by the next successful call.
    static LAST_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

fn set_last_error(error: Option<Error>) {
    // During thread teardown the slot may be gone; the result code still tells the story.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = error;
        }
    });
}

/// Run one exported function's body: catch panics, record the outcome for
/// `starfleet_secrets_last_error_message`, and turn it into a result code.
pub(crate) fn boundary(function: &'static str, body: impl FnOnce() -> Result<()>) -> starfleet_secrets_result {
    // Core's panic policy: the caller learns where, and that it is a bug; never the payload.
    let outcome =
        catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(error::from_panic(function, payload)));
    match outcome {
        Ok(()) => {
            set_last_error(None);
            starfleet_secrets_result::Ok
        }
        Err(error) => {
            let result = result_of(error.code());
            set_last_error(Some(error));
            result
        }
    }
}

/// A panic boundary for functions that cannot fail and return nothing (the `_free`s).
pub(crate) fn boundary_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// A required UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::new(Code::InvalidArgument, format!("argument {name} is NULL")));
    }
    CStr::from_ptr(ptr).to_str().map_err(|e| {
        Error::new(
            Code::InvalidArgument,
            format!("argument {name} is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

/// A required shared reference.
///
/// # Safety
/// `ptr` is NULL or a valid pointer to a live `T` that outlives `'a`.
pub(crate) unsafe fn ref_arg<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    ptr.as_ref()
        .ok_or_else(|| Error::new(Code::InvalidArgument, format!("argument {name} is NULL")))
}

/// A required out-param, checked before any work is done.
pub(crate) fn out_arg<T>(ptr: *mut T, name: &str) -> Result<*mut T> {
    if ptr.is_null() {
        Err(Error::new(Code::InvalidArgument, format!("out-param {name} is NULL")))
    } else {
        Ok(ptr)
    }
}

/// The library version, e.g. `"0.1.0"`: a static string, never freed.
#[no_mangle]
pub extern "C" fn starfleet_secrets_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    // Nothing here can panic, but every exported function has the same boundary.
    catch_unwind(|| VERSION.as_ptr().cast()).unwrap_or(c"".as_ptr())
}

/// The ABI version this library implements (`STARFLEET_SECRETS_ABI_VERSION` of the header
/// it was built with); compare it with the macro to detect a mismatched `.so` at run time.
#[no_mangle]
pub extern "C" fn starfleet_secrets_abi_version() -> u32 {
    catch_unwind(|| super::STARFLEET_SECRETS_ABI_VERSION).unwrap_or(0)
}

/// The stable string code of a result, e.g. `"SECRET_NOT_FOUND"` (`"OK"` for 0, `"UNKNOWN"`
/// for a number this library does not know): a static string, never freed.
///
/// Takes a plain number so any value read from C is safe to pass.
#[no_mangle]
pub extern "C" fn starfleet_secrets_result_name(result: u32) -> *const c_char {
    let name: &'static CStr = catch_unwind(|| match (result, Code::from_number(result)) {
        (0, _) => c"OK",
        (_, Some(code)) => code.as_cstr(),
        (_, None) => c"UNKNOWN",
    })
    .unwrap_or(c"UNKNOWN");
    name.as_ptr()
}

/// Whether retrying later could succeed without anyone changing anything (THROTTLED,
/// TIMEOUT, NETWORK, SERVICE: the failures stale-if-error covers). False for OK and for a
/// number this library does not know. Core's rule, so no caller keeps its own copy of the
/// list. Since ABI 4.
#[no_mangle]
pub extern "C" fn starfleet_secrets_code_is_transient(result: u32) -> bool {
    catch_unwind(|| Code::from_number(result).is_some_and(Code::is_transient)).unwrap_or(false)
}

/// The result of the last failed call on this thread (`OK` if the last call succeeded or
/// there was none). Reading it changes nothing.
#[no_mangle]
pub extern "C" fn starfleet_secrets_last_error_code() -> starfleet_secrets_result {
    catch_unwind(|| {
        LAST_ERROR
            .try_with(|slot| {
                slot.try_borrow()
                    .ok()
                    .and_then(|e| e.as_ref().map(|e| result_of(e.code())))
            })
            .ok()
            .flatten()
            .unwrap_or(starfleet_secrets_result::Ok)
    })
    .unwrap_or(starfleet_secrets_result::Internal)
}

/// Copy the message of the last failed call on this thread into `buf`.
///
/// The message is `"CODE: what went wrong"` (e.g. `"SECRET_NOT_FOUND: secret Starfleet
/// (stage AWSCURRENT) in us-east-2: ResourceNotFoundException (...)"`); it names the
/// secret, region and key path involved and never contains a secret value. It is the empty
/// string when the last call on this thread succeeded.
///
/// At most `buf_len - 1` bytes are copied (cut at a character boundary) and a NUL is always
/// written when `buf_len > 0`. `*out_len`, if `out_len` is not NULL, receives the full length
/// of the message in bytes (without the NUL), so a caller can pass `buf = NULL, buf_len = 0`
/// to size a buffer first. Nothing is allocated and there is nothing to free.
///
/// The last error is per thread: read it on the thread that made the failing call, before
/// that thread makes another call (Go: inside the same cgo call). Calling this function does
/// not change the last error. Returns INVALID_ARGUMENT only when `buf` is NULL and
/// `buf_len > 0`.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_last_error_message(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> starfleet_secrets_result {
    catch_unwind(AssertUnwindSafe(|| {
        if buf.is_null() && buf_len > 0 {
            return starfleet_secrets_result::InvalidArgument;
        }
        let message = LAST_ERROR
            .try_with(|slot| slot.try_borrow().ok().and_then(|e| e.as_ref().map(Error::to_string)))
            .ok()
            .flatten()
            .unwrap_or_default();
        // A NUL inside the message (from a YAML `"\0"` escape in a configured SecretId,
        // say) would cut it short for C while `*out_len` counts past it: spell it `\0`.
        let message = if message.contains('\0') {
            message.replace('\0', "\\0")
        } else {
            message
        };
        if buf_len > 0 {
            let mut n = message.len().min(buf_len - 1);
            while !message.is_char_boundary(n) {
                n -= 1;
            }
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
        if !out_len.is_null() {
            *out_len = message.len();
        }
        starfleet_secrets_result::Ok
    }))
    .unwrap_or(starfleet_secrets_result::Internal)
}
