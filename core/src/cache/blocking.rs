//! The blocking adapters: the async entry points for callers on a plain thread (Python, C,
//! Go), and the caller-supplied fetch that Python's in-process mock uses.

use std::sync::Arc;

use super::fetch::{CallerFetch, Count, Fetcher};
use super::SecretsManager;
use crate::document::Secret;
use crate::error::Result;
use crate::runtime;

impl SecretsManager {
    /// [`secret`](Self::secret) for callers on a plain thread (Python, C, Go).
    pub fn secret_blocking(&self) -> Result<Arc<Secret>> {
        // The hit path needs no runtime: answer it here, and pay for block_on only on a miss.
        if let Some(secret) = self.fast_hit() {
            return Ok(secret);
        }
        self.access_blocking(&mut Fetcher::Sdk)
    }

    /// The miss path of [`secret_blocking`](Self::secret_blocking) and
    /// [`secret_blocking_with`](Self::secret_blocking_with). Its own function, never inlined:
    /// the access's future (the whole SDK call, tens of KB) sits on the stack of the function
    /// that builds it, and in the caller it made every hit set up (and probe, page by page)
    /// that frame (bench/overhead/RESULTS.md, "Fifth round").
    #[cold]
    #[inline(never)]
    fn access_blocking(&self, fetcher: &mut Fetcher<'_>) -> Result<Arc<Secret>> {
        self.delivered(runtime::block_on(self.access(fetcher, Count::Access)))
    }

    /// Bring the secret into the cache unless it is fresh there, sharing a fetch in flight,
    /// blocking the calling thread; counts nothing in [`super::Stats`]. For a binding that answers
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
    ///
    /// From this call on (until a fetch through the SDK), no background refresh-ahead starts:
    /// it would reach AWS around the host's interception (the cached value may have come
    /// through the SDK before the host started intercepting).
    pub fn secret_blocking_with(&self, fetch: CallerFetch<'_>) -> Result<Arc<Secret>> {
        self.lock_state().caller_fetches = true;
        if let Some(secret) = self.fast_hit() {
            return Ok(secret);
        }
        self.access_blocking(&mut Fetcher::Caller(fetch))
    }

    /// [`refresh_blocking`](Self::refresh_blocking) with a caller-supplied fetch, as
    /// [`secret_blocking_with`](Self::secret_blocking_with).
    pub fn refresh_blocking_with(&self, fetch: CallerFetch<'_>) -> Result<Arc<Secret>> {
        self.lock_state().caller_fetches = true;
        self.delivered(runtime::block_on(self.force(&mut Fetcher::Caller(fetch))))
    }
}
