//! The hit decided from a summary the state keeps up to date, not from the state itself:
//! whenever the state changes it publishes what a hit would answer and until when, and the hit
//! path reads that, under its own lock, with a cheap clock.
//!
//! Why: a hit used to lock the state, resolve the jittered TTL from the settings and read the
//! precise clock (`Instant::now()`, ~36 ns virtualised). The published view is a value and a
//! [`Deadline`] (the coarse clock decides while far from it), behind a lock of its own that
//! only hits and republishing take, so hits neither compute the TTL nor wait behind whoever
//! holds the state (a fetch recording its outcome, `stats()`). A lock-free `ArcSwap` was tried
//! for the view and measured slower than this lock at the release profile, but by a comparison
//! that may have mixed builds (bench/overhead/RESULTS.md, fourth and fifth rounds of "core's hit
//! path"); it was not measured again.
//!
//! The rule that keeps it exact: the view answers only where the locked path would answer the
//! same, and only until the first instant at which anything but a state change could change
//! that answer: the end of the TTL, or the refresh-ahead point (from there the locked path
//! decides whether to start a background refresh). Everything else that changes a hit's answer
//! (a fetch storing a value, `invalidate()`, a testing override, new settings, a fetch going
//! through a caller's fetch) changes the state, and every change republishes the view: the
//! only way to the state is [`StateGuard`], which republishes on drop after any mutable access,
//! while it still holds the state lock (so views are published in the order the changes were
//! made; the lock order is always state, then view). A restore from a snapshot changes the
//! process-wide epoch instead, which the view checks as the locked path does. Where the view
//! does not answer, the locked path runs as before.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use super::state::State;
use crate::deadline::Deadline;
use crate::document::Secret;

/// What a hit answers, and until when.
pub(super) struct HitView {
    secret: Arc<Secret>,
    /// `None`: no deadline (a testing override; TTL `never` without refresh-ahead).
    until: Option<Deadline>,
    /// The restore epoch the entry was fetched in ([`crate::snapshot::epoch`]); `None` for a
    /// testing override, which the clock does not concern.
    epoch: Option<u64>,
}

impl HitView {
    /// What a hit on `state` answers from now on, if anything (see the module doc).
    fn of(state: &State) -> Option<HitView> {
        if let Some(pinned) = state.overrides.innermost() {
            return Some(HitView {
                secret: pinned.clone(),
                until: None,
                epoch: None,
            });
        }
        let settings = state.settings.as_ref()?;
        let entry = state.entry.as_ref()?;
        let ahead = settings.refresh_ahead_after().filter(|_| !state.caller_fetches);
        let until = match [settings.fresh_for(), ahead].into_iter().flatten().min() {
            // An instant the clock cannot represent: the locked path decides.
            Some(after) => Some(Deadline::new(entry.fetched_at.checked_add(after)?)),
            None => None,
        };
        Some(HitView {
            secret: entry.secret.clone(),
            until,
            epoch: Some(entry.epoch),
        })
    }

    /// The value, if a hit now is answered with it.
    #[inline]
    fn answer(&self) -> Option<&Arc<Secret>> {
        if self.epoch.is_some_and(|epoch| epoch != crate::snapshot::epoch()) {
            return None;
        }
        match &self.until {
            Some(deadline) if !deadline.not_passed() => None,
            _ => Some(&self.secret),
        }
    }

    /// Whether it is the cached entry (not a testing override).
    fn is_entry(&self) -> bool {
        self.epoch.is_some()
    }
}

/// The published view (shared with the background refresh-ahead task, like the state).
pub(super) type View = Arc<Mutex<Option<HitView>>>;

/// The value a hit answers now, from the published view, without the state lock; `None` when
/// the locked path must decide. `entries_only` skips a testing override (a caller that
/// must report a settings error before an override answers).
#[inline]
pub(super) fn answer(view: &Mutex<Option<HitView>>, entries_only: bool) -> Option<Arc<Secret>> {
    let guard = view.lock().unwrap_or_else(|p| p.into_inner());
    let view = guard.as_ref()?;
    if entries_only && !view.is_entry() {
        return None;
    }
    view.answer().cloned()
}

/// The state, locked; republishes the hit view when dropped after a mutable access.
pub(super) struct StateGuard<'a> {
    state: ManuallyDrop<MutexGuard<'a, State>>,
    view: &'a Mutex<Option<HitView>>,
    changed: bool,
}

impl<'a> StateGuard<'a> {
    pub(super) fn new(state: MutexGuard<'a, State>, view: &'a Mutex<Option<HitView>>) -> StateGuard<'a> {
        StateGuard {
            state: ManuallyDrop::new(state),
            view,
            changed: false,
        }
    }
}

impl Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.changed = true;
        &mut self.state
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        let replaced = self.changed.then(|| {
            std::mem::replace(
                &mut *self.view.lock().unwrap_or_else(|p| p.into_inner()),
                HitView::of(&self.state),
            )
        });
        // SAFETY: dropped once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.state) };
        // Outside the lock: this may be the last holder of a large value (zeroized on drop).
        drop(replaced);
    }
}
