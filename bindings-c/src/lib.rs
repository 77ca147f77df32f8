//! The C ABI of starfleet-secrets: `libstarfleet_secrets.so` / `.a`, described by
//! `include/starfleet_secrets.h`.
//!
//! A crate of its own (the rustls-ffi layout) so that `core` stays a plain Rust library and
//! the Python extension and Node addon export none of these symbols. Its library target is
//! `starfleet_secrets_c`, not `starfleet_secrets`: core's Rust library already has that name,
//! and two workspace libraries with one name would write the same files in `target/`. The
//! C-facing names are given when the SDK is laid out (`scripts/install-c-sdk`, used by the
//! tests and by `scripts/dist`): `lib/libstarfleet_secrets.so.<version>` with the SONAME
//! `libstarfleet_secrets.so.<major>` (set by `build.rs`), its symlinks, and
//! `lib/libstarfleet_secrets.a`, the layout cargo-c produces.
//!
//! Built to the conventions of rustls-ffi (the header's opening comment is the user-facing
//! version of this list):
//!
//! * opaque handles ([`starfleet_secrets_options`], [`starfleet_secrets_manager`]) made by a
//!   `_new` function and released by the matching `_free`, which accepts NULL (a
//!   [`starfleet_secrets_subscription`] is released by `_cancel`);
//! * every fallible function returns a [`starfleet_secrets_result`] whose numbers are core's
//!   stable [`Code::number`](starfleet_secrets::Code::number)s (0 = OK); the message of the last failure on the calling thread
//!   is copied into a caller buffer by [`starfleet_secrets_last_error_message`], so reading it
//!   allocates nothing and cannot leak;
//! * out-params are written only on success;
//! * strings and bytes handed to the caller are released with
//!   [`starfleet_secrets_string_free`] / [`starfleet_secrets_bytes_free`], which overwrite
//!   them with zeros first (see `buffer.rs`);
//! * every exported function runs inside `catch_unwind`: a panic becomes INTERNAL, nothing
//!   unwinds into C and nothing aborts;
//! * NULL where a value is required, or text that is not UTF-8, is INVALID_ARGUMENT;
//! * every function is thread-safe (the manager is `Sync`; options sit behind a mutex).
//!
//! Nothing here decides anything: path syntax, TTL parsing, precedence and error
//! classification are core's, so C and Go behave exactly like Python and Node.

// The safety contract of every pointer argument is the same and is stated once, in the
// header's conventions: NULL or a valid pointer of the documented kind.
#![allow(clippy::missing_safety_doc)]
// C names: the header is the API, and its names follow C conventions.
#![allow(non_camel_case_types)]

// Declaration order is the header's order (cbindgen follows it); the blank lines keep
// rustfmt from sorting the declarations. `result.rs` is generated from core's code list,
// `setters.rs` from core's options.
mod result;

mod ffi;

mod options;

// Generated from core's options by a test (tests.rs); `config_yaml` is options.rs's.
mod setters;

mod manager;

mod on_change;

mod buffer;

pub use buffer::{starfleet_secrets_bytes_free, starfleet_secrets_string_free};
pub use ffi::{
    starfleet_secrets_abi_version, starfleet_secrets_code_is_transient, starfleet_secrets_last_error_code,
    starfleet_secrets_last_error_message, starfleet_secrets_result, starfleet_secrets_result_name,
    starfleet_secrets_version,
};
pub use manager::*;
pub use on_change::*;
pub use options::*;
pub use setters::*;

/// Major version of the library (the header's macro matches `Cargo.toml`; checked at build time).
pub const STARFLEET_SECRETS_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const STARFLEET_SECRETS_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const STARFLEET_SECRETS_VERSION_PATCH: u32 = 0;
/// Version of the C ABI itself: bumped when a function's signature or meaning changes
/// incompatibly, and when functions are added (a program built against this header needs a
/// library of at least this version). 2 added the `_try_` getters and
/// `starfleet_secrets_manager_load()`; 3 added `starfleet_secrets_manager_on_change()` and
/// `starfleet_secrets_options_set_fallback_regions()` (and this release's other functions);
/// 4 added `starfleet_secrets_code_is_transient()`; 5 added
/// `starfleet_secrets_options_set_source()`; 6 added `starfleet_secrets_manager_before_snapshot()`,
/// `starfleet_secrets_manager_after_restore()` and
/// `starfleet_secrets_options_set_zeroize_before_snapshot()`; 7 added
/// `starfleet_secrets_manager_try_get_string_path_reusable()` and
/// `starfleet_secrets_manager_record_hits()`. Adding result codes does not bump it.
pub const STARFLEET_SECRETS_ABI_VERSION: u32 = 7;

/// The library's own (Rust) allocations go through core's zeroing allocator: off (one atomic
/// load per free) unless a manager resolves `zeroize_before_snapshot`, then every block the
/// library frees is zeroed, so a snapshot holds no plaintext copy a fetch left behind.
#[global_allocator]
static ALLOCATOR: starfleet_secrets::zeroing::ZeroingAlloc = starfleet_secrets::zeroing::ZeroingAlloc;

/// `"12"` → 12 at compile time (for the version checks below).
const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "version component is not a number");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

// The header's version macros come from the constants above; a version bump in Cargo.toml
// that forgets them fails the build here instead of shipping a lying header.
const _: () = assert!(STARFLEET_SECRETS_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
const _: () = assert!(STARFLEET_SECRETS_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
const _: () = assert!(STARFLEET_SECRETS_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));

#[cfg(test)]
mod tests;
