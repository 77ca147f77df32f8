//! "Is it still before this instant?" in a few nanoseconds, for the bindings' hit paths.
//!
//! A binding answers a warm read from the object it converted, for as long as the cache said
//! it is fresh ([`crate::SecretsManager::fresh_until`]); that takes one clock read per read.
//! `Instant::now()` is `CLOCK_MONOTONIC`, ~36 ns on a virtualised x86 (the TSC read and its
//! scaling), a third of a Python `.secrets[...]` read. On Linux a [`Deadline`] first reads
//! `CLOCK_MONOTONIC_COARSE` (~6 ns: the time of the last clock tick, no hardware read), which
//! never runs ahead of `CLOCK_MONOTONIC` and lags it by at most about one tick (its
//! resolution, 1–10 ms). While that coarse time is more than [`MARGIN`] (plus two ticks) before
//! the deadline, the instant has surely not passed; closer to it (or on other systems) the
//! precise clock decides, as before. So the answer is never "not passed" after the instant:
//! a value is never served past the TTL the cache computed; the coarse clock only makes the
//! common case (far from expiry) cheap.

use std::time::{Duration, Instant};

/// How much earlier than the deadline the coarse clock stops deciding (plus two of its
/// ticks): far more than it can lag, so a vCPU stalled by its host, or a late tick, cannot
/// turn "not passed" into a wrong answer. Within it the precise clock is read.
pub const MARGIN: Duration = Duration::from_millis(50);

/// An instant, and when the coarse clock alone may say it has not passed (see the module doc).
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    until: Instant,
    /// `CLOCK_MONOTONIC_COARSE` nanoseconds before which `until` has surely not passed
    /// (0: always ask the precise clock).
    coarse_before: u64,
}

impl Deadline {
    pub fn new(until: Instant) -> Deadline {
        let now = Instant::now();
        let coarse_before = match coarse::now_ns() {
            Some(coarse_now) => {
                let left = until.saturating_duration_since(now);
                let margin = MARGIN + coarse::resolution() * 2;
                left.checked_sub(margin)
                    .and_then(|d| u64::try_from(d.as_nanos()).ok())
                    .and_then(|d| coarse_now.checked_add(d))
                    .unwrap_or(0)
            }
            None => 0,
        };
        Deadline { until, coarse_before }
    }

    /// The instant this deadline was made from.
    pub fn until(&self) -> Instant {
        self.until
    }

    /// Whether now is still before the deadline.
    #[inline]
    pub fn not_passed(&self) -> bool {
        if self.coarse_before != 0 && coarse::now_ns().is_some_and(|now| now < self.coarse_before) {
            return true;
        }
        Instant::now() < self.until
    }
}

#[cfg(target_os = "linux")]
mod coarse {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::time::Duration;

    fn nanos(ts: &libc::timespec) -> Option<u64> {
        u64::try_from(ts.tv_sec)
            .ok()?
            .checked_mul(1_000_000_000)?
            .checked_add(u64::try_from(ts.tv_nsec).ok()?)
    }

    /// `CLOCK_MONOTONIC_COARSE` in nanoseconds (a vDSO read, no system call).
    #[inline]
    pub fn now_ns() -> Option<u64> {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: writes one timespec we own.
        if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } != 0 {
            return None;
        }
        nanos(&ts)
    }

    /// The coarse clock's tick (its resolution), asked once; 10 ms if the system does not say.
    pub fn resolution() -> Duration {
        static RES_NS: AtomicU64 = AtomicU64::new(0);
        let mut ns = RES_NS.load(Relaxed);
        if ns == 0 {
            let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: writes one timespec we own.
            let asked = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } == 0;
            ns = asked
                .then(|| nanos(&ts))
                .flatten()
                .filter(|&r| r > 0)
                .unwrap_or(10_000_000);
            RES_NS.store(ns, Relaxed);
        }
        Duration::from_nanos(ns)
    }
}

#[cfg(not(target_os = "linux"))]
mod coarse {
    use std::time::Duration;

    pub fn now_ns() -> Option<u64> {
        None
    }

    pub fn resolution() -> Duration {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_passes_exactly_when_its_instant_does() {
        let far = Deadline::new(Instant::now() + Duration::from_secs(3600));
        assert!(far.not_passed());
        let past = Deadline::new(Instant::now() - Duration::from_millis(1));
        assert!(!past.not_passed());
        // Within the margin the precise clock decides: a deadline 20 ms out is not passed
        // now, and is once 20 ms have gone by, however coarse the clock.
        let near = Deadline::new(Instant::now() + Duration::from_millis(20));
        assert!(near.not_passed());
        std::thread::sleep(Duration::from_millis(25));
        assert!(!near.not_passed());
    }

    #[test]
    fn the_coarse_clock_never_decides_past_the_instant() {
        // A deadline just beyond the margin: the coarse clock answers at first; once the
        // instant has passed by the precise clock, the answer must be "passed".
        let until = Instant::now() + MARGIN + coarse::resolution() * 2 + Duration::from_millis(30);
        let d = Deadline::new(until);
        assert_eq!(d.until(), until);
        while Instant::now() < until {
            assert!(d.not_passed() || Instant::now() >= until);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!d.not_passed());
    }
}
