//! The one tokio runtime of the process, built on first use and rebuilt after `fork()`.
//!
//! `fork()` copies memory but not threads: a child inherits a runtime whose workers do not
//! exist, so anything it spawns would wait forever. Every access checks the process id; a
//! child sees a different pid, abandons (leaks, never drops: dropping would wait on the
//! missing threads) the parent's runtime and builds its own. Clients and locks tied to the
//! old runtime are keyed by pid the same way (see `source` and `cache`).
//!
//! The runtime is never shut down: its threads end with the process, so interpreter exit
//! never waits on a fetch in flight.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;

use crate::error::{Code, Error, Result};

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime for this process (building it on first use, or first use after a fork).
pub fn get() -> Result<Arc<Runtime>> {
    let pid = std::process::id();
    // A poisoned lock only means a panic elsewhere while holding it; the Option is still valid.
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return Ok(rt.clone());
        }
    }
    if let Some((_, inherited)) = slot.take() {
        std::mem::forget(inherited);
    }
    // One worker: the library's work is waiting on sockets and timers, and a blocking caller
    // (Python, C, Go) drives its own future on its own thread anyway. A second worker cost
    // every cold start a thread, its malloc arena and hand-offs of the same fetch between the
    // two (0.1-0.6 ms of CPU and up to 0.7 ms of wall, by language and run, in two interleaved
    // whole-table runs: bench/overhead/RESULTS.md, eighth round), and bought no throughput a
    // secrets read needs.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("starfleet-secrets")
        .on_thread_start(ignore_sigpipe_on_this_thread)
        .enable_all()
        .build()
        .map_err(|e| Error::new(Code::Internal, format!("cannot start the I/O runtime: {e}")))?;
    let rt = Arc::new(rt);
    *slot = Some((pid, rt.clone()));
    Ok(rt)
}

/// Block SIGPIPE on the runtime's threads, where every socket write happens. A TLS or HTTP
/// write to a connection the peer has closed raises SIGPIPE, whose default action ends the
/// process: Rust programs ignore it, but a C or Go host does not, and a library must not kill
/// its host. Blocked, the signal stays pending on this thread and the write fails with EPIPE,
/// which the HTTP client handles (the connection is dropped, the request retried).
fn ignore_sigpipe_on_this_thread() {
    // SAFETY: sigemptyset/sigaddset initialise a local set; pthread_sigmask changes only the
    // calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Run a future to completion from a plain (non-async) thread: Python, C and Go calls.
///
/// Calling it from inside an async runtime would deadlock or panic, so that is refused
/// with INVALID_ARGUMENT instead.
pub fn block_on<T>(fut: impl Future<Output = Result<T>>) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            Code::InvalidArgument,
            "blocking call made from inside an async runtime; use the async API instead",
        ));
    }
    let rt = get()?;
    let _blocking = BlockingCall::enter();
    rt.block_on(fut)
}

thread_local! {
    /// Whether this thread is inside [`block_on`]: the future runs on the caller's own thread
    /// there (spawned tasks never do), so what it records is the blocking caller's to
    /// deliver (`crate::notify`: a blocking call's `on_change` runs on its own thread).
    static IN_BLOCKING_CALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is a blocking caller's, inside [`block_on`].
pub(crate) fn in_blocking_call() -> bool {
    IN_BLOCKING_CALL.with(std::cell::Cell::get)
}

/// Marks the thread as inside [`block_on`] until dropped (also on a panic).
struct BlockingCall(bool);

impl BlockingCall {
    fn enter() -> BlockingCall {
        BlockingCall(IN_BLOCKING_CALL.with(|c| c.replace(true)))
    }
}

impl Drop for BlockingCall {
    fn drop(&mut self) {
        IN_BLOCKING_CALL.with(|c| c.set(self.0));
    }
}

/// Start a future on the runtime without waiting (Node resolves a Promise from it).
pub fn spawn<F>(fut: F) -> Result<tokio::task::JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Ok(get()?.spawn(fut))
}
