//! Host-name lookups that outlive the connect attempt that started them.
//!
//! The SDK bounds each connection attempt, lookup included, by the connect timeout
//! (`source::CONNECT_TIMEOUT`, 3 s), so that an attempt stuck on a black-holed address is
//! retried. A lookup cannot be retried that way: the system resolver answers what it answers,
//! and a resolver that takes 4 s every time (a slow forwarder, a resolver under load) made every
//! attempt start a new 4 s lookup and give up at 3 s, so no read ever succeeded, where boto3,
//! whose connect timeout is 60 s, reads in 4 s.
//!
//! So each lookup (getaddrinfo on the runtime's blocking pool, as the SDK's default resolver
//! does) runs as a task of its own until the resolver answers, and the next attempt for the same
//! name waits for it *and* for a fresh lookup it starts, taking whichever answers first: a slow
//! resolver's first answer is used, and a lost packet (a lookup that would wait out the
//! resolver's own timeout) does not hold the retry up. Nothing is cached: a lookup leaves the
//! table when it completes, so every attempt after that asks the resolver again. The answer
//! must still come within the attempts the retry policy allows (three: about 9 s, where reads
//! gave up at 9.1-9.3 s before this module, bench/slow-network; glibc itself stops a lookup at
//! 10 s with its default `timeout:5 attempts:2`).
//!
//! A GetSecretValue no longer has that timer at all: its connection keeps trying until the
//! deadline, and the connect timeout only paces copies of it on other connections
//! ([`crate::hedge`]). This module still serves those copies (each joins, or races, the
//! lookup in flight) and the calls that keep the SDK's connect timeout: the credential
//! providers' (STS, SSO, container credentials over HTTPS) and the operator CLI's.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use futures_util::future::{select_ok, BoxFuture, FutureExt, Shared};

/// At most this many lookups of one name at once: a resolver that never answers holds one
/// blocking thread per lookup until its own timeout.
const MAX_IN_FLIGHT: usize = 3;
/// An attempt joins a lookup younger than this without starting another (two connections
/// opened at the same moment need one lookup).
const FRESH: Duration = Duration::from_secs(1);

type Answer = Result<Arc<[IpAddr]>, Arc<io::Error>>;

struct Lookup {
    id: u64,
    started: Instant,
    answer: Shared<BoxFuture<'static, Answer>>,
}

/// The resolver of every connection pool of one client (both pools of a hedging client, so a
/// hedge's connection shares its lookups too).
#[derive(Clone, Default)]
pub struct Resolver {
    in_flight: Arc<Mutex<HashMap<String, Vec<Lookup>>>>,
    next_id: Arc<AtomicU64>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").finish_non_exhaustive()
    }
}

impl Resolver {
    /// The lookups of `name` to wait for: those in flight, and a new one unless one started
    /// less than [`FRESH`] ago or [`MAX_IN_FLIGHT`] are running.
    fn lookups(&self, name: &str) -> Vec<Shared<BoxFuture<'static, Answer>>> {
        let mut table = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let lookups = table.entry(name.to_owned()).or_default();
        let fresh = lookups.iter().any(|l| l.started.elapsed() < FRESH);
        if !fresh && lookups.len() < MAX_IN_FLIGHT {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let answer = self.start(name.to_owned(), id);
            lookups.push(Lookup {
                id,
                started: Instant::now(),
                answer,
            });
        }
        lookups.iter().map(|l| l.answer.clone()).collect()
    }

    /// getaddrinfo for `name` on the blocking pool, in a task that runs to the end whoever
    /// waits, then leaves the table.
    fn start(&self, name: String, id: u64) -> Shared<BoxFuture<'static, Answer>> {
        let table = Arc::clone(&self.in_flight);
        let task = tokio::spawn(async move {
            let host = name.clone();
            let answer = tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs())
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e)))
                .map(|addrs| addrs.map(|a| a.ip()).collect::<Arc<[IpAddr]>>())
                .map_err(Arc::new);
            let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(lookups) = table.get_mut(&name) {
                lookups.retain(|l| l.id != id);
                if lookups.is_empty() {
                    table.remove(&name);
                }
            }
            answer
        });
        async move { task.await.unwrap_or_else(|e| Err(Arc::new(io::Error::other(e)))) }
            .boxed()
            .shared()
    }
}

impl ResolveDns for Resolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move {
            match select_ok(self.lookups(name)).await {
                Ok((addrs, _)) => Ok(addrs.to_vec()),
                Err(e) => Err(ResolveDnsError::new(io::Error::new(e.kind(), e.to_string()))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn resolves_through_the_system_and_leaves_nothing_behind() {
        let resolver = Resolver::default();
        let addrs = runtime().block_on(resolver.resolve_dns("localhost")).unwrap();
        assert!(addrs.iter().all(|a| a.is_loopback()), "{addrs:?}");
        assert!(resolver.in_flight.lock().unwrap().is_empty());
    }

    #[test]
    fn a_name_that_does_not_resolve_is_an_error() {
        let resolver = Resolver::default();
        let e = runtime()
            .block_on(resolver.resolve_dns("no-such-host.invalid"))
            .unwrap_err();
        assert!(!e.to_string().is_empty());
        assert!(resolver.in_flight.lock().unwrap().is_empty());
    }

    #[test]
    fn an_attempt_joins_a_young_lookup_and_adds_one_beside_an_old_one() {
        let rt = runtime();
        let resolver = Resolver::default();
        rt.block_on(async {
            // Two lookups asked for at once share one: it is still in the table, since this
            // runtime runs the lookup's task only once this block yields.
            assert_eq!(resolver.lookups("localhost").len(), 1);
            assert_eq!(resolver.lookups("localhost").len(), 1);
            // One that started long ago gets a fresh one beside it, up to MAX_IN_FLIGHT.
            for _ in 0..5 {
                for l in resolver.in_flight.lock().unwrap().get_mut("localhost").unwrap() {
                    l.started -= FRESH;
                }
                resolver.lookups("localhost");
            }
            assert_eq!(resolver.in_flight.lock().unwrap()["localhost"].len(), MAX_IN_FLIGHT);
            resolver.resolve_dns("localhost").await.unwrap();
        });
    }
}
