//! The [`BpfMap`] operations of [`HashMap`]: the syscall side (Linux `htab_map_*`,
//! `bpf_percpu_hash_copy/update`, `bpf_fd_htab_map_*`) and the program side.

use alloc::sync::Arc;
use core::any::Any;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, Ordering::*};

use syscall_abi::bpf::{BPF_EXIST, BPF_F_LOCK};
use syscall_abi::{err, Errno, Result};

use super::elem::{self, ElemHead};
use super::{batch, check_exist, HashMap, Kind};
use crate::lock::CpuLock;
use crate::reclaim::{self, Guard};
use crate::{map_in_map, BatchOutcome, BpfMap, FdKind, FdObject, ForEachFn, LookupBatch, MapDef};

/// Where the bytes of an update come from.
#[derive(Clone, Copy)]
pub(super) enum Src<'a> {
    /// The syscall: every CPU's copy (`round_up(value_size, 8)` each) for per-CPU maps,
    /// else the value.
    Sys(&'a [u8]),
    /// A program: `value_size` bytes, for this CPU's copy of a per-CPU map.
    Prog(&'a [u8]),
}

impl HashMap {
    fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() == self.shape.key_size {
            Ok(())
        } else {
            err(Errno::EINVAL, "wrong key size")
        }
    }

    /// `BPF_F_LOCK` needs a `bpf_spin_lock` in the value.
    pub(super) fn check_lock_flag(&self, flags: u64) -> Result<()> {
        if flags & BPF_F_LOCK != 0 && self.spin_lock.is_none() {
            return err(Errno::EINVAL, "BPF_F_LOCK without a bpf_spin_lock in the value");
        }
        Ok(())
    }

    /// Copies the value of `e` out as the syscall sees it. `locked`: under the value's
    /// `bpf_spin_lock` (`BPF_F_LOCK`).
    pub(super) fn copy_value_out(&self, e: NonNull<ElemHead>, out: &mut [u8], locked: bool) {
        let s = &self.shape;
        match self.kind {
            Kind::HashOfMaps => {
                // SAFETY: `e` is a live fd element (caller holds a guard or the bucket lock).
                let id = unsafe { s.fd_obj(e) }.id();
                out[..4].copy_from_slice(&id.to_ne_bytes());
            }
            Kind::Percpu | Kind::LruPercpu => {
                for (cpu, chunk) in out.chunks_exact_mut(s.stride).enumerate().take(s.copies) {
                    // SAFETY: `cpu < copies`; each copy is `stride` bytes of a live element.
                    unsafe { elem::copy_out(chunk, s.value(e, cpu), None) };
                }
            }
            Kind::Hash | Kind::Lru => {
                // SAFETY: `e` is live; its value is `value_size` bytes (= `out.len()`).
                let v = unsafe { s.value(e, 0) };
                let out = &mut out[..s.value_size];
                match (locked, self.spin_lock) {
                    // SAFETY: the lock word lies inside the live value (checked at creation).
                    (true, Some(off)) => unsafe { elem::with_spin_lock(v, off, || elem::copy_out(out, v, Some(off))) },
                    // SAFETY: as above.
                    _ => unsafe { elem::copy_out(out, v, self.spin_lock) },
                }
            }
        }
    }

    /// Writes `src` into the existing element `e` in place (per-CPU maps, `BPF_F_LOCK`).
    fn write_in_place(&self, e: NonNull<ElemHead>, src: Src<'_>, cpu: u32, locked: bool) {
        let s = &self.shape;
        match (src, self.kind.is_percpu()) {
            (Src::Sys(v), true) => {
                for (c, chunk) in v.chunks_exact(s.stride).enumerate().take(s.copies) {
                    // SAFETY: `c < copies`; `stride` bytes per copy of a live element.
                    unsafe { elem::copy_in(s.value(e, c), chunk, None) };
                }
            }
            // SAFETY: `cpu_copy < copies`; `value_size` bytes of a live element.
            (Src::Prog(v), true) => unsafe { elem::copy_in(s.value(e, self.cpu_copy(cpu)), v, None) },
            (Src::Sys(v) | Src::Prog(v), false) => {
                // SAFETY: `e` is live; `v` is `value_size` bytes.
                let dst = unsafe { s.value(e, 0) };
                match (locked, self.spin_lock) {
                    // SAFETY: the lock word lies inside the live value.
                    (true, Some(off)) => unsafe { elem::with_spin_lock(dst, off, || elem::copy_in(dst, v, Some(off))) },
                    // SAFETY: as above.
                    _ => unsafe { elem::copy_in(dst, v, self.spin_lock) },
                }
            }
        }
    }

    /// Allocates an element for `key` holding `src` (or `obj` for `hash_of_maps`).
    fn new_elem(
        &self,
        hash: u32,
        key: &[u8],
        src: Src<'_>,
        cpu: u32,
        obj: Option<Arc<dyn FdObject>>,
    ) -> Result<NonNull<ElemHead>> {
        let e = self.pool.alloc(hash, key, obj)?;
        if self.kind != Kind::HashOfMaps {
            // A fresh element: per-CPU copies other than the written ones stay zero.
            self.write_in_place(e, src, cpu, false);
        }
        Ok(e)
    }

    /// `hash` and `hash_of_maps` (Linux `htab_map_update_elem`): replace, or update in place
    /// under `BPF_F_LOCK`.
    fn update_replace(&self, key: &[u8], src: Src<'_>, obj: Option<Arc<dyn FdObject>>, flags: u64) -> Result<()> {
        let hash = self.hash(key);
        let cpu = self.host.current_cpu();
        if flags & BPF_F_LOCK != 0 {
            // Find the element without the bucket lock; update it in place if it exists.
            let _g = reclaim::read_lock();
            if let Some(old) = self.find(hash, key) {
                check_exist(true, flags)?;
                self.write_in_place(old, src, cpu, true);
                return Ok(());
            }
        }
        let new = self.new_elem(hash, key, src, cpu, obj)?;
        let b = self.bucket(hash);
        let guard = match self.locks[b].lock(cpu) {
            Ok(g) => g,
            Err(e) => {
                self.discard(cpu, new, false);
                return Err(e);
            }
        };
        let old = self.find(hash, key);
        let verdict = check_exist(old.is_some(), flags).and_then(|()| match old {
            Some(old) if flags & BPF_F_LOCK != 0 => {
                // Appeared since the lock-free lookup: update in place after all.
                self.write_in_place(old, src, cpu, true);
                Ok(false)
            }
            Some(_) => Ok(true),
            None if self.reserve() => Ok(true),
            None => err(Errno::E2BIG, "hash map is full"),
        });
        match verdict {
            Ok(true) => {
                // New element first, so concurrent readers find one of the two.
                self.link_head(b, new);
                if let Some(old) = old {
                    self.unlink_locked(b, old);
                }
                drop(guard);
                if let Some(old) = old {
                    self.release(cpu, old);
                }
                Ok(())
            }
            other => {
                drop(guard);
                self.discard(cpu, new, false);
                other.map(|_| ())
            }
        }
    }

    /// `percpu_hash` (Linux `__htab_percpu_map_update_elem`): in place, or a new element.
    fn update_percpu(&self, key: &[u8], src: Src<'_>, flags: u64) -> Result<()> {
        let hash = self.hash(key);
        let cpu = self.host.current_cpu();
        let b = self.bucket(hash);
        let _guard = self.locks[b].lock(cpu)?;
        let old = self.find(hash, key);
        check_exist(old.is_some(), flags)?;
        if let Some(old) = old {
            self.write_in_place(old, src, cpu, false);
            return Ok(());
        }
        if !self.reserve() {
            return err(Errno::E2BIG, "hash map is full");
        }
        match self.new_elem(hash, key, src, cpu, None) {
            Ok(new) => {
                self.link_head(b, new);
                Ok(())
            }
            Err(e) => {
                self.count.fetch_sub(1, Relaxed);
                Err(e)
            }
        }
    }

    /// `lru_hash` (Linux `htab_lru_map_update_elem`) and `lru_percpu_hash`
    /// (`__htab_lru_percpu_map_update_elem`).
    fn update_lru(&self, key: &[u8], src: Src<'_>, flags: u64) -> Result<()> {
        let hash = self.hash(key);
        let cpu = self.host.current_cpu();
        let percpu = self.kind.is_percpu();
        // The slot is taken before the bucket lock: eviction needs bucket locks.
        let new = if percpu && flags == BPF_EXIST {
            None
        } else {
            let e = self.new_elem(hash, key, src, cpu, None)?;
            self.lru_take(cpu, e)?;
            Some(e)
        };
        let b = self.bucket(hash);
        let guard = match self.locks[b].lock(cpu) {
            Ok(g) => g,
            Err(e) => {
                if let Some(new) = new {
                    self.discard(cpu, new, true);
                }
                return Err(e);
            }
        };
        let old = self.find(hash, key);
        if let Err(e) = check_exist(old.is_some(), flags) {
            drop(guard);
            if let Some(new) = new {
                self.discard(cpu, new, true);
            }
            return Err(e);
        }
        match (old, new) {
            (Some(old), new) if percpu => {
                self.mark(old);
                self.write_in_place(old, src, cpu, false);
                drop(guard);
                if let Some(new) = new {
                    self.discard(cpu, new, true);
                }
            }
            (old, Some(new)) => {
                self.link_head(b, new);
                match old {
                    Some(old) => {
                        self.mark(new);
                        self.unlink_locked(b, old);
                    }
                    None => {
                        self.count.fetch_add(1, Relaxed);
                    }
                }
                drop(guard);
                if let Some(old) = old {
                    self.release(cpu, old);
                }
            }
            // `new` is only absent for BPF_EXIST, where a missing key failed above.
            (_, None) => return err(Errno::ENOENT, "key does not exist"),
        }
        Ok(())
    }

    /// Every update: flags, then the type's algorithm.
    fn update_from(&self, key: &[u8], src: Src<'_>, flags: u64) -> Result<()> {
        self.check_key(key)?;
        self.check_lock_flag(flags)?;
        let rest = if self.kind == Kind::Hash { flags & !BPF_F_LOCK } else { flags };
        if rest > BPF_EXIST {
            return err(Errno::EINVAL, "invalid update flags");
        }
        match self.kind {
            Kind::Hash => self.update_replace(key, src, None, flags),
            Kind::Percpu => self.update_percpu(key, src, flags),
            Kind::Lru | Kind::LruPercpu => self.update_lru(key, src, flags),
            Kind::HashOfMaps => err(Errno::EINVAL, "hash_of_maps is updated with map fds"),
        }
    }

    /// `hash_of_maps` syscall update (Linux `bpf_fd_htab_map_update_elem`): the fd is
    /// resolved and checked against the template before the flags.
    fn update_fd(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.check_key(key)?;
        self.check_lock_flag(flags)?;
        let Ok(fd) = <[u8; 4]>::try_from(value) else { return err(Errno::EINVAL, "hash_of_maps value is a u32 fd") };
        let obj = self.host.resolve_fd(FdKind::Map, u32::from_ne_bytes(fd))?;
        let Some(map) = obj.as_map() else { return err(Errno::EINVAL, "fd is not a map") };
        if let Some(template) = &self.inner {
            map_in_map::check_inner(template, map)?;
        }
        if flags > BPF_EXIST {
            return err(Errno::EINVAL, "invalid update flags");
        }
        self.update_replace(key, Src::Sys(value), Some(obj), flags)
    }

    /// Deletes `key` (Linux `htab_map_delete_elem` / `htab_lru_map_delete_elem`).
    fn delete_key(&self, key: &[u8]) -> Result<()> {
        self.check_key(key)?;
        let hash = self.hash(key);
        let cpu = self.host.current_cpu();
        let b = self.bucket(hash);
        let guard = self.locks[b].lock(cpu)?;
        let Some(e) = self.find(hash, key) else { return err(Errno::ENOENT, "key does not exist") };
        self.unlink_locked(b, e);
        self.count.fetch_sub(1, Relaxed);
        drop(guard);
        self.release(cpu, e);
        Ok(())
    }

    /// What a program lookup that found `e` returns, for the types other than `hash`.
    #[inline(never)]
    fn prog_value(&self, e: NonNull<ElemHead>) -> Option<NonNull<u8>> {
        // SAFETY (all arms): `e` is live while the caller's guard lives.
        match self.kind {
            Kind::Hash => Some(unsafe { self.shape.value(e, 0) }),
            Kind::Lru => {
                self.mark(e);
                Some(unsafe { self.shape.value(e, 0) })
            }
            Kind::Percpu => Some(unsafe { self.shape.value(e, self.cpu_copy(self.host.current_cpu())) }),
            Kind::LruPercpu => {
                self.mark(e);
                Some(unsafe { self.shape.value(e, self.cpu_copy(self.host.current_cpu())) })
            }
            Kind::HashOfMaps => {
                let obj = unsafe { self.shape.fd_obj(e) };
                NonNull::new(Arc::as_ptr(obj) as *const () as *mut u8)
            }
        }
    }

    /// Checks the size of a syscall value buffer.
    pub(super) fn check_sys_value(&self, len: usize) -> Result<()> {
        if len == self.syscall_value_size() {
            Ok(())
        } else {
            err(Errno::EINVAL, "wrong value size")
        }
    }
}

impl BpfMap for HashMap {
    fn def(&self) -> &MapDef {
        &self.def
    }

    fn syscall_value_size(&self) -> usize {
        if self.kind.is_percpu() {
            self.shape.stride * self.shape.copies
        } else {
            self.shape.value_size
        }
    }

    fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        if flags & !BPF_F_LOCK != 0 {
            return err(Errno::EINVAL, "invalid lookup flags");
        }
        self.check_lock_flag(flags)?;
        self.check_key(key)?;
        self.check_sys_value(value.len())?;
        let _g = reclaim::read_lock();
        // Syscall lookups do not mark LRU elements (Linux `map_lookup_elem_sys_only`).
        let Some(e) = self.find(self.hash(key), key) else { return err(Errno::ENOENT, "key does not exist") };
        self.copy_value_out(e, value, flags & BPF_F_LOCK != 0);
        Ok(())
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        if self.kind == Kind::HashOfMaps {
            return self.update_fd(key, value, flags);
        }
        self.check_sys_value(value.len())?;
        self.update_from(key, Src::Sys(value), flags)
    }

    fn delete(&self, key: &[u8]) -> Result<()> {
        self.delete_key(key)
    }

    fn get_next_key(&self, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<()> {
        if next_key.len() != self.shape.key_size {
            return err(Errno::EINVAL, "wrong key size");
        }
        let _g = reclaim::read_lock();
        let mut start = 0;
        if let Some(key) = key {
            self.check_key(key)?;
            let hash = self.hash(key);
            if let Some(e) = self.find(hash, key) {
                // SAFETY: `e` is live under the guard.
                if let Some(next) = NonNull::new(unsafe { e.as_ref() }.next.load(Acquire)) {
                    // SAFETY: chain elements are live under the guard.
                    next_key.copy_from_slice(unsafe { self.shape.key(next) });
                    return Ok(());
                }
                start = self.bucket(hash) + 1;
            }
        }
        for head in self.heads.iter().skip(start) {
            if let Some(e) = NonNull::new(head.load(Acquire)) {
                // SAFETY: chain elements are live under the guard.
                next_key.copy_from_slice(unsafe { self.shape.key(e) });
                return Ok(());
            }
        }
        err(Errno::ENOENT, "no more keys")
    }

    fn lookup_and_delete(&self, key: Option<&[u8]>, value: &mut [u8], flags: u64) -> Result<()> {
        if self.kind == Kind::HashOfMaps {
            return err(Errno::ENOTSUPP, "hash_of_maps has no lookup_and_delete");
        }
        if flags & !BPF_F_LOCK != 0 {
            return err(Errno::EINVAL, "invalid lookup_and_delete flags");
        }
        self.check_lock_flag(flags)?;
        let Some(key) = key else { return err(Errno::EINVAL, "hash maps need a key") };
        self.check_key(key)?;
        self.check_sys_value(value.len())?;
        let hash = self.hash(key);
        let cpu = self.host.current_cpu();
        let b = self.bucket(hash);
        let guard = self.locks[b].lock(cpu)?;
        let Some(e) = self.find(hash, key) else { return err(Errno::ENOENT, "key does not exist") };
        self.copy_value_out(e, value, flags & BPF_F_LOCK != 0);
        self.unlink_locked(b, e);
        self.count.fetch_sub(1, Relaxed);
        drop(guard);
        self.release(cpu, e);
        Ok(())
    }

    fn lookup_batch(&self, batch: LookupBatch<'_>, delete: bool) -> BatchOutcome {
        batch::lookup_batch(self, batch, delete)
    }

    fn update_batch(&self, keys: &[u8], values: &[u8], count: u32, elem_flags: u64) -> BatchOutcome {
        crate::batch::generic_update_batch(self, keys, values, count, elem_flags)
    }

    fn delete_batch(&self, keys: &[u8], count: u32, elem_flags: u64) -> BatchOutcome {
        crate::batch::generic_delete_batch(self, keys, count, elem_flags)
    }

    fn memory_usage(&self) -> usize {
        let bucket = core::mem::size_of::<AtomicPtr<ElemHead>>() + core::mem::size_of::<CpuLock<()>>();
        let buckets = self.heads.len() * bucket;
        let live = self.count.load(Relaxed) as usize * self.shape.elem_size();
        let elems = live.max(self.pool.slab_bytes());
        let lru = self.lru.as_ref().map_or(0, |l| l.memory_usage());
        core::mem::size_of::<Self>() + buckets + elems + lru
    }

    fn prog_lookup(&self, key: &[u8], guard: &Guard) -> Option<NonNull<u8>> {
        let _ = guard;
        if key.len() != self.shape.key_size {
            return None;
        }
        let e = self.find_prog(key)?;
        if self.kind == Kind::Hash {
            // SAFETY: `e` is live while the caller's guard lives.
            return Some(unsafe { self.shape.value(e, 0) });
        }
        self.prog_value(e)
    }

    fn prog_update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        if self.kind == Kind::HashOfMaps {
            return err(Errno::EINVAL, "programs cannot update hash_of_maps");
        }
        if value.len() != self.shape.value_size {
            return err(Errno::EINVAL, "wrong value size");
        }
        self.update_from(key, Src::Prog(value), flags)
    }

    fn prog_delete(&self, key: &[u8]) -> Result<()> {
        if self.kind == Kind::HashOfMaps {
            return err(Errno::EINVAL, "programs cannot delete from hash_of_maps");
        }
        self.delete_key(key)
    }

    fn for_each(&self, guard: &Guard, f: &mut ForEachFn<'_>) -> Result<u32> {
        let _ = guard;
        if self.kind == Kind::HashOfMaps {
            return err(Errno::EINVAL, "hash_of_maps does not support for_each");
        }
        let copy = if self.kind.is_percpu() { self.cpu_copy(self.host.current_cpu()) } else { 0 };
        let mut calls = 0u32;
        for head in self.heads.iter() {
            let mut p = head.load(Acquire);
            while let Some(e) = NonNull::new(p) {
                calls = calls.saturating_add(1);
                // SAFETY: chain elements are live while the caller's guard lives.
                let (key, value) = unsafe { (self.shape.key(e), self.shape.value(e, copy)) };
                if f(key, value).is_break() {
                    return Ok(calls);
                }
                // SAFETY: as above.
                p = unsafe { e.as_ref() }.next.load(Acquire);
            }
        }
        Ok(calls)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
