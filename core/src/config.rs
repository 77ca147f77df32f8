//! Starfleet configuration: YAML → the secret's location, validated.
//!
//! Starfleet keeps its configuration as a directory of YAML files merged at the top level
//! (a later file replaces a whole top-level key). Only the `STARFLEET` stanza matters here:
//!
//! ```yaml
//! STARFLEET:
//!   SecretsManager:
//!     SecretId: Starfleet       # name or ARN
//!     SecretRegion: us-east-2
//!   SlackEnabled: true          # only valid with SecretsManager
//! ```
//!
//! Every error names the file and the key path; YAML syntax errors also give the line.
//! Parsing is bounded: files over [`MAX_FILE_BYTES`] are refused before they are read, and
//! [`crate::yaml`] counts the document as its aliases expand it (nodes, bytes of text, depth),
//! so a "billion laughs" file, or one large anchored scalar referenced many times, is refused
//! after a few MiB instead of exhausting memory.

use std::fmt;
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};

use crate::yaml::{self, Mapping, Value};

use crate::error::{Code, Error, Result};

// The name rules live in `arn`; `config::check_region` & co. stay valid paths for callers
// that validate a configuration's names next to its other rules.
pub use crate::arn::{arn_field, arn_in_region, arn_region, check_arn_region, check_region, check_secret_id};

/// Largest configuration file read (Starfleet configs are a few KiB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most YAML files read from one configuration directory.
pub const MAX_DIR_FILES: usize = 512;
/// Most entries of any kind listed in a configuration directory (a bound on the listing's
/// time, whatever the directory holds besides YAML).
pub const MAX_DIR_ENTRIES: usize = 16 * 1024;

/// Where a Starfleet configuration comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A YAML file, or a directory of `*.yaml` / `*.yml` files.
    Path(PathBuf),
    /// YAML text; `name` is used in error messages in place of a file name.
    Text { name: String, yaml: String },
    /// A configuration the host application already loaded (Starfleet's own
    /// `STARFLEET_CONFIGURATION.config`), as a JSON tree of its top-level mapping; `name`
    /// stands for it in messages. Validated by the same rules as a file, except that the host
    /// validated it by its own schema, so a missing `STARFLEET.SecretsManager` is only "not
    /// configured" (CONFIG_MISSING) even when `SlackEnabled` is true.
    Loaded { name: String, tree: serde_json::Value },
}

impl fmt::Debug for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Path(p) => write!(f, "ConfigSource::Path({})", p.display()),
            ConfigSource::Text { name, yaml } => {
                write!(f, "ConfigSource::Text({name}, {} bytes)", yaml.len())
            }
            ConfigSource::Loaded { name, .. } => write!(f, "ConfigSource::Loaded({name})"),
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Path(p) => write!(f, "{}", p.display()),
            ConfigSource::Text { name, .. } | ConfigSource::Loaded { name, .. } => f.write_str(name),
        }
    }
}

/// Where the secret lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretLocation {
    /// Secret name or full ARN.
    pub secret_id: String,
    /// AWS region, e.g. `us-east-2`.
    pub region: String,
}

/// The `STARFLEET.SecretsManager` stanza as found (either key may be absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretsManagerStanza {
    pub secret_id: Option<String>,
    pub region: Option<String>,
    /// `Source`: where the secret is read from (`crate::mounted::Source`), when given.
    pub source: Option<crate::mounted::Source>,
}

/// What this library needs from a validated Starfleet configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarfleetConfig {
    /// `STARFLEET.SecretsManager`, if configured.
    pub secrets_manager: Option<SecretsManagerStanza>,
    /// `STARFLEET.SlackEnabled` (false when absent).
    pub slack_enabled: bool,
    /// The file that supplied the `STARFLEET` stanza (for messages).
    pub origin: String,
}

/// One problem found while validating, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File (or text source name) the problem is in.
    pub file: String,
    /// Dotted key path, empty for whole-file problems.
    pub key_path: String,
    /// 1-based line, for YAML syntax errors.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key_path.is_empty() {
            write!(f, ": {}", self.key_path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Error {
        Error::new(Code::ConfigInvalid, format!("Starfleet configuration {p}"))
    }
}

/// Load and validate a Starfleet configuration from a file, directory or text.
///
/// The error is the first of [`problems`]: the same rules, checked in the same order.
pub fn load(source: &ConfigSource) -> Result<StarfleetConfig> {
    let mut found = Vec::new();
    let (config, _) = examine(source, &mut found);
    match found.into_iter().next() {
        Some(first) => Err(first.into()),
        None => Ok(config),
    }
}

/// Every problem of a configuration, not only the first (empty = valid): unreadable and
/// malformed files, then each rule the merged `STARFLEET` stanza breaks.
///
/// They come in the order [`load`] meets them, so the first one is the error `load` returns.
/// A rule problem also carries the line of its key in the file that supplied `STARFLEET`
/// (for a missing key, the line of the mapping it is missing from), from the YAML parser's
/// spans ([`yaml::key_line`]), in block or flow style.
pub fn problems(source: &ConfigSource) -> Vec<Problem> {
    let mut found = Vec::new();
    let (_, files) = examine(source, &mut found);
    for p in &mut found {
        if p.line.is_none() && !p.key_path.is_empty() {
            if let Some((_, text)) = files.iter().find(|(name, _)| *name == p.file) {
                p.line = yaml::key_line(text, &p.key_path.split('.').collect::<Vec<_>>());
            }
        }
    }
    found
}

/// The one pass behind [`load`] and [`problems`]: read, parse, merge and validate, recording
/// every problem in `found`. Returns what could be extracted and the texts that were read.
fn examine(source: &ConfigSource, found: &mut Vec<Problem>) -> (StarfleetConfig, Vec<(String, String)>) {
    let files = read_sources(source, found);
    let mut merged = Mapping::new();
    // Which file supplied each top-level key, so errors point at the file that won.
    let mut owner: Vec<(String, String)> = Vec::new();
    let roots: Vec<(String, std::result::Result<Mapping, Problem>)> = match source {
        ConfigSource::Loaded { name, tree } => vec![(name.clone(), loaded_root(name, tree))],
        _ => files
            .iter()
            .map(|(name, text)| (name.clone(), parse_root(name, text)))
            .collect(),
    };
    for (name, root) in roots {
        let root = match root {
            Ok(root) => root,
            Err(p) => {
                found.push(p);
                continue;
            }
        };
        for (key, value) in root {
            let key_name = key_label(&key);
            owner.retain(|(k, _)| *k != key_name);
            owner.push((key_name, name.clone()));
            merged.insert(key, value);
        }
    }
    let origin = owner
        .iter()
        .find(|(k, _)| k == "STARFLEET")
        .map(|(_, f)| f.clone())
        .unwrap_or_else(|| source.to_string());
    let from_host = matches!(source, ConfigSource::Loaded { .. });
    let config = validate(&merged, from_host, &mut Findings { file: &origin, found });
    (config, files)
}

/// Parse one YAML text into its top-level mapping. An empty file is an empty mapping.
fn parse_root(name: &str, text: &str) -> std::result::Result<Mapping, Problem> {
    let value = yaml::parse(text).map_err(|e| Problem {
        file: name.to_owned(),
        key_path: String::new(),
        line: e.line,
        message: e.message,
    })?;
    match value {
        Value::Mapping(m) => Ok(m),
        Value::Null => Ok(Mapping::new()),
        other => Err(Problem {
            file: name.to_owned(),
            key_path: String::new(),
            line: None,
            message: format!(
                "the root must be a mapping of top-level keys, found {}",
                yaml_kind(&other)
            ),
        }),
    }
}

/// The top-level mapping of a host's already-loaded configuration. Only `STARFLEET` is
/// taken: nothing else is read here, and a host's other stanzas may hold anything.
fn loaded_root(name: &str, tree: &serde_json::Value) -> std::result::Result<Mapping, Problem> {
    let Some(root) = tree.as_object() else {
        return Err(Problem {
            file: name.to_owned(),
            key_path: String::new(),
            line: None,
            message: "the root must be a mapping of top-level keys".into(),
        });
    };
    let mut mapping = Mapping::new();
    if let Some(starfleet) = root.get("STARFLEET") {
        mapping.insert(Value::String("STARFLEET".into()), from_json(starfleet));
    }
    Ok(mapping)
}

/// A JSON tree as the YAML tree the rules read (numbers as written, keys in order).
fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.to_string()),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Sequence(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => {
            let mut mapping = Mapping::new();
            for (k, v) in map {
                mapping.insert(Value::String(k.clone()), from_json(v));
            }
            Value::Mapping(mapping)
        }
    }
}

/// The texts to merge, in order: one for a file or text, the sorted `*.yaml`/`*.yml` files
/// of a directory. A file that cannot be read is a problem and is left out of the merge.
fn read_sources(source: &ConfigSource, found: &mut Vec<Problem>) -> Vec<(String, String)> {
    match source {
        ConfigSource::Text { name, yaml } => {
            if yaml.len() as u64 > MAX_FILE_BYTES {
                found.push(too_large(name, yaml.len() as u64));
                return Vec::new();
            }
            vec![(name.clone(), yaml.clone())]
        }
        ConfigSource::Loaded { .. } => Vec::new(),
        ConfigSource::Path(path) => match list_files(path) {
            Err(p) => {
                found.push(p);
                Vec::new()
            }
            Ok(files) => files
                .iter()
                .filter_map(|f| match read_bounded(f) {
                    Ok(text) => Some((f.display().to_string(), text)),
                    Err(p) => {
                        found.push(p);
                        None
                    }
                })
                .collect(),
        },
    }
}

/// The file itself, or a directory's `*.yaml`/`*.yml` files in file-name order.
///
/// The listing is bounded while it is read: more than [`MAX_DIR_FILES`] YAML names, or more
/// than [`MAX_DIR_ENTRIES`] entries of any kind, is refused before anything is collected
/// past the limit. Every YAML name is returned whatever its type; [`read_bounded`] refuses
/// what is not a regular file.
fn list_files(path: &FsPath) -> std::result::Result<Vec<PathBuf>, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let too_many = |what: String| Problem {
        file: path.display().to_string(),
        key_path: String::new(),
        line: None,
        message: what,
    };
    let mut names = Vec::new();
    for (seen, entry) in std::fs::read_dir(path).map_err(|e| io_error(path, &e))?.enumerate() {
        if seen >= MAX_DIR_ENTRIES {
            return Err(too_many(format!(
                "more than {MAX_DIR_ENTRIES} directory entries, more than a configuration directory holds"
            )));
        }
        let file = entry.map_err(|e| io_error(path, &e))?.path();
        if matches!(file.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            if names.len() == MAX_DIR_FILES {
                return Err(too_many(format!("more than the {MAX_DIR_FILES} YAML files read")));
            }
            names.push(file);
        }
    }
    // File-name order makes the merge deterministic whatever the filesystem returns.
    names.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(names)
}

/// A configuration file's text, at most [`MAX_FILE_BYTES`].
///
/// Opened without blocking and checked with `fstat` before anything is read: only a regular
/// file is read. A FIFO (whose open or read would wait for a writer forever), a device or a
/// directory is refused with a problem naming the path.
fn read_bounded(path: &FsPath) -> std::result::Result<String, Problem> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    // Read one byte past the limit so a file that grows after stat() is still caught.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(&path.display().to_string(), bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| Problem {
        file: path.display().to_string(),
        key_path: String::new(),
        line: None,
        message: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

fn open_regular(path: &FsPath) -> std::result::Result<std::fs::File, Problem> {
    open_regular_file(path).map_err(|e| match e {
        Unopened::Io(e) => io_error(path, &e),
        Unopened::Kind(kind) => Problem {
            file: path.display().to_string(),
            key_path: String::new(),
            line: None,
            message: format!("is {kind}, not a regular file"),
        },
    })
}

/// Why [`open_regular_file`] gave no file.
pub(crate) enum Unopened {
    Io(std::io::Error),
    /// Not a regular file: what it is ("a FIFO", "a directory", ...).
    Kind(&'static str),
}

/// `path` opened for reading if it is a regular file. Opened without blocking (a FIFO's open
/// would wait for a writer forever) and checked with `fstat` before anything is read. Also
/// how a `file:` secret source is opened (`mounted.rs`).
pub(crate) fn open_regular_file(path: &FsPath) -> std::result::Result<std::fs::File, Unopened> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(Unopened::Io)?;
    let kind = file.metadata().map_err(Unopened::Io)?.file_type();
    if !kind.is_file() {
        return Err(Unopened::Kind(file_kind(kind)));
    }
    Ok(file)
}

/// What a file that is not a regular one is, for messages: "a FIFO", "a device", ...
pub(crate) fn file_kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn too_large(name: &str, size: u64) -> Problem {
    Problem {
        file: name.to_owned(),
        key_path: String::new(),
        line: None,
        message: format!(
            "{}{size} bytes, larger than the {MAX_FILE_BYTES}-byte limit",
            if size > MAX_FILE_BYTES { "at least " } else { "" }
        ),
    }
}

fn io_error(path: &FsPath, e: &std::io::Error) -> Problem {
    Problem {
        file: path.display().to_string(),
        key_path: String::new(),
        line: None,
        message: format!("cannot read: {e}"),
    }
}

/// Where rule problems are recorded: all in the file that supplied `STARFLEET`.
struct Findings<'a> {
    file: &'a str,
    found: &'a mut Vec<Problem>,
}

impl Findings<'_> {
    fn add(&mut self, key_path: &str, message: String) {
        self.found.push(Problem {
            file: self.file.to_owned(),
            key_path: key_path.to_owned(),
            line: None,
            message,
        });
    }
}

/// Check the merged document and extract the stanza. Each rule is checked once, here, in a
/// fixed order; a rule that cannot apply because of an earlier problem is skipped.
///
/// `from_host`: the configuration comes from the host application, which validated it by
/// its own schema; `SlackEnabled` without `SecretsManager` is then not this library's error
/// (the location is simply not configured).
fn validate(root: &Mapping, from_host: bool, findings: &mut Findings<'_>) -> StarfleetConfig {
    let mut config = StarfleetConfig {
        secrets_manager: None,
        slack_enabled: false,
        origin: findings.file.to_owned(),
    };
    let Some(starfleet) = root.get("STARFLEET") else {
        return config;
    };
    let empty = Mapping::new();
    let starfleet = match starfleet {
        Value::Mapping(m) => m,
        Value::Null => &empty,
        other => {
            findings.add("STARFLEET", format!("must be a mapping, found {}", yaml_kind(other)));
            return config;
        }
    };
    config.slack_enabled = match starfleet.get("SlackEnabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            findings.add(
                "STARFLEET.SlackEnabled",
                format!("must be true or false, found {}", yaml_kind(other)),
            );
            false
        }
    };
    let mut stanza_present = false;
    config.secrets_manager = match starfleet.get("SecretsManager") {
        None | Some(Value::Null) => None,
        Some(Value::Mapping(sm)) => Some(validate_stanza(sm, findings)),
        Some(other) => {
            stanza_present = true;
            findings.add(
                "STARFLEET.SecretsManager",
                format!("must be a mapping, found {}", yaml_kind(other)),
            );
            None
        }
    };
    if config.slack_enabled && config.secrets_manager.is_none() && !stanza_present && !from_host {
        findings.add(
            "STARFLEET.SlackEnabled",
            "is true but STARFLEET.SecretsManager is not configured (the Slack token lives in the secret)".into(),
        );
    }
    config
}

fn validate_stanza(sm: &Mapping, findings: &mut Findings<'_>) -> SecretsManagerStanza {
    // `Source` (where the secret is read from, see mounted.rs): a platform-delivered source
    // needs neither SecretId nor SecretRegion.
    let source = match sm.get("Source") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => crate::mounted::Source::parse(text)
            .map_err(|why| findings.add("STARFLEET.SecretsManager.Source", why))
            .ok(),
        Some(other) => {
            findings.add(
                "STARFLEET.SecretsManager.Source",
                format!("must be a string, found {}", yaml_kind(other)),
            );
            None
        }
    };
    let required = !source.as_ref().is_some_and(crate::mounted::Source::is_mounted);
    let mut string_at = |key: &str| -> Option<String> {
        let path = format!("STARFLEET.SecretsManager.{key}");
        match sm.get(key) {
            None if !required => {}
            None => findings.add(&path, "is missing".into()),
            Some(Value::String(s)) if s.trim().is_empty() => findings.add(&path, "is empty".into()),
            Some(Value::String(s)) => return Some(s.clone()),
            Some(other) => findings.add(&path, format!("must be a string, found {}", yaml_kind(other))),
        }
        None
    };
    let secret_id = string_at("SecretId");
    let region = string_at("SecretRegion");
    let region_ok = match &region {
        Some(r) => match check_region(r) {
            Ok(()) => true,
            Err(why) => {
                findings.add("STARFLEET.SecretsManager.SecretRegion", why);
                false
            }
        },
        None => false,
    };
    let id_ok = match &secret_id {
        Some(id) => check_secret_id(id)
            .map_err(|why| findings.add("STARFLEET.SecretsManager.SecretId", why))
            .is_ok(),
        None => false,
    };
    if let (Some(id), Some(r), true, true) = (&secret_id, &region, region_ok, id_ok) {
        if let Err(why) = check_arn_region(id, r) {
            findings.add("STARFLEET.SecretsManager.SecretId", why);
        }
    }
    SecretsManagerStanza {
        secret_id,
        region,
        source,
    }
}

fn key_label(key: &Value) -> String {
    yaml::label(key)
}

fn yaml_kind(v: &Value) -> &'static str {
    v.kind()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(yaml: &str) -> Result<StarfleetConfig> {
        load(&ConfigSource::Text {
            name: "test.yaml".into(),
            yaml: yaml.into(),
        })
    }

    fn invalid(yaml: &str) -> String {
        let e = text(yaml).unwrap_err();
        assert_eq!(e.code(), Code::ConfigInvalid, "{e}");
        e.message().to_owned()
    }

    #[test]
    fn valid_stanza() {
        let c = text("STARFLEET:\n  SecretsManager:\n    SecretId: Starfleet\n    SecretRegion: us-east-2\n  SlackEnabled: true\n").unwrap();
        let sm = c.secrets_manager.unwrap();
        assert_eq!(sm.secret_id.as_deref(), Some("Starfleet"));
        assert_eq!(sm.region.as_deref(), Some("us-east-2"));
        assert!(c.slack_enabled);
        assert_eq!(text("OTHER: 1\n").unwrap().secrets_manager, None);
        assert_eq!(text("").unwrap().secrets_manager, None);
    }

    #[test]
    fn every_rule_names_file_and_key_path() {
        let m = invalid("STARFLEET:\n  SecretsManager: [\n");
        assert!(m.contains("test.yaml:") && m.contains("malformed YAML"), "{m}");
        assert!(invalid("- a\n- b\n").contains("root must be a mapping of top-level keys, found a list"));
        assert!(invalid("STARFLEET:\n  SecretsManager:\n    SecretRegion: us-east-2\n")
            .contains("STARFLEET.SecretsManager.SecretId: is missing"));
        assert!(
            invalid("STARFLEET:\n  SecretsManager:\n    SecretId: ''\n    SecretRegion: us-east-2\n")
                .contains("SecretId: is empty")
        );
        assert!(
            invalid("STARFLEET:\n  SecretsManager:\n    SecretId: 12\n    SecretRegion: us-east-2\n")
                .contains("SecretId: must be a string, found a number")
        );
        assert!(
            invalid("STARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: Ohio\n")
                .contains("STARFLEET.SecretsManager.SecretRegion: \"Ohio\" is not an AWS region")
        );
        assert!(
            invalid("STARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: 'us-east-2 '\n")
                .contains("SecretRegion")
        );
        assert!(invalid("STARFLEET:\n  SlackEnabled: true\n").contains("STARFLEET.SlackEnabled: is true but"));
        assert!(invalid("STARFLEET:\n  SecretsManager:\n    SecretId: arn:aws:secretsmanager:eu-west-1:123456789012:secret:S-AbCdEf\n    SecretRegion: us-east-2\n")
            .contains("is an ARN in region eu-west-1"));
    }

    fn all(yaml: &str) -> Vec<Problem> {
        problems(&ConfigSource::Text {
            name: "test.yaml".into(),
            yaml: yaml.into(),
        })
    }

    #[test]
    fn problems_lists_every_rule_broken_with_lines_and_load_reports_the_first() {
        let yaml = "# Starfleet\nOTHER: 1\nSTARFLEET:\n  SlackEnabled: yes please\n  SecretsManager:\n    SecretId: 12\n    # no region\n";
        let found = all(yaml);
        let summary: Vec<(String, Option<usize>)> = found.iter().map(|p| (p.key_path.clone(), p.line)).collect();
        assert_eq!(
            summary,
            [
                ("STARFLEET.SlackEnabled".to_owned(), Some(4)),
                ("STARFLEET.SecretsManager.SecretId".to_owned(), Some(6)),
                // Missing: the line of the mapping it is missing from.
                ("STARFLEET.SecretsManager.SecretRegion".to_owned(), Some(5)),
            ]
        );
        assert!(found.iter().all(|p| p.file == "test.yaml"));
        let first = Error::from(found[0].clone());
        assert_eq!(text(yaml).unwrap_err().code(), first.code());
        // load's messages are unchanged: the line is for problems() readers.
        assert_eq!(
            text(yaml).unwrap_err().message(),
            "Starfleet configuration test.yaml: STARFLEET.SlackEnabled: must be true or false, found a string"
        );
        assert!(all("STARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: us-east-2\n").is_empty());
        assert!(all("").is_empty());
        // Flow style: the missing key's enclosing mapping.
        let flow = all("STARFLEET: {SecretsManager: {SecretId: S}}\n");
        assert_eq!(flow.len(), 1);
        assert_eq!(flow[0].line, Some(1));
        // A nested key of the same name deeper down is not taken for the direct child.
        let nested = all("STARFLEET:\n  Other:\n    SecretsManager: x\n  SecretsManager: []\n");
        assert_eq!(nested[0].line, Some(4), "{nested:?}");
    }

    #[test]
    fn problem_lines_come_from_the_parsers_spans_in_any_style() {
        let lines = |yaml: &str| -> Vec<(String, Option<usize>)> {
            all(yaml).into_iter().map(|p| (p.key_path, p.line)).collect()
        };
        let key = |path: &str, line: usize| (path.to_owned(), Some(line));
        // A flow mapping continued on the next line: the key is on line 2.
        assert_eq!(
            lines("STARFLEET: {SecretsManager: {SecretRegion: us-east-2,\n  SecretId: 12}}\n"),
            [key("STARFLEET.SecretsManager.SecretId", 2)]
        );
        // Quoted keys, a document marker, comments and a block scalar that looks like a key.
        assert_eq!(
            lines("---\nNOTE: |\n  STARFLEET:\n    SecretsManager: x\n# STARFLEET:\n\"STARFLEET\":\n  'SecretsManager':\n    SecretId: S\n    \"SecretRegion\": Ohio\n"),
            [key("STARFLEET.SecretsManager.SecretRegion", 9)]
        );
        // A key under a list is not the path's key; the enclosing one is reported.
        assert_eq!(
            lines("STARFLEET:\n  - SecretsManager: x\n  -\nOTHER: 1\n"),
            [key("STARFLEET", 1)]
        );
    }

    #[test]
    fn problems_in_a_directory_name_each_file() {
        let dir = std::env::temp_dir().join(format!("sf-cfg-problems-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("00-a.yaml"), "A: [\n").unwrap();
        std::fs::write(dir.join("10-b.yaml"), "B: {\n").unwrap();
        std::fs::write(
            dir.join("20-c.yaml"),
            "STARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: Ohio\n",
        )
        .unwrap();
        let found = problems(&ConfigSource::Path(dir.clone()));
        let files: Vec<&str> = found.iter().map(|p| p.file.rsplit('/').next().unwrap()).collect();
        assert_eq!(files, ["00-a.yaml", "10-b.yaml", "20-c.yaml"], "{found:?}");
        assert_eq!(found[2].line, Some(4));
        let e = load(&ConfigSource::Path(dir.clone())).unwrap_err();
        assert!(
            e.message().contains("00-a.yaml") && e.message().contains("malformed YAML"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = problems(&ConfigSource::Path(dir.clone()));
        assert_eq!(missing.len(), 1);
        assert!(missing[0].message.starts_with("cannot read"), "{missing:?}");
        assert!(load(&ConfigSource::Path(dir))
            .unwrap_err()
            .message()
            .contains(": cannot read: "));
    }

    #[test]
    fn a_source_beside_the_secret_id() {
        let c = text("STARFLEET:\n  SecretsManager:\n    Source: file:/mnt/secrets/app.json\n").unwrap();
        let sm = c.secrets_manager.unwrap();
        assert_eq!(
            sm.source,
            Some(crate::mounted::Source::File("/mnt/secrets/app.json".into()))
        );
        assert_eq!(
            (sm.secret_id, sm.region),
            (None, None),
            "a mounted source needs neither"
        );
        assert!(invalid("STARFLEET:\n  SecretsManager:\n    Source: secretsmanager\n")
            .contains("STARFLEET.SecretsManager.SecretId: is missing"));
        let found =
            all("STARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: us-east-2\n    Source: s3:x\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].key_path.as_str(), found[0].line),
            ("STARFLEET.SecretsManager.Source", Some(5))
        );
        assert!(found[0].message.contains("is not a secret source"), "{found:?}");
        assert!(invalid("STARFLEET:\n  SecretsManager:\n    Source: 3\n").contains("Source: must be a string"));
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let m = invalid("A: 1\nB: 2\nSTARFLEET: {x: [}\n");
        assert!(m.starts_with("Starfleet configuration test.yaml:3:"), "{m}");
    }

    #[test]
    fn alias_bomb_fails_fast() {
        let mut yaml =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let mut prev = 'a';
        for name in 'b'..='j' {
            yaml.push_str(&format!(
                "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = name;
        }
        let start = std::time::Instant::now();
        let m = invalid(&yaml);
        assert!(
            m.contains("test.yaml:") && m.contains("too large once its aliases are expanded"),
            "{m}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn deep_nesting_and_huge_text_are_refused() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(invalid(&deep).contains("nested deeper than"));
        let huge = "a".repeat(MAX_FILE_BYTES as usize + 1);
        assert!(invalid(&huge).contains("byte limit"));
    }
}
