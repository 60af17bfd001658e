//! The fd-holding arrays (Linux `kernel/bpf/arraymap.c`, `fd_array_map_*`):
//! `BPF_MAP_TYPE_PROG_ARRAY` (tail calls), `BPF_MAP_TYPE_PERF_EVENT_ARRAY`
//! (`bpf_perf_event_output`) and `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
//!
//! User space stores fds; the map resolves them through [`MapHost::resolve_fd`] and keeps
//! the objects as `Arc<dyn FdObject>`, never the fd. Each slot is an atomic pointer to a
//! boxed `Arc`, swapped like Linux's `xchg(array->ptrs + index, new)`: a program that loaded
//! a slot keeps a valid object for as long as its [`Guard`] lives, because replaced and
//! deleted entries go to [`reclaim::retire`] instead of being dropped at once.
//!
//! Syscall side, as Linux 6.1:
//! - update: flags other than `BPF_ANY` → `EINVAL` (even `BPF_EXIST`), index out of range →
//!   `E2BIG`, then the fd is resolved (`EBADF` / `EINVAL` from the host) and, for
//!   `array_of_maps`, checked against the inner-map template (`EINVAL`);
//! - delete: index out of range → `E2BIG`, empty slot → `ENOENT`;
//! - lookup: `prog_array` and `array_of_maps` return the object's id (`u32`),
//!   `perf_event_array` has no syscall lookup (`ENOTSUPP`); a missing entry is `ENOENT`;
//! - batches: `array_of_maps` has the generic lookup and update batches, the other two
//!   none (`ENOTSUPP`).
//!
//! `release_uref` (last user reference gone): `prog_array` empties itself (breaking
//! program ↔ prog_array reference cycles, as Linux's `prog_array_map_clear`);
//! `perf_event_array` empties itself unless it was created with `BPF_F_PRESERVE_ELEMS`.
//! Linux removes perf entries per map *file* on each close of a map fd
//! (`perf_event_fd_array_release`, only the entries inserted through that file); this crate
//! does not see map files, so it applies the rule when the last user reference goes.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use syscall_abi::bpf::{MapType, BPF_ANY, BPF_F_LOCK, BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};
use syscall_abi::{err, Errno, Result};

use crate::array::{check_attr, check_lookup_flags, index_of, next_index};
use crate::reclaim::{self, Guard};
use crate::{batch, map_in_map};
use crate::{BatchOutcome, BpfMap, FdKind, FdObject, LookupBatch, MapAttr, MapDef, MapHost};

#[cfg(test)]
mod tests;

/// What a slot points to when occupied.
type Entry = Arc<dyn FdObject>;

/// Linux `fd_array_map_alloc_check`: the value is a 4-byte fd, programs' read-only /
/// write-only flags are refused, then the array rules.
fn check_fd_attr(attr: &MapAttr) -> Result<()> {
    if attr.value_size != 4 {
        return err(Errno::EINVAL, "fd array value_size must be 4 (an fd)");
    }
    if attr.map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) != 0 {
        return err(Errno::EINVAL, "BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG not supported for fd arrays");
    }
    check_attr(attr)
}

/// Builds a prog_array, perf_event_array or array_of_maps (checks first, then allocation).
pub(crate) fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    check_fd_attr(attr)?;
    let kind = match attr.map_type {
        Some(MapType::ProgArray) => FdKind::Prog,
        Some(MapType::PerfEventArray) => FdKind::PerfEvent,
        Some(MapType::ArrayOfMaps) => FdKind::Map,
        _ => return err(Errno::EINVAL, "not an fd array type"),
    };
    let inner = if kind == FdKind::Map { Some(map_in_map::check_outer(attr)?) } else { None };
    if attr.spin_lock_off.is_some() {
        // map_check_btf: fd arrays cannot hold a bpf_spin_lock.
        return err(Errno::ENOTSUPP, "bpf_spin_lock is not supported in fd arrays");
    }
    let n = attr.max_entries as usize;
    let mut slots = Vec::new();
    if slots.try_reserve_exact(n).is_err() {
        return err(Errno::ENOMEM, "fd array too large");
    }
    slots.resize_with(n, || AtomicPtr::new(ptr::null_mut()));
    Ok(Arc::new(FdArray {
        def: MapDef::from_attr(attr),
        kind,
        inner,
        host: host.clone(),
        slots: slots.into_boxed_slice(),
        used: AtomicUsize::new(0),
    }))
}

/// A prog_array, perf_event_array or array_of_maps. Reach it with
/// `map.as_any().downcast_ref::<FdArray>()` for the program-side accessors
/// ([`FdArray::get`], [`FdArray::get_object`]).
pub struct FdArray {
    def: MapDef,
    kind: FdKind,
    /// `array_of_maps`: the template every inner map must match.
    inner: Option<MapDef>,
    host: Arc<dyn MapHost>,
    /// Null or `Box::into_raw(Box<Entry>)`.
    slots: Box<[AtomicPtr<Entry>]>,
    /// Occupied slots, for memory accounting.
    used: AtomicUsize,
}

impl FdArray {
    /// The kind of object this array holds.
    pub fn kind(&self) -> FdKind {
        self.kind
    }

    /// `array_of_maps`: the inner-map template (what the verifier assumes of every inner
    /// map); `None` for the other types.
    pub fn inner_map_def(&self) -> Option<&MapDef> {
        self.inner.as_ref()
    }

    /// The object at `index`, borrowed for as long as `guard` (and the map) lives: what a
    /// tail call or `bpf_perf_event_output` needs, with no reference count traffic. A
    /// concurrent update or delete does not invalidate it.
    pub fn get<'a>(&'a self, index: u32, guard: &'a Guard) -> Option<&'a Arc<dyn FdObject>> {
        let _ = guard;
        let slot = self.slots.get(index as usize)?;
        let p = slot.load(Ordering::Acquire);
        // SAFETY: a non-null slot pointer comes from `Box::into_raw` in `install`; the box is
        // only freed through `reclaim::retire` after being unlinked, which waits for every
        // reader that (like this one, holding `guard`) may have loaded it.
        unsafe { p.as_ref() }
    }

    /// The object at `index` with its own reference (for callers that keep it beyond a
    /// read-side section).
    pub fn get_object(&self, index: u32) -> Option<Arc<dyn FdObject>> {
        let guard = reclaim::read_lock();
        self.get(index, &guard).cloned()
    }

    /// Puts `obj` at `index` (already checked to be in range), retiring what was there.
    fn install(&self, index: usize, obj: Entry) {
        let new = Box::into_raw(Box::new(obj));
        let old = self.slots[index].swap(new, Ordering::AcqRel);
        if old.is_null() {
            self.used.fetch_add(1, Ordering::Relaxed);
        } else {
            retire(old);
        }
    }

    /// Empties `index` (in range); `false` if it was empty.
    fn clear(&self, index: usize) -> bool {
        let old = self.slots[index].swap(ptr::null_mut(), Ordering::AcqRel);
        if old.is_null() {
            return false;
        }
        self.used.fetch_sub(1, Ordering::Relaxed);
        retire(old);
        true
    }

    fn clear_all(&self) {
        for index in 0..self.slots.len() {
            self.clear(index);
        }
    }

    /// The object user space's `fd` names, of the kind this array holds and, for
    /// array_of_maps, compatible with the template (`map_fd_get_ptr`).
    fn resolve(&self, fd: u32) -> Result<Entry> {
        let obj = self.host.resolve_fd(self.kind, fd)?;
        if let Some(template) = &self.inner {
            let Some(map) = obj.as_map() else { return err(Errno::EINVAL, "fd is not a map") };
            map_in_map::check_inner(template, map)?;
        }
        Ok(obj)
    }
}

/// Hands an unlinked slot's box to the reclaimer.
fn retire(old: *mut Entry) {
    // SAFETY: `old` came from `Box::into_raw` in `install` and was just unlinked by a swap,
    // so this is its only owner.
    let entry = unsafe { Box::from_raw(old) };
    reclaim::retire(entry);
}

impl Drop for FdArray {
    fn drop(&mut self) {
        // Programs that loaded an entry may still be finishing: retire, don't drop.
        self.clear_all();
    }
}

impl BpfMap for FdArray {
    fn def(&self) -> &MapDef {
        &self.def
    }

    fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        check_lookup_flags(&self.def, flags)?;
        if self.kind == FdKind::PerfEvent {
            // No map_fd_sys_lookup_elem for perf_event_array.
            return err(Errno::ENOTSUPP, "perf_event_array has no syscall lookup");
        }
        let index = index_of(key)?;
        let Ok(out) = <&mut [u8; 4]>::try_from(value) else {
            return err(Errno::EINVAL, "fd array value must be 4 bytes");
        };
        let guard = reclaim::read_lock();
        match self.get(index, &guard) {
            Some(obj) => {
                *out = obj.id().to_ne_bytes();
                Ok(())
            }
            None => err(Errno::ENOENT, "no entry at this index"),
        }
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        if flags & BPF_F_LOCK != 0 && self.def.spin_lock_off.is_none() {
            return err(Errno::EINVAL, "BPF_F_LOCK on a value without bpf_spin_lock");
        }
        if flags != BPF_ANY {
            return err(Errno::EINVAL, "fd arrays only take BPF_ANY");
        }
        let index = index_of(key)?;
        if index >= self.def.max_entries {
            return err(Errno::E2BIG, "index out of range");
        }
        let Ok(fd) = <[u8; 4]>::try_from(value) else { return err(Errno::EINVAL, "fd array value must be 4 bytes") };
        let obj = self.resolve(u32::from_ne_bytes(fd))?;
        self.install(index as usize, obj);
        Ok(())
    }

    fn delete(&self, key: &[u8]) -> Result<()> {
        let index = index_of(key)?;
        if index >= self.def.max_entries {
            return err(Errno::E2BIG, "index out of range");
        }
        if self.clear(index as usize) {
            Ok(())
        } else {
            err(Errno::ENOENT, "no entry at this index")
        }
    }

    fn get_next_key(&self, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<()> {
        next_index(self.def.max_entries, key, next_key)
    }

    fn lookup_batch(&self, batch: LookupBatch<'_>, delete: bool) -> BatchOutcome {
        if self.kind != FdKind::Map || delete {
            return BatchOutcome { count: 0, result: err(Errno::ENOTSUPP, "map type has no such batch operation") };
        }
        batch::generic_lookup_batch(self, batch)
    }

    fn update_batch(&self, keys: &[u8], values: &[u8], count: u32, elem_flags: u64) -> BatchOutcome {
        if self.kind != FdKind::Map {
            return BatchOutcome { count: 0, result: err(Errno::ENOTSUPP, "map type has no batch update") };
        }
        batch::generic_update_batch(self, keys, values, count, elem_flags)
    }

    fn memory_usage(&self) -> usize {
        core::mem::size_of::<Self>()
            + self.slots.len() * core::mem::size_of::<AtomicPtr<Entry>>()
            + self.used.load(Ordering::Relaxed) * core::mem::size_of::<Entry>()
    }

    fn release_uref(&self) {
        match self.kind {
            FdKind::Prog => self.clear_all(),
            FdKind::PerfEvent if self.def.map_flags & BPF_F_PRESERVE_ELEMS == 0 => self.clear_all(),
            _ => {}
        }
    }

    /// `array_of_maps`: the inner map's object pointer (the data pointer of the stored
    /// `Arc<dyn FdObject>`), valid while `guard` lives. The other types have no program-side
    /// lookup (tail calls and perf output use [`FdArray::get`]).
    fn prog_lookup(&self, key: &[u8], guard: &Guard) -> Option<NonNull<u8>> {
        if self.kind != FdKind::Map {
            return None;
        }
        let obj = self.get(index_of(key).ok()?, guard)?;
        NonNull::new(Arc::as_ptr(obj).cast::<u8>().cast_mut())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
