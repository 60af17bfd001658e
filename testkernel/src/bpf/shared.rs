//! Pages shared between the kernel and user space (`BPF_F_MMAPABLE` arrays, ring buffers):
//! the [`KernelVmap`] the kernel's memory code implements, and [`KernelShared`], the
//! `maps::SharedPages` the maps get, which remembers the physical frames so `mmap` of a map
//! fd can map them into a process.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::ptr::NonNull;

use maps::SharedPages;
use syscall_abi::Errno;

use crate::mm::PAGE_SIZE;
use crate::KResult;

/// What [`KernelVmap::alloc_shared`] returns.
#[derive(Debug, PartialEq, Eq)]
pub struct SharedAlloc {
    /// Kernel-virtual address of the first page (page aligned, not 0). The mapping covers
    /// `pages + repeat_tail` pages.
    pub vaddr: usize,
    /// Physical address of each of the `pages` distinct frames, in mapping order.
    pub frames: Vec<u64>,
}

/// The kernel's allocator of user-mappable pages (implemented by the memory code).
pub trait KernelVmap: Send + Sync {
    /// Allocates `pages` zeroed frames and maps them contiguously in kernel virtual memory,
    /// followed by a second mapping of the last `repeat_tail` frames (`repeat_tail <=
    /// pages`): `pages + repeat_tail` pages of address space in all. Out of memory or
    /// address space → `ENOMEM`.
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> KResult<SharedAlloc>;

    /// Unmaps and frees what [`KernelVmap::alloc_shared`]`(pages, repeat_tail)` returned.
    /// Called when the map is freed; no user mapping of the frames remains then (mappings
    /// hold the map).
    fn free_shared(&self, alloc: SharedAlloc, repeat_tail: usize);
}

/// Shared pages from a [`KernelVmap`]: what `maps` keeps and what `mmap` of a map fd maps.
pub struct KernelShared {
    vmap: Arc<dyn KernelVmap>,
    /// `Some` until dropped.
    alloc: Option<SharedAlloc>,
    pages: usize,
    repeat_tail: usize,
}

impl KernelShared {
    /// Allocates through `vmap`, checking what it returns (wrong frame count, unaligned or
    /// null address → freed again and `ENOMEM`).
    pub fn new(vmap: Arc<dyn KernelVmap>, pages: usize, repeat_tail: usize) -> KResult<KernelShared> {
        if pages == 0 || repeat_tail > pages {
            return Err(Errno::EINVAL);
        }
        let alloc = vmap.alloc_shared(pages, repeat_tail)?;
        let shared = KernelShared { vmap, alloc: Some(alloc), pages, repeat_tail };
        let ok = shared
            .alloc
            .as_ref()
            .is_some_and(|a| a.frames.len() == pages && a.vaddr != 0 && a.vaddr % PAGE_SIZE as usize == 0);
        if !ok {
            log::error!("bpf: KernelVmap returned an unusable allocation");
            return Err(Errno::ENOMEM); // dropping `shared` frees it
        }
        Ok(shared)
    }

    /// Number of pages of the kernel mapping, repeated tail included (what user space may
    /// map, counted from page 0).
    pub fn mapped_pages(&self) -> usize {
        self.pages + self.repeat_tail
    }

    /// The physical frame shown at page `index` of the kernel mapping (indexes past
    /// `pages` are the repeated tail), `None` past the end.
    pub fn frame(&self, index: usize) -> Option<u64> {
        let frames = &self.alloc.as_ref()?.frames;
        if index < self.pages {
            frames.get(index).copied()
        } else if index < self.mapped_pages() {
            frames.get(index - self.repeat_tail).copied()
        } else {
            None
        }
    }
}

impl SharedPages for KernelShared {
    fn as_ptr(&self) -> NonNull<u8> {
        let vaddr = self.alloc.as_ref().map_or(0, |a| a.vaddr);
        // `new` checked that the address is not 0; it came from the kernel's own mapping
        // code, so taking its provenance from the exposed address is what we want.
        NonNull::new(core::ptr::with_exposed_provenance_mut(vaddr)).unwrap_or(NonNull::dangling())
    }

    fn pages(&self) -> usize {
        self.pages
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for KernelShared {
    fn drop(&mut self) {
        if let Some(alloc) = self.alloc.take() {
            self.vmap.free_shared(alloc, self.repeat_tail);
        }
    }
}
