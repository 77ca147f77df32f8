//! A fetch for asyncio that never blocks the event loop and never touches Python from a
//! runtime thread.
//!
//! [`Pending::start`] runs the core's async access on the core's runtime. When it finishes
//! it stores the outcome and sends one byte on a Unix datagram socket pair; the asyncio layer
//! waits for that with `loop.add_reader(pending.fileno(), ...)`, then asks the manager to
//! convert the stored outcome while attached. No GIL is taken on the runtime thread, so a
//! fetch still in flight at interpreter exit cannot touch a finalizing interpreter, and a
//! cancelled await only drops the read end (a datagram send to a closed peer just fails;
//! unlike a pipe it raises no SIGPIPE).

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use starfleet_secrets::{runtime, Code, Error, Result, Secret, SecretsManager as Core};

type Slot = Arc<Mutex<Option<Result<Arc<Secret>>>>>;

/// An access in flight (or already answered from the cache).
#[pyclass(module = "starfleet_secrets._native", name = "_Pending", frozen)]
pub struct Pending {
    slot: Slot,
    reader: Option<UnixDatagram>,
}

impl Pending {
    /// Already answered (a cache hit): nothing to wait for.
    pub fn ready(secret: Arc<Secret>) -> Pending {
        Pending {
            slot: Arc::new(Mutex::new(Some(Ok(secret)))),
            reader: None,
        }
    }

    /// Start `core.secret()` (or `core.refresh()`) on the core's runtime.
    pub fn start(core: Arc<Core>, refresh: bool) -> Result<Pending> {
        let io = |e: std::io::Error| Error::new(Code::Internal, format!("cannot set up the asyncio wake-up: {e}"));
        let (reader, writer) = UnixDatagram::pair().map_err(io)?;
        reader.set_nonblocking(true).map_err(io)?;
        writer.set_nonblocking(true).map_err(io)?;
        let slot: Slot = Arc::default();
        let done = slot.clone();
        runtime::spawn(async move {
            let outcome = if refresh {
                core.refresh().await
            } else {
                core.secret().await
            };
            *done.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
            // Fails only if the waiter went away (cancelled); nobody is left to wake then.
            let _ = writer.send(&[1]);
        })?;
        Ok(Pending {
            slot,
            reader: Some(reader),
        })
    }

    /// The outcome, once [`done`](Pending::done).
    pub fn outcome(&self) -> Result<Arc<Secret>> {
        self.slot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| Err(Error::new(Code::InvalidArgument, "the fetch has not finished yet")))
    }
}

#[pymethods]
impl Pending {
    /// Whether the outcome is in.
    fn done(&self) -> bool {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// The descriptor that becomes readable when the outcome is in (-1 when already done).
    fn fileno(&self) -> i32 {
        self.reader.as_ref().map_or(-1, |r| r.as_raw_fd())
    }

    fn __repr__(&self) -> String {
        format!(
            "<starfleet_secrets fetch {}>",
            if self.done() { "done" } else { "in flight" }
        )
    }
}
