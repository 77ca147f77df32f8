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

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use pyo3::exceptions::PyTypeError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyString, PyTuple};
use pyo3::PyTraverseError;
use starfleet_secrets::deadline::Deadline;
use starfleet_secrets::settings::{self, Version};
use starfleet_secrets::{
    Code, ConfigSource, Document, Options, OverrideToken, Path, Payload, Secret, SecretsManager as Core, Ttl,
};
use zeroize::Zeroizing;

use crate::errors::{self, IntoPy};
use crate::host_config::{Config, Host};
use crate::{convert, gil, mock};

/// The dict built from one value of the core, and whether the core vouched for it.
struct Converted {
    secret: Arc<Secret>,
    dict: Py<PyDict>,
    /// `Core::fresh_until` when last asked: `Some(None)` = fresh for good, `Some(Some(t))` =
    /// fresh until `t` (a [`Deadline`]: checking it costs a few ns, not a clock read), `None`
    /// = ask the core.
    fresh: Option<Option<Deadline>>,
}

impl Converted {
    fn fresh_now(&self) -> bool {
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

/// A dotted key path `get()` was called with, parsed once: the core's [`Path`] and its keys
/// as Python strings (their hashes cached), so a warm `get("STARFLEET.SlackToken")` neither
/// parses nor allocates. Keys of a path do not depend on the value, so these outlive it.
struct KeptPath {
    text: Py<PyString>,
    path: Path,
    keys: Py<PyTuple>,
    /// The value whose document was last found to hold this path (a value never changes, so
    /// it need not be looked up again; a `Weak` keeps its address from being reused).
    found_in: Weak<Secret>,
}

/// At most this many paths are kept per manager (a worker reads a handful; a caller building
/// paths on the fly only costs the parse it would have paid anyway).
const KEPT_PATHS: usize = 32;

/// `text` parsed as a key path, kept for the next call (the same string object is found
/// without comparing its characters); `None` when it is not a valid path.
fn kept_path<'a>(paths: &'a mut Vec<KeptPath>, py: Python<'_>, text: &Bound<'_, PyString>) -> Option<&'a mut KeptPath> {
    let found = paths.iter().position(|k| k.text.as_ptr() == text.as_ptr()).or_else(|| {
        paths
            .iter()
            .position(|k| PyAnyMethods::eq(k.text.bind(py).as_any(), text).unwrap_or(false))
    });
    let index = match found {
        Some(i) => i,
        None => {
            let path = Path::from_args(&[text.to_cow().ok()?]).ok()?;
            let keys = PyTuple::new(py, path.keys().iter().map(|k| PyString::new(py, k))).ok()?;
            if paths.len() == KEPT_PATHS {
                paths.remove(0);
            }
            paths.push(KeptPath {
                text: text.clone().unbind(),
                path,
                keys: keys.unbind(),
                found_in: Weak::new(),
            });
            paths.len() - 1
        }
    };
    paths.get_mut(index)
}

impl Inner {
    /// The dict assigned to `_secrets`, when it is what is served.
    fn assigned(&self) -> Option<&Py<PyDict>> {
        self.assigned
            .as_ref()
            .filter(|(_, token)| self.core.is_innermost_override(*token))
            .map(|(d, _)| d)
    }

    /// The kept dict if it was built from this very value, with the core's word on how
    /// long it stays fresh taken again.
    fn dict_for(&mut self, secret: &Arc<Secret>) -> Option<&Py<PyDict>> {
        let fresh = vouched(self.core.fresh_until(secret));
        match &mut self.converted {
            Some(c) if Arc::ptr_eq(&c.secret, secret) => {
                c.fresh = fresh;
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

/// Arguments shared by the constructor and `configure()`.
struct Args<'py> {
    secret_id: Option<String>,
    region: Option<String>,
    config: Option<Bound<'py, PyAny>>,
    ttl: Option<Bound<'py, PyAny>>,
    version_stage: Option<String>,
    version_id: Option<String>,
    max_stale: Option<Bound<'py, PyAny>>,
    timeout: Option<Bound<'py, PyAny>>,
    endpoint_url: Option<String>,
    refresh_ahead: Option<Bound<'py, PyAny>>,
    expiry_jitter: Option<Bound<'py, PyAny>>,
    fallback_regions: Option<Vec<String>>,
    source: Option<String>,
}

impl Args<'_> {
    /// The core's options, and the host's configuration when `config` is one.
    fn options(self, py: Python<'_>) -> PyResult<(Options, Option<Host>)> {
        let (config, host) = match self.config.map(|c| Config::from_arg(py, &c)).transpose()? {
            None => (None, None),
            Some(Config::Path(path)) => (Some(ConfigSource::Path(path)), None),
            Some(Config::Host(host)) => (None, Some(host)),
        };
        let options = Options {
            secret_id: self.secret_id,
            region: self.region,
            config,
            ttl: self.ttl.map(|t| ttl(py, &t)).transpose()?,
            version_stage: self.version_stage,
            version_id: self.version_id,
            max_stale: self.max_stale.map(|s| seconds(py, "max_stale", &s)).transpose()?,
            timeout: self.timeout.map(|s| seconds(py, "timeout", &s)).transpose()?,
            endpoint_url: self.endpoint_url,
            refresh_ahead: self
                .refresh_ahead
                .map(|f| fraction(py, "refresh_ahead", &f))
                .transpose()?,
            expiry_jitter: self
                .expiry_jitter
                .map(|f| fraction(py, "expiry_jitter", &f))
                .transpose()?,
            fallback_regions: self.fallback_regions,
            source: self.source,
        };
        Ok((options, host))
    }
}

/// A number (not a bool), checked by the core; `what` says which kind, for the message.
fn number(py: Python<'_>, name: &str, what: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    let not_a_number = || {
        errors::new(
            py,
            Code::InvalidArgument,
            format!(
                "{name} must be {what}, got {}",
                v.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ),
        )
    };
    if v.is_instance_of::<PyBool>() {
        return Err(not_a_number());
    }
    v.extract::<f64>().map_err(|_| not_a_number())
}

fn seconds(py: Python<'_>, name: &str, v: &Bound<'_, PyAny>) -> PyResult<std::time::Duration> {
    settings::seconds_arg(name, number(py, name, "a number of seconds", v)?).py_err(py)
}

/// A fraction of the TTL (`refresh_ahead`, `expiry_jitter`), checked by the core.
fn fraction(py: Python<'_>, name: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    settings::fraction_arg(name, number(py, name, "a fraction of the TTL", v)?).py_err(py)
}

/// A TTL: seconds (`0` = no cache) or the string `"never"` (or a number as a string, as in
/// `STARFLEET_SECRETS_TTL`).
fn ttl(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Ttl> {
    if let Ok(text) = v.cast::<PyString>() {
        let text = text.to_cow()?;
        return Ttl::parse(&text).map_err(|why| errors::new(py, Code::InvalidArgument, format!("ttl: {why}")));
    }
    Ttl::from_secs_f64(number(py, "ttl", "a number of seconds", v)?).py_err(py)
}

/// The key path from `get(*path)` arguments, by the core's rule (one argument is dotted,
/// several are literal keys), and the `default=` keyword if given (even if `None`).
fn path_args<'py>(
    py: Python<'py>,
    path: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Path, Option<Bound<'py, PyAny>>)> {
    let mut default = None;
    if let Some(kwargs) = kwargs {
        for (k, v) in kwargs.iter() {
            let is_default = match k.cast::<PyString>() {
                Ok(name) => name.to_cow()? == "default",
                Err(_) => false,
            };
            if is_default {
                default = Some(v);
            } else {
                return Err(PyTypeError::new_err(format!(
                    "get() got an unexpected keyword argument {}",
                    k.repr()?
                )));
            }
        }
    }
    let mut keys = Vec::with_capacity(path.len());
    for part in path.iter() {
        match part.cast::<PyString>() {
            Ok(s) => keys.push(s.to_cow()?.into_owned()),
            Err(_) => {
                return Err(errors::new(
                    py,
                    Code::InvalidArgument,
                    format!(
                        "key path parts must be strings, got {}",
                        part.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                    ),
                ))
            }
        }
    }
    Ok((Path::from_args(&keys).py_err(py)?, default))
}

/// The content of a dict assigned to `_secrets`, as the core serves it.
fn assigned_payload(py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<Payload> {
    let text: String = py
        .import("json")?
        .call_method1("dumps", (dict,))
        .map_err(|e| {
            let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default();
            errors::new(
                py,
                Code::InvalidArgument,
                format!("_secrets must hold JSON values only (json.dumps raised {kind})"),
            )
        })?
        .extract()?;
    Ok(Payload::Json(Document::parse(Zeroizing::new(text)).py_err(py)?))
}

impl SecretsManager {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding it; the state is valid between statements anyway.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A hit, answered without releasing the GIL, or `Err(core)` to go the blocking way.
    fn try_hit(&self) -> Result<Arc<Secret>, Arc<Core>> {
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
    fn load(&self, py: Python<'_>, core: Arc<Core>, refresh: bool) -> PyResult<Arc<Secret>> {
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
    fn unvouch(&self, core: &Arc<Core>) {
        let mut inner = self.lock();
        if Arc::ptr_eq(&inner.core, core) {
            inner.unvouch();
        }
    }

    /// Hand the core the host's configuration as it is now (nothing without one). When the
    /// settings change (or stop resolving) the kept dict goes with the core's value.
    fn consult_host(&self, py: Python<'_>, core: &Arc<Core>) -> PyResult<()> {
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

    /// While `_secrets` is assigned, give the core its current content (the caller may have
    /// changed the dict in place since).
    fn rehand_assigned(&self, py: Python<'_>) -> PyResult<()> {
        let (core, dict, token) = {
            let inner = self.lock();
            match (inner.assigned(), &inner.assigned) {
                (Some(d), Some((_, token))) => (inner.core.clone(), d.clone_ref(py), *token),
                _ => return Ok(()),
            }
        };
        let payload = assigned_payload(py, dict.bind(py))?; // runs json.dumps: outside our lock
        core.replace_override(token, payload).py_err(py)
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
            let fresh = vouched(inner.core.fresh_until(secret));
            inner.converted.replace(Converted {
                secret: secret.clone(),
                dict: dict.clone().unbind(),
                fresh,
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

    fn core(&self) -> Arc<Core> {
        self.lock().core.clone()
    }

    /// `get(text)` answered from the kept dict when it is fresh and `text` is a path it holds:
    /// what [`lookup`](Self::lookup) would return (the object inside the kept dict, the path
    /// checked against the document first), without parsing the path again. `None` sends
    /// the call the general way (not fresh, a dict assigned to `_secrets`, a path not found,
    /// a bad path), which decides and raises.
    fn hit_at<'py>(&self, py: Python<'py>, text: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
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
            (
                converted.dict.clone_ref(py),
                kept.keys.clone_ref(py),
                inner.core.clone(),
            )
        };
        // Outside our lock: a dict lookup may run a key's __eq__. A key the caller removed
        // from the shared dict is answered the general way (from the document).
        let mut node = dict.into_bound(py).into_any();
        for key in keys.bind(py).iter() {
            node = node.cast::<PyDict>().ok()?.get_item(key).ok()??;
        }
        core.record_hit();
        Some(node)
    }

    /// Serve `payload` in place of AWS until `_unpin(token)`.
    fn push_override(&self, payload: Payload) -> u64 {
        let (token, replaced) = {
            let mut inner = self.lock();
            (inner.core.push_override(payload), inner.converted.take())
        };
        drop(replaced); // outside the lock: freeing a dict may run arbitrary code
        token.raw()
    }
}

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
    #[pyo3(signature = (
        secret_id=None, region=None, config=None, ttl=None, version_stage=None, version_id=None,
        *, max_stale=None, timeout=None, endpoint_url=None, refresh_ahead=None, expiry_jitter=None,
        fallback_regions=None, source=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn configure<'py>(
        &self,
        py: Python<'py>,
        secret_id: Option<String>,
        region: Option<String>,
        config: Option<Bound<'py, PyAny>>,
        ttl: Option<Bound<'py, PyAny>>,
        version_stage: Option<String>,
        version_id: Option<String>,
        max_stale: Option<Bound<'py, PyAny>>,
        timeout: Option<Bound<'py, PyAny>>,
        endpoint_url: Option<String>,
        refresh_ahead: Option<Bound<'py, PyAny>>,
        expiry_jitter: Option<Bound<'py, PyAny>>,
        fallback_regions: Option<Vec<String>>,
        source: Option<String>,
    ) -> PyResult<()> {
        let options = Args {
            secret_id,
            region,
            config,
            ttl,
            version_stage,
            version_id,
            max_stale,
            timeout,
            endpoint_url,
            refresh_ahead,
            expiry_jitter,
            fallback_regions,
            source,
        }
        .options(py)?;
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
    fn get<'py>(
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

    /// Counters and state: hits, misses, fetches, failures, stale_served, refreshes_ahead, last_refresh (Unix
    /// seconds), version_id, last_error (a code string).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::value(py, &self.core().stats().to_json())
    }

    /// Where the secret is read from and how it is cached, as resolved from the arguments,
    /// the environment and the Starfleet configuration (raises the configuration errors).
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let core = self.core();
        self.consult_host(py, &core)?;
        let worker = core.clone();
        let resolved = gil::blocking(py, move || worker.settings());
        let s = resolved.py_err(py)?;
        let d = PyDict::new(py);
        d.set_item("secret_id", &s.location.secret_id)?;
        d.set_item("region", &s.location.region)?;
        match &s.version {
            Version::Stage(stage) => d.set_item("version_stage", stage)?,
            Version::Id(id) => d.set_item("version_id", id)?,
        }
        match s.ttl.duration() {
            Some(t) => d.set_item("ttl", t.as_secs_f64())?,
            None => d.set_item("ttl", "never")?,
        }
        d.set_item("max_stale", s.max_stale.as_secs_f64())?;
        d.set_item("timeout", s.timeout.as_secs_f64())?;
        d.set_item("endpoint_url", &s.endpoint_url)?;
        d.set_item("refresh_ahead", s.refresh_ahead.unwrap_or(0.0))?;
        d.set_item("expiry_jitter", s.expiry_jitter)?;
        d.set_item("fallback_regions", &s.fallback_regions)?;
        d.set_item("source", s.source.to_string())?;
        Ok(d)
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
