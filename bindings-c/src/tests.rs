//! Unit tests of the C ABI that need no network (the C and Go suites cover the rest).

use std::ffi::{c_char, CStr};
use std::ptr;

use super::buffer::OutBuffer;
use super::ffi::boundary;
use super::*;
use starfleet_secrets::error::{Code, Error};
use starfleet_secrets::options::Kind;

fn last_message() -> String {
    let mut buf = [0 as c_char; 512];
    let mut n = 0usize;
    let r = unsafe { starfleet_secrets_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!(r, starfleet_secrets_result::Ok);
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_owned();
    assert_eq!(s.len(), n);
    s
}

#[test]
fn result_numbers_and_names_are_cores() {
    for code in Code::ALL {
        let r = ffi::result_of(code);
        assert_eq!(r as u32, code.number());
        let name = unsafe { CStr::from_ptr(starfleet_secrets_result_name(code.number())) };
        assert_eq!(name.to_str().unwrap(), code.as_str());
    }
    let name = |n| {
        unsafe { CStr::from_ptr(starfleet_secrets_result_name(n)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(0), "OK");
    assert_eq!(name(999), "UNKNOWN");
    for code in Code::ALL {
        assert_eq!(starfleet_secrets_code_is_transient(code.number()), code.is_transient());
    }
    assert!(!starfleet_secrets_code_is_transient(0) && !starfleet_secrets_code_is_transient(999));
    let v = unsafe { CStr::from_ptr(starfleet_secrets_version()) };
    assert_eq!(v.to_str().unwrap(), starfleet_secrets::VERSION);
    assert_eq!(starfleet_secrets_abi_version(), STARFLEET_SECRETS_ABI_VERSION);
}

#[test]
fn null_and_non_utf8_arguments_are_invalid_and_leave_out_params_alone() {
    let sentinel = 0x5a5a as *mut starfleet_secrets_options;
    let mut out = sentinel;
    assert_eq!(
        unsafe { starfleet_secrets_options_new(ptr::null_mut()) },
        starfleet_secrets_result::InvalidArgument
    );
    assert!(last_message().contains("out-param out is NULL"));
    unsafe {
        assert_eq!(starfleet_secrets_options_new(&mut out), starfleet_secrets_result::Ok);
        assert_ne!(out, sentinel);
        assert_eq!(last_message(), "", "success clears the last error");
        let bad = b"caf\xc3(\0";
        assert_eq!(
            starfleet_secrets_options_set_secret_id(out, bad.as_ptr().cast()),
            starfleet_secrets_result::InvalidArgument
        );
        assert!(
            last_message().contains("secret_id is not valid UTF-8"),
            "{}",
            last_message()
        );
        assert_eq!(
            starfleet_secrets_options_set_region(out, ptr::null()),
            starfleet_secrets_result::InvalidArgument
        );
        assert_eq!(
            starfleet_secrets_options_set_ttl(out, c"soon".as_ptr()),
            starfleet_secrets_result::InvalidArgument
        );
        assert_eq!(
            starfleet_secrets_options_set_ttl_seconds(out, f64::NAN),
            starfleet_secrets_result::InvalidArgument
        );
        assert_eq!(
            starfleet_secrets_options_set_timeout_seconds(out, -1.0),
            starfleet_secrets_result::InvalidArgument
        );
        assert_eq!(
            starfleet_secrets_last_error_code(),
            starfleet_secrets_result::InvalidArgument
        );
        assert_eq!(
            starfleet_secrets_options_set_ttl(out, c"never".as_ptr()),
            starfleet_secrets_result::Ok
        );
        assert_eq!(starfleet_secrets_last_error_code(), starfleet_secrets_result::Ok);

        let msentinel = 0x5a5a as *mut starfleet_secrets_manager;
        let mut m = msentinel;
        assert_eq!(
            starfleet_secrets_manager_new(ptr::null(), &mut m),
            starfleet_secrets_result::InvalidArgument
        );
        assert_eq!(m, msentinel, "out-param untouched on failure");
        let mut s = ptr::null_mut::<c_char>();
        assert_eq!(
            starfleet_secrets_manager_get_string(ptr::null(), c"a".as_ptr(), &mut s, ptr::null_mut()),
            starfleet_secrets_result::InvalidArgument
        );
        assert!(s.is_null());
        starfleet_secrets_options_free(out);
        starfleet_secrets_options_free(ptr::null_mut());
        starfleet_secrets_manager_free(ptr::null_mut());
        starfleet_secrets_string_free(ptr::null_mut());
        starfleet_secrets_bytes_free(ptr::null_mut());
    }
}

#[test]
fn bad_paths_fail_before_any_fetch() {
    unsafe {
        let mut opts = ptr::null_mut();
        assert_eq!(starfleet_secrets_options_new(&mut opts), starfleet_secrets_result::Ok);
        // A location that cannot resolve: the path error must come first, without I/O.
        let mut m = ptr::null_mut();
        assert_eq!(
            starfleet_secrets_manager_new(opts, &mut m),
            starfleet_secrets_result::Ok
        );
        starfleet_secrets_options_free(opts);
        let mut s = ptr::null_mut::<c_char>();
        assert_eq!(
            starfleet_secrets_manager_get_string(m, c"a..b".as_ptr(), &mut s, ptr::null_mut()),
            starfleet_secrets_result::InvalidArgument
        );
        assert!(last_message().contains("empty segment"), "{}", last_message());
        assert_eq!(
            starfleet_secrets_manager_get_string_path(m, ptr::null(), 0, &mut s, ptr::null_mut()),
            starfleet_secrets_result::InvalidArgument
        );
        let keys = [c"a".as_ptr(), ptr::null()];
        assert_eq!(
            starfleet_secrets_manager_get_json_path(m, keys.as_ptr(), 2, &mut s, ptr::null_mut()),
            starfleet_secrets_result::InvalidArgument
        );
        assert!(last_message().contains("keys[1] is NULL"), "{}", last_message());
        assert!(s.is_null());
        starfleet_secrets_manager_free(m);
    }
}

#[test]
fn buffers_keep_nul_bytes_and_json_is_exact() {
    unsafe {
        let mut out = ptr::null_mut::<u8>();
        let mut len = 0usize;
        OutBuffer::copy_of(b"a\0b").unwrap().hand_out(&mut out, &mut len);
        assert_eq!(std::slice::from_raw_parts(out, len + 1), b"a\0b\0");
        starfleet_secrets_bytes_free(out);

        let value = serde_json::json!({"k": "v\u{0}é", "n": [1, 2.5, null]});
        let mut s = ptr::null_mut::<c_char>();
        OutBuffer::json_with(|w| serde_json::to_writer(w, &value))
            .unwrap()
            .hand_out(&mut s, &mut len);
        let text = std::str::from_utf8(std::slice::from_raw_parts(s.cast::<u8>(), len)).unwrap();
        assert_eq!(text, serde_json::to_string(&value).unwrap());
        starfleet_secrets_string_free(s);

        OutBuffer::copy_of(b"").unwrap().hand_out(&mut s, ptr::null_mut());
        assert_eq!(*s, 0);
        starfleet_secrets_string_free(s);
    }
}

#[test]
fn panics_become_internal_and_messages_truncate_on_char_boundaries() {
    let r = boundary("test_fn", || panic!("boom"));
    assert_eq!(r, starfleet_secrets_result::Internal);
    assert!(last_message().starts_with("INTERNAL: test_fn: internal error"));

    let r = boundary("x", || Err(Error::new(Code::KeyNotFound, "ééé")));
    assert_eq!(r, starfleet_secrets_result::KeyNotFound);
    let full = "KEY_NOT_FOUND: ééé";
    let mut buf = [0x7f as c_char; 20];
    let mut n = 0usize;
    unsafe {
        // "KEY_NOT_FOUND: " is 15 bytes; 17 bytes of room fits one 'é' (2 bytes) only.
        starfleet_secrets_last_error_message(buf.as_mut_ptr(), 18, &mut n);
        assert_eq!(n, full.len());
        assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "KEY_NOT_FOUND: é");
        // Sizing call: nothing copied.
        assert_eq!(
            starfleet_secrets_last_error_message(ptr::null_mut(), 0, &mut n),
            starfleet_secrets_result::Ok
        );
        assert_eq!(n, full.len());
        assert_eq!(
            starfleet_secrets_last_error_message(ptr::null_mut(), 4, &mut n),
            starfleet_secrets_result::InvalidArgument
        );
        // ... which does not replace the last error.
        assert_eq!(
            starfleet_secrets_last_error_code(),
            starfleet_secrets_result::KeyNotFound
        );
    }
}

#[test]
fn a_nul_in_a_message_is_spelled_out_for_c() {
    // Found by the capi_strings fuzz target: a SecretId with a YAML "\0" escape put a NUL in
    // the message, so C saw it cut short while out_len counted the whole of it.
    unsafe {
        let mut opts = ptr::null_mut();
        assert_eq!(starfleet_secrets_options_new(&mut opts), starfleet_secrets_result::Ok);
        let yaml = c"STARFLEET:\n  SecretsManager:\n    SecretId: \"arn:aws:secretsmanager:us-east-2:123456789012:secret:a\\0b\"\n    SecretRegion: us-east-2\n";
        assert_eq!(
            starfleet_secrets_options_set_config_yaml(opts, c"c.yaml".as_ptr(), yaml.as_ptr()),
            starfleet_secrets_result::Ok
        );
        assert_eq!(
            starfleet_secrets_options_set_region(opts, c"eu-west-1".as_ptr()),
            starfleet_secrets_result::Ok
        );
        let mut m = ptr::null_mut();
        assert_eq!(
            starfleet_secrets_manager_new(opts, &mut m),
            starfleet_secrets_result::Ok
        );
        starfleet_secrets_options_free(opts);
        let (mut id, mut region) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            starfleet_secrets_manager_location(m, &mut id, &mut region),
            starfleet_secrets_result::ConfigInvalid
        );
        // Config validation now refuses it, naming it escaped (so no NUL reaches C there);
        // `boundary` below still spells out any NUL another message might carry.
        let message = last_message(); // also checks strlen == out_len
        assert!(
            message.contains("secret:a\\0b\" contains a control character"),
            "{message}"
        );
        starfleet_secrets_manager_free(m);
    }
    let r = boundary("x", || Err(Error::new(Code::KeyNotFound, "a\0b\0")));
    assert_eq!(r, starfleet_secrets_result::KeyNotFound);
    assert_eq!(last_message(), "KEY_NOT_FOUND: a\\0b\\0");
}

/// `result.rs` is rendered from core's code list ([`Code::ALL`], [`Code::doc`]): the C enum is
/// that list, and cbindgen writes the header from it. Set `STARFLEET_REGENERATE=1` to rewrite
/// the file after adding a code in core (then regenerate the header: scripts/test-c-go).
#[test]
fn the_result_enum_is_generated_from_cores_codes() {
    let doc = |text: &str, indent: &str| -> String { text.lines().map(|l| format!("{indent}///{l}\n")).collect() };
    let mut variants = String::new();
    let mut arms = String::new();
    for code in Code::ALL {
        let variant = format!("{code:?}");
        variants += &doc(code.doc(), "    ");
        variants += &format!("    {variant} = {},\n", code.number());
        arms += &format!("            Code::{variant} => Self::{variant},\n");
    }
    let text = format!(
        r#"// Generated from core's error codes (core/src/error.rs) by the test
// `the_result_enum_is_generated_from_cores_codes` (bindings-c/src/tests.rs); do not edit.
// After adding a code in core: STARFLEET_REGENERATE=1 cargo test -p starfleet-secrets-c --lib
// result_enum, then regenerate the header (scripts/test-c-go says how).

use starfleet_secrets::error::Code;

/// What a call returned. The numbers are core's stable error codes (`Code::number()`), the
/// same numbers every language sees; 0 is success. Never renumbered, only appended to, so
/// treat an unknown number as an error and name it with `starfleet_secrets_result_name()`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum starfleet_secrets_result {{
    /// Success.
    Ok = 0,
{variants}}}

impl starfleet_secrets_result {{
    /// The result a core code is returned as.
    pub(crate) const fn from_code(code: Code) -> Self {{
        match code {{
{arms}        }}
    }}
}}
"#
    );
    generated("bindings-c/src/result.rs", "core's codes", "result_enum", &text);
}

/// Holds `file` (a path from the repository's root: the C setters here, Go's table in
/// bindings-go) to `text`, rendered from core (`what`); with `STARFLEET_REGENERATE` set, writes
/// it first. `test` is the filter that reruns the test.
fn generated(file: &str, what: &str, test: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    if std::env::var_os("STARFLEET_REGENERATE").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{file} differs from {what}: regenerate it with\n  \
         STARFLEET_REGENERATE=1 cargo test -p starfleet-secrets-c --lib {test}"
    );
}

/// How a C setter takes an option of one kind: the setter's name after the option's, its one
/// parameter (besides `opts`), the value handed to `Options::set`, and what the parameter's
/// form adds to the option's doc. A kind may have more than one (the TTL as text or seconds).
struct Shape {
    /// Appended to `starfleet_secrets_options_set_<option>`.
    suffix: &'static str,
    /// The parameter's name; empty: the option's name.
    param: &'static str,
    c_type: &'static str,
    /// The `OptionValue` expression (`{p}` is the parameter; `text`/`regions` are options.rs's).
    value: &'static str,
    /// What this form adds to the doc (empty: nothing).
    note: &'static str,
}

const TEXT: Shape = Shape {
    suffix: "",
    param: "",
    c_type: "*const c_char",
    value: "text({p}, \"{p}\")?",
    note: "",
};
const SECONDS: Shape = Shape {
    suffix: "_seconds",
    param: "seconds",
    c_type: "f64",
    value: "OptionValue::Number({p})",
    note: "In seconds; negative, NaN or infinite is INVALID_ARGUMENT.",
};
const FRACTION: Shape = Shape {
    suffix: "",
    param: "fraction",
    c_type: "f64",
    value: "OptionValue::Number({p})",
    note: "In `[0, 1)`; anything else is INVALID_ARGUMENT.",
};
/// A yes/no option (`Kind::Flag`: `zeroize_before_snapshot`): a C `bool`, handed to core as
/// `OptionValue::Flag(bool)`.
const FLAG: Shape = Shape {
    suffix: "",
    param: "enabled",
    c_type: "bool",
    value: "OptionValue::Flag({p})",
    note: "`true` or `false`.",
};

/// The C forms of each kind of option. A new kind fails to compile here until it has its forms.
fn shapes(kind: Kind) -> &'static [Shape] {
    match kind {
        Kind::Text => &[TEXT],
        Kind::Seconds => &[SECONDS],
        Kind::Fraction => &[FRACTION],
        Kind::Ttl => &[
            Shape {
                note: "As text spelled like `STARFLEET_SECRETS_TTL`: `\"never\"`, `\"0\"` or a number of seconds \
                       (`\"300\"`, `\"1.5\"`).",
                ..TEXT
            },
            Shape {
                note: "In seconds; negative, NaN or infinite is INVALID_ARGUMENT (never: \
                       `starfleet_secrets_options_set_ttl(opts, \"never\")`).",
                ..SECONDS
            },
        ],
        Kind::Regions => &[Shape {
            param: "comma_separated",
            value: "regions({p}, \"{p}\")?",
            note: "As one comma-separated list, `\"us-west-2,eu-west-1\"`; an empty string sets none (and so turns \
                   the environment variable off). Region names are checked on first use (CONFIG_INVALID).",
            ..TEXT
        }],
        Kind::Flag => &[FLAG],
        Kind::Config => &[Shape {
            suffix: "_path",
            param: "path",
            note: "Here as the path of a file or directory, read on first use and only if the location is \
                   incomplete; YAML text: `starfleet_secrets_options_set_config_yaml()`.",
            ..TEXT
        }],
    }
}

/// The ABI version that added a setter, for its doc (those not listed are in ABI 1). A new
/// option's setter is a new function, which bumps `STARFLEET_SECRETS_ABI_VERSION`: list it.
const ADDED_IN_ABI: &[(&str, u32)] = &[
    ("refresh_ahead", 3),
    ("expiry_jitter", 3),
    ("fallback_regions", 3),
    ("source", 5),
    ("zeroize_before_snapshot", 6),
];

/// `text` as `///` lines of at most `width` characters (words are not split).
fn doc_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out += &format!("/// {line}\n");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line += word;
    }
    if !line.is_empty() {
        out += &format!("/// {line}\n");
    }
    out
}

/// The C name of `option`'s setter in `shape`'s form; Go's table names the same functions.
fn setter_name(option: &starfleet_secrets::options::OptionSpec, shape: &Shape) -> String {
    format!("starfleet_secrets_options_set_{}{}", option.name, shape.suffix)
}

/// One setter: `option`'s value in `shape`'s form, handed to `Options::set`.
fn render_setter(option: &starfleet_secrets::options::OptionSpec, shape: &Shape) -> String {
    let function = setter_name(option, shape);
    let param = if shape.param.is_empty() {
        option.name
    } else {
        shape.param
    };
    let value = shape.value.replace("{p}", param);
    let default = match option.env {
        Some(env) => format!("When not set: `{env}`, else {}.", option.default),
        None => format!("When not set: {}.", option.default),
    };
    let since = ADDED_IN_ABI
        .iter()
        .find(|(name, _)| *name == option.name)
        .map(|(_, abi)| format!(" Added in ABI version {abi}."))
        .unwrap_or_default();
    let mut doc = doc_lines(option.doc, 92);
    doc += "///\n";
    doc += &doc_lines(&format!("{} {default}{since}", shape.note), 92);
    let body = format!(
        "    boundary(\"{function}\", || {{\n        options(opts)?.set(\"{}\", {value}, Snake)\n    }})\n",
        option.name
    );
    format!(
        "\n{doc}#[no_mangle]\npub unsafe extern \"C\" fn {function}(\n    opts: *mut starfleet_secrets_options,\n    \
         {param}: {},\n) -> starfleet_secrets_result {{\n{body}}}\n",
        shape.c_type
    )
}

/// `setters.rs` is rendered from core's options ([`OPTIONS`](starfleet_secrets::options::OPTIONS)):
/// one C setter per option and form of its kind ([`shapes`]), each one `Options::set` call, its
/// doc the option's own. Set `STARFLEET_REGENERATE=1` to rewrite the file after adding an
/// option in core (then regenerate the header: scripts/check-header says how).
#[test]
fn the_setters_are_generated_from_cores_options() {
    let mut text = String::from(
        r#"// Generated from core's options (core/src/options.rs, `OPTIONS`) by the test
// `the_setters_are_generated_from_cores_options` (bindings-c/src/tests.rs); do not edit.
// After adding an option in core: STARFLEET_REGENERATE=1 cargo test -p starfleet-secrets-c --lib
// setters, then regenerate the header (scripts/check-header says how).

//! The setter of each of core's options, in each C form of its kind.

use std::ffi::c_char;

use super::ffi::boundary;
use super::options::{options, regions, starfleet_secrets_options, text};
use super::starfleet_secrets_result;
use starfleet_secrets::options::{Naming::Snake, OptionValue};
"#,
    );
    for option in starfleet_secrets::options::OPTIONS {
        for shape in shapes(option.kind) {
            text += &render_setter(option, shape);
        }
    }
    generated("bindings-c/src/setters.rs", "core's options", "setters", &text);
}

/// Go's name of an option's field in `Options` (bindings-go/starfleetsecrets/manager.go): the
/// snake-case name in CamelCase, with Go's initialisms in capitals (`secret_id` → `SecretID`,
/// `endpoint_url` → `EndpointURL`, `ttl` → `TTL`).
fn go_field(name: &str) -> String {
    name.split('_')
        .map(|word| match word {
            "id" | "url" | "ttl" => word.to_uppercase(),
            _ => {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        })
        .collect()
}

/// The slot of Go's `option` (bindings-go/starfleetsecrets/cgo.go) that holds a setter of
/// `shape`'s C form: Go converts a value once per Go type and calls the setter of the form it
/// needs. A new C form fails here until cgo.go has a slot (and a C call) for it.
fn go_slot(shape: &Shape) -> &'static str {
    match shape.c_type {
        "*const c_char" => "text",
        "f64" => "number",
        "bool" => "flag",
        other => panic!("no slot in Go's option for a setter taking {other}"),
    }
}

/// Go's spelling of an explicit 0 for a duration option whose 0 means something: a zero
/// `time.Duration` is "not set" in Go, so these fields take a named negative constant instead
/// (manager.go). Any other negative duration goes to core as it is (and is refused there).
const GO_ZERO: &[(&str, &str)] = &[("ttl", "TTLNoCache"), ("max_stale", "NoStale")];

/// `options_gen.go` is Go's table of core's options, rendered from
/// [`OPTIONS`](starfleet_secrets::options::OPTIONS): per option one line naming its field of
/// `Options` and the C setters the setters test generates for its kind ([`shapes`],
/// [`setter_name`]), so Go's one hand-written line per option is the field. A field `Options`
/// lacks fails to compile there. Set `STARFLEET_REGENERATE=1` to rewrite the file.
#[test]
fn the_go_options_table_is_generated_from_cores_options() {
    let mut lines = String::new();
    for option in starfleet_secrets::options::OPTIONS {
        let field = go_field(option.name);
        let mut line = format!("\t\t{{field: \"Options.{field}\", value: opts.{field}");
        if let Some((_, zero)) = GO_ZERO.iter().find(|(name, _)| *name == option.name) {
            line += &format!(", zero: {zero}");
        }
        for shape in shapes(option.kind) {
            line += &format!(", {}: C.{}", go_slot(shape), setter_name(option, shape));
        }
        lines += &line;
        lines += "},\n";
    }
    let text = format!(
        r#"// Code generated by the test the_go_options_table_is_generated_from_cores_options (bindings-c/src/tests.rs). DO NOT EDIT.

// Rendered from core's options (core/src/options.rs, OPTIONS). After adding an option in core:
// add its field to Options (manager.go), then
//
//	STARFLEET_REGENERATE=1 cargo test -p starfleet-secrets-c --lib go_options_table
//
// An option whose field Options lacks fails to compile here.

package starfleetsecrets

// #include "starfleet_secrets.h"
import "C"

// optionsOf lists every option of core's, in core's order: the field of opts that gives it
// (named for messages) and its named C setter of each C form of its kind. option.apply
// (cgo.go) converts the value, once per Go type.
func optionsOf(opts *Options) []option {{
	return []option{{
{lines}	}}
}}
"#
    );
    generated(
        "bindings-go/starfleetsecrets/options_gen.go",
        "core's options",
        "go_options_table",
        &text,
    );
}

/// Go's field names follow Go's initialisms, as the hand-written `Options` spells them.
#[test]
fn go_field_names_spell_initialisms_in_capitals() {
    let got: Vec<String> = [
        "secret_id",
        "endpoint_url",
        "ttl",
        "max_stale",
        "zeroize_before_snapshot",
        "config",
    ]
    .iter()
    .map(|n| go_field(n))
    .collect();
    assert_eq!(
        got,
        [
            "SecretID",
            "EndpointURL",
            "TTL",
            "MaxStale",
            "ZeroizeBeforeSnapshot",
            "Config"
        ]
    );
}

/// A yes/no option is a C `bool`.
#[test]
fn a_flag_option_is_a_c_bool() {
    use starfleet_secrets::options::{find, Kind, Naming};
    let spec = find("zeroize_before_snapshot", Naming::Snake).unwrap();
    assert_eq!(spec.kind, Kind::Flag);
    let setter = render_setter(spec, &shapes(spec.kind)[0]);
    assert!(
        setter.contains("fn starfleet_secrets_options_set_zeroize_before_snapshot(\n"),
        "{setter}"
    );
    assert!(setter.contains("    enabled: bool,\n"), "{setter}");
    assert!(
        setter.contains("set(\"zeroize_before_snapshot\", OptionValue::Flag(enabled), Snake)"),
        "{setter}"
    );
}
