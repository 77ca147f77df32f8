//! What the cache holds: the entry, the last failure, the counters, and the [`Stats`]
//! snapshot taken from them (counters and stats defined by one list, `stats!`). Only data and
//! the two age rules (fresh, may serve stale); the transitions are in `fetch.rs` and
//! `fast_path.rs`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::config::ConfigSource;
use crate::document::Secret;
use crate::error::{Code, Error};
use crate::notify::Notifier;
use crate::overrides::OverrideStack;
use crate::settings::Settings;

/// Defines [`Stats`], the cache's `Counters`, [`Stats::to_json`] and [`STATS`] from one list
/// (`stats!` below): counters are `u64`s the cache counts; state fields are read from the
/// state when `SecretsManager::stats` takes the snapshot. Every binding passes `to_json`
/// through, and `core/tests/stats_described.rs` checks each language's typing and each
/// README's stats list against [`STATS`].
macro_rules! stats {
    (
        counters { $( $(#[doc = $cdoc:literal])+ $counter:ident; )+ }
        state { $( $(#[doc = $sdoc:literal])+ $field:ident: $ty:ty; )+ }
    ) => {
        /// A snapshot of the counters and of the state they describe.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Stats {
            $( $(#[doc = $cdoc])+ pub $counter: u64, )+
            $( $(#[doc = $sdoc])+ pub $field: $ty, )+
        }

        #[derive(Default)]
        pub(super) struct Counters {
            $( pub(super) $counter: AtomicU64, )+
        }

        impl Counters {
            /// The counters now, in a snapshot whose state fields are left to the caller.
            pub(super) fn snapshot(&self) -> Stats {
                Stats { $( $counter: self.$counter.load(Relaxed), )+ ..Stats::default() }
            }
        }

        /// Every stat, as every language exposes it (the JSON names of [`Stats::to_json`]).
        pub const STATS: &[StatSpec] = &[
            $( StatSpec { name: stringify!($counter), kind: StatKind::Count, doc: concat!($($cdoc),+) }, )+
            $( StatSpec { name: stringify!($field), kind: <$ty as StatValue>::KIND, doc: concat!($($sdoc),+) }, )+
        ];

        impl Stats {
            /// The stats as JSON, with the names of [`STATS`] (the names every binding
            /// exposes): counters as numbers, `last_refresh` as Unix seconds, `last_error` as
            /// a code string, what is unknown as null.
            pub fn to_json(&self) -> serde_json::Value {
                let mut map = serde_json::Map::new();
                $( map.insert(stringify!($counter).into(), self.$counter.into()); )+
                $( map.insert(stringify!($field).into(), StatValue::json(&self.$field)); )+
                serde_json::Value::Object(map)
            }
        }
    };
}

stats! {
    counters {
        /// Accesses answered from a fresh entry without waiting.
        hits;
        /// Accesses that found no fresh entry (they fetched, waited for a fetch, or were
        /// answered from the backoff state).
        misses;
        /// `GetSecretValue` calls made (successful or not).
        fetches;
        /// Calls that failed.
        failures;
        /// Accesses answered with a stale value because refreshing failed.
        stale_served;
        /// Background refreshes made by refresh-ahead (successful or not; also in `fetches`).
        refreshes_ahead;
        /// How many times a fetch moved on from a failing region to the next one.
        failovers;
        /// How many GetSecretValue requests were sent again on a new connection, after a
        /// reused one stayed silent or while one was still being opened (see
        /// [`crate::hedge`]); a credential provider's connection copies are not counted.
        hedges;
        /// How many times a fallback region answered with an older version than the cached one
        /// (a replica that replication had not reached): never stored, never a change; the read
        /// went on as if that region had failed (`source::read_with_failover`).
        older_replica_answers;
        /// How many times `after_restore()` reported a restore from a snapshot (see
        /// [`crate::snapshot`]).
        restores;
    }
    state {
        /// Wall-clock time of the last successful fetch.
        last_refresh: Option<SystemTime>;
        /// VersionId of the cached value.
        version_id: Option<String>;
        /// Code of the last failure, cleared by the next success.
        last_error: Option<Code>;
        /// How many testing overrides are in force (see [`crate::overrides`]).
        testing_overrides: usize;
        /// The region that served the cached value (a fallback region after a failover).
        region: Option<String>;
    }
}

/// One stat, as every language exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatSpec {
    /// The name in snake case, as in [`Stats::to_json`] (Node's typing uses it too; Go spells
    /// it in its own case, with this name as the JSON tag).
    pub name: &'static str,
    pub kind: StatKind,
    /// What it counts or says.
    pub doc: &'static str,
}

/// What a stat's JSON value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatKind {
    /// A non-negative integer.
    Count,
    /// Unix seconds (a number), or null.
    UnixTime,
    /// A string, or null.
    Text,
    /// An error code string, or null.
    Code,
}

/// The JSON of a state field's type, and its [`StatKind`].
trait StatValue {
    const KIND: StatKind;
    fn json(&self) -> serde_json::Value;
}

impl StatValue for usize {
    const KIND: StatKind = StatKind::Count;
    fn json(&self) -> serde_json::Value {
        (*self).into()
    }
}

impl StatValue for Option<String> {
    const KIND: StatKind = StatKind::Text;
    fn json(&self) -> serde_json::Value {
        self.clone().into()
    }
}

impl StatValue for Option<SystemTime> {
    const KIND: StatKind = StatKind::UnixTime;
    fn json(&self) -> serde_json::Value {
        self.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
            .into()
    }
}

impl StatValue for Option<Code> {
    const KIND: StatKind = StatKind::Code;
    fn json(&self) -> serde_json::Value {
        self.map(Code::as_str).into()
    }
}

pub(super) struct Entry {
    pub(super) secret: Arc<Secret>,
    pub(super) fetched_at: Instant,
    /// The restore epoch its fetch started in ([`crate::snapshot::epoch`]): from an earlier
    /// one, `fetched_at` means nothing (the monotonic clock does not count the time spent as
    /// a snapshot), so the entry is never fresh.
    pub(super) epoch: u64,
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

impl Entry {
    /// Whether it was fetched in this restore epoch, so that its `fetched_at` can be compared
    /// with the clock.
    pub(super) fn this_epoch(&self) -> bool {
        self.epoch == crate::snapshot::epoch()
    }

    /// Whether it was fetched at or after `started` (an instant of this epoch).
    pub(super) fn fetched_since(&self, started: Instant) -> bool {
        self.this_epoch() && self.fetched_at >= started
    }
}

pub(super) fn is_fresh(e: &Entry, settings: &Settings, now: Instant) -> bool {
    if !e.this_epoch() {
        return false;
    }
    match settings.fresh_for() {
        None => true,
        Some(fresh_for) => now.saturating_duration_since(e.fetched_at) < fresh_for,
    }
}

pub(super) fn may_serve_stale(e: &Entry, settings: &Settings, now: Instant) -> bool {
    if settings.max_stale.is_zero() {
        return false;
    }
    if !e.this_epoch() {
        // Its age is unknown: counted as expired at the restore.
        return settings.fresh_for().is_none()
            || crate::snapshot::restored_at()
                .is_some_and(|at| now.saturating_duration_since(at) <= settings.max_stale);
    }
    match settings.fresh_for() {
        None => true,
        Some(fresh_for) => now.saturating_duration_since(e.fetched_at) <= fresh_for + settings.max_stale,
    }
}
