//! The one description of every option a caller gives a manager: its name, the kind of value
//! it takes, what it means, the environment variable it falls back to and its default.
//!
//! A binding hands a value over by the option's name ([`Options::set`], used by every C
//! setter) or a whole map of them ([`Options::from_map`]: each value converted to an
//! [`OptionValue`] by its language's type alone), so a wrong name or type is reported here,
//! naming the option as the caller spelled it. Python's keyword arguments and Node's options
//! object are passed through [`Options::from_map`] whole. The typings (`.pyi`, `index.d.ts`), the C
//! setters, Go's `Options` fields and the README's settings table are checked against
//! [`OPTIONS`] by `core/tests/options_described.rs`, so a new option that one of them lacks
//! fails a test.
//!
//! Adding an option: one line in the `options!` list below (which makes the field of
//! [`Options`]; the C setter is generated from it, `bindings-c/src/setters.rs`), its resolution
//! in `settings::resolve` and its entry in `Settings::to_json` (what Python's `settings()` and
//! Node's inspect show; its test names a missing one), then one line in each language's typing
//! (the test above names what is missing).

use std::time::Duration;

use crate::config::ConfigSource;
use crate::error::{Code, Error, Result};
use crate::settings::{self, Ttl};

/// One option's value as a binding hands it over, by its language's type alone (no option is
/// known to the binding).
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// A string.
    Text(String),
    /// A number (never a boolean: a language's `true`/`false` is [`OptionValue::Flag`]).
    Number(f64),
    /// A boolean (Python's `bool`, JavaScript's `boolean`, C's `bool`).
    Flag(bool),
    /// A list whose items are all strings.
    List(Vec<String>),
    /// A Starfleet configuration the binding built from its own forms (a path, YAML text, a
    /// host application's mapping).
    Config(ConfigSource),
    /// Anything else: the type name the caller's language gives it, for the message.
    Other(String),
}

impl OptionValue {
    fn type_name(&self) -> &str {
        match self {
            OptionValue::Text(_) => "string",
            OptionValue::Number(_) => "number",
            OptionValue::Flag(_) => "boolean",
            OptionValue::List(_) => "list",
            OptionValue::Config(_) => "configuration",
            OptionValue::Other(name) => name,
        }
    }
}

/// How a binding spells option names: Python and C `max_stale`, Node `maxStale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    Snake,
    Camel,
}

impl Naming {
    /// `name` (snake case, as [`OPTIONS`] lists it) in this spelling.
    pub fn spell(self, name: &str) -> String {
        match self {
            Naming::Snake => name.to_owned(),
            Naming::Camel => {
                let mut out = String::with_capacity(name.len());
                let mut upper = false;
                for c in name.chars() {
                    match c {
                        '_' => upper = true,
                        c if upper => {
                            out.extend(c.to_uppercase());
                            upper = false;
                        }
                        c => out.push(c),
                    }
                }
                out
            }
        }
    }
}

/// The kind of value an option takes: what typings declare and what [`Options::set`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A number of seconds (`0` = no cache), or text spelled like `STARFLEET_SECRETS_TTL`:
    /// `"never"` or a number.
    Ttl,
    /// A non-negative number of seconds.
    Seconds,
    /// A fraction of the TTL, from 0 up to (not including) 1.
    Fraction,
    /// A list of AWS region names (C and Go split their one comma-separated string first).
    Regions,
    /// A Starfleet configuration: a path, YAML text, or a host application's mapping (each
    /// language's forms; see its README).
    Config,
    /// A boolean: on or off (an environment variable spells it `1`/`true`/`yes`/`on` or
    /// `0`/`false`/`no`/`off`).
    Flag,
}

impl Kind {
    /// What a value of this kind is, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Ttl => "a number of seconds or \"never\"",
            Kind::Seconds => "a number of seconds",
            Kind::Fraction => "a fraction of the TTL (a number)",
            Kind::Regions => "a list of region names (strings)",
            Kind::Config => "a Starfleet configuration (a path or YAML text)",
            Kind::Flag => "a boolean (true or false)",
        }
    }
}

/// One option, as every language exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The name in snake case (`max_stale`); Node spells it in camel case ([`Naming`]).
    pub name: &'static str,
    pub kind: Kind,
    /// What it does, one sentence or two (typings and the README say it in their words).
    pub doc: &'static str,
    /// The environment variable used when the option is not given.
    pub env: Option<&'static str>,
    /// What applies when neither the option nor the variable is given.
    pub default: &'static str,
}

/// Defines [`Options`], [`OPTIONS`] and [`Options::set`] from one list, one line per option:
/// `name: kind, env, default, doc`. Each option is a field of [`Options`] of its kind's type
/// (`None` = not given).
macro_rules! options {
    ($( $name:ident: $kind:ident, env: $env:expr, default: $default:literal, doc: $doc:literal; )+) => {
        /// What the caller asked for. Every field is optional; [`settings::resolve`] fills
        /// the rest (argument, then environment, then the Starfleet configuration, then the
        /// default).
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Options {
            $( #[doc = $doc] pub $name: Option<kind_type!($kind)>, )+
        }

        /// Every option, in the order the README's settings table lists them.
        pub const OPTIONS: &[OptionSpec] = &[$(
            OptionSpec { name: stringify!($name), kind: Kind::$kind, doc: $doc, env: $env, default: $default },
        )+];

        impl Options {
            /// Set the option `name` (spelled as `naming` says) from a binding's value.
            /// INVALID_ARGUMENT, naming the option, for an unknown name or a value of the wrong
            /// type or range; what needs the environment or the configuration (a region's
            /// spelling, an empty secret id, stage and VersionId both given) is checked when
            /// the settings are resolved, as for every language.
            pub fn set(&mut self, name: &str, value: OptionValue, naming: Naming) -> Result<()> {
                $(
                    if name == naming.spell(stringify!($name)) {
                        self.$name = Some(convert::$kind(name, value)?);
                        return Ok(());
                    }
                )+
                Err(Error::new(
                    Code::InvalidArgument,
                    format!(
                        "unknown option {name:?}; the options are {}",
                        OPTIONS.iter().map(|o| naming.spell(o.name)).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        }
    };
}

/// The Rust type of a kind's value in [`Options`].
macro_rules! kind_type {
    (Text) => { String };
    (Ttl) => { Ttl };
    (Seconds) => { Duration };
    (Fraction) => { f64 };
    (Regions) => { Vec<String> };
    (Config) => { ConfigSource };
    (Flag) => { bool };
}

options! {
    secret_id: Text, env: Some(settings::ENV_SECRET_ID), default: "the Starfleet configuration", doc: "The secret's name or ARN.";
    region: Text, env: Some(settings::ENV_SECRET_REGION), default: "the configuration, the ARN's region, AWS_REGION, AWS_DEFAULT_REGION", doc: "The secret's AWS region, e.g. us-east-2.";
    config: Config, env: Some(settings::ENV_CONFIG), default: "none", doc: "A Starfleet configuration: a YAML file, a directory of *.yaml files merged in name order, or YAML text.";
    ttl: Ttl, env: Some(settings::ENV_TTL), default: "300", doc: "How long a fetched value is served, in seconds; 0 fetches on every access, \"never\" keeps it for the life of the process.";
    version_stage: Text, env: None, default: "AWSCURRENT", doc: "The staging label to read (AWSCURRENT, AWSPREVIOUS or a custom label); with version_id too, INVALID_ARGUMENT on first use.";
    version_id: Text, env: None, default: "none", doc: "One exact VersionId to read, instead of a stage.";
    max_stale: Seconds, env: Some(settings::ENV_MAX_STALE), default: "900", doc: "How long past its TTL a value is still served while refreshes fail, in seconds; 0 disables stale-if-error.";
    timeout: Seconds, env: Some(settings::ENV_TIMEOUT), default: "10", doc: "The deadline of one fetch, retries and fallback regions included, in seconds.";
    endpoint_url: Text, env: Some("AWS_ENDPOINT_URL_SECRETS_MANAGER"), default: "AWS_ENDPOINT_URL, else AWS", doc: "A Secrets Manager endpoint URL.";
    refresh_ahead: Fraction, env: Some(settings::ENV_REFRESH_AHEAD), default: "0 (off)", doc: "Refresh in the background once a value is this fraction of its TTL old, so reads never wait for a fetch after the first.";
    expiry_jitter: Fraction, env: Some(settings::ENV_EXPIRY_JITTER), default: "0.1", doc: "Expire values up to this fraction of the TTL early, by a per-process random share, so a fleet does not refresh in lockstep; 0 turns it off.";
    fallback_regions: Regions, env: Some(settings::ENV_FALLBACK_REGIONS), default: "none", doc: "Replica regions read from, in order, when the secret's region fails with NETWORK, TIMEOUT, SERVICE or THROTTLED; every region shares the one fetch deadline.";
    source: Text, env: Some(settings::ENV_SOURCE), default: "the configuration's Source, else secretsmanager", doc: "Where the secret is read from: \"secretsmanager\", \"file:<path>\" (a mounted file), \"env:<NAME>\" (an environment variable) or \"flyte:<group>/<key>\" (Flyte's injected secret); a platform-delivered secret makes no AWS call.";
    zeroize_before_snapshot: Flag, env: Some(settings::ENV_ZEROIZE_BEFORE_SNAPSHOT), default: "false", doc: "Before a snapshot (Lambda SnapStart's before-checkpoint hook), wipe the cached value and zero freed memory, so no plaintext secret is in the snapshot; the first read after the restore fetches.";
}

/// The option a binding calls `name` (spelled as `naming` says), if there is one.
pub fn find(name: &str, naming: Naming) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| naming.spell(o.name) == name)
}

impl Options {
    /// Options from a binding's map of options (Python's keyword arguments, Node's options
    /// object), names spelled as `naming` says. A missing value (`None`) leaves the option
    /// unset. Errors as [`Options::set`].
    pub fn from_map(
        entries: impl IntoIterator<Item = (String, Option<OptionValue>)>,
        naming: Naming,
    ) -> Result<Options> {
        let mut options = Options::default();
        for (name, value) in entries {
            match value {
                Some(value) => options.set(&name, value, naming)?,
                // Still a known name: a typo given `None` is an error too.
                None => {
                    if find(&name, naming).is_none() {
                        options.set(&name, OptionValue::Other("None".into()), naming)?;
                    }
                }
            }
        }
        Ok(options)
    }
}

/// The conversion of each [`Kind`], named like it (the `options!` macro calls them by kind).
#[allow(non_snake_case)]
mod convert {
    use super::*;

    fn wrong(name: &str, kind: Kind, value: &OptionValue) -> Error {
        Error::new(
            Code::InvalidArgument,
            format!("option {name} must be {}, got {}", kind.expected(), value.type_name()),
        )
    }

    pub(super) fn Text(name: &str, value: OptionValue) -> Result<String> {
        match value {
            OptionValue::Text(text) => Ok(text),
            other => Err(wrong(name, Kind::Text, &other)),
        }
    }

    pub(super) fn Ttl(name: &str, value: OptionValue) -> Result<Ttl> {
        match value {
            OptionValue::Number(seconds) => Ttl::from_secs_f64(seconds).map_err(|e| renamed(e, "ttl", name)),
            OptionValue::Text(text) => Ttl::parse(&text).map_err(|why| {
                Error::new(
                    Code::InvalidArgument,
                    format!("{name}: {why} (use \"never\" or seconds)"),
                )
            }),
            other => Err(wrong(name, Kind::Ttl, &other)),
        }
    }

    pub(super) fn Seconds(name: &str, value: OptionValue) -> Result<Duration> {
        match value {
            OptionValue::Number(seconds) => settings::seconds_arg(name, seconds),
            other => Err(wrong(name, Kind::Seconds, &other)),
        }
    }

    pub(super) fn Fraction(name: &str, value: OptionValue) -> Result<f64> {
        match value {
            OptionValue::Number(fraction) => settings::fraction_arg(name, fraction),
            other => Err(wrong(name, Kind::Fraction, &other)),
        }
    }

    pub(super) fn Regions(name: &str, value: OptionValue) -> Result<Vec<String>> {
        match value {
            OptionValue::List(regions) => Ok(regions),
            other => Err(wrong(name, Kind::Regions, &other)),
        }
    }

    pub(super) fn Flag(name: &str, value: OptionValue) -> Result<bool> {
        match value {
            OptionValue::Flag(on) => Ok(on),
            other => Err(wrong(name, Kind::Flag, &other)),
        }
    }

    pub(super) fn Config(name: &str, value: OptionValue) -> Result<ConfigSource> {
        match value {
            OptionValue::Config(config) => Ok(config),
            OptionValue::Text(path) => Ok(ConfigSource::Path(path.into())),
            other => Err(wrong(name, Kind::Config, &other)),
        }
    }

    /// Core's message with the option named as the caller spelled it.
    fn renamed(error: Error, ours: &str, theirs: &str) -> Error {
        if ours == theirs {
            return error;
        }
        let message = error.message().replacen(ours, theirs, 1);
        Error::new(error.code(), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, OptionValue)]) -> Vec<(String, Option<OptionValue>)> {
        entries.iter().map(|(k, v)| (k.to_string(), Some(v.clone()))).collect()
    }

    #[test]
    fn every_option_sets_its_field_by_either_spelling() {
        let o = Options::from_map(
            map(&[
                ("secretId", OptionValue::Text("S".into())),
                ("maxStale", OptionValue::Number(5.0)),
                ("ttl", OptionValue::Text("never".into())),
                ("fallbackRegions", OptionValue::List(vec!["us-west-2".into()])),
                ("refreshAhead", OptionValue::Number(0.5)),
                ("zeroizeBeforeSnapshot", OptionValue::Flag(true)),
            ]),
            Naming::Camel,
        )
        .unwrap();
        assert_eq!(o.secret_id.as_deref(), Some("S"));
        assert_eq!(o.max_stale, Some(Duration::from_secs(5)));
        assert_eq!(o.ttl, Some(Ttl::Forever));
        assert_eq!(o.fallback_regions, Some(vec!["us-west-2".to_owned()]));
        assert_eq!(o.refresh_ahead, Some(0.5));
        assert_eq!(o.zeroize_before_snapshot, Some(true));
        let o = Options::from_map(
            map(&[
                ("version_id", OptionValue::Text("v1".into())),
                ("timeout", OptionValue::Number(2.5)),
            ]),
            Naming::Snake,
        )
        .unwrap();
        assert_eq!(o.version_id.as_deref(), Some("v1"));
        assert_eq!(o.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(
            Options::from_map(vec![("region".to_owned(), None)], Naming::Snake).unwrap(),
            Options::default()
        );
    }

    #[test]
    fn wrong_names_and_types_are_invalid_argument_naming_the_option() {
        for (entries, naming, named) in [
            (
                map(&[("secretID", OptionValue::Text("x".into()))]),
                Naming::Camel,
                "secretID",
            ),
            (
                map(&[("max_stale", OptionValue::Text("5".into()))]),
                Naming::Snake,
                "max_stale",
            ),
            (
                map(&[("maxStale", OptionValue::Number(-1.0))]),
                Naming::Camel,
                "maxStale",
            ),
            (map(&[("ttl", OptionValue::Text("soon".into()))]), Naming::Snake, "ttl"),
            (map(&[("ttl", OptionValue::Number(-1.0))]), Naming::Snake, "ttl"),
            (
                map(&[("secretId", OptionValue::Number(5.0))]),
                Naming::Camel,
                "secretId",
            ),
            (
                map(&[("versionStage", OptionValue::Other("boolean".into()))]),
                Naming::Camel,
                "versionStage",
            ),
            (
                map(&[("expiryJitter", OptionValue::Number(1.5))]),
                Naming::Camel,
                "expiryJitter",
            ),
            (
                map(&[("zeroize_before_snapshot", OptionValue::Number(1.0))]),
                Naming::Snake,
                "zeroize_before_snapshot",
            ),
            (map(&[("secretId", OptionValue::Flag(true))]), Naming::Camel, "secretId"),
            (
                map(&[("fallback_regions", OptionValue::Number(7.0))]),
                Naming::Snake,
                "fallback_regions",
            ),
        ] {
            let e = Options::from_map(entries.clone(), naming).unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument, "{entries:?}");
            assert!(e.message().contains(named), "{e}");
        }
        let e = Options::from_map(vec![("secretID".to_owned(), None)], Naming::Camel).unwrap_err();
        assert!(e.message().contains("secretId"), "the message lists the options: {e}");
    }

    #[test]
    fn names_in_camel_case() {
        assert_eq!(Naming::Camel.spell("fallback_regions"), "fallbackRegions");
        assert_eq!(Naming::Camel.spell("ttl"), "ttl");
    }
}
