//! Releasing the GIL around calls that can wait, and interpreter shutdown.
//!
//! Every call into the core that may do I/O or wait for another thread's fetch runs inside
//! [`blocking`], which detaches from the interpreter, so other Python threads (and the other
//! 31 threads of a thundering herd) run while one fetch is in flight.
//!
//! Shutdown: a daemon thread may still be inside a fetch when the interpreter finalizes.
//! When that fetch ends, re-attaching would meet a finalizing interpreter, which on some
//! CPython versions ends the thread with `pthread_exit` (a forced unwind through Rust
//! frames, which aborts the process). The package's `atexit` hook sets [`set_exiting`]; after
//! that, a thread returning from the core parks for good instead of re-attaching (the
//! process is exiting; its threads end with it). The thread that runs the hook (the one
//! finalizing) is exempt, so `atexit` handlers that still read secrets work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread::ThreadId;

use pyo3::prelude::*;

use crate::logbridge;

static EXITING: AtomicBool = AtomicBool::new(false);
static FINALIZER: Mutex<Option<ThreadId>> = Mutex::new(None);

pub fn set_exiting() {
    *FINALIZER.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current().id());
    EXITING.store(true, Ordering::SeqCst);
}

pub fn park_if_exiting() {
    if !EXITING.load(Ordering::SeqCst) {
        return;
    }
    let me = std::thread::current().id();
    if *FINALIZER.lock().unwrap_or_else(|p| p.into_inner()) == Some(me) {
        return;
    }
    loop {
        std::thread::park();
    }
}

/// Run `f` with the GIL released, then forward any log records it produced.
pub fn blocking<T, F>(py: Python<'_>, f: F) -> T
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    let result = py.detach(|| {
        let result = f();
        park_if_exiting();
        result
    });
    logbridge::drain(py);
    result
}
