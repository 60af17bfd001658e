//! Host-test fakes: a `HashMap` page table and heap-page frames that count allocations, so
//! tests can check that dropping an address space frees every frame.

use alloc::boxed::Box;
use alloc::sync::Arc;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use super::mapper::{FrameAllocator, PageMapper, PteFlags, PAGE_SIZE};
use crate::KResult;

/// Heap pages standing in for physical frames.
pub struct FakeFrames {
    next: AtomicU64,
    live: Mutex<HashMap<u64, Box<[u8; PAGE_SIZE as usize]>>>,
    /// Fail allocations once this many frames are live.
    pub limit: AtomicU64,
}

impl FakeFrames {
    /// A leaked allocator (the trait wants `&'static`).
    pub fn leak() -> &'static FakeFrames {
        Box::leak(Box::new(FakeFrames {
            next: AtomicU64::new(0x10_0000),
            live: Mutex::new(HashMap::new()),
            limit: AtomicU64::new(u64::MAX),
        }))
    }

    /// Frames currently allocated.
    pub fn live(&self) -> usize {
        self.live.lock().len()
    }

    /// A device frame outside the allocator's accounting (for `FrameSource` fakes).
    pub fn device_frame(&self, fill: u8) -> u64 {
        let pa = self.next.fetch_add(PAGE_SIZE, Ordering::Relaxed) | (1 << 40);
        self.live.lock().insert(pa, Box::new([fill; PAGE_SIZE as usize]));
        pa
    }
}

impl FrameAllocator for FakeFrames {
    fn alloc_zeroed(&self) -> Option<u64> {
        let mut live = self.live.lock();
        let owned = live.keys().filter(|&&k| k & (1 << 40) == 0).count() as u64;
        if owned >= self.limit.load(Ordering::Relaxed) {
            return None;
        }
        let pa = self.next.fetch_add(PAGE_SIZE, Ordering::Relaxed);
        live.insert(pa, Box::new([0; PAGE_SIZE as usize]));
        Some(pa)
    }

    fn free(&self, pa: u64) {
        assert!(pa & (1 << 40) == 0, "freeing a device frame {pa:#x}");
        assert!(self.live.lock().remove(&pa).is_some(), "double free of {pa:#x}");
    }

    fn frame_ptr(&self, pa: u64) -> *mut u8 {
        let mut live = self.live.lock();
        match live.get_mut(&pa) {
            Some(b) => b.as_mut_ptr(),
            None => panic!("frame_ptr of a frame not allocated: {pa:#x}"),
        }
    }
}

/// The shared state of a [`FakeMapper`], kept by the test to inspect the page table.
pub type FakeTable = Arc<Mutex<HashMap<u64, (u64, PteFlags)>>>;

/// A `HashMap` page table.
pub struct FakeMapper(pub FakeTable);

impl FakeMapper {
    /// A mapper and a handle on its table.
    pub fn boxed() -> (Box<dyn PageMapper>, FakeTable) {
        let t: FakeTable = Arc::new(Mutex::new(HashMap::new()));
        (Box::new(FakeMapper(t.clone())), t)
    }
}

impl PageMapper for FakeMapper {
    fn map(&mut self, va: u64, pa: u64, flags: PteFlags) -> KResult<()> {
        assert!(va % PAGE_SIZE == 0 && pa % PAGE_SIZE == 0);
        self.0.lock().insert(va, (pa, flags));
        Ok(())
    }
    fn unmap(&mut self, va: u64) -> Option<u64> {
        self.0.lock().remove(&va).map(|(pa, _)| pa)
    }
    fn protect(&mut self, va: u64, flags: PteFlags) -> bool {
        match self.0.lock().get_mut(&va) {
            Some(e) => {
                e.1 = flags;
                true
            }
            None => false,
        }
    }
    fn translate(&self, va: u64) -> Option<(u64, PteFlags)> {
        self.0.lock().get(&(va & !(PAGE_SIZE - 1))).copied()
    }
}
