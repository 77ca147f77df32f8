//! Hedged reads: how a dead connection is caught without a timer that fails slow answers.
//!
//! Two kinds of connection can leave a request waiting forever, with no answer and no error:
//!
//! * A **reused** pooled connection that died without either end being told: an AWS NAT
//!   gateway forgot an idle flow, a Lambda sandbox was frozen between invocations and its
//!   peer closed. A fresh connection cannot be in that state: its handshake has just been
//!   answered. So the only sent request worth watching is one that went out on a reused
//!   connection, and the way to stop waiting on it is not to give up (a Secrets Manager, or
//!   the KMS behind it, that takes 1.5 s is slow, not broken) but to **hedge**: after
//!   [`Hedge::delay`] without an answer, the same request (already signed, a read, so safe to
//!   send twice) goes out again on a new connection while the first keeps waiting, and
//!   whichever answers first is the answer. If the new one wins, the old connection is
//!   poisoned (it leaves the pool, closed); the loser's request is dropped.
//! * A connection still **being opened** (DNS, TCP, a proxy's `CONNECT`, TLS) after the
//!   client's connect timeout (`source::CONNECT_TIMEOUT`, 3 s): its address may be
//!   black-holed (a SYN that nothing answers), or the way to it merely slow (a proxy whose own
//!   way upstream is slow, a distant region, a slow resolver). Failing the attempt there, as
//!   the SDK's connect timeout does, turns every slow-but-healthy handshake into a failure
//!   (three attempts of 3 s each, then `TIMEOUT`, where boto3 waits 60 s and reads). So a
//!   hedged request opens its connection with no timer of its own, and each connect timeout
//!   that passes without a connection sends a copy on another new connection (a fresh lookup,
//!   perhaps another address) while the earlier ones keep trying: the first answer wins.
//!
//! Whether a request went out on a reused connection, or on any, is known before any answer:
//! the pool names the connection it hands a request to (the SDK's `CaptureSmithyConnection`
//! extension, set before the request is written), and this module remembers which
//! connections of the pool have carried a request before ([`Carried`]). Nothing here guesses
//! from timings.
//!
//! Copies go to a second pool of their own, and every copy carries `Connection: close`, so
//! that pool never keeps an idle connection: each copy opens a new one. Going through the main
//! pool instead could pick another idle connection the same NAT has forgotten. The caller's
//! deadline (the SDK's operation timeout) bounds everything.
//!
//! Which requests get what:
//!
//! * A read, a request that carries a [`Hedge`] extension (`source` puts it on each
//!   GetSecretValue attempt), gets both: copies while its connection is being opened, and
//!   one after silence on a reused connection. At most [`MAX_HEDGES`] copies per [`Hedge`]
//!   (that is, per read, across the SDK's retries of it), and their count is what
//!   `stats().hedges` reports.
//! * Any other call over HTTPS (a credential provider's: STS for web identity or an assumed
//!   role, SSO, sign-in; a write from the operator CLI) gets the first only: its connection
//!   has no timer and a copy goes each connect timeout while none is open, at most
//!   [`MAX_HEDGES`] per call. These are calls to AWS endpoints that may be far away or behind
//!   the same slow proxy as Secrets Manager, where boto3 waits 60 s to connect; such a call
//!   would otherwise fail a read that the slow way could serve. A call already sent is never
//!   sent again: a write must not be, and a credential call that was sent is waited for.
//! * A plain-HTTP call (instance metadata, container credentials: services of the host itself,
//!   on link-local or loopback addresses, never through a proxy) goes through the main pool
//!   with its connect timeout (1-3 s) applied as the SDK applies it: off EC2 or ECS the
//!   metadata address answers nothing, and waiting for it to the deadline would turn a
//!   missing credential into a `TIMEOUT` (boto3 gives these calls 1-2 s in all). Once
//!   connected, its answer is waited for like any other.
//!
//! No call has a read timeout: what the SDK or a credential provider sets is dropped, and
//! the caller's deadline bounds the wait for an answer.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
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
/// The longest single sleep of [`watch`] (it has nothing to wake for but an answer).
const DAY: Duration = Duration::from_secs(86_400);
/// Connections remembered by [`Carried`]: far more than a pool holds at once (a forgotten one
/// that is still pooled would be taken for new, and its request not hedged).
const CARRIED_MAX: usize = 256;

/// Copies of one read's request at most: as many as the SDK's retries of it
/// (`source::MAX_ATTEMPTS` - 1), so a connection stuck on a black-holed address gets the
/// other chances a retry would have given it, without anything being given up.
pub const MAX_HEDGES: u32 = 2;

/// A request extension: "this read may be hedged: after `delay` of silence on a reused
/// connection, or while a connection is still being opened". Clones share the count, so the
/// caller keeps one and reads [`Hedge::count`].
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

    /// Copies sent for this read (at most [`MAX_HEDGES`]).
    pub fn count(&self) -> u32 {
        self.sent.load(Relaxed)
    }

    /// Claims one of this read's copies; false when all were sent.
    fn claim(&self) -> bool {
        self.sent
            .fetch_update(Relaxed, Relaxed, |sent| (sent < MAX_HEDGES).then_some(sent + 1))
            .is_ok()
    }
}

/// The HTTP client of an SDK client: `pooled` for every request, `fresh` (a pool whose
/// connections are never reused) for the copies. Built by `transport`, which owns both pools.
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
        // No read timeout on any call: an answer is waited for until the caller's deadline
        // (the SDK's operation timeout, the credentials cache's load limit). A provider's
        // own read timeout failed slow but healthy answers: the container-credentials
        // provider's fixed 5 s turned a 6.5 s answer into a TIMEOUT at any deadline.
        let mut connect_only = HttpConnectorSettings::builder();
        connect_only.set_connect_timeout(settings.connect_timeout());
        let connect_only = connect_only.build();
        // A hedged request's connection has no timer at all: the connect timeout paces its
        // copies.
        let patient = HttpConnectorSettings::builder().build();
        SharedHttpConnector::new(HedgingConnector {
            pooled: self.pooled.http_connector(&connect_only, components),
            patient: self.pooled.http_connector(&patient, components),
            fresh: self.fresh.http_connector(&patient, components),
            connect_delay: settings.connect_timeout(),
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

/// One attempt's connectors: `pooled` as the SDK configured it (connect timeout and all), for
/// plain-HTTP calls; `patient`, the same pool with no connect timer, and `fresh`, the copies'
/// pool, likewise, for reads and HTTPS calls, whose copies go every `connect_delay` while no
/// connection is open.
struct HedgingConnector {
    pooled: SharedHttpConnector,
    patient: SharedHttpConnector,
    fresh: SharedHttpConnector,
    connect_delay: Option<Duration>,
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
        // A read (marked with its `Hedge`) may be sent twice; any call over HTTPS may be given
        // another connection while its own is being opened. Plain-HTTP calls are the host's
        // own metadata services (instance metadata, container credentials): see the module doc.
        let read = request.extension::<Hedge>().cloned();
        let paced = read.is_some() || is_https(request.uri());
        // Copied before sending: a small buffered body. A copy carries no extensions, so it is
        // not hedged again; `Connection: close` keeps its connection out of any pool.
        let hedging = paced.then(|| request.try_clone()).flatten().map(|mut spare| {
            spare.headers_mut().insert("connection", "close");
            Hedging {
                resend_when_silent: read.is_some(),
                // Another call's copies are its own, counted nowhere.
                hedge: read.unwrap_or_else(|| Hedge::new(DAY)),
                spare,
                fresh: self.fresh.clone(),
                connect_delay: self.connect_delay,
            }
        });
        let first = match hedging {
            Some(_) => self.patient.call(request),
            None => self.pooled.call(request),
        };
        HttpConnectorFuture::new(watch(first, connection, self.carried.clone(), hedging))
    }
}

/// Whether `uri` is an `https://` one.
fn is_https(uri: &str) -> bool {
    uri.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// What hedging needs: the call's [`Hedge`] (its copy budget), whether it is a read that may
/// also be sent again after silence on a reused connection, a copy of the request to send
/// again, the connector of the copies' pool, and how long a connection may take to open
/// before a copy goes (the SDK's connect timeout).
struct Hedging {
    hedge: Hedge,
    resend_when_silent: bool,
    spare: HttpRequest,
    fresh: SharedHttpConnector,
    connect_delay: Option<Duration>,
}

impl Hedging {
    /// A copy of the request on a new connection, if the read has one left.
    fn send_copy(&self, why: &str) -> Option<Contender> {
        let mut copy = self.spare.try_clone()?;
        if !self.hedge.claim() {
            return None;
        }
        log::debug!("{why}: sending the request again on a new connection");
        let connection = CaptureSmithyConnection::new();
        copy.add_extension(connection.clone());
        Some(Contender {
            answer: Box::pin(self.fresh.call(copy)),
            connection,
            first: false,
            had_connection: false,
        })
    }
}

type Answer = Result<HttpResponse, ConnectorError>;

/// A request racing for a read's answer: the SDK's attempt (`first`) or a copy of it, with the
/// capture that names its connection once it has one, and whether it had one when last polled.
struct Contender {
    answer: Pin<Box<HttpConnectorFuture>>,
    connection: CaptureSmithyConnection,
    first: bool,
    had_connection: bool,
}

impl Contender {
    fn placed(&self) -> bool {
        self.connection.get().is_some()
    }
}

/// Polls each contender once, in order; the first answer, and whether it is `first`'s. When
/// one gets a connection while others are still opening theirs, those are dropped before
/// they are polled again, so before their request can be written: such copies exist to get a
/// connection, and a request that has a new one is waited for (a slow lookup that answers
/// every contender at once would otherwise send the request twice). A request that was
/// already on a (reused) connection when its copy went drops nothing.
fn poll_contenders(contenders: &mut Vec<Contender>, cx: &mut Context<'_>) -> Poll<(bool, Answer)> {
    let mut index = 0;
    while index < contenders.len() {
        if let Poll::Ready(answer) = contenders[index].answer.as_mut().poll(cx) {
            return Poll::Ready((contenders.remove(index).first, answer));
        }
        if !contenders[index].had_connection && contenders[index].placed() {
            contenders[index].had_connection = true;
            let placed: Vec<bool> = contenders
                .iter()
                .enumerate()
                .map(|(i, c)| i == index || c.placed())
                .collect();
            let kept_before = placed[..index].iter().filter(|p| **p).count();
            let mut keep = placed.into_iter();
            contenders.retain(|_| keep.next().unwrap_or(true));
            index = kept_before;
        }
        index += 1;
    }
    Poll::Pending
}

/// `first`'s answer, noting its connection in `carried`. When `hedging`, copies race it: one
/// each connect delay while no request has a connection yet, or, for a read, one if `first`
/// went out on a reused connection and has had no answer for [`Hedge::delay`]. The first
/// answer wins; an error loses to any other contender's answer.
async fn watch(
    first: HttpConnectorFuture,
    connection: CaptureSmithyConnection,
    carried: Arc<Carried>,
    hedging: Option<Hedging>,
) -> Answer {
    let mut first = Box::pin(first);
    // One poll: an idle pooled connection is taken, and the request written to it, at once.
    if let Poll::Ready(answer) = poll_fn(|cx| Poll::Ready(first.as_mut().poll(cx))).await {
        note(&connection, &carried);
        return answer;
    }
    let Some(hedging) = hedging else {
        let answer = first.await;
        note(&connection, &carried);
        return answer;
    };
    let started = Instant::now();
    // Not known to be on a connection after this instant (the hedge delay counts from it).
    let mut unplaced_at = started;
    // The connection `first` is on, whether it had carried a request before, and since when.
    let mut placed: Option<(ConnectionId, bool, Instant)> = None;
    // Copies due so far (sent, or not because the read had none left).
    let mut due = 0;
    let mut contenders = vec![Contender {
        answer: first,
        had_connection: connection.get().is_some(),
        connection: connection.clone(),
        first: true,
    }];
    let mut failure = None;
    loop {
        match connection.get().and_then(|c| c.connection_id()) {
            Some(id) if placed.map(|(known, ..)| known) != Some(id) => {
                placed = Some((id, carried.note(id), unplaced_at));
            }
            Some(_) => {}
            None => unplaced_at = Instant::now(),
        }
        let next = match placed {
            // No connection yet: a copy each connect delay, until one of them has one.
            None if !contenders.iter().any(Contender::placed) => {
                hedging.connect_delay.map(|delay| started + delay * (due + 1))
            }
            // Sent on a reused connection: one copy after the hedge delay.
            Some((_, true, since)) if due == 0 && hedging.resend_when_silent => Some(since + hedging.hedge.delay()),
            // Sent on a new connection: nothing can have dropped it yet, so its answer is awaited.
            _ => None,
        };
        let now = Instant::now();
        if next.is_some_and(|at| at <= now) {
            due += 1;
            let why = match placed {
                None => "no connection opened yet",
                Some(_) => "no answer on a reused connection",
            };
            contenders.extend(hedging.send_copy(why));
            continue;
        }
        let until_next = next.map(|at| at - now);
        // Whether `first` has a connection is looked at again shortly, while it is racing
        // without one (not once a copy's connection has replaced it).
        let selecting = placed.is_none() && contenders.iter().any(|c| c.first);
        let wait = match selecting {
            true => until_next.map_or(SELECTION_POLL, |left| left.min(SELECTION_POLL)),
            false => until_next.unwrap_or(Duration::MAX),
        };
        let mut tick = std::pin::pin!(tokio::time::sleep(wait.min(DAY)));
        let event = poll_fn(|cx| match poll_contenders(&mut contenders, cx) {
            Poll::Ready(answer) => Poll::Ready(Some(answer)),
            Poll::Pending => tick.as_mut().poll(cx).map(|()| None),
        })
        .await;
        let Some((from_first, answer)) = event else {
            continue;
        };
        if from_first && placed.is_none() {
            note(&connection, &carried);
        }
        match answer {
            Ok(response) => {
                // A reused connection lost to a new one: treat it as dead (closed, out of the
                // pool), so no later request is sent into it.
                if let (false, Some((_, true, _)), Some(connection)) = (from_first, placed, connection.get()) {
                    connection.poison();
                }
                return Ok(response);
            }
            // An error loses to any other contender's answer; `first`'s is the one reported.
            Err(error) => {
                if from_first || failure.is_none() {
                    failure = Some(error);
                }
                if contenders.is_empty() {
                    return Err(failure.expect("set just above"));
                }
            }
        }
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
    fn only_https_calls_are_paced() {
        assert!(is_https("https://sts.us-east-2.amazonaws.com/"));
        assert!(is_https("HTTPS://secretsmanager.us-east-2.amazonaws.com"));
        assert!(!is_https("http://169.254.169.254/latest/api/token"));
        assert!(!is_https("http://169.254.170.2/v2/credentials/task"));
        assert!(!is_https("https:/"));
    }

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

    /// A contender whose request never answers, on a connection once `placed` is set.
    fn contender(first: bool, placed: &Arc<std::sync::atomic::AtomicBool>) -> Contender {
        let connection = CaptureSmithyConnection::new();
        let placed = Arc::clone(placed);
        connection.set_connection_retriever(move || {
            placed.load(Relaxed).then(|| {
                aws_smithy_runtime_api::client::connection::ConnectionMetadata::builder()
                    .proxied(false)
                    .poison_fn(|| {})
                    .build()
            })
        });
        Contender {
            answer: Box::pin(HttpConnectorFuture::new(std::future::pending())),
            had_connection: false,
            connection,
            first,
        }
    }

    fn poll_once(contenders: &mut Vec<Contender>) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(poll_contenders(contenders, &mut cx).is_pending());
    }

    #[test]
    fn the_contender_that_gets_a_connection_drops_those_still_opening_one() {
        let flags: Vec<_> = (0..3)
            .map(|_| Arc::new(std::sync::atomic::AtomicBool::new(false)))
            .collect();
        let mut contenders: Vec<_> = flags.iter().enumerate().map(|(i, f)| contender(i == 0, f)).collect();
        poll_once(&mut contenders);
        assert_eq!(contenders.len(), 3, "nobody has a connection yet");
        // The second copy's connection opens first: the first request and the other copy,
        // still opening theirs, are dropped before they can send.
        flags[2].store(true, Relaxed);
        poll_once(&mut contenders);
        assert_eq!(contenders.len(), 1);
        assert!(!contenders[0].first && contenders[0].had_connection);
    }

    #[test]
    fn a_request_already_on_a_reused_connection_drops_nothing() {
        let (on_reused, copy) = (
            Arc::new(std::sync::atomic::AtomicBool::new(true)),
            Arc::new(std::sync::atomic::AtomicBool::new(false)),
        );
        let mut first = contender(true, &on_reused);
        first.had_connection = true;
        let mut contenders = vec![first, contender(false, &copy)];
        poll_once(&mut contenders);
        assert_eq!(
            contenders.len(),
            2,
            "the hedge of a silent reused connection was dropped"
        );
        // The copy's new connection opens: both have one, and both answers are awaited.
        copy.store(true, Relaxed);
        poll_once(&mut contenders);
        assert_eq!(contenders.len(), 2);
    }

    #[test]
    fn a_read_has_max_hedges_copies_shared_by_its_clones() {
        let hedge = Hedge::new(Duration::from_secs(1));
        let copy = hedge.clone();
        for _ in 0..MAX_HEDGES {
            assert!(hedge.claim());
        }
        assert!(!copy.claim(), "clones share the read's copies");
        assert_eq!(copy.count(), MAX_HEDGES);
    }
}
