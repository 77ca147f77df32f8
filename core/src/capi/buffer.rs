//! Strings and bytes handed to C, and the library's own free functions for them.
//!
//! Each buffer is one allocation laid out as `[length: usize][data: length bytes][NUL]`; the
//! caller gets a pointer to `data`. The hidden length lets the free functions overwrite
//! exactly the whole buffer with zeros before releasing it, even when the data holds NUL
//! bytes (a secret string may contain `\u0000`, binary secrets often do), and the trailing
//! NUL lets C use a string directly.
//!
//! JSON is serialised straight into the final buffer (sized by a first, counting pass), so
//! no intermediate copy of secret text is ever left behind in freed memory.

use std::ffi::c_char;
use std::io::{self, Write};
use std::mem::size_of;
use std::ptr;

use zeroize::Zeroize;

use crate::error::{Code, Error, Result};

const HEADER: usize = size_of::<usize>();

/// An owned buffer in the layout above, not yet handed out.
pub(crate) struct OutBuffer {
    raw: Box<[u8]>,
}

impl OutBuffer {
    fn with_len(len: usize) -> Result<OutBuffer> {
        let total = len
            .checked_add(HEADER + 1)
            .ok_or_else(|| Error::new(Code::Internal, "value too large to hand out"))?;
        let mut raw = vec![0u8; total].into_boxed_slice();
        raw[..HEADER].copy_from_slice(&len.to_ne_bytes());
        Ok(OutBuffer { raw })
    }

    /// A copy of `bytes`.
    pub(crate) fn copy_of(bytes: &[u8]) -> Result<OutBuffer> {
        let mut out = OutBuffer::with_len(bytes.len())?;
        out.data_mut().copy_from_slice(bytes);
        Ok(out)
    }

    /// What `write` serialises (called twice: once to count, once into the buffer), with
    /// no intermediate copy. `write` is e.g. `|w| serde_json::to_writer(w, value)`.
    pub(crate) fn json_with(write: impl Fn(&mut dyn Write) -> serde_json::Result<()>) -> Result<OutBuffer> {
        let internal = |e: serde_json::Error| Error::new(Code::Internal, format!("cannot serialise JSON: {e}"));
        let mut counter = Counter(0);
        write(&mut counter).map_err(internal)?;
        let mut out = OutBuffer::with_len(counter.0)?;
        let mut cursor: &mut [u8] = out.data_mut();
        write(&mut cursor).map_err(internal)?;
        if !cursor.is_empty() {
            return Err(Error::new(Code::Internal, "JSON length changed between passes"));
        }
        Ok(out)
    }

    fn data_mut(&mut self) -> &mut [u8] {
        let end = self.raw.len() - 1;
        &mut self.raw[HEADER..end]
    }

    fn len(&self) -> usize {
        self.raw.len() - HEADER - 1
    }

    /// Hand the buffer to C: `*out` gets the data pointer, `*out_len` (if not NULL) its length.
    ///
    /// # Safety
    /// `out` is valid for a write; `out_len` is NULL or valid for a write.
    pub(crate) unsafe fn hand_out<T>(mut self, out: *mut *mut T, out_len: *mut usize) {
        let len = self.len();
        let base = Box::into_raw(std::mem::take(&mut self.raw)).cast::<u8>();
        *out = base.add(HEADER).cast::<T>();
        if !out_len.is_null() {
            *out_len = len;
        }
    }
}

impl Drop for OutBuffer {
    fn drop(&mut self) {
        self.raw.zeroize();
    }
}

/// Counts the bytes a serialisation would write.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Zeroize and release a buffer handed out by `hand_out`.
///
/// # Safety
/// `data` is NULL or a pointer returned through `hand_out` and not yet freed.
unsafe fn release(data: *mut u8) {
    if data.is_null() {
        return;
    }
    let base = data.sub(HEADER);
    let mut header = [0u8; HEADER];
    ptr::copy_nonoverlapping(base, header.as_mut_ptr(), HEADER);
    let len = usize::from_ne_bytes(header);
    let raw: Box<[u8]> = Box::from_raw(ptr::slice_from_raw_parts_mut(base, HEADER + len + 1));
    drop(OutBuffer { raw }); // zeroized by Drop
}

/// Overwrite a string returned by this library with zeros and free it. NULL is ignored.
/// Only pass strings that this library returned (never `starfleet_secrets_version()` or
/// `starfleet_secrets_result_name()`, which are static), and each only once.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_string_free(s: *mut c_char) {
    super::ffi::boundary_void(|| release(s.cast()));
}

/// Overwrite bytes returned by this library (`starfleet_secrets_manager_get_binary`) with
/// zeros and free them. NULL is ignored. Each buffer is freed only once.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_bytes_free(b: *mut u8) {
    super::ffi::boundary_void(|| release(b));
}
