//! `tests/vectors/error-codes.json` is the core's code table as data, so every language can
//! test its own list against it (Python `_errors.py`, Node `index.d.ts`, Go `errors.go`, the C
//! header). This test keeps the file equal to the core: by name, number and transient flag.

use std::path::PathBuf;

use serde_json::{json, Value};
use starfleet_secrets::Code;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn table() -> Value {
    let text = std::fs::read_to_string(repo().join("tests/vectors/error-codes.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["codes"].clone()
}

#[test]
fn the_code_table_file_is_the_cores() {
    let core: Vec<Value> = Code::ALL
        .iter()
        .map(|c| json!({"code": c.as_str(), "number": c.number(), "transient": c.is_transient()}))
        .collect();
    assert_eq!(
        table(),
        Value::Array(core),
        "tests/vectors/error-codes.json differs from core/src/error.rs: update the file (and each language's list)"
    );
}

#[test]
fn the_c_header_enum_matches_the_table() {
    let header = std::fs::read_to_string(repo().join("include/starfleet_secrets.h")).unwrap();
    let mut in_header: Vec<(String, u64)> = header
        .lines()
        .filter_map(|l| l.trim().strip_prefix("STARFLEET_SECRETS_RESULT_"))
        .filter_map(|l| {
            let (name, number) = l.trim_end_matches(',').split_once(" = ")?;
            Some((name.to_owned(), number.parse().ok()?))
        })
        .filter(|(name, _)| name != "OK")
        .collect();
    in_header.sort_by_key(|(_, n)| *n);
    let expected: Vec<(String, u64)> = table()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap().to_owned(), e["number"].as_u64().unwrap()))
        .collect();
    assert_eq!(in_header, expected, "include/starfleet_secrets.h");
}
