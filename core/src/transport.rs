//! The HTTP clients every AWS call of the process goes through: one rule for TLS, trusted
//! roots and pooled connections, shared by the Secrets Manager client and the credential
//! providers (see `source::sdk_client`).
//!
//! **TLS is rustls with the *ring* crypto provider**, not the AWS SDK's default (AWS-LC).
//! AWS-LC seeds its random generator with CPU-jitter entropy on the first handshake of a
//! process: ~30 ms of CPU in every cold start, most of a Lambda worker's start-up (the
//! figures and profiles are in BENCHMARKS.md). AWS-LC can skip it, but only through a build
//! variable (`AWS_LC_SYS_NO_JITTER_ENTROPY`) that each user's own build would have to set,
//! whereas ring seeds from the kernel (`getrandom`) in every build and is also smaller. The
//! cost: ring has no post-quantum key exchange (X25519MLKEM768), so connections use classical
//! X25519/ECDHE, and there is no FIPS mode. Verification is rustls's standard WebPKI
//! verification, fully on; the cipher suites are the SDK's own restricted list.
//!
//! **Trusted roots**, in the order other AWS SDKs and OpenSSL use: `AWS_CA_BUNDLE` (a PEM
//! file that replaces the system roots, as botocore and aws-sdk-go-v2 read it); else the
//! selected AWS profile's `ca_bundle` (botocore's order); else
//! `SSL_CERT_FILE`/`SSL_CERT_DIR` as OpenSSL reads them; else the system's bundle *file* alone
//! (`/etc/ssl/certs/ca-certificates.crt`, `/etc/pki/tls/certs/ca-bundle.crt` on Amazon Linux,
//! ...) rather than also parsing every file of the certificate directory, which holds the
//! same roots again and costs milliseconds of each cold start. A bundle that cannot be read
//! or holds no usable certificate (`AWS_CA_BUNDLE`, `SSL_CERT_FILE` or the system's) is a
//! CONFIG_INVALID error naming the variable, never a silent fallback or an empty trust store; certificates a bundle holds that are not usable roots are skipped.
//!
//! **Proxies** follow botocore's rules. Requests to `https://` URLs (Secrets Manager, STS,
//! SSO) go through `https_proxy`/`HTTPS_PROXY` (lower case first, as Python's urllib reads
//! them), opening a `CONNECT` tunnel in which TLS runs end to end with the endpoint, verified
//! against the roots below (the proxy sees only the host name). A plain `http://` Secrets
//! Manager endpoint (an emulator) goes through `http_proxy`/`HTTP_PROXY` (requests in absolute
//! form), which is ignored when `REQUEST_METHOD` is set (a CGI process, where `HTTP_PROXY` can
//! be a request header: "httpoxy"). `ALL_PROXY` is not read, as botocore and aws-sdk-go-v2 do
//! not. An `https://` proxy URL is spoken to over TLS, verified against the same roots (for a
//! plain-HTTP endpoint that needs the TLS client, see [`http_client_with`]). A proxy URL
//! without a scheme is `http://`; `user:password@` in it (percent-encoded) is sent as
//! `Proxy-Authorization: Basic`, and every message shows the proxy with its password as
//! `***`. `no_proxy`/`NO_PROXY` is a comma-separated list of host names (each matching
//! itself and its subdomains, with or without a leading `.` or `*.`), IP addresses, CIDR
//! blocks, or `*` (everything); a `:port` on an entry is ignored (see [`no_proxy_rules`]).
//! Differences from botocore (the README lists them): `NO_PROXY` also takes CIDR blocks and
//! `*.` entries (as aws-sdk-go-v2 and curl do), an entry's port is not compared, and, on
//! purpose, the credential providers' plain-HTTP calls (instance metadata at 169.254.169.254,
//! container credentials at 169.254.170.2, EKS's 169.254.170.23 or a loopback address, the
//! only plain-HTTP hosts the SDK accepts for them) never go through a proxy (only the
//! `https://` client has one for them, and it applies to `https://` URLs): a proxy can only
//! reach its own host's metadata, so a proxied call fails or, from a proxy on another EC2
//! instance, returns that instance's credentials. botocore sends instance-metadata calls to
//! `HTTP_PROXY` unless `NO_PROXY` lists the address (container credentials it never proxies).
//! With no proxy variable set nothing is parsed and the connector has no proxy layer.
//!
//! **Host names** are looked up by [`crate::dns`] (getaddrinfo, each lookup outliving the connect
//! attempt that started it, so a slow DNS server is waited for).
//!
//! **Pooled connections** are dropped after [`POOL_IDLE_TIMEOUT`] idle, well below the
//! 350 s after which an AWS NAT gateway silently forgets a flow, and carry TCP keepalive
//! probes. A connection that died anyway (a Lambda freeze, a NAT) is caught by [`crate::hedge`]:
//! each client is a [`HedgingClient`] over the pool and a second pool for hedges, whose
//! connections are never reused.

use std::time::Duration;

use aws_sdk_secretsmanager::config::{IntoShared, SharedHttpClient};
use aws_smithy_http_client::pool::{Builder as PoolBuilder, Client as PoolClient, ConnectionPool};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use memchr::memmem::Finder;
use rustls_pki_types::{CertificateDer, TrustAnchor};

use crate::dns;
use crate::error::{Code, Error, Result};
use crate::hedge::HedgingClient;
use crate::settings::EnvLookup;

/// How long an idle pooled connection is kept: below an AWS NAT gateway's 350 s idle limit,
/// and long enough that a burst of calls (a refresh and its retries, a CLI command) shares one.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Overrides [`POOL_IDLE_TIMEOUT`] (seconds, > 0) for the clients built after it is set: for a
/// network whose middleboxes forget idle flows sooner, and for the test that observes the
/// timeout (`core/tests/dead_connections.rs`) without waiting a minute.
pub const POOL_IDLE_TIMEOUT_VAR: &str = "STARFLEET_SECRETS_POOL_IDLE_TIMEOUT";
/// The AWS NAT gateway's idle timeout: a pooled connection kept idle longer is sent into a
/// black hole. [`POOL_IDLE_TIMEOUT`] must stay below it (a unit test checks).
pub const NAT_GATEWAY_IDLE_TIMEOUT: Duration = Duration::from_secs(350);
/// Idle time before the kernel sends TCP keepalive probes on a connection, so a flow that a
/// middlebox would otherwise expire stays known, and a dead peer is noticed.
pub const TCP_KEEPALIVE: Duration = Duration::from_secs(30);

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const PEM_END: &[u8] = b"-----END CERTIFICATE-----";

/// What the selected AWS profile (`~/.aws/config`, `AWS_CONFIG_FILE`, `AWS_PROFILE`) says
/// about the transport, read by `source::sdk_client`.
#[derive(Debug, Default, Clone)]
pub struct ProfileTransport {
    /// The selected profile's name, for messages.
    pub name: String,
    /// `ca_bundle`: the trusted roots when `AWS_CA_BUNDLE` is not set, as botocore reads it.
    pub ca_bundle: Option<String>,
    /// `endpoint_url`.
    pub endpoint_url: Option<String>,
    /// `web_identity_token_file`: checked before the SDK reads it (`crate::sdk_files`).
    pub web_identity_token_file: Option<String>,
    /// The `endpoint_url` of `secrets_manager` in the profile's `services` section.
    pub services_endpoint_url: Option<String>,
}

/// An HTTPS (and HTTP) client: rustls + ring, the roots described in the module doc.
/// Reads the root bundle now, so call it once per SDK client.
pub fn https_client(env: EnvLookup<'_>) -> Result<SharedHttpClient> {
    https_client_with(env, None)
}

/// [`https_client`], trusting the profile's `ca_bundle` when `AWS_CA_BUNDLE` is not set.
pub fn https_client_with(env: EnvLookup<'_>, profile: Option<&ProfileTransport>) -> Result<SharedHttpClient> {
    tls_client(env, profile, Scheme::Https)
}

/// A client with TLS whose proxy is the one for `scheme`'s URLs: `Https` for an `https://`
/// endpoint; `Http` for a plain-HTTP endpoint reached through an `https://` proxy.
fn tls_client(env: EnvLookup<'_>, profile: Option<&ProfileTransport>, scheme: Scheme) -> Result<SharedHttpClient> {
    let context = TlsContext::builder()
        .with_trust_store(trust_store(env, profile)?)
        .build()
        .map_err(|e| Error::new(Code::Internal, format!("cannot set up TLS: {e}")))?;
    let idle_timeout = pool_idle_timeout(env)?;
    let proxy = proxy_config(env, scheme)?;
    // Each pool takes its own copy of the roots (one allocation per certificate): the
    // context is moved into the second rather than copied once more.
    let resolver = dns::Resolver::default();
    let pool = |context: TlsContext| {
        with_policy(ConnectionPool::builder(), idle_timeout, proxy.clone(), &resolver)
            .tls_provider(Provider::rustls(CryptoMode::Ring))
            .tls_context(context)
            .build_https()
    };
    shared(pool(context.clone()), pool(context))
}

/// A client without TLS, for a plain `http://` endpoint (a local emulator): no roots are
/// read for certificates such an endpoint never shows.
pub fn http_client(env: EnvLookup<'_>) -> Result<SharedHttpClient> {
    http_client_with(env, None)
}

/// [`http_client`], unless the `http_proxy` is itself an `https://` URL: then the client
/// speaks TLS to the proxy, verified against the roots (the profile's `ca_bundle` among
/// them), as botocore does, and sends the plain-HTTP requests inside.
pub fn http_client_with(env: EnvLookup<'_>, profile: Option<&ProfileTransport>) -> Result<SharedHttpClient> {
    let tls_proxy = proxy_for(env, Scheme::Http).is_some_and(|(_, url)| {
        url.get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    });
    if tls_proxy {
        return tls_client(env, profile, Scheme::Http);
    }
    let idle_timeout = pool_idle_timeout(env)?;
    let proxy = proxy_config(env, Scheme::Http)?;
    let resolver = dns::Resolver::default();
    let pool = || with_policy(ConnectionPool::builder(), idle_timeout, proxy.clone(), &resolver).build_http();
    shared(pool(), pool())
}

/// The pooling policy of both clients (module doc), with `idle_timeout` (see
/// [`pool_idle_timeout`]), the proxy, if any (see [`proxy_config`]), and the client's resolver
/// (shared by its two pools; see [`crate::dns`]).
fn with_policy<Tls>(
    builder: PoolBuilder<Tls>,
    idle_timeout: Duration,
    proxy: Option<ProxyConfig>,
    resolver: &dns::Resolver,
) -> PoolBuilder<Tls> {
    let builder = builder
        .dns_resolver(resolver.clone())
        .idle_timeout(idle_timeout)
        .tcp_keepalive(TCP_KEEPALIVE)
        .tcp_nodelay(true);
    match proxy {
        Some(proxy) => builder.proxy_config(proxy),
        None => builder,
    }
}

/// The scheme of the URLs a client's proxy is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scheme {
    Http,
    Https,
}

/// The variables naming the proxy for each scheme, in the order they are read (lower case
/// first, as botocore reads them through Python's urllib).
const HTTPS_PROXY_VARS: [&str; 2] = ["https_proxy", "HTTPS_PROXY"];
const HTTP_PROXY_VARS: [&str; 2] = ["http_proxy", "HTTP_PROXY"];
const NO_PROXY_VARS: [&str; 2] = ["no_proxy", "NO_PROXY"];
/// How the connector's tunnel errors begin (see [`failed_proxy`]).
const TUNNEL_ERROR: &str = "tunnel error";

/// The proxy for `scheme`'s URLs: the variable that names it and its URL (with `http://`
/// added when it has no scheme). `None` without one, the common case, which costs only
/// these look-ups.
pub fn proxy_for(env: EnvLookup<'_>, scheme: Scheme) -> Option<(&'static str, String)> {
    let names = match scheme {
        Scheme::Https => HTTPS_PROXY_VARS,
        // Under CGI, `HTTP_PROXY` may come from a request's `Proxy:` header (httpoxy).
        Scheme::Http if env("REQUEST_METHOD").is_some() => return None,
        Scheme::Http => HTTP_PROXY_VARS,
    };
    let (name, url) = first_var(env, &names)?;
    let url = if url.contains("://") {
        url
    } else {
        // As botocore: `host:port` and `//host:port` are plain-HTTP proxies.
        format!("http://{}", url.trim_start_matches("//"))
    };
    Some((name, url))
}

/// The proxy settings of a client whose endpoint is `scheme` (module doc); `None` when no
/// proxy is set, so the connector has no proxy layer. CONFIG_INVALID, naming the variable
/// and the proxy without its password, for a URL that cannot be used.
fn proxy_config(env: EnvLookup<'_>, scheme: Scheme) -> Result<Option<ProxyConfig>> {
    let Some((name, url)) = proxy_for(env, scheme) else {
        return Ok(None);
    };
    let no_proxy = first_var(env, &NO_PROXY_VARS).map(|(_, rules)| no_proxy_rules(&rules));
    if no_proxy
        .as_deref()
        .is_some_and(|rules| rules.split(',').any(|rule| rule == "*"))
    {
        // Everything bypasses the proxy. Decided here: the connector's matcher applies `*`
        // to host names only, so an IP-address endpoint would still be proxied.
        return Ok(None);
    }
    let invalid = |why: String| Error::new(Code::ConfigInvalid, format!("{name} ({}): {why}", redacted_proxy(&url)));
    let config = match scheme {
        Scheme::Https => ProxyConfig::https(url.as_str()),
        Scheme::Http => ProxyConfig::http(url.as_str()),
    }
    .map_err(|e| invalid(e.to_string()))?;
    Ok(Some(match no_proxy {
        Some(rules) => config.no_proxy(rules),
        None => config,
    }))
}

/// The first of `names` that is set (and not empty), with its value.
fn first_var(env: EnvLookup<'_>, names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|name| env(name).map(|value| (*name, value)))
}

/// `NO_PROXY` as the connector matches it (host names as suffixes, IP addresses, CIDR
/// blocks, `*`), with the forms users also write and other clients accept made into those:
/// `*.example.com` (aws-sdk-go-v2, curl) is `.example.com`, and an entry's `:port` (botocore
/// and aws-sdk-go-v2 compare it) is dropped, so `internal.example:8443` bypasses the proxy on
/// every port of that host rather than being ignored.
pub fn no_proxy_rules(raw: &str) -> String {
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let entry = entry
                .strip_prefix('*')
                .filter(|rest| rest.starts_with('.'))
                .unwrap_or(entry);
            if let Some(bracketed) = entry.strip_prefix('[') {
                // `[2001:db8::1]` or `[2001:db8::1]:443`
                return bracketed.split(']').next().unwrap_or(bracketed);
            }
            match entry.rsplit_once(':') {
                // One colon followed by digits: a port (an IPv6 address has several colons).
                Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
                _ => entry,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `url` with the password of its `user:password@` part shown as `***`, for messages.
pub fn redacted_proxy(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &url[start..start + at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..start], &url[start + at..])
        }
        None => url.to_owned(),
    }
}

/// When `err` is a failure to open a tunnel through the HTTPS proxy (refused, closed, an
/// answer other than 200 to `CONNECT`), the proxy as messages name it: `URL (VARIABLE)`,
/// its password hidden.
///
/// Recognised by its text: hyper-util's `TunnelError`, which every such failure is, is not
/// exported, and its messages all start with [`TUNNEL_ERROR`] (`core/tests/network.rs`
/// checks the proxy is named, so a change there fails a test rather than a user).
pub fn failed_proxy(err: &(dyn std::error::Error + 'static), env: EnvLookup<'_>) -> Option<String> {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.to_string().starts_with(TUNNEL_ERROR) {
            let (name, url) = proxy_for(env, Scheme::Https)?;
            return Some(format!("{} ({name})", redacted_proxy(&url)));
        }
        current = e.source();
    }
    None
}

/// [`POOL_IDLE_TIMEOUT`], or [`POOL_IDLE_TIMEOUT_VAR`] when set (CONFIG_INVALID naming the
/// variable when it is not a positive number of seconds).
fn pool_idle_timeout(env: EnvLookup<'_>) -> Result<Duration> {
    crate::settings::seconds_var(env, POOL_IDLE_TIMEOUT_VAR, POOL_IDLE_TIMEOUT)
}

/// The client over `pooled`, hedging into `fresh` (see [`crate::hedge`]; two pools built
/// alike, so the hedge's connections follow the same rules).
fn shared<E: std::fmt::Display>(
    pooled: std::result::Result<ConnectionPool, E>,
    fresh: std::result::Result<ConnectionPool, E>,
) -> Result<SharedHttpClient> {
    Ok(HedgingClient::new(pool_client(pooled)?, pool_client(fresh)?).into_shared())
}

fn pool_client<E: std::fmt::Display>(pool: std::result::Result<ConnectionPool, E>) -> Result<SharedHttpClient> {
    let client = pool
        .map_err(|e| e.to_string())
        .and_then(|pool| PoolClient::new(&pool).map_err(|e| format!("{e:?}")))
        .map_err(|e| Error::new(Code::Internal, format!("cannot build the HTTP client: {e}")))?;
    Ok(client.into_shared())
}

/// The roots to trust (see the module doc for the order).
fn trust_store(env: EnvLookup<'_>, profile: Option<&ProfileTransport>) -> Result<TrustStore> {
    if let Some(path) = env("AWS_CA_BUNDLE") {
        return bundle_file("AWS_CA_BUNDLE", &path);
    }
    if let Some(ProfileTransport {
        name,
        ca_bundle: Some(path),
        ..
    }) = profile
    {
        return bundle_file(&format!("ca_bundle of AWS profile {name}"), path);
    }
    let cert_file = env("SSL_CERT_FILE");
    if let Some(path) = &cert_file {
        // Checked here because rustls-native-certs only logs a file it cannot read and goes
        // on with an empty trust store, which fails every handshake as "unknown issuer".
        let store = bundle_file("SSL_CERT_FILE", path)?;
        if env("SSL_CERT_DIR").is_none() {
            return Ok(store);
        }
    }
    if cert_file.is_some() || env("SSL_CERT_DIR").is_some() {
        // rustls-native-certs reads both variables exactly as OpenSSL does.
        return Ok(TrustStore::default());
    }
    match openssl_probe::probe().cert_file {
        Some(file) => bundle_file("the system CA bundle", &file.to_string_lossy()),
        None => Ok(TrustStore::default()), // no bundle file: the certificate directories
    }
}

/// A trust store holding the usable roots of one PEM bundle file.
fn bundle_file(what: &str, path: &str) -> Result<TrustStore> {
    let invalid = |why: String| Error::new(Code::ConfigInvalid, format!("{what} ({path}): {why}"));
    let pem = read_bundle(path).map_err(invalid)?;
    let (store, usable) = trusted_roots(&pem);
    if usable == 0 {
        return Err(invalid("no usable CA certificate in the file".to_owned()));
    }
    Ok(store)
}

/// The largest CA bundle read: a system bundle is about 220 KB, and one of every root any
/// store has ever held would be a few MB.
const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// The bytes of the bundle file at `path`, or why not. Only a regular file is read
/// (`config::open_regular_file`: a FIFO's open or read would wait for a writer forever, a
/// device such as `/dev/zero` never ends), and at most [`MAX_BUNDLE_BYTES`].
fn read_bundle(path: &str) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read the CA bundle: {e}");
    let file = crate::config::open_regular_file(std::path::Path::new(path)).map_err(|e| match e {
        crate::config::Unopened::Io(e) => cannot(e),
        crate::config::Unopened::Kind(kind) => format!("the CA bundle is {kind}, not a regular file"),
    })?;
    let size = file.metadata().map_err(cannot)?.len();
    let mut pem = Vec::with_capacity(size.min(MAX_BUNDLE_BYTES) as usize + 1);
    file.take(MAX_BUNDLE_BYTES + 1).read_to_end(&mut pem).map_err(cannot)?;
    if pem.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(format!(
            "the CA bundle is larger than the {MAX_BUNDLE_BYTES}-byte limit"
        ));
    }
    Ok(pem)
}

/// The certificates of `pem` that parse as trust anchors, and how many there are. Checked
/// here because the SDK treats a certificate it cannot parse as a bug (it panics), while
/// system bundles do carry the odd certificate rustls cannot use.
///
/// The SDK parses the PEM it is given again when it builds its TLS configuration, with
/// rustls-pki-types' decoder (about 3 ns a byte at any opt-level: it decodes base64 as if it
/// were secret, in constant time; 0.6-1.0 ms of every cold start for a 220 KB system bundle),
/// then keeps of each certificate only its trust anchor. This check is the other parse of
/// every cold start, so it decodes with the SIMD decoder the SDK already links
/// (aws-smithy-types' base64-simd, roots being public data), and hands the SDK, for each root
/// it kept, the smallest certificate that yields the same trust anchor
/// ([`anchor_certificate`]), as plain PEM: 60 % of the bytes for the SDK's slow decoder (132
/// KB of a 220 KB system bundle, bench/overhead/RESULTS.md, seventh round), and whatever
/// quirk the original text had (a stray `\r`, spaces), the SDK's parser gets exactly a
/// certificate that passed here, so it cannot panic on it.
fn trusted_roots(pem: &[u8]) -> (TrustStore, usize) {
    let (roots, usable) = trusted_roots_pem(pem);
    let mut store = TrustStore::empty();
    if usable > 0 {
        store.add_pem_certificate(roots);
    }
    (store, usable)
}

/// The usable roots of `pem` as one plain-PEM text (see [`trusted_roots`]), and how many.
///
/// One text for all of them, not one per root: the SDK reads every certificate of each text
/// it holds, and copies its trust store once per connection pool it builds (and core builds
/// two per client, see `tls_client`), which for ~145 separate roots is ~145 allocations per
/// copy, against one.
///
/// The markers are found with memchr's vectorised substring search (a byte-window comparison
/// was a tenth of a cold start's CPU at opt-level "z"), its two searchers built once for the
/// whole text rather than once per search as `memmem::find` does, ~290 times for a system
/// bundle (bench/core/RESULTS.md, `--bench trust_store`).
fn trusted_roots_pem(pem: &[u8]) -> (Vec<u8>, usize) {
    let mut roots = Vec::with_capacity(pem.len());
    let mut usable = 0;
    let mut rest = pem;
    let mut der = Vec::new();
    let (begin, end) = (Finder::new(PEM_BEGIN), Finder::new(PEM_END));
    while let Some(start) = begin.find(rest) {
        let body = &rest[start + PEM_BEGIN.len()..];
        let Some(len) = end.find(body) else {
            break;
        };
        rest = &body[len + PEM_END.len()..];
        der.clear();
        let mut line_start = 0;
        for line_end in memchr::memchr_iter(b'\n', &body[..len]).chain([len]) {
            der.extend_from_slice(body[line_start..line_end].trim_ascii());
            line_start = line_end + 1;
        }
        let Ok(decoded) = base64_simd::STANDARD.decode_inplace(&mut der) else {
            continue; // not base64 (a header line, a character out of the alphabet): unusable
        };
        if let Ok(anchor) = webpki::anchor_from_trusted_cert(&CertificateDer::from(&*decoded)) {
            match anchor_certificate(&anchor) {
                Some(smallest) => push_plain_pem(&mut roots, &smallest),
                None => push_plain_pem(&mut roots, decoded),
            }
            usable += 1;
        }
    }
    (roots, usable)
}

/// The smallest certificate whose trust anchor is `anchor`, or `None` to keep the original.
///
/// What a root contributes to verification is its trust anchor alone: the subject, the
/// public key and any name constraints (rustls's `RootCertStore` keeps nothing else, so a
/// root's own signature, validity, serial and other extensions are never read). A root
/// certificate carries about as much again in those fields (an RSA root's signature is as
/// long as its key), all of which the SDK would decode and discard. This builds a version 3
/// certificate of the subject (as issuer too), the public key, a fixed serial, validity and
/// signature algorithm, and an empty signature, and keeps it only if webpki reads back
/// exactly the anchor it read from the original, byte for byte; otherwise (and for a root
/// with name constraints, which it does not rebuild) the original is handed on. So what is
/// trusted cannot differ from the bundle: the same anchors, only smaller certificates.
fn anchor_certificate(anchor: &TrustAnchor<'_>) -> Option<Vec<u8>> {
    /// `[0] EXPLICIT INTEGER 2`: version 3, which webpki requires of a trust anchor's
    /// certificate with this layout.
    const VERSION_3: &[u8] = &[0xa0, 0x03, 0x02, 0x01, 0x02];
    const SERIAL: &[u8] = &[0x02, 0x01, 0x01];
    /// ecdsa-with-SHA256 (1.2.840.10045.4.3.2), the same in the certificate and its
    /// signature, as webpki checks; never verified, there being no signature.
    const ALGORITHM: &[u8] = &[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    /// 1970-01-01 to 2049-12-31 (UTCTime): an anchor has no validity of its own.
    const VALIDITY: &[u8] = b"\x30\x1e\x17\x0d700101000000Z\x17\x0d491231235959Z";
    /// A BIT STRING of no bits.
    const NO_SIGNATURE: &[u8] = &[0x03, 0x01, 0x00];
    if anchor.name_constraints.is_some() {
        return None;
    }
    let name = der_sequence(&[anchor.subject.as_ref()])?;
    let key = der_sequence(&[anchor.subject_public_key_info.as_ref()])?;
    let tbs = der_sequence(&[VERSION_3, SERIAL, ALGORITHM, &name, VALIDITY, &name, &key])?;
    let certificate = der_sequence(&[&tbs, ALGORITHM, NO_SIGNATURE])?;
    let same = webpki::anchor_from_trusted_cert(&CertificateDer::from(certificate.as_slice()))
        .is_ok_and(|rebuilt| rebuilt == *anchor);
    same.then_some(certificate)
}

/// A DER SEQUENCE of `parts` (already encoded), or `None` past the 64 KB webpki accepts.
fn der_sequence(parts: &[&[u8]]) -> Option<Vec<u8>> {
    let len = parts.iter().map(|part| part.len()).sum::<usize>();
    let mut der = Vec::with_capacity(len + 4);
    der.push(0x30);
    match len {
        0..=0x7f => der.push(len as u8),
        0x80..=0xff => der.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xffff => der.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
        _ => return None,
    }
    for part in parts {
        der.extend_from_slice(part);
    }
    Some(der)
}

/// Appends `der` to `pem` as one PEM certificate: its base64 on a single line between the
/// markers. RFC 7468 has writers wrap at 64 characters, but this text is read only by the
/// SDK's parser (rustls-pki-types), which takes a line of any length and does a fixed amount
/// of work per line besides its per-byte work: one line per root instead of a dozen or more
/// makes its parse of a system bundle's roots about 11 % cheaper (bench/core/RESULTS.md,
/// `pem_lines`).
fn push_plain_pem(pem: &mut Vec<u8>, der: &[u8]) {
    pem.extend_from_slice(PEM_BEGIN);
    pem.push(b'\n');
    base64_simd::STANDARD.encode_append(der, pem);
    pem.push(b'\n');
    pem.extend_from_slice(PEM_END);
    pem.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    /// A real root (ISRG Root X1) in PEM, as system bundles hold it.
    const ISRG_ROOT_X1: &str = include_str!("../tests/data/isrg-root-x1.pem");

    #[test]
    fn bundle_keeps_usable_roots_and_skips_the_rest() {
        let garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        let text = format!("# comment\n{ISRG_ROOT_X1}\n{garbage}{ISRG_ROOT_X1}");
        let (_, usable) = trusted_roots(text.as_bytes());
        assert_eq!(usable, 2);
        assert_eq!(trusted_roots(garbage.as_bytes()).1, 0);
        assert_eq!(trusted_roots(b"").1, 0);
    }

    #[test]
    fn bundle_text_quirks_are_read_and_the_sdk_gets_plain_pem() {
        use rustls_pki_types::pem::PemObject;
        let expected = CertificateDer::from_pem_slice(ISRG_ROOT_X1.as_bytes()).unwrap();
        // Windows line ends, indented and trailing-space lines: still the same root.
        let quirky = ISRG_ROOT_X1.replace('\n', " \r\n  ");
        assert_eq!(trusted_roots(quirky.as_bytes()).1, 1);
        // A header line, a character outside the alphabet, no end marker: skipped.
        let with_header = ISRG_ROOT_X1.replace("CERTIFICATE-----\n", "CERTIFICATE-----\nProc-Type: 4\n");
        assert_eq!(trusted_roots(with_header.as_bytes()).1, 0);
        assert_eq!(trusted_roots(ISRG_ROOT_X1.replacen('M', "*", 2).as_bytes()).1, 0);
        assert_eq!(
            trusted_roots(ISRG_ROOT_X1.replace("-----END CERTIFICATE-----", "").as_bytes()).1,
            0
        );
        // What the SDK is handed parses, with the SDK's own PEM reader, to certificates of the
        // checked roots' anchors: one text holding every usable root, in the bundle's order,
        // the garbage skipped.
        let garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        let (plain, usable) = trusted_roots_pem(format!("{quirky}{garbage}{ISRG_ROOT_X1}").as_bytes());
        assert_eq!(usable, 2);
        let expected_anchor = webpki::anchor_from_trusted_cert(&expected).unwrap();
        assert_eq!(sdk_anchors(&plain), vec![expected_anchor.clone(), expected_anchor]);
        // Each root on one line between its markers (`push_plain_pem`).
        assert_eq!(
            plain.split(|&b| b == b'\n').filter(|line| !line.is_empty()).count(),
            3 * usable
        );
    }

    /// The trust anchors the SDK makes of `pem`, as it makes them (`rustls_root_certs`).
    fn sdk_anchors(pem: &[u8]) -> Vec<TrustAnchor<'static>> {
        use rustls_pki_types::pem::PemObject;
        CertificateDer::pem_slice_iter(pem)
            .map(|der| webpki::anchor_from_trusted_cert(&der.unwrap()).unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_sdk_gets_smaller_certificates_of_the_same_anchors() {
        use rustls_pki_types::pem::PemObject;
        let original = CertificateDer::from_pem_slice(ISRG_ROOT_X1.as_bytes()).unwrap();
        let anchor = webpki::anchor_from_trusted_cert(&original).unwrap();
        let smallest = anchor_certificate(&anchor).expect("rebuilt");
        assert!(
            smallest.len() < original.len() * 2 / 3,
            "{} of {} bytes",
            smallest.len(),
            original.len()
        );
        let rebuilt = CertificateDer::from(smallest);
        assert_eq!(webpki::anchor_from_trusted_cert(&rebuilt).unwrap(), anchor);
        // Name constraints are not rebuilt: such a root is handed on as it is.
        let constrained = TrustAnchor {
            name_constraints: Some(rustls_pki_types::Der::from_slice(&[0x30, 0x00])),
            ..anchor.clone()
        };
        assert_eq!(anchor_certificate(&constrained), None);
        // The whole system bundle, where this host has one: every root's anchor reaches the
        // SDK unchanged, in order, in fewer bytes (how many fewer depends on the bundle's
        // keys; 60 % of Debian's).
        let Some(system) = openssl_probe::probe().cert_file else {
            return;
        };
        let pem = std::fs::read(system).unwrap();
        let originals: Vec<_> = CertificateDer::pem_slice_iter(&pem)
            .filter_map(|der| {
                webpki::anchor_from_trusted_cert(&der.unwrap())
                    .ok()
                    .map(|a| a.to_owned())
            })
            .collect();
        let (plain, usable) = trusted_roots_pem(&pem);
        assert_eq!(usable, originals.len());
        assert_eq!(sdk_anchors(&plain), originals);
        assert!(plain.len() < pem.len(), "{} of {} bytes", plain.len(), pem.len());
    }

    #[test]
    fn ca_bundle_errors_name_the_variable_and_path() {
        let err = trust_store(&env(&[("AWS_CA_BUNDLE", "/nonexistent/ca.pem")]), None).unwrap_err();
        assert_eq!(err.code(), Code::ConfigInvalid);
        assert!(
            err.to_string()
                .contains("AWS_CA_BUNDLE (/nonexistent/ca.pem): cannot read"),
            "{err}"
        );

        let dir = std::env::temp_dir().join(format!("starfleet-empty-bundle-{}", std::process::id()));
        std::fs::write(&dir, "no certificates here").unwrap();
        let path: &'static str = Box::leak(dir.to_string_lossy().into_owned().into_boxed_str());
        let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([("AWS_CA_BUNDLE", path)]));
        let err = trust_store(&env(vars), None).unwrap_err();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(err.code(), Code::ConfigInvalid);
        assert!(err.to_string().contains("no usable CA certificate"), "{err}");
    }

    #[test]
    fn ssl_cert_file_and_the_profiles_ca_bundle_are_checked_like_aws_ca_bundle() {
        let err = trust_store(&env(&[("SSL_CERT_FILE", "/nonexistent/roots.pem")]), None).unwrap_err();
        assert_eq!(err.code(), Code::ConfigInvalid);
        assert!(
            err.to_string().contains("SSL_CERT_FILE (/nonexistent/roots.pem)"),
            "{err}"
        );
        // With SSL_CERT_DIR too: still checked, not left to an empty store.
        let both = env(&[
            ("SSL_CERT_FILE", "/nonexistent/roots.pem"),
            ("SSL_CERT_DIR", "/etc/ssl/certs"),
        ]);
        assert_eq!(trust_store(&both, None).unwrap_err().code(), Code::ConfigInvalid);
        let profile = ProfileTransport {
            name: "work".into(),
            ca_bundle: Some("/nonexistent/profile.pem".into()),
            ..ProfileTransport::default()
        };
        let err = trust_store(&env(&[]), Some(&profile)).unwrap_err();
        assert!(
            err.to_string()
                .contains("ca_bundle of AWS profile work (/nonexistent/profile.pem)"),
            "{err}"
        );
        // AWS_CA_BUNDLE comes first, as in botocore.
        let err = trust_store(&env(&[("AWS_CA_BUNDLE", "/nonexistent/env.pem")]), Some(&profile)).unwrap_err();
        assert!(err.to_string().contains("AWS_CA_BUNDLE"), "{err}");
    }

    #[test]
    fn proxy_variables_as_botocore_reads_them() {
        assert_eq!(proxy_for(&env(&[]), Scheme::Https), None);
        let both = env(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:1")]);
        assert_eq!(
            proxy_for(&both, Scheme::Https),
            Some(("https_proxy", "http://lower:1".to_owned())),
            "lower case first"
        );
        let bare = env(&[("HTTPS_PROXY", "proxy.internal:3128"), ("HTTP_PROXY", "//p:8080")]);
        assert_eq!(proxy_for(&bare, Scheme::Https).unwrap().1, "http://proxy.internal:3128");
        assert_eq!(proxy_for(&bare, Scheme::Http).unwrap().1, "http://p:8080");
        // ALL_PROXY is not read; HTTP_PROXY is not for https:// URLs.
        let other = env(&[("ALL_PROXY", "http://all:1"), ("HTTP_PROXY", "http://h:1")]);
        assert_eq!(proxy_for(&other, Scheme::Https), None);
        // httpoxy: under CGI, HTTP_PROXY may come from a request header.
        let cgi = env(&[("HTTP_PROXY", "http://h:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(proxy_for(&cgi, Scheme::Http), None);
        assert!(proxy_config(&env(&[]), Scheme::Https).unwrap().is_none());
        let set = env(&[
            ("HTTPS_PROXY", "http://u:p%40ss@proxy:3128"),
            ("NO_PROXY", "*.internal"),
        ]);
        assert!(proxy_config(&set, Scheme::Https).unwrap().is_some());
        let everything = env(&[("HTTPS_PROXY", "http://proxy:3128"), ("no_proxy", "a.example, *")]);
        assert!(proxy_config(&everything, Scheme::Https).unwrap().is_none());
    }

    #[test]
    fn an_unusable_proxy_url_names_the_variable_without_the_password() {
        for bad in [
            "socks5://u:pw-secret@h:1080",
            "http://u:pw-secret@bad host:1",
            "http://u:pw-secret@/",
        ] {
            let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([("HTTPS_PROXY", bad)]));
            let err = proxy_config(&env(vars), Scheme::Https).unwrap_err();
            assert_eq!(err.code(), Code::ConfigInvalid, "{bad}");
            assert!(err.to_string().contains(": HTTPS_PROXY ("), "{err}");
            assert!(!err.to_string().contains("pw-secret"), "{err}");
        }
    }

    #[test]
    fn proxy_passwords_are_hidden() {
        assert_eq!(redacted_proxy("http://u:p@h:1"), "http://u:***@h:1");
        assert_eq!(redacted_proxy("http://u:p:q@h:1/x@y"), "http://u:***@h:1/x@y");
        assert_eq!(redacted_proxy("http://a@b:p@h:1"), "http://a@b:***@h:1");
        assert_eq!(redacted_proxy("http://h:1"), "http://h:1");
        assert_eq!(redacted_proxy("u:p@h:1"), "u:***@h:1");
    }

    #[test]
    fn no_proxy_entries_in_the_forms_users_write() {
        assert_eq!(
            no_proxy_rules(" a.example , .b.example,*.c.example,, 10.0.0.0/8 ,*"),
            "a.example,.b.example,.c.example,10.0.0.0/8,*"
        );
        assert_eq!(
            no_proxy_rules("internal:8443,169.254.169.254:80,[fd00:ec2::254]:80,[::1],fd00::1"),
            "internal,169.254.169.254,fd00:ec2::254,::1,fd00::1"
        );
        assert_eq!(no_proxy_rules(""), "");
    }

    #[test]
    fn pooled_connections_are_dropped_before_a_nat_gateway_forgets_them() {
        // A documented guard: the idle timeout is what keeps a pooled connection from
        // outliving the NAT gateway's flow; the harness test observes it.
        assert!(POOL_IDLE_TIMEOUT < NAT_GATEWAY_IDLE_TIMEOUT);
        assert!(TCP_KEEPALIVE < POOL_IDLE_TIMEOUT);
        assert_eq!(pool_idle_timeout(&env(&[])).unwrap(), POOL_IDLE_TIMEOUT);
        let set = env(&[("STARFLEET_SECRETS_POOL_IDLE_TIMEOUT", "1.5")]);
        assert_eq!(pool_idle_timeout(&set).unwrap(), Duration::from_millis(1_500));
        let err = pool_idle_timeout(&env(&[("STARFLEET_SECRETS_POOL_IDLE_TIMEOUT", "0")])).unwrap_err();
        assert_eq!(err.code(), Code::ConfigInvalid);
        assert!(err.to_string().contains("STARFLEET_SECRETS_POOL_IDLE_TIMEOUT"), "{err}");
    }

    #[test]
    fn clients_build() {
        assert!(http_client(&env(&[])).is_ok());
        let bundle = std::env::temp_dir().join(format!("starfleet-bundle-{}", std::process::id()));
        std::fs::write(&bundle, ISRG_ROOT_X1).unwrap();
        let path: &'static str = Box::leak(bundle.to_string_lossy().into_owned().into_boxed_str());
        let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([("AWS_CA_BUNDLE", path)]));
        let built = https_client(&env(vars));
        std::fs::remove_file(&bundle).unwrap();
        assert!(built.is_ok());
    }
}
