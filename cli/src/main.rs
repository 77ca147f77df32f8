//! `starfleet-secrets`: everything lives in the library so the Python package can run the
//! same tool as a console script (see `starfleet_secrets_cli::run`).

fn main() {
    std::process::exit(starfleet_secrets_cli::run(std::env::args_os().collect()));
}
