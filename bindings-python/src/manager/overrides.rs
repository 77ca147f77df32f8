//! Starfleet's `_secrets` attribute (a dict served itself) and the testing overrides' pins,
//! over core's one override stack.

use super::*;

/// The content of a dict assigned to `_secrets`, as the core serves it.
pub(super) fn assigned_payload(py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<Payload> {
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

impl Inner {
    /// The dict assigned to `_secrets`, when it is what is served.
    pub(super) fn assigned(&self) -> Option<&Py<PyDict>> {
        self.assigned
            .as_ref()
            .filter(|(_, token)| self.core.is_innermost_override(*token))
            .map(|(d, _)| d)
    }
}

impl SecretsManager {
    /// While `_secrets` is assigned, give the core its current content (the caller may have
    /// changed the dict in place since).
    pub(super) fn rehand_assigned(&self, py: Python<'_>) -> PyResult<()> {
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

    /// Serve `payload` in place of AWS until `_unpin(token)`.
    pub(super) fn push_override(&self, payload: Payload) -> u64 {
        let (token, replaced) = {
            let mut inner = self.lock();
            (inner.core.push_override(payload), inner.converted.take())
        };
        drop(replaced); // outside the lock: freeing a dict may run arbitrary code
        token.raw()
    }
}
