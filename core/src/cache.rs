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
//! 4. Otherwise one `GetSecretValue`. On success a response with the same VersionId keeps the
//!    already-parsed [`Secret`] (same `Arc`, so bindings can keep their converted objects).
//!    On failure the last good value is served while within `TTL + max_stale`
//!    (stale-if-error) and the failure is counted; a first load that fails is an error.
//!
//! `refresh()` skips 1 and 3 (the caller asked for a call) and reports failure as an error,
//! keeping the last good value cached. `invalidate()` forgets the entry and any backoff.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::document::Secret;
use crate::error::{Code, Error, Result};
use crate::settings::{self, Options, Settings, Ttl};
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
    /// Wall-clock time of the last successful fetch.
    pub last_refresh: Option<SystemTime>,
    /// VersionId of the cached value.
    pub version_id: Option<String>,
    /// Code of the last failure, cleared by the next success.
    pub last_error: Option<Code>,
}

impl Stats {
    /// The stats as JSON, with the field names every binding exposes: `hits`, `misses`,
    /// `fetches`, `failures`, `stale_served`, `last_refresh` (Unix seconds or null),
    /// `version_id` and `last_error` (a code string or null).
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
            "last_refresh": last_refresh,
            "version_id": self.version_id,
            "last_error": self.last_error.map(Code::as_str),
        })
    }
}

struct Entry {
    secret: Arc<Secret>,
    fetched_at: Instant,
}

struct Failure {
    error: Error,
    retry_at: Instant,
    consecutive: u32,
}

#[derive(Default)]
struct State {
    /// A value served in place of AWS (tests of code that uses the library).
    pinned: Option<Arc<Secret>>,
    entry: Option<Entry>,
    failure: Option<Failure>,
    last_refresh: Option<SystemTime>,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    fetches: AtomicU64,
    failures: AtomicU64,
    stale_served: AtomicU64,
}

/// Reads one secret and keeps it, per the rules in the module doc.
pub struct SecretsManager {
    options: Options,
    settings: OnceLock<Settings>,
    state: Mutex<State>,
    /// The single-flight lock, tagged with the pid that made it: a lock held by a thread
    /// of the parent at `fork()` time would otherwise stay held forever in the child.
    fetch_lock: Mutex<(u32, Arc<tokio::sync::Mutex<()>>)>,
    counters: Counters,
}

impl std::fmt::Debug for SecretsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock_state();
        f.debug_struct("SecretsManager")
            .field("settings", &self.settings.get())
            .field("cached", &state.entry.as_ref().map(|e| &e.secret))
            .finish()
    }
}

impl SecretsManager {
    /// A manager for the secret `options` point at. Nothing is resolved or fetched yet.
    pub fn new(options: Options) -> SecretsManager {
        SecretsManager {
            options,
            settings: OnceLock::new(),
            state: Mutex::new(State::default()),
            fetch_lock: Mutex::new((std::process::id(), Arc::default())),
            counters: Counters::default(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The resolved settings (location, TTL, ...). Resolved on first use from the process
    /// environment; an error is not remembered, so fixing the environment fixes the manager.
    pub fn settings(&self) -> Result<&Settings> {
        if let Some(s) = self.settings.get() {
            return Ok(s);
        }
        let resolved = settings::resolve(&self.options, &settings::process_env)?;
        Ok(self.settings.get_or_init(|| resolved))
    }

    /// The secret, from the cache or fetched (see the module doc).
    pub async fn secret(&self) -> Result<Arc<Secret>> {
        let started = Instant::now();
        if let Some(secret) = self.hit(started)? {
            self.counters.hits.fetch_add(1, Relaxed);
            return Ok(secret);
        }
        let settings = self.settings()?;
        self.counters.misses.fetch_add(1, Relaxed);
        let lock = self.fetch_lock();
        let _flight = lock.lock().await;
        {
            let state = self.lock_state();
            let now = Instant::now();
            if let Some(e) = &state.entry {
                if e.fetched_at >= started || is_fresh(e, settings.ttl, now) {
                    return Ok(e.secret.clone());
                }
            }
            if let Some(f) = state.failure.as_ref().filter(|f| now < f.retry_at) {
                let error = f.error.clone();
                return self.stale_or(&state, settings, now, error);
            }
        }
        self.fetch(settings).await.or_else(|error| {
            let state = self.lock_state();
            self.stale_or(&state, settings, Instant::now(), error)
        })
    }

    /// Fetch now, whatever the cache holds. Concurrent refreshes share one call. On failure
    /// the error is returned and the last good value stays cached.
    pub async fn refresh(&self) -> Result<Arc<Secret>> {
        if let Some(pinned) = self.pinned() {
            return Ok(pinned);
        }
        let settings = self.settings()?;
        let started = Instant::now();
        let lock = self.fetch_lock();
        let _flight = lock.lock().await;
        if let Some(e) = self.lock_state().entry.as_ref().filter(|e| e.fetched_at >= started) {
            return Ok(e.secret.clone());
        }
        self.fetch(settings).await
    }

    /// The cached value if it is fresh. Never does I/O.
    pub fn cached(&self) -> Option<Arc<Secret>> {
        let found = self.hit(Instant::now()).ok().flatten();
        let counter = if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// The value an access would get right now without waiting (the pinned value or a fresh
    /// entry), counted as a hit; `None`, counted as nothing, otherwise. Never does I/O.
    ///
    /// This is a binding's fast path: a caller holding an interpreter lock can answer a hit
    /// without releasing it, and on `None` call [`secret`](Self::secret) (which counts the
    /// access itself) without the access being counted twice, as it would be with
    /// [`cached`](Self::cached).
    pub fn try_hit(&self) -> Option<Arc<Secret>> {
        let found = self.hit(Instant::now()).ok().flatten();
        if found.is_some() {
            self.counters.hits.fetch_add(1, Relaxed);
        }
        found
    }

    /// Until when `secret` (a value this manager returned) is answered as a hit: `Some(None)`
    /// while it is pinned or the TTL is `never`, `Some(Some(t))` while it is the cached entry
    /// and fresh until `t`, `None` otherwise (replaced, invalidated, or no longer fresh).
    /// Never does I/O and counts nothing.
    ///
    /// With [`record_hit`](Self::record_hit) this lets a binding keep the object it converted
    /// `secret` into and answer hits from it, comparing the clock with the instant the cache
    /// computed, without locking the cache on every access. The binding must ask again after
    /// anything it does that replaces the value (`refresh`, `invalidate`, `pin`, `unpin`).
    pub fn fresh_until(&self, secret: &Arc<Secret>) -> Option<Option<Instant>> {
        let state = self.lock_state();
        if let Some(pinned) = &state.pinned {
            return Arc::ptr_eq(pinned, secret).then_some(None);
        }
        let ttl = self.settings.get()?.ttl;
        let entry = state.entry.as_ref().filter(|e| Arc::ptr_eq(&e.secret, secret))?;
        match ttl.duration() {
            None => Some(None),
            Some(ttl) => {
                let until = entry.fetched_at.checked_add(ttl)?;
                (Instant::now() < until).then_some(Some(until))
            }
        }
    }

    /// Count a hit that the caller answered itself from a value
    /// [`fresh_until`](Self::fresh_until) vouched for, so `stats()` stays exact.
    pub fn record_hit(&self) {
        self.counters.hits.fetch_add(1, Relaxed);
    }

    /// Forget the cached value and any failure backoff; the next access fetches.
    pub fn invalidate(&self) {
        let mut state = self.lock_state();
        state.entry = None;
        state.failure = None;
    }

    /// Serve `secret` in place of AWS until [`unpin`](Self::unpin): no location is resolved
    /// and no call is made. This is what the bindings' testing helpers use, so a worker's
    /// unit tests never touch the network or the library's internals.
    pub fn pin(&self, secret: Secret) {
        self.lock_state().pinned = Some(Arc::new(secret));
    }

    /// Stop serving the pinned value; the cache is as it was before [`pin`](Self::pin).
    pub fn unpin(&self) {
        self.lock_state().pinned = None;
    }

    fn pinned(&self) -> Option<Arc<Secret>> {
        self.lock_state().pinned.clone()
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
            last_refresh: state.last_refresh,
            version_id: state
                .entry
                .as_ref()
                .and_then(|e| e.secret.version_id().map(str::to_owned)),
            last_error: state.failure.as_ref().map(|f| f.error.code()),
        }
    }

    /// [`secret`](Self::secret) for callers on a plain thread (Python, C, Go).
    pub fn secret_blocking(&self) -> Result<Arc<Secret>> {
        // The hit path needs no runtime: answer it here, and pay for block_on only on a miss.
        if let Some(secret) = self.hit(Instant::now())? {
            self.counters.hits.fetch_add(1, Relaxed);
            return Ok(secret);
        }
        runtime::block_on(self.secret())
    }

    /// [`refresh`](Self::refresh) for callers on a plain thread.
    pub fn refresh_blocking(&self) -> Result<Arc<Secret>> {
        runtime::block_on(self.refresh())
    }

    /// The hot path: the pinned value, or a fresh entry, under one lock.
    fn hit(&self, now: Instant) -> Result<Option<Arc<Secret>>> {
        let state = self.lock_state();
        if let Some(pinned) = &state.pinned {
            return Ok(Some(pinned.clone()));
        }
        let ttl = self.settings()?.ttl;
        Ok(state
            .entry
            .as_ref()
            .filter(|e| is_fresh(e, ttl, now))
            .map(|e| e.secret.clone()))
    }

    /// One call to the source, with the outcome recorded. Caller holds the fetch lock.
    async fn fetch(&self, settings: &Settings) -> Result<Arc<Secret>> {
        self.counters.fetches.fetch_add(1, Relaxed);
        let result = fetch_on_runtime(settings.clone()).await;
        let mut state = self.lock_state();
        let now = Instant::now();
        match result {
            Ok(secret) => {
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
                });
                state.failure = None;
                state.last_refresh = Some(SystemTime::now());
                Ok(secret)
            }
            Err(error) => {
                self.counters.failures.fetch_add(1, Relaxed);
                let consecutive = state.failure.as_ref().map_or(1, |f| f.consecutive + 1);
                let backoff = INITIAL_BACKOFF
                    .saturating_mul(1 << (consecutive - 1).min(16))
                    .min(MAX_BACKOFF);
                log::warn!("{error} (next attempt in {}s)", backoff.as_secs_f64());
                state.failure = Some(Failure {
                    error: error.clone(),
                    retry_at: now + backoff,
                    consecutive,
                });
                Err(error)
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

/// Fetch on the library's own runtime, under a hard deadline.
///
/// SDK clients are shared across calls and their pooled connections belong to the runtime
/// they were made on, so fetches always run there, whichever runtime (or none) the caller
/// awaits from. The deadline is the SDK's own plus slack, so even a stuck credential
/// provider cannot hang the caller.
async fn fetch_on_runtime(settings: Settings) -> Result<Secret> {
    let deadline = settings.timeout + DEADLINE_SLACK;
    let what = format!("secret {} in {}", settings.location.secret_id, settings.location.region);
    let task = runtime::spawn(async move { tokio::time::timeout(deadline, source::fetch(&settings)).await })?;
    match task.await {
        Ok(Ok(result)) => result,
        Ok(Err(_elapsed)) => Err(Error::new(
            Code::Timeout,
            format!("{what}: no answer within {}s", deadline.as_secs_f64()),
        )),
        Err(join) => Err(Error::new(Code::Internal, format!("{what}: fetch task failed: {join}"))),
    }
}

fn is_fresh(e: &Entry, ttl: Ttl, now: Instant) -> bool {
    match ttl.duration() {
        None => true,
        Some(ttl) => now.saturating_duration_since(e.fetched_at) < ttl,
    }
}

fn may_serve_stale(e: &Entry, settings: &Settings, now: Instant) -> bool {
    if settings.max_stale.is_zero() {
        return false;
    }
    match settings.ttl.duration() {
        None => true,
        Some(ttl) => now.saturating_duration_since(e.fetched_at) <= ttl + settings.max_stale,
    }
}
