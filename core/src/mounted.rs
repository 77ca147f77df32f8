//! Where the secret comes from ([`Source`]), and the sources the platform delivers instead of
//! Secrets Manager: a file it mounts, an environment variable it sets, or Flyte's secret
//! injection (either of the two).
//!
//! * Kubernetes' Secrets Store CSI driver (AWS provider) and projected volumes write files
//!   through Kubernetes' atomic writer: `<dir>/name -> ..data/name`, `..data -> ..<timestamp>`,
//!   and a rotation writes a new `..<timestamp>` directory and renames a new `..data` link over
//!   the old one. The path is opened as given, so the open follows whichever `..data` is in
//!   place at that instant and reads one complete version (the old directory's files are never
//!   rewritten). A plain file rewritten in place is re-checked after the read (`fstat` before
//!   and after) and read again once if it changed meanwhile.
//! * ECS injects a `valueFrom` secret as an environment variable at start: the whole
//!   SecretString (a JSON document) is supported; a `json-key` injection holds one key's value,
//!   which is not a JSON document and is refused (SECRET_FORMAT) with that hint.
//! * Flyte / Union (`Secret.MountType.ENV_VAR` / `FILE`): see [`flyte_places`].
//!
//! The value is the same [`Secret`] a `GetSecretValue` gives (a JSON object, parsed by
//! [`Secret::from_parts`]), so the cache, `on_change`, stats, key paths and redaction do not
//! know where it came from. Its VersionId is a content hash (keyed per process, see
//! [`content_version`]), so a rotated file or variable is a new version and `on_change` fires,
//! and an unchanged one keeps the cached value. No SDK client, credentials or network are
//! involved.
//!
//! A file is re-read only when it may have changed: its [`Stamp`] (the `..data` link target,
//! and the device, inode, size, modification and change times of the file the path resolves
//! to) is compared with the one of the cached read first.

use std::collections::HashSet;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use zeroize::Zeroizing;

use crate::config::{self, MAX_FILE_BYTES};
use crate::document::Secret;
use crate::error::{Code, Error, Result};
use crate::settings::process_env;

/// Where the secret is read from (the `source` option).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Source {
    /// `secretsmanager`: `GetSecretValue` (the default).
    #[default]
    SecretsManager,
    /// `file:<path>`: a file the platform mounts.
    File(PathBuf),
    /// `env:<NAME>`: an environment variable the platform sets.
    Env(String),
    /// `flyte:<group>/<key>`: Flyte's injected secret, environment first, then file.
    Flyte { group: String, key: String },
}

impl Source {
    /// `secretsmanager`, `file:<path>`, `env:<NAME>` or `flyte:<group>/<key>`; the reason
    /// otherwise (the caller says where the text came from).
    pub fn parse(text: &str) -> std::result::Result<Source, String> {
        let wrong = |why: &str| Err(format!("{text:?} {why}"));
        if text.contains('\0') {
            return wrong("contains a NUL character");
        }
        if text
            .trim()
            .eq_ignore_ascii_case(crate::settings::SOURCE_SECRETS_MANAGER)
        {
            return Ok(Source::SecretsManager);
        }
        if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return wrong("names no file (file:<path>)");
            }
            return Ok(Source::File(PathBuf::from(path)));
        }
        if let Some(name) = text.strip_prefix("env:") {
            if name.is_empty() || name.contains('=') {
                return wrong("is not an environment variable name (env:<NAME>)");
            }
            return Ok(Source::Env(name.to_owned()));
        }
        if let Some(rest) = text.strip_prefix("flyte:") {
            return match rest.split_once('/') {
                Some((group, key)) if !group.is_empty() && !key.is_empty() && !key.contains('/') => Ok(Source::Flyte {
                    group: group.to_owned(),
                    key: key.to_owned(),
                }),
                _ => wrong("is not a Flyte secret (flyte:<group>/<key>)"),
            };
        }
        wrong(
            "is not a secret source (expected \"secretsmanager\", \"file:<path>\", \"env:<NAME>\" or \"flyte:<group>/<key>\")",
        )
    }

    /// Whether the platform delivers the value (anything but Secrets Manager).
    pub fn is_mounted(&self) -> bool {
        !matches!(self, Source::SecretsManager)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::SecretsManager => f.write_str(crate::settings::SOURCE_SECRETS_MANAGER),
            Source::File(path) => write!(f, "file:{}", path.display()),
            Source::Env(name) => write!(f, "env:{name}"),
            Source::Flyte { group, key } => write!(f, "flyte:{group}/{key}"),
        }
    }
}

/// What identifies one version of a file without reading it: the `..data` link's target
/// (Kubernetes' atomic writer), and the device, inode, size, modification and change times of
/// the file the path resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    data_link: Option<PathBuf>,
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata, data_link: Option<PathBuf>) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Stamp {
                data_link,
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            }
        }
        #[cfg(not(unix))]
        {
            let nanos = |t: std::io::Result<std::time::SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or((0, 0), |d| (d.as_secs() as i64, i64::from(d.subsec_nanos())))
            };
            Stamp {
                data_link,
                dev: 0,
                ino: 0,
                size: meta.len(),
                mtime: nanos(meta.modified()),
                ctime: nanos(meta.created()),
            }
        }
    }
}

/// What a read of a mounted source found.
#[allow(clippy::large_enum_variant)] // returned once per read and taken apart at once
pub enum Read {
    /// The file's [`Stamp`] is the one of the cached read: nothing was read.
    Unchanged,
    /// The value, and the stamp of the file it was read from (none for a variable).
    Value(Secret, Option<Stamp>),
}

/// Read `source` (a mounted one), unless it is a file whose stamp is still `cached`.
/// Errors name the source and the path or variable, never the value.
pub fn read(source: &Source, cached: Option<&Stamp>) -> Result<Read> {
    let label = source.to_string();
    match source {
        Source::SecretsManager => Err(Error::new(
            Code::Internal,
            "the Secrets Manager source read as a mounted one (a bug in starfleet-secrets)",
        )),
        Source::File(path) => read_file(&label, path, cached, false),
        Source::Env(name) => {
            let value = env_value(name)?.ok_or_else(|| {
                Error::new(
                    Code::SecretNotFound,
                    format!("{label}: the environment variable {name} is not set"),
                )
            })?;
            secret_of(&label, value, false).map(|s| Read::Value(s, None))
        }
        Source::Flyte { group, key } => {
            let (variable, path) = flyte_places(group, key, &process_env);
            match env_value(&variable)? {
                Some(value) => secret_of(&label, value, true).map(|s| Read::Value(s, None)),
                None => read_file(&label, &path, cached, true).map_err(|e| {
                    if e.code() == Code::SecretNotFound {
                        Error::new(
                            Code::SecretNotFound,
                            format!(
                                "{label}: neither the environment variable {variable} nor the file {} is there",
                                path.display()
                            ),
                        )
                    } else {
                        e
                    }
                }),
            }
        }
    }
}

/// Where flytekit looks for the secret `group`/`key`, followed exactly as flytekit's
/// `SecretsManager.get` (flytekit/core/context_manager.py) and `SecretsConfig`
/// (flytekit/configuration/__init__.py, internal.py) do it:
///
/// 1. the environment variable `<env_prefix><GROUP>_<KEY>` (group and key upper-cased, joined
///    by `_`; the prefix as configured), `env_prefix` from `FLYTE_SECRETS_ENV_PREFIX`, default
///    `_FSEC_`; its value stripped of surrounding whitespace;
/// 2. else the file `<default_dir>/<group>/<file_prefix><key>` (group and key lower-cased),
///    `default_dir` from `FLYTE_SECRETS_DEFAULT_DIR`, default `/etc/secrets` (flytekit's
///    default, not `/etc/flyte/secrets`), `file_prefix` from `FLYTE_SECRETS_FILE_PREFIX`,
///    default empty; its text stripped too. The three settings are stripped as flytekit does.
///
/// Not followed: the unprefixed `<GROUP>_<KEY>` variable flytekit also tries in a local
/// execution (this library cannot tell a local execution from a remote one), flytekit's
/// config-file spelling of the three settings, and `group_version`.
pub fn flyte_places(group: &str, key: &str, env: crate::settings::EnvLookup<'_>) -> (String, PathBuf) {
    let setting = |name: &str, default: &str| env(name).map_or(default.to_owned(), |v| v.trim().to_owned());
    let prefix = setting("FLYTE_SECRETS_ENV_PREFIX", "_FSEC_");
    let dir = setting("FLYTE_SECRETS_DEFAULT_DIR", "/etc/secrets");
    let file_prefix = setting("FLYTE_SECRETS_FILE_PREFIX", "");
    let variable = format!("{prefix}{}_{}", group.to_uppercase(), key.to_uppercase());
    let path = Path::new(&dir)
        .join(group.to_lowercase())
        .join(format!("{file_prefix}{}", key.to_lowercase()));
    (variable, path)
}

/// A variable's value (set but empty counts as set, as `os.environ.get` sees it), or `None`.
fn env_value(name: &str) -> Result<Option<Zeroizing<String>>> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(Zeroizing::new(value))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
            Code::SecretFormat,
            format!("the environment variable {name} is not UTF-8 text"),
        )),
    }
}

/// The secret of one value read from `label`; `strip`: surrounding whitespace removed first
/// (Flyte's rule; JSON ignores it anyway, but the version hash would not).
fn secret_of(label: &str, value: Zeroizing<String>, strip: bool) -> Result<Secret> {
    let value = if strip && value.trim().len() != value.len() {
        Zeroizing::new(value.trim().to_owned())
    } else {
        value
    };
    let version = content_version(value.as_bytes());
    Secret::from_parts(
        label,
        None,
        None,
        Some(version),
        Vec::new(),
        Some(value.to_string()),
        None,
    )
    .map_err(|e| {
        let hint = if value.trim_start().starts_with(['{', '[']) {
            ""
        } else {
            " (an ECS json-key injection holds one key's value: inject the whole secret instead)"
        };
        let message = e.message().replacen("SecretString", "the value", 1);
        Error::new(e.code(), format!("{label}: {message}{hint}"))
    })
}

/// The VersionId of a mounted value: an HMAC-SHA-256 of the bytes under a key drawn once per
/// process, cut to 128 bits. The same bytes give the same VersionId within a process (so an
/// unchanged file is no change), other bytes another one; keyed, so the VersionId shown by
/// `stats()` or in a log cannot be used to test guesses of a short value offline.
pub fn content_version(bytes: &[u8]) -> String {
    static KEY: OnceLock<ring::hmac::Key> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut seed = [0u8; 32];
        // No OS generator (never on the platforms served): still a per-process key.
        if getrandom::getrandom(&mut seed).is_err() {
            let fallback = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            seed[..fallback.len().min(32)].copy_from_slice(&fallback.as_bytes()[..fallback.len().min(32)]);
        }
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &seed)
    });
    let tag = ring::hmac::sign(key, bytes);
    let hex: String = tag.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("content-{hex}")
}

/// The target of the `..data` link beside `path` (Kubernetes' atomic writer), if there is one.
fn data_link(path: &Path) -> Option<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::read_link(dir.join("..data")).ok()
}

/// Read the file at `path` (see the module doc); `trim`: Flyte's whitespace rule.
fn read_file(label: &str, path: &Path, cached: Option<&Stamp>, trim: bool) -> Result<Read> {
    let shown = path.display();
    let link = data_link(path);
    if let Some(cached) = cached {
        if let Ok(meta) = std::fs::metadata(path) {
            if Stamp::of(&meta, link.clone()) == *cached {
                return Ok(Read::Unchanged);
            }
        }
    }
    for _ in 0..2 {
        let file = config::open_regular_file(path).map_err(|e| file_error(label, path, e))?;
        let before = file
            .metadata()
            .map_err(|e| file_error(label, path, config::Unopened::Io(e)))?;
        let mut bytes = Zeroizing::new(Vec::new());
        (&file)
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| file_error(label, path, config::Unopened::Io(e)))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::new(
                Code::SecretFormat,
                format!("{label}: {shown} is larger than the {MAX_FILE_BYTES}-byte limit"),
            ));
        }
        let after = file
            .metadata()
            .map_err(|e| file_error(label, path, config::Unopened::Io(e)))?;
        let stamp = Stamp::of(&before, link.clone());
        if stamp != Stamp::of(&after, link.clone()) {
            continue; // rewritten in place while it was read: read it again
        }
        warn_if_readable_by_others(label, &before, link.is_some());
        let text = match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Zeroizing::new(text),
            Err(e) => {
                let mut rejected = e.into_bytes();
                zeroize::Zeroize::zeroize(&mut rejected);
                return Err(Error::new(
                    Code::SecretFormat,
                    format!("{label}: {shown} is not UTF-8 text"),
                ));
            }
        };
        return secret_of(label, text, trim).map(|s| Read::Value(s, Some(stamp)));
    }
    Err(Error::new(
        Code::Service,
        format!("{label}: {shown} was being rewritten during two reads in a row; the next refresh reads it again"),
    ))
}

/// A file that cannot be opened or read, typed: missing is SECRET_NOT_FOUND, not allowed
/// ACCESS_DENIED, not a regular file (a FIFO, a directory, a device) or any other failure
/// CONFIG_INVALID; the message names the path, as the configuration's errors do.
fn file_error(label: &str, path: &Path, e: config::Unopened) -> Error {
    let shown = path.display();
    match e {
        config::Unopened::Kind(kind) => Error::new(
            Code::ConfigInvalid,
            format!("{label}: {shown} is {kind}, not a regular file"),
        ),
        config::Unopened::Io(e) => {
            let code = match e.kind() {
                std::io::ErrorKind::NotFound => Code::SecretNotFound,
                std::io::ErrorKind::PermissionDenied => Code::AccessDenied,
                _ => Code::ConfigInvalid,
            };
            Error::new(code, format!("{label}: cannot read {shown}: {e}"))
        }
    }
}

/// One warning per path and process when a secret file that is not on a Kubernetes projected
/// volume (whose files are shared read-only by design and carry the pod's `defaultMode`) may
/// be read by other users: permissions looser than 0600.
fn warn_if_readable_by_others(label: &str, meta: &std::fs::Metadata, projected: bool) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
        let mode = meta.permissions().mode() & 0o777;
        if projected || mode & 0o077 == 0 {
            return;
        }
        let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
        if warned.get_or_insert_with(HashSet::new).insert(label.to_owned()) {
            log::warn!("{label}: the file's permissions are {mode:04o}, looser than 0600: other users of this machine may read the secret");
        }
    }
    #[cfg(not(unix))]
    let _ = (label, meta, projected);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(Source::parse("secretsmanager"), Ok(Source::SecretsManager));
        assert_eq!(Source::parse("SecretsManager"), Ok(Source::SecretsManager));
        assert_eq!(
            Source::parse("file:/mnt/secrets/app.json"),
            Ok(Source::File("/mnt/secrets/app.json".into()))
        );
        assert_eq!(Source::parse("env:APP_SECRET"), Ok(Source::Env("APP_SECRET".into())));
        assert_eq!(
            Source::parse("flyte:aws/db"),
            Ok(Source::Flyte {
                group: "aws".into(),
                key: "db".into()
            })
        );
        for bad in [
            "",
            "file:",
            "env:",
            "env:A=B",
            "flyte:aws",
            "flyte:/k",
            "flyte:g/",
            "flyte:g/k/x",
            "s3://x",
            "file:/a\0b",
        ] {
            assert!(Source::parse(bad).is_err(), "{bad:?}");
        }
        for text in ["secretsmanager", "file:/a b/c", "env:X", "flyte:g/k"] {
            assert_eq!(Source::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn flyte_names_as_flytekit_builds_them() {
        let none = |_: &str| None;
        let (variable, path) = flyte_places("Aws", "Db_Creds", &none);
        assert_eq!(variable, "_FSEC_AWS_DB_CREDS");
        assert_eq!(path, PathBuf::from("/etc/secrets/aws/db_creds"));
        let set = |name: &str| match name {
            "FLYTE_SECRETS_ENV_PREFIX" => Some("MY_ ".to_owned()),
            "FLYTE_SECRETS_DEFAULT_DIR" => Some(" /var/run/flyte".to_owned()),
            "FLYTE_SECRETS_FILE_PREFIX" => Some("sec-".to_owned()),
            _ => None,
        };
        let (variable, path) = flyte_places("g", "K", &set);
        assert_eq!(variable, "MY_G_K");
        assert_eq!(path, PathBuf::from("/var/run/flyte/g/sec-k"));
    }

    #[test]
    fn the_version_is_a_keyed_content_hash() {
        let a = content_version(b"{\"a\":1}");
        assert_eq!(a, content_version(b"{\"a\":1}"));
        assert_ne!(a, content_version(b"{\"a\":2}"));
        assert!(a.starts_with("content-") && a.len() == "content-".len() + 32, "{a}");
    }
}
