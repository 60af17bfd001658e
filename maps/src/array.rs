//! `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_PERCPU_ARRAY` (Linux `kernel/bpf/arraymap.c`).
//!
//! All `max_entries` values are allocated, zeroed, at creation and never move: a program's
//! `bpf_map_lookup_elem` gets the value's address directly and may keep using it for as long
//! as it holds the map. Every value starts on an 8-byte boundary and takes
//! `round_up(value_size, 8)` bytes (Linux's `elem_size`).
//!
//! - Plain arrays keep one value per index. With `BPF_F_MMAPABLE` the values live in pages
//!   from [`MapHost::alloc_shared`], starting at the first byte of the first page, so user
//!   space's `mmap` at offset 0 sees value 0 (Linux's page-aligned `array->value`).
//! - Per-CPU arrays keep one value per index and possible CPU. CPU `c`'s values form one
//!   contiguous area, padded to a cache line so that CPUs do not share lines. The syscall
//!   side sees `round_up(value_size, 8) * possible_cpus` bytes per element, CPU 0 first;
//!   programs see the current CPU's copy.
//!
//! # Memory model
//! Programs read and write values through raw addresses at any time, and Linux's own array
//! update is a plain `memcpy` that can race with them (a reader may see a torn value). The
//! syscall-side copies here have the same semantics but no data race in Rust terms: value
//! memory is never turned into a Rust reference or slice, and every access from Rust is a
//! relaxed atomic load or store of a machine word (or a byte at unaligned edges). Relaxed
//! word copies compile to plain moves; ordering between copies, when needed, comes from the
//! value's `bpf_spin_lock` (`BPF_F_LOCK`).
//!
//! # `bpf_spin_lock`
//! When the value holds a `struct bpf_spin_lock` (`spin_lock_off`, from BTF), the 4-byte
//! lock word is never copied: syscall updates leave it alone and syscall lookups return it
//! zeroed, as Linux's `copy_map_value` / `check_and_init_map_value` do. With `BPF_F_LOCK` the
//! copy happens while holding the lock: the word is `0` when free and `1` while held; the
//! program-side `bpf_spin_lock` helper must use the same encoding. Linux takes the lock with
//! interrupts off, so a probe cannot fire on a CPU that holds it; a host whose probes can
//! interrupt a syscall-side `BPF_F_LOCK` copy must block them around the map syscalls, or a
//! program taking the same lock on that CPU spins forever.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;
use core::ops::ControlFlow;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};

use syscall_abi::bpf::{
    MapType, BPF_EXIST, BPF_F_INNER_MAP, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_NUMA_NODE, BPF_F_PRESERVE_ELEMS,
    BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_NOEXIST,
};
use syscall_abi::{err, Errno, Result};

use crate::batch;
use crate::host::SharedPages;
use crate::lock::BpfSpinLockGuard;
use crate::reclaim::Guard;
use crate::{round_up_8, BatchOutcome, BpfMap, ForEachFn, LookupBatch, MapAttr, MapDef, MapHost};

#[cfg(test)]
mod tests;

/// Largest per-CPU value Linux can allocate (`PCPU_MIN_UNIT_SIZE`, 32 KiB).
const PCPU_MIN_UNIT_SIZE: usize = 32 << 10;

/// `BPF_F_ACCESS_MASK`: the syscall- and program-side access flags.
const ACCESS_MASK: u32 = BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;

/// `ARRAY_CREATE_FLAG_MASK`: the flags the array family accepts at all; which of them a
/// given type accepts is narrowed down by [`check_attr`].
const ARRAY_CREATE_FLAG_MASK: u32 =
    BPF_F_NUMA_NODE | BPF_F_MMAPABLE | ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;

/// Per-CPU areas start on their own cache line.
const CACHE_LINE: usize = 64;

/// Size of `struct bpf_spin_lock`.
const SPIN_LOCK_SIZE: usize = 4;

/// Linux `array_map_alloc_check`, shared by the fd arrays: key is a 4-byte index, values
/// and capacity are non-zero, flags within the array mask and consistent, value size within
/// what Linux can allocate.
pub(crate) fn check_attr(attr: &MapAttr) -> Result<()> {
    let ty = attr.map_type.unwrap_or(MapType::Unspec);
    let percpu = ty == MapType::PercpuArray;
    let flags = attr.map_flags;
    // map_create's bpf_get_file_flag(), before any type's check.
    if flags & BPF_F_RDONLY != 0 && flags & BPF_F_WRONLY != 0 {
        return err(Errno::EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY are exclusive");
    }
    if attr.max_entries == 0 || attr.key_size != 4 || attr.value_size == 0 {
        return err(Errno::EINVAL, "array needs key_size 4, value_size > 0, max_entries > 0");
    }
    if flags & !ARRAY_CREATE_FLAG_MASK != 0 {
        return err(Errno::EINVAL, "unknown flag for an array map");
    }
    // bpf_map_flags_access_ok()
    if flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) == BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG {
        return err(Errno::EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are exclusive");
    }
    // MapAttr carries no numa_node: with BPF_F_NUMA_NODE a node was asked for, which Linux
    // refuses for per-CPU arrays.
    if percpu && flags & BPF_F_NUMA_NODE != 0 {
        return err(Errno::EINVAL, "per-CPU array cannot be bound to a NUMA node");
    }
    if ty != MapType::Array && flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP) != 0 {
        return err(Errno::EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for plain arrays only");
    }
    if ty != MapType::PerfEventArray && flags & BPF_F_PRESERVE_ELEMS != 0 {
        return err(Errno::EINVAL, "BPF_F_PRESERVE_ELEMS is for perf_event_array only");
    }
    if attr.value_size > i32::MAX as u32 {
        return err(Errno::E2BIG, "value_size too large");
    }
    if percpu && round_up_8(attr.value_size as usize) > PCPU_MIN_UNIT_SIZE {
        return err(Errno::E2BIG, "per-CPU value larger than PCPU_MIN_UNIT_SIZE");
    }
    Ok(())
}

/// The `bpf_spin_lock` rules of Linux `map_check_btf` that concern arrays: a lock is only
/// supported in plain arrays, not with `BPF_F_RDONLY_PROG`, and must lie inside the value
/// (4-byte aligned, which BTF guarantees in Linux; needed here for the atomic lock word).
fn check_spin_lock(attr: &MapAttr) -> Result<()> {
    let Some(off) = attr.spin_lock_off else { return Ok(()) };
    if attr.map_flags & BPF_F_RDONLY_PROG != 0 {
        return err(Errno::EACCES, "bpf_spin_lock in a map programs cannot write");
    }
    if attr.map_type != Some(MapType::Array) {
        return err(Errno::ENOTSUPP, "bpf_spin_lock is not supported in this map type");
    }
    if off % 4 != 0 || u64::from(off) + SPIN_LOCK_SIZE as u64 > u64::from(attr.value_size) {
        return err(Errno::EINVAL, "bpf_spin_lock outside the value or misaligned");
    }
    Ok(())
}

/// Builds an array or per-CPU array (checks first, then allocation).
pub(crate) fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    check_attr(attr)?;
    check_spin_lock(attr)?;
    Ok(Arc::new(ArrayMap::new(attr, host)?))
}

/// Where the values live.
enum Storage {
    /// Zeroed heap memory with this layout.
    Heap(Layout),
    /// Pages user space may mmap (`BPF_F_MMAPABLE`).
    Shared(Box<dyn SharedPages>),
}

/// An array or per-CPU array map. Reach it with `map.as_any().downcast_ref::<ArrayMap>()`
/// for [`ArrayMap::lookup_percpu`] and [`ArrayMap::direct_value_addr`].
pub struct ArrayMap {
    def: MapDef,
    host: Arc<dyn MapHost>,
    /// `round_up(value_size, 8)`.
    elem_size: usize,
    /// Number of copies of each value: `possible_cpus` for per-CPU arrays, else 1.
    cpus: usize,
    /// Distance between two CPUs' areas (per-CPU arrays).
    cpu_stride: usize,
    /// First byte of value 0 (of CPU 0).
    base: NonNull<u8>,
    storage: Storage,
}

// SAFETY: `base` points into memory owned by `storage` for the map's whole life; Rust code
// only accesses it with atomics (see the module docs), so sharing between threads is sound.
unsafe impl Send for ArrayMap {}
// SAFETY: as above.
unsafe impl Sync for ArrayMap {}

impl ArrayMap {
    fn new(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Self> {
        let def = MapDef::from_attr(attr);
        let percpu = def.map_type == MapType::PercpuArray;
        let elem_size = round_up_8(def.value_size as usize);
        let cpus = if percpu { host.possible_cpus() as usize } else { 1 };
        if cpus == 0 {
            return err(Errno::EINVAL, "host reports no possible CPU");
        }
        // One CPU's values; per-CPU areas are rounded to a cache line.
        let area = elem_size.checked_mul(def.max_entries as usize);
        let cpu_stride = if percpu { area.and_then(|a| a.checked_next_multiple_of(CACHE_LINE)) } else { area };
        let (Some(cpu_stride), Some(total)) = (cpu_stride, cpu_stride.and_then(|s| s.checked_mul(cpus))) else {
            return err(Errno::ENOMEM, "array too large");
        };
        let (base, storage) = if def.map_flags & BPF_F_MMAPABLE != 0 {
            alloc_mmapable(host.as_ref(), total)?
        } else {
            alloc_heap(total)?
        };
        Ok(ArrayMap { def, host: host.clone(), elem_size, cpus, cpu_stride, base, storage })
    }

    fn percpu(&self) -> bool {
        self.def.map_type == MapType::PercpuArray
    }

    /// The address of value `index` of `cpu` (copy 0 for plain arrays), if both are in range.
    fn elem(&self, index: u32, cpu: usize) -> Option<NonNull<u8>> {
        if index >= self.def.max_entries || cpu >= self.cpus {
            return None;
        }
        let off = cpu * self.cpu_stride + index as usize * self.elem_size;
        // SAFETY: index < max_entries and cpu < cpus, so `off + elem_size` is within the
        // `cpus * cpu_stride` bytes allocated at `base`.
        Some(unsafe { self.base.add(off) })
    }

    /// The current CPU's copy index (0 for plain arrays).
    fn this_cpu(&self) -> usize {
        if self.percpu() {
            self.host.current_cpu() as usize
        } else {
            0
        }
    }

    /// The value's `bpf_spin_lock` word, if it has one.
    fn lock_word(&self, elem: NonNull<u8>) -> Option<&AtomicU32> {
        let off = self.def.spin_lock_off? as usize;
        // SAFETY: `check_spin_lock` made `off` 4-aligned and `off + 4 <= value_size`; `elem`
        // is 8-aligned and the value stays allocated as long as `self`.
        Some(unsafe { AtomicU32::from_ptr(elem.as_ptr().add(off).cast::<u32>()) })
    }

    /// Copies `value` (`value_size` bytes) into the value at `elem`, skipping the spin lock
    /// word, holding the lock if `locked`.
    fn copy_in(&self, elem: NonNull<u8>, value: &[u8], locked: bool) {
        let _lock = if locked { self.lock_word(elem).map(BpfSpinLockGuard::acquire) } else { None };
        // SAFETY (all three copies): `elem` is an element address, `value` is value_size
        // bytes long and `off + 4 <= value_size`, so every range stays inside the element.
        match self.def.spin_lock_off {
            None => unsafe { store(elem, value) },
            Some(off) => unsafe {
                let (head, rest) = value.split_at(off as usize);
                store(elem, head);
                store(elem.add(off as usize + SPIN_LOCK_SIZE), &rest[SPIN_LOCK_SIZE..]);
            },
        }
    }

    /// Copies the value at `elem` into `out` (`value_size` bytes), the spin lock word
    /// zeroed, holding the lock if `locked`.
    fn copy_out(&self, elem: NonNull<u8>, out: &mut [u8], locked: bool) {
        let _lock = if locked { self.lock_word(elem).map(BpfSpinLockGuard::acquire) } else { None };
        // SAFETY (all three copies): `elem` is an element address, `out` is value_size
        // bytes long and `off + 4 <= value_size`, so every range stays inside the element.
        match self.def.spin_lock_off {
            None => unsafe { load(elem, out) },
            Some(off) => unsafe {
                let (head, rest) = out.split_at_mut(off as usize);
                load(elem, head);
                rest[..SPIN_LOCK_SIZE].fill(0);
                load(elem.add(off as usize + SPIN_LOCK_SIZE), &mut rest[SPIN_LOCK_SIZE..]);
            },
        }
    }

    /// `array_map_update_elem`: the update programs do, and the syscall update of plain
    /// arrays (after the syscall's own `BPF_F_LOCK` check).
    fn update_one(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        if flags & !BPF_F_LOCK > BPF_EXIST {
            return err(Errno::EINVAL, "unknown update flags");
        }
        let index = index_of(key)?;
        if index >= self.def.max_entries {
            return err(Errno::E2BIG, "index out of range");
        }
        if flags & BPF_NOEXIST != 0 {
            return err(Errno::EEXIST, "array elements always exist");
        }
        if flags & BPF_F_LOCK != 0 && self.def.spin_lock_off.is_none() {
            return err(Errno::EINVAL, "BPF_F_LOCK on a value without bpf_spin_lock");
        }
        if value.len() != self.def.value_size as usize {
            return err(Errno::EINVAL, "value of the wrong size");
        }
        let Some(elem) = self.elem(index, self.this_cpu()) else {
            return err(Errno::EINVAL, "current CPU out of range");
        };
        self.copy_in(elem, value, flags & BPF_F_LOCK != 0);
        Ok(())
    }

    /// `bpf_percpu_array_update`: the syscall update of a per-CPU array, every CPU's copy
    /// (`round_up(value_size, 8)` bytes each, padding included) from one buffer.
    fn percpu_update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        if flags > BPF_EXIST {
            return err(Errno::EINVAL, "unknown update flags");
        }
        let index = index_of(key)?;
        if index >= self.def.max_entries {
            return err(Errno::E2BIG, "index out of range");
        }
        if flags == BPF_NOEXIST {
            return err(Errno::EEXIST, "array elements always exist");
        }
        if value.len() != self.syscall_value_size() {
            return err(Errno::EINVAL, "value of the wrong size");
        }
        for (cpu, chunk) in value.chunks_exact(self.elem_size).enumerate() {
            if let Some(elem) = self.elem(index, cpu) {
                // SAFETY: `elem` is an element address and the chunk is elem_size long.
                unsafe { store(elem, chunk) };
            }
        }
        Ok(())
    }

    /// `bpf_map_lookup_percpu_elem`: CPU `cpu`'s copy of `key`'s value, valid while `guard`
    /// lives. `None` for plain arrays, an index out of range or a CPU that does not exist.
    pub fn lookup_percpu(&self, key: &[u8], cpu: u32, guard: &Guard) -> Option<NonNull<u8>> {
        let _ = guard;
        if !self.percpu() {
            return None;
        }
        self.elem(index_of(key).ok()?, cpu as usize)
    }

    /// `map_direct_value_addr`: the address of byte `off` of the single value of a
    /// one-element plain array, for `BPF_PSEUDO_MAP_VALUE` loads (global data). Like Linux:
    /// per-CPU arrays → `EINVAL`, more than one element → `ENOTSUPP`, `off` outside the
    /// value → `EINVAL`.
    pub fn direct_value_addr(&self, off: u32) -> Result<NonNull<u8>> {
        if self.percpu() {
            return err(Errno::EINVAL, "per-CPU array has no direct value address");
        }
        if self.def.max_entries != 1 {
            return err(Errno::ENOTSUPP, "direct value access needs max_entries == 1");
        }
        if off >= self.def.value_size {
            return err(Errno::EINVAL, "offset outside the value");
        }
        // SAFETY: off < value_size <= elem_size, inside the single element at `base`.
        Ok(unsafe { self.base.add(off as usize) })
    }
}

impl Drop for ArrayMap {
    fn drop(&mut self) {
        if let Storage::Heap(layout) = self.storage {
            // SAFETY: `base` came from `alloc_zeroed(layout)` and is freed once, here; no
            // program can hold the map any more.
            unsafe { dealloc(self.base.as_ptr(), layout) };
        }
    }
}

impl BpfMap for ArrayMap {
    fn def(&self) -> &MapDef {
        &self.def
    }

    fn syscall_value_size(&self) -> usize {
        if self.percpu() {
            self.elem_size * self.cpus
        } else {
            self.def.value_size as usize
        }
    }

    fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        check_lookup_flags(&self.def, flags)?;
        let index = index_of(key)?;
        if index >= self.def.max_entries {
            return err(Errno::ENOENT, "index out of range");
        }
        if value.len() != self.syscall_value_size() {
            return err(Errno::EINVAL, "value buffer of the wrong size");
        }
        if self.percpu() {
            for (cpu, chunk) in value.chunks_exact_mut(self.elem_size).enumerate() {
                if let Some(elem) = self.elem(index, cpu) {
                    // SAFETY: `elem` is an element address and the chunk is elem_size long.
                    unsafe { load(elem, chunk) };
                }
            }
            return Ok(());
        }
        let Some(elem) = self.elem(index, 0) else { return err(Errno::ENOENT, "index out of range") };
        self.copy_out(elem, value, flags & BPF_F_LOCK != 0);
        Ok(())
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        // map_update_elem() checks this before the type's update.
        if flags & BPF_F_LOCK != 0 && self.def.spin_lock_off.is_none() {
            return err(Errno::EINVAL, "BPF_F_LOCK on a value without bpf_spin_lock");
        }
        if self.percpu() {
            self.percpu_update(key, value, flags)
        } else {
            self.update_one(key, value, flags)
        }
    }

    fn delete(&self, key: &[u8]) -> Result<()> {
        let _ = key;
        err(Errno::EINVAL, "array elements cannot be deleted")
    }

    fn get_next_key(&self, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<()> {
        next_index(self.def.max_entries, key, next_key)
    }

    fn lookup_batch(&self, batch: LookupBatch<'_>, delete: bool) -> BatchOutcome {
        if delete {
            // Linux 6.1's array ops have no map_lookup_and_delete_batch.
            return BatchOutcome { count: 0, result: err(Errno::ENOTSUPP, "arrays have no lookup_and_delete batch") };
        }
        batch::generic_lookup_batch(self, batch)
    }

    fn update_batch(&self, keys: &[u8], values: &[u8], count: u32, elem_flags: u64) -> BatchOutcome {
        batch::generic_update_batch(self, keys, values, count, elem_flags)
    }

    fn memory_usage(&self) -> usize {
        let values = match &self.storage {
            Storage::Heap(layout) => layout.size(),
            Storage::Shared(pages) => pages.pages() * self.host.page_size(),
        };
        core::mem::size_of::<Self>() + values
    }

    fn shared_pages(&self) -> Option<&dyn SharedPages> {
        match &self.storage {
            Storage::Shared(pages) => Some(pages.as_ref()),
            Storage::Heap(_) => None,
        }
    }

    fn prog_lookup(&self, key: &[u8], guard: &Guard) -> Option<NonNull<u8>> {
        let _ = guard;
        self.elem(index_of(key).ok()?, self.this_cpu())
    }

    fn prog_update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.update_one(key, value, flags)
    }

    fn prog_delete(&self, key: &[u8]) -> Result<()> {
        self.delete(key)
    }

    fn for_each(&self, guard: &Guard, f: &mut ForEachFn<'_>) -> Result<u32> {
        let _ = guard;
        let cpu = self.this_cpu();
        let mut calls = 0;
        for index in 0..self.def.max_entries {
            let Some(elem) = self.elem(index, cpu) else { return err(Errno::EINVAL, "current CPU out of range") };
            calls += 1;
            if let ControlFlow::Break(()) = f(&index.to_ne_bytes(), elem) {
                break;
            }
        }
        Ok(calls)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The syscall lookup's flag checks (`map_lookup_elem`): only `BPF_F_LOCK`, and only for a
/// value with a `bpf_spin_lock`.
pub(crate) fn check_lookup_flags(def: &MapDef, flags: u64) -> Result<()> {
    if flags & !BPF_F_LOCK != 0 {
        return err(Errno::EINVAL, "unknown lookup flags");
    }
    if flags & BPF_F_LOCK != 0 && def.spin_lock_off.is_none() {
        return err(Errno::EINVAL, "BPF_F_LOCK on a value without bpf_spin_lock");
    }
    Ok(())
}

/// The array index a 4-byte key holds.
pub(crate) fn index_of(key: &[u8]) -> Result<u32> {
    match <[u8; 4]>::try_from(key) {
        Ok(bytes) => Ok(u32::from_ne_bytes(bytes)),
        Err(_) => err(Errno::EINVAL, "array key must be 4 bytes"),
    }
}

/// `array_map_get_next_key`: no key or one out of range → 0, the last index → `ENOENT`,
/// else the next index.
pub(crate) fn next_index(max_entries: u32, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<()> {
    let index = match key {
        Some(k) => index_of(k)?,
        None => u32::MAX,
    };
    let Ok(next) = <&mut [u8; 4]>::try_from(next_key) else {
        return err(Errno::EINVAL, "array key must be 4 bytes");
    };
    let n = if index >= max_entries {
        0
    } else if index == max_entries - 1 {
        return err(Errno::ENOENT, "last index");
    } else {
        index + 1
    };
    *next = n.to_ne_bytes();
    Ok(())
}

fn alloc_heap(size: usize) -> Result<(NonNull<u8>, Storage)> {
    let Ok(layout) = Layout::from_size_align(size, CACHE_LINE) else {
        return err(Errno::ENOMEM, "array too large");
    };
    // SAFETY: `size` is non-zero (value_size > 0 and max_entries > 0 were checked).
    let ptr = unsafe { alloc_zeroed(layout) };
    match NonNull::new(ptr) {
        Some(base) => Ok((base, Storage::Heap(layout))),
        None => err(Errno::ENOMEM, "out of memory for array values"),
    }
}

fn alloc_mmapable(host: &dyn MapHost, size: usize) -> Result<(NonNull<u8>, Storage)> {
    let page = host.page_size();
    if page == 0 || !page.is_power_of_two() {
        return err(Errno::EINVAL, "host page size is not a power of two");
    }
    let pages = size.div_ceil(page);
    let shared = host.alloc_shared(pages, 0)?;
    let base = shared.as_ptr();
    // The host promises page-aligned, zeroed pages; check what soundness depends on.
    if shared.pages() < pages || base.as_ptr().addr() % CACHE_LINE != 0 {
        return err(Errno::ENOMEM, "host returned unusable shared pages");
    }
    Ok((base, Storage::Shared(shared)))
}

const WORD: usize = core::mem::size_of::<usize>();

/// Stores `src` at `dst` with relaxed atomic word (and edge byte) stores.
///
/// # Safety
/// `dst..dst + src.len()` must lie inside one element of a live map, memory that Rust code
/// only ever accesses atomically.
unsafe fn store(dst: NonNull<u8>, src: &[u8]) {
    let dst = dst.as_ptr();
    let mut i = 0;
    while i < src.len() && (dst.addr() + i) % WORD != 0 {
        // SAFETY: i < len, inside the element; AtomicU8 has no alignment requirement.
        unsafe { AtomicU8::from_ptr(dst.add(i)) }.store(src[i], Ordering::Relaxed);
        i += 1;
    }
    while i + WORD <= src.len() {
        let mut w = [0u8; WORD];
        w.copy_from_slice(&src[i..i + WORD]);
        // SAFETY: dst + i is word-aligned (loop above) and the word lies inside the element.
        unsafe { AtomicUsize::from_ptr(dst.add(i).cast::<usize>()) }.store(usize::from_ne_bytes(w), Ordering::Relaxed);
        i += WORD;
    }
    while i < src.len() {
        // SAFETY: as in the first loop.
        unsafe { AtomicU8::from_ptr(dst.add(i)) }.store(src[i], Ordering::Relaxed);
        i += 1;
    }
}

/// Loads `dst.len()` bytes from `src` with relaxed atomic word (and edge byte) loads.
///
/// # Safety
/// The same contract as [`store`], for `src..src + dst.len()`.
unsafe fn load(src: NonNull<u8>, dst: &mut [u8]) {
    let src = src.as_ptr();
    let mut i = 0;
    while i < dst.len() && (src.addr() + i) % WORD != 0 {
        // SAFETY: i < len, inside the element; AtomicU8 has no alignment requirement.
        dst[i] = unsafe { AtomicU8::from_ptr(src.add(i)) }.load(Ordering::Relaxed);
        i += 1;
    }
    while i + WORD <= dst.len() {
        // SAFETY: src + i is word-aligned (loop above) and the word lies inside the element.
        let w = unsafe { AtomicUsize::from_ptr(src.add(i).cast::<usize>()) }.load(Ordering::Relaxed);
        dst[i..i + WORD].copy_from_slice(&w.to_ne_bytes());
        i += WORD;
    }
    while i < dst.len() {
        // SAFETY: as in the first loop.
        dst[i] = unsafe { AtomicU8::from_ptr(src.add(i)) }.load(Ordering::Relaxed);
        i += 1;
    }
}
