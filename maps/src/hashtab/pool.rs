//! Element memory of a hash map: Linux's preallocated mode. All `capacity` elements of a
//! preallocated map live in one contiguous, 8-aligned, zeroed allocation (`elem_size` apart),
//! so chains walk an array rather than scattered heap blocks. Free slots sit on a lock-free
//! stack of `u32` indices whose head carries a tag against ABA.
//!
//! An element that may still be reachable by a reader is not pushed back at once: it goes
//! through [`reclaim::retire`] as a small token whose drop returns the slot (so a program's
//! value address stays valid while its guard lives). Slots in that grace period are not
//! available, so an empty stack falls back to an individually allocated element, as do all
//! elements of `BPF_F_NO_PREALLOC` maps (capacity 0). Whether an element is a slot or a heap
//! block is decided by its address.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};

use syscall_abi::{err, Errno, Result};

use super::elem::{ElemHead, Shape};
use crate::{reclaim, FdObject};

/// End of the free stack.
const NIL: u32 = u32::MAX;

/// The element memory of one map; shared with the retire tokens of its elements, so it
/// outlives the map while elements wait for their grace period.
pub(super) struct Pool {
    shape: Shape,
    /// The slab: `capacity * elem_size` bytes (dangling when empty).
    base: NonNull<u8>,
    capacity: u32,
    /// `next[i]`: the slot below `i` on the free stack.
    next: Box<[AtomicU32]>,
    /// Free stack head: `tag << 32 | index` (`NIL` index: empty).
    head: AtomicU64,
}

// SAFETY: the slab is plain memory handed out slot by slot under the free stack's protocol;
// the only non-plain content, fd elements' `Arc<dyn FdObject>`, is `Send + Sync`.
unsafe impl Send for Pool {}
// SAFETY: as above; all shared state is atomic.
unsafe impl Sync for Pool {}

impl Pool {
    /// A pool with `capacity` preallocated slots (0: every element individually allocated).
    /// `ENOMEM` if the slab cannot be allocated (Linux `prealloc_init`).
    pub(super) fn new(shape: Shape, capacity: u32) -> Result<Pool> {
        let n = capacity as usize;
        let mut next = Vec::new();
        if next.try_reserve_exact(n).is_err() {
            return err(Errno::ENOMEM, "no memory for the hash free list");
        }
        let base = if n == 0 {
            NonNull::dangling()
        } else {
            let Some(layout) = Self::slab_layout(&shape, n) else {
                return err(Errno::ENOMEM, "hash map elements too large to preallocate");
            };
            // SAFETY: the layout has a non-zero size (n > 0, elements are >= 16 bytes).
            let raw = unsafe { alloc_zeroed(layout) };
            let Some(base) = NonNull::new(raw) else { return err(Errno::ENOMEM, "no memory for hash elements") };
            base
        };
        // Slot i's successor is i + 1: the stack pops slots in address order.
        next.extend((1..=capacity).map(|i| AtomicU32::new(if i == capacity { NIL } else { i })));
        let head = if n == 0 { NIL } else { 0 };
        Ok(Pool { shape, base, capacity, next: next.into_boxed_slice(), head: AtomicU64::new(head as u64) })
    }

    fn slab_layout(shape: &Shape, n: usize) -> Option<Layout> {
        Layout::from_size_align(shape.elem_size().checked_mul(n)?, 8).ok()
    }

    /// Bytes preallocated.
    pub(super) fn slab_bytes(&self) -> usize {
        self.capacity as usize * self.shape.elem_size()
    }

    /// The slot index of `e`, if it lies in the slab.
    fn slot_of(&self, e: NonNull<ElemHead>) -> Option<u32> {
        let off = (e.as_ptr() as usize).wrapping_sub(self.base.as_ptr() as usize);
        if off < self.slab_bytes() {
            u32::try_from(off / self.shape.elem_size()).ok()
        } else {
            None
        }
    }

    fn pop(&self) -> Option<u32> {
        let mut cur = self.head.load(Acquire);
        loop {
            let idx = cur as u32;
            if idx == NIL {
                return None;
            }
            // May be stale if another CPU popped `idx` meanwhile; the tag then differs and
            // the exchange fails.
            let below = self.next[idx as usize].load(Relaxed);
            let new = ((cur >> 32).wrapping_add(1) << 32) | below as u64;
            match self.head.compare_exchange_weak(cur, new, Acquire, Acquire) {
                Ok(_) => return Some(idx),
                Err(c) => cur = c,
            }
        }
    }

    fn push(&self, idx: u32) {
        let mut cur = self.head.load(Relaxed);
        loop {
            self.next[idx as usize].store(cur as u32, Relaxed);
            let new = ((cur >> 32).wrapping_add(1) << 32) | idx as u64;
            // Release: the slot's last uses happen before the next owner's writes.
            match self.head.compare_exchange_weak(cur, new, Release, Relaxed) {
                Ok(_) => return,
                Err(c) => cur = c,
            }
        }
    }

    /// A zeroed element holding `key` (whose hash is `hash`), its LRU node initialised, and
    /// for fd maps `obj` in the value area: a free slot, else a heap block. Out of memory →
    /// `ENOMEM`. The element belongs to the caller until it is published.
    pub(super) fn alloc(&self, hash: u32, key: &[u8], obj: Option<Arc<dyn FdObject>>) -> Result<NonNull<ElemHead>> {
        let s = &self.shape;
        if key.len() != s.key_size || obj.is_some() != s.is_fd() {
            return err(Errno::EINVAL, "element does not match the map");
        }
        let raw = match self.pop() {
            Some(idx) => {
                // SAFETY: `idx < capacity`, so the slot lies inside the slab; popping made
                // it ours (no reader can reach a slot on the free stack).
                unsafe {
                    let p = self.base.as_ptr().add(idx as usize * s.elem_size());
                    ptr::write_bytes(p, 0, s.elem_size());
                    p
                }
            }
            // SAFETY: the layout has a non-zero size (the head alone is 16 bytes).
            None => unsafe { alloc_zeroed(s.layout()) },
        };
        let Some(base) = NonNull::new(raw) else { return err(Errno::ENOMEM, "no memory for a hash element") };
        // SAFETY: `base` is zeroed, 8-aligned memory of `elem_size` bytes owned by us.
        Ok(unsafe { s.init(base, hash, key, obj) })
    }

    /// Frees `e` now: drops an fd element's object, then returns the slot or the block.
    ///
    /// # Safety
    /// `e` must be an element of this pool that no reader, bucket or LRU list can reach.
    pub(super) unsafe fn free(&self, e: NonNull<ElemHead>) {
        // SAFETY: caller's contract: `e` is ours alone.
        unsafe { self.shape.drop_contents(e) };
        match self.slot_of(e) {
            Some(idx) => self.push(idx),
            // SAFETY: not in the slab, so `alloc` allocated it with the element layout.
            None => unsafe { dealloc(e.as_ptr().cast(), self.shape.layout()) },
        }
    }

    /// Frees `e` once every reader that may have found it is gone ([`reclaim::retire`]).
    ///
    /// # Safety
    /// `e` must be an element of `pool` that no bucket or LRU list can reach any more.
    pub(super) unsafe fn retire(pool: &Arc<Pool>, e: NonNull<ElemHead>) {
        reclaim::retire(Box::new(Retiring { pool: pool.clone(), e }));
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some(layout) = Self::slab_layout(&self.shape, self.capacity as usize).filter(|_| self.capacity > 0) {
            // SAFETY: `new` allocated the slab with this layout; no element is in use any
            // more (the map freed its elements, retire tokens hold the pool alive).
            unsafe { dealloc(self.base.as_ptr(), layout) };
        }
    }
}

/// An unlinked element in its grace period; dropping it frees the element.
struct Retiring {
    pool: Arc<Pool>,
    e: NonNull<ElemHead>,
}

// SAFETY: the element is owned by this token alone (see `Pool`'s `Send`).
unsafe impl Send for Retiring {}

impl Drop for Retiring {
    fn drop(&mut self) {
        // SAFETY: `retire`'s contract; the grace period has passed, so no reader is left.
        unsafe { self.pool.free(self.e) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::thread;

    fn pool(capacity: u32) -> Arc<Pool> {
        Arc::new(Pool::new(Shape::new(8, 8, 1, false, false).unwrap(), capacity).unwrap())
    }

    #[test]
    fn slots_first_then_heap_and_freed_slots_come_back() {
        let p = pool(2);
        let a = p.alloc(1, &[1; 8], None).unwrap();
        let b = p.alloc(2, &[2; 8], None).unwrap();
        let c = p.alloc(3, &[3; 8], None).unwrap();
        assert_eq!((p.slot_of(a), p.slot_of(b), p.slot_of(c)), (Some(0), Some(1), None), "third is a heap block");
        // SAFETY: never published.
        unsafe { p.free(b) };
        let d = p.alloc(4, &[4; 8], None).unwrap();
        assert_eq!(d, b, "a freed slot is reused");
        // SAFETY: the reused slot was zeroed and re-initialised.
        assert_eq!(unsafe { p.shape.key(d) }, &[4; 8]);
        assert_eq!(unsafe { d.as_ref() }.hash, 4);
        // SAFETY: never published.
        [a, c, d].into_iter().for_each(|e| unsafe { p.free(e) });
    }

    #[test]
    fn a_retired_slot_waits_for_readers() {
        let p = pool(1);
        let a = p.alloc(1, &[1; 8], None).unwrap();
        let g = reclaim::read_lock();
        // SAFETY: `a` was never published; retiring it is allowed all the same.
        unsafe { Pool::retire(&p, a) };
        reclaim::collect();
        let b = p.alloc(2, &[2; 8], None).unwrap();
        assert_eq!(p.slot_of(b), None, "the slot must not be reused while a reader lives");
        // SAFETY: the slot still holds `a`'s key: nobody reused it.
        assert_eq!(unsafe { p.shape.key(a) }, &[1; 8]);
        drop(g);
        // Other tests may hold guards: retry until the grace period passes.
        let mut back = None;
        for _ in 0..10_000 {
            reclaim::collect();
            let e = p.alloc(3, &[3; 8], None).unwrap();
            if p.slot_of(e).is_some() {
                back = Some(e);
                break;
            }
            // SAFETY: never published.
            unsafe { p.free(e) };
            thread::yield_now();
        }
        assert_eq!(back, Some(a), "the slot comes back after the grace period");
        // SAFETY: never published.
        [b, a].into_iter().for_each(|e| unsafe { p.free(e) });
    }

    #[test]
    fn concurrent_alloc_and_free_never_share_a_slot() {
        let (threads, rounds) = if cfg!(miri) { (3, 30) } else { (4, 20_000) };
        let p = pool(4);
        let stop = Arc::new(AtomicBool::new(false));
        let hs: std::vec::Vec<_> = (0..threads)
            .map(|t: u8| {
                let (p, stop) = (p.clone(), stop.clone());
                thread::spawn(move || {
                    for i in 0..rounds {
                        let e = p.alloc(u32::from(t), &[t; 8], None).unwrap();
                        // SAFETY: `e` is ours until freed; its value is 8 bytes.
                        let v = unsafe { p.shape.value(e, 0) }.cast::<u64>();
                        // SAFETY: as above.
                        unsafe { v.write(u64::from(t) << 32 | i) };
                        thread::yield_now();
                        // SAFETY: as above: nobody else may have written our element.
                        assert_eq!(unsafe { v.read() }, u64::from(t) << 32 | i, "slot handed out twice");
                        assert_eq!(unsafe { p.shape.key(e) }, &[t; 8]);
                        // SAFETY: never published.
                        unsafe { p.free(e) };
                        if stop.load(Relaxed) {
                            break;
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            if h.join().is_err() {
                stop.store(true, Relaxed);
                panic!("a thread failed");
            }
        }
        // Every slot is free again: four allocations take the four slots.
        let es: std::vec::Vec<_> = (0..4).map(|i| p.alloc(i, &[0; 8], None).unwrap()).collect();
        let mut slots: std::vec::Vec<_> = es.iter().map(|&e| p.slot_of(e)).collect();
        slots.sort();
        assert_eq!(slots, [Some(0), Some(1), Some(2), Some(3)]);
        // SAFETY: never published.
        es.into_iter().for_each(|e| unsafe { p.free(e) });
    }
}
