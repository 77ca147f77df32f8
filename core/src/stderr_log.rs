//! `STARFLEET_LOG=debug` (or `error`, `warn`, `info`, `trace`; an unknown word means `debug`)
//! prints the library's log records to stderr as `[starfleet-secrets LEVEL] message`.
//!
//! For the front doors whose language has no logging framework the core could feed: Node,
//! C and Go (installed by the first manager), and the Rust example worker. Python forwards
//! the same records to `logging` instead. A Rust application that uses this crate directly
//! installs its own `log` logger and never calls this. Records name secrets, versions and
//! error codes, never values.

use std::sync::Once;

struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("starfleet_secrets")
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("[starfleet-secrets {}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Install the stderr logger once per process if `STARFLEET_LOG` is set (and no other `log`
/// logger was installed first); otherwise do nothing.
pub fn init_from_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(level) = std::env::var_os("STARFLEET_LOG") else {
            return;
        };
        let level = level
            .to_str()
            .and_then(|l| l.parse().ok())
            .unwrap_or(log::LevelFilter::Debug);
        if log::set_logger(&Stderr).is_ok() {
            log::set_max_level(level);
        }
    });
}
