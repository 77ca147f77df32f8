//! `SecretsManager`: one core [`Core`] plus the `dict` converted from its current value.
//!
//! The dict is kept next to the core's `Arc<Secret>` it was built from. The core keeps the
//! same `Arc` while the VersionId is unchanged (even across TTL refreshes), so
//! `Arc::ptr_eq` says whether the dict is still the right one: repeated access returns the
//! very same dict object, and a new version gets a new dict.
//!
//! The hot path (`SECRETS_MANAGER.secrets` on a warm cache) must cost about what Starfleet's
//! plain lazy property costs, while still honouring the TTL. So next to the dict the binding
//! keeps the instant until which the core vouched for that value (`Core::fresh_until`: the
//! core computes it from its TTL rules; `never` and a testing override are "forever"). A hit
//! is then one short lock, one clock read and a counter increment (`Core::record_hit`, so
//! `stats()` stays exact). Anything else (expired, never vouched, stale-if-error, TTL `0`)
//! goes through the core, which decides.
//!
//! Host configuration and Starfleet's test hooks: a `config=` mapping or callable is
//! consulted before each load ([`host_config`]); `_secrets` (Starfleet's own attribute, which
//! its test fixtures assign) serves the assigned dict itself; while moto's in-process mock is
//! active, loads go through it ([`mock`]).
//!
//! Locking: `inner` is only ever locked while attached to the interpreter and never held
//! across a call that waits (fetches run inside [`gil::blocking`], with the GIL released
//! and `inner` unlocked), and nothing that can run Python code (dict conversion, dropping
//! a dict) happens under it. A cache hit is answered under the GIL without releasing it:
//! it does no I/O and takes only short locks.
//!
//! By concern: [`options`] (construction: `configure()`'s arguments, passed through to core),
//! [`methods`] (what Python sees: the one `#[pymethods]` block), [`reads`] (hits, loads, the
//! kept dict, lookups), [`paths`] (the key paths `get()` keeps parsed), [`overrides`]
//! (`_secrets` and the testing overrides), [`get_entry`] (`get(path)`'s own entry from Python,
//! for the call's cost under the stable ABI).

pub(crate) mod get_entry;
mod methods;
mod options;
mod overrides;
mod paths;
mod reads;

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use pyo3::exceptions::PyTypeError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use pyo3::PyTraverseError;
use starfleet_secrets::deadline::Deadline;
use starfleet_secrets::options::Naming;
use starfleet_secrets::snapshot;
use starfleet_secrets::{Code, Document, Options, OverrideToken, Path, Payload, Secret, SecretsManager as Core};
use zeroize::Zeroizing;

use crate::errors::{self, IntoPy};
use crate::host_config::Host;
use crate::{convert, gil, mock};
use paths::KeptPath;

/// The dict built from one value of the core, and whether the core vouched for it.
struct Converted {
    secret: Arc<Secret>,
    dict: Py<PyDict>,
    /// `Core::fresh_until` when last asked: `Some(None)` = fresh for good, `Some(Some(t))` =
    /// fresh until `t` (a [`Deadline`]: checking it costs a few ns, not a clock read), `None`
    /// = ask the core.
    fresh: Option<Option<Deadline>>,
    /// The restore epoch (`starfleet_secrets::snapshot::epoch`) `fresh` was vouched in: after
    /// a restore, no instant from before it is trusted, whichever manager's hook was called.
    epoch: u64,
}

impl Converted {
    fn fresh_now(&self) -> bool {
        if self.epoch != snapshot::epoch() {
            return false;
        }
        match &self.fresh {
            Some(None) => true,
            Some(Some(until)) => until.not_passed(),
            None => false,
        }
    }
}

/// `Core::fresh_until`'s answer, kept as a [`Deadline`].
fn vouched(fresh: Option<Option<Instant>>) -> Option<Option<Deadline>> {
    fresh.map(|until| until.map(Deadline::new))
}

struct Inner {
    core: Arc<Core>,
    /// The dict built from the core's current value.
    converted: Option<Converted>,
    /// `config=` as a mapping or callable of the host application, consulted before each load.
    host: Option<Host>,
    /// Starfleet's `_secrets = d`: the dict itself is served while its core override (an
    /// assigned one, see `starfleet_secrets::overrides`) is the innermost, and its current
    /// content is handed to the core again at each access that reads through the core.
    assigned: Option<(Py<PyDict>, OverrideToken)>,
    /// The key paths `get()` was called with, parsed ([`KeptPath`]).
    paths: Vec<KeptPath>,
}

impl Inner {
    /// The kept dict if it was built from this very value, with the core's word on how
    /// long it stays fresh taken again.
    fn dict_for(&mut self, secret: &Arc<Secret>) -> Option<&Py<PyDict>> {
        let epoch = snapshot::epoch(); // before the core's answer, so a restore between voids it
        let fresh = vouched(self.core.fresh_until(secret));
        match &mut self.converted {
            Some(c) if Arc::ptr_eq(&c.secret, secret) => {
                c.fresh = fresh;
                c.epoch = epoch;
                Some(&c.dict)
            }
            _ => None,
        }
    }

    /// The value must be asked from the core again (after a refresh).
    fn unvouch(&mut self) {
        if let Some(c) = &mut self.converted {
            c.fresh = None;
        }
    }
}

/// The Starfleet secret (or any other), lazily loaded and cached per its TTL.
#[pyclass(module = "starfleet_secrets._native", name = "SecretsManager", subclass, frozen)]
pub struct SecretsManager {
    inner: Mutex<Inner>,
    /// The `on_change` callbacks' one strong reference each, shown to the garbage collector
    /// as this object's (see `crate::on_change`): a callback that captures its manager makes
    /// a cycle through the core, which the collector can then find and break.
    callbacks: Mutex<Vec<crate::on_change::Slot>>,
}

impl SecretsManager {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding it; the state is valid between statements anyway.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn core(&self) -> Arc<Core> {
        self.lock().core.clone()
    }
}
