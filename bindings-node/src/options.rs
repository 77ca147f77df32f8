//! The options object of `new SecretsManager({...})` and `configure({...})`.
//!
//! Only a change of shape happens here: camelCase JS names to core's [`Options`], seconds to
//! durations and TTL spellings through core's own parsers. Precedence (argument, environment,
//! Starfleet configuration) and validation are core's.

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use starfleet_secrets::{settings, Code, ConfigSource, Error, Options, Result, Ttl};

/// A Starfleet configuration given as YAML text instead of a path.
#[napi(object)]
pub struct ConfigText {
    /// The YAML document.
    pub yaml: String,
    /// The name error messages use for it (default `"config"`).
    pub name: Option<String>,
}

/// A configuration the host application holds (the facade's `config` given as a parsed
/// Starfleet configuration object or a function), as the facade hands it over before each
/// load: one of `path`, `text` or `loadedJson`.
#[napi(object)]
pub struct HostConfig {
    /// A YAML file or directory (what a `config` function returned).
    pub path: Option<String>,
    /// Inline YAML (what a `config` function returned).
    pub text: Option<ConfigText>,
    /// The host's parsed configuration as JSON text (its `STARFLEET` stanza: nothing else is
    /// read), validated by core's rules.
    pub loaded_json: Option<String>,
    /// What messages call it.
    pub name: Option<String>,
}

impl HostConfig {
    /// Core's configuration source, or INVALID_ARGUMENT.
    pub fn into_core(self) -> Result<ConfigSource> {
        let name = self
            .name
            .unwrap_or_else(|| "the configuration object (option config)".to_owned());
        match (self.path, self.text, self.loaded_json) {
            (Some(path), None, None) => Ok(ConfigSource::Path(path.into())),
            (None, Some(text), None) => Ok(text_source(text)),
            (None, None, Some(json)) => {
                let tree = serde_json::from_str(&json)
                    .map_err(|e| Error::new(Code::InvalidArgument, format!("{name}: not a JSON object ({e})")))?;
                Ok(ConfigSource::Loaded { name, tree })
            }
            _ => Err(Error::new(
                Code::InvalidArgument,
                "a host configuration is one of path, text or loadedJson",
            )),
        }
    }
}

fn text_source(text: ConfigText) -> ConfigSource {
    ConfigSource::Text {
        name: text.name.unwrap_or_else(|| "config".to_owned()),
        yaml: text.yaml,
    }
}

/// Where the secret is and how it is cached. Every option is optional: a missing location is
/// taken from `STARFLEET_SECRET_ID` / `STARFLEET_SECRET_REGION`, then from the Starfleet
/// configuration (`config`, else `STARFLEET_CONFIG`).
#[napi(object)]
pub struct ManagerOptions {
    /// Secret name or ARN.
    pub secret_id: Option<String>,
    /// AWS region of the secret, e.g. `us-east-2`.
    pub region: Option<String>,
    /// A Starfleet configuration: a YAML file, a directory of `*.yaml` files, or inline YAML.
    /// (The facade also takes a parsed configuration object, or a function returning any of
    /// these, and hands those over with `useConfig` before each load.)
    pub config: Option<Either<String, ConfigText>>,
    /// Seconds a fetched value is served (default 300, or `STARFLEET_SECRETS_TTL`);
    /// `0` = fetch on every access, `"never"` = keep for the life of the process.
    pub ttl: Option<Either<f64, String>>,
    /// Staging label to read (default `AWSCURRENT`).
    pub version_stage: Option<String>,
    /// One exact VersionId to read (instead of a stage).
    pub version_id: Option<String>,
    /// Seconds past its TTL a value may still be served while refreshes fail (default 900,
    /// or `STARFLEET_SECRETS_MAX_STALE`); `0` disables stale-if-error.
    pub max_stale: Option<f64>,
    /// Deadline in seconds for one fetch, retries included (default 10, or
    /// `STARFLEET_SECRETS_TIMEOUT`).
    pub timeout: Option<f64>,
    /// Secrets Manager endpoint (default: `AWS_ENDPOINT_URL_SECRETS_MANAGER`,
    /// `AWS_ENDPOINT_URL`, else AWS).
    pub endpoint_url: Option<String>,
    /// Refresh in the background once a value is this fraction of its TTL old (e.g. `0.8`),
    /// so reads never wait for a fetch after the first (default off, or
    /// `STARFLEET_SECRETS_REFRESH_AHEAD`).
    pub refresh_ahead: Option<f64>,
    /// Expire values up to this fraction of the TTL early, by a per-process random share, so
    /// a fleet started together does not refresh in lockstep (default 0.1, or
    /// `STARFLEET_SECRETS_EXPIRY_JITTER`; `0` = off).
    pub expiry_jitter: Option<f64>,
    /// Replica regions read from, in order, when the secret's region fails with NETWORK,
    /// TIMEOUT, SERVICE or THROTTLED (never ACCESS_DENIED, SECRET_NOT_FOUND, ...); all regions
    /// share the one `timeout`. Default: `STARFLEET_SECRET_FALLBACK_REGIONS` (comma-separated);
    /// `[]` = none. `stats().region` says which region served.
    pub fallback_regions: Option<Vec<String>>,
    /// Where the secret is read from: `"secretsmanager"` (default), `"file:<path>"` (a mounted
    /// file, e.g. Kubernetes' Secrets Store CSI driver), `"env:<NAME>"` (an environment
    /// variable, e.g. ECS `secrets`) or `"flyte:<group>/<key>"` (Flyte's injected secret).
    /// Default: `STARFLEET_SECRET_SOURCE`, else the configuration's `Source`.
    pub source: Option<String>,
}

impl ManagerOptions {
    /// Core options, or INVALID_ARGUMENT naming the option that is wrong.
    pub fn into_core(self) -> Result<Options> {
        let ttl = match self.ttl {
            None => None,
            Some(Either::A(seconds)) => Some(Ttl::from_secs_f64(seconds)?),
            Some(Either::B(text)) => {
                Some(Ttl::parse(&text).map_err(|why| Error::new(Code::InvalidArgument, format!("ttl: {why}")))?)
            }
        };
        let config = self.config.map(|c| match c {
            Either::A(path) => ConfigSource::Path(path.into()),
            Either::B(text) => text_source(text),
        });
        Ok(Options {
            secret_id: self.secret_id,
            region: self.region,
            config,
            ttl,
            version_stage: self.version_stage,
            version_id: self.version_id,
            max_stale: self
                .max_stale
                .map(|s| settings::seconds_arg("maxStale", s))
                .transpose()?,
            timeout: self.timeout.map(|s| settings::seconds_arg("timeout", s)).transpose()?,
            endpoint_url: self.endpoint_url,
            refresh_ahead: self
                .refresh_ahead
                .map(|f| settings::fraction_arg("refreshAhead", f))
                .transpose()?,
            expiry_jitter: self
                .expiry_jitter
                .map(|f| settings::fraction_arg("expiryJitter", f))
                .transpose()?,
            fallback_regions: self.fallback_regions,
            source: self.source,
        })
    }
}
