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
//! serde_yaml refuses alias expansion beyond a fixed repetition budget and nesting beyond a
//! fixed depth, so a "billion laughs" file fails fast instead of exhausting memory.

use std::fmt;
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::error::{Code, Error, Result};

/// Largest configuration file read (Starfleet configs are a few KiB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most YAML files read from one configuration directory.
pub const MAX_DIR_FILES: usize = 512;

/// Where a Starfleet configuration comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A YAML file, or a directory of `*.yaml` / `*.yml` files.
    Path(PathBuf),
    /// YAML text; `name` is used in error messages in place of a file name.
    Text { name: String, yaml: String },
}

impl fmt::Debug for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Path(p) => write!(f, "ConfigSource::Path({})", p.display()),
            ConfigSource::Text { name, yaml } => {
                write!(f, "ConfigSource::Text({name}, {} bytes)", yaml.len())
            }
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Path(p) => write!(f, "{}", p.display()),
            ConfigSource::Text { name, .. } => f.write_str(name),
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
pub fn load(source: &ConfigSource) -> Result<StarfleetConfig> {
    let files = read_sources(source)?;
    let mut merged = Mapping::new();
    // Which file supplied each top-level key, so errors point at the file that won.
    let mut owner: Vec<(String, String)> = Vec::new();
    for (name, text) in &files {
        let root = parse_root(name, text)?;
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
    validate(&merged, &origin)
}

/// Parse one YAML text into its top-level mapping. An empty file is an empty mapping.
fn parse_root(name: &str, text: &str) -> Result<Mapping> {
    let value: Value = serde_yaml::from_str(text).map_err(|e| Problem {
        file: name.to_owned(),
        key_path: String::new(),
        line: e.location().map(|l| l.line()),
        message: format!("malformed YAML: {e}"),
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
        }
        .into()),
    }
}

/// The texts to merge, in order: one for a file or text, the sorted `*.yaml`/`*.yml` files
/// of a directory.
fn read_sources(source: &ConfigSource) -> Result<Vec<(String, String)>> {
    match source {
        ConfigSource::Text { name, yaml } => {
            if yaml.len() as u64 > MAX_FILE_BYTES {
                return Err(too_large(name, yaml.len() as u64));
            }
            Ok(vec![(name.clone(), yaml.clone())])
        }
        ConfigSource::Path(path) => {
            let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
            if !meta.is_dir() {
                return Ok(vec![(path.display().to_string(), read_bounded(path)?)]);
            }
            let mut names = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|e| io_error(path, &e))? {
                let entry = entry.map_err(|e| io_error(path, &e))?;
                let file = entry.path();
                let is_yaml = matches!(file.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
                if is_yaml && file.is_file() {
                    names.push(file);
                }
            }
            if names.len() > MAX_DIR_FILES {
                return Err(Problem {
                    file: path.display().to_string(),
                    key_path: String::new(),
                    line: None,
                    message: format!("{} YAML files, more than the {MAX_DIR_FILES} read", names.len()),
                }
                .into());
            }
            // File-name order makes the merge deterministic whatever the filesystem returns.
            names.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
            names
                .iter()
                .map(|f| Ok((f.display().to_string(), read_bounded(f)?)))
                .collect()
        }
    }
}

fn read_bounded(path: &FsPath) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    let mut bytes = Vec::new();
    // Read one byte past the limit so a file that grows after stat() is still caught.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(&path.display().to_string(), bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        Problem {
            file: path.display().to_string(),
            key_path: String::new(),
            line: None,
            message: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        }
        .into()
    })
}

fn too_large(name: &str, size: u64) -> Error {
    Problem {
        file: name.to_owned(),
        key_path: String::new(),
        line: None,
        message: format!(
            "{}{size} bytes, larger than the {MAX_FILE_BYTES}-byte limit",
            if size > MAX_FILE_BYTES { "at least " } else { "" }
        ),
    }
    .into()
}

fn io_error(path: &FsPath, e: &std::io::Error) -> Error {
    Error::new(
        Code::ConfigInvalid,
        format!("Starfleet configuration {}: cannot read: {e}", path.display()),
    )
}

/// Check the merged document and extract the stanza.
fn validate(root: &Mapping, file: &str) -> Result<StarfleetConfig> {
    let problem = |key_path: &str, message: String| -> Error {
        Problem {
            file: file.to_owned(),
            key_path: key_path.to_owned(),
            line: None,
            message,
        }
        .into()
    };
    let Some(starfleet) = root.get("STARFLEET") else {
        return Ok(StarfleetConfig {
            secrets_manager: None,
            slack_enabled: false,
            origin: file.to_owned(),
        });
    };
    let starfleet = match starfleet {
        Value::Mapping(m) => m,
        Value::Null => &Mapping::new(),
        other => {
            return Err(problem(
                "STARFLEET",
                format!("must be a mapping, found {}", yaml_kind(other)),
            ))
        }
    };
    let slack_enabled = match starfleet.get("SlackEnabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(problem(
                "STARFLEET.SlackEnabled",
                format!("must be true or false, found {}", yaml_kind(other)),
            ))
        }
    };
    let secrets_manager = match starfleet.get("SecretsManager") {
        None | Some(Value::Null) => None,
        Some(Value::Mapping(sm)) => Some(validate_stanza(sm, &problem)?),
        Some(other) => {
            return Err(problem(
                "STARFLEET.SecretsManager",
                format!("must be a mapping, found {}", yaml_kind(other)),
            ))
        }
    };
    if slack_enabled && secrets_manager.is_none() {
        return Err(problem(
            "STARFLEET.SlackEnabled",
            "is true but STARFLEET.SecretsManager is not configured (the Slack token lives in the secret)".into(),
        ));
    }
    Ok(StarfleetConfig {
        secrets_manager,
        slack_enabled,
        origin: file.to_owned(),
    })
}

fn validate_stanza(sm: &Mapping, problem: &dyn Fn(&str, String) -> Error) -> Result<SecretsManagerStanza> {
    let string_at = |key: &str| -> Result<Option<String>> {
        let path = format!("STARFLEET.SecretsManager.{key}");
        match sm.get(key) {
            None => Err(problem(&path, "is missing".into())),
            Some(Value::String(s)) if s.trim().is_empty() => Err(problem(&path, "is empty".into())),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(problem(&path, format!("must be a string, found {}", yaml_kind(other)))),
        }
    };
    let secret_id = string_at("SecretId")?;
    let region = string_at("SecretRegion")?;
    if let Some(r) = &region {
        check_region(r).map_err(|why| problem("STARFLEET.SecretsManager.SecretRegion", why))?;
    }
    if let (Some(id), Some(r)) = (&secret_id, &region) {
        check_arn_region(id, r).map_err(|why| problem("STARFLEET.SecretsManager.SecretId", why))?;
    }
    Ok(SecretsManagerStanza { secret_id, region })
}

/// A region is lowercase words joined by `-`, starting with a two-letter prefix and ending in
/// a number: `us-east-2`, `us-gov-west-1`, `ap-southeast-3`, `us-isob-east-1`.
pub fn check_region(region: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let shaped = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "{region:?} is not an AWS region name (expected something like \"us-east-2\")"
        ))
    }
}

/// The region inside a Secrets Manager ARN (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`).
pub fn arn_region(secret_id: &str) -> Option<&str> {
    let mut parts = secret_id.splitn(7, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("secretsmanager"), Some(region)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

/// An ARN's own region must agree with the configured one: the call goes to one region.
pub fn check_arn_region(secret_id: &str, region: &str) -> std::result::Result<(), String> {
    match arn_region(secret_id) {
        Some(in_arn) if in_arn != region => Err(format!(
            "is an ARN in region {in_arn}, but the secret region is {region}"
        )),
        _ => Ok(()),
    }
}

fn key_label(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_owned(),
    }
}

fn yaml_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
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

    #[test]
    fn syntax_errors_carry_the_line() {
        let m = invalid("A: 1\nB: 2\nSTARFLEET: {x: [}\n");
        assert!(m.starts_with("Starfleet configuration test.yaml:3:"), "{m}");
    }

    #[test]
    fn region_shapes() {
        for ok in [
            "us-east-2",
            "us-gov-west-1",
            "ap-southeast-3",
            "cn-north-1",
            "us-isob-east-1",
            "il-central-1",
        ] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Ohio",
            "us-east-2 ",
            "US-EAST-2",
            "us-east",
            "useast2",
            "",
            "u-east-1",
            "us--1",
        ] {
            assert!(check_region(bad).is_err(), "{bad:?}");
        }
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
        assert!(m.contains("malformed YAML"), "{m}");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn deep_nesting_and_huge_text_are_refused() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(invalid(&deep).contains("malformed YAML"));
        let huge = "a".repeat(MAX_FILE_BYTES as usize + 1);
        assert!(invalid(&huge).contains("byte limit"));
    }
}
