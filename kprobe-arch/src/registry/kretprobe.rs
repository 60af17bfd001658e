//! kretprobe instances: calls in progress whose return address was replaced by the
//! trampoline.
//!
//! An instance records the probe, the real return address and the call's frame (x86_64: the
//! entry stack pointer). Storage is one vector whose capacity is reserved at registration for
//! every kretprobe's `maxactive`, so the trap path never allocates. An instance keeps its
//! probe alive after unregistration: the trampoline still needs the return address.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use crate::probe::Entry;

/// One call in progress.
pub(crate) struct Instance<R: 'static> {
    pub(crate) probe: Arc<Entry<R>>,
    /// The return address found at entry (the trampoline itself when another kretprobe on
    /// the same function replaced it first).
    pub(crate) ret: u64,
    pub(crate) frame: u64,
}

/// All instances, oldest first.
pub(crate) struct Instances<R: 'static> {
    list: spin::Mutex<Vec<Instance<R>>>,
}

impl<R: 'static> Instances<R> {
    pub(crate) fn new() -> Self {
        Instances { list: spin::Mutex::new(Vec::new()) }
    }

    /// Makes room for `n` more instances than are in flight now (writer side).
    pub(crate) fn reserve(&self, n: usize) {
        self.list.lock().reserve(n);
    }

    /// Number of instances in flight.
    pub(crate) fn len(&self) -> usize {
        self.list.lock().len()
    }

    /// Records a call of `probe`'s function; false (missed) beyond `maxactive` or capacity.
    ///
    /// A call entering with a real return address (not the trampoline: not a tail call of
    /// another kretprobed function) proves that instances with the same frame are stale —
    /// their calls never came back through the trampoline (a function that does not return,
    /// a stack unwound past it) — so they are dropped here rather than misdirect this call's
    /// return.
    pub(crate) fn push(&self, probe: &Arc<Entry<R>>, ret: u64, frame: u64, trampoline: u64) -> bool {
        let mut list = self.list.lock();
        if ret != trampoline {
            list.retain(|i| {
                let stale = i.frame == frame;
                if stale {
                    i.probe.active.fetch_sub(1, Ordering::Relaxed);
                }
                !stale
            });
        }
        if probe.active.load(Ordering::Relaxed) >= probe.maxactive || list.len() == list.capacity() {
            return false;
        }
        probe.active.fetch_add(1, Ordering::Relaxed);
        list.push(Instance { probe: probe.clone(), ret, frame });
        true
    }

    /// The real return address of the calls returning with `frame`: the oldest recorded
    /// return address that is not the trampoline.
    pub(crate) fn real_return(&self, frame: u64, trampoline: u64) -> Option<u64> {
        let list = self.list.lock();
        list.iter().filter(|i| i.frame == frame).map(|i| i.ret).find(|&r| r != trampoline)
    }

    /// Removes and returns the newest instance with `frame`.
    pub(crate) fn pop_newest(&self, frame: u64) -> Option<Instance<R>> {
        let mut list = self.list.lock();
        let i = list.iter().rposition(|i| i.frame == frame)?;
        let inst = list.remove(i);
        inst.probe.active.fetch_sub(1, Ordering::Relaxed);
        Some(inst)
    }
}
