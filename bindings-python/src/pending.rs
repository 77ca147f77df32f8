//! A fetch for asyncio that never blocks the event loop and never touches Python from a
//! runtime thread.
//!
//! [`Pending::start`] runs the core's async access on the core's runtime. When it finishes
//! it stores the outcome and rings a [`Wakeup`]: the asyncio layer keeps one per event loop
//! (watched with `loop.add_reader(wakeup.fileno(), ...)`), and on each ring it checks which of
//! that loop's fetches are [`done`](Pending::done), then asks the manager to convert their
//! outcomes while attached. So an event loop uses two descriptors however many coroutines
//! wait on it: 300 concurrent `aget()` fit under `ulimit -n 256`.
//!
//! No GIL is taken on the runtime thread, so a fetch still in flight at interpreter exit
//! cannot touch a finalizing interpreter, and a cancelled await only forgets its fetch.

use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use starfleet_secrets::{runtime, Code, Error, Result, Secret, SecretsManager as Core};

use crate::errors::IntoPy;

type Slot = Arc<Mutex<Option<Result<Arc<Secret>>>>>;

/// The sending half of a [`Wakeup`], shared by the fetches started for its loop.
struct Bell {
    writer: UnixDatagram,
    /// A ring is on its way (sent and not yet drained): further rings add nothing, so the
    /// socket holds at most one datagram and a send never fails for a full buffer.
    rung: AtomicBool,
}

impl Bell {
    fn ring(&self) {
        if !self.rung.swap(true, Ordering::AcqRel) {
            // Fails only if the loop's wake-up was dropped; nobody is left to wake then.
            let _ = self.writer.send(&[1]);
        }
    }
}

/// One event loop's wake-up: readable when any fetch started for it has finished.
#[pyclass(module = "starfleet_secrets._native", name = "_Wakeup", frozen)]
pub struct Wakeup {
    reader: UnixDatagram,
    bell: Arc<Bell>,
}

#[pymethods]
impl Wakeup {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Wakeup> {
        Wakeup::open().py_err(py)
    }

    /// The descriptor to watch with `loop.add_reader`.
    fn fileno(&self) -> i32 {
        self.reader.as_raw_fd()
    }

    /// Empty the descriptor and re-arm the bell. Call it before checking which fetches are
    /// done: a fetch that finishes after this rings again.
    fn drain(&self) {
        let mut byte = [0u8; 1];
        loop {
            match self.reader.recv(&mut byte) {
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.bell.rung.store(false, Ordering::Release);
    }

    fn __repr__(&self) -> String {
        format!("<starfleet_secrets asyncio wake-up fd={}>", self.fileno())
    }
}

impl Wakeup {
    fn open() -> Result<Wakeup> {
        let io = |e: std::io::Error| Error::new(Code::Internal, format!("cannot set up the asyncio wake-up: {e}"));
        let (reader, writer) = UnixDatagram::pair().map_err(io)?;
        reader.set_nonblocking(true).map_err(io)?;
        writer.set_nonblocking(true).map_err(io)?;
        Ok(Wakeup {
            reader,
            bell: Arc::new(Bell {
                writer,
                rung: AtomicBool::new(false),
            }),
        })
    }
}

/// An access in flight (or already answered from the cache).
#[pyclass(module = "starfleet_secrets._native", name = "_Pending", frozen)]
pub struct Pending {
    slot: Slot,
}

impl Pending {
    /// Already answered (a cache hit): nothing to wait for.
    pub fn ready(secret: Arc<Secret>) -> Pending {
        Pending {
            slot: Arc::new(Mutex::new(Some(Ok(secret)))),
        }
    }

    /// Start `core.secret()` (or `core.refresh()`) on the core's runtime; ring `wakeup` when
    /// it has finished.
    pub fn start(core: Arc<Core>, refresh: bool, wakeup: &Wakeup) -> Result<Pending> {
        let slot: Slot = Arc::default();
        let done = slot.clone();
        let bell = wakeup.bell.clone();
        runtime::spawn(async move {
            let outcome = if refresh {
                core.refresh().await
            } else {
                core.secret().await
            };
            *done.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
            bell.ring();
        })?;
        Ok(Pending { slot })
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

    fn __repr__(&self) -> String {
        format!(
            "<starfleet_secrets fetch {}>",
            if self.done() { "done" } else { "in flight" }
        )
    }
}
