//! Any YAML text → the Starfleet config validator: never a panic, never unbounded work.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starfleet_secrets::config::{self, ConfigSource};

fuzz_target!(|data: &[u8]| {
    let yaml = String::from_utf8_lossy(data).into_owned();
    if let Err(e) = config::load(&ConfigSource::Text { name: "fuzz.yaml".into(), yaml }) {
        assert_eq!(e.code(), starfleet_secrets::Code::ConfigInvalid, "{e}");
    }
});
