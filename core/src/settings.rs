//! Options from the caller, resolved against the environment and the Starfleet configuration.
//!
//! Precedence, per setting and the same in every language: explicit argument, then
//! environment variable, then the Starfleet configuration (for the location and the source),
//! then default. The configuration file is only read when arguments and environment leave the
//! location incomplete, so a worker that passes everything never touches the filesystem. A
//! platform-delivered source (`file:`, `env:`, `flyte:`, see [`crate::mounted`]) needs no
//! location at all.

use std::fmt;
use std::time::Duration;

use serde_json::json;

use crate::config::{self, ConfigSource, SecretLocation};
use crate::error::{Code, Error, Result};
use crate::mounted::Source;
use crate::options::Naming;

pub const ENV_SECRET_ID: &str = "STARFLEET_SECRET_ID";
pub const ENV_SECRET_REGION: &str = "STARFLEET_SECRET_REGION";
pub const ENV_CONFIG: &str = "STARFLEET_CONFIG";
pub const ENV_TTL: &str = "STARFLEET_SECRETS_TTL";
pub const ENV_MAX_STALE: &str = "STARFLEET_SECRETS_MAX_STALE";
pub const ENV_TIMEOUT: &str = "STARFLEET_SECRETS_TIMEOUT";
pub const ENV_REFRESH_AHEAD: &str = "STARFLEET_SECRETS_REFRESH_AHEAD";
pub const ENV_EXPIRY_JITTER: &str = "STARFLEET_SECRETS_EXPIRY_JITTER";
/// Comma-separated replica regions read from when the secret's own region is failing.
pub const ENV_FALLBACK_REGIONS: &str = "STARFLEET_SECRET_FALLBACK_REGIONS";
/// Where the secret is read from (`crate::mounted::Source`): `secretsmanager`, `file:<path>`,
/// `env:<NAME>` or `flyte:<group>/<key>`.
pub const ENV_SOURCE: &str = "STARFLEET_SECRET_SOURCE";
/// `1`/`true`/`yes`/`on` (or `0`/`false`/`no`/`off`): wipe the cache before a snapshot.
pub const ENV_ZEROIZE_BEFORE_SNAPSHOT: &str = "STARFLEET_SECRETS_ZEROIZE_BEFORE_SNAPSHOT";
/// The default source's spelling.
pub const SOURCE_SECRETS_MANAGER: &str = "secretsmanager";

/// Default time a fetched value is served before it is refreshed.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// Default time past its TTL that a value is still served while refreshes fail.
pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(900);
/// Default deadline for one fetch, retries included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_STAGE: &str = "AWSCURRENT";
/// Default fleet jitter: each process expires its entries up to 10% of the TTL earlier.
pub const DEFAULT_EXPIRY_JITTER: f64 = 0.1;

/// How long a fetched value is served from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// `0`: every access fetches (concurrent accesses still share one call).
    NoCache,
    /// Refresh on the first access after this long.
    For(Duration),
    /// `never`: Starfleet's original keep-for-the-life-of-the-process.
    Forever,
}

impl Ttl {
    /// `"never"`, or a number of seconds (`"300"`, `"0.5"`, `"0"`).
    pub fn parse(text: &str) -> std::result::Result<Ttl, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("never") {
            return Ok(Ttl::Forever);
        }
        match parse_seconds(t)? {
            d if d.is_zero() => Ok(Ttl::NoCache),
            d => Ok(Ttl::For(d)),
        }
    }

    /// A TTL given as a number of seconds by a binding (`0` = no cache).
    pub fn from_secs_f64(seconds: f64) -> Result<Ttl> {
        match seconds_arg("ttl", seconds)? {
            d if d.is_zero() => Ok(Ttl::NoCache),
            d => Ok(Ttl::For(d)),
        }
    }

    /// The TTL as a duration; `None` for never.
    pub fn duration(self) -> Option<Duration> {
        match self {
            Ttl::NoCache => Some(Duration::ZERO),
            Ttl::For(d) => Some(d),
            Ttl::Forever => None,
        }
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ttl::NoCache => f.write_str("0"),
            Ttl::For(d) => write!(f, "{}", d.as_secs_f64()),
            Ttl::Forever => f.write_str("never"),
        }
    }
}

/// A non-negative, finite number of seconds.
pub fn parse_seconds(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(s) if (0.0..1e12).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{t:?} is not a number of seconds")),
    }
}

/// A duration argument given as seconds by a binding; INVALID_ARGUMENT names the argument.
pub fn seconds_arg(name: &str, seconds: f64) -> Result<Duration> {
    if (0.0..1e12).contains(&seconds) {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(Error::new(
            Code::InvalidArgument,
            format!("{name} must be a non-negative number of seconds, got {seconds}"),
        ))
    }
}

/// A tuning variable holding a positive number of seconds (`STARFLEET_SECRETS_ATTEMPT_TIMEOUT`,
/// `STARFLEET_SECRETS_POOL_IDLE_TIMEOUT`): `default` when unset, CONFIG_INVALID naming the
/// variable when it is not a positive number.
pub fn seconds_var(env: EnvLookup<'_>, name: &str, default: Duration) -> Result<Duration> {
    match env(name) {
        None => Ok(default),
        Some(text) => parse_seconds(&text).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
            Error::new(
                Code::ConfigInvalid,
                format!("{name}={text:?} is not a positive number of seconds"),
            )
        }),
    }
}

/// A fraction in `[0, 1)` (`refresh_ahead`, `expiry_jitter`).
pub fn parse_fraction(text: &str) -> std::result::Result<f64, String> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(f),
        _ => Err(format!("{t:?} is not a fraction from 0 up to (not including) 1")),
    }
}

/// A fraction argument given by a binding; INVALID_ARGUMENT names the argument.
pub fn fraction_arg(name: &str, value: f64) -> Result<f64> {
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::new(
            Code::InvalidArgument,
            format!("{name} must be a fraction from 0 up to (not including) 1, got {value}"),
        ))
    }
}

/// Which version of the secret to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Version {
    /// A staging label: `AWSCURRENT` (default), `AWSPREVIOUS`, `AWSPENDING` or a custom one.
    Stage(String),
    /// One exact VersionId.
    Id(String),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Stage(s) => write!(f, "stage {s}"),
            Version::Id(id) => write!(f, "version {id}"),
        }
    }
}

/// What the caller asked for: defined, with the description of every option, in
/// [`crate::options`].
pub use crate::options::Options;

/// Everything a cache needs, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub location: SecretLocation,
    pub version: Version,
    pub ttl: Ttl,
    pub max_stale: Duration,
    pub timeout: Duration,
    pub endpoint_url: Option<String>,
    /// `None` when off (unset, `0`, or a TTL of `0` or `never`, which have no age to refresh ahead of).
    pub refresh_ahead: Option<f64>,
    pub expiry_jitter: f64,
    /// Regions tried after `location.region`, in order: validated, without duplicates and
    /// without the primary region.
    pub fallback_regions: Vec<String>,
    /// Where the value is read from. For a mounted source (`file:`, `env:`, `flyte:`) the
    /// location's secret id is the source as spelled (`file:/mnt/secrets/app.json`) and its
    /// region is empty: nothing is located in AWS.
    pub source: Source,
    /// Wipe the cached value before a snapshot (see [`crate::snapshot`]).
    pub zeroize_before_snapshot: bool,
}

impl Settings {
    /// How long an entry is fresh: the TTL, shortened by this process's share of the
    /// expiry jitter (never lengthened: jitter never serves a value staler than asked).
    /// `None` for `never`.
    pub fn fresh_for(&self) -> Option<Duration> {
        match self.ttl {
            Ttl::For(ttl) => Some(crate::jitter::shorten(ttl, self.expiry_jitter)),
            other => other.duration(),
        }
    }

    /// The settings by option name (spelled as `naming` says): Python's `settings()` and
    /// Node's `util.inspect` pass this through, so a new setting is shown by every language
    /// from this one place. Names and settings only, never a value of the secret. The TTL is
    /// a number of seconds or `"never"`; `refresh_ahead` is `0` when off; `version_stage` or
    /// `version_id`, whichever applies; `endpoint_url` is null when AWS's.
    pub fn to_json(&self, naming: Naming) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        let mut put = |name: &str, value: serde_json::Value| {
            map.insert(naming.spell(name), value);
        };
        put("secret_id", json!(self.location.secret_id));
        put("region", json!(self.location.region));
        match &self.version {
            Version::Stage(stage) => put("version_stage", json!(stage)),
            Version::Id(id) => put("version_id", json!(id)),
        }
        put(
            "ttl",
            self.ttl.duration().map_or(json!("never"), |t| json!(t.as_secs_f64())),
        );
        put("max_stale", json!(self.max_stale.as_secs_f64()));
        put("timeout", json!(self.timeout.as_secs_f64()));
        put("endpoint_url", json!(self.endpoint_url));
        put("refresh_ahead", json!(self.refresh_ahead.unwrap_or(0.0)));
        put("expiry_jitter", json!(self.expiry_jitter));
        put("fallback_regions", json!(self.fallback_regions));
        put("source", json!(self.source.to_string()));
        put("zeroize_before_snapshot", json!(self.zeroize_before_snapshot));
        serde_json::Value::Object(map)
    }

    /// The age at which a fresh entry is refreshed in the background; `None` when off.
    pub fn refresh_ahead_after(&self) -> Option<Duration> {
        let fraction = self.refresh_ahead?; // first: when off, a hit computes nothing more
        Some(self.fresh_for()?.mul_f64(fraction))
    }
}

/// Reads one environment variable; tests and vectors pass a map instead of the process env.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with empty values treated as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The version a stage / VersionId pair selects: the id, else the stage, else
/// [`DEFAULT_STAGE`]. Both given, or an empty one, is `INVALID_ARGUMENT`.
pub fn select_version(stage: Option<&str>, id: Option<&str>) -> Result<Version> {
    match (stage, id) {
        (Some(_), Some(_)) => Err(Error::new(
            Code::InvalidArgument,
            "give version_stage or version_id, not both",
        )),
        (_, Some(id)) if id.trim().is_empty() => Err(Error::new(Code::InvalidArgument, "version_id is empty")),
        (Some(stage), _) if stage.trim().is_empty() => Err(Error::new(Code::InvalidArgument, "version_stage is empty")),
        (_, Some(id)) => Ok(Version::Id(id.to_owned())),
        (Some(stage), None) => Ok(Version::Stage(stage.to_owned())),
        (None, None) => Ok(Version::Stage(DEFAULT_STAGE.to_owned())),
    }
}

/// Resolve options against `env` (see the module doc for precedence).
pub fn resolve(opts: &Options, env: EnvLookup<'_>) -> Result<Settings> {
    let (source, location) = match given_source(opts, env)? {
        Some(source) if source.is_mounted() => (source.clone(), mounted_location(&source)),
        given => locate(opts, env, given.is_some())?,
    };
    if source.is_mounted() && (opts.version_stage.is_some() || opts.version_id.is_some()) {
        return Err(Error::new(
            Code::InvalidArgument,
            format!(
                "version_stage and version_id select a Secrets Manager version; the source {source} has one version"
            ),
        ));
    }
    let version = select_version(opts.version_stage.as_deref(), opts.version_id.as_deref())?;
    let ttl = match opts.ttl {
        Some(t) => t,
        None => from_env(env, ENV_TTL, Ttl::parse)?.unwrap_or(Ttl::For(DEFAULT_TTL)),
    };
    let max_stale = match opts.max_stale {
        Some(d) => d,
        None => from_env(env, ENV_MAX_STALE, parse_seconds)?.unwrap_or(DEFAULT_MAX_STALE),
    };
    let timeout = match opts.timeout {
        Some(d) => d,
        None => from_env(env, ENV_TIMEOUT, parse_seconds)?.unwrap_or(DEFAULT_TIMEOUT),
    };
    if timeout.is_zero() {
        return Err(Error::new(Code::InvalidArgument, "timeout must be greater than zero"));
    }
    let refresh_ahead = match opts.refresh_ahead {
        Some(f) => fraction_arg("refresh_ahead", f)?,
        None => from_env(env, ENV_REFRESH_AHEAD, parse_fraction)?.unwrap_or(0.0),
    };
    let expiry_jitter = match opts.expiry_jitter {
        Some(f) => fraction_arg("expiry_jitter", f)?,
        None => from_env(env, ENV_EXPIRY_JITTER, parse_fraction)?.unwrap_or(DEFAULT_EXPIRY_JITTER),
    };
    let zeroize_before_snapshot = resolve_zeroize(opts, env)?;
    // A mounted source has no region to fall back from.
    let fallback_regions = match source.is_mounted() {
        true => Vec::new(),
        false => resolve_fallback_regions(opts.fallback_regions.as_deref(), env, &location.region)?,
    };
    Ok(Settings {
        location,
        version,
        ttl,
        max_stale,
        timeout,
        endpoint_url: opts.endpoint_url.clone(),
        refresh_ahead: (refresh_ahead > 0.0 && matches!(ttl, Ttl::For(_))).then_some(refresh_ahead),
        expiry_jitter,
        fallback_regions,
        source,
        zeroize_before_snapshot,
    })
}

/// `zeroize_before_snapshot`: the argument, else [`ENV_ZEROIZE_BEFORE_SNAPSHOT`], else off.
/// Resolving it on switches the zeroing allocator on ([`crate::zeroing`]) from then on, so
/// what the fetches free is zeroed before the snapshot, not only what is freed at it.
pub fn resolve_zeroize(opts: &Options, env: EnvLookup<'_>) -> Result<bool> {
    let on = match opts.zeroize_before_snapshot {
        Some(on) => on,
        None => from_env(env, ENV_ZEROIZE_BEFORE_SNAPSHOT, parse_flag)?.unwrap_or(false),
    };
    if on {
        crate::zeroing::enable();
    }
    Ok(on)
}

/// A boolean environment variable's text.
pub fn parse_flag(text: &str) -> std::result::Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("{other:?} is not a boolean (use true or false)")),
    }
}

/// The source the argument or the environment gives ([`ENV_SOURCE`]), checked
/// (CONFIG_INVALID naming where it came from); `None` when neither does.
fn given_source(opts: &Options, env: EnvLookup<'_>) -> Result<Option<Source>> {
    let (text, from) = match (&opts.source, env(ENV_SOURCE)) {
        (Some(text), _) => (text.clone(), "argument source".to_owned()),
        (None, Some(text)) => (text, format!("environment {ENV_SOURCE}")),
        (None, None) => return Ok(None),
    };
    Source::parse(&text)
        .map(Some)
        .map_err(|why| Error::new(Code::ConfigInvalid, format!("{from}: {why}")))
}

/// The location of a mounted source: its spelling as the secret id, no region.
fn mounted_location(source: &Source) -> SecretLocation {
    SecretLocation {
        secret_id: source.to_string(),
        region: String::new(),
    }
}

/// A comma-separated list of regions (`STARFLEET_SECRET_FALLBACK_REGIONS`, C's setter), each
/// trimmed; an empty or blank text is no region. Names are checked when resolved.
pub fn split_regions(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    text.split(',').map(|r| r.trim().to_owned()).collect()
}

/// The fallback regions: the argument if given, else [`ENV_FALLBACK_REGIONS`] split at commas.
/// Each must be region-shaped (CONFIG_INVALID naming where it came from); repeats and the
/// primary region itself are dropped, since trying a region twice in one read only spends
/// the deadline.
fn resolve_fallback_regions(arg: Option<&[String]>, env: EnvLookup<'_>, primary: &str) -> Result<Vec<String>> {
    let (listed, from) = match (arg, env(ENV_FALLBACK_REGIONS)) {
        (Some(list), _) => (list.to_vec(), "argument fallback_regions".to_owned()),
        (None, Some(text)) => (split_regions(&text), format!("environment {ENV_FALLBACK_REGIONS}")),
        (None, None) => return Ok(Vec::new()),
    };
    let mut regions: Vec<String> = Vec::new();
    for region in listed {
        config::check_region(&region).map_err(|why| Error::new(Code::ConfigInvalid, format!("{from}: {why}")))?;
        if region != primary && !regions.contains(&region) {
            regions.push(region);
        }
    }
    Ok(regions)
}

fn from_env<T>(
    env: EnvLookup<'_>,
    name: &str,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Option<T>> {
    env(name)
        .map(|v| parse(&v).map_err(|why| Error::new(Code::ConfigInvalid, format!("environment {name}: {why}"))))
        .transpose()
}

/// One candidate value and where it came from, for messages.
struct Found {
    value: String,
    from: String,
}

/// The location, each field taken from the first place that has it.
pub fn resolve_location(opts: &Options, env: EnvLookup<'_>) -> Result<SecretLocation> {
    locate(opts, env, true).map(|(_, location)| location)
}

/// The source and the location. The Starfleet configuration's `Source` is taken when the
/// configuration is read (only when arguments and environment leave the location
/// incomplete) and `source_given` is false; a mounted one needs no location.
fn locate(opts: &Options, env: EnvLookup<'_>, source_given: bool) -> Result<(Source, SecretLocation)> {
    let mut looked = Vec::new();
    let mut id = pick(&opts.secret_id, "argument secret_id", ENV_SECRET_ID, env, &mut looked)?;
    let mut region = pick(&opts.region, "argument region", ENV_SECRET_REGION, env, &mut looked)?;

    if id.is_none() || region.is_none() {
        let source = match &opts.config {
            Some(c) => Some((c.clone(), "argument config".to_owned())),
            None => env(ENV_CONFIG).map(|p| (ConfigSource::Path(p.into()), format!("environment {ENV_CONFIG}"))),
        };
        match source {
            None => looked.push(format!(
                "a Starfleet configuration (argument config, environment {ENV_CONFIG}: neither set)"
            )),
            Some((source, how)) => {
                let cfg = config::load(&source)?;
                let stanza = cfg.secrets_manager.unwrap_or_default();
                if let Some(mounted) = stanza.source.filter(|s| s.is_mounted() && !source_given) {
                    let location = mounted_location(&mounted);
                    return Ok((mounted, location));
                }
                let from = format!("STARFLEET.SecretsManager in {} ({how})", cfg.origin);
                if stanza.secret_id.is_none() {
                    looked.push(format!("{from}: not configured"));
                }
                id = id.or(stanza.secret_id.map(|value| Found {
                    value,
                    from: from.clone(),
                }));
                region = region.or(stanza.region.map(|value| Found { value, from }));
            }
        }
    }

    let Some(id) = id else {
        if !source_given {
            looked.push(format!(
                "a platform-delivered source (argument source, environment {ENV_SOURCE}: neither set)"
            ));
        }
        return Err(Error::new(
            Code::ConfigMissing,
            format!("no Starfleet secret configured; looked at: {}", looked.join("; ")),
        ));
    };
    let region = match region {
        Some(r) => r,
        None => region_fallback(&id.value, env).ok_or_else(|| {
            Error::new(
                Code::ConfigMissing,
                format!(
                    "no region for secret {} (from {}); looked at: {}; the secret id is not an ARN; AWS_REGION, AWS_DEFAULT_REGION: not set",
                    id.value,
                    id.from,
                    looked.join("; ")
                ),
            )
        })?,
    };
    config::check_secret_id(&id.value)
        .map_err(|why| Error::new(Code::ConfigInvalid, format!("secret id ({}) {why}", id.from)))?;
    config::check_region(&region.value)
        .map_err(|why| Error::new(Code::ConfigInvalid, format!("{}: {why}", region.from)))?;
    config::check_arn_region(&id.value, &region.value).map_err(|why| {
        Error::new(
            Code::ConfigInvalid,
            format!("secret id {} ({}) {why}", id.value, id.from),
        )
    })?;
    let location = SecretLocation {
        secret_id: id.value,
        region: region.value,
    };
    Ok((Source::SecretsManager, location))
}

/// An argument if given (an empty one is an error), else the environment variable.
fn pick(
    arg: &Option<String>,
    arg_name: &str,
    env_name: &str,
    env: EnvLookup<'_>,
    looked: &mut Vec<String>,
) -> Result<Option<Found>> {
    if let Some(v) = arg {
        if v.trim().is_empty() {
            return Err(Error::new(Code::ConfigInvalid, format!("{arg_name} is empty")));
        }
        return Ok(Some(Found {
            value: v.clone(),
            from: arg_name.to_owned(),
        }));
    }
    if let Some(v) = env(env_name) {
        return Ok(Some(Found {
            value: v,
            from: format!("environment {env_name}"),
        }));
    }
    looked.push(format!("{arg_name} and environment {env_name}: not set"));
    Ok(None)
}

/// With a secret id but no region: the ARN's region, then the Lambda/SDK region variables.
fn region_fallback(secret_id: &str, env: EnvLookup<'_>) -> Option<Found> {
    if let Some(r) = config::arn_region(secret_id) {
        return Some(Found {
            value: r.to_owned(),
            from: "the secret ARN".into(),
        });
    }
    ["AWS_REGION", "AWS_DEFAULT_REGION"].into_iter().find_map(|name| {
        env(name).map(|value| Found {
            value,
            from: format!("environment {name}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn yaml(id: &str, region: &str) -> ConfigSource {
        ConfigSource::Text {
            name: "cfg.yaml".into(),
            yaml: format!("STARFLEET:\n  SecretsManager:\n    SecretId: {id}\n    SecretRegion: {region}\n"),
        }
    }

    /// What Python's `settings()` and Node's inspect show: every option but the configuration
    /// (what it held is the rest) and the version the other one stands for.
    #[test]
    fn to_json_names_every_option_in_the_callers_spelling() {
        let o = Options {
            secret_id: Some("S".into()),
            region: Some("us-east-2".into()),
            ttl: Some(Ttl::Forever),
            fallback_regions: Some(vec!["us-west-2".into()]),
            ..Default::default()
        };
        let s = resolve(&o, &env_of(&[])).unwrap();
        let snake = s.to_json(Naming::Snake);
        for option in crate::options::OPTIONS {
            if !matches!(option.name, "config" | "version_id") {
                assert!(snake.get(option.name).is_some(), "no {} in {snake}", option.name);
            }
        }
        assert_eq!(snake["ttl"], "never");
        assert_eq!(snake["version_stage"], "AWSCURRENT");
        assert_eq!(snake["fallback_regions"], json!(["us-west-2"]));
        assert_eq!(snake["endpoint_url"], serde_json::Value::Null);
        assert_eq!(snake["source"], "secretsmanager");
        let camel = s.to_json(Naming::Camel);
        assert_eq!(camel["maxStale"], json!(900.0));
        assert_eq!(camel["secretId"], "S");
        let o = Options {
            version_id: Some("v1".into()),
            ttl: Some(Ttl::For(Duration::from_secs(60))),
            ..o
        };
        let s = resolve(&o, &env_of(&[])).unwrap().to_json(Naming::Snake);
        assert_eq!((s["version_id"].as_str(), s.get("version_stage")), (Some("v1"), None));
        assert_eq!(s["ttl"], json!(60.0));
    }

    #[test]
    fn arguments_beat_environment_beat_config() {
        let env = env_of(&[(ENV_SECRET_ID, "FromEnv"), (ENV_SECRET_REGION, "eu-west-1")]);
        let mut o = Options {
            config: Some(yaml("FromFile", "us-west-2")),
            ..Default::default()
        };
        let loc = resolve_location(&o, &env).unwrap();
        assert_eq!((loc.secret_id.as_str(), loc.region.as_str()), ("FromEnv", "eu-west-1"));
        o.secret_id = Some("FromArg".into());
        let loc = resolve_location(&o, &env).unwrap();
        assert_eq!((loc.secret_id.as_str(), loc.region.as_str()), ("FromArg", "eu-west-1"));
        let loc = resolve_location(&o, &env_of(&[])).unwrap();
        assert_eq!((loc.secret_id.as_str(), loc.region.as_str()), ("FromArg", "us-west-2"));
    }

    #[test]
    fn missing_everywhere_names_every_place() {
        let e = resolve(&Options::default(), &env_of(&[])).unwrap_err();
        assert_eq!(e.code(), Code::ConfigMissing);
        for place in ["argument secret_id", ENV_SECRET_ID, ENV_CONFIG, ENV_SOURCE] {
            assert!(e.message().contains(place), "{e}");
        }
    }

    #[test]
    fn region_falls_back_to_arn_then_aws_region() {
        let o = Options {
            secret_id: Some("arn:aws:secretsmanager:ap-south-1:123456789012:secret:S-abcdef".into()),
            ..Default::default()
        };
        assert_eq!(resolve_location(&o, &env_of(&[])).unwrap().region, "ap-south-1");
        let o = Options {
            secret_id: Some("S".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_location(&o, &env_of(&[("AWS_REGION", "us-east-1")]))
                .unwrap()
                .region,
            "us-east-1"
        );
        assert_eq!(
            resolve_location(&o, &env_of(&[])).unwrap_err().code(),
            Code::ConfigMissing
        );
    }

    #[test]
    fn bad_env_values_are_config_invalid() {
        let o = Options {
            secret_id: Some("S".into()),
            region: Some("us-east-2".into()),
            ..Default::default()
        };
        let e = resolve(&o, &env_of(&[(ENV_TTL, "soon")])).unwrap_err();
        assert_eq!(e.code(), Code::ConfigInvalid);
        assert!(e.message().contains(ENV_TTL));
        let e = resolve_location(
            &Options {
                region: Some("Ohio".into()),
                ..o.clone()
            },
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.message().contains("argument region"), "{e}");
    }

    #[test]
    fn refresh_ahead_and_jitter_come_from_argument_then_environment() {
        let o = Options {
            secret_id: Some("S".into()),
            region: Some("us-east-2".into()),
            ttl: Some(Ttl::For(Duration::from_secs(100))),
            ..Default::default()
        };
        let s = resolve(&o, &env_of(&[])).unwrap();
        assert_eq!((s.refresh_ahead, s.expiry_jitter), (None, DEFAULT_EXPIRY_JITTER));
        let env = env_of(&[(ENV_REFRESH_AHEAD, "0.8"), (ENV_EXPIRY_JITTER, "0")]);
        let s = resolve(&o, &env).unwrap();
        assert_eq!((s.refresh_ahead, s.expiry_jitter), (Some(0.8), 0.0));
        assert_eq!(s.fresh_for(), Some(Duration::from_secs(100)));
        assert_eq!(s.refresh_ahead_after(), Some(Duration::from_secs(80)));
        let s = resolve(
            &Options {
                refresh_ahead: Some(0.5),
                expiry_jitter: Some(0.2),
                ..o.clone()
            },
            &env,
        )
        .unwrap();
        assert_eq!((s.refresh_ahead, s.expiry_jitter), (Some(0.5), 0.2));
        let forever = Options {
            ttl: Some(Ttl::Forever),
            ..o.clone()
        };
        assert_eq!(resolve(&forever, &env).unwrap().refresh_ahead_after(), None);
        for (name, bad) in [
            (ENV_REFRESH_AHEAD, "1"),
            (ENV_REFRESH_AHEAD, "soon"),
            (ENV_EXPIRY_JITTER, "-0.1"),
        ] {
            let e = resolve(&o, &env_of(&[(name, bad)])).unwrap_err();
            assert_eq!(e.code(), Code::ConfigInvalid, "{name}={bad}");
            assert!(e.message().contains(name), "{e}");
        }
        let e = resolve(
            &Options {
                expiry_jitter: Some(1.5),
                ..o
            },
            &env_of(&[]),
        )
        .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
    }

    #[test]
    fn fallback_regions_from_argument_or_environment() {
        let o = Options {
            secret_id: Some("S".into()),
            region: Some("us-east-1".into()),
            ..Default::default()
        };
        assert!(resolve(&o, &env_of(&[])).unwrap().fallback_regions.is_empty());
        let env = env_of(&[(ENV_FALLBACK_REGIONS, " us-west-2, us-east-1 ,eu-west-1,us-west-2")]);
        assert_eq!(
            resolve(&o, &env).unwrap().fallback_regions,
            ["us-west-2", "eu-west-1"],
            "trimmed, in order, without the primary or repeats"
        );
        let none = Options {
            fallback_regions: Some(vec![]),
            ..o.clone()
        };
        assert!(
            resolve(&none, &env).unwrap().fallback_regions.is_empty(),
            "the argument wins"
        );
        let e = resolve(&o, &env_of(&[(ENV_FALLBACK_REGIONS, "us-west-2,,eu-west-1")])).unwrap_err();
        assert_eq!(e.code(), Code::ConfigInvalid);
        assert!(e.message().contains(ENV_FALLBACK_REGIONS), "{e}");
        let bad = Options {
            fallback_regions: Some(vec!["Oregon".into()]),
            ..o
        };
        let e = resolve(&bad, &env_of(&[])).unwrap_err();
        assert_eq!(e.code(), Code::ConfigInvalid);
        assert!(
            e.message().contains("argument fallback_regions") && e.message().contains("Oregon"),
            "{e}"
        );
    }

    #[test]
    fn the_source_from_argument_then_environment_then_configuration() {
        let file = |p: &str| Source::File(p.into());
        let mounted_config = ConfigSource::Text {
            name: "cfg.yaml".into(),
            yaml: "STARFLEET:\n  SecretsManager:\n    Source: file:/from/config\n".into(),
        };
        let o = Options {
            config: Some(mounted_config.clone()),
            ..Default::default()
        };
        let s = resolve(&o, &env_of(&[])).unwrap();
        assert_eq!(
            (s.source, s.location.secret_id.as_str()),
            (file("/from/config"), "file:/from/config")
        );
        assert!(s.location.region.is_empty() && s.fallback_regions.is_empty());
        let env = env_of(&[(ENV_SOURCE, "env:FROM_ENV"), (ENV_FALLBACK_REGIONS, "us-west-2")]);
        assert_eq!(resolve(&o, &env).unwrap().source, Source::Env("FROM_ENV".into()));
        let arg = Options {
            source: Some("flyte:g/k".into()),
            ..o.clone()
        };
        assert_eq!(
            resolve(&arg, &env).unwrap().source,
            Source::Flyte {
                group: "g".into(),
                key: "k".into()
            }
        );
        // An explicit secretsmanager wins over the configuration's source, and needs a location.
        let e = resolve(&o, &env_of(&[(ENV_SOURCE, "secretsmanager")])).unwrap_err();
        assert_eq!(e.code(), Code::ConfigMissing, "{e}");
        // The configuration is not read when arguments give the whole location.
        let located = Options {
            secret_id: Some("S".into()),
            region: Some("us-east-2".into()),
            ..o
        };
        assert_eq!(resolve(&located, &env_of(&[])).unwrap().source, Source::SecretsManager);
        let e = resolve(&Options::default(), &env_of(&[(ENV_SOURCE, "file:")])).unwrap_err();
        assert_eq!(e.code(), Code::ConfigInvalid);
        assert!(e.message().contains(ENV_SOURCE), "{e}");
    }

    #[test]
    fn ttl_spellings() {
        assert_eq!(Ttl::parse("never"), Ok(Ttl::Forever));
        assert_eq!(Ttl::parse("0"), Ok(Ttl::NoCache));
        assert_eq!(Ttl::parse("1.5"), Ok(Ttl::For(Duration::from_millis(1500))));
        for bad in ["-1", "soon", "NaN", "inf", ""] {
            assert!(Ttl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_selection() {
        let base = Options {
            secret_id: Some("S".into()),
            region: Some("us-east-2".into()),
            ..Default::default()
        };
        let env = env_of(&[]);
        assert_eq!(
            resolve(&base, &env).unwrap().version,
            Version::Stage("AWSCURRENT".into())
        );
        let o = Options {
            version_id: Some("v1".into()),
            ..base.clone()
        };
        assert_eq!(resolve(&o, &env).unwrap().version, Version::Id("v1".into()));
        let o = Options {
            version_id: Some("v1".into()),
            version_stage: Some("AWSPREVIOUS".into()),
            ..base
        };
        assert_eq!(resolve(&o, &env).unwrap_err().code(), Code::InvalidArgument);
    }
}
