//! Fleet expiry jitter: each process expires its entries up to a fraction of the TTL early,
//! by its own random share, so a fleet started by one deploy does not refresh in lockstep.
//!
//! The share is drawn from the OS random number generator at first use and drawn again in a
//! child after `fork()` (a `pthread_atfork` handler forgets it there): a pre-forking server's workers
//! would otherwise all inherit their parent's share and expire together. For the same reason
//! it is drawn again after a restore from a snapshot ([`redraw`], called by
//! [`crate::snapshot::restored`]): environments restored from one image would otherwise share
//! one. Jitter only ever shortens a TTL, so no value is served staler than the caller asked.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

/// This process's share as `f64` bits; [`UNDRAWN`] until drawn, and again in a forked child.
/// An atomic, not a lock or a pid check: every cache hit reads it (a `getpid` per hit would be
/// a system call on the hot path).
static SHARE: AtomicU64 = AtomicU64::new(UNDRAWN);
/// Not the bits of any number in `[0, 1)` (it is a NaN).
const UNDRAWN: u64 = u64::MAX;
static FORGET_AFTER_FORK: Once = Once::new();

/// `ttl` shortened by `jitter` × this process's share (a number in `[0, 1)`).
pub fn shorten(ttl: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return ttl;
    }
    shorten_by(ttl, jitter, process_share())
}

/// `ttl × (1 − jitter × share)`: within `[ttl × (1 − jitter), ttl]` for a share in `[0, 1)`.
/// Every cache hit computes it, so in whole nanoseconds (one float multiply and two
/// conversions, which saturate) rather than with `Duration::mul_f64`, whose checked float →
/// `Duration` conversion was most of what the jitter added to a hit. A TTL beyond `u64`
/// nanoseconds (584 years) is not shortened.
fn shorten_by(ttl: Duration, jitter: f64, share: f64) -> Duration {
    let Ok(nanos) = u64::try_from(ttl.as_nanos()) else {
        return ttl;
    };
    let kept = (nanos as f64 * (1.0 - jitter * share).clamp(0.0, 1.0)) as u64;
    Duration::from_nanos(kept.min(nanos))
}

/// This process's share, drawn on first use (first use after a fork in a child).
fn process_share() -> f64 {
    let bits = SHARE.load(Ordering::Relaxed);
    if bits != UNDRAWN {
        return f64::from_bits(bits);
    }
    FORGET_AFTER_FORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic, which is what a child
        // may do between fork() and exec().
        unsafe { libc::pthread_atfork(None, None, Some(forget_share)) };
    });
    let drawn = draw().to_bits();
    // Threads racing on the first draw agree on one share: the first stored.
    match SHARE.compare_exchange(UNDRAWN, drawn, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => f64::from_bits(drawn),
        Err(first) => f64::from_bits(first),
    }
}

/// Draw a new share now (after a restore from a snapshot: see [`crate::snapshot`]).
pub fn redraw() {
    SHARE.store(draw().to_bits(), Ordering::Relaxed);
}

/// In a child after `fork()`: draw a share of its own at first use.
extern "C" fn forget_share() {
    SHARE.store(UNDRAWN, Ordering::Relaxed);
}

/// A uniform number in `[0, 1)` from the OS generator (53 random bits). Should the OS refuse,
/// the share is 0: no jitter, the TTL as asked.
fn draw() -> f64 {
    let mut bytes = [0u8; 8];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(e) => {
            log::warn!("no random number for the expiry jitter ({e}); expiring at the full TTL");
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_shortens_within_the_jitter_and_never_lengthens() {
        let ttl = Duration::from_secs(100);
        assert_eq!(shorten_by(ttl, 0.1, 0.0), ttl);
        assert_eq!(shorten_by(ttl, 0.1, 0.5), Duration::from_secs(95));
        assert!(shorten_by(ttl, 0.1, 0.999_999) > Duration::from_secs(90));
        assert_ne!(shorten_by(ttl, 0.1, 0.25), shorten_by(ttl, 0.1, 0.75));
        assert_eq!(shorten(ttl, 0.0), ttl);
        let mine = shorten(ttl, 0.1);
        assert!(mine <= ttl && mine >= Duration::from_secs(90), "{mine:?}");
        assert_eq!(shorten(ttl, 0.1), mine, "one share per process");
    }

    #[test]
    fn a_forked_child_draws_its_own_share() {
        let parent = process_share();
        let mut fds = [0; 2];
        // SAFETY: a pipe, and a child that only computes, writes 8 bytes and exits.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            match libc::fork() {
                0 => {
                    let child = process_share().to_bits().to_le_bytes();
                    libc::write(fds[1], child.as_ptr().cast(), 8);
                    libc::_exit(0);
                }
                pid => {
                    assert!(pid > 0);
                    let mut bytes = [0u8; 8];
                    assert_eq!(libc::read(fds[0], bytes.as_mut_ptr().cast(), 8), 8);
                    libc::waitpid(pid, std::ptr::null_mut(), 0);
                    let child = f64::from_bits(u64::from_le_bytes(bytes));
                    assert!((0.0..1.0).contains(&child));
                    assert_ne!(child, parent, "the child kept its parent's share");
                    assert_eq!(process_share(), parent, "the parent keeps its own");
                }
            }
        }
    }
}
