//! Every stat of core's one description (`starfleet_secrets::cache::STATS`, the names of
//! `Stats::to_json`, which every binding passes through) is typed by every language and
//! listed wherever a stats list is documented. A new stat that one of them lacks fails here,
//! naming what to add.

mod described;

use described::{between, declares, read};
use starfleet_secrets::cache::{StatKind, STATS};

#[test]
fn the_json_has_every_stat_and_nothing_else() {
    let json = starfleet_secrets::Stats::default().to_json();
    let object = json.as_object().expect("an object");
    assert_eq!(object.len(), STATS.len());
    for s in STATS {
        let value = &object[s.name];
        match s.kind {
            StatKind::Count => assert_eq!(value, 0, "{}", s.name),
            _ => assert!(value.is_null(), "{}", s.name),
        }
        assert!(!s.doc.trim().is_empty(), "{} has no doc", s.name);
    }
}

#[test]
fn node_types_every_stat() {
    let path = "bindings-node/index.d.ts";
    let text = read(path);
    let declared = between(&text, "export interface Stats {", "\n}", path).to_owned() + "\n";
    let wanted = STATS.iter().map(|s| {
        let ty = match s.kind {
            StatKind::Count => "number",
            StatKind::UnixTime => "number | null",
            StatKind::Text => "string | null",
            StatKind::Code => "Code | null",
        };
        format!("\n  {}: {ty}\n", s.name)
    });
    declares(path, "Stats", &declared, wanted);
}

#[test]
fn python_types_every_stat() {
    let path = "bindings-python/python/starfleet_secrets/_native.pyi";
    let text = read(path);
    let declared = between(&text, "class _Stats(TypedDict):", "\n@", path).to_owned() + "\n";
    let wanted = STATS.iter().map(|s| {
        let ty = match s.kind {
            StatKind::Count => "int",
            StatKind::UnixTime => "Optional[float]",
            StatKind::Text | StatKind::Code => "Optional[str]",
        };
        format!("\n    {}: {ty}\n", s.name)
    });
    declares(path, "_Stats", &declared, wanted);
}

#[test]
fn go_has_a_field_for_every_stat() {
    let path = "bindings-go/starfleetsecrets/manager.go";
    let text = read(path);
    let declared = between(&text, "type Stats struct {", "\n}", path);
    // Go has no testing overrides (neither has the C ABI it wraps): nothing to count.
    let counted = STATS.iter().filter(|s| s.name != "testing_overrides");
    declares(
        path,
        "Stats",
        declared,
        counted.map(|s| format!("`json:\"{}\"`", s.name)),
    );
}

#[test]
fn every_documented_stats_list_is_complete() {
    for (path, start, end) in [
        ("README.md", "`stats()` gives", ";\n"),
        ("bindings-python/README.md", "| `.stats()` |", "\n"),
        ("bindings-node/README.md", "| `m.stats()` |", "\n"),
        ("docs/c-go.md", "| `starfleet_secrets_manager_stats_json` |", "\n"),
        ("include/starfleet_secrets.h", "The cache counters as JSON:", "*/"),
    ] {
        let text = read(path);
        let list = between(&text, start, end, path);
        declares(path, start, list, STATS.iter().map(|s| s.name.to_owned()));
    }
}
