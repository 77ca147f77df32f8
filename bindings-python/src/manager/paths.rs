//! The key paths of `get()`: parsed by core, kept per manager so a warm `get()` neither
//! parses nor allocates.

use super::*;

/// A dotted key path `get()` was called with, parsed once: the core's [`Path`] and its keys
/// as Python strings (their hashes cached), so a warm `get("STARFLEET.SlackToken")` neither
/// parses nor allocates. Keys of a path do not depend on the value, so these outlive it.
pub(super) struct KeptPath {
    pub(super) text: Py<PyString>,
    pub(super) path: Path,
    pub(super) keys: Py<PyTuple>,
    /// The value whose document was last found to hold this path (a value never changes, so
    /// it need not be looked up again; a `Weak` keeps its address from being reused).
    pub(super) found_in: Weak<Secret>,
}

/// At most this many paths are kept per manager (a worker reads a handful; a caller building
/// paths on the fly only costs the parse it would have paid anyway).
pub(super) const KEPT_PATHS: usize = 32;

/// `text` parsed as a key path, kept for the next call (the same string object is found
/// without comparing its characters); `None` when it is not a valid path.
pub(super) fn kept_path<'a>(
    paths: &'a mut Vec<KeptPath>,
    py: Python<'_>,
    text: &Bound<'_, PyString>,
) -> Option<&'a mut KeptPath> {
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

/// The key path from `get(*path)` arguments, by the core's rule (one argument is dotted,
/// several are literal keys), and the `default=` keyword if given (even if `None`).
pub(super) fn path_args<'py>(
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
