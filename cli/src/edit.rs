//! Editing and comparing the secret's JSON document, without ever formatting a value.

use serde_json::{Map, Value};
use starfleet_secrets::document::{json_type, zeroize_map, zeroize_value};
use starfleet_secrets::{Code, Document, Error, Path};
use zeroize::Zeroizing;

use crate::output::{shape, shape_json};

/// Largest SecretString Secrets Manager stores.
pub const MAX_SECRET_BYTES: usize = 65_536;

/// A working copy of the document, overwritten with zeros when dropped (with the core's
/// zeroizer, as the core's `Document` it is copied from).
pub struct Doc(pub Map<String, Value>);

impl Doc {
    pub fn of(document: &Document) -> Doc {
        Doc(document.root().clone())
    }

    /// The document as it will be written: JSON text, checked to parse back as the same
    /// JSON object through the core's parser and to fit in a secret.
    pub fn to_checked_json(&self) -> Result<Zeroizing<String>, Error> {
        let text = Zeroizing::new(
            serde_json::to_string(&self.0)
                .map_err(|_| Error::new(Code::Internal, "cannot serialise the edited document"))?,
        );
        let reparsed = Document::parse(Zeroizing::new(text.as_str().to_owned())).map_err(|e| {
            Error::new(
                Code::Internal,
                format!("the edited document does not parse back: {}", e.message()),
            )
        })?;
        if reparsed.root() != &self.0 {
            return Err(Error::new(
                Code::Internal,
                "the edited document does not read back as written",
            ));
        }
        if text.len() > MAX_SECRET_BYTES {
            return Err(Error::new(
                Code::InvalidArgument,
                format!(
                    "the edited document would be {} bytes, more than the {MAX_SECRET_BYTES}-byte Secrets Manager limit",
                    text.len()
                ),
            ));
        }
        Ok(text)
    }
}

impl Drop for Doc {
    fn drop(&mut self) {
        zeroize_map(&mut self.0);
    }
}

/// A JSON value that is zeroized when dropped (the new value given to `set`).
pub struct SecretValue(pub Value);

impl Drop for SecretValue {
    fn drop(&mut self) {
        zeroize_value(&mut self.0);
    }
}

fn render(keys: &[String]) -> String {
    Path::from_keys(keys.iter().cloned())
        .map(|p| p.to_string())
        .unwrap_or_default()
}

/// Put `value` at `path`, creating missing parent objects. Replacing a non-empty object
/// needs `replace` (it would drop every key under it); a parent that is not an object is an
/// error. Nothing is changed on error.
pub fn set(root: &mut Map<String, Value>, path: &Path, value: Value, replace: bool) -> Result<(), Error> {
    // Zeroized when dropped, including on the error paths.
    let mut value = SecretValue(value);
    let keys = path.keys();
    let (last, parents) = keys.split_last().expect("a Path is never empty");
    let mut map = root;
    for (i, key) in parents.iter().enumerate() {
        let slot = map.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
        map = match slot {
            Value::Object(m) => m,
            other => {
                return Err(Error::new(
                    Code::InvalidArgument,
                    format!(
                        "cannot set {path}: {} is {}, not an object",
                        render(&keys[..=i]),
                        json_type(other)
                    ),
                ))
            }
        };
    }
    if let Some(Value::Object(existing)) = map.get(last) {
        if !existing.is_empty() && !replace && existing_differs(existing, &value.0) {
            return Err(Error::new(
                Code::InvalidArgument,
                format!(
                    "{path} is an object with {} key(s); setting it would replace all of them",
                    existing.len()
                ),
            ));
        }
    }
    if let Some(mut old) = map.insert(last.clone(), std::mem::take(&mut value.0)) {
        zeroize_value(&mut old);
    }
    Ok(())
}

fn existing_differs(existing: &Map<String, Value>, new: &Value) -> bool {
    match new {
        Value::Object(m) => m != existing,
        _ => true,
    }
}

/// Remove the value at `path` (which must exist: check with the core's `get` first).
pub fn remove(root: &mut Map<String, Value>, path: &Path) -> Option<()> {
    let keys = path.keys();
    let (last, parents) = keys.split_last()?;
    let mut map = root;
    for key in parents {
        map = match map.get_mut(key)? {
            Value::Object(m) => m,
            _ => return None,
        };
    }
    // shift_remove keeps the order of the keys that follow (remove would swap the last one in).
    let mut old = map.shift_remove(last)?;
    zeroize_value(&mut old);
    Some(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
        }
    }
}

/// One key path that differs between two documents, with redacted shapes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: Kind,
    pub before: Option<String>,
    pub after: Option<String>,
    before_json: Option<Value>,
    after_json: Option<Value>,
}

impl Change {
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("path".into(), Value::String(self.path.clone()));
        o.insert("change".into(), Value::String(self.kind.as_str().into()));
        if let Some(b) = &self.before_json {
            o.insert("before".into(), b.clone());
        }
        if let Some(a) = &self.after_json {
            o.insert("after".into(), a.clone());
        }
        Value::Object(o)
    }
}

/// The leaf key paths added, removed and changed from `old` to `new`. Objects are walked
/// into; everything else (strings, numbers, arrays) is a leaf compared whole, and so is an
/// empty object that appears, disappears or takes the place of a non-object.
pub fn changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<Change> {
    let mut out = Vec::new();
    walk_maps(&mut Vec::new(), old, new, &mut out);
    out
}

fn walk_maps(prefix: &mut Vec<String>, old: &Map<String, Value>, new: &Map<String, Value>, out: &mut Vec<Change>) {
    let mut keys: Vec<&String> = old.keys().collect();
    keys.extend(new.keys().filter(|k| !old.contains_key(*k)));
    keys.sort();
    for key in keys {
        prefix.push(key.clone());
        walk(prefix, old.get(key), new.get(key), out);
        prefix.pop();
    }
}

fn walk(prefix: &mut Vec<String>, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<Change>) {
    let empty = Map::new();
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) if !(a.is_empty() && b.is_empty()) => {
            walk_maps(prefix, a, b, out)
        }
        (Some(Value::Object(a)), None) if !a.is_empty() => walk_maps(prefix, a, &empty, out),
        (None, Some(Value::Object(b))) if !b.is_empty() => walk_maps(prefix, &empty, b, out),
        (Some(a), Some(b)) if a == b => {}
        (old, new) => {
            let kind = match (old, new) {
                (None, _) => Kind::Added,
                (_, None) => Kind::Removed,
                _ => Kind::Changed,
            };
            out.push(Change {
                path: render(prefix),
                kind,
                before: old.map(shape),
                after: new.map(shape),
                before_json: old.map(shape_json),
                after_json: new.map(shape_json),
            });
        }
    }
}

/// One node of the key tree: depth, rendered key segment, full path, the value.
pub fn tree(root: &Map<String, Value>) -> Vec<(usize, String, String, &Value)> {
    let mut out = Vec::new();
    fn go<'a>(
        map: &'a Map<String, Value>,
        prefix: &mut Vec<String>,
        out: &mut Vec<(usize, String, String, &'a Value)>,
    ) {
        for (key, value) in map {
            prefix.push(key.clone());
            out.push((
                prefix.len() - 1,
                render(std::slice::from_ref(key)),
                render(prefix),
                value,
            ));
            if let Value::Object(m) = value {
                go(m, prefix, out);
            }
            prefix.pop();
        }
    }
    go(root, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn p(s: &str) -> Path {
        Path::parse_dotted(s).unwrap()
    }

    #[test]
    fn set_creates_parents_and_keeps_siblings() {
        let mut root = map(json!({"STARFLEET": {"Other": 1}, "W": {"k": "v"}}));
        set(&mut root, &p("STARFLEET.SlackToken"), json!("t"), false).unwrap();
        set(&mut root, &p(r"New.a\.b.c"), json!(2), false).unwrap();
        assert_eq!(
            Value::Object(root),
            json!({"STARFLEET": {"Other": 1, "SlackToken": "t"}, "W": {"k": "v"}, "New": {"a.b": {"c": 2}}})
        );
    }

    #[test]
    fn set_refuses_to_clobber_silently() {
        let mut root = map(json!({"W": {"k": "v"}, "S": "text"}));
        let e = set(&mut root, &p("W"), json!("x"), false).unwrap_err();
        assert!(e.message().contains("replace all of them"), "{e}");
        let e = set(&mut root, &p("S.deeper"), json!("x"), false).unwrap_err();
        assert!(e.message().contains("S is string, not an object"), "{e}");
        assert_eq!(Value::Object(root.clone()), json!({"W": {"k": "v"}, "S": "text"}));
        set(&mut root, &p("W"), json!({"k": "v"}), false).unwrap(); // same content: fine
        set(&mut root, &p("W"), json!("x"), true).unwrap();
        assert_eq!(root["W"], json!("x"));
    }

    #[test]
    fn changes_are_leaf_paths_with_shapes() {
        let old = map(json!({"A": {"x": "secret-1", "gone": 1}, "B": {"k": true}, "E": {}, "D.e": "s"}));
        let new = map(json!({"A": {"x": "secret-22", "new": [1]}, "C": {"deep": {"v": "zz"}}, "E": {}, "D.e": "s"}));
        let got: Vec<(String, Kind, Option<String>, Option<String>)> = changes(&old, &new)
            .into_iter()
            .map(|c| (c.path, c.kind, c.before, c.after))
            .collect();
        assert_eq!(
            got,
            [
                ("A.gone".into(), Kind::Removed, Some("number".into()), None),
                ("A.new".into(), Kind::Added, None, Some("array, 1 item".into())),
                (
                    "A.x".into(),
                    Kind::Changed,
                    Some("string, 8 chars".into()),
                    Some("string, 9 chars".into())
                ),
                ("B.k".into(), Kind::Removed, Some("boolean".into()), None),
                ("C.deep.v".into(), Kind::Added, None, Some("string, 2 chars".into())),
            ]
        );
        assert!(changes(&old, &old).is_empty());
        let filled = changes(&map(json!({"S": {}})), &map(json!({"S": {"T": "x"}})));
        assert_eq!((filled[0].path.as_str(), filled[0].kind), ("S.T", Kind::Added));
        let emptied = changes(&map(json!({"S": "x"})), &map(json!({"S": {}})));
        assert_eq!((emptied[0].path.as_str(), emptied[0].kind), ("S", Kind::Changed));
        let escaped = changes(&map(json!({})), &map(json!({"a.b": 1})));
        assert_eq!(escaped[0].path, r"a\.b");
    }

    #[test]
    fn remove_and_tree() {
        let mut root = map(json!({"A": {"x": 1, "y": {"z": 2}}}));
        assert!(remove(&mut root, &p("A.y.z")).is_some());
        assert!(remove(&mut root, &p("A.nope")).is_none());
        let t: Vec<(usize, String)> = tree(&root).into_iter().map(|(d, _, full, _)| (d, full)).collect();
        assert_eq!(t, [(0, "A".into()), (1, "A.x".into()), (1, "A.y".into())]);
    }

    #[test]
    fn checked_json_round_trips_and_bounds_size() {
        let d = Doc(map(json!({"a": "b"})));
        assert_eq!(d.to_checked_json().unwrap().as_str(), r#"{"a":"b"}"#);
        let big = Doc(map(json!({"a": "x".repeat(MAX_SECRET_BYTES)})));
        assert!(big.to_checked_json().unwrap_err().message().contains("limit"));
    }
}
