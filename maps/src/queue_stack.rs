//! `BPF_MAP_TYPE_QUEUE` and `BPF_MAP_TYPE_STACK`: a bounded ring of values without keys
//! (Linux `kernel/bpf/queue_stack_maps.c`).
//!
//! Both types share one ring of `max_entries + 1` slots (one slot stays free to tell "full"
//! from "empty"): `push` writes at `head`; a queue takes from `tail` (FIFO), a stack from
//! `head - 1` (LIFO). Pushing into a full map with `BPF_EXIST` first drops the oldest element
//! (the one at `tail`) for both types. Everything happens under one [`CpuLock`], so a probe
//! that re-enters the map on the same CPU gets `EBUSY` (Linux takes a raw spin lock, with a
//! trylock in NMI context that fails with `EBUSY`).
//!
//! Syscall side, as `bpf_map_update_value` / `bpf_map_copy_value` /
//! `map_lookup_and_delete_elem` route these types: update → push, lookup → peek,
//! lookup-and-delete → pop. Keyed operations are `EINVAL`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::alloc::Layout;
use core::any::Any;

use syscall_abi::bpf::{
    MapType, BPF_EXIST, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_NOEXIST,
};
use syscall_abi::{err, Errno, Result};

use crate::lock::CpuLock;
use crate::{BpfMap, MapAttr, MapDef, MapHost};

/// `BPF_F_ACCESS_MASK` (include/linux/bpf.h).
const ACCESS_MASK: u32 = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;
/// `QUEUE_STACK_CREATE_FLAG_MASK`.
const CREATE_FLAG_MASK: u32 = BPF_F_NUMA_NODE | ACCESS_MASK;
/// `KMALLOC_MAX_SIZE` of Linux 6.1 on x86_64 with SLUB (`1 << (MAX_ORDER + PAGE_SHIFT - 1)`):
/// larger values could not be copied to user space, so creation fails with `E2BIG`.
const KMALLOC_MAX_SIZE: u32 = 1 << 22;

/// `bpf_map_flags_access_ok`: a map cannot be both read-only and write-only for programs.
fn flags_access_ok(flags: u32) -> bool {
    flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG) != (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
}

/// A queue (FIFO) or stack (LIFO) map.
pub struct QueueStack {
    def: MapDef,
    lifo: bool,
    host: Arc<dyn MapHost>,
    ring: CpuLock<Ring>,
}

/// The ring under the lock. Invariants: `head, tail < slots`, `elems.len() == slots *
/// value_size`; empty when `head == tail`, full when `head + 1 == tail` (mod `slots`).
struct Ring {
    head: usize,
    tail: usize,
    slots: usize,
    value_size: usize,
    elems: Box<[u8]>,
}

impl Ring {
    fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    fn is_full(&self) -> bool {
        self.next(self.head) == self.tail
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 >= self.slots {
            0
        } else {
            i + 1
        }
    }

    fn slot(&self, i: usize) -> &[u8] {
        let start = i * self.value_size;
        &self.elems[start..start + self.value_size]
    }

    fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        let start = i * self.value_size;
        &mut self.elems[start..start + self.value_size]
    }
}

/// `queue_stack_map_alloc_check`: all `EINVAL` cases first, then the `E2BIG` value limit.
fn check(attr: &MapAttr) -> Result<()> {
    if attr.max_entries == 0
        || attr.key_size != 0
        || attr.value_size == 0
        || attr.map_flags & !CREATE_FLAG_MASK != 0
        || !flags_access_ok(attr.map_flags)
    {
        return err(Errno::EINVAL, "queue/stack: bad key_size, value_size, max_entries or flags");
    }
    if attr.value_size > KMALLOC_MAX_SIZE {
        return err(Errno::E2BIG, "queue/stack: value_size too large");
    }
    if attr.spin_lock_off.is_some() {
        // map_check_btf: bpf_spin_lock is only for hash, array and the storage maps.
        return err(Errno::ENOTSUPP, "queue/stack values cannot hold a bpf_spin_lock");
    }
    Ok(())
}

pub(crate) fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    check(attr)?;
    let lifo = attr.map_type == Some(MapType::Stack);
    let value_size = attr.value_size as usize;
    let slots = (attr.max_entries as usize).checked_add(1).ok_or(Errno::ENOMEM)?;
    let bytes = slots.checked_mul(value_size).ok_or(Errno::ENOMEM)?;
    let elems = zeroed_bytes(bytes)?;
    Ok(Arc::new(QueueStack {
        def: MapDef::from_attr(attr),
        lifo,
        host: host.clone(),
        ring: CpuLock::new(Ring { head: 0, tail: 0, slots, value_size, elems }),
    }))
}

/// A zeroed heap buffer of `len > 0` bytes; `ENOMEM` instead of aborting when the allocator
/// refuses (zeroed pages are not touched until used).
fn zeroed_bytes(len: usize) -> Result<Box<[u8]>> {
    let layout = Layout::array::<u8>(len).map_err(|_| Errno::ENOMEM)?;
    if layout.size() == 0 {
        return err(Errno::ENOMEM, "empty ring");
    }
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return err(Errno::ENOMEM, "queue/stack storage");
    }
    // SAFETY: `ptr` is a fresh allocation of `len` zeroed bytes from the global allocator
    // with the layout `Box<[u8]>` of that length frees with.
    Ok(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, len)) })
}

impl QueueStack {
    fn check_value_len(&self, len: usize) -> Result<()> {
        if len != self.def.value_size as usize {
            return err(Errno::EINVAL, "queue/stack: value buffer is not value_size bytes");
        }
        Ok(())
    }

    /// `__queue_map_get` / `__stack_map_get`: copies the next element out, removing it when
    /// `delete`. Empty → the buffer is zeroed and the result is `ENOENT`.
    fn get(&self, value: &mut [u8], delete: bool) -> Result<()> {
        self.check_value_len(value.len())?;
        let mut ring = self.ring.lock(self.host.current_cpu())?;
        if ring.is_empty() {
            value.fill(0);
            return err(Errno::ENOENT, "queue/stack is empty");
        }
        let index = if self.lifo {
            if ring.head == 0 {
                ring.slots - 1
            } else {
                ring.head - 1
            }
        } else {
            ring.tail
        };
        value.copy_from_slice(ring.slot(index));
        if delete {
            if self.lifo {
                ring.head = index;
            } else {
                ring.tail = ring.next(ring.tail);
            }
        }
        Ok(())
    }

    /// Number of elements currently held (for tests and statistics).
    pub fn len(&self) -> Result<usize> {
        let ring = self.ring.lock(self.host.current_cpu())?;
        Ok((ring.head + ring.slots - ring.tail) % ring.slots)
    }

    /// Whether the map holds no element.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

impl BpfMap for QueueStack {
    fn def(&self) -> &MapDef {
        &self.def
    }

    /// `bpf_map_copy_value` calls `map_peek_elem` for these types. No flag is valid:
    /// `BPF_F_LOCK` needs a `bpf_spin_lock`, which these maps cannot have.
    fn lookup(&self, _key: &[u8], value: &mut [u8], flags: u64) -> Result<()> {
        if flags != 0 {
            return err(Errno::EINVAL, "queue/stack lookup takes no flags");
        }
        self.peek(value)
    }

    /// `bpf_map_update_value` calls `map_push_elem`; the (empty) key is ignored.
    fn update(&self, _key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        self.push(value, flags)
    }

    /// `queue_stack_map_delete_elem`.
    fn delete(&self, _key: &[u8]) -> Result<()> {
        err(Errno::EINVAL, "queue/stack has no keys to delete")
    }

    /// `queue_stack_map_get_next_key`.
    fn get_next_key(&self, _key: Option<&[u8]>, _next_key: &mut [u8]) -> Result<()> {
        err(Errno::EINVAL, "queue/stack has no keys")
    }

    /// `map_lookup_and_delete_elem`: any flag is `EINVAL` for these types, then pop.
    fn lookup_and_delete(&self, _key: Option<&[u8]>, value: &mut [u8], flags: u64) -> Result<()> {
        if flags != 0 {
            return err(Errno::EINVAL, "queue/stack pop takes no flags");
        }
        self.pop(value)
    }

    /// `queue_stack_map_mem_usage`: the header plus `max_entries + 1` slots.
    fn memory_usage(&self) -> usize {
        let slots = (self.def.max_entries as usize).saturating_add(1);
        core::mem::size_of::<Self>().saturating_add(slots.saturating_mul(self.def.value_size as usize))
    }

    /// `queue_stack_map_push_elem`: `BPF_ANY` or `BPF_EXIST` (make room by dropping the
    /// oldest element when full); anything else is `EINVAL`; full without `BPF_EXIST` is
    /// `E2BIG`.
    fn push(&self, value: &[u8], flags: u64) -> Result<()> {
        if flags & BPF_NOEXIST != 0 || flags > BPF_EXIST {
            return err(Errno::EINVAL, "queue/stack push: flags must be BPF_ANY or BPF_EXIST");
        }
        self.check_value_len(value.len())?;
        let mut ring = self.ring.lock(self.host.current_cpu())?;
        if ring.is_full() {
            if flags & BPF_EXIST == 0 {
                return err(Errno::E2BIG, "queue/stack is full");
            }
            ring.tail = ring.next(ring.tail);
        }
        let head = ring.head;
        ring.slot_mut(head).copy_from_slice(value);
        ring.head = ring.next(head);
        Ok(())
    }

    /// `queue_map_pop_elem` / `stack_map_pop_elem`.
    fn pop(&self, value: &mut [u8]) -> Result<()> {
        self.get(value, true)
    }

    /// `queue_map_peek_elem` / `stack_map_peek_elem`.
    fn peek(&self, value: &mut [u8]) -> Result<()> {
        self.get(value, false)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests;
