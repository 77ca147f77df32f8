//! Where the bytes come from: `GetSecretValue` on AWS Secrets Manager.
//!
//! Credentials come from aws-config's default chain and the endpoint from the standard
//! variables (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL`), so one binary talks to
//! AWS or to a local emulator. The region is always given explicitly (it is part of the
//! secret's location), so loading the SDK config never probes instance metadata for it, and
//! the credential chain is lazy: with credentials in the environment it never reaches IMDS
//! (and it is not even built: see [`sdk_client`]).
//!
//! The HTTP clients (TLS provider, trusted roots, pooled connections) come from
//! [`crate::transport`]. SDK errors are classified here, once, into the stable [`Code`]s.
//!
//! Deadlines: the caller's `timeout` is the one cap on a read (the SDK's operation timeout,
//! retries included). Within it nothing slow is failed: a GetSecretValue whose connection is
//! still being opened (DNS, TCP, a proxy, TLS) after [`CONNECT_TIMEOUT`] gets a copy on
//! another new connection while it keeps trying, a request on a new connection waits for its
//! answer until the deadline, and a request on a reused pooled connection that stays silent
//! for [`HEDGE_DELAY`] gets a copy on a new connection ([`crate::hedge`]). Other calls over
//! HTTPS (the credential providers' STS, SSO and sign-in calls, the operator CLI's writes)
//! get the same copies while their connection is being opened, never a second sending; plain
//! HTTP ones (instance metadata, container credentials: the host's own services) keep the
//! connect timeout as the SDK applies it.
//!
//! Replica failover ([`read_with_failover`]) lives here too: a read tries the secret's region,
//! then each of `fallback_regions`, moving on only after a regional failure, all within the
//! one fetch deadline.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_secretsmanager::error::{ConnectorError, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::Client;

use crate::document::Secret;
use crate::error::{Code, Error, Result};
use crate::hedge::Hedge;
use crate::settings::{process_env, EnvLookup, Settings, Version};
use crate::transport;

/// Attempts per fetch (the first try plus retries of transient failures).
const MAX_ATTEMPTS: u32 = 3;
/// First retry delay; the SDK doubles it with jitter. Short, because a Lambda invocation
/// is waiting, and bounded overall by the fetch deadline.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// How long opening a connection (DNS, TCP, a proxy's `CONNECT`, TLS) may take before
/// something else is tried: the AWS SDKs' own bound. For a call over HTTPS (GetSecretValue,
/// a credential provider's STS or SSO call) it fails nothing: it paces the copies sent on
/// other new connections while the first keeps trying ([`crate::hedge`]), so a black-holed
/// address is left and a slow proxy still answers. For plain-HTTP calls it is the SDK's
/// connect timeout; a host-name lookup outlives the attempt it cut ([`crate::dns`]), so a
/// resolver slower than this is waited for across attempts. It covers no answer: once a
/// request is sent, only the deadline ends it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a GetSecretValue sent on a **reused** pooled connection waits for its answer
/// before the same request is also sent on a new connection ([`crate::hedge`]), the first
/// answer of the two winning. Secrets Manager answers in tens of milliseconds, so a second of
/// silence on a reused connection most likely means a connection a NAT gateway or a Lambda
/// freeze dropped without telling either end; if it was only a slow answer, the hedge costs
/// one extra call and the read still gets the first answer. Nothing fails when it fires.
/// `STARFLEET_SECRETS_ATTEMPT_TIMEOUT` (seconds) overrides it: the test suites raise it under
/// valgrind (code ~50 times slower), where a second would hedge nearly every call and break
/// their call counts.
pub const HEDGE_DELAY: Duration = Duration::from_secs(1);
const HEDGE_DELAY_VAR: &str = "STARFLEET_SECRETS_ATTEMPT_TIMEOUT";
/// Most SDK clients kept at once (see [`sdk_client`]).
const MAX_CLIENTS: usize = 8;
/// Longest AWS error message kept in our messages.
const MAX_AWS_MESSAGE: usize = 200;
/// Added to a TLS verification failure: where the trusted roots come from (transport.rs).
const UNTRUSTED_HINT: &str =
    " (the server's certificate is not signed by a trusted root: see AWS_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR)";

/// Clients are shared per (region, endpoint, deadline) so a process pays for SDK config and
/// the TLS connection pool once. Keyed by pid because a client's connections belong to the
/// runtime it was built on, which a forked child does not have.
#[derive(Clone, PartialEq, Eq)]
struct ClientKey {
    pid: u32,
    region: String,
    endpoint: Option<String>,
    timeout: Duration,
}

/// The shared clients, least recently used first. A process normally needs one; a program
/// that makes managers with ever new deadlines, regions or endpoints keeps the last
/// [`MAX_CLIENTS`] (an evicted client serves the calls already using it, then closes its
/// connections).
static CLIENTS: Mutex<Vec<(ClientKey, Client)>> = Mutex::new(Vec::new());

/// Drop every shared client: their connection pools (connections close as their tasks see
/// the client gone) and the credentials they resolved. The next fetch builds a client anew,
/// resolving credentials again (see [`crate::snapshot`]). Clients a call is using stay alive
/// until it ends. Never waits: nothing here does I/O.
pub fn forget_clients() {
    let taken = std::mem::take(&mut *CLIENTS.lock().unwrap_or_else(|p| p.into_inner()));
    let pid = std::process::id();
    for (key, client) in taken {
        if key.pid == pid {
            drop(client);
        } else {
            std::mem::forget(client); // a parent's, inherited through fork(): see sdk_client
        }
    }
}

/// The Secrets Manager client for `settings`: the region of its location, its endpoint
/// override (else the standard endpoint variables), the default credential chain, the
/// fetch deadline and the retry policy above. Shared per (process, region, endpoint,
/// deadline); build and use it on [`crate::runtime`]'s runtime, where its connections live.
///
/// Tools that make other calls on the same secret (the operator CLI: DescribeSecret,
/// PutSecretValue, ...) use this so they follow exactly the library's connection rules.
///
/// Fails (CONFIG_INVALID) when the CA bundle named by `AWS_CA_BUNDLE` cannot be used, or a
/// file the SDK reads by name is a FIFO or a device (`crate::sdk_files`).
pub async fn sdk_client(settings: &Settings) -> Result<Client> {
    let key = ClientKey {
        pid: std::process::id(),
        region: settings.location.region.clone(),
        endpoint: settings.endpoint_url.clone(),
        timeout: settings.timeout,
    };
    let cached = {
        let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
        if clients.iter().any(|(k, _)| k.pid != key.pid) {
            // Inherited through fork(): their connections belong to the parent's runtime,
            // which does not run here, so they are leaked rather than dropped (as the runtime
            // itself is, see `runtime`).
            for inherited in std::mem::take(&mut *clients) {
                std::mem::forget(inherited);
            }
        }
        most_recent(&mut clients, &key)
    };
    if let Some(c) = cached {
        return Ok(c);
    }
    crate::sdk_files::check(&process_env)?;
    let profile = profile_transport().await;
    if let Some(token_file) = &profile.web_identity_token_file {
        let what = format!("web_identity_token_file of AWS profile {}", profile.name);
        crate::sdk_files::check_file(&what, std::path::Path::new(token_file))?;
    }
    // The option, else a profile `services` section's `secrets_manager` (botocore's spelling,
    // which the Rust SDK does not read), at the place the endpoint rules give it.
    let endpoint = key.endpoint.clone().or_else(|| {
        let variables = [
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            "AWS_ENDPOINT_URL",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        ];
        variables
            .iter()
            .all(|name| process_env(name).is_none())
            .then(|| profile.services_endpoint_url.clone())
            .flatten()
    });
    let plain_http = plain_http_endpoint(endpoint.as_deref().or(profile.endpoint_url.as_deref()), &process_env);
    let environment_credentials = access_keys_in_environment(&process_env);
    let https_client = || transport::https_client_with(&process_env, Some(&profile));
    let http_client = if plain_http {
        transport::http_client_with(&process_env, Some(&profile))?
    } else {
        https_client()?
    };
    // Credential providers other than the environment's (STS web identity, SSO, IMDS, ECS)
    // call AWS over HTTPS even when Secrets Manager is a plain-HTTP emulator.
    let credentials_http_client = if plain_http && !environment_credentials {
        https_client()?
    } else {
        http_client.clone()
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(credentials_http_client.clone())
        .identity_cache(identity_cache(key.timeout))
        .region(Region::new(key.region.clone()))
        .retry_config(retry_config())
        .timeout_config(timeouts(key.timeout));
    if let Some(url) = &endpoint {
        loader = loader.endpoint_url(url);
    }
    if environment_credentials {
        // The default chain would choose these first anyway; naming the provider skips
        // building the rest of the chain, whose STS client (web identity) loads and parses
        // the system root store at once: milliseconds of every cold start on Lambda, where
        // the keys are always in the environment.
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    } else {
        let chain = default_credentials_chain(&key.region, key.timeout, credentials_http_client).await;
        loader = loader.credentials_provider(chain);
    }
    let sdk_config = loader.load().await;
    let config = aws_sdk_secretsmanager::config::Builder::from(&sdk_config).http_client(http_client);
    let client = Client::from_conf(config.build());
    let (client, evicted) = {
        let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
        keep(&mut clients, key, client, MAX_CLIENTS)
    };
    drop(evicted); // outside the lock: it may close connections
    Ok(client)
}

/// The SDK's credentials cache, as aws-config builds it by default, except that resolving
/// credentials may take up to the fetch `deadline`: the default gives up after about 19 s
/// (three attempts of twice the connect timeout), so a slow credential process or STS was
/// failed before a longer deadline, and reported as `NETWORK`. The deadline is the one limit
/// on a read.
fn identity_cache(deadline: Duration) -> aws_smithy_runtime_api::client::identity::SharedIdentityCache {
    aws_config::identity::IdentityCache::lazy()
        .load_timeout(deadline)
        .build()
}

/// The retry policy of every client: Secrets Manager's and the credential providers'.
fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
}

/// aws-config's default credential chain, configured as the config loader would configure
/// it (HTTP client, region, retries, timeouts, FIPS and dual-stack from the environment and
/// profile), except that instance metadata (IMDS) is waited for up to the fetch `deadline`:
/// the metadata client's own attempt and operation timeouts (10 s, 30 s) would turn a slow
/// answer (a busy host) into a failure under a longer deadline. (Its 1 s read timeout, like
/// every read timeout, is dropped by `crate::hedge`.)
async fn default_credentials_chain(
    region: &str,
    deadline: Duration,
    http_client: aws_sdk_secretsmanager::config::SharedHttpClient,
) -> aws_config::default_provider::credentials::DefaultCredentialsChain {
    use aws_config::default_provider::{use_dual_stack, use_fips};
    use aws_config::provider_config::ProviderConfig;
    let region = Region::new(region.to_owned());
    let conf = ProviderConfig::default()
        .with_http_client(http_client)
        .with_behavior_version(Some(BehaviorVersion::latest()))
        .with_region(Some(region.clone()))
        .with_retry_config(retry_config())
        .with_timeout_config(timeouts(deadline));
    let use_fips = use_fips::use_fips_provider(&conf).await;
    let use_dual_stack = use_dual_stack::use_dual_stack_provider(&conf).await;
    let conf = conf.with_use_fips(use_fips).with_use_dual_stack(use_dual_stack);
    let imds = aws_config::imds::Client::builder()
        .configure(&conf)
        .operation_attempt_timeout(deadline)
        .operation_timeout(deadline)
        .build();
    aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
        .configure(conf)
        .region(region)
        .imds_client(imds)
        .build()
        .await
}

/// What the selected profile of the shared AWS config files says about the transport, as
/// botocore reads it: `ca_bundle` (trusted roots, after `AWS_CA_BUNDLE`), `endpoint_url`
/// (only to choose a client without TLS for an `http://` one; the SDK itself applies it) and
/// a `services` section's `secrets_manager` `endpoint_url` (the SDK reads only
/// `secrets-manager`).
async fn profile_transport() -> transport::ProfileTransport {
    use aws_types::os_shim_internal::{Env, Fs};
    // Read before the SDK loader reads the same files: the HTTP client it is handed must
    // already trust the profile's roots. Without config files (Lambda) this is two failed
    // opens; a file the SDK cannot parse is its to report, so it counts as empty here.
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    match aws_config::profile::load(&Fs::real(), &Env::real(), &files, None).await {
        Ok(profile) => {
            let services_endpoint_url = profile.get("services").and_then(|section| {
                let key = aws_runtime::env_config::property::PropertiesKey::builder()
                    .section_key("services")
                    .section_name(section)
                    .property_name("secrets_manager")
                    .sub_property_name("endpoint_url")
                    .build()
                    .ok()?;
                profile.other_sections().get(&key).map(|v| v.to_string())
            });
            transport::ProfileTransport {
                name: profile.selected_profile().to_owned(),
                ca_bundle: profile.get("ca_bundle").map(str::to_owned),
                endpoint_url: profile.get("endpoint_url").map(str::to_owned),
                web_identity_token_file: profile.get("web_identity_token_file").map(str::to_owned),
                services_endpoint_url,
            }
        }
        Err(_) => transport::ProfileTransport::default(),
    }
}

/// [`HEDGE_DELAY`], or `STARFLEET_SECRETS_ATTEMPT_TIMEOUT` when set.
fn hedge_delay(env: EnvLookup<'_>) -> Result<Duration> {
    crate::settings::seconds_var(env, HEDGE_DELAY_VAR, HEDGE_DELAY)
}

/// `key`'s value, now marked most recently used (moved to the back).
fn most_recent<K: PartialEq, V: Clone>(entries: &mut Vec<(K, V)>, key: &K) -> Option<V> {
    let index = entries.iter().position(|(k, _)| k == key)?;
    let entry = entries.remove(index);
    let value = entry.1.clone();
    entries.push(entry);
    Some(value)
}

/// Keep `value` under `key` as the most recently used, unless a concurrent caller already
/// did (its value wins, so everyone shares one); beyond `max` entries the least recently used
/// is returned to be dropped.
fn keep<K: PartialEq, V: Clone>(entries: &mut Vec<(K, V)>, key: K, value: V, max: usize) -> (V, Option<(K, V)>) {
    if let Some(existing) = most_recent(entries, &key) {
        return (existing, None);
    }
    let evicted = (entries.len() >= max).then(|| entries.remove(0));
    entries.push((key, value.clone()));
    (value, evicted)
}

/// The timeouts of a client with this fetch `deadline`: connecting is bounded
/// ([`CONNECT_TIMEOUT`], never past the deadline), the whole call (retries included) ends at
/// the deadline, and there is no read timeout: a slow answer is still an answer.
fn timeouts(deadline: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(deadline))
        .operation_timeout(deadline)
        .build()
}

/// Both access-key variables set: the first source of the default chain.
fn access_keys_in_environment(env: EnvLookup<'_>) -> bool {
    env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some()
}

/// Whether Secrets Manager will be called on a plain `http://` endpoint (a local emulator, a
/// test harness): `endpoint` (the option, else the profile's `endpoint_url`), else
/// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`. The SDK gives the variables
/// precedence over the profile; a variable naming an `https://` endpoint with an `http://`
/// one in the profile gets the HTTPS client, which speaks plain HTTP too (only the no-TLS
/// saving is missed). Such a client gets a connector without TLS,
/// because an HTTPS one reads and parses the root store, milliseconds of a cold start, for
/// certificates an `http://` endpoint never shows.
fn plain_http_endpoint(endpoint: Option<&str>, env: EnvLookup<'_>) -> bool {
    let configured = endpoint.map(str::to_owned).or_else(|| {
        let ignored = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        (!ignored)
            .then(|| env("AWS_ENDPOINT_URL_SECRETS_MANAGER").or_else(|| env("AWS_ENDPOINT_URL")))
            .flatten()
    });
    configured.is_some_and(|url| {
        url.get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
    })
}

/// Fetch and parse one version of the secret, in its location's region only, within the
/// settings' deadline.
pub async fn fetch(settings: &Settings) -> Result<Secret> {
    let hedge = Hedge::new(hedge_delay(&process_env)?);
    fetch_within(settings, settings.timeout, &hedge).await
}

/// Whether a read that failed with `code` moves on to the next region: only when the region,
/// or the way to it, is failing. ACCESS_DENIED, SECRET_NOT_FOUND, DECRYPTION_FAILED,
/// CREDENTIALS and the rest would answer the same from a replica, or describe a problem that
/// reading another region's copy must not hide. A credential provider that cannot reach its
/// (regional) STS endpoint is classified NETWORK or TIMEOUT, not CREDENTIALS, so it moves on
/// ([`classify`]).
pub fn fails_over(code: Code) -> bool {
    matches!(code, Code::Network | Code::Timeout | Code::Service | Code::Throttled)
}

/// The settings of each region a read tries, in order: the location's region, then the
/// fallback regions. An ARN secret id names its region, so it is rewritten for each one.
pub fn regional_settings(settings: &Settings) -> Vec<Settings> {
    let primary = std::iter::once(settings.location.region.clone());
    primary
        .chain(settings.fallback_regions.iter().cloned())
        .map(|region| {
            let mut regional = settings.clone();
            regional.location.secret_id = crate::arn::arn_in_region(&settings.location.secret_id, &region);
            regional.location.region = region;
            regional.fallback_regions.clear();
            regional
        })
        .collect()
}

/// A secret and the region that served it.
#[derive(Debug)]
pub struct Served {
    pub secret: Secret,
    pub region: String,
}

/// What a read across regions brought back, how many times it moved to another region, and
/// how many fallback regions answered with an older version than the one cached, and
/// how many copies of its request it sent ([`crate::hedge`]; at most
/// [`crate::hedge::MAX_HEDGES`] per read).
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<Served>,
    pub failovers: u32,
    pub older_answers: u32,
    pub hedges: u32,
}

impl Outcome {
    /// A read answered at once by `region` (a mounted source: none).
    pub fn served(secret: Secret, region: String) -> Outcome {
        Outcome {
            result: Ok(Served { secret, region }),
            failovers: 0,
            older_answers: 0,
            hedges: 0,
        }
    }

    /// A read that ended before any region answered.
    pub fn failed(error: Error) -> Outcome {
        Outcome {
            result: Err(error),
            failovers: 0,
            older_answers: 0,
            hedges: 0,
        }
    }
}

/// Whether a fallback region's answer is an older version than the cached one, created at
/// `cached`: a replica that replication has not reached yet. `CreatedDate` decides; when
/// either side lacks it (Secrets Manager always sends it; a caller's own fetch may not),
/// nothing can be told and the answer is taken. The same VersionId is never older.
fn older_than_cached(secret: &Secret, cached: Option<(&str, SystemTime)>) -> bool {
    match (cached, secret.created()) {
        (Some((version, created)), Some(answered)) => secret.version_id() != Some(version) && answered < created,
        _ => false,
    }
}

/// One read through the secret's region, then its fallback regions ([`regional_settings`]),
/// moving on only after a failure that [`fails_over`]. `read` makes one region's call with
/// that region's settings and its share of the deadline.
///
/// The regions share the one deadline (`settings.timeout`): each region is given the time
/// left divided by the regions left, so a hung primary (which spends its whole share) still
/// leaves the replicas theirs, and the last region gets whatever remains. Without fallback
/// regions the primary gets the whole deadline, as before.
///
/// A version is never replaced by an older one through a replica: `cached` is the VersionId
/// and `CreatedDate` of the value the caller holds, and a fallback region that answers with
/// an older version (by `CreatedDate`) counts as a region that failed (transiently: its copy
/// is behind), so the read moves on to the next region, and when none is left it ends with
/// the outage that sent it there. The secret's own region is always taken as it answers: an
/// operator who moves `AWSCURRENT` back to an older version there is followed.
///
/// When every region fails, the error is the first region's that failed transiently (an
/// outage: a caller retries it), else the last region's; with more than one region tried, its
/// message names what each region answered (`tried us-east-2 (SERVICE), then us-west-2
/// (SECRET_NOT_FOUND)`). A permanent answer from a replica (one that lacks the secret, say)
/// after an outage of the secret's region says nothing about the secret itself, so it must not
/// turn a transient outage into a permanent failure.
pub async fn read_with_failover<F, Fut>(settings: &Settings, cached: Option<(&str, SystemTime)>, mut read: F) -> Outcome
where
    F: FnMut(Settings, Duration) -> Fut,
    Fut: Future<Output = Result<Secret>>,
{
    let started = Instant::now();
    let regions = regional_settings(settings);
    let count = regions.len();
    let mut failed: Vec<String> = Vec::new();
    let mut failovers = 0;
    let mut last_error = None;
    let mut first_transient: Option<Error> = None;
    let mut older_answers = 0;
    for (index, regional) in regions.into_iter().enumerate() {
        let left = settings.timeout.saturating_sub(started.elapsed());
        let share = left / u32::try_from(count - index).unwrap_or(u32::MAX);
        if share.is_zero() {
            break;
        }
        let region = regional.location.region.clone();
        if let Some(error) = &last_error {
            failovers += 1;
            log::warn!("{error}; reading the replica in {region}");
        }
        match read(regional, share).await {
            Ok(secret) if index > 0 && older_than_cached(&secret, cached) => {
                older_answers += 1;
                let error = Error::new(
                    Code::Service,
                    format!(
                        "secret {} in {region}: the replica answered version {}, older than the cached version {}; not taken",
                        settings.location.secret_id,
                        secret.version_id().unwrap_or("?"),
                        cached.map_or("?", |c| c.0)
                    ),
                );
                log::warn!("{error}");
                failed.push(format!("{region} (an older version)"));
                first_transient.get_or_insert_with(|| error.clone());
                last_error = Some(error);
            }
            Ok(secret) => {
                return Outcome {
                    result: Ok(Served { secret, region }),
                    failovers,
                    older_answers,
                    hedges: 0,
                }
            }
            Err(error) => {
                let moves_on = fails_over(error.code());
                failed.push(format!("{region} ({})", error.code()));
                if first_transient.is_none() && error.code().is_transient() {
                    first_transient = Some(error.clone());
                }
                last_error = Some(error);
                if !moves_on {
                    break;
                }
            }
        }
    }
    // No region was tried (the deadline was spent before the first one's turn).
    let error = first_transient
        .or(last_error)
        .unwrap_or_else(|| no_answer(started.elapsed()));
    let error = match failed.len() {
        0 | 1 => error,
        _ => error.context(format_args!("tried {}", failed.join(", then "))),
    };
    Outcome {
        result: Err(error),
        failovers,
        older_answers,
        hedges: 0,
    }
}

/// [`fetch`] in each region [`read_with_failover`] tries (`cached` as there); one hedge
/// budget for the whole read.
pub async fn fetch_with_failover(settings: &Settings, cached: Option<(&str, SystemTime)>) -> Outcome {
    let hedge = match hedge_delay(&process_env) {
        Ok(delay) => Hedge::new(delay),
        Err(error) => return Outcome::failed(error),
    };
    let hedge = &hedge;
    let mut outcome = read_with_failover(settings, cached, |regional, share| async move {
        let within = fetch_within(&regional, share, hedge);
        tokio::time::timeout(share, within).await.unwrap_or_else(|_| {
            Err(no_answer(share).context(format_args!(
                "secret {} in {}",
                regional.location.secret_id, regional.location.region
            )))
        })
    })
    .await;
    outcome.hedges = hedge.count();
    outcome
}

/// One GetSecretValue in the settings' region, ended (TIMEOUT) after `deadline`, hedged
/// (its copies shared with the read's other regions) per `hedge`.
async fn fetch_within(settings: &Settings, deadline: Duration, hedge: &Hedge) -> Result<Secret> {
    let started = Instant::now();
    let loc = &settings.location;
    let what = format!("secret {} ({}) in {}", loc.secret_id, settings.version, loc.region);
    log::debug!("GetSecretValue {what}");
    let client = sdk_client(settings).await.map_err(|e| e.context(&what))?;
    let request = client.get_secret_value().secret_id(&loc.secret_id);
    let request = match &settings.version {
        Version::Stage(stage) => request.version_stage(stage),
        Version::Id(id) => request.version_id(id),
    };
    let limits = aws_sdk_secretsmanager::config::Builder::default().timeout_config(timeouts(deadline));
    let hedge = hedge.clone();
    let output = request
        .customize()
        .config_override(limits)
        // Every attempt (the SDK's retries included) may be hedged, once per read.
        .mutate_request(move |request| request.add_extension(hedge.clone()))
        .send()
        .await
        .map_err(|e| classify(&e, started.elapsed()).context(&what))?;
    into_secret(output, &loc.secret_id).map_err(|e| e.context(&what))
}

/// Take the payload out of the SDK output (so our copy is the only one we keep) and parse it.
fn into_secret(mut out: GetSecretValueOutput, requested: &str) -> Result<Secret> {
    let created = out.created_date.and_then(|d| SystemTime::try_from(d).ok());
    Secret::from_parts(
        requested,
        out.name.take(),
        out.arn.take(),
        out.version_id.take(),
        out.version_stages.take().unwrap_or_default(),
        out.secret_string.take(),
        out.secret_binary.take().map(|blob| blob.into_inner()),
    )
    .map(|secret| secret.with_created(created))
}

/// Map any SDK failure to a stable code with a message that helps fix it; `waited` is how
/// long the call waited, which a TIMEOUT message states.
pub fn classify<E, R>(err: &SdkError<E, R>, waited: Duration) -> Error
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(cred) = find_in_chain::<CredentialsError>(err) {
        return Error::new(
            credentials_code(cred),
            format!("no usable AWS credentials: {}", describe_credentials(cred)),
        );
    }
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            service_error(e.code().unwrap_or("Unknown"), e.message())
        }
        SdkError::TimeoutError(_) => no_answer(waited),
        SdkError::DispatchFailure(d) if d.is_timeout() => no_answer(waited),
        SdkError::DispatchFailure(_) => {
            let cause = root_cause(err);
            if let Some(proxy) = transport::failed_proxy(err, &process_env) {
                return Error::new(
                    Code::Network,
                    format!("cannot reach Secrets Manager through the proxy {proxy}: {cause}"),
                );
            }
            let hint = if cause.contains("certificate") {
                UNTRUSTED_HINT
            } else {
                ""
            };
            Error::new(Code::Network, format!("cannot reach Secrets Manager: {cause}{hint}"))
        }
        SdkError::ResponseError(_) => Error::new(
            Code::Network,
            format!("connection failed while reading the response: {}", root_cause(err)),
        ),
        SdkError::ConstructionFailure(_) => {
            Error::new(Code::Internal, format!("cannot build the request: {}", root_cause(err)))
        }
        _ => Error::new(Code::Service, format!("unexpected SDK error: {}", root_cause(err))),
    }
}

/// TIMEOUT after `waited`, to a tenth of a second (the time really spent, not the deadline).
fn no_answer(waited: Duration) -> Error {
    Error::new(Code::Timeout, format!("no answer within {:.1}s", waited.as_secs_f64()))
}

/// A Secrets Manager error answer (its AWS code and message) as our [`Error`]: the code
/// classified, the message cut to [`MAX_AWS_MESSAGE`]. Public for a binding that makes the
/// call through another client (Python under moto's in-process mock), so both paths give
/// the same code and the same text.
pub fn service_error(code: &str, message: Option<&str>) -> Error {
    let message = aws_text(message.unwrap_or(""));
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    };
    Error::new(classify_service_code(code, &detail), format!("{code}{detail}"))
}

/// Text that came from AWS or a client library, cut to [`MAX_AWS_MESSAGE`] characters.
pub fn aws_text(text: &str) -> String {
    text.chars().take(MAX_AWS_MESSAGE).collect()
}

pub fn classify_service_code(code: &str, message: &str) -> Code {
    match code {
        "ResourceNotFoundException" => Code::SecretNotFound,
        // A secret scheduled for deletion answers InvalidRequestException; to a reader it is gone.
        "InvalidRequestException" if message.contains("deleted") || message.contains("deletion") => {
            Code::SecretNotFound
        }
        "AccessDeniedException" | "AccessDenied" => Code::AccessDenied,
        "DecryptionFailure" | "KMSAccessDeniedException" => Code::DecryptionFailed,
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded" => Code::Throttled,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredTokenException"
        | "ExpiredToken"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken" => Code::Credentials,
        "InvalidParameterException" | "InvalidRequestException" | "ValidationException" => Code::InvalidArgument,
        // InternalServiceError, 5xx, and codes AWS may add later.
        _ => Code::Service,
    }
}

/// A credentials failure is CREDENTIALS, the answer whichever region is read (none found, a
/// role that may not be assumed, an invalid token), except when the provider could not
/// reach its endpoint or ran out of time: then it is a regional outage (web identity and
/// assume-role providers ask STS in the region of the client, and each region has its own
/// client), transient, and the read moves on to the next region ([`fails_over`]).
fn credentials_code(cred: &CredentialsError) -> Code {
    match cred {
        CredentialsError::ProviderTimedOut(_) => Code::Timeout,
        CredentialsError::ProviderError(_) => match find_in_chain::<ConnectorError>(cred) {
            Some(c) if c.is_timeout() => Code::Timeout,
            Some(_) => Code::Network,
            None => Code::Credentials,
        },
        _ => Code::Credentials,
    }
}

fn describe_credentials(e: &CredentialsError) -> String {
    let base = match e {
        CredentialsError::CredentialsNotLoaded(_) => {
            "none found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or a role)".to_owned()
        }
        CredentialsError::ProviderTimedOut(_) => "the credential provider timed out".to_owned(),
        other => other.to_string(),
    };
    aws_text(&base)
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The innermost error's text (connection refused, reset by peer, ...), which is what a
/// reader needs; the outer layers only say "dispatch failure".
fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    aws_text(&current.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process environment holding exactly `vars`.
    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn environment_provider_only_when_both_keys_are_set() {
        assert!(access_keys_in_environment(&env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s")
        ])));
        assert!(!access_keys_in_environment(&env(&[("AWS_ACCESS_KEY_ID", "AKIA")])));
        assert!(!access_keys_in_environment(&env(&[])));
    }

    #[test]
    fn plain_http_only_for_an_http_endpoint_the_sdk_will_use() {
        let none = env(&[]);
        assert!(plain_http_endpoint(Some("http://127.0.0.1:5000"), &none));
        assert!(plain_http_endpoint(Some("HTTP://localhost"), &none));
        assert!(!plain_http_endpoint(
            Some("https://secretsmanager.us-east-2.amazonaws.com"),
            &none
        ));
        assert!(!plain_http_endpoint(None, &none));
        let service = env(&[
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://h:1"),
            ("AWS_ENDPOINT_URL", "https://x"),
        ]);
        assert!(plain_http_endpoint(None, &service));
        assert!(!plain_http_endpoint(Some("https://y"), &service), "the option wins");
        assert!(plain_http_endpoint(None, &env(&[("AWS_ENDPOINT_URL", "http://h:1")])));
        let ignored = env(&[
            ("AWS_ENDPOINT_URL", "http://h:1"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert!(!plain_http_endpoint(None, &ignored));
    }

    #[test]
    fn hedge_delay_from_the_environment() {
        assert_eq!(hedge_delay(&env(&[])).unwrap(), HEDGE_DELAY);
        let set = env(&[("STARFLEET_SECRETS_ATTEMPT_TIMEOUT", "2.5")]);
        assert_eq!(hedge_delay(&set).unwrap(), Duration::from_millis(2500));
        for bad in ["0", "-1", "soon"] {
            let vars: &'static [(&'static str, &'static str)] =
                Box::leak(Box::new([("STARFLEET_SECRETS_ATTEMPT_TIMEOUT", bad)]));
            let err = hedge_delay(&env(vars)).unwrap_err();
            assert_eq!(err.code(), Code::ConfigInvalid, "{bad}");
            assert!(err.to_string().contains("STARFLEET_SECRETS_ATTEMPT_TIMEOUT"), "{err}");
        }
    }

    #[test]
    fn client_map_is_bounded_and_least_recently_used_goes_first() {
        let mut entries = Vec::new();
        for k in 0..3 {
            assert_eq!(keep(&mut entries, k, k * 10, 3), (k * 10, None));
        }
        assert_eq!(most_recent(&mut entries, &0), Some(0), "0 is now the most recent");
        assert_eq!(keep(&mut entries, 1, 99, 3), (10, None), "an existing entry wins");
        // Full: a new key evicts the least recently used (2), not 0 or 1.
        assert_eq!(keep(&mut entries, 3, 30, 3), (30, Some((2, 20))));
        assert_eq!(entries.len(), 3);
        assert_eq!(most_recent(&mut entries, &2), None);
        for k in 4..100 {
            keep(&mut entries, k, k, 3);
        }
        assert_eq!(entries.len(), 3, "never grows past the bound");
    }

    #[test]
    fn no_read_timeout_and_connecting_bounded_within_the_deadline() {
        let deadline = Duration::from_secs(10);
        let t = timeouts(deadline);
        assert_eq!(t.read_timeout(), None, "a slow answer is still an answer");
        assert_eq!(t.operation_attempt_timeout(), None);
        assert_eq!(t.operation_timeout(), Some(deadline));
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        let short = timeouts(Duration::from_millis(300));
        assert_eq!(
            short.connect_timeout(),
            Some(Duration::from_millis(300)),
            "never past the deadline"
        );
    }

    #[test]
    fn a_timeout_states_the_time_waited() {
        let err = no_answer(Duration::from_millis(3_240));
        assert_eq!(err.code(), Code::Timeout);
        assert!(err.to_string().contains("no answer within 3.2s"), "{err}");
    }

    #[test]
    fn service_codes() {
        assert_eq!(
            classify_service_code("ResourceNotFoundException", ""),
            Code::SecretNotFound
        );
        assert_eq!(
            classify_service_code("InvalidRequestException", "secret that's currently marked deleted"),
            Code::SecretNotFound
        );
        assert_eq!(
            classify_service_code("InvalidRequestException", "bad"),
            Code::InvalidArgument
        );
        assert_eq!(classify_service_code("AccessDeniedException", ""), Code::AccessDenied);
        assert_eq!(classify_service_code("DecryptionFailure", ""), Code::DecryptionFailed);
        assert_eq!(classify_service_code("ThrottlingException", ""), Code::Throttled);
        assert_eq!(
            classify_service_code("UnrecognizedClientException", ""),
            Code::Credentials
        );
        assert_eq!(classify_service_code("InternalServiceError", ""), Code::Service);
    }
}
