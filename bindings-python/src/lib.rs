//! `starfleet_secrets._native`: the Python front door of starfleet-secrets.
//!
//! Thin by design (see docs/ARCHITECTURE.md): every rule (where the secret is, TTL, single-flight,
//! stale-if-error, key paths, error codes, redaction) lives in the core crate. This crate only
//!
//! * converts types (the parsed document becomes a `dict`, once per VersionId: [`manager`]);
//! * passes `configure()`'s arguments (so the constructor's) through to core's
//!   `Options::from_map` (`manager/options.rs`);
//! * maps core errors to the exception classes of `starfleet_secrets._errors` ([`errors`]);
//! * releases the GIL around every call that can wait ([`gil`]);
//! * hands a host application's configuration (a mapping or a callable) to the core before
//!   each load ([`host_config`]), and fetches through moto's in-process mock while one is
//!   active ([`mock`]);
//! * runs `on_change` callbacks attached, never on a runtime thread ([`on_change`]);
//! * wakes asyncio without ever touching Python from a runtime thread ([`pending`]);
//! * forwards the core's `log` records to Python `logging` without ever blocking on the GIL
//!   inside the core ([`logbridge`]).
//!
//! The pure-Python layer (`python/starfleet_secrets`) adds the asyncio methods, the
//! singleton and the testing helpers.

mod convert;
mod errors;
mod gil;
mod host_config;
mod logbridge;
mod manager;
mod mock;
mod on_change;
#[cfg(unix)]
mod pending;

use pyo3::prelude::*;

/// The extension's own (Rust) allocations go through core's zeroing allocator: off (one
/// atomic load per free) unless a manager resolves `zeroize_before_snapshot`, then every block
/// the library frees is zeroed, so a snapshot holds no plaintext copy a fetch left behind.
#[global_allocator]
static ALLOCATOR: starfleet_secrets::zeroing::ZeroingAlloc = starfleet_secrets::zeroing::ZeroingAlloc;

/// Every core error code as `(code, number, transient)`; `starfleet_secrets._errors` checks
/// its classes against this table at import, so the two cannot drift apart.
#[pyfunction]
fn codes() -> Vec<(&'static str, u32, bool)> {
    starfleet_secrets::Code::ALL
        .into_iter()
        .map(|c| (c.as_str(), c.number(), c.is_transient()))
        .collect()
}

/// Forward queued log records to `logging` now (the asyncio layer calls this after a
/// fetch completes; blocking calls do it themselves).
#[pyfunction]
fn flush_logs(py: Python<'_>) {
    logbridge::drain(py);
}

/// Called by the package's `atexit` hook: from now on a thread whose fetch finishes after
/// interpreter shutdown has begun stays parked instead of re-entering a dying interpreter.
#[pyfunction]
fn _at_exit() {
    gil::set_exiting();
}

/// The operator CLI (`starfleet_secrets_cli::run`) with `argv` (program name first); returns
/// its exit code. Detached from the interpreter: the CLI waits on the network and on stdin,
/// and writes to the process's stdout/stderr itself (`_cli.py` flushes Python's first).
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> i32 {
    py.detach(|| starfleet_secrets_cli::run(argv))
}

#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logbridge::install();
    m.add("__version__", starfleet_secrets::VERSION)?;
    m.add_function(wrap_pyfunction!(codes, m)?)?;
    m.add_function(wrap_pyfunction!(flush_logs, m)?)?;
    m.add_function(wrap_pyfunction!(_at_exit, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_class::<manager::SecretsManager>()?;
    manager::get_entry::install(&m.py().get_type::<manager::SecretsManager>())?;
    m.add_class::<on_change::ChangeSubscription>()?;
    #[cfg(unix)]
    m.add_class::<pending::Pending>()?;
    #[cfg(unix)]
    m.add_class::<pending::Wakeup>()?;
    Ok(())
}
