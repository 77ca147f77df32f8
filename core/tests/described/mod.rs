//! Reading the repository's typings and docs for the tests that check them against core's
//! descriptions (`options_described.rs`, `stats_described.rs`).
#![allow(dead_code)]

use std::path::PathBuf;

/// A file of the repository, by its path from the repository root.
pub fn read(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The text between `start` and the next line that is `end` (trimmed).
pub fn section<'a>(text: &'a str, start: &str, end: &str, path: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("{path}: no {start:?}"));
    let rest = &text[from..];
    let to = rest
        .lines()
        .skip(1)
        .position(|l| l.trim() == end)
        .map(|n| rest.lines().take(n + 1).map(|l| l.len() + 1).sum::<usize>());
    &rest[..to.unwrap_or(rest.len())]
}

/// The text from `start` up to the first `end` after it.
pub fn between<'a>(text: &'a str, start: &str, end: &str, path: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("{path}: no {start:?}"));
    let rest = &text[from + start.len()..];
    let to = rest
        .find(end)
        .unwrap_or_else(|| panic!("{path}: no {end:?} after {start:?}"));
    &rest[..to]
}

/// Fails naming the first of `wanted` that `declared` (the part of `path` that declares
/// `what`) lacks.
pub fn declares(path: &str, what: &str, declared: &str, wanted: impl IntoIterator<Item = String>) {
    for want in wanted {
        assert!(declared.contains(&want), "{path}: {what} has no `{}`", want.trim());
    }
}
