//! Object lifetimes through the syscall: who holds whom, when objects are freed, reference
//! cycles broken by `release_uref`; `BPF_PROG_BIND_MAP`.

use std::sync::Arc;
use std::vec;
use std::vec::Vec;

use syscall_abi::bpf::{Cmd, MapType, ProgBindMapAttr, ProgType, BPF_ANY};
use syscall_abi::Errno;

use super::{collect_until, e, u32b, T};
use crate::object::{BpfObject, FileMode, LinkOps, MapObj, ProgObj, ProgSpec};
use crate::vm::insn::{self, Insn};

/// Links that do nothing.
pub(super) struct NoOps;

impl LinkOps for NoOps {}

/// `r0 = 0; exit`.
fn exit_insns() -> Vec<insn::RawInsn> {
    [
        Insn { opc: insn::MOV64_IMM, dst: 0, src: 0, off: 0, imm: 0 },
        Insn { opc: insn::EXIT, dst: 0, src: 0, off: 0, imm: 0 },
    ]
    .iter()
    .map(insn::encode)
    .collect()
}

/// A loaded-looking program that uses `maps`.
pub(super) fn test_prog(t: &T, maps: Vec<Arc<MapObj>>) -> Arc<ProgObj> {
    let mut name = [0u8; 16];
    name[..9].copy_from_slice(b"test_prog");
    ProgObj::new(
        t.host.registry(),
        ProgSpec {
            prog_type: ProgType::Kprobe,
            expected_attach_type: 0,
            name,
            tag: [1, 2, 3, 4, 5, 6, 7, 8],
            insns: exit_insns(),
            xlated: exit_insns(),
            used_maps: maps,
            btf: None,
            func_info: vec![],
            line_info: vec![],
            gpl_compatible: true,
            load_time: 123_456,
            created_by_uid: 1000,
            verified_insns: 2,
            max_ctx_offset: 0,
        },
    )
    .unwrap()
}

pub(super) fn map_of(t: &T, fd: u32) -> Arc<MapObj> {
    match t.h.object(fd) {
        Some(BpfObject::Map(m)) => m,
        other => panic!("fd {fd} is {other:?}"),
    }
}

#[test]
fn a_program_keeps_its_maps() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 4, 1, 0);
    let map = map_of(&t, fd);
    let id = map.id();
    let prog = test_prog(&t, vec![map]);
    let pfd = t.h.install_object(BpfObject::Prog(prog), FileMode::ReadWrite);
    t.h.close(fd);
    let reg = t.host.registry().clone();
    assert!(reg.map(id).is_some());
    t.h.close(pfd);
    assert!(reg.map(id).is_none());
    assert!(reg.is_empty());
}

#[test]
fn prog_array_cycles_are_broken_when_user_references_go() {
    let t = T::new();
    let pa_fd = t.map(MapType::ProgArray, 4, 4, 2, 0);
    // The program uses the prog_array it sits in: a reference cycle.
    let prog = test_prog(&t, vec![map_of(&t, pa_fd)]);
    let prog_id = prog.id();
    let pfd = t.h.install_object(BpfObject::Prog(prog), FileMode::ReadWrite);
    assert_eq!(t.update(pa_fd, &u32b(0), &u32b(pfd), BPF_ANY), 0);
    assert_eq!(t.lookup(pa_fd, &u32b(0), 4), Ok(u32b(prog_id)));
    t.h.close(pfd);
    let reg = t.host.registry().clone();
    assert!(reg.prog(prog_id).is_some(), "held by the array");
    // Closing the last map fd runs release_uref: the array lets go of the program, which lets
    // go of the array.
    t.h.close(pa_fd);
    collect_until(|| reg.is_empty());
    assert!(reg.is_empty());
}

#[test]
fn map_in_map_keeps_inner_maps() {
    let t = T::new();
    let inner = t.map(MapType::Array, 4, 4, 1, 0);
    let a = syscall_abi::bpf::MapCreateAttr {
        map_type: MapType::ArrayOfMaps.into(),
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        inner_map_fd: inner,
        ..syscall_abi::bpf::MapCreateAttr::ZERO
    };
    let outer = t.call(Cmd::MapCreate, &a) as u32;
    assert_eq!(t.update(outer, &u32b(0), &u32b(inner), BPF_ANY), 0);
    let inner_id = map_of(&t, inner).id();
    t.h.close(inner);
    let reg = t.host.registry().clone();
    assert!(reg.map(inner_id).is_some());
    // Closing the outer map frees both.
    t.h.close(outer);
    collect_until(|| reg.is_empty());
    assert!(reg.is_empty());
}

#[test]
fn prog_bind_map() {
    let t = T::new();
    let m1 = t.map(MapType::Array, 4, 4, 1, 0);
    let m2 = t.map(MapType::Array, 4, 4, 1, 0);
    let prog = test_prog(&t, vec![map_of(&t, m1)]);
    let pfd = t.h.install_object(BpfObject::Prog(prog.clone()), FileMode::ReadWrite);
    let bind =
        |prog_fd: u32, map_fd: u32, flags: u32| t.call(Cmd::ProgBindMap, &ProgBindMapAttr { prog_fd, map_fd, flags });
    assert_eq!(bind(pfd, m2, 0), 0);
    assert_eq!(bind(pfd, m1, 0), 0, "already used: nothing to do");
    assert_eq!(prog.map_ids(), [map_of(&t, m1).id(), map_of(&t, m2).id()]);
    assert_eq!(bind(pfd, m2, 1), e(Errno::EINVAL));
    assert_eq!(bind(m1, m2, 0), e(Errno::EINVAL), "not a program fd");
    assert_eq!(bind(99, m2, 0), e(Errno::EBADF));
    assert_eq!(bind(pfd, pfd, 0), e(Errno::EINVAL), "not a map fd");
    assert_eq!(bind(pfd, 99, 0), e(Errno::EBADF));
    // The bound map lives as long as the program.
    let m2_id = map_of(&t, m2).id();
    t.h.close(m2);
    assert!(t.host.registry().map(m2_id).is_some());
    drop(prog);
    t.assert_all_freed();
}

#[test]
fn registry_is_empty_after_every_fd_and_pin_is_closed() {
    let t = T::new();
    let mut fds = Vec::new();
    for (ty, k, v, n) in [
        (MapType::Array, 4, 8, 4),
        (MapType::PercpuArray, 4, 8, 4),
        (MapType::Queue, 0, 8, 4),
        (MapType::Ringbuf, 0, 0, 4096),
        (MapType::BloomFilter, 0, 4, 8),
        (MapType::ProgArray, 4, 4, 2),
    ] {
        fds.push(t.map(ty, k, v, n, 0));
    }
    let prog = test_prog(&t, vec![map_of(&t, fds[0])]);
    let pfd = t.h.install_object(BpfObject::Prog(prog), FileMode::ReadWrite);
    assert_eq!(t.update(fds[5], &u32b(1), &u32b(pfd), BPF_ANY), 0);
    let pin = |fd: u32, path: &str| {
        t.call(Cmd::ObjPin, &syscall_abi::bpf::ObjAttr { pathname: t.cstr(path), bpf_fd: fd, file_flags: 0 })
    };
    assert_eq!(pin(fds[0], "/sys/fs/bpf/a"), 0);
    assert_eq!(pin(pfd, "/sys/fs/bpf/p"), 0);
    assert_eq!(pin(fds[5], "/sys/fs/bpf/pa"), 0);
    assert!(!t.host.registry().is_empty());
    t.assert_all_freed();
    assert_eq!(t.h.open_fds(), 3);
}

#[test]
fn fd_table_full_is_emfile_and_frees_the_new_object() {
    let t = T::new();
    t.h.set_max_fds(4);
    let fd = t.map(MapType::Array, 4, 4, 1, 0);
    assert_eq!(fd, 3);
    assert_eq!(t.create(MapType::Array, 4, 4, 1, 0), e(Errno::EMFILE));
    assert_eq!(t.host.registry().count(crate::object::ObjKind::Map), 1);
    let id = map_of(&t, fd).id();
    let by_id = syscall_abi::bpf::GetIdAttr { start_id: id, ..syscall_abi::bpf::GetIdAttr::ZERO };
    assert_eq!(t.call(Cmd::MapGetFdById, &by_id), e(Errno::EMFILE));
    t.assert_all_freed();
}

#[test]
fn concurrent_syscalls_on_one_map() {
    let t = Arc::new(T::new());
    let fd = t.map(MapType::Array, 4, 8, 8, 0);
    let threads: Vec<_> = (0..4u32)
        .map(|n| {
            let t = t.clone();
            std::thread::spawn(move || {
                for i in 0..300u64 {
                    assert_eq!(t.update(fd, &u32b(n), &(i + u64::from(n) * 1000).to_ne_bytes(), BPF_ANY), 0);
                    let v = t.lookup(fd, &u32b(n), 8).unwrap();
                    assert_eq!(u64::from_ne_bytes(v.try_into().unwrap()), i + u64::from(n) * 1000);
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    t.assert_all_freed();
}
