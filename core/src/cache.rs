//! The cache in front of Secrets Manager: lazy load, single-flight, TTL, stale-if-error,
//! backoff, and the counters behind `stats()`.
//!
//! One [`SecretsManager`] holds one entry: one (secret, region, stage or VersionId), chosen by
//! its [`Options`]. The rules, in the order an access meets them:
//!
//! 1. A fresh entry (younger than the TTL; any age with `never`) is returned at once: a hit.
//! 2. Otherwise the access waits for the manager's fetch lock, so concurrent accesses make one
//!    API call between them (single-flight). A waiter that finds an entry fetched after it
//!    started waiting uses it, which also makes TTL `0` single-flight.
//! 3. Within the backoff after a failure, no call is made: the stale entry is served if it is
//!    within the max staleness, else the last error is returned again. This is what stops a
//!    hot loop from hammering the API while it is failing.
//! 4. Otherwise one `GetSecretValue` (in the secret's region, then its fallback regions while
//!    regions fail: [`source::read_with_failover`]). On success a response with the same VersionId keeps the
//!    already-parsed [`Secret`] (same `Arc`, so bindings can keep their converted objects).
//!    On failure the last good value is served while within `TTL + max_stale`
//!    (stale-if-error) and the failure is counted; a first load that fails is an error.
//!
//! `refresh()` skips 1 and 3 (the caller asked for a call) and reports failure as an error,
//! keeping the last good value cached; a refresh that waited while another fetch ended
//! shares that fetch's outcome, so concurrent refreshes make one call and none waits longer
//! than one fetch. `invalidate()` forgets the entry and any backoff, and a fetch already in
//! flight when it ran is not kept (a generation count says so).
//!
//! Settings are resolved outside the state lock (they may read configuration files) and
//! only read under it, so `stats()`, `invalidate()` and hits never wait on file I/O. A host
//! application that holds the Starfleet configuration itself hands it over before each load
//! ([`SecretsManager::use_config`]); when the settings change, the cached value is forgotten.
//!
//! Refresh-ahead (`refresh_ahead`, a fraction of the TTL): an access that finds the entry
//! fresh but older than that fraction is answered from it at once, and starts one background
//! refresh on the library's runtime (never on the caller's thread, never through a caller's
//! fetch). It takes the fetch lock like any fetch, so it is single-flight with them; a failure
//! is recorded as any failed fetch (backoff, `last_error`, stale-if-error once the entry
//! expires) and the entry is kept. So a read that comes at least every fraction × TTL never
//! waits for a fetch after the first load. A manager whose fetches go through a caller's fetch
//! (Python under moto's in-process mock) refreshes on the request path as before.
//!
//! The TTL an entry is fresh for is [`Settings::fresh_for`]: the asked TTL, shortened by this
//! process's share of the fleet expiry jitter ([`crate::jitter`]).
//!
//! A fetch that stores a new VersionId records a change for the `on_change` subscribers
//! ([`crate::notify`]); the public entry points deliver it once the fetch lock is released.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crate::config::ConfigSource;
use crate::document::{Payload, Secret};
use crate::error::{Code, Error, Result};
use crate::notify::{Notifier, Subscription};
use crate::overrides::{OverrideStack, OverrideToken};
use crate::settings::{self, Options, Settings};
use crate::{runtime, source};

/// First pause after a failed fetch; doubles per consecutive failure up to [`MAX_BACKOFF`].
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Slack on top of the SDK's own deadline, so a stuck credential provider cannot hang us.
const DEADLINE_SLACK: Duration = Duration::from_secs(1);

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
}

impl Stats {
    /// The stats as JSON, with the field names every binding exposes: `hits`, `misses`,
    /// `fetches`, `failures`, `stale_served`, `refreshes_ahead`, `last_refresh` (Unix seconds or null),
    /// `version_id`, `last_error` (a code string or null), `testing_overrides`, `region`
    /// (the region that served the cached value, or null), `failovers` and `hedges`.
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
        })
    }
}

struct Entry {
    secret: Arc<Secret>,
    fetched_at: Instant,
    /// The region that served it.
    region: String,
}

struct Failure {
    error: Error,
    /// When the failed fetch ended (a refresh waiting meanwhile shares this outcome).
    at: Instant,
    retry_at: Instant,
    consecutive: u32,
}

#[derive(Default)]
struct State {
    /// Values served in place of AWS (tests of code that uses the library), innermost last.
    overrides: OverrideStack,
    /// The resolved settings; `None` until resolved, and again after a host's configuration
    /// stopped resolving. Resolved outside this lock (it can read files), read under it.
    settings: Option<Arc<Settings>>,
    /// The configuration last handed over by [`SecretsManager::use_config`], which replaces
    /// `options.config` from then on.
    host_config: Option<ConfigSource>,
    entry: Option<Entry>,
    failure: Option<Failure>,
    last_refresh: Option<SystemTime>,
    /// Bumped whenever the outcome of a fetch already in flight must not be kept:
    /// `invalidate()`, and a change of settings (a value fetched for an old location is
    /// never cached for the new one).
    generation: u64,
    /// The `on_change` subscribers; shared with a replaced manager by
    /// [`SecretsManager::adopt_subscribers`].
    notifier: Arc<Notifier>,
    /// Whether the last fetch went through a caller's fetch ([`Fetcher::Caller`]): then the
    /// host intercepts AWS on its own thread, and no background refresh may bypass it.
    caller_fetches: bool,
}

impl State {
    /// Forget the value, the backoff, and whatever a fetch in flight will bring back.
    fn forget(&mut self) {
        self.entry = None;
        self.failure = None;
        self.generation += 1;
    }
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    fetches: AtomicU64,
    failures: AtomicU64,
    stale_served: AtomicU64,
    refreshes_ahead: AtomicU64,
    failovers: AtomicU64,
    hedges: AtomicU64,
}

/// A fetch supplied by the caller in place of `GetSecretValue` (see
/// [`SecretsManager::secret_blocking_with`]).
pub type CallerFetch<'a> = &'a mut (dyn FnMut(&Settings) -> Result<Secret> + Send);

/// Who makes the call of a load.
enum Fetcher<'a> {
    /// `GetSecretValue` through the SDK, on the library's runtime.
    Sdk,
    /// The caller's own fetch, on the caller's thread.
    Caller(CallerFetch<'a>),
}

/// Whether a load counts as an access in [`Stats`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Count {
    /// A caller's access: a hit or a miss, and a stale value served.
    Access,
    /// [`SecretsManager::load_blocking`]: its callers' accesses are counted by
    /// [`SecretsManager::try_secret`].
    Nothing,
}

/// How many times a load starts over because the settings changed during its fetch.
const MAX_SUPERSEDED: u32 = 3;

/// What one fetch brought back, and whether it still answers the current settings.
enum Fetched {
    Done(Result<Arc<Secret>>),
    /// The settings changed while it was in flight: its outcome is for an old location.
    Superseded,
}

/// Reads one secret and keeps it, per the rules in the module doc.
///
/// Everything but the options is shared (`Arc`) with the background refresh-ahead task,
/// which holds a [`share`](Self::share) of the manager while it runs.
pub struct SecretsManager {
    options: Options,
    state: Arc<Mutex<State>>,
    /// The single-flight lock, tagged with the pid that made it: a lock held by a thread
    /// of the parent at `fork()` time would otherwise stay held forever in the child.
    fetch_lock: Arc<Mutex<(u32, Arc<tokio::sync::Mutex<()>>)>>,
    counters: Arc<Counters>,
    /// The pid of the process whose background refresh is in flight, 0 when none (a child
    /// after `fork()` has none: the parent's task did not come along).
    ahead_in_flight: Arc<AtomicU32>,
}

impl std::fmt::Debug for SecretsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock_state();
        f.debug_struct("SecretsManager")
            .field("settings", &state.settings)
            .field("cached", &state.entry.as_ref().map(|e| &e.secret))
            .finish()
    }
}

impl SecretsManager {
    /// A manager for the secret `options` point at. Nothing is resolved or fetched yet.
    pub fn new(options: Options) -> SecretsManager {
        SecretsManager {
            options,
            state: Arc::default(),
            fetch_lock: Arc::new(Mutex::new((std::process::id(), Arc::default()))),
            counters: Arc::default(),
            ahead_in_flight: Arc::default(),
        }
    }

    /// Another handle on this manager's state, for the background refresh task.
    fn share(&self) -> SecretsManager {
        SecretsManager {
            options: self.options.clone(),
            state: self.state.clone(),
            fetch_lock: self.fetch_lock.clone(),
            counters: self.counters.clone(),
            ahead_in_flight: self.ahead_in_flight.clone(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The resolved settings (location, TTL, ...). Resolved on first use from the process
    /// environment and the configuration, outside the state lock (it may read files); an
    /// error is not remembered, so fixing the environment fixes the manager.
    pub fn settings(&self) -> Result<Arc<Settings>> {
        let host_config = {
            let state = self.lock_state();
            if let Some(s) = &state.settings {
                return Ok(s.clone());
            }
            state.host_config.clone()
        };
        let options = self.options_with(host_config);
        let resolved = Arc::new(settings::resolve(&options, &settings::process_env)?);
        Ok(self.lock_state().settings.get_or_insert(resolved).clone())
    }

    /// Take the Starfleet configuration from the host application (an already-loaded mapping,
    /// or what a host's callable returned): bindings call this before every load (first
    /// access, refresh, the access after `invalidate()`), so a host whose configuration changes
    /// is followed. From then on `config` replaces `options.config`.
    ///
    /// The settings are resolved again (outside the state lock: a path is read from disk).
    /// When they differ from the current ones, the cached value, the failure backoff and the
    /// outcome of any fetch in flight are forgotten, so a value fetched for an old location is
    /// never served for the new one; the same happens when they no longer resolve, and the
    /// error is returned. Returns whether the settings were replaced.
    pub fn use_config(&self, config: ConfigSource) -> Result<bool> {
        let resolved = settings::resolve(&self.options_with(Some(config.clone())), &settings::process_env);
        let mut state = self.lock_state();
        state.host_config = Some(config);
        match resolved {
            Ok(new) if state.settings.as_deref() == Some(&new) => Ok(false),
            Ok(new) => {
                state.settings = Some(Arc::new(new));
                state.forget();
                Ok(true)
            }
            Err(error) => {
                state.settings = None;
                state.forget();
                Err(error)
            }
        }
    }

    fn options_with(&self, host_config: Option<ConfigSource>) -> Options {
        match host_config {
            Some(config) => Options {
                config: Some(config),
                ..self.options.clone()
            },
            None => self.options.clone(),
        }
    }

    /// The secret, from the cache or fetched (see the module doc).
    pub async fn secret(&self) -> Result<Arc<Secret>> {
        // A hit stores nothing, so it has no change to hand over: answered here, it costs
        // what it cost before `on_change` (Node's warm reads come this way).
        if let Some(secret) = self.try_hit() {
            return Ok(secret);
        }
        let result = self.access(&mut Fetcher::Sdk, Count::Access).await;
        self.notifier().dispatch();
        result
    }

    /// Fetch now, whatever the cache holds. Concurrent refreshes share one call, so none
    /// waits longer than one fetch. On failure the error is returned and the last good value
    /// stays cached.
    pub async fn refresh(&self) -> Result<Arc<Secret>> {
        let result = self.force(&mut Fetcher::Sdk).await;
        self.notifier().dispatch();
        result
    }

    /// Call `callback(old VersionId or None, new VersionId)` after each fetch that stores a
    /// new VersionId, until the returned [`Subscription`] is cancelled. When and on which
    /// thread: see [`crate::notify`] (blocking calls run it on their own thread before they
    /// return, async ones on the library's notification thread). Testing overrides never
    /// notify.
    pub fn on_change(&self, callback: impl Fn(Option<&str>, &str) + Send + Sync + 'static) -> Subscription {
        self.notifier().subscribe(Box::new(callback))
    }

    /// Share `from`'s `on_change` subscribers and its last VersionId: a binding that replaces
    /// its manager on reconfiguration keeps its subscribers, and a new secret is a change.
    pub fn adopt_subscribers(&self, from: &SecretsManager) {
        let notifier = from.notifier();
        self.lock_state().notifier = notifier;
    }

    fn notifier(&self) -> Arc<Notifier> {
        self.lock_state().notifier.clone()
    }

    async fn access(&self, fetcher: &mut Fetcher<'_>, count: Count) -> Result<Arc<Secret>> {
        let started = Instant::now();
        if let Some(secret) = self.hit(started) {
            if count == Count::Access {
                self.counters.hits.fetch_add(1, Relaxed);
            }
            return Ok(secret);
        }
        self.settings()?;
        if count == Count::Access {
            self.counters.misses.fetch_add(1, Relaxed);
        }
        // A load answers no caller: it serves (and counts) no stale value either.
        let stale_or = |state: &State, settings: &Settings, now, error| match count {
            Count::Access => self.stale_or(state, settings, now, error),
            Count::Nothing => Err(error),
        };
        let lock = self.fetch_lock();
        let _flight = lock.lock().await;
        for _ in 0..MAX_SUPERSEDED {
            let settings = self.settings()?;
            {
                let state = self.lock_state();
                if let Some(pinned) = state.overrides.innermost() {
                    return Ok(pinned.clone());
                }
                let now = Instant::now();
                if let Some(e) = &state.entry {
                    if e.fetched_at >= started || is_fresh(e, &settings, now) {
                        return Ok(e.secret.clone());
                    }
                }
                if let Some(f) = state.failure.as_ref().filter(|f| now < f.retry_at) {
                    let error = f.error.clone();
                    return stale_or(&state, &settings, now, error);
                }
            }
            if let Fetched::Done(result) = self.fetch(&settings, fetcher).await {
                return result.or_else(|error| {
                    let state = self.lock_state();
                    stale_or(&state, &settings, Instant::now(), error)
                });
            }
        }
        Err(superseded())
    }

    async fn force(&self, fetcher: &mut Fetcher<'_>) -> Result<Arc<Secret>> {
        if let Some(pinned) = self.lock_state().overrides.innermost().cloned() {
            return Ok(pinned);
        }
        self.settings()?;
        let started = Instant::now();
        let lock = self.fetch_lock();
        let _flight = lock.lock().await;
        {
            // A fetch that ended while this call waited for the lock was in flight when it was
            // made, or started after: its outcome answers this call too. This is what makes
            // concurrent refreshes share one call instead of queueing one each.
            let state = self.lock_state();
            if let Some(e) = state.entry.as_ref().filter(|e| e.fetched_at >= started) {
                return Ok(e.secret.clone());
            }
            if let Some(f) = state.failure.as_ref().filter(|f| f.at >= started) {
                return Err(f.error.clone());
            }
        }
        for _ in 0..MAX_SUPERSEDED {
            let settings = self.settings()?;
            if let Fetched::Done(result) = self.fetch(&settings, fetcher).await {
                return result;
            }
        }
        Err(superseded())
    }

    /// The cached value if it is fresh. Never does I/O.
    pub fn cached(&self) -> Option<Arc<Secret>> {
        let found = self.hit(Instant::now());
        let counter = if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// What an access would answer right now without waiting for a fetch: a hit (counted as
    /// one), a settings error, or, while a failed fetch's backoff runs, the stale value or that
    /// failure (counted as a miss, as [`secret`](Self::secret) counts it). `None`, counted as
    /// nothing, when the answer needs a fetch ([`load_blocking`](Self::load_blocking)). Resolves the settings on first use (reads the
    /// configuration file, never the network).
    ///
    /// This is how a binding whose waiting callers must not each hold an OS thread (Go: a
    /// goroutine blocked in a C call pins a thread) answers everything but the fetch itself:
    /// it runs one blocking load per manager and its other callers ask again when it ends,
    /// passing `since` (when they first asked): an entry fetched since then answers them
    /// even if the TTL says it is not fresh, as [`secret`](Self::secret) answers its waiters
    /// (TTL 0 would otherwise never answer).
    pub fn try_secret(&self, since: Option<Instant>) -> Option<Result<Arc<Secret>>> {
        let settings = match self.settings() {
            Ok(settings) => settings,
            Err(error) => return Some(Err(error)),
        };
        // A caller asking again after a load (`since` set) found no fresh value at first: its
        // access is a miss, whatever answers it now.
        let counter = match since {
            None => &self.counters.hits,
            Some(_) => &self.counters.misses,
        };
        let now = Instant::now();
        let state = self.lock_state();
        let found = state.overrides.innermost().cloned().or_else(|| {
            let e = state.entry.as_ref()?;
            if is_fresh(e, &settings, now) {
                self.maybe_refresh_ahead(&state, &settings, now);
            } else if since.is_none_or(|s| e.fetched_at < s) {
                return None;
            }
            Some(e.secret.clone())
        });
        if let Some(secret) = found {
            counter.fetch_add(1, Relaxed);
            return Some(Ok(secret));
        }
        let failure = state.failure.as_ref().filter(|f| now < f.retry_at)?;
        self.counters.misses.fetch_add(1, Relaxed);
        Some(self.stale_or(&state, &settings, now, failure.error.clone()))
    }

    /// The value an access would get right now without waiting (the innermost testing override
    /// or a fresh entry), counted as a hit; `None`, counted as nothing, otherwise. Never does I/O.
    ///
    /// This is a binding's fast path: a caller holding an interpreter lock can answer a hit
    /// without releasing it, and on `None` call [`secret`](Self::secret) (which counts the
    /// access itself) without the access being counted twice, as it would be with
    /// [`cached`](Self::cached).
    pub fn try_hit(&self) -> Option<Arc<Secret>> {
        let found = self.hit(Instant::now());
        if found.is_some() {
            self.counters.hits.fetch_add(1, Relaxed);
        }
        found
    }

    /// Until when `secret` (a value this manager returned) is answered as a hit: `Some(None)`
    /// while it is the innermost testing override or the TTL is `never`, `Some(Some(t))` while it is the cached entry
    /// and fresh until `t`, `None` otherwise (replaced, invalidated, or no longer fresh).
    /// With refresh-ahead on, `t` is when the entry is due for its background refresh, so the
    /// binding's next access after it comes here and starts it. Never does I/O and counts nothing.
    ///
    /// With [`record_hit`](Self::record_hit) this lets a binding keep the object it converted
    /// `secret` into and answer hits from it, comparing the clock with the instant the cache
    /// computed, without locking the cache on every access. The binding must ask again after
    /// anything it does that replaces the value (`refresh`, `invalidate`, the override calls,
    /// `use_config`).
    pub fn fresh_until(&self, secret: &Arc<Secret>) -> Option<Option<Instant>> {
        let state = self.lock_state();
        if let Some(pinned) = state.overrides.innermost() {
            return Arc::ptr_eq(pinned, secret).then_some(None);
        }
        let settings = state.settings.as_ref()?;
        let entry = state.entry.as_ref().filter(|e| Arc::ptr_eq(&e.secret, secret))?;
        let ahead = settings.refresh_ahead_after().filter(|_| !state.caller_fetches);
        match ahead.or(settings.fresh_for()) {
            None => Some(None),
            Some(fresh_for) => {
                let until = entry.fetched_at.checked_add(fresh_for)?;
                (Instant::now() < until).then_some(Some(until))
            }
        }
    }

    /// Whether `secret` is what this manager holds now (the innermost testing override, or the cached entry, fresh or
    /// not). Never does I/O and counts nothing.
    pub fn holds(&self, secret: &Arc<Secret>) -> bool {
        let state = self.lock_state();
        match state.overrides.innermost() {
            Some(pinned) => Arc::ptr_eq(pinned, secret),
            None => state.entry.as_ref().is_some_and(|e| Arc::ptr_eq(&e.secret, secret)),
        }
    }

    /// Count a hit that the caller answered itself from a value
    /// [`fresh_until`](Self::fresh_until) vouched for, so `stats()` stays exact.
    pub fn record_hit(&self) {
        self.counters.hits.fetch_add(1, Relaxed);
    }

    /// Forget the cached value and any failure backoff; the next access fetches. A fetch
    /// already in flight still answers its callers, but its outcome is not kept.
    pub fn invalidate(&self) {
        self.lock_state().forget();
    }

    /// Serve `payload` in place of AWS until the override is undone (see [`crate::overrides`]):
    /// no location is resolved and no call is made, and the cached entry is left as it is.
    /// Overrides nest; the innermost is served. This is what the bindings' testing helpers
    /// use, so a worker's unit tests never touch the network or the library's internals.
    pub fn push_override(&self, payload: Payload) -> OverrideToken {
        let id = self.options.secret_id.as_deref();
        self.lock_state().overrides.push(id, payload, true)
    }

    /// As [`push_override`](Self::push_override), for a value whose lifetime is not a block
    /// (Python's Starfleet `_secrets` attribute): taken out by
    /// [`remove_override`](Self::remove_override), wherever it is; undoing a block pushed
    /// before it leaves it in force.
    pub fn assign_override(&self, payload: Payload) -> OverrideToken {
        let id = self.options.secret_id.as_deref();
        self.lock_state().overrides.push(id, payload, false)
    }

    /// Undo the override `token` names, which must be the innermost one pushed (else
    /// `INVALID_ARGUMENT`, and nothing changes): the one below is served again, or the cache.
    /// Assigned overrides above it stay in force.
    pub fn pop_override(&self, token: OverrideToken) -> Result<()> {
        self.lock_state().overrides.pop(token)
    }

    /// Undo the innermost override (`INVALID_ARGUMENT` when none is in force).
    pub fn pop_innermost_override(&self) -> Result<()> {
        self.lock_state().overrides.pop_innermost()
    }

    /// Take out the override `token` names wherever it is, the others staying in force: for
    /// an [assigned](Self::assign_override) one.
    pub fn remove_override(&self, token: OverrideToken) -> Result<()> {
        self.lock_state().overrides.remove(token)
    }

    /// Serve `payload` for the override `token` names from now on, at the same depth.
    pub fn replace_override(&self, token: OverrideToken, payload: Payload) -> Result<()> {
        let id = self.options.secret_id.as_deref();
        self.lock_state().overrides.replace(token, id, payload)
    }

    /// Whether `token` names the innermost override, the one served now.
    pub fn is_innermost_override(&self, token: OverrideToken) -> bool {
        self.lock_state().overrides.innermost_token() == Some(token)
    }

    /// How many overrides are in force (`testing_overrides` in [`Stats`]).
    pub fn override_depth(&self) -> usize {
        self.lock_state().overrides.depth()
    }

    /// Keep serving `from`'s overrides (same tokens): a binding that replaces its manager on
    /// reconfiguration keeps the tests' overrides in force.
    pub fn adopt_overrides(&self, from: &SecretsManager) {
        let stack = from.lock_state().overrides.clone();
        self.lock_state().overrides = stack;
    }

    pub fn stats(&self) -> Stats {
        let state = self.lock_state();
        let c = &self.counters;
        Stats {
            hits: c.hits.load(Relaxed),
            misses: c.misses.load(Relaxed),
            fetches: c.fetches.load(Relaxed),
            failures: c.failures.load(Relaxed),
            stale_served: c.stale_served.load(Relaxed),
            refreshes_ahead: c.refreshes_ahead.load(Relaxed),
            last_refresh: state.last_refresh,
            version_id: state
                .entry
                .as_ref()
                .and_then(|e| e.secret.version_id().map(str::to_owned)),
            last_error: state.failure.as_ref().map(|f| f.error.code()),
            testing_overrides: state.overrides.depth(),
            region: state.entry.as_ref().map(|e| e.region.clone()),
            failovers: c.failovers.load(Relaxed),
            hedges: c.hedges.load(Relaxed),
        }
    }

    /// [`secret`](Self::secret) for callers on a plain thread (Python, C, Go).
    pub fn secret_blocking(&self) -> Result<Arc<Secret>> {
        // The hit path needs no runtime: answer it here, and pay for block_on only on a miss.
        if let Some(secret) = self.try_hit() {
            return Ok(secret);
        }
        self.delivered(runtime::block_on(self.access(&mut Fetcher::Sdk, Count::Access)))
    }

    /// Bring the secret into the cache unless it is fresh there, sharing a fetch in flight,
    /// blocking the calling thread; counts nothing in [`Stats`]. For a binding that answers
    /// its callers with [`try_secret`](Self::try_secret) (which counts each access once) and
    /// runs one load for all of them. The error is the fetch's, never a stale value.
    pub fn load_blocking(&self) -> Result<()> {
        self.delivered(runtime::block_on(self.access(&mut Fetcher::Sdk, Count::Nothing)))
            .map(drop)
    }

    /// [`refresh`](Self::refresh) for callers on a plain thread.
    pub fn refresh_blocking(&self) -> Result<Arc<Secret>> {
        self.delivered(runtime::block_on(self.force(&mut Fetcher::Sdk)))
    }

    /// A blocking call's result, after running the `on_change` subscribers for what it stored
    /// on this (caller's) thread, outside every lock of the cache.
    fn delivered<T>(&self, result: Result<T>) -> Result<T> {
        self.notifier().deliver();
        result
    }

    /// [`secret_blocking`](Self::secret_blocking) with `fetch` making the call in place of
    /// `GetSecretValue`: run on the calling thread, under the fetch lock, with the resolved
    /// settings. Everything else is this cache's: hits, single-flight, TTL, stale-if-error,
    /// backoff, `stats()`.
    ///
    /// For hosts whose tests intercept AWS inside their own runtime (Python's moto mock
    /// patches botocore in-process), so their code must run on their own thread, never on
    /// the library's runtime.
    pub fn secret_blocking_with(&self, fetch: CallerFetch<'_>) -> Result<Arc<Secret>> {
        if let Some(secret) = self.try_hit() {
            return Ok(secret);
        }
        self.delivered(runtime::block_on(
            self.access(&mut Fetcher::Caller(fetch), Count::Access),
        ))
    }

    /// [`refresh_blocking`](Self::refresh_blocking) with a caller-supplied fetch, as
    /// [`secret_blocking_with`](Self::secret_blocking_with).
    pub fn refresh_blocking_with(&self, fetch: CallerFetch<'_>) -> Result<Arc<Secret>> {
        self.delivered(runtime::block_on(self.force(&mut Fetcher::Caller(fetch))))
    }

    /// The hot path: the innermost testing override, or a fresh entry, under one lock. No I/O: unresolved
    /// settings are a miss (the caller resolves them outside the lock).
    fn hit(&self, now: Instant) -> Option<Arc<Secret>> {
        let state = self.lock_state();
        if let Some(pinned) = state.overrides.innermost() {
            return Some(pinned.clone());
        }
        let settings = state.settings.as_ref()?;
        let e = state.entry.as_ref().filter(|e| is_fresh(e, settings, now))?;
        self.maybe_refresh_ahead(&state, settings, now);
        Some(e.secret.clone())
    }

    /// Start the background refresh if the fresh entry is due for one (see the module doc):
    /// refresh-ahead on, the entry past its age, none in flight, no failure backoff running,
    /// fetches not through a caller's fetch. Called by the hit paths under the state lock;
    /// only spawns.
    fn maybe_refresh_ahead(&self, state: &State, settings: &Arc<Settings>, now: Instant) {
        let (Some(after), Some(e)) = (settings.refresh_ahead_after(), &state.entry) else {
            return;
        };
        if now.saturating_duration_since(e.fetched_at) < after
            || state.caller_fetches
            || state.failure.as_ref().is_some_and(|f| now < f.retry_at)
        {
            return;
        }
        let pid = std::process::id();
        if self.ahead_in_flight.swap(pid, Relaxed) == pid {
            return; // one is in flight already
        }
        let share = self.share();
        let settings = settings.clone();
        let spawned = runtime::spawn(async move {
            share.refresh_ahead(settings).await;
            share.ahead_in_flight.store(0, Relaxed);
            share.notifier().dispatch();
        });
        if let Err(error) = spawned {
            self.ahead_in_flight.store(0, Relaxed);
            log::warn!("cannot refresh ahead: {error}");
        }
    }

    /// The background refresh: one fetch under the fetch lock, unless what it was started
    /// for no longer holds once it has the lock (another fetch ran, the entry was invalidated,
    /// the settings changed, an override is in force, a failure's backoff runs). Its outcome
    /// is recorded as any fetch's; it answers no caller.
    async fn refresh_ahead(&self, settings: Arc<Settings>) {
        let started = Instant::now();
        let lock = self.fetch_lock();
        let _flight = lock.lock().await;
        {
            let state = self.lock_state();
            let now = Instant::now();
            let wanted = state.overrides.innermost().is_none()
                && state.settings.as_ref().is_some_and(|s| Arc::ptr_eq(s, &settings))
                && state.entry.as_ref().is_some_and(|e| e.fetched_at < started)
                && state.failure.as_ref().is_none_or(|f| now >= f.retry_at);
            if !wanted {
                return;
            }
        }
        self.counters.refreshes_ahead.fetch_add(1, Relaxed);
        if let Fetched::Done(Ok(secret)) = self.fetch(&settings, &mut Fetcher::Sdk).await {
            log::debug!(
                "refreshed secret {} ahead of expiry (version {})",
                settings.location.secret_id,
                secret.version_id().unwrap_or("?")
            );
        }
    }

    /// One call, with the outcome recorded unless something made it unwanted meanwhile.
    /// Caller holds the fetch lock.
    async fn fetch(&self, settings: &Arc<Settings>, fetcher: &mut Fetcher<'_>) -> Fetched {
        let generation = {
            let mut state = self.lock_state();
            state.caller_fetches = matches!(fetcher, Fetcher::Caller(_));
            state.generation
        };
        self.counters.fetches.fetch_add(1, Relaxed);
        let outcome = match fetcher {
            Fetcher::Sdk => fetch_on_runtime((**settings).clone()).await,
            Fetcher::Caller(fetch) => {
                source::read_with_failover(settings, |regional, _share| std::future::ready(fetch(&regional))).await
            }
        };
        self.counters.failovers.fetch_add(u64::from(outcome.failovers), Relaxed);
        self.counters.hedges.fetch_add(u64::from(outcome.hedges), Relaxed);
        let result = outcome.result;
        let mut state = self.lock_state();
        let now = Instant::now();
        if result.is_err() {
            self.counters.failures.fetch_add(1, Relaxed);
        }
        if state.generation != generation {
            if !state.settings.as_ref().is_some_and(|s| Arc::ptr_eq(s, settings)) {
                log::debug!(
                    "settings changed while secret {} was fetched; fetching again",
                    settings.location.secret_id
                );
                return Fetched::Superseded;
            }
            // invalidate() ran meanwhile: this outcome may predate what it asked to forget.
            // It answers the callers that were waiting for it, and is not kept.
            return Fetched::Done(result.map(|served| Arc::new(served.secret)));
        }
        match result {
            Ok(source::Served { secret, region }) => {
                let unchanged = state
                    .entry
                    .as_ref()
                    .filter(|e| e.secret.version_id().is_some() && e.secret.version_id() == secret.version_id());
                let secret = match unchanged {
                    Some(e) => e.secret.clone(), // the new copy is dropped (and zeroized) here
                    None => Arc::new(secret),
                };
                log::debug!(
                    "fetched secret {} version {}",
                    settings.location.secret_id,
                    secret.version_id().unwrap_or("?")
                );
                state.entry = Some(Entry {
                    secret: secret.clone(),
                    fetched_at: now,
                    region,
                });
                state.failure = None;
                state.last_refresh = Some(SystemTime::now());
                state.notifier.stored(secret.version_id());
                Fetched::Done(Ok(secret))
            }
            Err(error) => {
                let consecutive = state.failure.as_ref().map_or(1, |f| f.consecutive + 1);
                let backoff = INITIAL_BACKOFF
                    .saturating_mul(1 << (consecutive - 1).min(16))
                    .min(MAX_BACKOFF);
                log::warn!("{error} (next attempt in {}s)", backoff.as_secs_f64());
                state.failure = Some(Failure {
                    error: error.clone(),
                    at: now,
                    retry_at: now + backoff,
                    consecutive,
                });
                Fetched::Done(Err(error))
            }
        }
    }

    /// The stale entry if stale-if-error allows it at `now`, else `error`.
    fn stale_or(&self, state: &State, settings: &Settings, now: Instant, error: Error) -> Result<Arc<Secret>> {
        match &state.entry {
            Some(e) if may_serve_stale(e, settings, now) => {
                self.counters.stale_served.fetch_add(1, Relaxed);
                log::warn!(
                    "serving the cached version of secret {} after a failed refresh ({})",
                    settings.location.secret_id,
                    error.code()
                );
                Ok(e.secret.clone())
            }
            _ => Err(error),
        }
    }

    fn fetch_lock(&self) -> Arc<tokio::sync::Mutex<()>> {
        let mut slot = self.fetch_lock.lock().unwrap_or_else(|p| p.into_inner());
        let pid = std::process::id();
        if slot.0 != pid {
            *slot = (pid, Arc::default());
        }
        slot.1.clone()
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // No code panics while holding it, and the state is valid between statements anyway.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn superseded() -> Error {
    Error::new(
        Code::ConfigInvalid,
        format!("the configuration changed during each of {MAX_SUPERSEDED} fetches in a row; nothing was served"),
    )
}

/// Fetch on the library's own runtime, through the fallback regions when the secret's region
/// fails ([`source::fetch_with_failover`]), under a hard deadline.
///
/// SDK clients are shared across calls and their pooled connections belong to the runtime
/// they were made on, so fetches always run there, whichever runtime (or none) the caller
/// awaits from. The deadline is the SDK's own plus slack, so even a stuck credential
/// provider cannot hang the caller.
async fn fetch_on_runtime(settings: Settings) -> source::Outcome {
    let deadline = settings.timeout + DEADLINE_SLACK;
    let what = format!("secret {} in {}", settings.location.secret_id, settings.location.region);
    on_runtime(&what, deadline, async move {
        Ok(source::fetch_with_failover(&settings).await)
    })
    .await
    .unwrap_or_else(|error| source::Outcome {
        result: Err(error),
        failovers: 0,
        hedges: 0,
    })
}

/// Run `task` on the library's runtime, giving up after `deadline`.
///
/// A task that panics is INTERNAL with a fixed message: the panic's own text is never
/// passed on, because it can quote anything the panicking code had in hand, and this
/// message reaches Python and Node exceptions.
async fn on_runtime<T: Send + 'static>(
    what: &str,
    deadline: Duration,
    task: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    let task = runtime::spawn(async move { tokio::time::timeout(deadline, task).await })?;
    match task.await {
        Ok(Ok(result)) => result,
        Ok(Err(_elapsed)) => Err(Error::new(
            Code::Timeout,
            format!("{what}: no answer within {}s", deadline.as_secs_f64()),
        )),
        Err(join) => Err(Error::new(
            Code::Internal,
            format!(
                "{what}: the fetch task {} (a bug in starfleet-secrets)",
                if join.is_panic() { "panicked" } else { "was cancelled" }
            ),
        )),
    }
}

fn is_fresh(e: &Entry, settings: &Settings, now: Instant) -> bool {
    match settings.fresh_for() {
        None => true,
        Some(fresh_for) => now.saturating_duration_since(e.fetched_at) < fresh_for,
    }
}

fn may_serve_stale(e: &Entry, settings: &Settings, now: Instant) -> bool {
    if settings.max_stale.is_zero() {
        return false;
    }
    match settings.fresh_for() {
        None => true,
        Some(fresh_for) => now.saturating_duration_since(e.fetched_at) <= fresh_for + settings.max_stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_task_is_internal_without_its_text() {
        let e = runtime::block_on(on_runtime::<()>(
            "secret S in us-east-2",
            Duration::from_secs(5),
            async { panic!("s3cr3t-value-in-panic") },
        ))
        .unwrap_err();
        assert_eq!(e.code(), Code::Internal);
        assert!(!e.message().contains("s3cr3t"), "{e}");
        assert!(
            e.message().contains("panicked") && e.message().contains("secret S"),
            "{e}"
        );
    }
}
