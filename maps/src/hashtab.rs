//! `BPF_MAP_TYPE_HASH`, `PERCPU_HASH`, `LRU_HASH`, `LRU_PERCPU_HASH` and `HASH_OF_MAPS`
//! (Linux `kernel/bpf/hashtab.c`, `map_in_map.c`; LRU policy in [`crate::lru_list`]).
//!
//! The table is `roundup_pow_of_two(max_entries)` buckets. A bucket is an atomic pointer to
//! a chain of elements (newest first, like Linux's RCU hlist) and a [`CpuLock`] that
//! serialises its writers. As in Linux's default mode, the elements live in one preallocated
//! array with a free list ([`pool`]); `BPF_F_NO_PREALLOC` maps, and replacements while freed
//! slots still wait for their grace period, use individually allocated elements. Readers —
//! program lookups, syscall copies, iteration — walk chains without locks under a
//! [`crate::reclaim::Guard`]; an element never moves, and after it has been unlinked its slot
//! is reused (or its memory freed) only through [`crate::reclaim::retire`], so an address a
//! program got stays valid while its guard lives. Program lookups of 4, 8 and 16-byte keys
//! take a specialised path ([`HashMap::find_n`]).
//!
//! Updates follow Linux:
//! - `hash` / `hash_of_maps`: a new element replaces the old one (the old one is unlinked and
//!   retired), so a reader never sees a half-written value; `BPF_F_LOCK` updates an existing
//!   element in place under its `bpf_spin_lock`. A new key in a full map → `E2BIG`.
//! - per-CPU maps update in place (a syscall writes every CPU's copy, a program its own CPU's
//!   copy; a new element's other copies are zero).
//! - LRU maps never fail for fullness: inserting takes a slot from the LRU lists first,
//!   evicting the least recently used element if needed (`ENOMEM` only if nothing can be
//!   evicted). As in Linux, this happens before the key is looked up, so updating an existing
//!   key of a full LRU map also evicts one element.
//!
//! Lock order: LRU list lock → bucket lock, never the reverse. A bucket lock re-entered on
//! its own CPU (a program in a probe that interrupted an update) is `EBUSY`, as Linux's
//! `htab_lock_bucket`.
//!
//! Values are plain memory shared with programs: program stores and in-place updates
//! (per-CPU maps, `BPF_F_LOCK`) race with syscall copies exactly as in Linux; only
//! replacement is atomic for readers.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering::*};

use syscall_abi::bpf::{
    MapType, BPF_EXIST, BPF_F_LOCK, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_RDONLY,
    BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_F_ZERO_SEED, BPF_NOEXIST,
};
use syscall_abi::{err, Errno, Result};

use crate::lock::CpuLock;
use crate::lru_list::{Lru, LruNode, LruTable};
use crate::reclaim::Guard;
use crate::{map_in_map, BpfMap, MapAttr, MapDef, MapHost};

mod batch;
mod elem;
mod ops;
mod pool;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_concurrency;
#[cfg(test)]
mod tests_lru;

use elem::{ElemHead, Shape};
use pool::Pool;

/// `HTAB_CREATE_FLAG_MASK`.
const CREATE_FLAG_MASK: u32 = BPF_F_NO_PREALLOC
    | BPF_F_NO_COMMON_LRU
    | BPF_F_NUMA_NODE
    | BPF_F_RDONLY
    | BPF_F_WRONLY
    | BPF_F_RDONLY_PROG
    | BPF_F_WRONLY_PROG
    | BPF_F_ZERO_SEED;
/// `KMALLOC_MAX_SIZE` of x86_64 with SLUB (`1 << (MAX_ORDER + PAGE_SHIFT - 1)`, 4 MiB): bound
/// of `key_size + value_size`.
const KMALLOC_MAX_SIZE: u64 = 4 << 20;
/// `sizeof(struct htab_elem)` on 64-bit Linux 6.1.
const LINUX_HTAB_ELEM_SIZE: u64 = 48;
/// `PCPU_MIN_UNIT_SIZE`: bound of a per-CPU value.
const PCPU_MIN_UNIT_SIZE: u64 = 32 << 10;
/// `sizeof(struct bucket)` on Linux 6.1, for the bucket-count overflow check.
const LINUX_BUCKET_SIZE: u32 = 16;

/// Which of the five hash map types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hash,
    Percpu,
    Lru,
    LruPercpu,
    HashOfMaps,
}

impl Kind {
    fn is_percpu(self) -> bool {
        matches!(self, Kind::Percpu | Kind::LruPercpu)
    }
    fn is_lru(self) -> bool {
        matches!(self, Kind::Lru | Kind::LruPercpu)
    }
}

/// A hash map of any of the five hash types; see the module documentation.
pub struct HashMap {
    def: MapDef,
    kind: Kind,
    host: Arc<dyn MapHost>,
    seed: u64,
    mask: u32,
    heads: Box<[AtomicPtr<ElemHead>]>,
    locks: Box<[CpuLock<()>]>,
    /// Elements in the table.
    count: AtomicU32,
    shape: Shape,
    /// Element memory (preallocated unless `BPF_F_NO_PREALLOC`).
    pool: Arc<Pool>,
    /// Offset of the value's `bpf_spin_lock` (plain `hash` only).
    spin_lock: Option<usize>,
    lru: Option<Lru>,
    /// `hash_of_maps`: the template inner maps must match.
    inner: Option<MapDef>,
}

/// Linux 6.1 `htab_map_alloc_check` (and `fd_htab_map_alloc_check` for `hash_of_maps`).
/// Keys have no bound of their own since Linux 5.11 ("bpf: Lift hashtab key_size limit");
/// key plus value must stay below `KMALLOC_MAX_SIZE - sizeof(struct htab_elem)`. The
/// capability checks (LRU maps need `CAP_BPF`, `BPF_F_ZERO_SEED` needs `CAP_SYS_ADMIN`,
/// both `EPERM`) are the syscall layer's, which knows the caller.
fn check(attr: &MapAttr, kind: Kind) -> Result<()> {
    let flags = attr.map_flags;
    let percpu_lru = flags & BPF_F_NO_COMMON_LRU != 0;
    if kind == Kind::HashOfMaps && attr.value_size != 4 {
        return err(Errno::EINVAL, "hash_of_maps value_size must be 4");
    }
    let prog_access = BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;
    if flags & !CREATE_FLAG_MASK != 0 || flags & prog_access == prog_access {
        return err(Errno::EINVAL, "invalid hash map flags");
    }
    if !kind.is_lru() && percpu_lru {
        return err(Errno::EINVAL, "BPF_F_NO_COMMON_LRU is only for LRU maps");
    }
    if kind.is_lru() && flags & BPF_F_NO_PREALLOC != 0 {
        return err(Errno::ENOTSUPP, "LRU maps are always preallocated");
    }
    if flags & BPF_F_NUMA_NODE != 0 && (kind.is_percpu() || percpu_lru) {
        return err(Errno::EINVAL, "numa_node is not supported for per-CPU maps or lists");
    }
    if attr.max_entries == 0 || attr.key_size == 0 || attr.value_size == 0 {
        return err(Errno::EINVAL, "hash map needs max_entries, key_size and value_size");
    }
    if attr.key_size as u64 + attr.value_size as u64 >= KMALLOC_MAX_SIZE - LINUX_HTAB_ELEM_SIZE {
        return err(Errno::E2BIG, "hash map key + value too large");
    }
    if kind.is_percpu() && (attr.value_size as u64 + 7) & !7 > PCPU_MIN_UNIT_SIZE {
        return err(Errno::E2BIG, "per-CPU value larger than PCPU_MIN_UNIT_SIZE");
    }
    Ok(())
}

/// The `bpf_spin_lock` rules of `map_check_btf`: only plain hash maps may have one, and it
/// must lie inside the value.
fn check_spin_lock(attr: &MapAttr, kind: Kind) -> Result<Option<usize>> {
    let Some(off) = attr.spin_lock_off else { return Ok(None) };
    if kind != Kind::Hash {
        return err(Errno::ENOTSUPP, "bpf_spin_lock is only supported in plain hash maps");
    }
    if off % 4 != 0 {
        return err(Errno::EINVAL, "misaligned bpf_spin_lock");
    }
    if off as u64 + 4 > attr.value_size as u64 {
        return err(Errno::EFAULT, "bpf_spin_lock outside the value");
    }
    Ok(Some(off as usize))
}

/// Creates a hash map of `attr.map_type` (one of the five hash types).
pub(crate) fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    let kind = match attr.map_type {
        Some(MapType::Hash) => Kind::Hash,
        Some(MapType::PercpuHash) => Kind::Percpu,
        Some(MapType::LruHash) => Kind::Lru,
        Some(MapType::LruPercpuHash) => Kind::LruPercpu,
        Some(MapType::HashOfMaps) => Kind::HashOfMaps,
        _ => return err(Errno::EINVAL, "not a hash map type"),
    };
    check(attr, kind)?;
    let inner = if kind == Kind::HashOfMaps { Some(map_in_map::check_outer(attr)?) } else { None };

    // The checks of `htab_map_alloc`, still before any allocation.
    let cpus = host.possible_cpus().max(1);
    let percpu_lru = attr.map_flags & BPF_F_NO_COMMON_LRU != 0;
    let mut max_entries = attr.max_entries;
    if percpu_lru {
        // Every CPU's list gets the same number (>= 1) of elements.
        let up = (max_entries as u64).div_ceil(cpus as u64) * cpus as u64;
        max_entries = u32::try_from(up).unwrap_or(max_entries / cpus * cpus);
    }
    if max_entries > 1 << 31 {
        return err(Errno::E2BIG, "hash map max_entries too large");
    }
    let n_buckets = max_entries.next_power_of_two();
    if n_buckets > u32::MAX / LINUX_BUCKET_SIZE {
        return err(Errno::E2BIG, "hash map has too many buckets");
    }
    let spin_lock = check_spin_lock(attr, kind)?;
    let copies = if kind.is_percpu() { cpus as usize } else { 1 };
    let shape =
        Shape::new(attr.key_size as usize, attr.value_size as usize, copies, kind.is_lru(), kind == Kind::HashOfMaps)
            .ok_or(syscall_abi::Error::new(Errno::E2BIG, "hash element too large"))?;

    let n = n_buckets as usize;
    let mut heads = Vec::new();
    let mut locks = Vec::new();
    heads.try_reserve_exact(n).or(err(Errno::ENOMEM, "no memory for hash buckets"))?;
    locks.try_reserve_exact(n).or(err(Errno::ENOMEM, "no memory for hash buckets"))?;
    heads.resize_with(n, || AtomicPtr::new(ptr::null_mut()));
    locks.resize_with(n, || CpuLock::new(()));
    // Linux preallocates every element unless BPF_F_NO_PREALLOC (never for LRU maps).
    let prealloc = if attr.map_flags & BPF_F_NO_PREALLOC != 0 { 0 } else { max_entries };
    let pool = Arc::new(Pool::new(shape, prealloc)?);
    let lru = if kind.is_lru() { Some(Lru::new(max_entries, percpu_lru, cpus)?) } else { None };
    let seed = if attr.map_flags & BPF_F_ZERO_SEED != 0 { 0 } else { host.random_u32() };

    let mut def = MapDef::from_attr(attr);
    def.max_entries = max_entries;
    Ok(Arc::new(HashMap {
        def,
        kind,
        host: host.clone(),
        seed: elem::expand_seed(seed),
        mask: n_buckets - 1,
        heads: heads.into_boxed_slice(),
        locks: locks.into_boxed_slice(),
        count: AtomicU32::new(0),
        shape,
        pool,
        spin_lock,
        lru,
        inner,
    }))
}

/// Linux `check_flags`: `BPF_NOEXIST` on an existing key → `EEXIST`, `BPF_EXIST` on a
/// missing one → `ENOENT`.
fn check_exist(exists: bool, flags: u64) -> Result<()> {
    match flags & !BPF_F_LOCK {
        BPF_NOEXIST if exists => err(Errno::EEXIST, "key exists"),
        BPF_EXIST if !exists => err(Errno::ENOENT, "key does not exist"),
        _ => Ok(()),
    }
}

impl HashMap {
    /// `bpf_map_lookup_percpu_elem`: the address of `cpu`'s copy of the value of `key` in a
    /// per-CPU hash map (marking LRU elements referenced), valid while `guard` lives. `None`
    /// if the key is missing, `cpu` is not a possible CPU, or the map is not per-CPU.
    pub fn prog_lookup_percpu(&self, key: &[u8], cpu: u32, guard: &Guard) -> Option<NonNull<u8>> {
        let _ = guard;
        if !self.kind.is_percpu() || cpu as usize >= self.shape.copies {
            return None;
        }
        let e = self.find(self.hash(key), key)?;
        if self.kind.is_lru() {
            self.mark(e);
        }
        // SAFETY: `e` is live under the caller's guard and `cpu < copies`.
        Some(unsafe { self.shape.value(e, cpu as usize) })
    }

    #[inline(always)]
    fn hash(&self, key: &[u8]) -> u32 {
        elem::hash_key(key, self.seed)
    }

    #[inline(always)]
    fn bucket(&self, hash: u32) -> usize {
        (hash & self.mask) as usize
    }

    /// This CPU's index among the per-CPU copies (0 for a CPU the host should not report).
    #[inline]
    fn cpu_copy(&self, cpu: u32) -> usize {
        if (cpu as usize) < self.shape.copies {
            cpu as usize
        } else {
            0
        }
    }

    /// Finds `key` (with hash `hash`). The caller holds a guard or the bucket's lock, which
    /// keeps the returned element allocated.
    #[inline(always)]
    fn find(&self, hash: u32, key: &[u8]) -> Option<NonNull<ElemHead>> {
        // SAFETY: `bucket` masks with `n_buckets - 1`, and there are `n_buckets` heads.
        let mut p = unsafe { self.heads.get_unchecked(self.bucket(hash)) }.load(Acquire);
        while let Some(e) = NonNull::new(p) {
            // SAFETY: elements reachable from a bucket are live while the caller holds a
            // guard or the bucket lock (unlinked ones are only retired).
            let h = unsafe { e.as_ref() };
            // SAFETY: as above.
            if h.hash == hash && elem::key_eq(unsafe { self.shape.key(e) }, key) {
                return Some(e);
            }
            p = h.next.load(Acquire);
        }
        None
    }

    /// [`Self::find`] for `N`-byte keys (the program fast path): the hash and the key
    /// compare compile to a few instructions, and the chain walk compares keys directly.
    ///
    /// The walk looks at two elements per step and picks the candidate without a branch
    /// (the first if its key matches, else its successor, whose address is in the same
    /// cache line), then branches once on the candidate's key. With hits on the first two
    /// elements of a chain (nearly all hits at Linux's load factor) that branch is always
    /// taken, so the CPU never mispredicts on where in the chain the key sits.
    #[inline(always)]
    fn find_n<const N: usize>(&self, key: &[u8; N]) -> Option<NonNull<ElemHead>> {
        let hash = self.hash(key);
        // SAFETY: `bucket` masks with `n_buckets - 1`, and there are `n_buckets` heads.
        let mut e = NonNull::new(unsafe { self.heads.get_unchecked(self.bucket(hash)) }.load(Acquire))?;
        // SAFETY (all blocks): elements reachable from a bucket are live while the caller
        // holds a guard or the bucket lock; their key (`key_size == N` bytes, set before
        // publication) never changes.
        let key_of = |e: NonNull<ElemHead>| unsafe { ptr::read(self.shape.key(e).as_ptr().cast::<[u8; N]>()) };
        loop {
            let next = unsafe { e.as_ref() }.next.load(Acquire);
            // Keys longer than a word are told apart by the stored hash first (one compare).
            let first = if N > 8 { unsafe { e.as_ref() }.hash == hash } else { key_of(e) == *key };
            let cand = NonNull::new(if first { e.as_ptr() } else { next })?;
            if key_of(cand) == *key {
                return Some(cand);
            }
            e = NonNull::new(unsafe { cand.as_ref() }.next.load(Acquire))?;
        }
    }

    /// [`Self::find`] for the key sizes without a fast path, kept out of line.
    #[inline(never)]
    fn find_any(&self, key: &[u8]) -> Option<NonNull<ElemHead>> {
        self.find(self.hash(key), key)
    }

    /// Program lookup of a key of the map's key size.
    #[inline(always)]
    fn find_prog(&self, key: &[u8]) -> Option<NonNull<ElemHead>> {
        match key.len() {
            4 => self.find_n::<4>(key.first_chunk()?),
            8 => self.find_n::<8>(key.first_chunk()?),
            16 => self.find_n::<16>(key.first_chunk()?),
            _ => self.find_any(key),
        }
    }

    /// Publishes `e` at the head of bucket `b`. Caller holds the bucket lock.
    fn link_head(&self, b: usize, e: NonNull<ElemHead>) {
        let head = &self.heads[b];
        // SAFETY: `e` is a new element owned by the caller until this store publishes it.
        unsafe { e.as_ref() }.next.store(head.load(Relaxed), Relaxed);
        head.store(e.as_ptr(), Release);
    }

    /// Unlinks `e` from bucket `b`; false if it is not there. Caller holds the bucket lock.
    /// `e` keeps its `next` so readers standing on it continue down the chain.
    fn unlink_locked(&self, b: usize, e: NonNull<ElemHead>) -> bool {
        let mut link = &self.heads[b];
        loop {
            let p = link.load(Relaxed);
            let Some(cur) = NonNull::new(p) else { return false };
            // SAFETY: chain elements are live while the bucket lock is held.
            let h = unsafe { cur.as_ref() };
            if cur == e {
                link.store(h.next.load(Relaxed), Release);
                return true;
            }
            link = &h.next;
        }
    }

    /// Reserves room for one more element (`E2BIG` check without overshoot under races).
    fn reserve(&self) -> bool {
        let max = self.def.max_entries;
        self.count.fetch_update(Relaxed, Relaxed, |c| (c < max).then_some(c + 1)).is_ok()
    }

    /// LRU maps: marks `e` referenced.
    #[inline]
    fn mark(&self, e: NonNull<ElemHead>) {
        // SAFETY: LRU map elements carry a node; `e` is live (caller holds a guard or lock).
        unsafe { self.shape.node(e).as_ref() }.set_ref();
    }

    /// Frees the unlinked element `e` when no reader can hold it any more; LRU elements first
    /// leave their list (or are left to the list to release, see [`Lru::push_free`]).
    fn release(&self, cpu: u32, e: NonNull<ElemHead>) {
        if let Some(lru) = &self.lru {
            // SAFETY: `e` is an LRU element in a list, unreachable from the table.
            if !unsafe { lru.push_free(cpu, self.shape.node(e)) } {
                return;
            }
        }
        // SAFETY: `e` is unreachable from the table and from the LRU lists.
        unsafe { Pool::retire(&self.pool, e) };
    }

    /// Disposes of an element that was never published: out of its LRU list (if it got into
    /// one) and freed at once.
    fn discard(&self, cpu: u32, e: NonNull<ElemHead>, in_lru: bool) {
        if let (Some(lru), true) = (&self.lru, in_lru) {
            // SAFETY: `e` is an unpublished LRU element in a list.
            if !unsafe { lru.push_free(cpu, self.shape.node(e)) } {
                return;
            }
        }
        // SAFETY: `e` was never published and is in no list: nobody else can reach it.
        unsafe { self.pool.free(e) };
    }

    /// Takes an LRU slot for the new element `e`; on failure frees `e`.
    fn lru_take(&self, cpu: u32, e: NonNull<ElemHead>) -> Result<()> {
        let Some(lru) = &self.lru else { return Ok(()) };
        // SAFETY: `e` is a live, unpublished LRU element in no list; it stays allocated
        // until it leaves the lists.
        let r = unsafe { lru.pop_free(cpu, self.shape.node(e), self) };
        if r.is_err() {
            // SAFETY: `e` is in no list and unpublished.
            unsafe { self.pool.free(e) };
        }
        r
    }
}

impl LruTable for HashMap {
    fn unlink(&self, node: NonNull<LruNode>, cpu: u32) -> bool {
        // SAFETY: the lists only hold nodes of this map's elements, live under the list lock.
        let e = unsafe { self.shape.elem_of(node) };
        // SAFETY: as above.
        let b = self.bucket(unsafe { e.as_ref() }.hash);
        let Ok(_g) = self.locks[b].lock(cpu) else { return false };
        let found = self.unlink_locked(b, e);
        if found {
            self.count.fetch_sub(1, Relaxed);
        }
        found
    }

    fn release(&self, node: NonNull<LruNode>) {
        // SAFETY: the lists hand back nodes of this map's elements that left the table and
        // the lists.
        unsafe { Pool::retire(&self.pool, self.shape.elem_of(node)) };
    }
}

impl Drop for HashMap {
    fn drop(&mut self) {
        // No reader or writer is left. LRU elements are all in the lists (the table holds a
        // subset of them); other elements are all in the table.
        let (shape, pool) = (self.shape, &self.pool);
        if let Some(lru) = &mut self.lru {
            // SAFETY: every node in the lists belongs to an element of this map, now unused.
            lru.drain(|node| unsafe { pool.free(shape.elem_of(node)) });
            return;
        }
        for head in self.heads.iter() {
            let mut p = head.load(Relaxed);
            while let Some(e) = NonNull::new(p) {
                // SAFETY: chain elements are live; each is freed once, after reading `next`.
                p = unsafe { e.as_ref() }.next.load(Relaxed);
                // SAFETY: as above.
                unsafe { pool.free(e) };
            }
        }
    }
}
