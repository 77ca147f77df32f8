//! A Starfleet-style worker in Rust: locate the Starfleet secret the way every front door
//! does (arguments, then `STARFLEET_SECRET_ID`/`STARFLEET_SECRET_REGION`, then the Starfleet
//! configuration named by `STARFLEET_CONFIG`), read `STARFLEET.SlackToken` (or the key path
//! given as the first argument) and confirm it without printing it.
//!
//! `STARFLEET_LOG=debug` prints the library's log records to stderr (they never hold values).
//! Exit status: 0 on success, 1 with `CODE: message` on stderr on failure.

use std::process::ExitCode;

use starfleet_secrets::{Options, Path, SecretsManager};

fn main() -> ExitCode {
    starfleet_secrets::stderr_log::init_from_env();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "STARFLEET.SlackToken".to_owned());
    let manager = SecretsManager::new(Options::default());
    let result = Path::parse_dotted(&path).and_then(|p| {
        manager
            .secret_blocking()
            .and_then(|s| s.get_str(&p).map(|v| v.chars().count()))
    });
    match result {
        Ok(chars) => {
            let stats = manager.stats();
            println!(
                "rust worker: read {path} ({chars} characters, value redacted; version {}, {} fetch)",
                stats.version_id.as_deref().unwrap_or("?"),
                stats.fetches
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rust worker: {e}");
            ExitCode::FAILURE
        }
    }
}
