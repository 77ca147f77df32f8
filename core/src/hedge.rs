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
//! Which connection a request went out on is recorded by the pool itself
//! (aws-smithy-http-client's pool writes `ConnectionUsage::Reused`/`Fresh` into the request's
//! [`CaptureHttpAttemptTelemetry`] when the connection accepts the request, before any
//! answer), so nothing here guesses from timings.
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

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::telemetry::{CaptureHttpAttemptTelemetry, ConnectionUsage};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_types::config_bag::ConfigBag;

/// While a request has not yet been given a connection (it is connecting), how often to look
/// whether it has: short, because the hedge delay counts from that moment.
const SELECTION_POLL: Duration = Duration::from_millis(50);

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
}

impl HedgingClient {
    pub fn new(pooled: SharedHttpClient, fresh: SharedHttpClient) -> Self {
        HedgingClient { pooled, fresh }
    }
}

impl HttpClient for HedgingClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(HedgingConnector {
            pooled: self.pooled.http_connector(settings, components),
            fresh: self.fresh.http_connector(settings, components),
        })
    }

    /// The main pool only: the hedge pool sets up its TLS on first use, so a process that
    /// never hedges (nearly all) does not pay for it at start-up.
    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.pooled.validate_base_client_config(components, cfg)
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
}

impl fmt::Debug for HedgingConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HedgingConnector").finish_non_exhaustive()
    }
}

impl HttpConnector for HedgingConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        let Some(hedge) = request.extension::<Hedge>().cloned() else {
            return self.pooled.call(request);
        };
        // The SDK's metrics interceptor may already have put a capture on the request: share
        // it rather than replace it (the pool records into whichever is there).
        let capture = match request.extension::<CaptureHttpAttemptTelemetry>() {
            Some(capture) => capture.clone(),
            None => {
                let capture = CaptureHttpAttemptTelemetry::new();
                request.add_extension(capture.clone());
                capture
            }
        };
        // Cloned before sending (the body is a small buffer; a clone carries no extensions,
        // so the hedge gets a capture of its own and is not hedged again).
        let Some(mut spare) = request.try_clone() else {
            return self.pooled.call(request);
        };
        spare.headers_mut().insert("connection", "close");
        let first = self.pooled.call(request);
        let fresh = self.fresh.clone();
        HttpConnectorFuture::new(race(first, fresh, spare, capture, hedge))
    }
}

type Answer = Result<HttpResponse, ConnectorError>;

/// `first` alone, until it has waited [`Hedge::delay`] on a reused connection; then `spare` on
/// a new connection too, and the first answer of the two (an error loses to the other's
/// answer).
async fn race(
    first: HttpConnectorFuture,
    fresh: SharedHttpConnector,
    spare: HttpRequest,
    capture: CaptureHttpAttemptTelemetry,
    hedge: Hedge,
) -> Answer {
    let sent = Instant::now();
    tokio::pin!(first);
    loop {
        let acquisition = capture.get().acquisition().copied();
        let wait = match acquisition {
            // A new connection: nothing can have dropped it yet, so wait for its answer.
            Some(acquisition) if acquisition.usage() == ConnectionUsage::Fresh => return first.await,
            Some(acquisition) => {
                let due = sent + acquisition.duration().unwrap_or_default() + hedge.delay();
                let wait = due.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break;
                }
                wait
            }
            None => SELECTION_POLL,
        };
        tokio::select! {
            answer = &mut first => return answer,
            () = tokio::time::sleep(wait) => {}
        }
    }
    if !hedge.claim() {
        return first.await;
    }
    log::debug!(
        "no answer after {:?} on a reused connection: sending the request again on a new connection",
        hedge.delay()
    );
    let second = fresh.call(spare);
    tokio::pin!(second);
    tokio::select! {
        answer = &mut first => match answer {
            Ok(response) => Ok(response),
            Err(_) => second.await,
        },
        answer = &mut second => match answer {
            Ok(response) => {
                // The reused connection lost to a new one: treat it as dead, so no later
                // request is sent into it.
                if let Some(connection) = capture.get().connection() {
                    connection.poison();
                }
                Ok(response)
            }
            Err(_) => first.await,
        },
    }
}
