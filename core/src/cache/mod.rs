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
//!    A fallback region's version older than the cached one is never stored: the read
//!    treats that region as failed (counted as `older_replica_answers`).
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
//! (Python under moto's in-process mock) refreshes on the request path as before. The access
//! that would start the refresh is not answered by [`SecretsManager::try_hit`], so a binding
//! takes its load path there: it hands over the host's configuration first (the refresh then
//! follows it) and says whether AWS is intercepted (`secret_blocking_with`: no background
//! refresh then).
//!
//! [`SecretsManager::reconfigure`] makes the manager that replaces this one on a binding's
//! `configure()`: it keeps the testing overrides and the `on_change` subscribers, and what
//! this one still stores notifies nobody.
//!
//! The TTL an entry is fresh for is [`Settings::fresh_for`]: the asked TTL, shortened by this
//! process's share of the fleet expiry jitter ([`crate::jitter`]).
//!
//! A fetch that stores a new VersionId records a change for the `on_change` subscribers
//! ([`crate::notify`]); the public entry points deliver it once the fetch lock is released.
//!
//! The module's files: `state` (what is held, and the stats), `hit_view` (what a hit answers,
//! republished on every change of the state so hits never take its lock), `fast_path` (answers that
//! never wait), `fetch` (accesses that wait, refreshes, the fetch), `overrides` (testing
//! overrides) and `blocking` (the adapters for callers on a plain thread).

mod blocking;
mod fast_path;
mod fetch;
mod hit_view;
mod overrides;
mod state;

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::ConfigSource;
use crate::document::Secret;
use crate::error::Result;
use crate::notify::{Notifier, Subscription};
use crate::settings::{self, Options, Settings};

pub use fetch::CallerFetch;
use fetch::{Count, Fetcher};
use hit_view::StateGuard;
use state::{Counters, State};
pub use state::{StatKind, StatSpec, Stats, STATS};

/// First pause after a failed fetch; doubles per consecutive failure up to [`MAX_BACKOFF`].
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Reads one secret and keeps it, per the rules in the module doc.
///
/// Everything but the options is shared (`Arc`) with the background refresh-ahead task,
/// which holds a [`share`](Self::share) of the manager while it runs.
pub struct SecretsManager {
    options: Options,
    state: Arc<Mutex<State>>,
    /// What a hit answers without locking `state`, republished on every change of it
    /// ([`hit_view`]).
    view: hit_view::View,
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
            view: Arc::default(),
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
            view: self.view.clone(),
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
        if let Some(secret) = self.fast_hit() {
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

    /// The manager that replaces this one when the application reconfigures it (every
    /// binding's `configure()`): a new manager for `options`, with an empty cache, that keeps
    /// what a reconfiguration must not lose, decided here for every binding:
    ///
    /// * the testing overrides in force (the same stack and tokens, so a test's undo still
    ///   works on the new manager): a unit test that pinned a value and then reconfigures
    ///   keeps being served its value;
    /// * the `on_change` subscribers and the last VersionId they were told about, so the new
    ///   configuration's first load is a change when it names another version.
    ///
    /// This manager is retired as a source of changes: what it still stores (a fetch or a
    /// refresh-ahead already in flight, which still answers its own callers) is never
    /// reported to the subscribers, so a reconfiguration never produces a change that did not
    /// happen. The cache, counters and backoff start afresh.
    pub fn reconfigure(&self, options: Options) -> SecretsManager {
        let next = SecretsManager::new(options);
        {
            let from = self.lock_state();
            let mut to = next.lock_state();
            to.overrides = from.overrides.clone();
            to.notifier = from.notifier.clone();
            to.notify_generation = from.notifier.next_generation();
        }
        next
    }

    fn notifier(&self) -> Arc<Notifier> {
        self.lock_state().notifier.clone()
    }

    /// Forget the cached value and any failure backoff; the next access fetches. A fetch
    /// already in flight still answers its callers, but its outcome is not kept.
    pub fn invalidate(&self) {
        self.lock_state().forget();
    }

    /// Before the process is snapshotted (Lambda SnapStart's before-checkpoint hook; see
    /// [`crate::snapshot`]): drop the pooled connections and SDK clients, and with
    /// `zeroize_before_snapshot` also forget the cached value (its strings are zeroized as the
    /// last holder drops it, and the zeroing allocator has zeroed what earlier fetches freed),
    /// so the next read fetches. A binding drops its converted copies too. Never waits on a
    /// fetch or the network.
    pub fn before_snapshot(&self) {
        let settings = self.lock_state().settings.clone();
        let zeroize = match settings {
            Some(settings) => settings.zeroize_before_snapshot,
            None => settings::resolve_zeroize(&self.options, &settings::process_env).unwrap_or_else(|error| {
                log::warn!("before_snapshot: {error}; the cache is not wiped");
                false
            }),
        };
        if zeroize {
            let dropped = {
                let mut state = self.lock_state();
                let entry = state.entry.take();
                state.forget(); // and what a fetch in flight brings back
                entry
            };
            drop(dropped); // outside the lock: zeroizing a large document takes a moment
        }
        crate::snapshot::before_snapshot();
    }

    /// After the process was restored from a snapshot (Lambda SnapStart's after-restore
    /// hook; see [`crate::snapshot`]): a new jitter share, no pooled connection, SDK client or
    /// credentials from before the snapshot, and a new restore epoch, which makes every cached
    /// value due (the next access fetches once, within the fetch deadline; stale-if-error
    /// counts from now). For this manager also: the failure backoff is forgotten, and a fetch
    /// that was in flight at the snapshot (on a connection that is now dead) neither holds
    /// up the next one nor stores its outcome. Counted in `stats()` `restores`. Never waits.
    pub fn after_restore(&self) {
        crate::snapshot::restored();
        {
            let mut state = self.lock_state();
            state.failure = None;
            state.generation += 1;
        }
        *self.fetch_lock.lock().unwrap_or_else(|p| p.into_inner()) = (std::process::id(), Arc::default());
        self.ahead_in_flight.store(0, std::sync::atomic::Ordering::Relaxed);
        self.counters
            .restores
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn stats(&self) -> Stats {
        let state = self.lock_state();
        Stats {
            last_refresh: state.last_refresh,
            version_id: state
                .entry
                .as_ref()
                .and_then(|e| e.secret.version_id().map(str::to_owned)),
            last_error: state.failure.as_ref().map(|f| f.error.code()),
            testing_overrides: state.overrides.depth(),
            region: state.entry.as_ref().map(|e| e.region.clone()).filter(|r| !r.is_empty()),
            ..self.counters.snapshot()
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

    /// The state, locked. The only way to it: the guard republishes the hit view after a
    /// change ([`hit_view`]).
    fn lock_state(&self) -> StateGuard<'_> {
        // No code panics while holding it, and the state is valid between statements anyway.
        StateGuard::new(self.state.lock().unwrap_or_else(|p| p.into_inner()), &self.view)
    }
}
