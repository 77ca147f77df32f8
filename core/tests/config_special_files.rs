//! Configuration paths that are not regular files. Before the fix a FIFO as
//! `STARFLEET_CONFIG` hung the first access forever, and because the configuration was read
//! under the cache's state lock, `stats()` and `invalidate()` on other threads hung with it.
//! No harness needed: nothing here reaches Secrets Manager.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use starfleet_secrets::{config, Code, ConfigSource, Options, SecretsManager};
use support::mkfifo;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sf-special-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run `f` on a thread; fail (instead of hanging) if it has not returned within `limit`. A
/// thread stuck in `open()` on a FIFO is released by opening the FIFO for writing.
fn within<T: Send + 'static>(limit: Duration, fifo: &Path, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => {
            let _ = std::fs::OpenOptions::new().write(true).open(fifo); // unblock it
            panic!("did not return within {limit:?}: blocked on {}", fifo.display());
        }
    }
}

#[test]
fn a_fifo_as_the_configuration_file_is_config_invalid_at_once() {
    let dir = scratch("file");
    let fifo = dir.join("starfleet.yaml");
    mkfifo(&fifo);
    let source = ConfigSource::Path(fifo.clone());
    let e = within(Duration::from_secs(5), &fifo, move || {
        config::load(&source).unwrap_err()
    });
    assert_eq!(e.code(), Code::ConfigInvalid);
    assert!(
        e.message().contains(&fifo.display().to_string()) && e.message().contains("FIFO"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_fifo_inside_a_configuration_directory_is_config_invalid_naming_it() {
    let dir = scratch("dir");
    std::fs::write(
        dir.join("00-base.yaml"),
        "STARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: us-east-2\n",
    )
    .unwrap();
    let fifo = dir.join("10-pipe.yaml");
    mkfifo(&fifo);
    let source = ConfigSource::Path(dir.clone());
    let e = within(Duration::from_secs(5), &fifo, move || {
        config::load(&source).unwrap_err()
    });
    assert_eq!(e.code(), Code::ConfigInvalid);
    assert!(
        e.message().contains("10-pipe.yaml") && e.message().contains("not a regular file"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_device_is_refused() {
    let e = config::load(&ConfigSource::Path("/dev/zero".into())).unwrap_err();
    assert_eq!(e.code(), Code::ConfigInvalid);
    assert!(
        e.message().contains("/dev/zero") && e.message().contains("a device"),
        "{e}"
    );
}

#[test]
fn an_access_on_a_fifo_configuration_fails_fast_and_other_calls_stay_responsive() {
    let dir = scratch("manager");
    let fifo = dir.join("starfleet.yaml");
    mkfifo(&fifo);
    let m = Arc::new(SecretsManager::new(Options {
        config: Some(ConfigSource::Path(fifo.clone())),
        ..Default::default()
    }));
    let worker = m.clone();
    let access = std::thread::spawn(move || worker.secret_blocking().map(drop).unwrap_err());
    // Whatever the access is doing, these never wait for configuration I/O.
    let other = m.clone();
    within(Duration::from_secs(2), &fifo, move || {
        for _ in 0..100 {
            other.stats();
            other.invalidate();
            let _ = format!("{other:?}");
            assert!(other.cached().is_none());
        }
    });
    let e = within(Duration::from_secs(5), &fifo, move || access.join().unwrap());
    assert_eq!(e.code(), Code::ConfigInvalid, "{e}");
    assert!(e.message().contains(&fifo.display().to_string()), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_huge_directory_is_refused_while_it_is_listed() {
    let dir = scratch("many");
    for i in 0..=config::MAX_DIR_FILES {
        std::fs::write(dir.join(format!("{i:04}.yaml")), "").unwrap();
    }
    let e = config::load(&ConfigSource::Path(dir.clone())).unwrap_err();
    assert_eq!(e.code(), Code::ConfigInvalid);
    assert!(
        e.message()
            .contains(&format!("more than the {} YAML files", config::MAX_DIR_FILES)),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
