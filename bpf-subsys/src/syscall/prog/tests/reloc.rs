//! Relocation of `ld_imm64` pseudo loads, used maps, xlated instructions and the tag.

use std::sync::Arc;

use syscall_abi::bpf::{
    MapType, ProgType, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
    BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE,
};
use syscall_abi::Errno;

use super::{attr, e, i, ld64, load, load_ok, prog, ret};
use crate::object::{BpfObject, MapObj};
use crate::syscall::tests::T;
use crate::vm::insn::{decode, RawInsn};
use crate::vm::Program;

/// `ld_imm64 r1, <pseudo>; r0 = 0; exit`.
fn with_ld(src: u8, imm: i32, aux: i32) -> Vec<RawInsn> {
    let mut p = ld64(1, src, imm, aux).to_vec();
    p.extend(ret(0));
    p
}

fn imm64(insns: &[RawInsn], pc: usize) -> u64 {
    let lo = decode(&insns[pc]).imm as u32 as u64;
    let hi = decode(&insns[pc + 1]).imm as u32 as u64;
    lo | hi << 32
}

fn map_obj(t: &T, fd: u32) -> Arc<MapObj> {
    match t.h.object(fd) {
        Some(BpfObject::Map(m)) => m,
        _ => panic!("not a map"),
    }
}

#[test]
fn map_fd_becomes_map_object_address() {
    let t = T::new();
    let m = t.map(MapType::Queue, 0, 8, 16, 0);
    let fd = load_ok(&t, ProgType::Kprobe, &with_ld(BPF_PSEUDO_MAP_FD, m as i32, 0));
    let p = prog(&t, fd);
    let obj = map_obj(&t, m);
    assert_eq!(imm64(p.insns(), 0), Arc::as_ptr(&obj) as u64);
    assert_eq!(p.map_ids(), vec![obj.id()]);
    // xlated: the map id, no address.
    let x = decode(&p.xlated()[0]);
    assert_eq!((x.src, x.imm), (BPF_PSEUDO_MAP_FD, obj.id() as i32));
    assert_eq!(decode(&p.xlated()[1]).imm, 0);
    // The program keeps the map alive after its fd is closed.
    assert!(t.h.close(m));
    let weak = Arc::downgrade(&obj);
    drop(obj);
    assert!(weak.upgrade().is_some());
    drop(p);
    assert!(t.h.close(fd));
    assert!(weak.upgrade().is_none());
    assert!(t.host.registry().is_empty());
}

#[test]
fn bad_map_references() {
    let t = T::new();
    let p = load_ok(&t, ProgType::Kprobe, &ret(0));
    let hash = t.map(MapType::Queue, 0, 8, 16, 0);
    let arr2 = t.map(MapType::Array, 4, 8, 2, 0);
    let pcpu = t.map(MapType::PercpuArray, 4, 8, 1, 0);
    let arr = t.map(MapType::Array, 4, 8, 1, 0);
    let cases: Vec<(&str, Vec<RawInsn>, Errno)> = vec![
        ("closed fd", with_ld(BPF_PSEUDO_MAP_FD, 77, 0), Errno::EBADF),
        ("negative fd", with_ld(BPF_PSEUDO_MAP_FD, -1, 0), Errno::EBADF),
        ("program fd", with_ld(BPF_PSEUDO_MAP_FD, p as i32, 0), Errno::EINVAL),
        ("plain file fd", with_ld(BPF_PSEUDO_MAP_FD, 1, 0), Errno::EINVAL),
        ("map_fd with aux imm", with_ld(BPF_PSEUDO_MAP_FD, arr as i32, 1), Errno::EINVAL),
        ("value of a queue", with_ld(BPF_PSEUDO_MAP_VALUE, hash as i32, 0), Errno::EINVAL),
        ("value of a 2-entry array", with_ld(BPF_PSEUDO_MAP_VALUE, arr2 as i32, 0), Errno::ENOTSUPP),
        ("value of a per-CPU array", with_ld(BPF_PSEUDO_MAP_VALUE, pcpu as i32, 0), Errno::EINVAL),
        ("value offset = value_size", with_ld(BPF_PSEUDO_MAP_VALUE, arr as i32, 8), Errno::EINVAL),
        ("value offset >= 1 << 29", with_ld(BPF_PSEUDO_MAP_VALUE, arr as i32, 1 << 29), Errno::EINVAL),
        ("value of a closed fd", with_ld(BPF_PSEUDO_MAP_VALUE, 77, 0), Errno::EBADF),
        ("map idx without fd_array", with_ld(BPF_PSEUDO_MAP_IDX, 0, 0), Errno::EPROTO),
        ("map idx value without fd_array", with_ld(BPF_PSEUDO_MAP_IDX_VALUE, 0, 0), Errno::EPROTO),
        ("btf id", with_ld(BPF_PSEUDO_BTF_ID, 1, 0), Errno::EINVAL),
        ("unknown pseudo src", with_ld(7, 0, 0), Errno::EINVAL),
    ];
    for (what, insns, errno) in cases {
        assert_eq!(load(&t, &attr(&t, ProgType::Kprobe, &insns)), e(errno), "{what}");
    }
}

#[test]
fn map_value_points_into_the_array() {
    let t = T::new();
    let arr = t.map(MapType::Array, 4, 16, 1, 0);
    let fd = load_ok(&t, ProgType::Kprobe, &with_ld(BPF_PSEUDO_MAP_VALUE, arr as i32, 12));
    let p = prog(&t, fd);
    let obj = map_obj(&t, arr);
    let array = obj.map().as_any().downcast_ref::<maps::ArrayMap>().unwrap();
    assert_eq!(imm64(p.insns(), 0), array.direct_value_addr(12).unwrap().as_ptr() as u64);
    let (a, b) = (decode(&p.xlated()[0]), decode(&p.xlated()[1]));
    assert_eq!((a.src, a.imm, b.imm), (BPF_PSEUDO_MAP_VALUE, obj.id() as i32, 12));
}

#[test]
fn fd_array_indexes() {
    let t = T::new();
    let hash = t.map(MapType::Queue, 0, 8, 16, 0);
    let arr = t.map(MapType::Array, 4, 8, 1, 0);
    let mut insns = ld64(1, BPF_PSEUDO_MAP_IDX, 1, 0).to_vec();
    insns.extend(ld64(2, BPF_PSEUDO_MAP_IDX_VALUE, 0, 4));
    insns.extend(ld64(3, BPF_PSEUDO_MAP_FD, hash as i32, 0));
    insns.extend(ret(0));
    let mut a = attr(&t, ProgType::Kprobe, &insns);
    let fds: Vec<u8> = [arr, hash].iter().flat_map(|f| f.to_ne_bytes()).collect();
    a.fd_array = t.h.put_bytes(&fds);
    let fd = load(&t, &a);
    assert!(fd >= 0, "{fd}");
    let p = prog(&t, fd as u32);
    let (h, r) = (map_obj(&t, hash), map_obj(&t, arr));
    assert_eq!(imm64(p.insns(), 0), Arc::as_ptr(&h) as u64);
    let array = r.map().as_any().downcast_ref::<maps::ArrayMap>().unwrap();
    assert_eq!(imm64(p.insns(), 2), array.direct_value_addr(4).unwrap().as_ptr() as u64);
    assert_eq!(imm64(p.insns(), 4), Arc::as_ptr(&h) as u64);
    // Deduplicated, in order of first use.
    assert_eq!(p.map_ids(), vec![h.id(), r.id()]);
    // xlated shows MAP_IDX as MAP_FD with the id, like Linux.
    assert_eq!(decode(&p.xlated()[0]).src, BPF_PSEUDO_MAP_FD);

    // An index past the user's memory faults; a negative index too.
    for idx in [1 << 28, -1] {
        let mut bad = ld64(1, BPF_PSEUDO_MAP_IDX, idx, 0).to_vec();
        bad.extend(ret(0));
        let mut a = attr(&t, ProgType::Kprobe, &bad);
        a.fd_array = t.h.put_bytes(&fds);
        assert_eq!(load(&t, &a), e(Errno::EFAULT), "index {idx}");
    }
    // fd_array entry that is not a map.
    let mut a = attr(&t, ProgType::Kprobe, &with_ld(BPF_PSEUDO_MAP_IDX, 0, 0));
    a.fd_array = t.h.put_bytes(&1u32.to_ne_bytes());
    assert_eq!(load(&t, &a), e(Errno::EINVAL));
}

#[test]
fn used_maps_limit() {
    let t = T::new();
    let maps: Vec<u32> = (0..65).map(|_| t.map(MapType::Array, 4, 4, 1, 0)).collect();
    let build = |fds: &[u32]| {
        let mut p: Vec<RawInsn> = fds.iter().flat_map(|&f| ld64(1, BPF_PSEUDO_MAP_FD, f as i32, 0)).collect();
        p.extend(ret(0));
        p
    };
    assert!(load(&t, &attr(&t, ProgType::Kprobe, &build(&maps[..64]))) >= 0);
    assert_eq!(load(&t, &attr(&t, ProgType::Kprobe, &build(&maps))), e(Errno::E2BIG));
    // The same map many times counts once.
    let same = vec![maps[0]; 100];
    let fd = load(&t, &attr(&t, ProgType::Kprobe, &build(&same)));
    assert!(fd >= 0);
    assert_eq!(prog(&t, fd as u32).map_ids().len(), 1);
}

#[test]
fn pseudo_func_becomes_instruction_index() {
    let t = T::new();
    // 0-1: r2 = &callback (insn 0 + 3 + 1); 2: r0 = 0; 3: exit; 4-5: the callback.
    let insns = vec![
        ld64(2, BPF_PSEUDO_FUNC, 3, 0)[0],
        ld64(2, BPF_PSEUDO_FUNC, 3, 0)[1],
        i(0xb7, 0, 0, 0, 0),
        i(0x95, 0, 0, 0, 0),
        i(0xb7, 0, 0, 0, 1),
        i(0x95, 0, 0, 0, 0),
    ];
    let fd = load_ok(&t, ProgType::Kprobe, &insns);
    assert_eq!(imm64(prog(&t, fd).insns(), 0), 4);
}

#[test]
fn tag_ignores_map_fds_and_follows_code() {
    let t = T::new();
    let m1 = t.map(MapType::Array, 4, 8, 1, 0);
    let _gap = t.map(MapType::Array, 4, 8, 1, 0);
    let m2 = t.map(MapType::Array, 4, 8, 1, 0);
    let tag = |insns: &[RawInsn]| *prog(&t, load_ok(&t, ProgType::Kprobe, insns)).tag();
    let a = tag(&with_ld(BPF_PSEUDO_MAP_FD, m1 as i32, 0));
    assert_eq!(a, tag(&with_ld(BPF_PSEUDO_MAP_FD, m1 as i32, 0)));
    assert_eq!(a, tag(&with_ld(BPF_PSEUDO_MAP_FD, m2 as i32, 0)));
    let v = tag(&with_ld(BPF_PSEUDO_MAP_VALUE, m1 as i32, 4));
    assert_eq!(v, tag(&with_ld(BPF_PSEUDO_MAP_VALUE, m2 as i32, 0)));
    assert_ne!(a, v, "the pseudo source is hashed");
    assert_ne!(tag(&ret(0)), tag(&ret(1)));
    // The tag is SHA-1 of the (zeroed) instruction bytes, first 8 bytes.
    let bytes: Vec<u8> = ret(0).iter().flatten().copied().collect();
    assert_eq!(tag(&ret(0))[..], crate::loader::sha1(&bytes)[..8]);
}
