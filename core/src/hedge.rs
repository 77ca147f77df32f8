//! Hedged reads: how a dead pooled connection is caught without a timer that fails slow answers.
//!
//! A pooled connection can die without either end being told: an AWS NAT gateway forgets an
//! idle flow, a Lambda sandbox is frozen between invocations and its peer closes. A request
//! sent on such a connection gets no answer and no error, ever. A fresh connection cannot be
//! in that state: its handshake has just been answered. So the only request worth watching is
//! one that went out on a **reused** connection, and the way to stop waiting on it is not to
//! give up (a Secrets Manager, or the KMS behind it, that takes 1.5 s is slow, not broken)
//! but to **hedge**: after [`Hedge::delay`] without an answer, the same request (already
//! signed, a read, so safe to send twice) goes out again on a new connection while the first
//! keeps waiting, and whichever answers first is the answer. If the new one wins, the old
//! connection is poisoned (it leaves the pool, closed); the loser's request is dropped.
//!
//! Whether a request went out on a reused connection is known before any answer: the pool
//! names the connection it hands a request to (the SDK's `CaptureSmithyConnection` extension,
//! set before the request is written), and this module remembers which connections of the
//! pool have carried a request before ([`Carried`]). Nothing here guesses from timings.
//!
//! The hedge takes a second pool of its own, and every hedge request carries
//! `Connection: close`, so that pool never keeps an idle connection: each hedge opens a new
//! one. Going through the main pool instead could pick another idle connection the same
//! NAT has forgotten. Connect and TLS of that new connection keep the operation's connect
//! timeout; the caller's deadline (the SDK's operation timeout) still bounds everything.
//!
//! Only requests that carry a [`Hedge`] extension are hedged (`source` puts it on each
//! GetSecretValue attempt); anything else, a write from the operator CLI or a credential
//! provider's call, goes through the main pool untouched. One hedge per [`Hedge`] (that is,
//! per read, across the SDK's retries of it), and its count is what `stats().hedges` reports.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionId};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_types::config_bag::ConfigBag;

/// While a request has not yet been handed to a connection (one is being opened), how often to
/// look whether it has: short, because the hedge delay counts from that moment.
const SELECTION_POLL: Duration = Duration::from_millis(50);
/// Connections remembered by [`Carried`]: far more than a pool holds at once (a forgotten one
/// that is still pooled would be taken for new, and its request not hedged).
const CARRIED_MAX: usize = 256;

/// A request extension: "this read may be hedged after `delay` of silence on a reused
/// connection". Clones share the count, so the caller keeps one and reads [`Hedge::count`].
#[derive(Clone, Debug)]
pub struct Hedge {
    delay: Duration,
    sent: Arc<AtomicU32>,
}

impl Hedge {
    pub fn new(delay: Duration) -> Self {
        Hedge {
            delay,
            sent: Arc::default(),
        }
    }

    /// How long a request on a reused connection may stay unanswered before the hedge goes.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Hedges sent for this read (0 or 1).
    pub fn count(&self) -> u32 {
        self.sent.load(Relaxed)
    }

    /// Claims the one hedge of this read; false when it was already sent.
    fn claim(&self) -> bool {
        self.sent.compare_exchange(0, 1, Relaxed, Relaxed).is_ok()
    }
}

/// The HTTP client of an SDK client: `pooled` for every request, `fresh` (a pool whose
/// connections are never reused) for hedges. Built by `transport`, which owns both pools.
#[derive(Debug)]
pub struct HedgingClient {
    pooled: SharedHttpClient,
    fresh: SharedHttpClient,
    carried: Arc<Carried>,
}

impl HedgingClient {
    pub fn new(pooled: SharedHttpClient, fresh: SharedHttpClient) -> Self {
        HedgingClient {
            pooled,
            fresh,
            carried: Arc::default(),
        }
    }
}

/// The connections of the main pool that have carried a request, least recently used first
/// (bounded by [`CARRIED_MAX`]).
#[derive(Debug, Default)]
struct Carried(Mutex<VecDeque<ConnectionId>>);

impl Carried {
    /// Notes that `id` carries a request; true when it had carried one before (reused).
    fn note(&self, id: ConnectionId) -> bool {
        let mut ids = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let reused = match ids.iter().position(|known| *known == id) {
            Some(index) => {
                ids.remove(index);
                true
            }
            None => false,
        };
        if ids.len() >= CARRIED_MAX {
            ids.pop_front();
        }
        ids.push_back(id);
        reused
    }
}

impl HttpClient for HedgingClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(HedgingConnector {
            pooled: self.pooled.http_connector(settings, components),
            fresh: self.fresh.http_connector(settings, components),
            carried: self.carried.clone(),
        })
    }

    /// Builds nothing: each pool sets up the TLS configuration a connection needs when it
    /// opens its first one. The pool's own validation would build its TLS configuration
    /// twice at client construction, one per ALPN offer (h2 + HTTP/1.1, and HTTP/1.1 alone,
    /// which only an HTTP/1-only attempt uses), and each build parses every trusted root
    /// again: the second is a whole extra root-bundle parse (about 1 ms of a 220 KB system
    /// bundle) in every cold start, before the first connection (bench/overhead/RESULTS.md,
    /// fourth round). The pool validates nothing else, and the roots it is given were
    /// already checked by `transport`, so there is nothing to fail early here. The hedge
    /// pool was never built at start-up either: a process that never hedges never pays for it.
    fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
        Ok(())
    }

    fn validate_final_config(&self, components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.pooled.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.pooled.connector_metadata()
    }
}

struct HedgingConnector {
    pooled: SharedHttpConnector,
    fresh: SharedHttpConnector,
    carried: Arc<Carried>,
}

impl fmt::Debug for HedgingConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HedgingConnector").finish_non_exhaustive()
    }
}

impl HttpConnector for HedgingConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        // The SDK puts a connection capture on each attempt (to poison a connection after a
        // transient error): share it rather than replace it.
        let connection = match request.extension::<CaptureSmithyConnection>() {
            Some(capture) => capture.clone(),
            None => {
                let capture = CaptureSmithyConnection::new();
                request.add_extension(capture.clone());
                capture
            }
        };
        // Cloned before sending: a small buffered body. A clone carries no extensions, so the
        // hedge is not hedged again; `Connection: close` keeps its connection out of any pool.
        let hedge = request.extension::<Hedge>().cloned().and_then(|hedge| {
            let mut spare = request.try_clone()?;
            spare.headers_mut().insert("connection", "close");
            Some(Hedging {
                hedge,
                spare,
                fresh: self.fresh.clone(),
            })
        });
        let first = self.pooled.call(request);
        HttpConnectorFuture::new(watch(first, connection, self.carried.clone(), hedge))
    }
}

/// What a hedge needs: the read's [`Hedge`], a copy of the request, the connector of the
/// hedge pool.
struct Hedging {
    hedge: Hedge,
    spare: HttpRequest,
    fresh: SharedHttpConnector,
}

type Answer = Result<HttpResponse, ConnectorError>;

/// `first`'s answer, noting its connection in `carried`; when `hedging`, and `first` went out
/// on a reused connection and has had no answer for [`Hedge::delay`], the first answer of it
/// and of the hedge (an error loses to the other's answer).
async fn watch(
    first: HttpConnectorFuture,
    connection: CaptureSmithyConnection,
    carried: Arc<Carried>,
    hedging: Option<Hedging>,
) -> Answer {
    let mut first = std::pin::pin!(first);
    // Not known to be on a connection after this instant (the hedge delay counts from it).
    let mut unplaced_at = Instant::now();
    // One poll: an idle pooled connection is taken, and the request written to it, at once.
    if let Poll::Ready(answer) = poll_fn(|cx| Poll::Ready(first.as_mut().poll(cx))).await {
        note(&connection, &carried);
        return answer;
    }
    // The connection the request is on, whether it had carried a request before, and since when.
    let mut placed: Option<(ConnectionId, bool, Instant)> = None;
    let hedging = loop {
        match connection.get().and_then(|c| c.connection_id()) {
            Some(id) if placed.map(|(known, ..)| known) != Some(id) => {
                placed = Some((id, carried.note(id), unplaced_at));
            }
            Some(_) => {}
            None => unplaced_at = Instant::now(),
        }
        let wait = match (&hedging, placed) {
            // A new connection: nothing can have dropped it yet, so its answer is awaited.
            (None, _) | (Some(_), Some((_, false, _))) => None,
            (Some(_), None) => Some(SELECTION_POLL),
            (Some(h), Some((_, true, since))) => match (since + h.hedge.delay()).checked_duration_since(Instant::now())
            {
                Some(left) if !left.is_zero() => Some(left),
                _ => break hedging,
            },
        };
        let Some(wait) = wait else {
            let answer = first.as_mut().await;
            if placed.is_none() {
                note(&connection, &carried);
            }
            return answer;
        };
        tokio::select! {
            answer = first.as_mut() => {
                if placed.is_none() {
                    note(&connection, &carried);
                }
                return answer;
            }
            () = tokio::time::sleep(wait) => {}
        }
    };
    let Some(Hedging { hedge, spare, fresh }) = hedging.filter(|h| h.hedge.claim()) else {
        return first.await;
    };
    log::debug!(
        "no answer after {:?} on a reused connection: sending the request again on a new connection",
        hedge.delay()
    );
    race(first, fresh.call(spare), &connection).await
}

/// The first answer of `first` (on a reused connection, `connection`) and `second` (its hedge
/// on a new one); an error loses to the other's answer.
async fn race(
    mut first: Pin<&mut HttpConnectorFuture>,
    second: HttpConnectorFuture,
    connection: &CaptureSmithyConnection,
) -> Answer {
    let mut second = std::pin::pin!(second);
    tokio::select! {
        answer = first.as_mut() => match answer {
            Ok(response) => Ok(response),
            Err(_) => second.await,
        },
        answer = second.as_mut() => match answer {
            Ok(response) => {
                // The reused connection lost to a new one: treat it as dead (closed, out of the
                // pool), so no later request is sent into it.
                if let Some(connection) = connection.get() {
                    connection.poison();
                }
                Ok(response)
            }
            Err(_) => first.await,
        },
    }
}

/// Notes the connection a finished request went out on, if the pool named one.
fn note(connection: &CaptureSmithyConnection, carried: &Carried) {
    if let Some(id) = connection.get().and_then(|c| c.connection_id()) {
        carried.note(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_reused_from_its_second_request_on() {
        let carried = Carried::default();
        let (a, b) = (ConnectionId::new(1), ConnectionId::new(2));
        assert!(!carried.note(a), "first request on a");
        assert!(!carried.note(b));
        assert!(carried.note(a), "second request on a");
        assert!(carried.note(b));
    }

    #[test]
    fn carried_is_bounded_and_forgets_the_least_recently_used() {
        let carried = Carried::default();
        let ids = (0..CARRIED_MAX as u64).map(ConnectionId::new);
        for id in ids {
            carried.note(id);
        }
        assert!(carried.note(ConnectionId::new(0)), "0 is now the most recently used");
        assert!(!carried.note(ConnectionId::new(10_000)), "a new one evicts 1");
        assert_eq!(carried.0.lock().unwrap().len(), CARRIED_MAX);
        assert!(!carried.note(ConnectionId::new(1)), "1 was forgotten");
        assert!(carried.note(ConnectionId::new(0)));
    }

    /// An HTTP client that counts the validations asked of it and is never used for a request.
    #[derive(Debug, Default)]
    struct CountsValidations(AtomicU32);

    impl HttpClient for CountsValidations {
        fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
            unreachable!("no request is made")
        }

        fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
            self.0.fetch_add(1, Relaxed);
            Ok(())
        }
    }

    /// The pools' own validation builds their TLS configuration (twice, a full parse of the
    /// trusted roots each time) when the SDK client is built; the hedging client asks it of
    /// neither pool, so each builds the one configuration its first connection needs.
    #[test]
    fn building_the_sdk_client_sets_up_no_pools_tls() {
        let pooled = Arc::new(CountsValidations::default());
        let fresh = Arc::new(CountsValidations::default());
        let client = HedgingClient::new(
            SharedHttpClient::new(ArcClient(pooled.clone())),
            SharedHttpClient::new(ArcClient(fresh.clone())),
        );
        let components = RuntimeComponentsBuilder::new("hedge test");
        client
            .validate_base_client_config(&components, &ConfigBag::base())
            .unwrap();
        assert_eq!(
            pooled.0.load(Relaxed),
            0,
            "the main pool set up its TLS at client construction"
        );
        assert_eq!(
            fresh.0.load(Relaxed),
            0,
            "the hedge pool set up its TLS at client construction"
        );
    }

    /// Shares a [`CountsValidations`] with the test that reads its count.
    #[derive(Debug)]
    struct ArcClient(Arc<CountsValidations>);

    impl HttpClient for ArcClient {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.0.http_connector(settings, components)
        }

        fn validate_base_client_config(
            &self,
            components: &RuntimeComponentsBuilder,
            cfg: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.validate_base_client_config(components, cfg)
        }
    }

    #[test]
    fn one_hedge_per_read() {
        let hedge = Hedge::new(Duration::from_secs(1));
        let copy = hedge.clone();
        assert!(hedge.claim());
        assert!(!copy.claim(), "clones share the one hedge");
        assert_eq!(copy.count(), 1);
    }
}
