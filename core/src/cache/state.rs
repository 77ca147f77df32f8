//! What the cache holds: the entry, the last failure, the counters, and the [`Stats`]
//! snapshot taken from them. Only data and the two age rules (fresh, may serve stale); the
//! transitions are in `fetch.rs` and `fast_path.rs`.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::config::ConfigSource;
use crate::document::Secret;
use crate::error::{Code, Error};
use crate::notify::Notifier;
use crate::overrides::OverrideStack;
use crate::settings::Settings;

/// A snapshot of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Accesses answered from a fresh entry without waiting.
    pub hits: u64,
    /// Accesses that found no fresh entry (they fetched, waited for a fetch, or were
    /// answered from the backoff state).
    pub misses: u64,
    /// `GetSecretValue` calls made (successful or not).
    pub fetches: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Accesses answered with a stale value because refreshing failed.
    pub stale_served: u64,
    /// Background refreshes made by refresh-ahead (successful or not; also in `fetches`).
    pub refreshes_ahead: u64,
    /// Wall-clock time of the last successful fetch.
    pub last_refresh: Option<SystemTime>,
    /// VersionId of the cached value.
    pub version_id: Option<String>,
    /// Code of the last failure, cleared by the next success.
    pub last_error: Option<Code>,
    /// How many testing overrides are in force (see [`crate::overrides`]).
    pub testing_overrides: usize,
    /// The region that served the cached value (a fallback region after a failover).
    pub region: Option<String>,
    /// How many times a fetch moved on from a failing region to the next one.
    pub failovers: u64,
    /// How many reads were sent again on a new connection after a reused one stayed silent
    /// (see [`crate::hedge`]).
    pub hedges: u64,
    /// How many times a fallback region answered with an older version than the cached one
    /// (a replica that replication had not reached): never stored, never a change; the read
    /// went on as if that region had failed ([`source::read_with_failover`]).
    pub older_replica_answers: u64,
}

impl Stats {
    /// The stats as JSON, with the field names every binding exposes: `hits`, `misses`,
    /// `fetches`, `failures`, `stale_served`, `refreshes_ahead`, `last_refresh` (Unix seconds or null),
    /// `version_id`, `last_error` (a code string or null), `testing_overrides`, `region`
    /// (the region that served the cached value, or null), `failovers`,
    /// `older_replica_answers` and `hedges`.
    pub fn to_json(&self) -> serde_json::Value {
        let last_refresh = self
            .last_refresh
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64());
        serde_json::json!({
            "hits": self.hits,
            "misses": self.misses,
            "fetches": self.fetches,
            "failures": self.failures,
            "stale_served": self.stale_served,
            "refreshes_ahead": self.refreshes_ahead,
            "last_refresh": last_refresh,
            "version_id": self.version_id,
            "last_error": self.last_error.map(Code::as_str),
            "testing_overrides": self.testing_overrides,
            "region": self.region,
            "failovers": self.failovers,
            "hedges": self.hedges,
            "older_replica_answers": self.older_replica_answers,
        })
    }
}

pub(super) struct Entry {
    pub(super) secret: Arc<Secret>,
    pub(super) fetched_at: Instant,
    /// The region that served it (empty for a mounted source).
    pub(super) region: String,
    /// A mounted file's stamp when it was read: a refresh rereads it only if it changed.
    pub(super) stamp: Option<crate::mounted::Stamp>,
}

pub(super) struct Failure {
    pub(super) error: Error,
    /// When the failed fetch ended (a refresh waiting meanwhile shares this outcome).
    pub(super) at: Instant,
    pub(super) retry_at: Instant,
    pub(super) consecutive: u32,
}

#[derive(Default)]
pub(super) struct State {
    /// Values served in place of AWS (tests of code that uses the library), innermost last.
    pub(super) overrides: OverrideStack,
    /// The resolved settings; `None` until resolved, and again after a host's configuration
    /// stopped resolving. Resolved outside this lock (it can read files), read under it.
    pub(super) settings: Option<Arc<Settings>>,
    /// The configuration last handed over by [`super::SecretsManager::use_config`], which replaces
    /// `options.config` from then on.
    pub(super) host_config: Option<ConfigSource>,
    pub(super) entry: Option<Entry>,
    pub(super) failure: Option<Failure>,
    pub(super) last_refresh: Option<SystemTime>,
    /// Bumped whenever the outcome of a fetch already in flight must not be kept:
    /// `invalidate()`, and a change of settings (a value fetched for an old location is
    /// never cached for the new one).
    pub(super) generation: u64,
    /// The `on_change` subscribers; handed to the manager that replaces this one by
    /// [`super::SecretsManager::reconfigure`].
    pub(super) notifier: Arc<Notifier>,
    /// This manager's generation in `notifier`: once a reconfiguration handed the
    /// subscribers on, what this manager still stores notifies nothing.
    pub(super) notify_generation: u64,
    /// Whether the last fetch went through a caller's fetch (`Fetcher::Caller`): then the
    /// host intercepts AWS on its own thread, and no background refresh may bypass it.
    pub(super) caller_fetches: bool,
}

impl State {
    /// Forget the value, the backoff, and whatever a fetch in flight will bring back.
    pub(super) fn forget(&mut self) {
        self.entry = None;
        self.failure = None;
        self.generation += 1;
    }
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
    pub(super) fetches: AtomicU64,
    pub(super) failures: AtomicU64,
    pub(super) stale_served: AtomicU64,
    pub(super) refreshes_ahead: AtomicU64,
    pub(super) failovers: AtomicU64,
    pub(super) hedges: AtomicU64,
    pub(super) older_replica_answers: AtomicU64,
}

pub(super) fn is_fresh(e: &Entry, settings: &Settings, now: Instant) -> bool {
    match settings.fresh_for() {
        None => true,
        Some(fresh_for) => now.saturating_duration_since(e.fetched_at) < fresh_for,
    }
}

pub(super) fn may_serve_stale(e: &Entry, settings: &Settings, now: Instant) -> bool {
    if settings.max_stale.is_zero() {
        return false;
    }
    match settings.fresh_for() {
        None => true,
        Some(fresh_for) => now.saturating_duration_since(e.fetched_at) <= fresh_for + settings.max_stale,
    }
}
