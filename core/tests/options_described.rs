//! Every option of core's one description (`starfleet_secrets::options::OPTIONS`) is exposed
//! by every language and documented: the Python and Node typings declare it, the C header has
//! its setter, Go's `Options` has its field, and the README's settings table lists it with its
//! environment variable. A new option that one of them lacks fails here, naming what to add.

mod described;

use described::{declares, read, section};
use starfleet_secrets::options::{Naming, OPTIONS};

#[test]
fn python_declares_every_option() {
    // `SecretsManager.__init__` is `configure` (the package's __init__.py), typed in the stub.
    let path = "bindings-python/python/starfleet_secrets/_native.pyi";
    let text = read(path);
    let configure = section(&text, "    def configure(\n        self,", ") -> None: ...", path);
    let wanted = OPTIONS.iter().map(|o| format!("\n        {}: ", o.name));
    declares(path, "SecretsManager.configure", configure, wanted);
}

#[test]
fn node_declares_every_option() {
    // `Options` of index.d.ts extends its `ManagerOptions` (the addon passes the object through).
    let path = "bindings-node/index.d.ts";
    let text = read(path);
    let declared = section(&text, "export interface ManagerOptions {", "}", path);
    let wanted = OPTIONS.iter().map(|o| format!("  {}?: ", Naming::Camel.spell(o.name)));
    declares(path, "ManagerOptions", declared, wanted);
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
