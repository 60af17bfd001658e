//! The two things the portable memory code needs from the machine: a page table for one
//! user address space ([`PageMapper`]) and physical frames ([`FrameAllocator`]).
//!
//! The x86_64 code implements both over 4-level page tables and the boot memory map; host
//! tests implement them over a `HashMap` and heap pages. Addresses are plain `u64`s:
//! virtual ones are user addresses (`< 0x0000_8000_0000_0000`), physical ones are frame
//! addresses (4096-aligned).

use bitflags::bitflags;

use crate::KResult;

/// The page size.
pub const PAGE_SIZE: u64 = 4096;

bitflags! {
    /// Permissions of one user page (present pages are always readable on x86_64).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PteFlags: u32 {
        /// Writable.
        const WRITE = 1 << 0;
        /// Executable.
        const EXEC = 1 << 1;
    }
}

/// One user address space's page table. Only the user half is managed through it; the
/// kernel half is shared by every address space and not visible here.
pub trait PageMapper: Send {
    /// Maps the page at `va` (aligned) to frame `pa` (aligned) with `flags`, replacing any
    /// mapping (the old frame is not freed: the caller owns frames). `ENOMEM` when a table
    /// page cannot be allocated.
    fn map(&mut self, va: u64, pa: u64, flags: PteFlags) -> KResult<()>;
    /// Unmaps the page at `va`; returns the frame it mapped.
    fn unmap(&mut self, va: u64) -> Option<u64>;
    /// Changes the permissions of a mapped page; `false` if `va` is not mapped.
    fn protect(&mut self, va: u64, flags: PteFlags) -> bool;
    /// The frame and permissions of the page containing `va`, if mapped.
    fn translate(&self, va: u64) -> Option<(u64, PteFlags)>;
    /// Invalidates the TLB entries of this address space after `unmap`/`protect` (a no-op
    /// on the host; the x86_64 code flushes when this space is the active one).
    fn flush(&self) {}
}

/// Physical frames, and access to their contents.
pub trait FrameAllocator: Sync {
    /// A zero-filled frame, or `None` when memory is exhausted.
    fn alloc_zeroed(&self) -> Option<u64>;
    /// Returns a frame obtained from [`FrameAllocator::alloc_zeroed`].
    fn free(&self, pa: u64);
    /// A kernel pointer to the frame's 4096 bytes (the direct map on x86_64).
    ///
    /// The pointer is valid for reads and writes of [`PAGE_SIZE`] bytes while the frame is
    /// allocated (or, for device frames, while their owner lives).
    fn frame_ptr(&self, pa: u64) -> *mut u8;
}
