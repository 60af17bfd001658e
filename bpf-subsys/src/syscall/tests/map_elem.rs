//! The element commands and `BPF_MAP_FREEZE`, per map type and per errno path.

use std::sync::Arc;
use std::vec;

use syscall_abi::bpf::{
    Cmd, MapCreateAttr, MapElemAttr, MapType, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_RDONLY,
    BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_NOEXIST,
};
use syscall_abi::Errno;

use super::{collect_until, e, u32b, u64b, CPUS, T};
use crate::host::Capability;
use crate::object::{BpfObject, FileMode, MapObj};

fn map_obj(t: &T, fd: u32) -> Arc<MapObj> {
    match t.h.object(fd) {
        Some(BpfObject::Map(m)) => m,
        other => panic!("fd {fd} is {other:?}"),
    }
}

#[test]
fn array_lookup_update_delete_next_key() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 3, 0);
    assert_eq!(t.lookup(fd, &u32b(1), 8), Ok(vec![0; 8]));
    assert_eq!(t.update(fd, &u32b(1), &u64b(42), BPF_ANY), 0);
    assert_eq!(t.lookup(fd, &u32b(1), 8), Ok(u64b(42)));
    assert_eq!(t.update(fd, &u32b(3), &u64b(1), BPF_ANY), e(Errno::E2BIG));
    assert_eq!(t.update(fd, &u32b(1), &u64b(1), BPF_NOEXIST), e(Errno::EEXIST));
    assert_eq!(t.update(fd, &u32b(1), &u64b(1), 9), e(Errno::EINVAL));
    assert_eq!(t.lookup(fd, &u32b(3), 8), Err(e(Errno::ENOENT)));
    assert_eq!(t.delete(fd, &u32b(1)), e(Errno::EINVAL));
    assert_eq!(t.next_key(fd, None, 4), Ok(u32b(0)));
    assert_eq!(t.next_key(fd, Some(&u32b(0)), 4), Ok(u32b(1)));
    assert_eq!(t.next_key(fd, Some(&u32b(2)), 4), Err(e(Errno::ENOENT)));
    assert_eq!(t.next_key(fd, Some(&u32b(77)), 4), Ok(u32b(0)));
    assert_eq!(t.pop(fd, &u32b(1), 8, 0), Err(e(Errno::ENOTSUPP)));
    t.assert_all_freed();
}

#[test]
fn percpu_array_values_span_every_possible_cpu() {
    let t = T::new();
    let fd = t.map(MapType::PercpuArray, 4, 4, 2, 0);
    // round_up(4, 8) * CPUS bytes: each CPU's value in its 8-byte slot.
    let stride = 8;
    let len = stride * CPUS as usize;
    let mut value = vec![0u8; len];
    for cpu in 0..CPUS as usize {
        value[cpu * stride..cpu * stride + 4].copy_from_slice(&(100 + cpu as u32).to_ne_bytes());
    }
    assert_eq!(t.update(fd, &u32b(1), &value, BPF_ANY), 0);
    assert_eq!(t.lookup(fd, &u32b(1), len), Ok(value.clone()));
    // A user buffer of only value_size bytes is too short: the copy faults at its end.
    let a = t.h.alloc(4);
    t.h.punch_hole(a + 4, 64);
    let attr = MapElemAttr { map_fd: fd, key: t.ptr(&u32b(1)), value: a, ..MapElemAttr::ZERO };
    assert_eq!(t.call(Cmd::MapLookupElem, &attr), e(Errno::EFAULT));
    assert_eq!(t.call(Cmd::MapUpdateElem, &attr), e(Errno::EFAULT));
    t.assert_all_freed();
}

#[test]
fn queue_and_stack_push_pop_peek_without_keys() {
    let t = T::new();
    let q = t.map(MapType::Queue, 0, 4, 2, 0);
    let s = t.map(MapType::Stack, 0, 4, 2, 0);
    for fd in [q, s] {
        assert_eq!(t.pop(fd, &[], 4, 0), Err(e(Errno::ENOENT)));
        assert_eq!(t.update(fd, &[], &u32b(1), BPF_ANY), 0);
        assert_eq!(t.update(fd, &[], &u32b(2), BPF_ANY), 0);
        assert_eq!(t.update(fd, &[], &u32b(3), BPF_ANY), e(Errno::E2BIG));
        assert_eq!(t.update(fd, &[], &u32b(3), BPF_NOEXIST), e(Errno::EINVAL));
        // A key pointer for a map without keys is EINVAL.
        assert_eq!(t.update(fd, &u32b(0), &u32b(3), BPF_ANY), e(Errno::EINVAL));
        assert_eq!(t.lookup(fd, &u32b(0), 4), Err(e(Errno::EINVAL)));
        // Flags on pop are EINVAL for these types.
        assert_eq!(t.pop(fd, &[], 4, BPF_F_LOCK), Err(e(Errno::EINVAL)));
        assert_eq!(t.next_key(fd, None, 0), Err(e(Errno::EINVAL)));
        assert_eq!(t.delete(fd, &[]), e(Errno::EINVAL));
    }
    // FIFO / LIFO, and lookup peeks without removing.
    assert_eq!(t.lookup(q, &[], 4), Ok(u32b(1)));
    assert_eq!(t.pop(q, &[], 4, 0), Ok(u32b(1)));
    assert_eq!(t.pop(q, &[], 4, 0), Ok(u32b(2)));
    assert_eq!(t.lookup(s, &[], 4), Ok(u32b(2)));
    assert_eq!(t.pop(s, &[], 4, 0), Ok(u32b(2)));
    // BPF_EXIST pushes out the oldest when full.
    assert_eq!(t.update(q, &[], &u32b(7), BPF_ANY), 0);
    assert_eq!(t.update(q, &[], &u32b(8), BPF_ANY), 0);
    assert_eq!(t.update(q, &[], &u32b(9), BPF_EXIST), 0);
    assert_eq!(t.pop(q, &[], 4, 0), Ok(u32b(8)));
    t.assert_all_freed();
}

#[test]
fn bloom_filter_lookup_reads_the_value_in() {
    let t = T::new();
    let fd = t.map(MapType::BloomFilter, 0, 8, 16, 0);
    assert_eq!(t.update(fd, &[], &u64b(5), BPF_ANY), 0);
    // The buffer holds the value to test and is not written.
    let buf = t.h.put_bytes(&u64b(5));
    let a = MapElemAttr { map_fd: fd, value: buf, ..MapElemAttr::ZERO };
    assert_eq!(t.call(Cmd::MapLookupElem, &a), 0);
    assert_eq!(t.h.read(buf, 8), u64b(5));
    let absent = MapElemAttr { value: t.h.put_bytes(&u64b(6)), ..a };
    assert_eq!(t.call(Cmd::MapLookupElem, &absent), e(Errno::ENOENT));
    // A faulting value buffer is EFAULT (it is read).
    assert_eq!(t.call(Cmd::MapLookupElem, &MapElemAttr { value: 0, ..a }), e(Errno::EFAULT));
    assert_eq!(t.delete(fd, &[]), e(Errno::EOPNOTSUPP));
    t.assert_all_freed();
}

#[test]
fn pointers_that_fault_are_efault() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 2, 0);
    let key = t.ptr(&u32b(0));
    let hole = t.h.alloc(64);
    t.h.punch_hole(hole, 64);
    let cases: &[(Cmd, MapElemAttr)] = &[
        (Cmd::MapLookupElem, MapElemAttr { map_fd: fd, key: 0, value: t.h.alloc(8), ..MapElemAttr::ZERO }),
        (Cmd::MapLookupElem, MapElemAttr { map_fd: fd, key, value: hole, ..MapElemAttr::ZERO }),
        (Cmd::MapUpdateElem, MapElemAttr { map_fd: fd, key: hole, value: t.h.alloc(8), ..MapElemAttr::ZERO }),
        (Cmd::MapUpdateElem, MapElemAttr { map_fd: fd, key, value: 0, ..MapElemAttr::ZERO }),
        (Cmd::MapDeleteElem, MapElemAttr { map_fd: fd, key: 0, ..MapElemAttr::ZERO }),
        (Cmd::MapGetNextKey, MapElemAttr { map_fd: fd, key: hole, value: t.h.alloc(4), ..MapElemAttr::ZERO }),
        (Cmd::MapGetNextKey, MapElemAttr { map_fd: fd, key: 0, value: hole, ..MapElemAttr::ZERO }),
    ];
    for (cmd, a) in cases {
        assert_eq!(t.call(*cmd, a), e(Errno::EFAULT), "{cmd:?} {a:?}");
    }
    t.assert_all_freed();
}

#[test]
fn fds_of_the_wrong_kind() {
    let t = T::new();
    let reg = t.host.registry().clone();
    let btf = crate::object::BtfObj::new(&reg, vec![], vec![], false).unwrap();
    let btf_fd = t.h.install_object(BpfObject::Btf(btf), FileMode::ReadOnly);
    let perf_fd = t.h.install_perf(Arc::new(PerfEvent));
    for cmd in [
        Cmd::MapLookupElem,
        Cmd::MapUpdateElem,
        Cmd::MapDeleteElem,
        Cmd::MapGetNextKey,
        Cmd::MapLookupAndDeleteElem,
        Cmd::MapFreeze,
    ] {
        for (fd, errno) in [(999, Errno::EBADF), (0, Errno::EINVAL), (btf_fd, Errno::EINVAL), (perf_fd, Errno::EINVAL)]
        {
            // Only the fields each command reads (the others must be zero: CHECK_ATTR).
            let mut a = MapElemAttr { map_fd: fd, ..MapElemAttr::ZERO };
            if cmd != Cmd::MapFreeze {
                a.key = t.ptr(&u32b(0));
            }
            if cmd != Cmd::MapFreeze && cmd != Cmd::MapDeleteElem {
                a.value = t.h.alloc(8);
            }
            assert_eq!(t.call(cmd, &a), e(errno), "{cmd:?} fd {fd}");
        }
    }
    t.h.close(perf_fd);
    t.assert_all_freed();
}

#[test]
fn flags_checked_before_the_fd_and_lock_needs_a_spin_lock() {
    let t = T::new();
    // Unknown lookup flags are EINVAL even before the fd is resolved.
    let a = MapElemAttr { map_fd: 999, flags: 1, ..MapElemAttr::ZERO };
    assert_eq!(t.call(Cmd::MapLookupElem, &a), e(Errno::EINVAL));
    assert_eq!(t.call(Cmd::MapLookupAndDeleteElem, &a), e(Errno::EINVAL));
    // Update flags are the map's business: the fd comes first.
    assert_eq!(t.call(Cmd::MapUpdateElem, &a), e(Errno::EBADF));
    // BPF_F_LOCK on a value without bpf_spin_lock: EINVAL, before the key is read.
    let fd = t.map(MapType::Array, 4, 8, 2, 0);
    let lock = MapElemAttr { map_fd: fd, key: 0, value: t.h.alloc(8), flags: BPF_F_LOCK, ..MapElemAttr::ZERO };
    assert_eq!(t.call(Cmd::MapLookupElem, &lock), e(Errno::EINVAL));
    assert_eq!(t.call(Cmd::MapUpdateElem, &lock), e(Errno::EINVAL));
    assert_eq!(t.call(Cmd::MapLookupAndDeleteElem, &lock), e(Errno::EINVAL));
    t.assert_all_freed();
}

#[test]
fn fd_access_modes() {
    let t = T::new();
    let rw = t.map(MapType::Queue, 0, 4, 4, 0);
    let obj = BpfObject::Map(map_obj(&t, rw));
    let ro = t.h.install_object(obj.clone(), FileMode::ReadOnly);
    let wo = t.h.install_object(obj, FileMode::WriteOnly);
    assert_eq!(t.update(ro, &[], &u32b(1), 0), e(Errno::EPERM));
    assert_eq!(t.update(wo, &[], &u32b(1), 0), 0);
    assert_eq!(t.lookup(wo, &[], 4), Err(e(Errno::EPERM)));
    assert_eq!(t.lookup(ro, &[], 4), Ok(u32b(1)));
    // lookup_and_delete needs both.
    assert_eq!(t.pop(ro, &[], 4, 0), Err(e(Errno::EPERM)));
    assert_eq!(t.pop(wo, &[], 4, 0), Err(e(Errno::EPERM)));
    assert_eq!(t.pop(rw, &[], 4, 0), Ok(u32b(1)));
    let arr = t.map(MapType::Array, 4, 4, 4, BPF_F_RDONLY);
    assert_eq!(t.delete(arr, &u32b(0)), e(Errno::EPERM));
    assert_eq!(t.next_key(arr, None, 4), Ok(u32b(0)));
    let arr_wo = t.map(MapType::Array, 4, 4, 4, BPF_F_WRONLY);
    assert_eq!(t.next_key(arr_wo, None, 4), Err(e(Errno::EPERM)));
    t.assert_all_freed();
}

#[test]
fn freeze_blocks_syscall_writes() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 4, 2, 0);
    let freeze = MapElemAttr { map_fd: fd, ..MapElemAttr::ZERO };
    assert_eq!(t.update(fd, &u32b(0), &u32b(7), 0), 0);
    // Without CAP_BPF/CAP_SYS_ADMIN: EPERM.
    t.h.set_cap(Capability::Bpf, false);
    t.h.set_cap(Capability::SysAdmin, false);
    assert_eq!(t.call(Cmd::MapFreeze, &freeze), e(Errno::EPERM));
    t.h.set_cap(Capability::Bpf, true);
    assert_eq!(t.call(Cmd::MapFreeze, &freeze), 0);
    assert_eq!(t.call(Cmd::MapFreeze, &freeze), e(Errno::EBUSY));
    assert_eq!(t.update(fd, &u32b(0), &u32b(8), 0), e(Errno::EPERM));
    assert_eq!(t.lookup(fd, &u32b(0), 4), Ok(u32b(7)));
    // A frozen queue: pop writes, so it is EPERM too.
    let q = t.map(MapType::Queue, 0, 4, 2, 0);
    assert_eq!(t.update(q, &[], &u32b(1), 0), 0);
    assert_eq!(t.call(Cmd::MapFreeze, &MapElemAttr { map_fd: q, ..MapElemAttr::ZERO }), 0);
    assert_eq!(t.pop(q, &[], 4, 0), Err(e(Errno::EPERM)));
    assert_eq!(t.lookup(q, &[], 4), Ok(u32b(1)));
    // The map's own state, for the verifier: read-only once frozen with BPF_F_RDONLY_PROG.
    assert!(!map_obj(&t, fd).is_rdonly());
    let rdonly_prog = t.map(MapType::Array, 4, 4, 1, BPF_F_RDONLY_PROG);
    assert_eq!(t.call(Cmd::MapFreeze, &MapElemAttr { map_fd: rdonly_prog, ..MapElemAttr::ZERO }), 0);
    assert!(map_obj(&t, rdonly_prog).is_rdonly());
    t.assert_all_freed();
}

#[test]
fn writable_mappings_and_freeze_exclude_each_other() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 512, BPF_F_MMAPABLE);
    let obj = map_obj(&t, fd);
    let mapping = obj.writable_mapping().unwrap();
    let freeze = MapElemAttr { map_fd: fd, ..MapElemAttr::ZERO };
    assert_eq!(t.call(Cmd::MapFreeze, &freeze), e(Errno::EBUSY));
    drop(mapping);
    assert_eq!(t.call(Cmd::MapFreeze, &freeze), 0);
    assert_eq!(obj.writable_mapping().err().map(|e| e.errno), Some(Errno::EPERM));
    let rdonly_prog = t.map(MapType::Array, 4, 8, 512, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
    assert_eq!(map_obj(&t, rdonly_prog).writable_mapping().err().map(|e| e.errno), Some(Errno::EACCES));
    drop(obj);
    t.assert_all_freed();
}

#[test]
fn map_in_map_stores_maps_by_fd_and_reports_ids() {
    let t = T::new();
    let inner = t.map(MapType::Array, 4, 8, 4, 0);
    let outer_attr = MapCreateAttr {
        map_type: MapType::ArrayOfMaps.into(),
        key_size: 4,
        value_size: 4,
        max_entries: 2,
        inner_map_fd: inner,
        ..MapCreateAttr::ZERO
    };
    let outer = t.call(Cmd::MapCreate, &outer_attr) as u32;
    let other = t.map(MapType::Array, 4, 8, 4, 0);
    assert_eq!(t.update(outer, &u32b(0), &u32b(other), BPF_ANY), 0);
    let other_id = map_obj(&t, other).id();
    assert_eq!(t.lookup(outer, &u32b(0), 4), Ok(u32b(other_id)));
    // Wrong kinds and mismatching maps.
    assert_eq!(t.update(outer, &u32b(1), &u32b(999), BPF_ANY), e(Errno::EBADF));
    assert_eq!(t.update(outer, &u32b(1), &u32b(0), BPF_ANY), e(Errno::EINVAL));
    let wrong = t.map(MapType::Array, 4, 16, 4, 0);
    assert_eq!(t.update(outer, &u32b(1), &u32b(wrong), BPF_ANY), e(Errno::EINVAL));
    // The outer map holds the inner one after its fd is closed.
    let reg = t.host.registry().clone();
    t.h.close(other);
    assert!(reg.map(other_id).is_some());
    assert_eq!(t.delete(outer, &u32b(0)), 0);
    collect_until(|| reg.map(other_id).is_none());
    assert!(reg.map(other_id).is_none());
    t.assert_all_freed();
}

#[test]
fn fd_arrays_resolve_their_own_kind() {
    let t = T::new();
    let progs = t.map(MapType::ProgArray, 4, 4, 2, 0);
    let map = t.map(MapType::Array, 4, 4, 2, 0);
    assert_eq!(t.update(progs, &u32b(0), &u32b(map), BPF_ANY), e(Errno::EINVAL));
    assert_eq!(t.update(progs, &u32b(0), &u32b(999), BPF_ANY), e(Errno::EBADF));
    let events = t.map(MapType::PerfEventArray, 4, 4, 2, 0);
    // perf_event_get: any fd that is not a perf event is EBADF.
    assert_eq!(t.update(events, &u32b(0), &u32b(map), BPF_ANY), e(Errno::EBADF));
    let perf = t.h.install_perf(Arc::new(PerfEvent));
    assert_eq!(t.update(events, &u32b(0), &u32b(perf), BPF_ANY), 0);
    // perf_event_array has no syscall lookup.
    assert_eq!(t.lookup(events, &u32b(0), 4), Err(e(Errno::ENOTSUPP)));
    t.h.close(perf);
    t.assert_all_freed();
}

#[test]
fn ringbuf_has_no_element_commands() {
    let t = T::new();
    let fd = t.map(MapType::Ringbuf, 0, 0, 4096, 0);
    // ringbuf_map_{lookup,update,delete,get_next}_elem are all -ENOTSUPP.
    assert_eq!(t.lookup(fd, &[], 0), Err(e(Errno::ENOTSUPP)));
    assert_eq!(t.update(fd, &[], &[], 0), e(Errno::ENOTSUPP));
    assert_eq!(t.delete(fd, &[]), e(Errno::ENOTSUPP));
    assert_eq!(t.next_key(fd, None, 0), Err(e(Errno::ENOTSUPP)));
    t.assert_all_freed();
}

/// A stand-in perf event object.
struct PerfEvent;

impl maps::FdObject for PerfEvent {
    fn id(&self) -> u32 {
        0
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}
