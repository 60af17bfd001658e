//! `BPF_MAP_TYPE_LPM_TRIE`: longest-prefix-match lookups over bit strings such as IP
//! prefixes (Linux `kernel/bpf/lpm_trie.c`).
//!
//! Keys are `struct bpf_lpm_trie_key { __u32 prefixlen; __u8 data[]; }`: `prefixlen` in host
//! byte order, `data` compared bit by bit from the most significant bit of `data[0]`
//! (network order). `key_size = 4 + data_size`, so the trie holds prefixes of up to
//! `max_prefixlen = 8 * data_size` bits.
//!
//! The structure is Linux's: a binary trie of individually allocated nodes, each holding a
//! prefix and (unless it is an *intermediate* node, which only splits two subtrees) a value.
//! Along any path prefix lengths strictly grow; an intermediate node always has two
//! children.
//!
//! Concurrency, as Linux's RCU scheme:
//! - writers (update, delete, from syscalls and programs) serialise on a [`CpuLock`] (a
//!   probe re-entering on the same CPU gets `EBUSY`) and never modify a published node
//!   except its child pointers and its intermediate flag; a changed element is a new node
//!   swapped in with one release store, the old one goes to [`reclaim::retire`];
//! - readers (lookups, `get_next_key`) take no lock: they walk the atomic child pointers
//!   under a [`reclaim::Guard`], so a value address handed to a program stays valid until
//!   its guard is dropped, even if the element is deleted or replaced meanwhile.
//!
//! Update follows Linux 6.1 stable (with the December 2024 fixes backported to 6.1.y):
//! `BPF_NOEXIST` on an existing prefix → `EEXIST`, `BPF_EXIST` on a missing one → `ENOENT`,
//! a new prefix in a full trie → `ENOSPC`, replacing an existing prefix always works.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::any::Any;
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use syscall_abi::bpf::{
    BPF_EXIST, BPF_F_LOCK, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY,
    BPF_F_WRONLY_PROG, BPF_NOEXIST,
};
use syscall_abi::{err, Errno, Result};

use crate::lock::CpuLock;
use crate::reclaim::{self, Guard};
use crate::{round_up_8, BpfMap, MapAttr, MapDef, MapHost};

/// `BPF_F_ACCESS_MASK` (include/linux/bpf.h).
const ACCESS_MASK: u32 = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;
/// `LPM_CREATE_FLAG_MASK`.
const CREATE_FLAG_MASK: u32 = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | ACCESS_MASK;
/// Size of `prefixlen` at the start of a key.
const PREFIXLEN_SIZE: u32 = 4;
/// `LPM_DATA_SIZE_MAX`.
const DATA_SIZE_MAX: u32 = 256;
/// `LPM_DATA_SIZE_MIN`.
const DATA_SIZE_MIN: u32 = 1;
/// `KMALLOC_MAX_SIZE` of Linux 6.1 on x86_64 with SLUB.
const KMALLOC_MAX_SIZE: u32 = 1 << 22;
/// `sizeof(struct lpm_trie_node)` in Linux 6.1 on 64-bit machines (rcu_head, two child
/// pointers, prefixlen, flags).
const LINUX_NODE_SIZE: u32 = 40;
/// `LPM_VAL_SIZE_MAX`.
const VAL_SIZE_MAX: u32 = KMALLOC_MAX_SIZE - DATA_SIZE_MAX - LINUX_NODE_SIZE;
/// `LPM_TREE_NODE_FLAG_IM`: the node only splits two subtrees and has no value.
const FLAG_IM: u32 = 1;

/// One trie node. Its key bytes and value live in `mem`: `data_size` key bytes padded to 8,
/// then the value (8-aligned). The key bytes and `prefixlen` never change after the node is
/// published; the value is only written by programs through the address `prog_lookup`
/// returned.
struct Node {
    child: [AtomicPtr<Node>; 2],
    prefixlen: u32,
    flags: AtomicU32,
    mem: Box<[UnsafeCell<u64>]>,
}

// SAFETY: the key bytes in `mem` are immutable once published; the value bytes are raw
// memory that BPF programs share by design (as in Linux), accessed only through raw
// pointers; everything else is atomic.
unsafe impl Sync for Node {}

impl Node {
    fn is_im(&self) -> bool {
        self.flags.load(Ordering::Acquire) & FLAG_IM != 0
    }

    fn base(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.mem.as_ptr()).cast::<u8>()
    }

    /// The first `data_size` bytes: the prefix.
    fn data(&self, data_size: usize) -> &[u8] {
        let len = data_size.min(self.mem.len() * 8);
        // SAFETY: `mem` holds at least `len` bytes; the key bytes are written before the
        // node is published and never again, so no write races with this shared view.
        unsafe { core::slice::from_raw_parts(self.base(), len) }
    }

    fn child(&self, bit: usize) -> *mut Node {
        self.child[bit & 1].load(Ordering::Acquire)
    }

    fn bytes(&self) -> usize {
        core::mem::size_of::<Node>() + self.mem.len() * 8
    }
}

/// Turns a published node pointer into a reference.
///
/// # Safety
/// `p` is null or a node reachable from the trie, read while holding a [`Guard`] or the
/// trie's writer lock (either keeps it from being freed for `'a`).
unsafe fn node_ref<'a>(p: *mut Node) -> Option<&'a Node> {
    // SAFETY: per the function's contract.
    unsafe { p.as_ref() }
}

/// Writer state, under the lock.
struct State {
    n_entries: u32,
}

/// A longest-prefix-match trie map.
pub struct LpmTrie {
    def: MapDef,
    host: Arc<dyn MapHost>,
    data_size: usize,
    max_prefixlen: u32,
    /// Offset of the value in a node's memory.
    value_off: usize,
    root: AtomicPtr<Node>,
    state: CpuLock<State>,
    /// Bytes held by the nodes in the trie.
    node_bytes: AtomicUsize,
}

/// `trie_alloc`'s checks: all `EINVAL`.
fn check(attr: &MapAttr) -> Result<()> {
    if attr.max_entries == 0
        || attr.map_flags & BPF_F_NO_PREALLOC == 0
        || attr.map_flags & !CREATE_FLAG_MASK != 0
        || attr.map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) == BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG
        || attr.key_size < PREFIXLEN_SIZE + DATA_SIZE_MIN
        || attr.key_size > PREFIXLEN_SIZE + DATA_SIZE_MAX
        || attr.value_size < 1
        || attr.value_size > VAL_SIZE_MAX
    {
        return err(Errno::EINVAL, "lpm trie: bad flags (BPF_F_NO_PREALLOC required), sizes or max_entries");
    }
    if attr.spin_lock_off.is_some() {
        // map_check_btf: bpf_spin_lock is only for hash, array and the storage maps.
        return err(Errno::ENOTSUPP, "lpm trie values cannot hold a bpf_spin_lock");
    }
    Ok(())
}

pub(crate) fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    check(attr)?;
    let data_size = (attr.key_size - PREFIXLEN_SIZE) as usize;
    Ok(Arc::new(LpmTrie {
        def: MapDef::from_attr(attr),
        host: host.clone(),
        data_size,
        max_prefixlen: (attr.key_size - PREFIXLEN_SIZE) * 8,
        value_off: round_up_8(data_size),
        root: AtomicPtr::new(ptr::null_mut()),
        state: CpuLock::new(State { n_entries: 0 }),
        node_bytes: AtomicUsize::new(0),
    }))
}

/// Bit `index` of `data`, counting from the most significant bit of `data[0]`.
fn extract_bit(data: &[u8], index: u32) -> usize {
    let byte = data.get((index / 8) as usize).copied().unwrap_or(0);
    usize::from((byte >> (7 - index % 8)) & 1)
}

/// Number of leading bits `a` and `b` share, at most `limit`.
fn longest_prefix_match(a: &[u8], b: &[u8], limit: u32) -> u32 {
    let mut bits = 0u32;
    for (x, y) in a.iter().zip(b) {
        if bits >= limit {
            break;
        }
        let diff = x ^ y;
        if diff != 0 {
            return (bits + diff.leading_zeros()).min(limit);
        }
        bits += 8;
    }
    bits.min(limit)
}

/// A heap value without aborting on allocation failure.
fn try_box<T>(value: T) -> Result<Box<T>> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(value));
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc(layout) }.cast::<T>();
    if p.is_null() {
        return err(Errno::ENOMEM, "lpm trie node");
    }
    // SAFETY: `p` is a fresh, suitably aligned allocation for one `T`; after the write the
    // box owns an initialised `T` allocated with the layout it frees with.
    unsafe {
        p.write(value);
        Ok(Box::from_raw(p))
    }
}

/// `words > 0` zeroed words, `ENOMEM` when the allocator refuses.
fn zeroed_words(words: usize) -> Result<Box<[UnsafeCell<u64>]>> {
    let layout = Layout::array::<UnsafeCell<u64>>(words).map_err(|_| Errno::ENOMEM)?;
    if layout.size() == 0 {
        return err(Errno::ENOMEM, "empty lpm node");
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) }.cast::<UnsafeCell<u64>>();
    if p.is_null() {
        return err(Errno::ENOMEM, "lpm trie node");
    }
    // SAFETY: a fresh zeroed allocation of `words` `UnsafeCell<u64>` (all-zero is valid)
    // with the layout the box frees with.
    Ok(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(p, words)) })
}

impl LpmTrie {
    /// Splits a key into `prefixlen` and data; a key that is not `key_size` bytes is `EINVAL`.
    fn parse<'k>(&self, key: &'k [u8]) -> Result<(u32, &'k [u8])> {
        if key.len() != self.def.key_size as usize {
            return err(Errno::EINVAL, "lpm trie: key is not key_size bytes");
        }
        let (len, data) = key.split_at(PREFIXLEN_SIZE as usize);
        let mut p = [0u8; 4];
        p.copy_from_slice(len);
        Ok((u32::from_ne_bytes(p), data))
    }

    /// `lpm_trie_node_alloc` plus initialisation: an unpublished node for `prefixlen`/`data`
    /// with `value` (`None`: an intermediate node).
    fn new_node(&self, prefixlen: u32, data: &[u8], value: Option<&[u8]>) -> Result<Box<Node>> {
        let value_bytes = value.map_or(0, |v| round_up_8(v.len()));
        let mem = zeroed_words((self.value_off + value_bytes) / 8)?;
        let flags = if value.is_some() { 0 } else { FLAG_IM };
        let node = try_box(Node {
            child: [AtomicPtr::new(ptr::null_mut()), AtomicPtr::new(ptr::null_mut())],
            prefixlen,
            flags: AtomicU32::new(flags),
            mem,
        })?;
        let len = data.len().min(self.data_size);
        // SAFETY: `mem` has room for `value_off >= data_size` key bytes followed by the
        // value; the node is not shared yet.
        unsafe {
            ptr::copy_nonoverlapping(data.as_ptr(), node.base(), len);
            if let Some(v) = value {
                ptr::copy_nonoverlapping(v.as_ptr(), node.base().add(self.value_off), v.len());
            }
        }
        Ok(node)
    }

    fn value_ptr(&self, node: &Node) -> NonNull<u8> {
        // SAFETY: value nodes have `value_off + value_size` bytes; the offset stays in the
        // allocation.
        let p = unsafe { node.base().add(self.value_off) };
        NonNull::new(p).unwrap_or(NonNull::dangling())
    }

    /// Publishes `node` (a fresh box) into `slot`.
    fn publish(&self, slot: &AtomicPtr<Node>, node: Box<Node>) {
        self.node_bytes.fetch_add(node.bytes(), Ordering::Relaxed);
        slot.store(Box::into_raw(node), Ordering::Release);
    }

    /// Hands an unlinked node to the reclaimer.
    ///
    /// # Safety
    /// `p` came from [`Self::publish`], was unlinked by the caller under the writer lock and
    /// is retired exactly once.
    unsafe fn retire(&self, p: *mut Node) {
        // SAFETY: per the function's contract the pointer owns a `Box<Node>` nobody else
        // frees; readers that may still hold it are covered by the grace period.
        let node = unsafe { Box::from_raw(p) };
        self.node_bytes.fetch_sub(node.bytes(), Ordering::Relaxed);
        reclaim::retire(node);
    }

    /// `trie_lookup_elem`: the node holding the longest prefix of the key, if any. Valid
    /// while `_guard` lives.
    fn find<'g>(&'g self, prefixlen: u32, data: &[u8], _guard: &'g Guard) -> Option<&'g Node> {
        if prefixlen > self.max_prefixlen {
            return None;
        }
        let mut found = None;
        // SAFETY: read under `_guard`.
        let mut node = unsafe { node_ref(self.root.load(Ordering::Acquire)) };
        while let Some(n) = node {
            let matchlen = longest_prefix_match(n.data(self.data_size), data, n.prefixlen.min(prefixlen));
            if matchlen == self.max_prefixlen {
                if !n.is_im() {
                    found = Some(n);
                }
                break;
            }
            if matchlen < n.prefixlen {
                break;
            }
            if !n.is_im() {
                found = Some(n);
            }
            // SAFETY: read under `_guard`.
            node = unsafe { node_ref(n.child(extract_bit(data, n.prefixlen))) };
        }
        found
    }

    /// `trie_update_elem`.
    fn do_update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        let (prefixlen, data) = self.parse(key)?;
        if flags > BPF_EXIST {
            return err(Errno::EINVAL, "lpm trie update: bad flags");
        }
        if prefixlen > self.max_prefixlen {
            return err(Errno::EINVAL, "lpm trie update: prefixlen larger than the key");
        }
        if value.len() != self.def.value_size as usize {
            return err(Errno::EINVAL, "lpm trie: value is not value_size bytes");
        }
        let mut state = self.state.lock(self.host.current_cpu())?;
        let new = self.new_node(prefixlen, data, Some(value))?;

        // Find the slot to attach the new node to: walk while the node's whole prefix
        // matches and it is shorter than the new one.
        let mut slot = &self.root;
        let mut matchlen = 0;
        let mut node;
        loop {
            // SAFETY: under the writer lock nothing reachable is freed.
            node = unsafe { node_ref(slot.load(Ordering::Acquire)) };
            let Some(n) = node else { break };
            matchlen = longest_prefix_match(n.data(self.data_size), data, n.prefixlen.min(prefixlen));
            if n.prefixlen != matchlen || n.prefixlen == prefixlen || n.prefixlen == self.max_prefixlen {
                break;
            }
            slot = &n.child[extract_bit(data, n.prefixlen)];
        }

        let add = |state: &mut State| -> Result<()> {
            if flags == BPF_EXIST {
                return err(Errno::ENOENT, "lpm trie update: BPF_EXIST on a missing prefix");
            }
            if state.n_entries == self.def.max_entries {
                return err(Errno::ENOSPC, "lpm trie is full");
            }
            state.n_entries += 1;
            Ok(())
        };

        let Some(n) = node else {
            // An empty slot: just attach.
            add(&mut state)?;
            self.publish(slot, new);
            return Ok(());
        };

        if n.prefixlen == matchlen {
            // Same prefix: the new node takes the old one's place (and children).
            if n.is_im() {
                add(&mut state)?;
            } else if flags == BPF_NOEXIST {
                return err(Errno::EEXIST, "lpm trie update: BPF_NOEXIST on an existing prefix");
            }
            new.child[0].store(n.child(0), Ordering::Relaxed);
            new.child[1].store(n.child(1), Ordering::Relaxed);
            let old = slot.load(Ordering::Relaxed);
            self.publish(slot, new);
            // SAFETY: `old` was just unlinked under the lock.
            unsafe { self.retire(old) };
            return Ok(());
        }

        add(&mut state)?;
        let old = slot.load(Ordering::Relaxed);
        if matchlen == prefixlen {
            // The new prefix covers the node: insert it as the node's parent.
            new.child[extract_bit(n.data(self.data_size), matchlen)].store(old, Ordering::Relaxed);
            self.publish(slot, new);
            return Ok(());
        }

        // The prefixes diverge at bit `matchlen`: an intermediate node splits them.
        let im = match self.new_node(matchlen, n.data(self.data_size), None) {
            Ok(im) => im,
            Err(e) => {
                state.n_entries -= 1;
                return Err(e);
            }
        };
        let new_bit = extract_bit(data, matchlen);
        let new_bytes = new.bytes();
        im.child[new_bit].store(Box::into_raw(new), Ordering::Relaxed);
        im.child[new_bit ^ 1].store(old, Ordering::Relaxed);
        self.node_bytes.fetch_add(new_bytes, Ordering::Relaxed);
        self.publish(slot, im);
        Ok(())
    }

    /// `trie_delete_elem`.
    fn do_delete(&self, key: &[u8]) -> Result<()> {
        let (prefixlen, data) = self.parse(key)?;
        if prefixlen > self.max_prefixlen {
            return err(Errno::EINVAL, "lpm trie delete: prefixlen larger than the key");
        }
        let mut state = self.state.lock(self.host.current_cpu())?;

        // Walk to the exact prefix, remembering the slot of the node (`trim`), its parent
        // and the parent's slot (`trim2`).
        let mut trim = &self.root;
        let mut trim2 = trim;
        let mut parent: Option<&Node> = None;
        let mut matchlen = 0;
        let mut node;
        loop {
            // SAFETY: under the writer lock nothing reachable is freed.
            node = unsafe { node_ref(trim.load(Ordering::Acquire)) };
            let Some(n) = node else { break };
            matchlen = longest_prefix_match(n.data(self.data_size), data, n.prefixlen.min(prefixlen));
            if n.prefixlen != matchlen || n.prefixlen == prefixlen {
                break;
            }
            parent = Some(n);
            trim2 = trim;
            trim = &n.child[extract_bit(data, n.prefixlen)];
        }
        let Some(n) = node else {
            return err(Errno::ENOENT, "lpm trie delete: no such prefix");
        };
        if n.prefixlen != prefixlen || n.prefixlen != matchlen || n.is_im() {
            return err(Errno::ENOENT, "lpm trie delete: no such prefix");
        }
        state.n_entries -= 1;
        let node_ptr = trim.load(Ordering::Relaxed);
        let (c0, c1) = (n.child(0), n.child(1));

        if !c0.is_null() && !c1.is_null() {
            // Two children: the node stays as an intermediate node.
            n.flags.fetch_or(FLAG_IM, Ordering::Release);
            return Ok(());
        }

        if let Some(p) = parent {
            if p.is_im() && c0.is_null() && c1.is_null() {
                // A leaf under an intermediate node: the sibling replaces the parent.
                let sibling = if p.child(0) == node_ptr { p.child(1) } else { p.child(0) };
                let parent_ptr = trim2.load(Ordering::Relaxed);
                trim2.store(sibling, Ordering::Release);
                // SAFETY: both were just unlinked under the lock.
                unsafe {
                    self.retire(parent_ptr);
                    self.retire(node_ptr);
                }
                return Ok(());
            }
        }

        // Zero or one child: the child (or nothing) takes the node's place.
        trim.store(if c0.is_null() { c1 } else { c0 }, Ordering::Release);
        // SAFETY: just unlinked under the lock.
        unsafe { self.retire(node_ptr) };
        Ok(())
    }

    /// Writes `node`'s key into `out` (`key_size` bytes).
    fn copy_key(&self, node: &Node, out: &mut [u8]) {
        let (len, data) = out.split_at_mut(PREFIXLEN_SIZE as usize);
        len.copy_from_slice(&node.prefixlen.to_ne_bytes());
        data.copy_from_slice(node.data(self.data_size));
    }

    /// The first non-intermediate node of `root`'s subtree in post order (its leftmost
    /// deepest value node).
    fn leftmost<'g>(&self, root: Option<&'g Node>, _guard: &'g Guard) -> Option<&'g Node> {
        let mut next = None;
        let mut node = root;
        while let Some(n) = node {
            if n.is_im() {
                // SAFETY: read under `_guard`.
                node = unsafe { node_ref(n.child(0)) };
            } else {
                next = Some(n);
                // SAFETY: read under `_guard`.
                node = unsafe { node_ref(n.child(0)).or_else(|| node_ref(n.child(1))) };
            }
        }
        next
    }

    /// [`Self::leftmost`] of a non-empty subtree; every subtree holds a value node (an
    /// intermediate node always has two children), so `ENOENT` is only defensive.
    fn leftmost_of<'g>(&self, root: &'g Node, guard: &'g Guard) -> Result<&'g Node> {
        match self.leftmost(Some(root), guard) {
            Some(n) => Ok(n),
            None => err(Errno::ENOENT, "lpm trie: no value node"),
        }
    }

    /// `trie_get_next_key`: post-order successor of `key`; `None`, a prefix length beyond
    /// the trie's or a key not in the trie give the first key.
    fn next_node<'g>(&'g self, key: Option<&[u8]>, guard: &'g Guard) -> Result<&'g Node> {
        // SAFETY: read under `guard`.
        let Some(root) = (unsafe { node_ref(self.root.load(Ordering::Acquire)) }) else {
            return err(Errno::ENOENT, "lpm trie is empty");
        };
        let (prefixlen, data) = match key {
            None => return self.leftmost_of(root, guard),
            Some(k) => self.parse(k)?,
        };
        if prefixlen > self.max_prefixlen {
            return self.leftmost_of(root, guard);
        }
        // The path to the exact key, root first.
        let mut stack: Vec<&Node> = Vec::new();
        stack.try_reserve_exact(self.max_prefixlen as usize + 1).map_err(|_| Errno::ENOMEM)?;
        let mut node = Some(root);
        let mut matchlen = 0;
        while let Some(n) = node {
            stack.push(n);
            matchlen = longest_prefix_match(n.data(self.data_size), data, n.prefixlen.min(prefixlen));
            if n.prefixlen != matchlen || n.prefixlen == prefixlen {
                break;
            }
            // SAFETY: read under `guard`.
            node = unsafe { node_ref(n.child(extract_bit(data, n.prefixlen))) };
        }
        let exact = node.is_some_and(|n| n.prefixlen == prefixlen && n.prefixlen == matchlen && !n.is_im());
        if !exact {
            return self.leftmost_of(root, guard);
        }
        // Climb: a right sibling subtree comes next, else the first non-intermediate parent.
        let mut node = stack.pop().ok_or(Errno::ENOENT)?;
        while let Some(parent) = stack.pop() {
            if ptr::eq(parent.child(0), node) {
                // SAFETY: read under `guard`.
                if let Some(right) = unsafe { node_ref(parent.child(1)) } {
                    return self.leftmost_of(right, guard);
                }
            }
            if !parent.is_im() {
                return Ok(parent);
            }
            node = parent;
        }
        err(Errno::ENOENT, "lpm trie: no key after this one")
    }

    /// Number of prefixes stored.
    pub fn len(&self) -> Result<u32> {
        Ok(self.state.lock(self.host.current_cpu())?.n_entries)
    }

    /// Whether the trie holds no prefix.
    pub fn is_empty(&self) -> bool {
        self.root.load(Ordering::Acquire).is_null()
    }
}

impl Drop for LpmTrie {
    /// Frees every node in O(n) without a stack: rotate left children up until the current
    /// node has none, then free it and continue with its right child.
    fn drop(&mut self) {
        let mut cur = *self.root.get_mut();
        while !cur.is_null() {
            // SAFETY: `&mut self`: no reader or writer remains; each node is owned by the
            // tree exactly once and visited until freed.
            let n = unsafe { &mut *cur };
            let left = *n.child[0].get_mut();
            if left.is_null() {
                let right = *n.child[1].get_mut();
                // SAFETY: as above; `cur` came from `Box::into_raw` in `publish` (or an
                // intermediate node's child, published the same way).
                drop(unsafe { Box::from_raw(cur) });
                cur = right;
            } else {
                // SAFETY: as above.
                let l = unsafe { &mut *left };
                *n.child[0].get_mut() = *l.child[1].get_mut();
                *l.child[1].get_mut() = cur;
                cur = left;
            }
        }
    }
}

impl BpfMap for LpmTrie {
    fn def(&self) -> &MapDef {
        &self.def
    }

    /// Longest-prefix-match lookup, value copied out. No flag is valid.
    fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        if flags != 0 {
            return err(Errno::EINVAL, "lpm trie lookup takes no flags");
        }
        let (prefixlen, data) = self.parse(key)?;
        if value.len() != self.def.value_size as usize {
            return err(Errno::EINVAL, "lpm trie: value buffer is not value_size bytes");
        }
        let guard = reclaim::read_lock();
        let Some(node) = self.find(prefixlen, data, &guard) else {
            return err(Errno::ENOENT, "no matching prefix");
        };
        // SAFETY: the node holds `value_size` value bytes and stays allocated while `guard`
        // lives; programs may write them concurrently, as in Linux.
        unsafe { ptr::copy_nonoverlapping(self.value_ptr(node).as_ptr(), value.as_mut_ptr(), value.len()) };
        Ok(())
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.do_update(key, value, flags)
    }

    fn delete(&self, key: &[u8]) -> Result<()> {
        self.do_delete(key)
    }

    fn get_next_key(&self, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<()> {
        if next_key.len() != self.def.key_size as usize {
            return err(Errno::EINVAL, "lpm trie: next_key is not key_size bytes");
        }
        let guard = reclaim::read_lock();
        let node = self.next_node(key, &guard)?;
        self.copy_key(node, next_key);
        Ok(())
    }

    /// Not supported for this type (Linux 6.1 `map_lookup_and_delete_elem`), after the
    /// generic `BPF_F_LOCK` check.
    fn lookup_and_delete(&self, _key: Option<&[u8]>, _value: &mut [u8], flags: u64) -> Result<()> {
        if flags & BPF_F_LOCK != 0 {
            return err(Errno::EINVAL, "BPF_F_LOCK without a bpf_spin_lock");
        }
        err(Errno::ENOTSUPP, "lpm trie has no lookup_and_delete")
    }

    /// The map plus every node (values, keys and intermediate nodes).
    fn memory_usage(&self) -> usize {
        core::mem::size_of::<Self>() + self.node_bytes.load(Ordering::Relaxed)
    }

    fn prog_lookup(&self, key: &[u8], guard: &Guard) -> Option<NonNull<u8>> {
        let (prefixlen, data) = self.parse(key).ok()?;
        self.find(prefixlen, data, guard).map(|n| self.value_ptr(n))
    }

    fn prog_update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.do_update(key, value, flags)
    }

    fn prog_delete(&self, key: &[u8]) -> Result<()> {
        self.do_delete(key)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests;
