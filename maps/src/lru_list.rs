//! The eviction lists of `lru_hash` and `lru_percpu_hash` (Linux `kernel/bpf/bpf_lru_list.c`).
//!
//! Every element of an LRU map carries an [`LruNode`] and sits in one [`Lru`] list: one list
//! for the whole map, or one per CPU with `BPF_F_NO_COMMON_LRU` (an element stays in the list
//! of the CPU that inserted it, and each list holds `max_entries / possible_cpus` elements).
//! A list has Linux's two queues, *active* and *inactive*, both newest-first, plus a count of
//! free slots (Linux keeps preallocated free nodes; elements here are allocated on demand, so
//! a counter is enough).
//!
//! The policy is Linux's second-chance scheme:
//! - A program's lookup sets the node's `ref` bit (lock-free); syscall lookups do not.
//!   Replacing a key's element marks the new element referenced.
//! - A new element enters at the head of the inactive queue with `ref` clear.
//! - Rotation (`__bpf_lru_list_rotate`): when the inactive queue is shorter than the active
//!   one, up to `nr_scans` nodes from the active tail move to the active head if referenced
//!   (clearing the bit) or to the inactive head if not; then up to `nr_scans` inactive nodes,
//!   continuing from where the last rotation stopped (`next_inactive_rotation`), move to the
//!   active head if referenced.
//! - Eviction (`__bpf_lru_list_shrink`): from the inactive tail, referenced nodes move to the
//!   active head and the first unreferenced one is removed from the table; if up to `nr_scans`
//!   nodes give nothing, the tail of the inactive (else active) queue is evicted whatever its
//!   bit ("force shrink").
//!
//! Simplifications, on purpose:
//! - Linux's common LRU hands nodes to per-CPU local free/pending lists of up to 128 nodes
//!   (`LOCAL_FREE_TARGET`) and evicts in batches of up to 128 (per-CPU lists: 4), so a map on a
//!   many-CPU machine evicts before it is full and evicts more than one element at a time.
//!   Here a list evicts exactly one element per insertion into a full list, so an LRU map holds
//!   exactly `max_entries` elements once full.
//! - Linux rotates the common list once per 128 allocations (when a local free list runs dry)
//!   and a per-CPU list on every allocation; here a list rotates once every `nr_scans`
//!   allocations (128 common, 4 per-CPU), and before an eviction the active queue is rotated
//!   when the inactive one is shorter (so referenced elements are demoted before a force
//!   shrink would have to ignore their bit).
//!
//! Locking: a list's [`CpuLock`] is taken before a bucket lock, never after (Linux's rule:
//! `lru_lock -> bucket_lock`). A delete that cannot take the list lock because its own CPU
//! holds it (a program running in a probe that interrupted an LRU operation) marks the node
//! dead instead; the next allocation from that list reaps it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering::Relaxed};

use intrusive_collections::{intrusive_adapter, LinkedList, LinkedListAtomicLink, UnsafeRef};
use syscall_abi::{err, Errno, Result};

use crate::lock::CpuLock;

/// Nodes one rotation or shrink pass looks at: Linux `LOCAL_NR_SCANS` (common list).
const COMMON_NR_SCANS: u32 = 128;
/// Linux `PERCPU_NR_SCANS` (per-CPU lists).
const PERCPU_NR_SCANS: u32 = 4;

const IN_NONE: u8 = 0;
const IN_ACTIVE: u8 = 1;
const IN_INACTIVE: u8 = 2;

/// The part of an LRU map element the lists use (Linux `struct bpf_lru_node`).
pub(crate) struct LruNode {
    link: LinkedListAtomicLink,
    /// The `ref` bit: set by program lookups, read and cleared under the list lock.
    referenced: AtomicBool,
    /// Which queue holds the node (`IN_*`); changed only under the list lock.
    queue: AtomicU8,
    /// Set when the node left the table but its list lock could not be taken.
    dead: AtomicBool,
    /// Index of the list that owns the node; written before the element is published.
    list: AtomicU32,
}

intrusive_adapter!(NodeAdapter = UnsafeRef<LruNode>: LruNode { link: LinkedListAtomicLink });

impl LruNode {
    /// A node in no list.
    pub(crate) const fn new() -> Self {
        LruNode {
            link: LinkedListAtomicLink::new(),
            referenced: AtomicBool::new(false),
            queue: AtomicU8::new(IN_NONE),
            dead: AtomicBool::new(false),
            list: AtomicU32::new(0),
        }
    }

    /// Marks the node recently used (`bpf_lru_node_set_ref`): only writes when the bit is
    /// clear, so hot elements do not bounce their cache line between CPUs.
    #[inline]
    pub(crate) fn set_ref(&self) {
        if !self.referenced.load(Relaxed) {
            self.referenced.store(true, Relaxed);
        }
    }
}

/// What the lists need from the table that owns the elements.
pub(crate) trait LruTable {
    /// Removes the element of `node` from the table if it is still linked there (Linux
    /// `htab_lru_map_delete_node`). False when it is gone already or its bucket lock is busy.
    fn unlink(&self, node: NonNull<LruNode>, cpu: u32) -> bool;
    /// The element of `node` has left the table and the lists: free it once no reader can
    /// hold it any more.
    fn release(&self, node: NonNull<LruNode>);
}

/// The LRU lists of one map.
pub(crate) struct Lru {
    lists: Box<[ListSlot]>,
    percpu: bool,
    nr_scans: u32,
}

struct ListSlot {
    list: CpuLock<LruList>,
    /// Nodes marked dead since the last reap.
    dead: AtomicU32,
}

struct LruList {
    active: LinkedList<NodeAdapter>,
    inactive: LinkedList<NodeAdapter>,
    n_active: u32,
    n_inactive: u32,
    /// Elements this list may still hand out.
    free: u32,
    /// Linux `next_inactive_rotation`: the next inactive node to examine (`None`: start at
    /// the tail).
    rotation: Option<NonNull<LruNode>>,
    allocs_since_rotation: u32,
}

// SAFETY: the raw node pointers refer to map elements, which are shared between CPUs by
// design; they are only dereferenced under the list's lock.
unsafe impl Send for LruList {}

/// The node a cursor points at, as the raw pointer the list was given (keeping its
/// provenance over the whole element, which the table needs).
trait NodePtr {
    fn ptr(&self) -> Option<NonNull<LruNode>>;
}

impl NodePtr for intrusive_collections::linked_list::Cursor<'_, NodeAdapter> {
    fn ptr(&self) -> Option<NonNull<LruNode>> {
        self.clone_pointer().and_then(|r| NonNull::new(UnsafeRef::into_raw(r)))
    }
}

impl Lru {
    /// Lists for a map of `max_entries` elements: one common list, or one per CPU holding
    /// `max_entries / cpus` each (the map rounded `max_entries` to a multiple of `cpus`).
    pub(crate) fn new(max_entries: u32, percpu: bool, cpus: u32) -> Result<Self> {
        let (n, per_list) = if percpu { (cpus.max(1), max_entries / cpus.max(1)) } else { (1, max_entries) };
        let mut lists = Vec::new();
        lists.try_reserve_exact(n as usize).or(err(Errno::ENOMEM, "no memory for the LRU lists"))?;
        for _ in 0..n {
            lists.push(ListSlot {
                list: CpuLock::new(LruList {
                    active: LinkedList::new(NodeAdapter::new()),
                    inactive: LinkedList::new(NodeAdapter::new()),
                    n_active: 0,
                    n_inactive: 0,
                    free: per_list,
                    rotation: None,
                    allocs_since_rotation: 0,
                }),
                dead: AtomicU32::new(0),
            });
        }
        Ok(Lru {
            lists: lists.into_boxed_slice(),
            percpu,
            nr_scans: if percpu { PERCPU_NR_SCANS } else { COMMON_NR_SCANS },
        })
    }

    /// Bytes the lists themselves take.
    pub(crate) fn memory_usage(&self) -> usize {
        core::mem::size_of::<Self>() + self.lists.len() * core::mem::size_of::<ListSlot>()
    }

    /// Takes a slot for the new element of `node` (Linux `bpf_lru_pop_free`), evicting the
    /// least recently used element of the list when it is full, and queues the node at the
    /// inactive head. `node` must be in no list. Nothing could be evicted → `ENOMEM`; the
    /// list lock held by this CPU → `EBUSY`.
    ///
    /// # Safety
    /// `node` must point to the `LruNode` of a live element that stays allocated until it
    /// has left the lists (through [`Lru::push_free`] or [`LruTable::release`]).
    pub(crate) unsafe fn pop_free(&self, cpu: u32, node: NonNull<LruNode>, table: &impl LruTable) -> Result<()> {
        let idx = if self.percpu { cpu as usize % self.lists.len() } else { 0 };
        let slot = &self.lists[idx];
        let mut l = slot.list.lock(cpu)?;
        if slot.dead.swap(0, Relaxed) > 0 {
            l.reap_dead(table);
        }
        l.allocs_since_rotation += 1;
        if l.allocs_since_rotation >= self.nr_scans {
            l.allocs_since_rotation = 0;
            l.rotate(self.nr_scans);
        }
        if l.free == 0 {
            if l.n_inactive < l.n_active {
                l.rotate_active(self.nr_scans);
            }
            if !l.shrink_inactive(self.nr_scans, table, cpu) && !l.force_shrink(table, cpu) {
                return err(Errno::ENOMEM, "LRU map: no element could be evicted");
            }
        }
        l.free -= 1;
        // SAFETY: the caller guarantees `node` is live and in no list.
        let n = unsafe { node.as_ref() };
        n.list.store(idx as u32, Relaxed);
        n.dead.store(false, Relaxed);
        l.push_head(node, IN_INACTIVE);
        Ok(())
    }

    /// Gives the slot of `node` back (Linux `bpf_lru_push_free`): the node leaves its list.
    /// Returns false when the list lock is held by this CPU: the node is then marked dead and
    /// the list releases it (through [`LruTable::release`]) at its next allocation.
    ///
    /// # Safety
    /// `node` must be in a list of this `Lru`, and its element must no longer be reachable
    /// from the table.
    pub(crate) unsafe fn push_free(&self, cpu: u32, node: NonNull<LruNode>) -> bool {
        // SAFETY: the caller guarantees `node` is a live node of these lists.
        let n = unsafe { node.as_ref() };
        let idx = n.list.load(Relaxed) as usize % self.lists.len();
        let slot = &self.lists[idx];
        match slot.list.lock(cpu) {
            Ok(mut l) => {
                l.unlink(node);
                l.free += 1;
                true
            }
            Err(_) => {
                n.dead.store(true, Relaxed);
                slot.dead.fetch_add(1, Relaxed);
                false
            }
        }
    }

    /// Holds list `idx` as `cpu` (tests: an LRU operation interrupted on that CPU).
    #[cfg(test)]
    pub(crate) fn hold_list(&self, idx: usize, cpu: u32) -> Result<impl Drop + '_> {
        self.lists[idx].list.lock(cpu)
    }

    /// Takes every node out of the lists and hands it to `free` (map teardown: no other
    /// user exists).
    pub(crate) fn drain(&mut self, mut free: impl FnMut(NonNull<LruNode>)) {
        for slot in self.lists.iter_mut() {
            let l = slot.list.get_mut();
            l.rotation = None;
            for q in [&mut l.active, &mut l.inactive] {
                while let Some(r) = q.pop_front() {
                    if let Some(node) = NonNull::new(UnsafeRef::into_raw(r)) {
                        free(node);
                    }
                }
            }
            l.n_active = 0;
            l.n_inactive = 0;
        }
    }
}

impl LruList {
    fn queue(&mut self, which: u8) -> &mut LinkedList<NodeAdapter> {
        if which == IN_ACTIVE {
            &mut self.active
        } else {
            &mut self.inactive
        }
    }

    /// The node after `node` towards the head (newer) in its queue.
    fn newer(&self, node: NonNull<LruNode>, which: u8) -> Option<NonNull<LruNode>> {
        let q = if which == IN_ACTIVE { &self.active } else { &self.inactive };
        // SAFETY: `node` is in `q` (its `queue` field says so and is kept under this lock).
        let c = unsafe { q.cursor_from_ptr(node.as_ptr()) };
        c.peek_prev().ptr()
    }

    fn unlink(&mut self, node: NonNull<LruNode>) {
        // SAFETY: nodes in the lists are live (callers' contract).
        let n = unsafe { node.as_ref() };
        let which = n.queue.load(Relaxed);
        if which == IN_NONE {
            return;
        }
        if which == IN_INACTIVE && self.rotation == Some(node) {
            self.rotation = self.newer(node, IN_INACTIVE);
        }
        // SAFETY: `node` is in the queue its `queue` field names.
        let removed = unsafe { self.queue(which).cursor_mut_from_ptr(node.as_ptr()) }.remove();
        debug_assert!(removed.is_some());
        if which == IN_ACTIVE {
            self.n_active -= 1;
        } else {
            self.n_inactive -= 1;
        }
        n.queue.store(IN_NONE, Relaxed);
    }

    /// Queues `node` (in no queue) at the head of `to` with `ref` cleared.
    fn push_head(&mut self, node: NonNull<LruNode>, to: u8) {
        // SAFETY: nodes handed to the lists are live until they leave them.
        let n = unsafe { node.as_ref() };
        n.referenced.store(false, Relaxed);
        n.queue.store(to, Relaxed);
        // SAFETY: the node is in no queue (callers unlink first) and outlives its membership.
        let r = unsafe { UnsafeRef::from_raw(node.as_ptr()) };
        self.queue(to).push_front(r);
        if to == IN_ACTIVE {
            self.n_active += 1;
        } else {
            self.n_inactive += 1;
        }
    }

    /// Linux `__bpf_lru_node_move`: to the head of `to`, `ref` cleared.
    fn move_to(&mut self, node: NonNull<LruNode>, to: u8) {
        self.unlink(node);
        self.push_head(node, to);
    }

    fn rotate(&mut self, nr_scans: u32) {
        if self.n_inactive < self.n_active {
            self.rotate_active(nr_scans);
        }
        self.rotate_inactive(nr_scans);
    }

    /// From the active tail: referenced → active head, else → inactive head.
    fn rotate_active(&mut self, nr_scans: u32) {
        for _ in 0..nr_scans.min(self.n_active) {
            let Some(node) = self.active.back().ptr() else { break };
            // SAFETY: the node is in the active queue, hence live.
            let to = if unsafe { node.as_ref() }.referenced.load(Relaxed) { IN_ACTIVE } else { IN_INACTIVE };
            self.move_to(node, to);
        }
    }

    /// From `rotation` towards the head, wrapping at the head to the tail: referenced nodes
    /// move to the active head. Stops after `nr_scans` nodes or one full round.
    fn rotate_inactive(&mut self, nr_scans: u32) {
        let Some(tail) = self.inactive.back().ptr() else { return };
        let Some(head) = self.inactive.front().ptr() else { return };
        // The node just older than the cursor ends the round (Linux `last`).
        let last = match self.rotation {
            None => head,
            Some(r) => {
                // SAFETY: `rotation` always points into the inactive queue (kept by `unlink`).
                let c = unsafe { self.inactive.cursor_from_ptr(r.as_ptr()) };
                c.peek_next().ptr().unwrap_or(head)
            }
        };
        let mut cur = self.rotation.unwrap_or(tail);
        let mut next = None;
        for _ in 0..nr_scans {
            next = self.newer(cur, IN_INACTIVE);
            // SAFETY: `cur` is in the inactive queue.
            if unsafe { cur.as_ref() }.referenced.load(Relaxed) {
                self.move_to(cur, IN_ACTIVE);
            }
            if cur == last {
                break;
            }
            cur = match next {
                Some(n) => n,
                None => match self.inactive.back().ptr() {
                    Some(t) => t,
                    None => break,
                },
            };
        }
        self.rotation = next;
    }

    /// Evicts the first unreferenced node from the inactive tail; referenced ones move to
    /// the active head. Looks at no more than `nr_scans` nodes.
    fn shrink_inactive(&mut self, nr_scans: u32, table: &impl LruTable, cpu: u32) -> bool {
        let mut cur = self.inactive.back().ptr();
        let mut scanned = 0;
        while let Some(node) = cur {
            let newer = self.newer(node, IN_INACTIVE);
            // SAFETY: `node` is in the inactive queue.
            if unsafe { node.as_ref() }.referenced.load(Relaxed) {
                self.move_to(node, IN_ACTIVE);
            } else if table.unlink(node, cpu) {
                self.evicted(node, table);
                return true;
            }
            scanned += 1;
            if scanned == nr_scans {
                break;
            }
            cur = newer;
        }
        false
    }

    /// Evicts the oldest node the table lets go, ignoring `ref` (inactive queue first).
    fn force_shrink(&mut self, table: &impl LruTable, cpu: u32) -> bool {
        let which = if self.n_inactive > 0 { IN_INACTIVE } else { IN_ACTIVE };
        let mut cur = self.queue(which).back().ptr();
        while let Some(node) = cur {
            let newer = self.newer(node, which);
            if table.unlink(node, cpu) {
                self.evicted(node, table);
                return true;
            }
            cur = newer;
        }
        false
    }

    fn evicted(&mut self, node: NonNull<LruNode>, table: &impl LruTable) {
        self.unlink(node);
        self.free += 1;
        table.release(node);
    }

    /// Releases the nodes [`Lru::push_free`] could not take out.
    fn reap_dead(&mut self, table: &impl LruTable) {
        for which in [IN_ACTIVE, IN_INACTIVE] {
            let mut cur = self.queue(which).back().ptr();
            while let Some(node) = cur {
                let newer = self.newer(node, which);
                // SAFETY: `node` is in a queue, hence live.
                if unsafe { node.as_ref() }.dead.load(Relaxed) {
                    self.evicted(node, table);
                }
                cur = newer;
            }
        }
    }
}
