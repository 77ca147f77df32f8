//! `SecretsManager.on_change(callback)`: the core's subscribers ([`starfleet_secrets::notify`])
//! as Python callables.
//!
//! Which thread runs the callback: the core runs subscribers on the thread of the blocking
//! call that stored the new version (here always a Python thread, inside [`gil::blocking`]
//! with the GIL released, so the callback attaches as usual), and for fetches made on the
//! runtime (the asyncio methods) on the core's notification thread. Never on a runtime
//! thread. The notification thread is not a Python `threading` thread, so it never keeps the
//! interpreter alive; after the `atexit` hook it parks instead of attaching.
//!
//! A callback that raises is logged under `starfleet_secrets` (the exception's type only: its
//! message could quote anything) and swallowed: the read that stored the value is unaffected.
//!
//! The callback's one strong reference is a [`Slot`] that the Python manager lists and shows
//! to the garbage collector (`__traverse__`), and empties in `__clear__`: the usual
//! `m.on_change(lambda old, new: rebuild(m))` is a cycle through the core (manager → core →
//! subscriber → callback → manager) that the collector could not see otherwise, so the
//! manager would never be freed. `cancel()` empties the slot too.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use starfleet_secrets::{SecretsManager as Core, Subscription};

use crate::{gil, logbridge};

/// What `on_change` returns: `cancel()` stops the calls.
#[pyclass(module = "starfleet_secrets._native", name = "ChangeSubscription", frozen)]
pub struct ChangeSubscription {
    subscription: Subscription,
    slot: Slot,
}

/// Where a subscribed callback is held (see the module doc); empty once cleared or cancelled.
pub type Slot = Arc<Mutex<Option<Py<PyAny>>>>;

/// Take the callback out of `slot` (the caller drops it, outside its own locks).
pub fn clear(slot: &Slot) -> Option<Py<PyAny>> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// Whether `slot` still holds its callback.
pub fn in_use(slot: &Slot) -> bool {
    slot.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

#[pymethods]
impl ChangeSubscription {
    /// Stop the calls: none starts after this returns (a call running on another thread is
    /// waited for, with the GIL released). From inside the callback itself it returns at once.
    fn cancel(&self, py: Python<'_>) {
        py.detach(|| self.subscription.cancel());
        drop(clear(&self.slot)); // no call starts any more: the callback can go
    }

    #[getter]
    fn cancelled(&self) -> bool {
        self.subscription.is_cancelled()
    }

    fn __repr__(&self) -> String {
        let state = if self.subscription.is_cancelled() {
            "cancelled"
        } else {
            "active"
        };
        format!("<starfleet_secrets.ChangeSubscription {state}>")
    }
}

/// Subscribe `callback(old_version_id or None, new_version_id)` to `core`'s changes; the
/// slot that holds it is for the manager to list (see the module doc).
pub fn subscribe(core: &Core, callback: Py<PyAny>) -> (ChangeSubscription, Slot) {
    let slot: Slot = Arc::new(Mutex::new(Some(callback)));
    let held = slot.clone();
    let subscription = core.on_change(move |old, new| {
        gil::park_if_exiting();
        Python::attach(|py| {
            let callback = {
                let held = held.lock().unwrap_or_else(|p| p.into_inner());
                held.as_ref().map(|c| c.clone_ref(py))
            };
            let Some(callback) = callback else {
                return; // cleared: the manager is being freed, or the subscription cancelled
            };
            if let Err(e) = callback.call1(py, (old, new)) {
                let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default();
                log::error!(
                    "on_change callback raised {kind} (version {} -> {new}); ignored",
                    old.unwrap_or("none")
                );
            }
            logbridge::drain(py);
        })
    });
    (
        ChangeSubscription {
            subscription,
            slot: slot.clone(),
        },
        slot,
    )
}
