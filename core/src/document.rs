//! The parsed secret: key paths, lookups, redaction and zeroization.
//!
//! A [`Secret`] is what one `GetSecretValue` returned: version metadata plus either a JSON
//! [`Document`] (SecretString) or raw bytes (SecretBinary). Nothing here ever formats a value:
//! `Debug`/`Display` show shapes and counts, errors show key paths and JSON type names.
//! Text that held secret material is overwritten with zeros when it is dropped.

use std::fmt;
use std::time::SystemTime;

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Code, Error, Result};

/// A key path into the document.
///
/// Two spellings, one rule (used by every binding):
/// * a sequence of keys, taken literally: `["GitHubSyncWorker", "my.org"]`;
/// * one dotted string, split on `.`: `"STARFLEET.SlackToken"`. Inside a dotted string `\.` is a
///   literal dot and `\\` a literal backslash, so `"GitHubSyncWorker.my\.org"` names the same
///   value as the sequence above. Any other `\x` is an error.
///
/// [`Path::from_args`] picks the spelling: one argument is dotted, several are literal.
/// An empty path, or an empty segment in a dotted string (`"a..b"`), is INVALID_ARGUMENT.
///
/// A NUL character anywhere in a key is INVALID_ARGUMENT too, in every language: C and Go
/// strings end at a NUL, so there it would silently name a shorter key
/// (`"STARFLEET.SlackToken\0x"` read as the token); refusing it here keeps all front doors alike.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Path {
    keys: Vec<String>,
}

/// Why a NUL is refused, for the message.
const NUL_WHY: &str = "C and Go strings end at a NUL, so no key path may hold one";

impl Path {
    /// Literal keys, one per level.
    pub fn from_keys<I, S>(keys: I) -> Result<Path>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        if keys.is_empty() {
            return Err(Error::new(
                Code::InvalidArgument,
                "empty key path: name at least one key",
            ));
        }
        if let Some(i) = keys.iter().position(|k| k.contains('\0')) {
            return Err(Error::new(
                Code::InvalidArgument,
                format!("key path: key {i} contains a NUL character ({NUL_WHY})"),
            ));
        }
        Ok(Path { keys })
    }

    /// A dotted string with `\.` and `\\` escapes.
    pub fn parse_dotted(text: &str) -> Result<Path> {
        let invalid = |why: &str| Error::new(Code::InvalidArgument, format!("key path {text:?}: {why}"));
        if text.is_empty() {
            return Err(Error::new(
                Code::InvalidArgument,
                "empty key path: name at least one key",
            ));
        }
        if text.contains('\0') {
            return Err(invalid(&format!("contains a NUL character ({NUL_WHY})")));
        }
        let mut keys = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('.' | '\\')) => current.push(e),
                    Some(_) => return Err(invalid("only \\. and \\\\ are escapes")),
                    None => return Err(invalid("ends with a lone backslash")),
                },
                '.' => {
                    if current.is_empty() {
                        return Err(invalid("has an empty segment"));
                    }
                    keys.push(std::mem::take(&mut current));
                }
                c => current.push(c),
            }
        }
        if current.is_empty() {
            return Err(invalid("has an empty segment"));
        }
        keys.push(current);
        Ok(Path { keys })
    }

    /// The binding rule: a single argument is a dotted path, several are literal keys.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Path> {
        match args {
            [one] => Path::parse_dotted(one.as_ref()),
            many => Path::from_keys(many.iter().map(|s| s.as_ref().to_owned())),
        }
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The first `n` keys, rendered dotted (for error messages).
    fn prefix(&self, n: usize) -> String {
        render(&self.keys[..n])
    }
}

/// Render keys in the dotted spelling, escaping so the output parses back to the same path.
fn render(keys: &[String]) -> String {
    keys.iter()
        .map(|k| k.replace('\\', "\\\\").replace('.', "\\."))
        .collect::<Vec<_>>()
        .join(".")
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(&self.keys))
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

/// The name of a JSON value's type (`"string"`, `"array"`, ...): the one spelling of value
/// types, for machine-readable output (the CLI's `{"type": ...}`).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// [`json_type`] for a sentence ("a string", "an array", "null"), for messages that must not
/// show the value.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Why a text is not JSON, by category and position only (`"syntax error at line 1 column
/// 7"`): never the text around the error, which may be a secret.
pub fn json_error_summary(e: &serde_json::Error) -> String {
    let category = match e.classify() {
        serde_json::error::Category::Eof => "truncated",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data | serde_json::error::Category::Io => "unreadable",
    };
    format!("{category} at line {} column {}", e.line(), e.column())
}

/// A SecretString parsed as a JSON object.
pub struct Document {
    root: Map<String, Value>,
}

impl Document {
    /// Parse secret text. The text is zeroized whatever the outcome.
    pub fn parse(text: Zeroizing<String>) -> Result<Document> {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(root)) => Ok(Document { root }),
            Ok(mut other) => {
                let kind = json_kind(&other);
                zeroize_value(&mut other);
                Err(Error::new(
                    Code::SecretFormat,
                    format!("SecretString is {kind}, not a JSON object"),
                ))
            }
            Err(e) => Err(Error::new(
                Code::SecretFormat,
                format!("SecretString is not valid JSON ({})", json_error_summary(&e)),
            )),
        }
    }

    /// The whole document.
    pub fn root(&self) -> &Map<String, Value> {
        &self.root
    }

    /// The value at `path`, or KEY_NOT_FOUND naming the first key that failed.
    pub fn get(&self, path: &Path) -> Result<&Value> {
        let mut map = &self.root;
        let keys = path.keys();
        for (i, key) in keys.iter().enumerate() {
            let value = map.get(key).ok_or_else(|| {
                let at = if i == 0 {
                    "the document".to_owned()
                } else {
                    path.prefix(i)
                };
                Error::new(
                    Code::KeyNotFound,
                    format!("key path {path} not found: {at} has no key {}", render(&keys[i..=i])),
                )
            })?;
            if i + 1 == keys.len() {
                return Ok(value);
            }
            map = match value {
                Value::Object(m) => m,
                other => {
                    return Err(Error::new(
                        Code::KeyNotFound,
                        format!(
                            "key path {path} not found: {} is {}, not an object",
                            path.prefix(i + 1),
                            json_kind(other)
                        ),
                    ))
                }
            };
        }
        unreachable!("Path is never empty")
    }

    /// The string at `path`; SECRET_FORMAT when the value is not a string.
    pub fn get_str(&self, path: &Path) -> Result<&str> {
        match self.get(path)? {
            Value::String(s) => Ok(s),
            other => Err(Error::new(
                Code::SecretFormat,
                format!("value at {path} is {}, not a string", json_kind(other)),
            )),
        }
    }

    pub fn len(&self) -> usize {
        self.root.len()
    }

    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
    }
}

/// Overwrite every string (keys too) inside a JSON value before it is freed.
pub fn zeroize_value(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(zeroize_value),
        Value::Object(map) => zeroize_map(map),
        Value::Number(_) | Value::Bool(_) | Value::Null => {}
    }
}

/// [`zeroize_value`] for an object's entries (the map is left empty).
pub fn zeroize_map(map: &mut Map<String, Value>) {
    for (mut k, mut v) in std::mem::take(map) {
        k.zeroize();
        zeroize_value(&mut v);
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        zeroize_map(&mut self.root);
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("top_level_keys", &self.root.len())
            .field("values", &"<redacted>")
            .finish()
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<secret document: {} top-level keys, values redacted>",
            self.root.len()
        )
    }
}

/// What the secret holds.
pub enum Payload {
    /// SecretString, parsed.
    Json(Document),
    /// SecretBinary, as stored.
    Binary(Zeroizing<Vec<u8>>),
}

/// One version of the secret as fetched: metadata plus payload.
pub struct Secret {
    pub(crate) name: String,
    pub(crate) arn: Option<String>,
    pub(crate) version_id: Option<String>,
    pub(crate) stages: Vec<String>,
    /// When the version was created (`CreatedDate` of GetSecretValue): how the cache tells an
    /// older version from a lagging replica from a newer one (see `crate::cache`).
    pub(crate) created: Option<SystemTime>,
    pub(crate) payload: Payload,
}

impl Secret {
    /// Build from already-validated parts (the source does this after a fetch).
    pub fn new(name: String, version_id: Option<String>, payload: Payload) -> Secret {
        Secret {
            name,
            arn: None,
            version_id,
            stages: Vec::new(),
            created: None,
            payload,
        }
    }

    /// The same secret with the version's creation time (`CreatedDate`), for a binding that
    /// makes the call through another client (Python under moto's in-process mock).
    pub fn with_created(mut self, created: Option<SystemTime>) -> Secret {
        self.created = created;
        self
    }

    /// When this version was created (`CreatedDate`), when the answer said.
    pub fn created(&self) -> Option<SystemTime> {
        self.created
    }

    /// Build from what a `GetSecretValue` answer holds, whoever made the call (the SDK, or a
    /// host's in-process mock): the SecretString is parsed (it wins over SecretBinary, as in
    /// AWS), neither is SECRET_FORMAT, and a missing name is the one `requested`. The one
    /// place a response becomes a [`Secret`].
    pub fn from_parts(
        requested: &str,
        name: Option<String>,
        arn: Option<String>,
        version_id: Option<String>,
        stages: Vec<String>,
        text: Option<String>,
        binary: Option<Vec<u8>>,
    ) -> Result<Secret> {
        let payload = match (text, binary) {
            (Some(text), _) => Payload::Json(Document::parse(Zeroizing::new(text))?),
            (None, Some(bytes)) => Payload::Binary(Zeroizing::new(bytes)),
            (None, None) => {
                return Err(Error::new(
                    Code::SecretFormat,
                    "the version has neither SecretString nor SecretBinary",
                ))
            }
        };
        Ok(Secret {
            name: name.unwrap_or_else(|| requested.to_owned()),
            arn,
            version_id,
            stages,
            created: None,
            payload,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn arn(&self) -> Option<&str> {
        self.arn.as_deref()
    }

    pub fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }

    pub fn version_stages(&self) -> &[String] {
        &self.stages
    }

    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The JSON document, or SECRET_FORMAT when the secret is binary.
    pub fn document(&self) -> Result<&Document> {
        match &self.payload {
            Payload::Json(d) => Ok(d),
            Payload::Binary(_) => Err(Error::new(
                Code::SecretFormat,
                format!(
                    "secret {} holds SecretBinary, not a JSON SecretString; read it as bytes",
                    self.name
                ),
            )),
        }
    }

    /// The raw bytes, or SECRET_FORMAT when the secret is a JSON string.
    pub fn binary(&self) -> Result<&[u8]> {
        match &self.payload {
            Payload::Binary(b) => Ok(b),
            Payload::Json(_) => Err(Error::new(
                Code::SecretFormat,
                format!("secret {} holds a SecretString, not SecretBinary", self.name),
            )),
        }
    }

    /// `document()?.get_str(path)` with the secret's name in any error.
    pub fn get_str(&self, path: &Path) -> Result<&str> {
        self.document()?
            .get_str(path)
            .map_err(|e| e.context(format!("secret {}", self.name)))
    }

    /// `document()?.get(path)` with the secret's name in any error.
    pub fn get(&self, path: &Path) -> Result<&Value> {
        self.document()?
            .get(path)
            .map_err(|e| e.context(format!("secret {}", self.name)))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let payload = match &self.payload {
            Payload::Json(d) => format!("json({} top-level keys)", d.len()),
            Payload::Binary(b) => format!("binary({} bytes)", b.len()),
        };
        f.debug_struct("Secret")
            .field("name", &self.name)
            .field("version_id", &self.version_id)
            .field("stages", &self.stages)
            .field("payload", &format_args!("{payload}, values redacted"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Result<Document> {
        Document::parse(Zeroizing::new(text.to_owned()))
    }

    #[test]
    fn dotted_paths_and_escapes() {
        assert_eq!(Path::parse_dotted("A.B").unwrap().keys(), ["A", "B"]);
        assert_eq!(Path::parse_dotted(r"W.my\.org").unwrap().keys(), ["W", "my.org"]);
        assert_eq!(Path::parse_dotted(r"a\\.b").unwrap().keys(), [r"a\", "b"]);
        for bad in ["", "a..b", ".a", "a.", r"a\x", "a\\"] {
            assert_eq!(
                Path::parse_dotted(bad).unwrap_err().code(),
                Code::InvalidArgument,
                "{bad}"
            );
        }
        let p = Path::from_keys(["W", "my.org", r"x\y"]).unwrap();
        assert_eq!(Path::parse_dotted(&p.to_string()).unwrap(), p);
        assert_eq!(Path::from_args(&["a.b"]).unwrap().keys(), ["a", "b"]);
        assert_eq!(Path::from_args(&["a.b", "c"]).unwrap().keys(), ["a.b", "c"]);
        assert_eq!(Path::from_args::<&str>(&[]).unwrap_err().code(), Code::InvalidArgument);
        for nul in [&["A.B\0x"][..], &["A", "B\0"][..], &["\0"][..]] {
            let error = Path::from_args(nul).unwrap_err();
            assert_eq!(error.code(), Code::InvalidArgument, "{nul:?}");
            assert!(error.to_string().contains("NUL"), "{error}");
        }
    }

    #[test]
    fn lookups_and_errors_name_the_path_not_the_value() {
        let d = doc(r#"{"S":{"Tok":"canary-123","N":5},"W":{"a.b":{"x":"y"}}}"#).unwrap();
        assert_eq!(d.get_str(&Path::parse_dotted("S.Tok").unwrap()).unwrap(), "canary-123");
        assert_eq!(d.get_str(&Path::parse_dotted(r"W.a\.b.x").unwrap()).unwrap(), "y");
        let e = d.get(&Path::parse_dotted("S.Missing").unwrap()).unwrap_err();
        assert_eq!(e.code(), Code::KeyNotFound);
        assert!(e.message().contains("S.Missing") && e.message().contains("S has no key Missing"));
        let e = d.get(&Path::parse_dotted("S.Tok.deeper").unwrap()).unwrap_err();
        assert_eq!(e.code(), Code::KeyNotFound);
        assert!(e.message().contains("S.Tok is a string"), "{e}");
        assert!(!e.message().contains("canary"));
        let e = d.get_str(&Path::parse_dotted("S.N").unwrap()).unwrap_err();
        assert_eq!(e.code(), Code::SecretFormat);
        assert_eq!(
            d.get(&Path::parse_dotted("S.N").unwrap()).unwrap(),
            &serde_json::json!(5)
        );
        assert!(!format!("{d:?} {d}").contains("canary"));
    }

    #[test]
    fn non_objects_are_format_errors_without_content() {
        for (text, kind) in [
            ("[1]", "an array"),
            (r#""canary""#, "a string"),
            ("3", "a number"),
            ("null", "null"),
        ] {
            let e = doc(text).unwrap_err();
            assert_eq!(e.code(), Code::SecretFormat);
            assert!(e.message().contains(kind), "{e}");
        }
        let e = doc(r#"{"k": "canary-unterminated"#).unwrap_err();
        assert_eq!(e.code(), Code::SecretFormat);
        assert!(!e.message().contains("canary"), "{e}");
        assert!(doc("{}").unwrap().is_empty());
    }
}
