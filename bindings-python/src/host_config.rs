//! `config=`: a path, or a configuration the host application keeps (Starfleet's
//! `STARFLEET_CONFIGURATION.config`), given as the mapping itself or as a zero-argument
//! callable returning a path or a mapping.
//!
//! A host's configuration is consulted again before each load (the manager calls
//! [`Host::source`] and hands the result to the core's `use_config`), so a process whose
//! configuration changes (Starfleet's tests switch configuration directories at run time)
//! is followed. Only the shape changes here: the mapping's `STARFLEET` stanza becomes a JSON
//! tree that the core validates by its own rules.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use starfleet_secrets::{Code, ConfigSource, Error};

use crate::errors;

/// Deepest nesting converted (a configuration is a few levels deep; this stops a cycle).
const MAX_DEPTH: usize = 64;

/// What `config=` was given as.
pub enum Config {
    Path(PathBuf),
    Host(Host),
}

/// A configuration the host keeps, consulted before each load.
pub enum Host {
    /// An already-loaded mapping, read again each time (the host may change it in place).
    Mapping(Py<PyAny>),
    /// A zero-argument callable returning a path or a mapping.
    Callable(Py<PyAny>),
}

impl Config {
    pub fn from_arg(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Config> {
        if let Ok(path) = v.extract::<PathBuf>() {
            return Ok(Config::Path(path));
        }
        if v.cast::<PyMapping>().is_ok() {
            return Ok(Config::Host(Host::Mapping(v.clone().unbind())));
        }
        if v.is_callable() {
            return Ok(Config::Host(Host::Callable(v.clone().unbind())));
        }
        Err(errors::new(
            py,
            Code::InvalidArgument,
            format!(
                "config must be a path, a mapping (a loaded Starfleet configuration) or a callable returning one, got {}",
                type_name(v)
            ),
        ))
    }
}

impl Host {
    pub fn clone_ref(&self, py: Python<'_>) -> Host {
        match self {
            Host::Mapping(m) => Host::Mapping(m.clone_ref(py)),
            Host::Callable(f) => Host::Callable(f.clone_ref(py)),
        }
    }

    /// The configuration as the host holds it now. Runs the host's callable (its exceptions
    /// propagate unchanged: they are the host's).
    pub fn source(&self, py: Python<'_>) -> PyResult<ConfigSource> {
        let (value, name) = match self {
            Host::Mapping(m) => (
                m.bind(py).clone(),
                "the configuration mapping (argument config)".to_owned(),
            ),
            Host::Callable(f) => {
                let f = f.bind(py);
                let name = f
                    .getattr("__qualname__")
                    .and_then(|n| n.extract::<String>())
                    .unwrap_or_else(|_| type_name(f));
                (
                    f.call0()?,
                    format!("the configuration returned by {name}() (argument config)"),
                )
            }
        };
        if let Ok(path) = value.extract::<PathBuf>() {
            return Ok(ConfigSource::Path(path));
        }
        let Ok(mapping) = value.cast::<PyMapping>() else {
            return Err(errors::new(
                py,
                Code::InvalidArgument,
                format!("{name}: expected a path or a mapping, got {}", type_name(&value)),
            ));
        };
        let mut root = Map::new();
        if mapping.contains("STARFLEET")? {
            let stanza = tree(py, &mapping.get_item("STARFLEET")?, "STARFLEET", 0, &name)?;
            root.insert("STARFLEET".into(), stanza);
        }
        Ok(ConfigSource::Loaded {
            name,
            tree: Value::Object(root),
        })
    }
}

/// A Python configuration value as JSON: what YAML loading gives (mappings, lists, strings,
/// numbers, booleans, None). Anything else is CONFIG_INVALID naming its key path.
fn tree(py: Python<'_>, v: &Bound<'_, PyAny>, path: &str, depth: usize, name: &str) -> PyResult<Value> {
    let invalid = |why: String| {
        errors::to_py(
            py,
            &Error::new(
                Code::ConfigInvalid,
                format!("Starfleet configuration {name}: {path}: {why}"),
            ),
        )
    };
    if depth > MAX_DEPTH {
        return Err(invalid(format!("nested deeper than {MAX_DEPTH} levels")));
    }
    if v.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if v.cast::<PyInt>().is_ok() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = v.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Ok(Value::from(v.extract::<f64>()?));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| invalid("a number that is not finite".into()));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(m) = v.cast::<PyMapping>() {
        let mut out = Map::new();
        for item in m.items()?.iter() {
            let (key, value) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
            let key = key.str()?.to_cow()?.into_owned();
            let child = tree(py, &value, &format!("{path}.{key}"), depth + 1, name)?;
            out.insert(key, child);
        }
        return Ok(Value::Object(out));
    }
    if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        let mut out = Vec::new();
        for (i, item) in v.try_iter()?.enumerate() {
            out.push(tree(py, &item?, &format!("{path}[{i}]"), depth + 1, name)?);
        }
        return Ok(Value::Array(out));
    }
    Err(invalid(format!(
        "holds a {}, which is not a configuration value (mappings, lists, strings, numbers, booleans, None)",
        type_name(v)
    )))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_default()
}
