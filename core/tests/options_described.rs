//! Every option of core's one description (`starfleet_secrets::options::OPTIONS`) is exposed
//! by every language and documented: the Python and Node typings declare it, the C header has
//! its setter, Go's `Options` has its field, and the README's settings table lists it with its
//! environment variable. A new option that one of them lacks fails here, naming what to add.

use std::path::PathBuf;

use starfleet_secrets::options::{Naming, OPTIONS};

fn read(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The text between `start` and the next line that is `end` (trimmed).
fn section<'a>(text: &'a str, start: &str, end: &str, path: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("{path}: no {start:?}"));
    let rest = &text[from..];
    let to = rest
        .lines()
        .skip(1)
        .position(|l| l.trim() == end)
        .map(|n| rest.lines().take(n + 1).map(|l| l.len() + 1).sum::<usize>());
    &rest[..to.unwrap_or(rest.len())]
}

#[test]
fn python_declares_every_option() {
    let path = "bindings-python/python/starfleet_secrets/__init__.py";
    let text = read(path);
    let init = section(&text, "    def __init__(\n        self,", ") -> None:", path);
    for o in OPTIONS {
        assert!(
            init.contains(&format!("\n        {}: ", o.name)),
            "{path}: SecretsManager.__init__ has no argument {}",
            o.name
        );
    }
}

#[test]
fn node_declares_every_option() {
    // `Options` of index.d.ts extends the addon's generated `ManagerOptions` (binding.d.ts).
    let path = "bindings-node/binding.d.ts";
    let text = read(path);
    let declared = section(&text, "export interface ManagerOptions {", "}", path);
    for o in OPTIONS {
        let name = Naming::Camel.spell(o.name);
        assert!(
            declared.contains(&format!("  {name}?: ")),
            "{path}: ManagerOptions has no {name}"
        );
    }
}

#[test]
fn the_c_header_has_a_setter_for_every_option() {
    let path = "include/starfleet_secrets.h";
    let text = read(path);
    for o in OPTIONS {
        let setter = format!("starfleet_secrets_options_set_{}", o.name);
        assert!(text.contains(&setter), "{path}: no {setter}[_seconds|_path|...]");
    }
}

#[test]
fn go_has_a_field_for_every_option() {
    let path = "bindings-go/starfleetsecrets/manager.go";
    let text = read(path);
    let fields: Vec<String> = section(&text, "type Options struct {", "}", path)
        .lines()
        .filter_map(|l| l.strip_prefix('\t'))
        .filter(|l| !l.starts_with("//"))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_lowercase)
        .collect();
    for o in OPTIONS {
        // Go spells initialisms in capitals (SecretID, TTL, EndpointURL): compare lowercased.
        let name = Naming::Camel.spell(o.name).to_lowercase();
        assert!(fields.contains(&name), "{path}: Options has no field for {}", o.name);
    }
}

#[test]
fn the_readme_settings_table_lists_every_option_and_variable() {
    let text = read("README.md");
    let table = section(&text, "| setting | argument | environment | default |", "", "README.md");
    for o in OPTIONS {
        assert!(
            table.contains(&format!("`{}`", o.name)),
            "README.md settings table: no `{}`",
            o.name
        );
        if let Some(env) = o.env {
            assert!(table.contains(env), "README.md settings table: no {env} for {}", o.name);
        }
    }
}

#[test]
fn the_description_is_complete() {
    for o in OPTIONS {
        assert!(!o.doc.is_empty() && !o.default.is_empty(), "{}", o.name);
    }
    let mut names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), OPTIONS.len(), "an option is listed twice");
}
