//! Output: colour rules, the stdout buffer, error reports and redacted value shapes.

use std::io::{IsTerminal, Write};

use serde_json::{json, Value};
use starfleet_secrets::document::json_type;
use zeroize::Zeroizing;

use crate::Failure;

/// Whether to colour a stream: never with `NO_COLOR` (any non-empty value, see
/// no-color.org), always with `CLICOLOR_FORCE` (non-empty, not `0`), never on a dumb
/// terminal, else only when the stream is a terminal.
pub fn color_wanted(is_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    if std::env::var_os("TERM").is_some_and(|t| t == "dumb") {
        return false;
    }
    is_terminal
}

/// ANSI styling for one stream, or plain text.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn stdout() -> Style {
        Style {
            color: color_wanted(std::io::stdout().is_terminal()),
        }
    }

    pub fn stderr() -> Style {
        Style {
            color: color_wanted(std::io::stderr().is_terminal()),
        }
    }

    fn paint(self, sgr: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }
}

/// What a command prints. Stdout is buffered (zeroized afterwards: `get` puts a value in it)
/// and written once at the end; notes and errors go to stderr.
pub struct Ui {
    pub json: bool,
    pub out: Style,
    pub err: Style,
    buffer: Zeroizing<String>,
}

impl Ui {
    pub fn new(json: bool, out: Style, err: Style) -> Ui {
        Ui {
            json,
            out,
            err,
            buffer: Zeroizing::new(String::new()),
        }
    }

    /// One line of output.
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.buffer.push_str(text.as_ref());
        self.buffer.push('\n');
    }

    /// A JSON document as the output (pretty, one trailing newline).
    pub fn json_out(&mut self, value: &Value) {
        let text = Zeroizing::new(serde_json::to_string_pretty(value).unwrap_or_default());
        self.line(text.as_str());
    }

    /// A note for the operator, on stderr right away (not part of the output).
    pub fn note(&self, text: impl AsRef<str>) {
        if self.json {
            return;
        }
        let _ = writeln!(std::io::stderr(), "{} {}", self.err.yellow("note:"), text.as_ref());
    }

    /// Write the buffered output. A closed pipe (`| head`) is not an error.
    pub fn flush(&mut self) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(self.buffer.as_bytes()).and_then(|()| stdout.flush());
        self.buffer = Zeroizing::new(String::new());
    }

    /// Print a failure to stderr: `starfleet-secrets: error: CODE: message`, or JSON.
    pub fn report(&self, f: &Failure) {
        let mut stderr = std::io::stderr().lock();
        if self.json {
            let body = json!({"error": {"code": f.code, "message": f.message, "hint": f.hint, "exit": f.exit}});
            let _ = writeln!(stderr, "{body}");
            return;
        }
        let _ = writeln!(
            stderr,
            "starfleet-secrets: {} {}: {}",
            self.err.red(&self.err.bold("error:")),
            f.code,
            f.message
        );
        if let Some(hint) = &f.hint {
            let _ = writeln!(stderr, "  {} {hint}", self.err.cyan("hint:"));
        }
    }
}

/// The redacted shape of a value: its JSON type and, for strings, arrays and objects, its
/// length. This is all any command but `get` ever shows of a value.
pub fn shape(v: &Value) -> String {
    match v {
        Value::String(s) => plural(s.chars().count(), "string", "char"),
        Value::Array(a) if a.is_empty() => "array, empty".to_owned(),
        Value::Array(a) => plural(a.len(), "array", "item"),
        Value::Object(m) if m.is_empty() => "object, empty".to_owned(),
        Value::Object(m) => plural(m.len(), "object", "key"),
        other => json_type(other).to_owned(),
    }
}

fn plural(n: usize, kind: &str, unit: &str) -> String {
    format!("{kind}, {n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `shape` for machines: `{"type": "string", "length": 24}` (no length for scalars).
pub fn shape_json(v: &Value) -> Value {
    let length = match v {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(m) => Some(m.len()),
        _ => None,
    };
    match length {
        Some(n) => json!({"type": json_type(v), "length": n}),
        None => json!({"type": json_type(v)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_never_show_values() {
        assert_eq!(shape(&json!("canary-xyz")), "string, 10 chars");
        assert_eq!(shape(&json!("é")), "string, 1 char");
        assert_eq!(shape(&json!(42)), "number");
        assert_eq!(shape(&json!(true)), "boolean");
        assert_eq!(shape(&json!(null)), "null");
        assert_eq!(shape(&json!([1, 2])), "array, 2 items");
        assert_eq!(shape(&json!({})), "object, empty");
        assert_eq!(shape(&json!({"a": 1})), "object, 1 key");
        assert_eq!(shape_json(&json!("abc")), json!({"type": "string", "length": 3}));
        assert_eq!(shape_json(&json!(1.5)), json!({"type": "number"}));
    }

    #[test]
    fn plain_style_adds_nothing() {
        let s = Style { color: false };
        assert_eq!(s.red("x"), "x");
        let c = Style { color: true };
        assert_eq!(c.red("x"), "\x1b[31mx\x1b[0m");
    }
}
