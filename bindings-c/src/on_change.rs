//! `starfleet_secrets_manager_on_change`: core's `on_change` subscribers as C function pointers.
//!
//! The rules are core's (`starfleet_secrets::notify`); this file only translates them:
//! the VersionIds become NUL-terminated strings borrowed for the call, `user_data` is passed
//! back untouched, and the subscription is an opaque handle that
//! `starfleet_secrets_subscription_cancel` cancels and releases.

use std::ffi::{c_char, c_void, CString};

use super::ffi::{boundary, boundary_void, out_arg};
use super::manager::{manager_arg, starfleet_secrets_manager};
use super::starfleet_secrets_result;
use starfleet_secrets::error::{Code, Error};
use starfleet_secrets::Subscription;

/// The callback's type (spelled out in the exported signature, where the header shows it).
type ChangeFn = unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void);

/// One `starfleet_secrets_manager_on_change()` subscription: an opaque handle, released by
/// `starfleet_secrets_subscription_cancel()`.
pub struct starfleet_secrets_subscription {
    inner: Subscription,
}

/// The caller's function and pointer. The caller vouches that `user_data` may be used from
/// the threads the header names (the calling thread of any call on the manager, or the
/// library's notification thread).
struct Callback {
    function: ChangeFn,
    user_data: *mut c_void,
}

// SAFETY: see `Callback`: moving the pointer between threads is the caller's documented contract.
unsafe impl Send for Callback {}
unsafe impl Sync for Callback {}

impl Callback {
    fn call(&self, old: Option<&str>, new: &str) {
        // VersionIds never hold NUL; one that did could not be passed as C text.
        let (Ok(old), Ok(new)) = (old.map(CString::new).transpose(), CString::new(new)) else {
            return;
        };
        let old = old.as_ref().map_or(std::ptr::null(), |o| o.as_ptr());
        // SAFETY: the function pointer and user_data are the caller's, per the header.
        unsafe { (self.function)(old, new.as_ptr(), self.user_data) }
    }
}

/// Call `callback(old_version_or_null, new_version, user_data)` each time a fetch stores a
/// new VersionId in `manager` (the first load, with `old_version_or_null` NULL; a refresh or
/// expired-TTL load that brings a new version). Both strings are NUL-terminated VersionIds,
/// valid only during the call; never a value. Testing overrides never call it; the same
/// version again calls nothing. Writes the subscription to `*out` (release it
/// with `starfleet_secrets_subscription_cancel()`). `callback` NULL is INVALID_ARGUMENT.
///
/// Thread: the callback runs on the thread whose call on the manager stored the new version
/// (any getter, `_load()` or `_refresh()`), inside that call, before it returns; for a fetch
/// made by the library itself (a refresh-ahead in the background) it runs on the library's
/// notification thread, `starfleet-notify`. It is called once per change, one call at a time per manager
/// (never re-entered concurrently for one subscription), and under no lock of the library: it
/// may call any function on the manager, including `_refresh()` and
/// `starfleet_secrets_subscription_cancel()` on its own subscription. A callback that fails
/// must report it its own way: it must not unwind (C++ exceptions, Go panics) into the library.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_manager_on_change(
    manager: *const starfleet_secrets_manager,
    callback: Option<
        unsafe extern "C" fn(old_version_or_null: *const c_char, new_version: *const c_char, user_data: *mut c_void),
    >,
    user_data: *mut c_void,
    out: *mut *mut starfleet_secrets_subscription,
) -> starfleet_secrets_result {
    boundary("starfleet_secrets_manager_on_change", || {
        let m = manager_arg(manager)?;
        let out = out_arg(out, "out")?;
        let function = callback.ok_or_else(|| Error::new(Code::InvalidArgument, "argument callback is NULL"))?;
        let callback = Callback { function, user_data };
        let inner = m.on_change(move |old, new| callback.call(old, new));
        // SAFETY: `out` is non-NULL and, per the conventions, valid for a write.
        unsafe { *out = Box::into_raw(Box::new(starfleet_secrets_subscription { inner })) };
        Ok(())
    })
}

/// Cancel the subscription and release its handle (NULL is fine; do not use it afterwards).
/// No call of its callback starts after this returns, and a call running on another thread
/// is waited for; called from inside the callback itself, it returns at once (that call is the
/// last). It may be called after the manager was freed.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_subscription_cancel(subscription: *mut starfleet_secrets_subscription) {
    boundary_void(|| {
        if !subscription.is_null() {
            // SAFETY: made by Box::into_raw in `_on_change` and, per the contract, released once.
            let subscription = unsafe { Box::from_raw(subscription) };
            subscription.inner.cancel();
        }
    });
}
