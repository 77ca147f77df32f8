//! A directory of YAML files (the input split on 0xFF into files) → merged, validated config.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use starfleet_secrets::config::{self, ConfigSource};
use starfleet_secrets::Code;

fn dir() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("starfleet-fuzz-config-{}", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (i, part) in data.split(|b| *b == 0xFF).take(8).enumerate() {
        let ext = if i % 2 == 0 { "yaml" } else { "yml" };
        std::fs::write(dir.join(format!("{i:02}.{ext}")), part).unwrap();
    }
    match config::load(&ConfigSource::Path(dir.to_path_buf())) {
        Ok(c) => {
            if let Some(sm) = c.secrets_manager {
                if let Some(region) = sm.region {
                    assert!(config::check_region(&region).is_ok());
                }
            }
        }
        Err(e) => assert_eq!(e.code(), Code::ConfigInvalid, "{e}"),
    }
});
