//! Strings and bytes handed to C, and the library's own free functions for them.
//!
//! Each buffer is one C heap block (`malloc`): a 16-byte header (a magic word and the data
//! length), the data, and a trailing NUL. The caller gets the address of the data. The free
//! functions check the magic word, overwrite exactly the header, the data and the NUL with
//! zeros (the length is the header's, so a value containing NUL bytes is erased entirely),
//! and only then `free` the block.
//!
//! Zeroing only our own bytes matters for a caller's double free: the allocator keeps its
//! own marker inside a freed block (glibc's tcache key), which is how it detects a second
//! `free` and aborts. Zeroing the block's whole usable size on that second call would wipe
//! the marker and turn the abort into silent heap corruption. Here the second call finds no
//! magic word (it was zeroed, and the allocator has since written its own data there),
//! writes nothing, and aborts with a message, as the allocator itself would.
//!
//! JSON is serialised straight into the final buffer (sized by a first, counting pass), so
//! no intermediate copy of secret text is ever left behind in freed memory.

use std::ffi::{c_char, c_void};
use std::io::{self, Write};

use zeroize::Zeroize;

use starfleet_secrets::error::{Code, Error, Result};

/// The header in front of the data: 16 bytes, so the data keeps malloc's 16-byte alignment.
#[repr(C)]
struct Header {
    magic: u64,
    len: u64,
}

const HEADER: usize = std::mem::size_of::<Header>();
const _: () = assert!(HEADER == 16);
/// "SFSBUFv1": marks a live block handed out by this library.
const MAGIC: u64 = u64::from_be_bytes(*b"SFSBUFv1");

/// A C heap block of `len` data bytes plus a NUL, not yet handed out.
pub(crate) struct OutBuffer {
    ptr: *mut u8,
    len: usize,
}

impl OutBuffer {
    fn with_len(len: usize) -> Result<OutBuffer> {
        let size = len
            .checked_add(HEADER + 1)
            .ok_or_else(|| Error::new(Code::Internal, "value too large to hand out"))?;
        // SAFETY: size >= HEADER + 1; the block is initialised below before anything reads it.
        let block = unsafe { libc::malloc(size) }.cast::<u8>();
        if block.is_null() {
            return Err(Error::new(Code::Internal, format!("out of memory ({size} bytes)")));
        }
        // SAFETY: `block` is a fresh block of `size` bytes, aligned for `Header` by malloc.
        unsafe {
            block.write_bytes(0, size);
            block.cast::<Header>().write(Header {
                magic: MAGIC,
                len: len as u64,
            });
        }
        Ok(OutBuffer {
            // SAFETY: within the block.
            ptr: unsafe { block.add(HEADER) },
            len,
        })
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

/// Zeroize and free a buffer made by `OutBuffer` (`data` is what the caller was given).
///
/// # Safety
/// `data` is NULL or a pointer this library handed out; a second call for the same pointer
/// (or a pointer from elsewhere) is caught by the magic word only as far as reading 16
/// bytes before it is possible, as with any allocator's checks.
unsafe fn release(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    let block = data.cast::<u8>().sub(HEADER);
    let header = block.cast::<Header>().read();
    if header.magic != MAGIC {
        // Freed before, or never ours: touch nothing and stop, as the allocator would.
        const MESSAGE: &[u8] = b"starfleet-secrets: a string or bytes buffer was freed twice, or was not returned by this library; aborting\n";
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        std::process::abort();
    }
    let size = HEADER + header.len as usize + 1;
    std::slice::from_raw_parts_mut(block, size).zeroize();
    libc::free(block.cast());
}

/// Overwrite a string returned by this library with zeros and free it. NULL is ignored.
/// Only pass strings that this library returned (never `starfleet_secrets_version()` or
/// `starfleet_secrets_result_name()`, which are static), and each only once: a second free
/// of the same string aborts the process, as the C allocator's own check would.
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_string_free(s: *mut c_char) {
    super::ffi::boundary_void(|| release(s.cast()));
}

/// Overwrite bytes returned by this library (`starfleet_secrets_manager_get_binary`) with
/// zeros and free them. NULL is ignored. Each buffer is freed only once (a second free
/// aborts the process, as the C allocator's own check would).
#[no_mangle]
pub unsafe extern "C" fn starfleet_secrets_bytes_free(b: *mut u8) {
    super::ffi::boundary_void(|| release(b.cast()));
}
