//! The paths that answer without waiting for a fetch: hits (and the refresh-ahead they may
//! start), the bindings' fast paths (`try_hit`, `fresh_until`, `holds`, `record_hit`), Go's
//! non-blocking `try_secret`, and `cached`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use super::hit_view;
use super::state::{is_fresh, State};
use super::SecretsManager;
use crate::document::Secret;
use crate::error::Result;
use crate::runtime;
use crate::settings::Settings;

impl SecretsManager {
    /// The cached value if it is fresh. Never does I/O.
    pub fn cached(&self) -> Option<Arc<Secret>> {
        let found = self.hit(None);
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
        // The common case, a hit on the cached entry, from the published view (an override waits for
        // the settings below: their error is reported first).
        if since.is_none() {
            if let Some(secret) = hit_view::answer(&self.view, true) {
                self.counters.hits.fetch_add(1, Relaxed);
                return Some(Ok(secret));
            }
        }
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
            } else if since.is_none_or(|s| !e.fetched_since(s)) {
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
    ///
    /// The access that would start a refresh-ahead is not answered here either (`None`): it
    /// goes through the binding's load path, which hands over the host application's
    /// configuration first ([`use_config`](Self::use_config)), so a background refresh
    /// follows the host's configuration as a load after the TTL does, and which says how the
    /// fetch is made (through a caller's fetch while the host intercepts AWS: then no
    /// background refresh starts, see [`secret_blocking_with`](Self::secret_blocking_with)).
    /// The next call (the binding's [`secret`](Self::secret) or
    /// [`secret_blocking`](Self::secret_blocking)) answers it as a hit and starts the refresh.
    pub fn try_hit(&self) -> Option<Arc<Secret>> {
        self.counted_hit(Due::Decline)
    }

    /// [`try_hit`](Self::try_hit) for the library's own entry points, which start a due
    /// refresh-ahead themselves.
    pub(super) fn fast_hit(&self) -> Option<Arc<Secret>> {
        self.counted_hit(Due::Start)
    }

    fn counted_hit(&self, due: Due) -> Option<Arc<Secret>> {
        let found = self.hit_or(None, due);
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
        let entry = state
            .entry
            .as_ref()
            .filter(|e| Arc::ptr_eq(&e.secret, secret) && e.this_epoch())?;
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

    /// The hot path: the innermost testing override, or a fresh entry. No I/O: unresolved
    /// settings are a miss (the caller resolves them outside the lock). `now`: the instant the
    /// locked path compares with (default: when it runs).
    pub(super) fn hit(&self, now: Option<Instant>) -> Option<Arc<Secret>> {
        self.hit_or(now, Due::Start)
    }

    /// [`hit`](Self::hit), doing `due` with an entry due for a refresh-ahead: answered from
    /// the published view ([`super::hit_view`]), else under the state lock.
    #[inline]
    fn hit_or(&self, now: Option<Instant>, due: Due) -> Option<Arc<Secret>> {
        hit_view::answer(&self.view, false).or_else(|| self.locked_hit(now.unwrap_or_else(Instant::now), due))
    }

    /// The hit decided under the state lock: the view answered nothing (none published, the
    /// deadline is near or passed, the refresh-ahead point is reached, another epoch).
    ///
    /// Never inlined into the hit: it can start a refresh-ahead, whose future (the whole SDK
    /// call, tens of KB) is built on the stack of whichever function it lands in. Inlined
    /// (as `#[cold]` alone allowed at the release profile's opt-level "z"), every hit had a
    /// ~57 KB frame and probed each of its pages: that was the hit path's regression since
    /// refresh-ahead came in (`d78df03`; bench/overhead/RESULTS.md, "Fifth round").
    #[cold]
    #[inline(never)]
    fn locked_hit(&self, now: Instant, due: Due) -> Option<Arc<Secret>> {
        let state = self.lock_state();
        if let Some(pinned) = state.overrides.innermost() {
            return Some(pinned.clone());
        }
        let settings = state.settings.as_ref()?;
        let e = state.entry.as_ref().filter(|e| is_fresh(e, settings, now))?;
        match due {
            Due::Start => self.maybe_refresh_ahead(&state, settings, now),
            Due::Decline if self.refresh_ahead_due(&state, settings, now) => return None,
            Due::Decline => {}
        }
        Some(e.secret.clone())
    }

    /// Start the background refresh if the fresh entry is due for one (see the module doc):
    /// refresh-ahead on, the entry past its age, none in flight, no failure backoff running,
    /// fetches not through a caller's fetch. Called by the hit paths under the state lock;
    /// only spawns. Not inlined, for the reason given at [`Self::locked_hit`].
    #[inline(never)]
    fn maybe_refresh_ahead(&self, state: &State, settings: &Arc<Settings>, now: Instant) {
        if !self.refresh_ahead_due(state, settings, now) {
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

    /// Whether an access now would start a background refresh: refresh-ahead on, the entry
    /// past its age, fetches not through a caller's fetch, no failure backoff running, none
    /// in flight in this process.
    fn refresh_ahead_due(&self, state: &State, settings: &Settings, now: Instant) -> bool {
        let (Some(after), Some(e)) = (settings.refresh_ahead_after(), &state.entry) else {
            return false;
        };
        if !e.this_epoch() {
            return false; // not fresh: an access fetches it in the foreground
        }
        now.saturating_duration_since(e.fetched_at) >= after
            && !state.caller_fetches
            && state.failure.as_ref().is_none_or(|f| now >= f.retry_at)
            && self.ahead_in_flight.load(Relaxed) != std::process::id()
    }
}

/// What a hit does with an entry due for a refresh-ahead.
#[derive(Clone, Copy)]
enum Due {
    /// Start the background refresh and answer (the library's own entry points).
    Start,
    /// Answer nothing, so the binding takes its load path ([`SecretsManager::try_hit`]).
    Decline,
}
