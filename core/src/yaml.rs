//! YAML text → a [`Value`] tree, bounded after alias expansion.
//!
//! The events come from `saphyr-parser` (a maintained YAML 1.2 parser, no `unsafe`); the tree
//! is built here so that every alias is paid for when it is expanded. A parser's own limits
//! bound its input, not what the input expands to: a 0.6 MiB file whose one 400 KB anchored
//! scalar is referenced 1,500 times expands to 600 MB. So the builder counts the document
//! as it will be held, aliases expanded: [`MAX_NODES`] nodes, [`MAX_SCALAR_BYTES`] bytes of
//! scalar text and [`MAX_DEPTH`] levels of nesting. An alias that would cross a limit is
//! refused before it is copied, so a hostile file costs a few MiB at most.
//!
//! Scalars are resolved with the YAML 1.2 core schema (as serde_yaml 0.9 did): `null`, `~`
//! and empty are null; `true`/`false` (any of the three capitalisations) are booleans; plain
//! integers, `0x`/`0o` integers, floats, `.inf` and `.nan` are numbers; anything quoted or
//! block-styled (`|`, `>`) is a string. `!!str` forces a string; other tags are kept as
//! [`Value::Tagged`]. Mapping keys are unique (a duplicate is an error, with its line) and
//! keep their order. `<<` merge keys are ordinary keys.

use std::collections::HashMap;
use std::fmt;

use indexmap::IndexMap;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

/// Most nodes (scalars, sequences, mappings) in one document after alias expansion.
/// Starfleet configurations hold a few hundred; this leaves room for long account lists.
pub const MAX_NODES: usize = 100_000;
/// Most bytes of scalar text (keys and values) in one document after alias expansion: four
/// times the largest file read, so only expansion can reach it.
pub const MAX_SCALAR_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of sequences and mappings, aliases expanded.
pub const MAX_DEPTH: usize = 128;

/// A YAML node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer or float, as written (`12`, `0x1f`, `1.5e3`, `.inf`).
    Number(String),
    String(String),
    Sequence(Vec<Value>),
    Mapping(Mapping),
    /// A node with an application tag (`!Ref x`): not a plain value.
    Tagged(Box<Tagged>),
}

/// A node and its tag (`!Ref`, `!!python/object`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tagged {
    pub tag: String,
    pub value: Value,
}

/// A mapping: unique keys in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping(IndexMap<Value, Value>);

/// Equal mappings (same entries, in any order) hash alike: the entries' hashes are summed.
impl std::hash::Hash for Mapping {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        use std::hash::Hasher as _;
        let mut sum = 0u64;
        for entry in &self.0 {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            entry.hash(&mut h);
            sum = sum.wrapping_add(h.finish());
        }
        sum.hash(state);
    }
}

impl Mapping {
    pub fn new() -> Mapping {
        Mapping::default()
    }

    /// The value under the string key `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(&Value::String(key.to_owned()))
    }

    /// Insert or replace (a replaced key keeps its position); returns the old value.
    pub fn insert(&mut self, key: Value, value: Value) -> Option<Value> {
        self.0.insert(key, value)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.0.iter()
    }
}

impl IntoIterator for Mapping {
    type Item = (Value, Value);
    type IntoIter = indexmap::map::IntoIter<Value, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Value {
    /// "a string", "a list", ...: for messages that must not show the value itself.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
            Value::Tagged(_) => "a tagged value",
        }
    }
}

/// Why a text is not an acceptable YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line where the problem is, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Parse one YAML document. An empty text (or only comments) is [`Value::Null`]; a second
/// document in the same text is an error.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(syntax)?;
        if builder.on_event(event, span)? {
            break;
        }
    }
    Ok(builder.root.unwrap_or(Value::Null))
}

/// The 1-based line of the mapping key at `path` (keys from the root mapping down) in
/// `text`, or, when the path is not all there, of the deepest key of it that is: a missing
/// key points at the mapping it is missing from. `None` when not even the first key is found.
///
/// Read from the parser's spans, so block and flow style, quoted keys, comments and block
/// scalars are told apart exactly as [`parse`] tells them; a key matches as
/// [`Mapping::get`] looks it up (a string scalar). Keys under a list are not on any path.
/// For messages only: an unparsable text answers what was found before the error.
pub fn key_line(text: &str, path: &[&str]) -> Option<usize> {
    /// A collection open at the current point of the walk.
    struct Open {
        mapping: bool,
        /// Nodes completed inside it (in a mapping: even = next is a key).
        children: usize,
        /// Reached through the path's keys (`path[..depth]`).
        on_path: bool,
        /// The last key completed here was the path's next key.
        key_on_path: bool,
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut found = None;
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let completes = match event {
            Event::StreamEnd => break,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let on_path = match stack.last_mut() {
                    None => true,
                    Some(parent) if parent.mapping && parent.children % 2 == 0 => {
                        // A collection used as a key is not one of the path's keys.
                        parent.key_on_path = false;
                        false
                    }
                    Some(parent) => parent.mapping && parent.on_path && parent.key_on_path,
                };
                stack.push(Open {
                    mapping: matches!(event, Event::MappingStart(..)),
                    children: 0,
                    on_path,
                    key_on_path: false,
                });
                false
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                true
            }
            Event::Scalar(value, style, _, tag) => {
                let depth = stack.len().saturating_sub(1);
                if let Some(open) = stack.last_mut().filter(|o| o.mapping && o.children % 2 == 0) {
                    open.key_on_path = open.on_path
                        && path.get(depth).is_some_and(|key| {
                            scalar(&value, style, tag.as_deref()) == Value::String((*key).to_owned())
                        });
                    if open.key_on_path {
                        found = Some(span.start.line());
                    }
                }
                true
            }
            Event::Alias(_) => true,
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => false,
        };
        if completes {
            if let Some(parent) = stack.last_mut() {
                parent.children += 1;
            }
        }
    }
    found
}

fn syntax(e: ScanError) -> YamlError {
    let at = e.marker();
    if e.info() == "recursion limit exceeded" {
        // The scanner's own cap on flow nesting (255), past ours: one message for both.
        return too_deep(at.line());
    }
    YamlError {
        line: Some(at.line()),
        message: format!(
            "malformed YAML: {} at line {} column {}",
            e.info(),
            at.line(),
            at.col() + 1
        ),
    }
}

fn at(span: &Span, message: String) -> YamlError {
    YamlError {
        line: Some(span.start.line()),
        message,
    }
}

fn too_deep(line: usize) -> YamlError {
    YamlError {
        line: Some(line),
        message: format!("nested deeper than {MAX_DEPTH} levels (at line {line}, aliases expanded)"),
    }
}

/// What a node costs once expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    nodes: usize,
    bytes: usize,
}

/// A complete anchored node, ready to be copied by its aliases.
struct Anchored {
    value: Value,
    cost: Cost,
    /// Levels of nesting inside it (0 for a scalar).
    height: usize,
}

/// A collection being built.
struct Frame {
    kind: FrameKind,
    anchor: usize,
    tag: Option<String>,
    /// The document's cost when it started (its own cost is the difference at its end).
    started: Cost,
    /// Levels of nesting inside its children so far.
    height: usize,
}

enum FrameKind {
    Sequence(Vec<Value>),
    /// The mapping, and the key waiting for its value (with the key's span).
    Mapping(Mapping, Option<(Value, Span)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    total: Cost,
    root: Option<Value>,
    documents: usize,
}

impl Builder {
    /// Handle one event; `true` when the stream has ended.
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<bool, YamlError> {
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(at(
                        &span,
                        format!(
                            "malformed YAML: a second document (---) at line {}; a configuration file holds one",
                            span.start.line()
                        ),
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(
                    Cost {
                        nodes: 1,
                        bytes: text.len(),
                    },
                    0,
                    &span,
                )?;
                let value = scalar(&text, style, tag.as_deref());
                if anchor > 0 {
                    self.anchors.insert(
                        anchor,
                        Anchored {
                            value: value.clone(),
                            cost: Cost {
                                nodes: 1,
                                bytes: text.len(),
                            },
                            height: 0,
                        },
                    );
                }
                self.add(value, 0, span)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(FrameKind::Sequence(Vec::new()), anchor, tag.as_deref(), &span)?
            }
            Event::MappingStart(anchor, tag) => {
                self.open(FrameKind::Mapping(Mapping::new(), None), anchor, tag.as_deref(), &span)?
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
            Event::Alias(id) => {
                // Only complete nodes are registered: an alias inside its own anchor's node
                // (a recursive structure) finds nothing.
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(at(
                        &span,
                        format!(
                            "an alias at line {} refers to the node that contains it (recursive YAML is not supported)",
                            span.start.line()
                        ),
                    ));
                };
                let (cost, height) = (anchored.cost, anchored.height);
                // Paid for before it is copied: a refused alias costs nothing.
                self.charge(cost, height, &span)?;
                let value = self.anchors[&id].value.clone();
                self.add(value, height, span)?;
            }
        }
        Ok(false)
    }

    /// Count `cost` against the budget for a node `height` levels deep placed at the top of
    /// the stack.
    fn charge(&mut self, cost: Cost, height: usize, span: &Span) -> Result<(), YamlError> {
        let line = span.start.line();
        if self.stack.len() + height > MAX_DEPTH {
            return Err(too_deep(line));
        }
        self.total.nodes += cost.nodes;
        self.total.bytes += cost.bytes;
        if self.total.nodes > MAX_NODES {
            return Err(at(
                span,
                format!(
                    "too large once its aliases are expanded: more than {MAX_NODES} nodes (reached at line {line})"
                ),
            ));
        }
        if self.total.bytes > MAX_SCALAR_BYTES {
            return Err(at(
                span,
                format!(
                    "too large once its aliases are expanded: more than {MAX_SCALAR_BYTES} bytes of text (reached at line {line})"
                ),
            ));
        }
        Ok(())
    }

    fn open(&mut self, kind: FrameKind, anchor: usize, tag: Option<&Tag>, span: &Span) -> Result<(), YamlError> {
        // The collection itself is one node, one level deeper than where it opens.
        self.charge(Cost { nodes: 1, bytes: 0 }, 1, span)?;
        self.stack.push(Frame {
            kind,
            anchor,
            tag: tag.filter(|t| !is_core(t)).map(ToString::to_string),
            started: Cost {
                nodes: self.total.nodes - 1,
                bytes: self.total.bytes,
            },
            height: 1,
        });
        Ok(())
    }

    fn close(&mut self, span: Span) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let mut value = match frame.kind {
            FrameKind::Sequence(items) => Value::Sequence(items),
            FrameKind::Mapping(map, _) => Value::Mapping(map),
        };
        if let Some(tag) = frame.tag {
            value = Value::Tagged(Box::new(Tagged { tag, value }));
        }
        if frame.anchor > 0 {
            let cost = Cost {
                nodes: self.total.nodes - frame.started.nodes,
                bytes: self.total.bytes - frame.started.bytes,
            };
            self.anchors.insert(
                frame.anchor,
                Anchored {
                    value: value.clone(),
                    cost,
                    height: frame.height,
                },
            );
        }
        self.add(value, frame.height, span)
    }

    /// Place a complete node (`height` levels deep) in its parent, or as the root.
    fn add(&mut self, value: Value, height: usize, span: Span) -> Result<(), YamlError> {
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        parent.height = parent.height.max(height + 1);
        match &mut parent.kind {
            FrameKind::Sequence(items) => items.push(value),
            FrameKind::Mapping(map, pending) => match pending.take() {
                None => *pending = Some((value, span)),
                Some((key, key_span)) => {
                    if map.0.contains_key(&key) {
                        return Err(at(
                            &key_span,
                            format!(
                                "malformed YAML: duplicate key {} at line {}",
                                label(&key),
                                key_span.start.line()
                            ),
                        ));
                    }
                    map.insert(key, value);
                }
            },
        }
        Ok(())
    }
}

/// A key for messages: strings as they are, other scalars as written, collections by kind.
pub fn label(key: &Value) -> String {
    match key {
        Value::String(s) | Value::Number(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Tagged(t) => format!("{} {}", t.tag, label(&t.value)),
        other => format!("({})", other.kind()),
    }
}

fn is_core(tag: &Tag) -> bool {
    tag.is_yaml_core_schema() || (tag.handle == "!" && tag.suffix.is_empty())
}

/// Resolve a scalar with the core schema.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    match tag {
        Some(t) if is_core(t) && (t.suffix == "str" || t.suffix.is_empty()) => return Value::String(text.to_owned()),
        Some(t) if !is_core(t) => {
            return Value::Tagged(Box::new(Tagged {
                tag: t.to_string(),
                value: scalar(text, style, None),
            }))
        }
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if is_number(text) => Value::Number(text.to_owned()),
        _ => Value::String(text.to_owned()),
    }
}

/// Core-schema integers and floats.
fn is_number(text: &str) -> bool {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = text.strip_prefix("0x") {
        return digits(hex, 16);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return digits(oct, 8);
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [0-9]+ | ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        None => digits(mantissa, 10),
        Some((whole, frac)) => {
            (whole.is_empty() && digits(frac, 10)) || (digits(whole, 10) && (frac.is_empty() || digits(frac, 10)))
        }
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e, 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Mapping {
        match parse(text).unwrap() {
            Value::Mapping(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn core_schema_scalars() {
        let m = map("a: 12\nb: '12'\nc: true\nd: ~\ne:\nf: yes\ng: 1.5e3\nh: .inf\ni: 0x1F\nj: !!str 7\nk: |\n  12\nl: 1.2.3\nm: TRUE\n");
        let get = |k: &str| m.get(k).unwrap().clone();
        assert_eq!(get("a"), Value::Number("12".into()));
        assert_eq!(get("b"), Value::String("12".into()));
        assert_eq!(get("c"), Value::Bool(true));
        assert_eq!(get("d"), Value::Null);
        assert_eq!(get("e"), Value::Null);
        assert_eq!(get("f"), Value::String("yes".into()), "YAML 1.2: yes is a string");
        assert_eq!(get("g"), Value::Number("1.5e3".into()));
        assert_eq!(get("h"), Value::Number(".inf".into()));
        assert_eq!(get("i"), Value::Number("0x1F".into()));
        assert_eq!(get("j"), Value::String("7".into()));
        assert_eq!(get("k"), Value::String("12\n".into()));
        assert_eq!(get("l"), Value::String("1.2.3".into()));
        assert_eq!(get("m"), Value::Bool(true));
        assert_eq!(m.iter().map(|(k, _)| label(k)).collect::<String>(), "abcdefghijklm");
    }

    #[test]
    fn tags_aliases_and_order() {
        let m = map("x: !Ref Other\nbase: &b {k: v}\ncopy: *b\n1: one\n");
        assert_eq!(m.get("x").unwrap().kind(), "a tagged value");
        assert_eq!(m.get("copy"), m.get("base"));
        assert_eq!(parse("[a, b]").unwrap().kind(), "a list");
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Value::Null);
    }

    #[test]
    fn key_lines_follow_the_path_through_any_style() {
        let text = "a:\n  b: {c: 1,\n    d: 2}\n  ? [b]\n  : x\n  e: &x\n    f: 1\n  g: *x\n";
        assert_eq!(key_line(text, &["a", "b", "d"]), Some(3));
        assert_eq!(key_line(text, &["a", "b", "missing"]), Some(2));
        assert_eq!(key_line(text, &["a", "e", "f"]), Some(7));
        // Keys after a collection used as a key, and after an alias, are still found.
        assert_eq!(key_line(text, &["a", "g"]), Some(8));
        assert_eq!(key_line(text, &["missing"]), None);
        assert_eq!(key_line("", &["a"]), None);
        // What was found before a syntax error.
        assert_eq!(key_line("a:\n  b: [\n", &["a", "b", "c"]), Some(2));
    }

    #[test]
    fn errors_have_lines() {
        let e = parse("a: 1\nb: [\n").unwrap_err();
        assert!(e.message.starts_with("malformed YAML: "), "{e}");
        assert!(e.line.is_some());
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(3), "malformed YAML: duplicate key a at line 3")
        );
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = parse("a: &x [1, *x]\n").unwrap_err();
        assert!(e.message.contains("recursive"), "{e}");
        let e = parse("a: *nowhere\n").unwrap_err();
        assert!(e.message.starts_with("malformed YAML: "), "{e}");
    }

    #[test]
    fn expansion_is_counted_before_copying() {
        let big = "x".repeat(MAX_SCALAR_BYTES / 5);
        let mut text = format!("a: &a {big}\nl:\n");
        for _ in 0..3 {
            text.push_str("- *a\n");
        }
        assert!(parse(&text).is_ok(), "three copies (plus the anchor) fit");
        text.push_str("- *a\n- *a\n");
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("too large once its aliases are expanded"), "{e}");
        assert_eq!(e.line, Some(7), "the sixth copy crosses the limit");
        // Depth counts expanded aliases too.
        let mut deep = String::from("a: &l0 [x]\n");
        for i in 1..MAX_DEPTH {
            deep.push_str(&format!("l{i}: &l{i} [*l{}]\n", i - 1));
        }
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper than 128 levels"), "{e}");
    }
}
