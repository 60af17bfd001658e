//! [`Process`]: what threads of one process share.

use core::sync::atomic::{AtomicU64, Ordering};

/// One process (thread group).
pub struct Process {
    /// Process id (= the main thread's tid).
    pub pid: u32,
    cr3: AtomicU64,
}

impl Process {
    /// A process with page table root `cr3` (0 = kernel only).
    pub fn new(pid: u32, cr3: u64) -> Process {
        Process { pid, cr3: AtomicU64::new(cr3) }
    }

    /// The page-table root the scheduler loads for this process's threads (0: keep).
    pub fn cr3(&self) -> u64 {
        self.cr3.load(Ordering::Relaxed)
    }

    /// Sets the page-table root (after `execve`).
    pub fn set_cr3(&self, cr3: u64) {
        self.cr3.store(cr3, Ordering::Relaxed);
    }
}
