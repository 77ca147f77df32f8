//! `get(path)`'s entry point from Python, registered by hand in place of the one PyO3 generates.
//!
//! Why: the wheel is built for the stable ABI of Python 3.9 (`abi3-py39`), which has no
//! `METH_FASTCALL`, so PyO3 makes every method with arguments a `METH_VARARGS | METH_KEYWORDS`
//! function and, for `get(*path, **kwargs)`, extracts the arguments generically (a slice of the
//! argument tuple, the keyword dict, the receiver's class checked again) before the call: a
//! warm `get("STARFLEET.SlackToken")` took 1.3-1.5× as long that way as through this entry
//! (bench/overhead/WARM.md). This entry answers the common call, one positional argument and
//! no keywords, straight from the kept dict ([`SecretsManager::hit_at`], which decides nothing
//! of its own); every other call (several keys, `default=`, a miss, a path not kept) runs the
//! `#[pymethods]` `get` itself, so arguments, errors and counting are that method's. CPython
//! checks the receiver's class before calling a method descriptor, as it did for PyO3's.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use pyo3::exceptions::PySystemError;
use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};

use super::SecretsManager;

/// Replace `SecretsManager.get` with [`entry`], keeping PyO3's method as the general path.
/// Same name, docstring and text signature, so `help()` and `inspect.signature` are unchanged.
pub(crate) fn install(class: &Bound<'_, PyType>) -> PyResult<()> {
    let py = class.py();
    let general = class.getattr("__dict__")?.get_item("get")?;
    let doc: String = general.getattr("__doc__")?.extract()?;
    let signature: String = general.getattr("__text_signature__")?.extract()?;
    // CPython reads the text signature from the first line of ml_doc: "get($self, ...)\n--\n\n".
    let ml_doc = std::ffi::CString::new(format!("get{signature}\n--\n\n{doc}"))
        .map_err(|_| PySystemError::new_err("get's docstring holds a NUL"))?;
    // CPython keeps the pointers of a method definition for the life of the type (forever).
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"get".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionWithKeywords: entry,
        },
        ml_flags: ffi::METH_VARARGS | ffi::METH_KEYWORDS,
        ml_doc: Box::leak(ml_doc.into_boxed_c_str()).as_ptr(),
    }));
    // SAFETY: attached (`py`); the type object and the leaked definition outlive the descriptor.
    let descr = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(class.as_type_ptr(), def))? };
    class.setattr("get", descr)
}

/// `get(*path, **kwargs)` as CPython calls a `METH_VARARGS | METH_KEYWORDS` method.
unsafe extern "C" fn entry(
    slf: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a method attached to the interpreter, with `slf` an instance of the
    // descriptor's class (it checks before calling) and `args` a tuple.
    let py = unsafe { Python::assume_attached() };
    if kwargs.is_null() && unsafe { ffi::PyTuple_Size(args) } == 1 {
        let hit = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: see above; borrowed references, valid for this call.
            let manager = unsafe { Bound::from_borrowed_ptr(py, slf).cast_into_unchecked::<SecretsManager>() };
            let text = unsafe { Bound::from_borrowed_ptr(py, ffi::PyTuple_GetItem(args, 0)) };
            manager.get().hit_at(py, &text)
        }));
        match hit {
            Ok(Some(found)) => return found.into_ptr(),
            Ok(None) => {}
            Err(payload) => {
                panic_error(payload).restore(py);
                return ptr::null_mut();
            }
        }
    }
    // The general path: the `#[pymethods]` `get` itself, attached the way PyO3's own entry
    // attaches (a `Py` dropped there is released at once), its panics caught as PyO3's are.
    Python::attach(|py| {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: as above; `kwargs` is NULL or a dict.
            let (manager, args, kwargs) = unsafe {
                (
                    Bound::from_borrowed_ptr(py, slf).cast_into_unchecked::<SecretsManager>(),
                    Bound::from_borrowed_ptr(py, args).cast_into_unchecked::<PyTuple>(),
                    Bound::from_borrowed_ptr_or_opt(py, kwargs).map(|k| k.cast_into_unchecked::<PyDict>()),
                )
            };
            manager.get().get(py, &args, kwargs.as_ref()).map(Bound::into_ptr)
        }));
        match outcome {
            Ok(Ok(found)) => found,
            Ok(Err(error)) => {
                error.restore(py);
                ptr::null_mut()
            }
            Err(payload) => {
                panic_error(payload).restore(py);
                ptr::null_mut()
            }
        }
    })
}

/// A panic as PyO3 raises one at its own entry points: `PanicException` with the message.
fn panic_error(payload: Box<dyn Any + Send>) -> PyErr {
    let message = match (payload.downcast_ref::<String>(), payload.downcast_ref::<&str>()) {
        (Some(text), _) => text.clone(),
        (None, Some(text)) => (*text).to_owned(),
        (None, None) => "panic from Rust code".to_owned(),
    };
    PanicException::new_err((message,))
}
