//! [`VmallocArea`]: a ready-made [`KernelVmap`] over a range of kernel virtual addresses
//! that the paging code reserves, so the kernel only has to implement [`KernelPageMap`]
//! (map/unmap one page of the shared kernel half of the page tables).
//!
//! Like Linux's `vmalloc` area: each allocation gets fresh zeroed frames, mapped at a
//! first-fit free virtual range followed by one unmapped guard page; the last `repeat_tail`
//! frames are mapped a second time right after the first mapping (the ring buffer layout,
//! Linux `bpf_ringbuf_area_alloc`'s `vmap` of the data pages twice).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use spin::Mutex;
use syscall_abi::Errno;

use super::shared::{KernelVmap, SharedAlloc};
use crate::mm::{FrameAllocator, PAGE_SIZE};
use crate::KResult;

#[cfg(test)]
mod tests;

/// The kernel half of the page tables (shared by every address space), as the vmalloc
/// area needs it. Implemented by the paging code.
pub trait KernelPageMap: Send + Sync {
    /// Maps kernel page `va` to frame `pa`: present, writable, not executable, not user,
    /// global. `ENOMEM` when a page-table page cannot be allocated.
    fn map_kernel(&self, va: u64, pa: u64) -> KResult<()>;
    /// Unmaps kernel page `va` (mapped by [`KernelPageMap::map_kernel`]) and invalidates its
    /// TLB entry.
    fn unmap_kernel(&self, va: u64);
}

/// A vmalloc-style allocator of user-mappable kernel pages.
pub struct VmallocArea {
    frames: &'static dyn FrameAllocator,
    tables: &'static dyn KernelPageMap,
    /// Free virtual ranges: start → length in pages.
    free: Mutex<BTreeMap<u64, u64>>,
}

impl VmallocArea {
    /// An allocator over the kernel virtual range `[base, base + size)` (page aligned; no
    /// other code may map pages there).
    pub fn new(base: u64, size: u64, frames: &'static dyn FrameAllocator, tables: &'static dyn KernelPageMap) -> Self {
        let mut free = BTreeMap::new();
        let (start, pages) = (base.div_ceil(PAGE_SIZE) * PAGE_SIZE, size / PAGE_SIZE);
        if pages > 0 {
            free.insert(start, pages);
        }
        VmallocArea { frames, tables, free: Mutex::new(free) }
    }

    /// Takes `pages` pages of virtual space (first fit).
    fn take_range(&self, pages: u64) -> Option<u64> {
        let mut free = self.free.lock();
        let (&start, &len) = free.iter().find(|(_, &len)| len >= pages)?;
        free.remove(&start);
        if len > pages {
            free.insert(start + pages * PAGE_SIZE, len - pages);
        }
        Some(start)
    }

    /// Returns `pages` pages at `start`, merging with free neighbours.
    fn give_range(&self, start: u64, pages: u64) {
        let mut free = self.free.lock();
        let (mut start, mut pages) = (start, pages);
        if let Some((&prev, &len)) = free.range(..start).next_back() {
            if prev + len * PAGE_SIZE == start {
                free.remove(&prev);
                start = prev;
                pages += len;
            }
        }
        let end = start + pages * PAGE_SIZE;
        if let Some(len) = free.remove(&end) {
            pages += len;
        }
        free.insert(start, pages);
    }

    /// Undoes a partial allocation: unmaps `mapped` pages from `va`, frees `frames`, returns
    /// `span` pages of virtual space.
    fn undo(&self, va: u64, mapped: u64, frames: &[u64], span: u64) {
        for i in 0..mapped {
            self.tables.unmap_kernel(va + i * PAGE_SIZE);
        }
        for &pa in frames {
            self.frames.free(pa);
        }
        self.give_range(va, span);
    }
}

impl KernelVmap for VmallocArea {
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> KResult<SharedAlloc> {
        let (Ok(n), Ok(tail)) = (u64::try_from(pages), u64::try_from(repeat_tail)) else {
            return Err(Errno::ENOMEM);
        };
        if n == 0 || tail > n {
            return Err(Errno::EINVAL);
        }
        // The mapping plus one guard page.
        let span = n.checked_add(tail).and_then(|m| m.checked_add(1)).ok_or(Errno::ENOMEM)?;
        let va = self.take_range(span).ok_or(Errno::ENOMEM)?;
        let mut frames = Vec::new();
        if frames.try_reserve_exact(pages).is_err() {
            self.give_range(va, span);
            return Err(Errno::ENOMEM);
        }
        for _ in 0..n {
            match self.frames.alloc_zeroed() {
                Some(pa) => frames.push(pa),
                None => {
                    self.undo(va, 0, &frames, span);
                    return Err(Errno::ENOMEM);
                }
            }
        }
        // Page i of the mapping shows frame i, then the tail frames again.
        let frame_at = |i: u64| -> u64 {
            let idx = if i < n { i } else { i - tail };
            frames[usize::try_from(idx).unwrap_or(0)]
        };
        for i in 0..n + tail {
            if let Err(e) = self.tables.map_kernel(va + i * PAGE_SIZE, frame_at(i)) {
                self.undo(va, i, &frames, span);
                return Err(e);
            }
        }
        let Ok(vaddr) = usize::try_from(va) else {
            self.undo(va, n + tail, &frames, span);
            return Err(Errno::ENOMEM);
        };
        Ok(SharedAlloc { vaddr, frames })
    }

    fn free_shared(&self, alloc: SharedAlloc, repeat_tail: usize) {
        let (Ok(va), Ok(n), Ok(tail)) =
            (u64::try_from(alloc.vaddr), u64::try_from(alloc.frames.len()), u64::try_from(repeat_tail))
        else {
            return;
        };
        self.undo(va, n + tail, &alloc.frames, n + tail + 1);
    }
}
