//! Change notification (`on_change`): subscribers told when a new VersionId is stored, so a
//! worker can rebuild a client that holds the old credential.
//!
//! The rules, for every front door:
//!
//! * A subscriber is called with `(old VersionId or None, new VersionId)` each time a fetch
//!   (first load, TTL refresh, `refresh()`, the load after `invalidate()` or after the
//!   configuration named another secret) stores a value whose VersionId differs from the last
//!   one this manager stored. Never with values. The first load reports `None` as the old id;
//!   a reload of the same version after `invalidate()` reports nothing.
//! * Testing overrides are not versions: they never notify, and do not count as "the last one".
//! * Exactly once per change: the change is recorded under the cache's state lock, where the
//!   value is stored, and each recorded change is taken off the queue by one thread.
//! * Never under a lock of the cache: a subscriber may call back into the manager (read,
//!   `refresh()`, `stats()`, cancel itself) without deadlock.
//! * One delivery at a time per manager, in order: a subscriber is never re-entered
//!   concurrently. A change recorded while a delivery runs is delivered by that same thread
//!   when the current call returns.
//! * Which thread: a blocking call (Python, C, Go, `*_blocking` in Rust) that stored the change
//!   runs the subscribers on its own thread before it returns, also when another thread is
//!   delivering at that moment: it waits for its turn (one delivery at a time, in order), and
//!   nobody else takes its change. The async API (Node, Rust `async`) and anything else that
//!   runs on the library's runtime hand them to the library's one notification thread
//!   (`starfleet-notify`, started on first use and again after a fork), never to a runtime
//!   thread, where a blocking call back into the manager would be refused; a blocking call
//!   that delivers may take such a change along when it comes before its own (order first).
//! * Generations: when a binding reconfigures a manager (`SecretsManager::reconfigure`), the
//!   subscribers move to the new manager and the notifier to a new generation; what the
//!   replaced manager still stores (a fetch or refresh-ahead that was in flight) carries the
//!   old generation and notifies nothing, so a reconfiguration never reports a change that did
//!   not happen.
//! * A subscriber that panics is caught and logged (without its message, which could quote
//!   anything); the other subscribers and the read that stored the value are unaffected.
//! * [`Subscription::cancel`]: no call starts after it returns, and a call running on another
//!   thread is waited for; from inside the subscriber's own call it only marks it cancelled
//!   (waiting for itself would never end).
//! * `fork()`: a child keeps the subscribers. A delivery or call that a parent thread had
//!   running at the fork is not waited for in the child (that thread did not come along), and
//!   the child starts its own notification thread.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;

/// What a subscriber is: called with (old VersionId or `None`, new VersionId).
pub type Callback = dyn Fn(Option<&str>, &str) + Send + Sync;

/// The name of the library's notification thread (see the module doc).
pub const THREAD_NAME: &str = "starfleet-notify";

/// A thread of a process: who delivers a change, who is delivering.
type ThreadOf = (u32, ThreadId);

fn this_thread() -> ThreadOf {
    (std::process::id(), std::thread::current().id())
}

struct Change {
    old: Option<String>,
    new: String,
    /// The blocking caller whose call stored it, which runs the subscribers for it on its own
    /// thread before it returns; `None` for a change any delivering thread may deliver (an
    /// async call's, a background refresh's: the notification thread's).
    to: Option<ThreadOf>,
}

/// The subscribers of one manager and the changes not yet delivered to them.
#[derive(Default)]
pub(crate) struct Notifier {
    queue: Mutex<Queue>,
    /// Whether `queue.changes` may be non-empty: lets the callers that deliver after every
    /// load skip the lock when nothing changed.
    pending: AtomicBool,
    /// Rung when a delivery stops: a blocking caller whose change waits behind it goes on.
    turn: Condvar,
}

#[derive(Default)]
struct Queue {
    subscribers: Vec<Arc<Subscriber>>,
    /// VersionId of the last value stored, kept across `invalidate()` and settings changes.
    last_version: Option<String>,
    changes: VecDeque<Change>,
    /// The thread delivering; others leave their changes to it, or wait for their turn. A
    /// child after `fork()` has no such thread (only the forking one came along), so a
    /// delivery the parent had running does not stop the child's.
    delivering: Option<ThreadOf>,
    /// The generation of the manager these subscribers belong to now: a reconfiguration
    /// hands them to a new manager (`SecretsManager::reconfigure`) and bumps it, so what the
    /// replaced manager still stores (a fetch or a refresh-ahead in flight) notifies nothing.
    generation: u64,
}

impl Queue {
    /// Whether `me` may deliver the oldest change now: it is its own, or nobody's in
    /// particular, or its caller's thread did not come along through a `fork()`.
    fn head_is_for(&self, me: ThreadOf) -> bool {
        self.changes
            .front()
            .is_some_and(|c| c.to.is_none_or(|to| to == me || to.0 != me.0))
    }

    /// Whether a change stored by `me`'s blocking call waits to be delivered.
    fn holds_one_for(&self, me: ThreadOf) -> bool {
        self.changes.iter().any(|c| c.to == Some(me))
    }
}

struct Subscriber {
    callback: Box<Callback>,
    call: Mutex<CallState>,
    idle: Condvar,
}

#[derive(Default)]
struct CallState {
    cancelled: bool,
    /// The thread running the callback right now, and its process: in a child after `fork()`
    /// a call the parent had running is not waited for (its thread did not come along).
    running_on: Option<(u32, ThreadId)>,
}

/// One subscriber of one manager, as returned by
/// [`SecretsManager::on_change`](crate::SecretsManager::on_change). Dropping it does not
/// cancel it (bindings keep it wherever their own handle lives); [`cancel`](Self::cancel) does.
pub struct Subscription {
    subscriber: Arc<Subscriber>,
    notifier: Weak<Notifier>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("cancelled", &lock(&self.subscriber.call).cancelled)
            .finish()
    }
}

impl Subscription {
    /// Stop the calls: none starts after this returns, and one running on another thread is
    /// waited for. Called from inside the subscriber's own call it returns at once (that call
    /// is the last). Cancelling twice is harmless.
    pub fn cancel(&self) {
        if let Some(notifier) = self.notifier.upgrade() {
            lock(&notifier.queue)
                .subscribers
                .retain(|s| !Arc::ptr_eq(s, &self.subscriber));
        }
        let me = (std::process::id(), std::thread::current().id());
        let mut call = lock(&self.subscriber.call);
        call.cancelled = true;
        while call.running_on.is_some_and(|t| t.0 == me.0 && t != me) {
            call = self.subscriber.idle.wait(call).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub fn is_cancelled(&self) -> bool {
        lock(&self.subscriber.call).cancelled
    }
}

impl Subscriber {
    fn call(&self, change: &Change) {
        {
            let mut call = lock(&self.call);
            if call.cancelled {
                return;
            }
            call.running_on = Some((std::process::id(), std::thread::current().id()));
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (self.callback)(change.old.as_deref(), &change.new)
        }));
        if outcome.is_err() {
            log::error!(
                "an on_change subscriber panicked (version {} -> {}); the others were still called",
                change.old.as_deref().unwrap_or("none"),
                change.new
            );
        }
        lock(&self.call).running_on = None;
        self.idle.notify_all();
    }
}

impl Notifier {
    pub(crate) fn subscribe(self: &Arc<Self>, callback: Box<Callback>) -> Subscription {
        let subscriber = Arc::new(Subscriber {
            callback,
            call: Mutex::default(),
            idle: Condvar::new(),
        });
        lock(&self.queue).subscribers.push(subscriber.clone());
        Subscription {
            subscriber,
            notifier: Arc::downgrade(self),
        }
    }

    /// Hand the subscribers to a new manager: from now on only a value stored with the
    /// returned generation notifies; one the replaced manager stores with the old one does
    /// not (and is not "the last version" either).
    pub(crate) fn next_generation(&self) -> u64 {
        let mut queue = lock(&self.queue);
        queue.generation += 1;
        queue.generation
    }

    /// A value with `version` was stored by a manager of `generation`. Called under the
    /// cache's state lock, which is what makes each change recorded once. A change stored
    /// inside a blocking call is that caller's to deliver, on its thread
    /// ([`crate::runtime::block_on`] says which thread that is).
    pub(crate) fn stored(&self, version: Option<&str>, generation: u64) {
        let Some(new) = version else { return };
        let mut queue = lock(&self.queue);
        if queue.generation != generation || queue.last_version.as_deref() == Some(new) {
            return;
        }
        let old = queue.last_version.replace(new.to_owned());
        if !queue.subscribers.is_empty() {
            let to = crate::runtime::in_blocking_call().then(this_thread);
            queue.changes.push_back(Change {
                old,
                new: new.to_owned(),
                to,
            });
            self.pending.store(true, Ordering::Release);
        }
    }

    /// Run the subscribers for the recorded changes, in order, on this thread: the changes
    /// this thread's blocking call stored (waiting for its turn while another thread is
    /// delivering, or while the oldest change is another blocking caller's), and the changes
    /// before and after them that no caller in particular delivers. Re-entered from a
    /// subscriber, it returns at once: the delivery running on this thread goes on with them.
    pub(crate) fn deliver(&self) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        let me = this_thread();
        let mut queue = lock(&self.queue);
        loop {
            if queue.delivering == Some(me) {
                return;
            }
            let busy = queue.delivering.is_some_and(|d| d.0 == me.0);
            if !busy && (queue.head_is_for(me) || queue.changes.is_empty()) {
                break;
            }
            if !queue.holds_one_for(me) {
                return; // the thread delivering, or the one whose change is first, takes the rest
            }
            queue = self.turn.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
        queue.delivering = Some(me);
        while queue.head_is_for(me) {
            let Some(change) = queue.changes.pop_front() else { break };
            let subscribers = queue.subscribers.clone();
            drop(queue);
            for s in &subscribers {
                s.call(&change);
            }
            queue = lock(&self.queue);
        }
        queue.delivering = None;
        if queue.changes.is_empty() {
            self.pending.store(false, Ordering::Release);
        }
        drop(queue);
        self.turn.notify_all();
    }

    /// [`deliver`](Self::deliver) on the notification thread: for callers on the runtime.
    pub(crate) fn dispatch(self: &Arc<Self>) {
        if self.pending.load(Ordering::Acquire) {
            dispatcher_send(self.clone());
        }
    }
}

/// The notification thread's inbox, with the pid that started the thread (a forked child has
/// no such thread and starts its own).
static DISPATCHER: Mutex<Option<(u32, Sender<Arc<Notifier>>)>> = Mutex::new(None);

fn dispatcher_send(notifier: Arc<Notifier>) {
    let pid = std::process::id();
    let mut slot = lock(&DISPATCHER);
    if let Some((owner, tx)) = slot.as_ref() {
        if *owner == pid {
            match tx.send(notifier) {
                Ok(()) => return,
                Err(mpsc::SendError(back)) => return start_dispatcher(&mut slot, pid, back),
            }
        }
    }
    start_dispatcher(&mut slot, pid, notifier);
}

fn start_dispatcher(slot: &mut Option<(u32, Sender<Arc<Notifier>>)>, pid: u32, first: Arc<Notifier>) {
    let (tx, rx) = mpsc::channel::<Arc<Notifier>>();
    let started = std::thread::Builder::new().name(THREAD_NAME.into()).spawn(move || {
        for notifier in rx {
            notifier.deliver();
        }
    });
    match started {
        Ok(_) => {
            let _ = tx.send(first);
            *slot = Some((pid, tx));
        }
        Err(e) => log::error!(
            "cannot start the on_change notification thread ({e}); changes are delivered by the next blocking call"
        ),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Subscribers run outside these locks (and inside catch_unwind): a poisoned lock only
    // means a panic elsewhere, and the data is valid between statements.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    type Seen = Arc<Mutex<Vec<(Option<String>, String)>>>;

    fn recording(n: &Arc<Notifier>) -> (Subscription, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let sub = n.subscribe(Box::new(move |old, new| {
            s.lock().unwrap().push((old.map(str::to_owned), new.to_owned()))
        }));
        (sub, seen)
    }

    #[test]
    fn each_new_version_is_delivered_once_and_repeats_are_not() {
        let n = Arc::new(Notifier::default());
        let (_sub, seen) = recording(&n);
        for v in ["v1", "v1", "v2", "v2"] {
            n.stored(Some(v), 0);
        }
        n.stored(None, 0); // no VersionId (never from Secrets Manager): nothing to report
        n.deliver();
        n.deliver();
        assert_eq!(
            *seen.lock().unwrap(),
            [(None, "v1".to_owned()), (Some("v1".to_owned()), "v2".to_owned())]
        );
    }

    #[test]
    fn a_panicking_subscriber_does_not_stop_the_others() {
        let n = Arc::new(Notifier::default());
        let _bad = n.subscribe(Box::new(|_, _| panic!("canary-in-panic")));
        let (_sub, seen) = recording(&n);
        n.stored(Some("v1"), 0);
        n.deliver();
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn cancel_from_inside_the_call_returns_and_the_call_is_the_last() {
        let n = Arc::new(Notifier::default());
        let slot: Arc<Mutex<Option<Subscription>>> = Arc::default();
        let calls = Arc::new(Mutex::new(0));
        let (s, c) = (slot.clone(), calls.clone());
        let sub = n.subscribe(Box::new(move |_, _| {
            *c.lock().unwrap() += 1;
            s.lock().unwrap().as_ref().unwrap().cancel();
        }));
        *slot.lock().unwrap() = Some(sub);
        n.stored(Some("v1"), 0);
        n.deliver();
        n.stored(Some("v2"), 0);
        n.deliver();
        assert_eq!(*calls.lock().unwrap(), 1);
        assert!(slot.lock().unwrap().as_ref().unwrap().is_cancelled());
    }

    #[test]
    fn cancel_waits_for_a_call_running_on_another_thread() {
        let n = Arc::new(Notifier::default());
        let (entered_tx, entered_rx) = mpsc::channel();
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let sub = n.subscribe(Box::new(move |_, _| {
            entered_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            d.store(true, Ordering::SeqCst);
        }));
        n.stored(Some("v1"), 0);
        let n2 = n.clone();
        let t = std::thread::spawn(move || n2.deliver());
        entered_rx.recv().unwrap();
        sub.cancel();
        assert!(done.load(Ordering::SeqCst), "cancel returned while the call still ran");
        t.join().unwrap();
    }

    #[test]
    fn a_change_recorded_during_a_delivery_is_delivered_after_it_on_the_same_thread() {
        let n = Arc::new(Notifier::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, weak) = (seen.clone(), Arc::downgrade(&n));
        let _sub = n.subscribe(Box::new(move |_, new| {
            s.lock().unwrap().push((new.to_owned(), std::thread::current().id()));
            let n = weak.upgrade().unwrap();
            if new == "v1" {
                n.stored(Some("v2"), 0);
                n.deliver(); // re-entered: must not call the subscriber inside itself
                assert_eq!(s.lock().unwrap().len(), 1);
            }
        }));
        n.stored(Some("v1"), 0);
        n.deliver();
        let me = std::thread::current().id();
        assert_eq!(*seen.lock().unwrap(), [("v1".to_owned(), me), ("v2".to_owned(), me)]);
    }

    #[test]
    fn dispatch_runs_the_subscribers_on_the_notification_thread() {
        let n = Arc::new(Notifier::default());
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let _sub = n.subscribe(Box::new(move |_, _| {
            let name = std::thread::current().name().map(str::to_owned);
            tx.lock().unwrap().send(name).unwrap();
        }));
        n.stored(Some("v1"), 0);
        n.dispatch();
        let name = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(name.as_deref(), Some(THREAD_NAME));
    }

    /// A blocking call's change is delivered on that call's thread even while another thread
    /// (the notification thread, for a background refresh's change) is delivering.
    #[test]
    fn a_blocking_callers_change_runs_on_its_thread_while_another_delivery_runs() {
        let n = Arc::new(Notifier::default());
        let (entered_tx, entered_rx) = mpsc::channel();
        let entered_tx = Mutex::new(entered_tx);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let _sub = n.subscribe(Box::new(move |_, new| {
            s.lock().unwrap().push((new.to_owned(), std::thread::current().id()));
            if new == "v1" {
                entered_tx.lock().unwrap().send(()).unwrap();
                std::thread::sleep(Duration::from_millis(300));
            }
        }));
        // A change no caller in particular delivers (an async call's), taken by another thread.
        n.stored(Some("v1"), 0);
        let n2 = n.clone();
        let other = std::thread::spawn(move || {
            n2.deliver();
            std::thread::current().id()
        });
        entered_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // Meanwhile a blocking call on this thread stores v2 and delivers before it returns.
        crate::runtime::block_on(async {
            n.stored(Some("v2"), 0);
            Ok(())
        })
        .unwrap();
        n.deliver();
        let me = std::thread::current().id();
        assert!(
            seen.lock().unwrap().iter().any(|(v, t)| v == "v2" && *t == me),
            "v2 was not delivered on the blocking caller's thread before it returned: {:?}",
            seen.lock().unwrap()
        );
        let other = other.join().unwrap();
        assert_eq!(*seen.lock().unwrap(), [("v1".to_owned(), other), ("v2".to_owned(), me)]);
    }

    #[test]
    fn a_replaced_managers_generation_notifies_nothing() {
        let n = Arc::new(Notifier::default());
        let (_sub, seen) = recording(&n);
        n.stored(Some("a1"), 0);
        let next = n.next_generation();
        n.stored(Some("b1"), next);
        n.stored(Some("a2"), 0); // the replaced manager's fetch, still in flight, lands
        n.stored(Some("b1"), next);
        n.deliver();
        assert_eq!(
            *seen.lock().unwrap(),
            [(None, "a1".to_owned()), (Some("a1".to_owned()), "b1".to_owned())]
        );
    }
}
