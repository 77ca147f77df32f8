//! What proxy support and the profile's transport settings add to building a client, where a
//! cold start pays it: reading the proxy variables when none is set, and reading the AWS
//! profile (for `ca_bundle` and `endpoint_url`) when there are no config files (Lambda) or
//! empty ones. Prints the per-call cost (BENCHMARKS.md has the figures) and fails if either
//! grows past a bound far above it, which only real work (parsing, I/O) would reach.
//!
//! `cargo test -p starfleet-secrets --test cold_start_cost -- --nocapture`
//! (its own process: it sets `AWS_CONFIG_FILE`; needs no harness).

use std::time::{Duration, Instant};

use starfleet_secrets::transport::{proxy_for, Scheme};

const CALLS: u32 = 2_000;

fn per_call(mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let started = Instant::now();
    for _ in 0..CALLS {
        f();
    }
    started.elapsed() / CALLS
}

#[test]
fn no_proxy_and_no_config_files_cost_microseconds() {
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        std::env::remove_var(name);
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let proxy = per_call(|| assert!(proxy_for(&env, Scheme::Https).is_none()));
    println!(
        "proxy variables read, none set: {:.3} us per client",
        proxy.as_secs_f64() * 1e6
    );
    assert!(proxy < Duration::from_micros(50), "{proxy:?}");

    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    for (what, path) in [
        ("no config files", "/nonexistent/aws-config"),
        ("empty config files", "/dev/null"),
    ] {
        std::env::set_var("AWS_CONFIG_FILE", path);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", path);
        let load = || {
            runtime
                .block_on(aws_config::profile::load(
                    &aws_types::os_shim_internal::Fs::real(),
                    &aws_types::os_shim_internal::Env::real(),
                    &files,
                    None,
                ))
                .unwrap();
        };
        let profile = per_call(load);
        println!("profile read, {what}: {:.2} us per client", profile.as_secs_f64() * 1e6);
        assert!(profile < Duration::from_millis(1), "{what}: {profile:?}");
    }
}
