//! [`SharedPages`]: the frames of a shared anonymous mapping (`MAP_SHARED | MAP_ANONYMOUS`),
//! allocated on first touch and common to every address space mapping them (they survive
//! `fork` as shared memory, like Linux's shmem-backed anonymous shared mappings).

use alloc::collections::BTreeMap;

use spin::Mutex;

use super::mapper::FrameAllocator;

/// Lazily allocated frames, indexed by page number, freed when the last mapping goes.
pub struct SharedPages {
    frames: &'static dyn FrameAllocator,
    pages: Mutex<BTreeMap<u64, u64>>,
}

impl SharedPages {
    /// No pages yet.
    pub fn new(frames: &'static dyn FrameAllocator) -> Self {
        SharedPages { frames, pages: Mutex::new(BTreeMap::new()) }
    }

    /// The frame of page `index`, allocated zeroed on first use; `None` when out of memory.
    pub fn frame(&self, index: u64) -> Option<u64> {
        let mut pages = self.pages.lock();
        if let Some(&pa) = pages.get(&index) {
            return Some(pa);
        }
        let pa = self.frames.alloc_zeroed()?;
        pages.insert(index, pa);
        Some(pa)
    }

    /// Number of frames allocated.
    pub fn resident(&self) -> usize {
        self.pages.lock().len()
    }
}

impl Drop for SharedPages {
    fn drop(&mut self) {
        for (_, pa) in core::mem::take(&mut *self.pages.lock()) {
            self.frames.free(pa);
        }
    }
}
