//! Fleet expiry jitter: each process expires its entries up to a fraction of the TTL early,
//! by its own random share, so a fleet started by one deploy does not refresh in lockstep.
//!
//! The share is drawn from the OS random number generator at first use and drawn again in a
//! child after `fork()` (keyed by pid, as the runtime is): a pre-forking server's workers
//! would otherwise all inherit their parent's share and expire together. Jitter only ever
//! shortens a TTL, so no value is served staler than the caller asked.

use std::sync::Mutex;
use std::time::Duration;

static SHARE: Mutex<Option<(u32, f64)>> = Mutex::new(None);

/// `ttl` shortened by `jitter` × this process's share (a number in `[0, 1)`).
pub fn shorten(ttl: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return ttl;
    }
    shorten_by(ttl, jitter, process_share())
}

/// `ttl × (1 − jitter × share)`: within `[ttl × (1 − jitter), ttl]` for a share in `[0, 1)`.
fn shorten_by(ttl: Duration, jitter: f64, share: f64) -> Duration {
    ttl.mul_f64((1.0 - jitter * share).clamp(0.0, 1.0))
}

/// This process's share, drawn on first use (first use after a fork in a child).
fn process_share() -> f64 {
    let pid = std::process::id();
    let mut slot = SHARE.lock().unwrap_or_else(|p| p.into_inner());
    match *slot {
        Some((owner, share)) if owner == pid => share,
        _ => {
            let share = draw();
            *slot = Some((pid, share));
            share
        }
    }
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
}
