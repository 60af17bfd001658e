//! The batch commands through the syscall: the user-copy contract (count written back even on
//! error, faults at element k), per-type support, permissions.

use core::mem::offset_of;
use std::vec::Vec;

use syscall_abi::bpf::{Cmd, MapBatchAttr, MapElemAttr, MapType, BPF_ANY, BPF_F_LOCK, BPF_F_RDONLY, BPF_NOEXIST};
use syscall_abi::Errno;

use super::{e, u32b, u64b, CPUS, T};

/// Runs a batch command; returns the result and the `count` field afterwards.
fn run(t: &T, cmd: Cmd, a: &MapBatchAttr) -> (isize, u32) {
    let (r, addr) = t.call_at(cmd, a);
    let count: u32 = t.h.get(addr + offset_of!(MapBatchAttr, count) as u64);
    (r, count)
}

fn keys_of(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks_exact(4).map(|c| u32::from_ne_bytes(c.try_into().unwrap())).collect()
}

/// An array of 6 u64 values, value i = 100 + i.
fn filled_array(t: &T) -> u32 {
    let fd = t.map(MapType::Array, 4, 8, 6, 0);
    for i in 0..6u32 {
        assert_eq!(t.update(fd, &u32b(i), &u64b(100 + u64::from(i)), BPF_ANY), 0);
    }
    fd
}

#[test]
fn lookup_batch_walks_the_map_and_reports_enoent_at_the_end() {
    let t = T::new();
    let fd = filled_array(&t);
    let (keys, values, out) = (t.h.alloc(4 * 4), t.h.alloc(8 * 4), t.h.alloc(4));
    let a = MapBatchAttr { map_fd: fd, keys, values, out_batch: out, count: 4, ..MapBatchAttr::ZERO };
    assert_eq!(run(&t, Cmd::MapLookupBatch, &a), (0, 4));
    assert_eq!(keys_of(&t.h.read(keys, 16)), [0, 1, 2, 3]);
    assert_eq!(t.h.read(values + 8, 8), u64b(101));
    assert_eq!(t.h.read(out, 4), u32b(3));
    // Continue from out_batch: two left, then the end.
    let next = MapBatchAttr { in_batch: out, out_batch: t.h.alloc(4), ..a };
    assert_eq!(run(&t, Cmd::MapLookupBatch, &next), (e(Errno::ENOENT), 2));
    assert_eq!(keys_of(&t.h.read(keys, 8)), [4, 5]);
    assert_eq!(t.h.read(values + 8, 8), u64b(105));
    // count 0: returns 0 at once, the count field keeps what the caller wrote.
    let zero = MapBatchAttr { count: 0, keys: 0, values: 0, ..a };
    assert_eq!(run(&t, Cmd::MapLookupBatch, &zero), (0, 0));
    t.assert_all_freed();
}

#[test]
fn lookup_batch_errnos() {
    let t = T::new();
    let fd = filled_array(&t);
    let (keys, values, out) = (t.h.alloc(4 * 6), t.h.alloc(8 * 6), t.h.alloc(4));
    let a = MapBatchAttr { map_fd: fd, keys, values, out_batch: out, count: 6, ..MapBatchAttr::ZERO };
    // elem_flags: unknown bits, or BPF_F_LOCK without a spin lock; before anything is written.
    for flags in [1u64 << 3, BPF_F_LOCK] {
        let (r, addr) = t.call_at(Cmd::MapLookupBatch, &MapBatchAttr { elem_flags: flags, ..a });
        assert_eq!(r, e(Errno::EINVAL));
        assert_eq!(t.h.get::<u32>(addr + offset_of!(MapBatchAttr, count) as u64), 6, "count untouched");
    }
    // Arrays have no lookup_and_delete and no delete batch.
    assert_eq!(run(&t, Cmd::MapLookupAndDeleteBatch, &a), (e(Errno::ENOTSUPP), 6));
    assert_eq!(run(&t, Cmd::MapDeleteBatch, &a), (e(Errno::ENOTSUPP), 6));
    // Faulting buffers: count is zeroed first and stays 0.
    let hole = t.h.alloc(256);
    t.h.punch_hole(hole, 256);
    assert_eq!(run(&t, Cmd::MapLookupBatch, &MapBatchAttr { keys: hole, ..a }), (e(Errno::EFAULT), 0));
    assert_eq!(run(&t, Cmd::MapLookupBatch, &MapBatchAttr { values: hole, ..a }), (e(Errno::EFAULT), 0));
    assert_eq!(run(&t, Cmd::MapLookupBatch, &MapBatchAttr { in_batch: hole, ..a }), (e(Errno::EFAULT), 0));
    assert_eq!(run(&t, Cmd::MapLookupBatch, &MapBatchAttr { out_batch: hole, ..a }), (e(Errno::EFAULT), 6));
    // Wrong fds.
    assert_eq!(run(&t, Cmd::MapLookupBatch, &MapBatchAttr { map_fd: 77, ..a }).0, e(Errno::EBADF));
    assert_eq!(run(&t, Cmd::MapLookupBatch, &MapBatchAttr { map_fd: 2, ..a }).0, e(Errno::EINVAL));
    // Queues have no batches at all.
    let q = t.map(MapType::Queue, 0, 4, 4, 0);
    for cmd in [Cmd::MapLookupBatch, Cmd::MapUpdateBatch] {
        assert_eq!(run(&t, cmd, &MapBatchAttr { map_fd: q, ..a }).0, e(Errno::ENOTSUPP), "{cmd:?}");
    }
    t.assert_all_freed();
}

#[test]
fn percpu_values_in_batches() {
    let t = T::new();
    let fd = t.map(MapType::PercpuArray, 4, 4, 2, 0);
    let stride = 8 * CPUS as usize;
    let mut values = std::vec![0u8; 2 * stride];
    for (i, b) in values.iter_mut().enumerate() {
        *b = i as u8;
    }
    let keys = t.h.put_bytes(&[u32b(0), u32b(1)].concat());
    let a = MapBatchAttr { map_fd: fd, keys, values: t.h.put_bytes(&values), count: 2, ..MapBatchAttr::ZERO };
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &a), (0, 2));
    let out = t.h.alloc(2 * stride);
    let l = MapBatchAttr {
        map_fd: fd,
        keys: t.h.alloc(8),
        values: out,
        out_batch: t.h.alloc(4),
        count: 2,
        ..MapBatchAttr::ZERO
    };
    assert_eq!(run(&t, Cmd::MapLookupBatch, &l), (0, 2));
    assert_eq!(t.h.read(out, 2 * stride), values);
    t.assert_all_freed();
}

#[test]
fn update_batch_counts_what_was_done_before_an_error() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 4, 0);
    // Keys 0, 1, 9 (out of range), 2.
    let keys = t.h.put_bytes(&[u32b(0), u32b(1), u32b(9), u32b(2)].concat());
    let values = t.h.put_bytes(&[u64b(10), u64b(11), u64b(12), u64b(13)].concat());
    let a = MapBatchAttr { map_fd: fd, keys, values, count: 4, elem_flags: BPF_ANY, ..MapBatchAttr::ZERO };
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &a), (e(Errno::E2BIG), 2));
    assert_eq!(t.lookup(fd, &u32b(1), 8), Ok(u64b(11)));
    assert_eq!(t.lookup(fd, &u32b(2), 8), Ok(u64b(0)));
    // elem_flags may only hold BPF_F_LOCK in 6.1 (not even BPF_NOEXIST): EINVAL, count
    // untouched.
    for flags in [BPF_NOEXIST, 1 << 5] {
        assert_eq!(run(&t, Cmd::MapUpdateBatch, &MapBatchAttr { elem_flags: flags, ..a }), (e(Errno::EINVAL), 4));
    }
    t.assert_all_freed();
}

#[test]
fn update_batch_fault_at_element_k() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 8, 0);
    let keys = t.h.put_bytes(&[u32b(0), u32b(1), u32b(2), u32b(3)].concat());
    let values = t.h.alloc(32);
    t.h.write(values, &[u64b(1), u64b(2)].concat());
    // The third value faults.
    t.h.punch_hole(values + 16, 16);
    let a = MapBatchAttr { map_fd: fd, keys, values, count: 4, ..MapBatchAttr::ZERO };
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &a), (e(Errno::EFAULT), 2));
    assert_eq!(t.lookup(fd, &u32b(1), 8), Ok(u64b(2)));
    assert_eq!(t.lookup(fd, &u32b(2), 8), Ok(u64b(0)));
    // A huge count over a small buffer: processes until the fault, allocates nothing big.
    let big = MapBatchAttr { count: u32::MAX, ..a };
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &big), (e(Errno::EFAULT), 2));
    // count 0 never touches the buffers.
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &MapBatchAttr { count: 0, keys: 0, values: 0, ..a }), (0, 0));
    t.assert_all_freed();
}

#[test]
fn update_batch_needs_a_writable_unfrozen_map() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 4, BPF_F_RDONLY);
    let a = MapBatchAttr { map_fd: fd, keys: t.h.alloc(4), values: t.h.alloc(8), count: 1, ..MapBatchAttr::ZERO };
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &a), (e(Errno::EPERM), 1));
    // A read-only fd may still look up. Filling `count` exactly is success, not ENOENT
    // (generic_map_lookup_batch stops before asking for the next key).
    let l = MapBatchAttr {
        map_fd: fd,
        keys: t.h.alloc(16),
        values: t.h.alloc(32),
        out_batch: t.h.alloc(4),
        count: 4,
        ..MapBatchAttr::ZERO
    };
    assert_eq!(run(&t, Cmd::MapLookupBatch, &l), (0, 4));
    let rw = t.map(MapType::Array, 4, 8, 4, 0);
    assert_eq!(t.call(Cmd::MapFreeze, &MapElemAttr { map_fd: rw, ..MapElemAttr::ZERO }), 0);
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &MapBatchAttr { map_fd: rw, ..a }), (e(Errno::EPERM), 1));
    t.assert_all_freed();
}

#[test]
fn array_of_maps_batches_hold_fds_in_and_ids_out() {
    let t = T::new();
    let inner = t.map(MapType::Array, 4, 4, 1, 0);
    let outer_attr = syscall_abi::bpf::MapCreateAttr {
        map_type: MapType::ArrayOfMaps.into(),
        key_size: 4,
        value_size: 4,
        max_entries: 3,
        inner_map_fd: inner,
        ..syscall_abi::bpf::MapCreateAttr::ZERO
    };
    let outer = t.call(Cmd::MapCreate, &outer_attr) as u32;
    let keys = t.h.put_bytes(&[u32b(0), u32b(2)].concat());
    let values = t.h.put_bytes(&[u32b(inner), u32b(inner)].concat());
    let a = MapBatchAttr { map_fd: outer, keys, values, count: 2, ..MapBatchAttr::ZERO };
    assert_eq!(run(&t, Cmd::MapUpdateBatch, &a), (0, 2));
    let inner_id = match t.h.object(inner) {
        Some(crate::object::BpfObject::Map(m)) => m.id(),
        _ => unreachable!(),
    };
    let (k, v) = (t.h.alloc(12), t.h.alloc(12));
    let l = MapBatchAttr { map_fd: outer, keys: k, values: v, out_batch: t.h.alloc(4), count: 3, ..MapBatchAttr::ZERO };
    // The empty slot 1 is skipped; the end is ENOENT with the two found.
    assert_eq!(run(&t, Cmd::MapLookupBatch, &l), (e(Errno::ENOENT), 2));
    assert_eq!(keys_of(&t.h.read(k, 8)), [0, 2]);
    assert_eq!(keys_of(&t.h.read(v, 8)), [inner_id, inner_id]);
    t.assert_all_freed();
}
