//! The arguments of `configure()` (and so of `SecretsManager(...)`, whose `__init__` it is),
//! passed through to core's [`Options::from_map`] as they come: no option is named here, so a
//! new option needs nothing in this file (its typing is one line in `_native.pyi`).
//!
//! What stays Python's own:
//! * the calling convention: the first [`POSITIONAL`] options may be given by position
//!   (Starfleet's order), and an unknown keyword or a repeated argument is a `TypeError`, as
//!   for any Python function;
//! * a string or list-of-strings option given another type is a `TypeError` naming the
//!   argument, as PyO3's extraction reported it; numbers, TTLs and fractions are checked by
//!   core (INVALID_ARGUMENT naming the option);
//! * `config=` as a mapping or callable the host keeps ([`host_config`]), consulted before
//!   each load rather than handed to core once.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};
use starfleet_secrets::options::{self, Kind, Naming, OptionValue};
use starfleet_secrets::{ConfigSource, Options};

use crate::errors::IntoPy;
use crate::host_config::{Config, Host};

/// The options that may be given by position, in order (Starfleet's `SecretsManager`
/// signature); every later option is keyword-only.
const POSITIONAL: [&str; 6] = ["secret_id", "region", "config", "ttl", "version_stage", "version_id"];

/// Core's options from `configure(*args, **kwargs)`, and the host's configuration when
/// `config` is one.
pub fn from_args(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Options, Option<Host>)> {
    if args.len() > POSITIONAL.len() {
        return Err(PyTypeError::new_err(format!(
            "SecretsManager takes at most {} positional options ({}), {} were given",
            POSITIONAL.len(),
            POSITIONAL.join(", "),
            args.len()
        )));
    }
    let mut given: Vec<(String, Bound<'_, PyAny>)> =
        POSITIONAL.iter().map(|n| n.to_string()).zip(args.iter()).collect();
    for (key, value) in kwargs.into_iter().flat_map(|k| k.iter()) {
        let name = key
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("keyword argument names must be strings"))?
            .to_cow()?
            .into_owned();
        if options::find(&name, Naming::Snake).is_none() {
            return Err(PyTypeError::new_err(format!(
                "SecretsManager got an unexpected keyword argument '{name}'; the options are {}",
                options::OPTIONS.iter().map(|o| o.name).collect::<Vec<_>>().join(", ")
            )));
        }
        if given.iter().any(|(n, _)| *n == name) {
            return Err(PyTypeError::new_err(format!(
                "SecretsManager got multiple values for argument '{name}'"
            )));
        }
        given.push((name, value));
    }
    let mut host = None;
    let mut entries = Vec::with_capacity(given.len());
    for (name, value) in given {
        let value = if value.is_none() {
            None
        } else {
            match options::find(&name, Naming::Snake).map(|o| o.kind) {
                Some(Kind::Config) => match Config::from_arg(py, &value)? {
                    Config::Path(path) => Some(OptionValue::Config(ConfigSource::Path(path))),
                    Config::Host(h) => {
                        host = Some(h);
                        None
                    }
                },
                Some(Kind::Text) => Some(OptionValue::Text(extracted(py, &name, value.extract())?)),
                Some(Kind::Regions) => Some(OptionValue::List(extracted(py, &name, value.extract())?)),
                _ => Some(by_type(&value)?),
            }
        };
        entries.push((name, value));
    }
    Ok((Options::from_map(entries, Naming::Snake).py_err(py)?, host))
}

/// PyO3's extraction error, naming the argument as PyO3 does for a declared one.
fn extracted<T>(py: Python<'_>, name: &str, result: PyResult<T>) -> PyResult<T> {
    result.map_err(|e| PyTypeError::new_err(format!("argument '{name}': {}", e.value(py))))
}

/// A value by its Python type alone: core decides whether the option takes it.
fn by_type(value: &Bound<'_, PyAny>) -> PyResult<OptionValue> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(OptionValue::Text(text.to_cow()?.into_owned()));
    }
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(OptionValue::Flag(flag.is_true()));
    }
    if let Ok(number) = value.extract::<f64>() {
        return Ok(OptionValue::Number(number));
    }
    Ok(OptionValue::Other(
        value.get_type().name().map(|n| n.to_string()).unwrap_or_default(),
    ))
}
