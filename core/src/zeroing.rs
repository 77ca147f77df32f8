//! A global allocator that zeroes every block it frees, switched on only when a manager asks
//! for `zeroize_before_snapshot`.
//!
//! `Document` zeroizes the secret's strings on drop, but the fetch leaves other copies in
//! blocks that were freed long before: the HTTP body, TLS record buffers, the JSON text, the
//! strings a binding converted. The allocator marks those blocks free and keeps their bytes,
//! so a memory snapshot of the process still holds the plaintext. With this allocator
//! installed and switched on ([`enable`], which resolving `zeroize_before_snapshot = true`
//! does), every freed or moved block is zeroed first, so after `before_snapshot()` drops the
//! cache, the pools and the bindings' copies, no plaintext is left in the heap.
//!
//! Core is a library and cannot choose the process's allocator: each binary that wants this
//! declares it (`#[global_allocator] static A: ZeroingAlloc = ZeroingAlloc;`), which the C
//! library, the Python extension and the Node addon do for their own (Rust) allocations.
//! Switched off (the default) it costs one relaxed atomic load per free.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

/// Zero every block freed from now on (for the life of the process).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Whether freed blocks are zeroed.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The system allocator, zeroing what it frees once [`enable`]d (module doc).
pub struct ZeroingAlloc;

/// Zero `len` bytes at `ptr` with `zeroize` (as `Document` does), whose volatile writes the
/// compiler cannot drop as dead stores to memory about to be freed.
unsafe fn wipe(ptr: *mut u8, len: usize) {
    zeroize::Zeroize::zeroize(std::slice::from_raw_parts_mut(ptr, len));
}

// SAFETY: every block comes from `System` with the layout it is freed with; zeroing writes
// only within the block being freed.
unsafe impl GlobalAlloc for ZeroingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Ordering::Relaxed) {
            wipe(ptr, layout.size());
        }
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !ON.load(Ordering::Relaxed) {
            return System.realloc(ptr, layout, new_size);
        }
        // The system's realloc may move the block and free the old one unzeroed: move it here.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = System.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            wipe(ptr, layout.size());
            System.dealloc(ptr, layout);
        }
        new
    }
}
