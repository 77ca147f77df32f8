//! Rust values → JavaScript values, on the JS thread.
//!
//! Secret documents are converted straight from the parsed document that core holds (no
//! intermediate copy in Rust, so nothing is left behind un-zeroized). Objects get their keys
//! as own data properties, like `JSON.parse` does: a key named `__proto__` is a plain key and
//! never changes an object's prototype.

use std::ptr;
use std::sync::{Arc, Mutex, Weak};

use napi::bindgen_prelude::ToNapiValue;
use napi::{check_status, sys};
use serde_json::Value;
use starfleet_secrets::{Error, Path, Payload, Secret};

use crate::error;

/// The JS value of `v`.
///
/// # Safety
/// `env` must be the environment of the current JS thread.
pub unsafe fn json(env: sys::napi_env, v: &Value) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    match v {
        Value::Null => check_status!(unsafe { sys::napi_get_null(env, &mut out) })?,
        Value::Bool(b) => check_status!(unsafe { sys::napi_get_boolean(env, *b, &mut out) })?,
        // Plain serde_json numbers always have an f64 view (as in JSON.parse, large integers
        // lose precision).
        Value::Number(n) => {
            check_status!(unsafe { sys::napi_create_double(env, n.as_f64().unwrap_or(f64::NAN), &mut out) })?
        }
        Value::String(s) => out = unsafe { string(env, s)? },
        Value::Array(items) => {
            check_status!(unsafe { sys::napi_create_array_with_length(env, items.len(), &mut out) })?;
            for (i, item) in items.iter().enumerate() {
                let index = u32::try_from(i).map_err(|_| napi::Error::from_reason("array too long"))?;
                let element = unsafe { json(env, item)? };
                check_status!(unsafe { sys::napi_set_element(env, out, index, element) })?;
            }
        }
        Value::Object(map) => out = unsafe { object(env, map)? },
    }
    Ok(out)
}

unsafe fn string(env: sys::napi_env, s: &str) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    let len = isize::try_from(s.len()).map_err(|_| napi::Error::from_reason("string too long"))?;
    check_status!(unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), len, &mut out) })?;
    Ok(out)
}

unsafe fn undefined(env: sys::napi_env) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_get_undefined(env, &mut out) })?;
    Ok(out)
}

/// Which converted value the JS side holds, per manager: the secret it was converted from
/// (weakly, so the binding never keeps a secret alive longer than the cache does), the
/// generation number the JS side caches the converted object under, and whether that
/// generation's payload has been delivered to JS yet.
///
/// Core returns the same `Arc<Secret>` while the VersionId is unchanged, so "same pointer" is
/// "same version": the JS side then reuses its object instead of converting again. Answers
/// are delivered and adopted in order on the JS thread, so once a generation's payload has
/// been delivered, later answers of that generation need only its number, even for callers
/// that started before it arrived (100 concurrent first accesses convert once).
/// The `known` generation that asks for the payload in any case.
pub const FORCE: u32 = u32::MAX;

#[derive(Default)]
pub struct Seen(Mutex<SeenSlot>);

#[derive(Default)]
struct SeenSlot {
    secret: Weak<Secret>,
    generation: u32,
    delivered: bool,
}

impl Seen {
    /// The generation of `secret` (a new one when it is not the last secret seen) and whether
    /// its payload must be sent to a caller that holds generation `known` (0: none yet;
    /// [`FORCE`]: send it whatever was delivered before).
    fn answer(&self, secret: &Arc<Secret>, known: u32) -> (u32, bool) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !Weak::ptr_eq(&slot.secret, &Arc::downgrade(secret)) {
            let next = slot.generation.wrapping_add(1).max(1);
            *slot = SeenSlot {
                secret: Arc::downgrade(secret),
                generation: next,
                delivered: false,
            };
        }
        let send = slot.generation != known && (known == FORCE || !slot.delivered);
        (slot.generation, send)
    }

    fn delivered(&self, generation: u32) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.generation == generation {
            slot.delivered = true;
        }
    }

    /// The secret last handed to JS, if core still holds it.
    pub fn secret(&self) -> Option<Arc<Secret>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).secret.upgrade()
    }
}

/// The outcome of an operation, converted to JS when it is delivered.
pub enum Out {
    /// `undefined`.
    Nothing,
    /// The value at `path` (already checked to exist).
    Value(Arc<Secret>, Path),
    /// `[generation, payload]`, or just `generation` (a number) when the JS side already holds
    /// the payload of that generation (`known`). The payload is the document as an object, or
    /// a Buffer.
    Versioned {
        secret: Arc<Secret>,
        known: u32,
        seen: Arc<Seen>,
    },
    /// Plain JSON (stats, descriptions).
    Json(Value),
    /// The operation failed: the Promise is rejected (or the call throws) with this error.
    Failed(Error),
}

impl Out {
    /// Convert. A failure becomes a rejection carrying the core code.
    ///
    /// # Safety
    /// `env` must be the environment of the current JS thread.
    unsafe fn convert(self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        match self {
            Out::Nothing => unsafe { undefined(env) },
            Out::Json(v) => unsafe { json(env, &v) },
            Out::Value(secret, path) => match secret.get(&path) {
                Ok(v) => unsafe { json(env, v) },
                Err(e) => Err(unsafe { error::rejection(env, e) }),
            },
            Out::Versioned { secret, known, seen } => {
                let (generation, send) = seen.answer(&secret, known);
                let mut g = ptr::null_mut();
                check_status!(unsafe { sys::napi_create_uint32(env, generation, &mut g) })?;
                if !send {
                    return Ok(g); // the JS side holds (or is about to adopt) this generation
                }
                let payload = match secret.payload() {
                    Payload::Json(doc) => unsafe { object(env, doc.root())? },
                    Payload::Binary(bytes) => unsafe { buffer(env, bytes)? },
                };
                let mut array = ptr::null_mut();
                check_status!(unsafe { sys::napi_create_array_with_length(env, 2, &mut array) })?;
                check_status!(unsafe { sys::napi_set_element(env, array, 0, g) })?;
                check_status!(unsafe { sys::napi_set_element(env, array, 1, payload) })?;
                seen.delivered(generation);
                Ok(array)
            }
            Out::Failed(e) => Err(unsafe { error::rejection(env, e) }),
        }
    }
}

unsafe fn object(env: sys::napi_env, map: &serde_json::Map<String, Value>) -> napi::Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_object(env, &mut out) })?;
    let mut properties = Vec::with_capacity(map.len());
    for (key, value) in map {
        properties.push(sys::napi_property_descriptor {
            utf8name: ptr::null(),
            name: unsafe { string(env, key)? },
            method: None,
            getter: None,
            setter: None,
            value: unsafe { json(env, value)? },
            attributes: sys::PropertyAttributes::writable
                | sys::PropertyAttributes::enumerable
                | sys::PropertyAttributes::configurable,
            data: ptr::null_mut(),
        });
    }
    if !properties.is_empty() {
        check_status!(unsafe { sys::napi_define_properties(env, out, properties.len(), properties.as_ptr()) })?;
    }
    Ok(out)
}

unsafe fn buffer(env: sys::napi_env, bytes: &[u8]) -> napi::Result<sys::napi_value> {
    let mut data = ptr::null_mut();
    let mut out = ptr::null_mut();
    check_status!(unsafe {
        sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut out)
    })?;
    Ok(out)
}

impl ToNapiValue for Out {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        unsafe { val.convert(env) }
    }
}
