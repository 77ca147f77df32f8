//! The core's `log` records → Python `logging`, under the logger `starfleet_secrets`.
//!
//! Why not forward each record at once (as pyo3-log does): that needs the GIL inside
//! `log::Log::log`, and the core logs while it holds its cache lock. A Python thread that
//! holds the GIL and waits for that lock (any cache hit) would deadlock with it, a logging
//! handler that reads a secret would re-enter the lock, and a runtime thread would touch
//! a finalizing interpreter. So records are queued here without any Python, and
//! [`drain`] hands them to `logging` from a thread that is attached anyway: right after each
//! blocking call returns, and when an asyncio fetch completes.
//!
//! Only the core's and this crate's records are forwarded (targets `starfleet_secrets*`);
//! none of them ever holds a secret value. A target `starfleet_secrets::cache` becomes the
//! logger `starfleet_secrets.cache`, a child of `starfleet_secrets`.
//!
//! `logging` is never imported for this (it costs cold-start milliseconds): while the
//! application has not imported it, nobody can have configured a handler and records are
//! dropped, which is what logging would do with them too. Once it is imported, the first
//! forwarded record adds the library convention's `NullHandler` to `starfleet_secrets`, so
//! nothing is printed through logging's last-resort handler unless the application
//! configured logging.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Records kept while nobody drains; the oldest are dropped beyond this.
const MAX_QUEUED: usize = 256;
/// The Python logger everything goes under.
const ROOT: &str = "starfleet_secrets";

struct Queued {
    level: Level,
    logger: String,
    message: String,
}

static QUEUE: Mutex<VecDeque<Queued>> = Mutex::new(VecDeque::new());
static PENDING: AtomicBool = AtomicBool::new(false);
static LOGGING: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

struct Bridge;

static BRIDGE: Bridge = Bridge;

impl Log for Bridge {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with(ROOT) && metadata.level() <= Level::Debug
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let item = Queued {
            level: record.level(),
            logger: python_logger(record.target()),
            message: record.args().to_string(),
        };
        let mut queue = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
        if queue.len() >= MAX_QUEUED {
            queue.pop_front();
        }
        queue.push_back(item);
        PENDING.store(true, Ordering::Release);
    }

    fn flush(&self) {}
}

/// `starfleet_secrets::cache` → `starfleet_secrets.cache`; this crate's own records
/// (`starfleet_secrets_python::...`) go to `starfleet_secrets`.
fn python_logger(target: &str) -> String {
    match target.strip_prefix(ROOT) {
        Some(rest) if rest.is_empty() || rest.starts_with("::") => target.replace("::", "."),
        _ => ROOT.to_owned(),
    }
}

/// Install the bridge as this extension's `log` logger (once; later calls do nothing).
pub fn install() {
    if log::set_logger(&BRIDGE).is_ok() {
        log::set_max_level(LevelFilter::Debug);
    }
}

fn python_level(level: Level) -> u8 {
    match level {
        Level::Error => 40,
        Level::Warn => 30,
        Level::Info => 20,
        Level::Debug => 10,
        Level::Trace => 5,
    }
}

/// `logging` if the application imported it, with the `NullHandler` added; an error (not
/// remembered, so the next drain looks again) while it is not imported.
fn imported_logging(py: Python<'_>) -> PyResult<Py<PyModule>> {
    let logging = py
        .import("sys")?
        .getattr("modules")?
        .get_item("logging")?
        .cast_into::<PyModule>()?;
    let handler = logging.getattr("NullHandler")?.call0()?;
    logging
        .call_method1("getLogger", (ROOT,))?
        .call_method1("addHandler", (handler,))?;
    Ok(logging.unbind())
}

/// Hand queued records to `logging` (cheap when there are none).
pub fn drain(py: Python<'_>) {
    if !PENDING.swap(false, Ordering::AcqRel) {
        return;
    }
    let items: Vec<Queued> = QUEUE.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect();
    let Ok(logging) = LOGGING.get_or_try_init(py, || imported_logging(py)) else {
        return;
    };
    for item in items {
        let emitted = logging
            .bind(py)
            .call_method1("getLogger", (item.logger.as_str(),))
            .and_then(|logger| logger.call_method1("log", (python_level(item.level), item.message.as_str())));
        // A failing handler must not turn a successful read into an error; logging reports
        // its own handler errors through Handler.handleError.
        if let Err(e) = emitted {
            e.write_unraisable(py, None);
        }
    }
}
