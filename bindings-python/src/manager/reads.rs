//! Reads: a hit answered under the GIL, a load with it released (after the host's
//! configuration is handed over, through moto's mock while one is active), the kept dict and
//! lookups in it.

use super::paths::kept_path;
use super::*;

impl SecretsManager {
    /// A hit, answered without releasing the GIL, or `Err(core)` to go the blocking way.
    pub(super) fn try_hit(&self) -> Result<Arc<Secret>, Arc<Core>> {
        let inner = self.lock();
        if let Some(c) = inner.converted.as_ref().filter(|c| c.fresh_now()) {
            inner.core.record_hit();
            return Ok(c.secret.clone());
        }
        if let Some(secret) = inner.core.try_hit() {
            return Ok(secret);
        }
        Err(inner.core.clone())
    }

    /// The current value: a hit, or a (GIL-released) load.
    pub fn access(&self, py: Python<'_>) -> PyResult<Arc<Secret>> {
        self.rehand_assigned(py)?;
        match self.try_hit() {
            Ok(secret) => Ok(secret),
            Err(core) => self.load(py, core, false),
        }
    }

    /// `core.secret()` or `core.refresh()` with the GIL released, after handing the core the
    /// host's configuration; through moto's mock while one is active. Nothing is consulted
    /// while a value is pinned (it is served whatever the configuration says).
    pub(super) fn load(&self, py: Python<'_>, core: Arc<Core>, refresh: bool) -> PyResult<Arc<Secret>> {
        let pinned = core.override_depth() > 0;
        let mocked = !pinned && {
            self.consult_host(py, &core)?;
            mock::active(py)
        };
        if refresh {
            // An `on_change` callback runs inside the refresh and may read the manager: it
            // must not be answered from the dict of the version being replaced.
            self.unvouch(&core);
        }
        let worker = core.clone();
        let result = gil::blocking(py, move || {
            let mut through_mock = mock::fetch;
            match (refresh, mocked) {
                (false, false) => worker.secret_blocking(),
                (true, false) => worker.refresh_blocking(),
                (false, true) => worker.secret_blocking_with(&mut through_mock),
                (true, true) => worker.refresh_blocking_with(&mut through_mock),
            }
        });
        if refresh {
            self.unvouch(&core);
        }
        result.py_err(py)
    }

    /// The kept dict must be vouched for by `core` again (around a refresh).
    pub(super) fn unvouch(&self, core: &Arc<Core>) {
        let mut inner = self.lock();
        if Arc::ptr_eq(&inner.core, core) {
            inner.unvouch();
        }
    }

    /// Hand the core the host's configuration as it is now (nothing without one). When the
    /// settings change (or stop resolving) the kept dict goes with the core's value.
    pub(super) fn consult_host(&self, py: Python<'_>, core: &Arc<Core>) -> PyResult<()> {
        let Some(host) = self.lock().host.as_ref().map(|h| h.clone_ref(py)) else {
            return Ok(());
        };
        let source = host.source(py)?; // runs the host's code: outside our lock
        let worker = core.clone();
        let result = gil::blocking(py, move || worker.use_config(source)); // a path is read
        if !matches!(result, Ok(false)) {
            let dropped = {
                let mut inner = self.lock();
                if Arc::ptr_eq(&inner.core, core) {
                    inner.converted.take()
                } else {
                    None
                }
            };
            drop(dropped); // outside the lock: freeing a dict may run arbitrary code
        }
        result.py_err(py).map(drop)
    }

    /// The dict for `secret`: the kept one if it was built from this very value (the dict
    /// assigned to `_secrets` while that is what is served).
    pub fn dict<'py>(&self, py: Python<'py>, secret: &Arc<Secret>) -> PyResult<Bound<'py, PyDict>> {
        let core = {
            let mut inner = self.lock();
            if let Some(d) = inner.assigned() {
                return Ok(d.bind(py).clone());
            }
            if let Some(d) = inner.dict_for(secret) {
                return Ok(d.bind(py).clone());
            }
            inner.core.clone()
        };
        let document = secret.document().py_err(py)?;
        let dict = convert::object(py, document.root())?;
        let replaced = {
            let mut inner = self.lock();
            if let Some(d) = inner.dict_for(secret) {
                return Ok(d.bind(py).clone()); // another thread converted it meanwhile
            }
            if !Arc::ptr_eq(&inner.core, &core) {
                return Ok(dict); // configure() replaced the core meanwhile: do not keep it
            }
            let epoch = starfleet_secrets::snapshot::epoch();
            let fresh = vouched(inner.core.fresh_until(secret));
            inner.converted.replace(Converted {
                secret: secret.clone(),
                dict: dict.clone().unbind(),
                fresh,
                epoch,
            })
        };
        drop(replaced); // outside the lock: freeing a dict may run arbitrary code
        Ok(dict)
    }

    /// The value at `path` in `secret` (the very object inside the kept dict), or `default`
    /// when the path does not exist and a default was given.
    pub fn lookup<'py>(
        &self,
        py: Python<'py>,
        secret: &Arc<Secret>,
        path: &Path,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = match secret.get(path) {
            Ok(v) => v,
            Err(e) if e.code() == Code::KeyNotFound => return default.ok_or_else(|| errors::to_py(py, &e)),
            Err(e) => return Err(errors::to_py(py, &e)),
        };
        let kept = self
            .lock()
            .converted
            .as_ref()
            .filter(|c| Arc::ptr_eq(&c.secret, secret))
            .map(|c| c.dict.bind(py).clone());
        let mut node = match kept {
            Some(dict) => dict,
            None => self.dict(py, secret)?,
        }
        .into_any();
        for key in path.keys() {
            match node
                .cast::<PyDict>()
                .ok()
                .map(|d| d.get_item(key))
                .transpose()?
                .flatten()
            {
                Some(next) => node = next,
                // The caller changed the shared dict; answer from the document instead.
                None => return convert::value(py, value),
            }
        }
        Ok(node)
    }

    pub fn binary<'py>(&self, py: Python<'py>, secret: &Secret) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, secret.binary().py_err(py)?))
    }

    /// `get(text)` answered from the kept dict when it is fresh and `text` is a path it holds:
    /// what [`lookup`](Self::lookup) would return (the object inside the kept dict, the path
    /// checked against the document first), without parsing the path again. `None` sends
    /// the call the general way (not fresh, a dict assigned to `_secrets`, a path not found,
    /// a bad path), which decides and raises.
    pub(super) fn hit_at<'py>(&self, py: Python<'py>, text: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
        // An exact str: comparing it with a kept one runs no Python code (under our lock).
        if !text.is_exact_instance_of::<PyString>() {
            return None;
        }
        let text = text.cast::<PyString>().ok()?;
        let (dict, keys, core) = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            if inner.assigned.is_some() {
                return None;
            }
            let converted = inner.converted.as_ref().filter(|c| c.fresh_now())?;
            let kept = kept_path(&mut inner.paths, py, text)?;
            if kept.found_in.as_ptr() != Arc::as_ptr(&converted.secret) {
                converted.secret.get(&kept.path).ok()?; // the document decides what exists
                kept.found_in = Arc::downgrade(&converted.secret);
            }
            // Bound, not Py, references: dropping a `Py` consults PyO3's attachment count,
            // which `get_entry` (the entry that calls this) does not set, and would defer the
            // decref to PyO3's pool (a mutex) instead of doing it.
            (
                converted.dict.bind(py).clone(),
                kept.keys.bind(py).clone(),
                inner.core.clone(),
            )
        };
        // Outside our lock: a dict lookup may run a key's __eq__. A key the caller removed
        // from the shared dict is answered the general way (from the document).
        let mut node = dict.into_any();
        for key in keys.iter() {
            node = node.cast::<PyDict>().ok()?.get_item(key).ok()??;
        }
        core.record_hit();
        Some(node)
    }
}
