//! Core errors → the exception classes of `starfleet_secrets._errors`.
//!
//! The classes are plain Python (one per core [`Code`], under `StarfleetSecretsError`, with
//! `KeyError`/`ValueError` mixed in where Python idioms expect them), so they pickle, can be
//! subclassed and are easy to read. This module only looks the class up by the stable code
//! string and instantiates it with the core's message, which never holds a secret value.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use starfleet_secrets::{Code, Error};

/// `starfleet_secrets._errors._BY_CODE`: code string → class.
static BY_CODE: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Bound<'_, PyDict>> {
    BY_CODE
        .get_or_try_init(py, || {
            let table = py.import("starfleet_secrets._errors")?.getattr("_BY_CODE")?;
            Ok::<_, PyErr>(table.cast_into::<PyDict>()?.unbind())
        })
        .map(|d| d.bind(py))
}

/// The Python exception for a core error.
pub fn to_py(py: Python<'_>, error: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = classes(py)?
            .get_item(error.code().as_str())?
            .ok_or_else(|| PyRuntimeError::new_err(format!("no exception class for code {}", error.code())))?;
        Ok(PyErr::from_value(class.call1((error.message(),))?))
    };
    // If the classes cannot be loaded (a broken install), still raise something readable.
    build().unwrap_or_else(|e| e)
}

/// A core error from a code and message built here (argument checks in the binding).
pub fn new(py: Python<'_>, code: Code, message: impl Into<String>) -> PyErr {
    to_py(py, &Error::new(code, message))
}

/// `Result<T, core::Error>` → `PyResult<T>`.
pub trait IntoPy<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}
