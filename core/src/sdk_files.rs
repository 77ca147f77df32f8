//! The files the AWS SDK reads by name, checked before it reads them.
//!
//! The SDK's config loader and credential providers read the shared config and credentials
//! files, a web identity token file and a container authorization token file with a blocking
//! `std::fs::read`, on the thread that drives the read (a blocking caller's own thread, or
//! the runtime's one worker). A FIFO there blocks that thread until a writer comes, which may
//! be never, past any deadline: the deadline's timer runs on the same thread. A device such
//! as `/dev/zero` is read until memory runs out. So [`check`] looks at each file (a `stat`,
//! which neither opens nor waits) before the SDK's first read, and a file that is there and
//! is neither a regular file nor `/dev/null` is CONFIG_INVALID at once, naming the variable
//! and the path. botocore instead treats a shared config or credentials file that is not a
//! regular file as absent (it reads only what `os.path.isfile` accepts), silently; a file
//! named for it that is a FIFO is surely a mistake, and an error that names it says so. (A
//! FIFO as `AWS_CA_BUNDLE`, which `transport` reads, botocore waits on: still waiting when
//! killed after 15 s.)
//!
//! `/dev/null` stays allowed: `AWS_CONFIG_FILE=/dev/null` is the usual way to run without
//! the shared files. A missing file is the SDK's to handle (it is not an error for the shared
//! files). The selected profile's `web_identity_token_file` is checked the same way once the
//! profile is read (`source::sdk_client`, with [`check_file`]); other files the SDK reads by a
//! profile's setting (a source profile's token file, the SSO token cache) are not, nor a file
//! swapped for a FIFO after the check.

use std::path::{Path, PathBuf};

use crate::config::file_kind;
use crate::error::{Code, Error, Result};
use crate::settings::EnvLookup;

/// Each variable naming a file the SDK reads, and the file it reads when the variable is unset.
const NAMED: [(&str, Option<&str>); 4] = [
    ("AWS_CONFIG_FILE", Some("~/.aws/config")),
    ("AWS_SHARED_CREDENTIALS_FILE", Some("~/.aws/credentials")),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", None),
    ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", None),
];

/// CONFIG_INVALID for the first file of [`NAMED`] that would block or never end the SDK's
/// read of it (see the module doc).
pub fn check(env: EnvLookup<'_>) -> Result<()> {
    for (var, default) in NAMED {
        let (named, what) = match (env(var), default) {
            (Some(named), _) => (named, var.to_owned()),
            (None, Some(default)) => (default.to_owned(), format!("{var} unset, {default}")),
            (None, None) => continue,
        };
        if let Some(path) = expand_home(&named, env) {
            check_file(&what, &path)?;
        }
    }
    Ok(())
}

/// CONFIG_INVALID when the file at `path` (`what` names where it was named) is there and is
/// neither a regular file nor `/dev/null` (see the module doc).
pub fn check_file(what: &str, path: &Path) -> Result<()> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    if meta.is_file() || is_dev_null(&meta) {
        return Ok(());
    }
    Err(Error::new(
        Code::ConfigInvalid,
        format!(
            "{what} ({}): the file is {}, not a regular file (the AWS SDK would wait on it or read it without end)",
            path.display(),
            file_kind(meta.file_type())
        ),
    ))
}

/// `named` with a leading `~/` replaced by `HOME`, as the SDK expands it; `None` when it
/// starts with `~/` and there is no `HOME` (the SDK then finds no file either).
fn expand_home(named: &str, env: EnvLookup<'_>) -> Option<PathBuf> {
    match named.strip_prefix("~/") {
        Some(rest) => Some(Path::new(&env("HOME")?).join(rest)),
        None => Some(PathBuf::from(named)),
    }
}

/// Whether `meta` is `/dev/null`'s device (also through a link), which reads as empty.
fn is_dev_null(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        meta.file_type().is_char_device() && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sf-sdk-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".aws")).unwrap();
        dir
    }

    fn mkfifo(path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    fn check_with(vars: &[(&str, &str)]) -> Result<()> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        check(&move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn regular_missing_and_dev_null_files_pass() {
        let home = scratch("fine");
        std::fs::write(home.join(".aws/config"), "[default]\n").unwrap();
        let token = home.join("token");
        std::fs::write(&token, "t").unwrap();
        let shown = home.to_str().unwrap();
        check_with(&[
            ("HOME", shown),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
        ])
        .unwrap();
        check_with(&[("HOME", shown), ("AWS_CONFIG_FILE", "/dev/null")]).unwrap();
        check_with(&[("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")]).unwrap();
        check_with(&[]).unwrap();
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn a_fifo_a_device_or_a_directory_is_config_invalid_naming_the_variable() {
        let home = scratch("special");
        let fifo = home.join("pipe");
        mkfifo(&fifo);
        let fifo = fifo.to_str().unwrap();
        for (var, path, kind) in [
            ("AWS_CONFIG_FILE", fifo, "a FIFO"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/zero", "a device"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp", "a directory"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", fifo, "a FIFO"),
        ] {
            let e = check_with(&[(var, path)]).unwrap_err();
            assert_eq!(e.code(), Code::ConfigInvalid);
            assert!(
                e.message()
                    .starts_with(&format!("{var} ({path}): the file is {kind}, not a regular file")),
                "{e}"
            );
        }
        // The default place, under HOME.
        mkfifo(&home.join(".aws/credentials"));
        let e = check_with(&[("HOME", home.to_str().unwrap())]).unwrap_err();
        let shown = home.join(".aws/credentials");
        assert!(
            e.message().starts_with(&format!(
                "AWS_SHARED_CREDENTIALS_FILE unset, ~/.aws/credentials ({}): the file is a FIFO",
                shown.display()
            )),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&home);
    }
}
