//! The hit answered without the state lock: the state publishes, whenever it changes, what a
//! hit would answer and until when, and the hit path reads that instead of locking.
//!
//! Why: every hit used to lock the state mutex (two atomic read-modify-writes) and read the
//! precise clock (`Instant::now()`, ~36 ns virtualised), and measured, the lock became the
//! largest part of a hit once the state moved into its own shared allocation
//! (bench/overhead/RESULTS.md, "Core's hit path"). A hit changes nothing, so it needs no lock:
//! it needs a consistent pair (value, deadline), which an [`ArcSwapOption`] gives without one.
//!
//! The rule that keeps it exact: the view answers only where the locked path would answer the
//! same, and only until the first instant at which anything but a state change could change
//! that answer: the end of the TTL, or the refresh-ahead point (from there the locked path
//! decides whether to start a background refresh). Everything else that changes a hit's answer
//! (a fetch storing a value, `invalidate()`, a testing override, new settings, a fetch going
//! through a caller's fetch) changes the state, and every change republishes the view: the
//! only way to the state is [`StateGuard`], which republishes on drop after any mutable access,
//! while it still holds the lock (so views are published in the order the changes were made).
//! A restore from a snapshot changes the process-wide epoch instead, which the view checks as
//! the locked path does. Where the view does not answer, the locked path runs as before.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, MutexGuard};

use arc_swap::ArcSwapOption;

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
pub(super) type View = Arc<ArcSwapOption<HitView>>;

/// The value a hit answers now, from the published view, without the state lock; `None` when
/// the locked path must decide. `entries_only` skips a testing override (a caller that
/// must report a settings error before an override answers).
#[inline]
pub(super) fn answer(view: &ArcSwapOption<HitView>, entries_only: bool) -> Option<Arc<Secret>> {
    let guard = view.load();
    let view = guard.as_deref()?;
    if entries_only && !view.is_entry() {
        return None;
    }
    view.answer().cloned()
}

/// The state, locked; republishes the hit view when dropped after a mutable access.
pub(super) struct StateGuard<'a> {
    state: ManuallyDrop<MutexGuard<'a, State>>,
    view: &'a ArcSwapOption<HitView>,
    changed: bool,
}

impl<'a> StateGuard<'a> {
    pub(super) fn new(state: MutexGuard<'a, State>, view: &'a ArcSwapOption<HitView>) -> StateGuard<'a> {
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
        let replaced = self
            .changed
            .then(|| self.view.swap(HitView::of(&self.state).map(Arc::new)));
        // SAFETY: dropped once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.state) };
        // Outside the lock: this may be the last holder of a large value (zeroized on drop).
        drop(replaced);
    }
}
