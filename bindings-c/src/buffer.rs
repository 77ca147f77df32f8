//! Strings and bytes handed to C, and the library's own free functions for them.
//!
//! Each buffer is one C heap block (`malloc`) holding the data and a trailing NUL, and the
//! caller gets the block's start. The free functions overwrite the whole block with zeros
//! (its usable size, from `malloc_usable_size`, so a value containing NUL bytes is erased
//! entirely) and only then `free` it. Handing out the start of the block, rather than a
//! pointer past a hidden header, also means a buffer the caller forgets to free is reported
//! by valgrind as "definitely lost", not merely "possibly lost".
//!
//! JSON is serialised straight into the final buffer (sized by a first, counting pass), so
//! no intermediate copy of secret text is ever left behind in freed memory.

use std::ffi::{c_char, c_void};
use std::io::{self, Write};

use zeroize::Zeroize;

use starfleet_secrets::error::{Code, Error, Result};

/// The usable size of a live `malloc` block.
#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn usable_size(p: *mut c_void) -> usize {
    libc::malloc_usable_size(p)
}

#[cfg(target_vendor = "apple")]
unsafe fn usable_size(p: *mut c_void) -> usize {
    libc::malloc_size(p)
}

/// A C heap block of `len` data bytes plus a NUL, not yet handed out.
pub(crate) struct OutBuffer {
    ptr: *mut u8,
    len: usize,
}

impl OutBuffer {
    fn with_len(len: usize) -> Result<OutBuffer> {
        let size = len
            .checked_add(1)
            .ok_or_else(|| Error::new(Code::Internal, "value too large to hand out"))?;
        // SAFETY: size >= 1; the block is initialised below before anything reads it.
        let ptr = unsafe { libc::malloc(size) }.cast::<u8>();
        if ptr.is_null() {
            return Err(Error::new(Code::Internal, format!("out of memory ({size} bytes)")));
        }
        // SAFETY: `ptr` is a fresh block of `size` bytes.
        unsafe { ptr.write_bytes(0, size) };
        Ok(OutBuffer { ptr, len })
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
        // SAFETY: the block holds `len + 1` initialised bytes and is owned by `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// Hand the buffer to C: `*out` gets the block, `*out_len` (if not NULL) the data length.
    ///
    /// # Safety
    /// `out` is valid for a write; `out_len` is NULL or valid for a write.
    pub(crate) unsafe fn hand_out<T>(self, out: *mut *mut T, out_len: *mut usize) {
        let this = std::mem::ManuallyDrop::new(self);
        *out = this.ptr.cast::<T>();
        if !out_len.is_null() {
            *out_len = this.len;
        }
    }
}

impl Drop for OutBuffer {
    fn drop(&mut self) {
        // SAFETY: `ptr` is a live block that was never handed out.
        unsafe { release(self.ptr.cast()) }
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

/// Zeroize and free a block made by `OutBuffer`.
///
/// # Safety
/// `block` is NULL or a live block from `OutBuffer`, freed only once.
unsafe fn release(block: *mut c_void) {
    if block.is_null() {
        return;
    }
    std::slice::from_raw_parts_mut(block.cast::<u8>(), usable_size(block)).zeroize();
    libc::free(block);
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
    super::ffi::boundary_void(|| release(b.cast()));
}
