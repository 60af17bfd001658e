//! kretprobe instances: calls in progress whose return address was replaced by the
//! trampoline.
//!
//! Each kretprobe owns a pool of `maxactive` instance slots, allocated at registration, so
//! the trap path never allocates and never locks: an entry claims a free slot with a
//! compare-and-swap and records the real return address, the call's frame (x86_64: the entry
//! stack pointer) and a global sequence number; the trampoline finds the instances of its
//! frame in the pools of every kretprobe that may have some (the snapshot lists them,
//! unregistered ones included until their last instance is gone), oldest to newest by
//! sequence. Nothing here holds a lock a writer or an interrupted trap could hold.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::probe::Entry;

/// Slot states.
const FREE: u8 = 0;
const CLAIMED: u8 = 1;
const READY: u8 = 2;

/// One instance slot.
struct Slot {
    state: AtomicU8,
    seq: AtomicU64,
    ret: AtomicU64,
    frame: AtomicU64,
}

/// The instance slots of one kretprobe (empty for kprobes).
pub(crate) struct Pool {
    slots: Box<[Slot]>,
}

impl Pool {
    pub(crate) fn new(n: usize) -> Self {
        let slots = (0..n)
            .map(|_| Slot {
                state: AtomicU8::new(FREE),
                seq: AtomicU64::new(0),
                ret: AtomicU64::new(0),
                frame: AtomicU64::new(0),
            })
            .collect();
        Pool { slots }
    }

    /// Records a call; false when every slot is in use (`maxactive` reached).
    fn record(&self, ret: u64, frame: u64, seq: u64) -> bool {
        for slot in self.slots.iter() {
            if slot.state.compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                slot.ret.store(ret, Ordering::Relaxed);
                slot.frame.store(frame, Ordering::Relaxed);
                slot.seq.store(seq, Ordering::Relaxed);
                slot.state.store(READY, Ordering::Release);
                return true;
            }
        }
        false
    }

    /// The recorded instances of `frame`: (slot index, sequence, return address).
    fn of_frame(&self, frame: u64) -> impl Iterator<Item = (usize, u64, u64)> + '_ {
        // Only code on the stack of `frame` records or frees instances of `frame`, so a
        // matching slot cannot change between these loads.
        self.slots
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.state.load(Ordering::Acquire) == READY && s.frame.load(Ordering::Relaxed) == frame)
            .map(|(i, s)| (i, s.seq.load(Ordering::Relaxed), s.ret.load(Ordering::Relaxed)))
    }

    /// Frees slot `i` if it is still recorded; true when this call freed it.
    fn take(&self, i: usize) -> bool {
        self.slots
            .get(i)
            .is_some_and(|s| s.state.compare_exchange(READY, FREE, Ordering::AcqRel, Ordering::Relaxed).is_ok())
    }
}

/// The kretprobe side of a hit at a function's entry: records the call in `probe`'s pool.
/// A call entering with a real return address (not the trampoline: not a tail call of
/// another kretprobed function) proves that older instances with the same frame are stale —
/// their calls never came back through the trampoline (a function that does not return, a
/// stack unwound past it) — so they are dropped first rather than misdirect this return.
pub(crate) fn record<R>(
    probe: &Entry<R>,
    all: &[Arc<Entry<R>>],
    ret: u64,
    frame: u64,
    trampoline: u64,
    seq: &AtomicU64,
) -> bool {
    if ret != trampoline {
        for p in all {
            for (i, _, _) in p.pool.of_frame(frame) {
                if p.pool.take(i) {
                    p.active.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }
    let n = seq.fetch_add(1, Ordering::Relaxed);
    if probe.pool.record(ret, frame, n) {
        probe.active.fetch_add(1, Ordering::Relaxed);
        true
    } else {
        false
    }
}

/// The real return address of the calls returning with `frame`: of their instances, the
/// oldest whose recorded return address is not the trampoline (several kretprobes on one
/// function, or a tail call into another kretprobed function, stack trampoline values).
pub(crate) fn real_return<R>(all: &[Arc<Entry<R>>], frame: u64, trampoline: u64) -> Option<u64> {
    all.iter()
        .flat_map(|p| p.pool.of_frame(frame))
        .filter(|&(_, _, ret)| ret != trampoline)
        .min_by_key(|&(_, seq, _)| seq)
        .map(|(_, _, ret)| ret)
}

/// Removes the newest instance of `frame` and returns its probe.
pub(crate) fn take_newest<R>(all: &[Arc<Entry<R>>], frame: u64) -> Option<&Arc<Entry<R>>> {
    // Only code running on the stack of `frame` touches its instances, so a take fails only
    // if that code was interrupted in the middle of one: bounded retries.
    for _ in 0..8 {
        let (probe, i) = all
            .iter()
            .flat_map(|p| p.pool.of_frame(frame).map(move |(i, seq, _)| (p, i, seq)))
            .max_by_key(|&(_, _, seq)| seq)
            .map(|(p, i, _)| (p, i))?;
        if probe.pool.take(i) {
            probe.active.fetch_sub(1, Ordering::Relaxed);
            return Some(probe);
        }
    }
    None
}
