//! `STARFLEET_LOG=debug` (or `info`, `warn`, `trace`) prints core's log records to stderr.
//! Core's records name secrets, versions and error codes, never values.

use std::sync::Once;

struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        if record.target().starts_with("starfleet_secrets") {
            eprintln!("[starfleet-secrets {}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Install the logger once per process, if `STARFLEET_LOG` asks for it.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(level) = std::env::var("STARFLEET_LOG") else {
            return;
        };
        if log::set_logger(&Stderr).is_ok() {
            log::set_max_level(level.parse().unwrap_or(log::LevelFilter::Debug));
        }
    });
}
