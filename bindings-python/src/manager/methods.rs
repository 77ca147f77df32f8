//! What Python sees of `SecretsManager`: the one `#[pymethods]` block (construction,
//! reads, refresh, `_secrets`, `on_change`, stats and settings, the testing and asyncio hooks,
//! `repr`), each delegating to its concern's module.

use super::*;

use super::overrides::assigned_payload;
use super::paths::path_args;

#[pymethods]
impl SecretsManager {
    /// An unconfigured manager: the package's `SecretsManager.__init__` takes the options
    /// (Python's convention, so a subclass may define its own `__init__` and call
    /// `super().__init__(**options)`). Arguments are accepted here and left to `__init__`.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        SecretsManager {
            inner: Mutex::new(Inner {
                core: Arc::new(Core::new(Options::default())),
                converted: None,
                host: None,
                assigned: None,
                paths: Vec::new(),
            }),
            callbacks: Mutex::default(),
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never block here (the collector holds the interpreter): a list in use is skipped.
        if let Ok(callbacks) = self.callbacks.try_lock() {
            for slot in callbacks.iter() {
                if let Ok(callback) = slot.try_lock() {
                    visit.call(&*callback)?;
                }
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        let taken: Vec<_> = {
            let callbacks = self.callbacks.lock().unwrap_or_else(|p| p.into_inner());
            callbacks.iter().map(crate::on_change::clear).collect()
        };
        drop(taken); // outside our lock: freeing a callback may run arbitrary code
    }

    /// Point this manager somewhere else (or change its TTL, stage, ...). Every option is
    /// replaced: what is not given is resolved from the environment and the Starfleet
    /// configuration again. The cache starts empty.
    #[pyo3(signature = (*args, **kwargs))]
    fn configure(&self, py: Python<'_>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let options = super::options::from_args(py, args, kwargs)?;
        let replaced = {
            let mut inner = self.lock();
            // Core decides what survives (the tests' overrides, the on_change callbacks).
            inner.core = Arc::new(inner.core.reconfigure(options.0));
            let host = std::mem::replace(&mut inner.host, options.1);
            (inner.converted.take(), host)
        };
        drop(replaced);
        Ok(())
    }

    /// The secret's JSON document as a dict: loaded on first access, then served from the
    /// cache until the TTL expires. The same dict object while the VersionId is unchanged.
    #[getter]
    fn secrets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        {
            let inner = self.lock();
            if let Some(d) = inner.assigned() {
                inner.core.record_hit();
                return Ok(d.bind(py).clone());
            }
            if let Some(c) = inner.converted.as_ref().filter(|c| c.fresh_now()) {
                inner.core.record_hit();
                return Ok(c.dict.bind(py).clone());
            }
        }
        let secret = self.access(py)?;
        self.dict(py, &secret)
    }

    /// The secret's SecretBinary as bytes (SecretsFormatError for a JSON SecretString).
    #[getter]
    fn secret_binary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let secret = self.access(py)?;
        self.binary(py, &secret)
    }

    /// The value at a key path: `get("STARFLEET.SlackToken")` (dotted, `\.` escapes a dot)
    /// or `get("GitHubSyncWorker", "my.org")` (literal keys). Raises SecretsKeyNotFoundError
    /// (a KeyError) unless `default` is given.
    #[pyo3(signature = (*path, **kwargs), text_signature = "($self, *path, default=...)")]
    pub(super) fn get<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if kwargs.is_none() && path.len() == 1 {
            if let Some(found) = self.hit_at(py, &*path.get_borrowed_item(0)?) {
                return Ok(found);
            }
        }
        let (path, default) = path_args(py, path, kwargs)?;
        let secret = self.access(py)?;
        self.lookup(py, &secret, &path, default)
    }

    /// The string at a key path (same path rules as `get`); SecretsFormatError when the value
    /// there is not a string, SecretsKeyNotFoundError (a KeyError) when it does not exist.
    #[pyo3(signature = (*path))]
    fn get_str<'py>(&self, py: Python<'py>, path: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        let (path, _) = path_args(py, path, None)?;
        let secret = self.access(py)?;
        secret.get_str(&path).py_err(py)?;
        self.lookup(py, &secret, &path, None)
    }

    /// Fetch now (Starfleet's API): whatever the cache holds, one GetSecretValue (the dict
    /// assigned to `_secrets`, while there is one, is served instead).
    fn load_secrets(&self, py: Python<'_>) -> PyResult<()> {
        self.refresh(py)
    }

    /// Fetch now, whatever the cache holds. On failure the error is raised and the last good
    /// value stays cached.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        self.rehand_assigned(py)?;
        let core = self.core();
        self.load(py, core, true).map(drop)
    }

    /// Starfleet's own attribute, kept for its test fixtures: the document being served (the
    /// dict assigned here, else the dict of the cached value), or None. Never fetches.
    #[getter(_secrets)]
    fn get_assigned<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyDict>> {
        let inner = self.lock();
        if let Some(d) = inner.assigned() {
            return Some(d.bind(py).clone());
        }
        inner
            .converted
            .as_ref()
            .filter(|c| inner.core.holds(&c.secret))
            .map(|c| c.dict.bind(py).clone())
    }

    /// `_secrets = d` serves the dict `d` itself (`.secrets is d`, so changes made to it in
    /// place are seen) until `_secrets = None`, which also forgets the cached value and any
    /// failure backoff. Overrides of `starfleet_secrets.testing` are left as they are.
    #[setter(_secrets)]
    fn set_assigned(&self, py: Python<'_>, value: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let dict = match value.as_ref().filter(|v| !v.is_none()) {
            None => None,
            Some(v) => Some(v.cast::<PyDict>().map_err(|_| {
                errors::new(
                    py,
                    Code::InvalidArgument,
                    format!(
                        "_secrets takes a dict (the document to serve) or None, got {}",
                        v.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                    ),
                )
            })?),
        };
        // Checked before anything changes: a dict that cannot be served is refused as a whole.
        let payload = dict.as_ref().map(|d| assigned_payload(py, d)).transpose()?;
        let replaced = {
            let mut inner = self.lock();
            let removed = inner.assigned.take();
            if let Some((_, token)) = &removed {
                // Always in force: its token never leaves this object, and configure() keeps it.
                let _ = inner.core.remove_override(*token);
            }
            match (payload, dict) {
                (Some(payload), Some(d)) => {
                    let token = inner.core.assign_override(payload);
                    inner.assigned = Some((d.clone().unbind(), token));
                }
                _ => inner.core.invalidate(),
            }
            (removed, inner.converted.take())
        };
        drop(replaced); // outside the lock: freeing a dict may run arbitrary code
        Ok(())
    }

    /// Call `callback(old_version_id, new_version_id)` (the old one `None` on the first load)
    /// each time a load or refresh brings a new VersionId, until `cancel()` on what this
    /// returns. Runs on the thread whose call completed the load, or, for the asyncio
    /// methods, on the library's notification thread; never on a runtime thread. A callback
    /// that raises is logged and ignored. Testing overrides never call it.
    fn on_change(&self, callback: Bound<'_, PyAny>) -> PyResult<crate::on_change::ChangeSubscription> {
        if !callback.is_callable() {
            return Err(PyTypeError::new_err(
                "on_change() takes a callable(old_version_id, new_version_id)",
            ));
        }
        let (subscription, slot) = crate::on_change::subscribe(&self.core(), callback.unbind());
        let mut callbacks = self.callbacks.lock().unwrap_or_else(|p| p.into_inner());
        callbacks.retain(crate::on_change::in_use);
        callbacks.push(slot);
        Ok(subscription)
    }

    /// Forget the cached value (and any failure backoff): the next access fetches.
    fn invalidate(&self) {
        let replaced = {
            let mut inner = self.lock();
            inner.core.invalidate();
            inner.converted.take()
        };
        drop(replaced);
    }

    /// Before the process is snapshotted (Lambda SnapStart; registered automatically with
    /// `snapshot_restore_py`): core drops the pooled connections and, with
    /// `zeroize_before_snapshot`, the cached value; then the dict converted from a value core
    /// no longer holds is dropped too. Never waits on the network.
    fn before_snapshot(&self) {
        // Outside `inner`: core may log (a malformed variable), which can run Python code.
        let core = self.core();
        core.before_snapshot();
        let dropped = {
            let mut inner = self.lock();
            match &inner.converted {
                Some(c) if !core.holds(&c.secret) => inner.converted.take(),
                _ => None,
            }
        };
        drop(dropped); // outside the lock: dropping a dict can run Python code
    }

    /// After the process was restored from a snapshot (registered automatically with
    /// `snapshot_restore_py`): core's new jitter share, new connections and credentials, and
    /// every cached value due (the next access fetches once); the kept dict is vouched for
    /// again only by core. Counted in `stats()["restores"]`. Never waits on the network.
    fn after_restore(&self) {
        self.core().after_restore();
        self.lock().unvouch();
    }

    /// Counters and state, as core gives them to every language (the README lists them):
    /// counts, last_refresh (Unix seconds), version_id, last_error (a code string), region.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::value(py, &self.core().stats().to_json())
    }

    /// Where the secret is read from and how it is cached, as resolved from the arguments,
    /// the environment and the Starfleet configuration (raises the configuration errors):
    /// core's `Settings::to_json`, passed through, so a new setting needs no line here.
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        self.consult_host(py, &core)?;
        let worker = core.clone();
        let resolved = gil::blocking(py, move || worker.settings());
        convert::value(py, &resolved.py_err(py)?.to_json(Naming::Snake))
    }

    /// Serve `text` (a JSON object) in place of AWS until `_unpin(token)`, with the token
    /// returned here (starfleet_secrets.testing). The core's override stack does the work.
    fn _pin_json(&self, py: Python<'_>, text: &str) -> PyResult<u64> {
        let payload = Payload::Json(Document::parse(Zeroizing::new(text.to_owned())).py_err(py)?);
        Ok(self.push_override(payload))
    }

    /// Serve `data` as SecretBinary in place of AWS until `_unpin(token)`.
    fn _pin_binary(&self, data: &[u8]) -> u64 {
        self.push_override(Payload::Binary(Zeroizing::new(data.to_vec())))
    }

    /// Undo the testing override `token` names: what was served before it is served again,
    /// or AWS. SecretsInvalidArgumentError when an override made after it is still in force,
    /// or when it is not in force.
    fn _unpin(&self, py: Python<'_>, token: u64) -> PyResult<()> {
        let (popped, replaced) = {
            let mut inner = self.lock();
            let popped = inner.core.pop_override(OverrideToken::from_raw(token));
            let replaced = popped.is_ok().then(|| inner.converted.take());
            (popped, replaced)
        };
        drop(replaced); // outside the lock, as the error's conversion
        popped.py_err(py)
    }

    /// A cache hit as an already finished fetch, or None (asyncio fast path; no I/O).
    #[cfg(unix)]
    fn _hit(&self, py: Python<'_>) -> PyResult<Option<crate::pending::Pending>> {
        self.rehand_assigned(py)?;
        Ok(self.try_hit().ok().map(crate::pending::Pending::ready))
    }

    /// Whether loads go through moto's in-process mock now (asyncio then uses the executor,
    /// so the mock's Python code runs on a thread of the application's own).
    fn _mocked(&self, py: Python<'_>) -> bool {
        mock::active(py)
    }

    /// Start an access (or a refresh) on the library's runtime, for asyncio, after handing
    /// the core the host's configuration; `wakeup` (the running loop's) is rung when it has
    /// finished.
    #[cfg(unix)]
    fn _start(
        &self,
        py: Python<'_>,
        refresh: bool,
        wakeup: &crate::pending::Wakeup,
    ) -> PyResult<crate::pending::Pending> {
        let core = self.core();
        if core.override_depth() == 0 {
            self.consult_host(py, &core)?;
        }
        crate::pending::Pending::start(core, refresh, wakeup).py_err(py)
    }

    /// The dict from a finished fetch (raises its error).
    #[cfg(unix)]
    fn _secrets_from<'py>(&self, py: Python<'py>, pending: &crate::pending::Pending) -> PyResult<Bound<'py, PyDict>> {
        crate::logbridge::drain(py);
        let secret = pending.outcome().py_err(py)?;
        self.dict(py, &secret)
    }

    /// `get()` on a finished fetch.
    #[cfg(unix)]
    #[pyo3(signature = (pending, *path, **kwargs), text_signature = "($self, pending, *path, default=...)")]
    fn _get_from<'py>(
        &self,
        py: Python<'py>,
        pending: &crate::pending::Pending,
        path: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::logbridge::drain(py);
        let (path, default) = path_args(py, path, kwargs)?;
        let secret = pending.outcome().py_err(py)?;
        self.lookup(py, &secret, &path, default)
    }

    /// The bytes from a finished fetch.
    #[cfg(unix)]
    fn _binary_from<'py>(&self, py: Python<'py>, pending: &crate::pending::Pending) -> PyResult<Bound<'py, PyBytes>> {
        crate::logbridge::drain(py);
        let secret = pending.outcome().py_err(py)?;
        self.binary(py, &secret)
    }

    /// Finish an asyncio refresh: raise its error, if any; the next access asks the core
    /// again (the refreshed value may be the same object, fresh for longer).
    #[cfg(unix)]
    fn _refreshed(&self, py: Python<'_>, pending: &crate::pending::Pending) -> PyResult<()> {
        crate::logbridge::drain(py);
        self.lock().unvouch();
        pending.outcome().py_err(py).map(drop)
    }

    /// Names and state only, never a value.
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let me = slf.get();
        let core = me.core();
        let o = core.options();
        let stats = core.stats();
        let mut parts = Vec::new();
        if let Some(id) = &o.secret_id {
            parts.push(format!("secret_id={id:?}"));
        }
        if let Some(region) = &o.region {
            parts.push(format!("region={region:?}"));
        }
        if let Some(ttl) = o.ttl {
            parts.push(format!("ttl={:?}", ttl.to_string()));
        }
        if let Some(stage) = &o.version_stage {
            parts.push(format!("version_stage={stage:?}"));
        }
        if let Some(id) = &o.version_id {
            parts.push(format!("version_id={id:?}"));
        }
        parts.push(format!(
            "loaded_version={:?}, fetches={}",
            stats.version_id.as_deref().unwrap_or("none"),
            stats.fetches,
        ));
        if stats.testing_overrides > 0 {
            parts.push(format!("testing_overrides={}", stats.testing_overrides));
        }
        let class = slf.get_type().qualname()?;
        Ok(format!("<{class} {}>", parts.join(", ")))
    }
}
