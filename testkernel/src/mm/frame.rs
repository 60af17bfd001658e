//! Physical frames from the boot memory map: a bump allocator over the usable ranges
//! (above everything the loader placed: kernel image, initrd module, boot information) plus
//! a free list threaded through freed frames. Implements [`FrameAllocator`] over the direct
//! map.

use spin::Mutex;

use super::mapper::{FrameAllocator, PAGE_SIZE};

use crate::arch::mem::phys_to_virt;

const MAX_RANGES: usize = 32;

struct Inner {
    /// Usable `[start, end)` ranges, page-aligned, in memory-map order.
    ranges: [(u64, u64); MAX_RANGES],
    nranges: usize,
    /// The range the bump pointer is in.
    cur: usize,
    /// Head of the free list (physical; 0 = empty): each free frame's first 8 bytes hold
    /// the next one.
    free_head: u64,
    free_count: u64,
    total: u64,
    allocated: u64,
}

/// The kernel's frame allocator (one, [`FRAMES`]).
pub struct Frames {
    inner: Mutex<Inner>,
}

/// The frame allocator (empty until [`init`]).
pub static FRAMES: Frames = Frames {
    inner: Mutex::new(Inner {
        ranges: [(0, 0); MAX_RANGES],
        nranges: 0,
        cur: 0,
        free_head: 0,
        free_count: 0,
        total: 0,
        allocated: 0,
    }),
};

/// Adds the usable RAM `regions` (base, length), excluding everything below `reserved_end`
/// (the kernel image, boot modules and boot information all lie below it).
pub fn init(regions: impl Iterator<Item = (u64, u64)>, reserved_end: u64) {
    let mut g = FRAMES.inner.lock();
    for (base, len) in regions {
        let start = base.max(reserved_end).max(0x10_0000).next_multiple_of(PAGE_SIZE);
        let end = base.saturating_add(len) & !(PAGE_SIZE - 1);
        if start >= end || g.nranges == MAX_RANGES {
            continue;
        }
        let n = g.nranges;
        g.ranges[n] = (start, end);
        g.nranges += 1;
        g.total += (end - start) / PAGE_SIZE;
    }
}

impl Inner {
    fn bump(&mut self, pages: u64) -> Option<u64> {
        let bytes = pages.checked_mul(PAGE_SIZE)?;
        while self.cur < self.nranges {
            let (start, end) = self.ranges[self.cur];
            if end - start >= bytes {
                self.ranges[self.cur].0 = start + bytes;
                return Some(start);
            }
            self.cur += 1;
        }
        None
    }
}

impl Frames {
    /// `pages` physically contiguous frames (not zeroed), from the never-used part of RAM:
    /// for the heap and other boot-time carving. Never freed.
    pub fn alloc_contiguous(&self, pages: u64) -> Option<u64> {
        let mut g = self.inner.lock();
        let pa = g.bump(pages)?;
        g.allocated += pages;
        Some(pa)
    }

    /// (total frames, frames in use).
    pub fn stats(&self) -> (u64, u64) {
        let g = self.inner.lock();
        (g.total, g.allocated)
    }

    /// The highest usable physical address + 1 (the extent of the direct map).
    pub fn max_phys(&self) -> u64 {
        let g = self.inner.lock();
        g.ranges[..g.nranges].iter().map(|r| r.1).max().unwrap_or(0)
    }
}

impl FrameAllocator for Frames {
    fn alloc_zeroed(&self) -> Option<u64> {
        let pa = {
            let mut g = self.inner.lock();
            let pa = if g.free_head != 0 {
                let pa = g.free_head;
                // SAFETY: `pa` is a free frame (direct-mapped) whose first word is the link.
                g.free_head = unsafe { core::ptr::read(phys_to_virt(pa) as *const u64) };
                g.free_count -= 1;
                pa
            } else {
                g.bump(1)?
            };
            g.allocated += 1;
            pa
        };
        // SAFETY: the frame is ours now and direct-mapped (4096 writable bytes).
        unsafe { core::ptr::write_bytes(phys_to_virt(pa), 0, PAGE_SIZE as usize) };
        Some(pa)
    }

    fn free(&self, pa: u64) {
        if pa == 0 || pa % PAGE_SIZE != 0 {
            log::error!("frame free of bad address {pa:#x} ignored");
            return;
        }
        let mut g = self.inner.lock();
        // SAFETY: the caller gives the frame back; it is direct-mapped and now free, so its
        // first word can hold the list link.
        unsafe { core::ptr::write(phys_to_virt(pa) as *mut u64, g.free_head) };
        g.free_head = pa;
        g.free_count += 1;
        g.allocated = g.allocated.saturating_sub(1);
    }

    fn frame_ptr(&self, pa: u64) -> *mut u8 {
        phys_to_virt(pa)
    }
}
