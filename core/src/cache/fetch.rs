//! The paths that wait for a fetch: an access that found no fresh entry (`access`), a forced
//! refresh (`force`), the background refresh-ahead, the fetch itself and how its outcome is
//! recorded (entry, failure backoff, generation check), and the runtime it runs on.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::state::{is_fresh, may_serve_stale, Entry, Failure, State};
use super::{SecretsManager, INITIAL_BACKOFF, MAX_BACKOFF};
use crate::document::Secret;
use crate::error::{Code, Error, Result};
use crate::settings::Settings;
use crate::{mounted, runtime, source};

/// Slack on top of the SDK's own deadline, so a stuck credential provider cannot hang us.
const DEADLINE_SLACK: Duration = Duration::from_secs(1);

/// A fetch supplied by the caller in place of `GetSecretValue` (see
/// [`SecretsManager::secret_blocking_with`]).
pub type CallerFetch<'a> = &'a mut (dyn FnMut(&Settings) -> Result<Secret> + Send);

/// Who makes the call of a load.
pub(super) enum Fetcher<'a> {
    /// `GetSecretValue` through the SDK, on the library's runtime.
    Sdk,
    /// The caller's own fetch, on the caller's thread.
    Caller(CallerFetch<'a>),
}

/// Whether a load counts as an access in [`super::Stats`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Count {
    /// A caller's access: a hit or a miss, and a stale value served.
    Access,
    /// [`SecretsManager::load_blocking`]: its callers' accesses are counted by
    /// [`SecretsManager::try_secret`].
    Nothing,
}

/// What [`SecretsManager::read_mounted`] found.
#[allow(clippy::large_enum_variant)] // returned once per read and taken apart at once
enum Mounted {
    /// The cached entry is still the file's content: renewed, served.
    Unchanged(Arc<Secret>),
    /// A value read (and the file's stamp, for a file).
    Read(Secret, Option<mounted::Stamp>),
}

/// How many times a load starts over because the settings changed during its fetch.
const MAX_SUPERSEDED: u32 = 3;

/// What one fetch brought back, and whether it still answers the current settings.
enum Fetched {
    Done(Result<Arc<Secret>>),
    /// The settings changed while it was in flight: its outcome is for an old location.
    Superseded,
}

impl SecretsManager {
    pub(super) async fn access(&self, fetcher: &mut Fetcher<'_>, count: Count) -> Result<Arc<Secret>> {
        let started = Instant::now();
        if let Some(secret) = self.hit(Some(started)) {
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
                    if e.fetched_since(started) || is_fresh(e, &settings, now) {
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

    pub(super) async fn force(&self, fetcher: &mut Fetcher<'_>) -> Result<Arc<Secret>> {
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
            if let Some(e) = state.entry.as_ref().filter(|e| e.fetched_since(started)) {
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

    /// The background refresh: one fetch under the fetch lock, unless what it was started
    /// for no longer holds once it has the lock (another fetch ran, the entry was invalidated,
    /// the settings changed, an override is in force, a failure's backoff runs). Its outcome
    /// is recorded as any fetch's; it answers no caller.
    pub(super) async fn refresh_ahead(&self, settings: Arc<Settings>) {
        let started = Instant::now();
        let lock = self.fetch_lock();
        let _flight = lock.lock().await;
        {
            let state = self.lock_state();
            let now = Instant::now();
            let wanted = state.overrides.innermost().is_none()
                && state.settings.as_ref().is_some_and(|s| Arc::ptr_eq(s, &settings))
                && state.entry.as_ref().is_some_and(|e| !e.fetched_since(started))
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
        let (generation, cached, stamp) = {
            let mut state = self.lock_state();
            state.caller_fetches = matches!(fetcher, Fetcher::Caller(_)) && !settings.source.is_mounted();
            // What a replica's answer must not be older than (see read_with_failover).
            let cached = state.entry.as_ref().and_then(|e| {
                let version = e.secret.version_id()?.to_owned();
                Some((version, e.secret.created()?))
            });
            let stamp = state.entry.as_ref().and_then(|e| e.stamp.clone());
            (state.generation, cached, stamp)
        };
        // The epoch the fetch started in: a restore while it runs leaves its value due.
        let epoch = crate::snapshot::epoch();
        self.counters.fetches.fetch_add(1, Relaxed);
        let mut new_stamp = None;
        let outcome = match fetcher {
            // A mounted source is read here, whoever would have called AWS.
            _ if settings.source.is_mounted() => match self.read_mounted(settings, generation, stamp.as_ref()) {
                Ok(Mounted::Unchanged(secret)) => return Fetched::Done(Ok(secret)),
                Ok(Mounted::Read(secret, stamp)) => {
                    new_stamp = stamp;
                    source::Outcome::served(secret, String::new())
                }
                Err(error) => source::Outcome::failed(error),
            },
            Fetcher::Sdk => fetch_on_runtime((**settings).clone(), cached).await,
            Fetcher::Caller(fetch) => {
                let cached = cached.as_ref().map(|(v, t)| (v.as_str(), *t));
                source::read_with_failover(settings, cached, |regional, _share| {
                    std::future::ready(fetch(&regional))
                })
                .await
            }
        };
        self.counters.failovers.fetch_add(u64::from(outcome.failovers), Relaxed);
        self.counters.hedges.fetch_add(u64::from(outcome.hedges), Relaxed);
        self.counters
            .older_replica_answers
            .fetch_add(u64::from(outcome.older_answers), Relaxed);
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
                    epoch,
                    region,
                    stamp: new_stamp,
                });
                state.failure = None;
                state.last_refresh = Some(SystemTime::now());
                state.notifier.stored(secret.version_id(), state.notify_generation);
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

    /// Read a mounted source ([`mounted::read`]). A file whose stamp is the cached entry's is
    /// not read again: the entry is renewed as a fetch would (fetched now, no failure), unless
    /// an `invalidate()` or a change of settings ran since `generation`, which reads it again.
    fn read_mounted(&self, settings: &Settings, generation: u64, stamp: Option<&mounted::Stamp>) -> Result<Mounted> {
        let read = match mounted::read(&settings.source, stamp)? {
            mounted::Read::Unchanged => {
                let mut state = self.lock_state();
                if state.generation == generation {
                    if let Some(entry) = state.entry.as_mut() {
                        entry.fetched_at = Instant::now();
                        entry.epoch = crate::snapshot::epoch();
                        let secret = entry.secret.clone();
                        state.failure = None;
                        state.last_refresh = Some(SystemTime::now());
                        return Ok(Mounted::Unchanged(secret));
                    }
                }
                drop(state);
                mounted::read(&settings.source, None)?
            }
            read => read,
        };
        match read {
            mounted::Read::Value(secret, stamp) => Ok(Mounted::Read(secret, stamp)),
            mounted::Read::Unchanged => Err(Error::new(
                Code::Internal,
                "a mounted source read without a stamp answered unchanged (a bug in starfleet-secrets)",
            )),
        }
    }

    /// The stale entry if stale-if-error allows it at `now`, else `error`.
    pub(super) fn stale_or(
        &self,
        state: &State,
        settings: &Settings,
        now: Instant,
        error: Error,
    ) -> Result<Arc<Secret>> {
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
async fn fetch_on_runtime(settings: Settings, cached: Option<(String, SystemTime)>) -> source::Outcome {
    let deadline = settings.timeout + DEADLINE_SLACK;
    let what = format!("secret {} in {}", settings.location.secret_id, settings.location.region);
    on_runtime(&what, deadline, async move {
        let cached = cached.as_ref().map(|(v, t)| (v.as_str(), *t));
        Ok(source::fetch_with_failover(&settings, cached).await)
    })
    .await
    .unwrap_or_else(source::Outcome::failed)
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
