//! A spin lock that knows which CPU holds it, so re-entry from the same CPU fails with
//! `EBUSY` instead of deadlocking.
//!
//! A kprobe or tracepoint program can fire while the interrupted code on the same CPU holds
//! a map's lock (for instance in the middle of a syscall update of that map). Linux answers
//! such a nested update with `EBUSY` (`htab_lock_bucket`'s per-CPU `map_locked` counter);
//! this lock does the same by storing the owner CPU.
//!
//! Callers run map operations with preemption disabled (the bpf-subsys syscall layer and
//! program execution guarantee it), so "held by my CPU" always means "re-entered".

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};

use syscall_abi::{err, Errno, Result};

const FREE: u32 = u32::MAX;

/// A spin lock with owner-CPU re-entry detection.
pub struct CpuLock<T> {
    owner: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: access to `data` is serialised by `owner` (acquire on lock, release on unlock).
unsafe impl<T: Send> Sync for CpuLock<T> {}
// SAFETY: moving the lock moves the data; no thread affinity.
unsafe impl<T: Send> Send for CpuLock<T> {}

impl<T> CpuLock<T> {
    /// A free lock around `data`.
    pub const fn new(data: T) -> Self {
        CpuLock { owner: AtomicU32::new(FREE), data: UnsafeCell::new(data) }
    }

    /// Takes the lock on behalf of `cpu`, spinning while another CPU holds it. Held by
    /// `cpu` itself (re-entry from a probe) → `EBUSY`.
    pub fn lock(&self, cpu: u32) -> Result<CpuLockGuard<'_, T>> {
        loop {
            match self.owner.compare_exchange_weak(FREE, cpu, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Ok(CpuLockGuard { lock: self }),
                Err(owner) if owner == cpu => return err(Errno::EBUSY, "map lock re-entered on this CPU"),
                Err(_) => core::hint::spin_loop(),
            }
        }
    }

    /// Mutable access without locking (the caller has `&mut self`).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

/// Holds a [`CpuLock`]; unlocks on drop.
pub struct CpuLockGuard<'a, T> {
    lock: &'a CpuLock<T>,
}

impl<T> Deref for CpuLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves exclusive ownership of the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for CpuLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership of the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for CpuLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.owner.store(FREE, Ordering::Release);
    }
}

/// Holds a map value's `struct bpf_spin_lock`: a 4-byte word, 0 free and 1 held, taken with
/// a compare-and-swap loop and released by storing 0. Every map that honours `BPF_F_LOCK`,
/// and the program-side `bpf_spin_lock` helper, must use this one protocol.
pub struct BpfSpinLockGuard<'a>(&'a AtomicU32);

impl<'a> BpfSpinLockGuard<'a> {
    /// Spins until `word` is free, then holds it until the guard is dropped.
    pub fn acquire(word: &'a AtomicU32) -> Self {
        while word.compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        BpfSpinLockGuard(word)
    }
}

impl Drop for BpfSpinLockGuard<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reentry_on_same_cpu_is_ebusy_other_cpu_waits() {
        let l = std::sync::Arc::new(CpuLock::new(0u64));
        let g = l.lock(1).unwrap();
        assert_eq!(l.lock(1).err().unwrap().errno, Errno::EBUSY);
        let l2 = l.clone();
        let t = std::thread::spawn(move || {
            *l2.lock(2).unwrap() += 1;
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(g);
        t.join().unwrap();
        assert_eq!(*l.lock(1).unwrap(), 1);
    }
}
