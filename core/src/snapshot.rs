//! Snapshot and restore (Lambda SnapStart, Firecracker, CRIU): what the process-wide state
//! needs when one memory image is restored into many execution environments, possibly days
//! after it was taken.
//!
//! A restored process inherits everything a snapshot froze, and each of these is wrong there:
//!
//! * the expiry-jitter share ([`crate::jitter`]): every environment restored from one snapshot
//!   would hold the same share and refresh in lockstep, which the jitter exists to prevent;
//! * pooled TLS connections: their peers forgot them long ago (a request sent on one goes into
//!   a black hole until the hedge or the deadline);
//! * the SDK clients (cached per process, region, endpoint and deadline in
//!   [`crate::source`]), which hold credentials resolved at snapshot time;
//! * every cached value's age: `Instant` (`CLOCK_MONOTONIC`) does not measure the time the
//!   image spent on disk, so an age computed across the restore means nothing.
//!
//! [`restored`] (called by `SecretsManager::after_restore`) redraws the share, drops the
//! clients (and with them their pools and cached credentials), and starts a new *restore
//! epoch*. Every entry records the epoch it was fetched in; an entry of an earlier epoch is
//! never fresh (whatever its TTL, `never` included), so the first access after a restore
//! fetches once (single-flight), within the fetch deadline. While that fetch fails, the value
//! is served per stale-if-error, counting its staleness from the restore (as if it had
//! expired then): no age measured across the restore is trusted. The epoch is process-wide,
//! so a manager whose own hook was not called is not trusted either.
//!
//! Nothing here waits: no lock held across I/O is taken and nothing touches the network, so
//! the hooks return in milliseconds (dropping the SDK clients is most of it) even while a
//! fetch hangs (Lambda gives its hooks 10 s).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The current restore epoch: 0 until the first restore, then one more per restore.
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// When the last restore was reported (the stale-if-error window of an older entry starts here).
static RESTORED_AT: Mutex<Option<Instant>> = Mutex::new(None);

/// The current restore epoch (a relaxed atomic load: every hit reads it).
#[inline]
pub fn epoch() -> u64 {
    EPOCH.load(Ordering::Relaxed)
}

/// When the last restore was reported, if any.
pub fn restored_at() -> Option<Instant> {
    *RESTORED_AT.lock().unwrap_or_else(|p| p.into_inner())
}

/// The process was restored from a snapshot: new jitter share, no SDK client, connection or
/// credentials from before, a new epoch. Never blocks on I/O.
pub fn restored() {
    crate::jitter::redraw();
    crate::source::forget_clients();
    *RESTORED_AT.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    EPOCH.fetch_add(1, Ordering::Relaxed);
}

/// The process is about to be snapshotted: its pooled connections (dead after any restore)
/// and SDK clients are dropped now, so the image holds no socket and no buffer a connection
/// kept (which can hold a response's plaintext until the connection is dropped).
pub fn before_snapshot() {
    crate::source::forget_clients();
}
