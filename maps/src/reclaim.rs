//! Deferred freeing of map elements whose address a program may still hold.
//!
//! A program gets raw value addresses from `bpf_map_lookup_elem` and may use them until it
//! returns, even if another CPU deletes or replaces the element meanwhile. Linux solves this
//! with RCU; a hobby kernel may have none, so the maps carry their own scheme, a two-counter
//! epoch scheme (the idea of SRCU):
//!
//! - A reader (a running program, a syscall that copies a value out) holds a [`Guard`]
//!   from [`read_lock`]. The guard increments the reader counter of the current epoch's
//!   parity and rechecks that the epoch did not move meanwhile.
//! - A writer that unlinks an element hands its memory to [`retire`], which pushes it on the
//!   lock-free list of the current epoch's parity. Nothing is freed there and then.
//! - The epoch advances from `E` to `E + 1` only when no reader of epoch `E - 1` remains
//!   (their counter shares the parity of `E + 1`). Advancing then frees the list of that
//!   parity: everything retired during `E - 1` (or earlier), whose possible readers started
//!   in `E - 2` or `E - 1` and have all finished.
//!
//! Advancing is attempted by every [`retire`] and by [`collect`] (which a kernel may call
//! from a timer, and which tests call to observe frees); it never blocks and never spins,
//! so it is safe from any context, including a probe that interrupted another map
//! operation. Memory retired while readers keep running is freed by a later attempt.

use alloc::boxed::Box;
use core::any::Any;
use core::ptr;
use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};

static EPOCH: AtomicUsize = AtomicUsize::new(0);
static READERS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static RETIRED: [AtomicPtr<Retired>; 2] = [AtomicPtr::new(ptr::null_mut()), AtomicPtr::new(ptr::null_mut())];
static ADVANCING: AtomicBool = AtomicBool::new(false);
static PENDING: AtomicUsize = AtomicUsize::new(0);

struct Retired {
    next: *mut Retired,
    _obj: Box<dyn Any + Send>,
}

/// Proof that the holder is a reader: element addresses obtained under it stay valid until
/// it is dropped. Not `Send`: drop it on the CPU (thread) that took it.
pub struct Guard {
    parity: usize,
    _not_send: core::marker::PhantomData<*mut ()>,
}

/// Enters a read-side critical section. Cheap: two atomic operations on entry, one on exit.
pub fn read_lock() -> Guard {
    loop {
        let e = EPOCH.load(SeqCst);
        READERS[e & 1].fetch_add(1, SeqCst);
        if EPOCH.load(SeqCst) == e {
            // Orders the program's later (non-SeqCst) loads of element pointers after the
            // counter increment, pairing with the fence in `retire`.
            fence(SeqCst);
            return Guard { parity: e & 1, _not_send: core::marker::PhantomData };
        }
        // The epoch moved between the load and the increment: our count may sit in a
        // counter an advancer already found empty. Back out and retry in the new epoch.
        READERS[e & 1].fetch_sub(1, SeqCst);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        READERS[self.parity].fetch_sub(1, SeqCst);
    }
}

/// Hands memory that readers may still reference to the reclaimer; it is dropped once no
/// reader that could have seen it remains.
pub fn retire(obj: Box<dyn Any + Send>) {
    let node = Box::into_raw(Box::new(Retired { next: ptr::null_mut(), _obj: obj }));
    // Orders the caller's unlink of `obj` (any ordering) before the epoch read below:
    // a reader whose increment this retirer does not see is guaranteed to see the unlink.
    fence(SeqCst);
    let list = &RETIRED[EPOCH.load(SeqCst) & 1];
    let mut head = list.load(SeqCst);
    loop {
        // SAFETY: `node` is ours until the compare-exchange publishes it.
        unsafe { (*node).next = head };
        match list.compare_exchange_weak(head, node, SeqCst, SeqCst) {
            Ok(_) => break,
            Err(h) => head = h,
        }
    }
    PENDING.fetch_add(1, SeqCst);
    collect();
}

/// Tries to advance the epoch (twice, so a quiet system frees everything retired so far)
/// and frees what became unreachable. Never blocks.
pub fn collect() {
    for _ in 0..2 {
        if !try_advance() {
            break;
        }
    }
}

/// Number of retired objects not freed yet (for tests and statistics).
pub fn pending() -> usize {
    PENDING.load(SeqCst)
}

fn try_advance() -> bool {
    if ADVANCING.swap(true, SeqCst) {
        return false;
    }
    let e = EPOCH.load(SeqCst);
    let old = (e + 1) & 1;
    let advanced = if READERS[old].load(SeqCst) == 0 {
        // Take the list before publishing the new epoch: a retirer that reads epoch e + 1
        // pushes onto this parity's list, and what it pushes must wait for the readers of
        // epoch e. Everything taken here was retired during epoch e - 1 or before; a node
        // pushed by a retirer that read an older epoch is only freed later than needed.
        let mut p = RETIRED[old].swap(ptr::null_mut(), SeqCst);
        EPOCH.store(e + 1, SeqCst);
        while !p.is_null() {
            // SAFETY: nodes are created by `Box::into_raw` in `retire` and taken off the
            // list exactly once by this swap.
            let node = unsafe { Box::from_raw(p) };
            p = node.next;
            PENDING.fetch_sub(1, SeqCst);
            drop(node);
        }
        true
    } else {
        false
    };
    ADVANCING.store(false, SeqCst);
    advanced
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn collect_until(done: impl Fn() -> bool) {
        let start = std::time::Instant::now();
        while !done() && start.elapsed() < std::time::Duration::from_secs(5) {
            collect();
            std::thread::yield_now();
        }
    }

    // One test: the reclaimer is global, tests in parallel would see each other's guards.
    #[test]
    fn retired_memory_outlives_readers_and_is_then_freed() {
        let freed = Arc::new(AtomicUsize::new(0));
        let g = read_lock();
        retire(Box::new(Counted(freed.clone())));
        collect();
        collect();
        assert_eq!(freed.load(SeqCst), 0, "freed while a reader could hold it");
        drop(g);
        // Other tests may hold guards in parallel: retry until the epoch can advance.
        collect_until(|| freed.load(SeqCst) == 1);
        assert_eq!(freed.load(SeqCst), 1);

        // Concurrent readers and retirers: every object is eventually freed exactly once.
        let freed = Arc::new(AtomicUsize::new(0));
        let threads: std::vec::Vec<_> = (0..4)
            .map(|_| {
                let f = freed.clone();
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        let _g = read_lock();
                        retire(Box::new(Counted(f.clone())));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        collect_until(|| freed.load(SeqCst) == 8000);
        assert_eq!(freed.load(SeqCst), 8000);
    }
}
