//! The kernel heap: one contiguous direct-mapped range carved from RAM at boot, managed by
//! `linked_list_allocator` (first fit, coalescing), locked with interrupts disabled so that
//! interrupt handlers never deadlock against an interrupted allocation.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use linked_list_allocator::Heap;
use spin::Mutex;

struct KernelHeap(Mutex<Heap>);

// SAFETY: every access to the heap is under the mutex with interrupts disabled.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.lock().allocate_first_fit(layout).map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: `ptr` came from `alloc` with this `layout` (GlobalAlloc contract).
            unsafe { self.0.lock().deallocate(p, layout) }
        }
    }
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(Mutex::new(Heap::empty()));

/// Hands `[start, start + size)` (direct-mapped, never used for anything else) to the heap.
///
/// # Safety
/// The range must be valid, writable, unused memory that lives forever; call once.
pub unsafe fn init(start: *mut u8, size: usize) {
    // SAFETY: the caller upholds the contract above.
    unsafe { HEAP.0.lock().init(start, size) }
}

/// Bytes in use and total, for the boot log and `/proc/meminfo`-like reports.
pub fn usage() -> (usize, usize) {
    let h = HEAP.0.lock();
    (h.used(), h.size())
}
