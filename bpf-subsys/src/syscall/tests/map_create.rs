//! `BPF_MAP_CREATE`: the syscall layer's checks, per-type checks through the syscall, names,
//! NUMA, BTF, inner maps, capabilities, the fd's access mode.

use std::vec;

use syscall_abi::bpf::{
    BpfMapInfo, Cmd, InfoAttr, MapCreateAttr, MapType, BPF_F_INNER_MAP, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC,
    BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_ZERO_SEED,
};
use syscall_abi::Errno;

use super::{e, T};
use crate::host::Capability;
use crate::object::{BpfObject, BtfObj, FileMode};

fn attr(ty: MapType, key_size: u32, value_size: u32, max_entries: u32, flags: u32) -> MapCreateAttr {
    MapCreateAttr { map_type: ty.into(), key_size, value_size, max_entries, map_flags: flags, ..MapCreateAttr::ZERO }
}

fn name(s: &[u8]) -> [u8; 16] {
    let mut n = [0u8; 16];
    n[..s.len()].copy_from_slice(s);
    n
}

fn info(t: &T, fd: u32) -> BpfMapInfo {
    let out = t.h.alloc(core::mem::size_of::<BpfMapInfo>());
    let a = InfoAttr { bpf_fd: fd, info_len: core::mem::size_of::<BpfMapInfo>() as u32, info: out };
    assert_eq!(t.call(Cmd::ObjGetInfoByFd, &a), 0);
    t.h.get(out)
}

#[test]
fn creates_an_array_and_returns_the_lowest_free_fd() {
    let t = T::new();
    let fd = t.map(MapType::Array, 4, 8, 16, 0);
    assert_eq!(fd, 3);
    let i = info(&t, fd);
    assert_eq!((i.type_, i.key_size, i.value_size, i.max_entries, i.map_flags), (2, 4, 8, 16, 0));
    assert_eq!(t.map(MapType::Array, 4, 8, 16, 0), 4);
    t.h.close(3);
    assert_eq!(t.map(MapType::Array, 4, 8, 16, 0), 3);
    t.assert_all_freed();
}

#[test]
fn bad_attributes_per_map_type() {
    let t = T::new();
    let cases: &[(MapType, u32, u32, u32, u32, Errno)] = &[
        // array family: key 4, value > 0, max_entries > 0, known flags.
        (MapType::Array, 8, 8, 4, 0, Errno::EINVAL),
        (MapType::Array, 4, 0, 4, 0, Errno::EINVAL),
        (MapType::Array, 4, 8, 0, 0, Errno::EINVAL),
        (MapType::Array, 4, 8, 4, BPF_F_NO_PREALLOC, Errno::EINVAL),
        (MapType::PercpuArray, 4, 8, 4, BPF_F_MMAPABLE, Errno::EINVAL),
        (MapType::PercpuArray, 4, 8, 4, BPF_F_INNER_MAP, Errno::EINVAL),
        // fd arrays hold 4-byte fds.
        (MapType::ProgArray, 4, 8, 4, 0, Errno::EINVAL),
        (MapType::PerfEventArray, 4, 8, 4, 0, Errno::EINVAL),
        (MapType::ProgArray, 4, 4, 4, BPF_F_RDONLY_PROG, Errno::EINVAL),
        // queue/stack: no key.
        (MapType::Queue, 4, 8, 4, 0, Errno::EINVAL),
        (MapType::Stack, 0, 0, 4, 0, Errno::EINVAL),
        (MapType::Queue, 0, 8, 0, 0, Errno::EINVAL),
        (MapType::Stack, 0, 8, 4, BPF_F_NO_PREALLOC, Errno::EINVAL),
        // ring buffer: no key or value, a power-of-2 multiple of the page size.
        (MapType::Ringbuf, 4, 0, 4096, 0, Errno::EINVAL),
        (MapType::Ringbuf, 0, 0, 4096 * 3, 0, Errno::EINVAL),
        (MapType::Ringbuf, 0, 0, 1000, 0, Errno::EINVAL),
        // LPM trie: BPF_F_NO_PREALLOC is mandatory.
        (MapType::LpmTrie, 8, 8, 4, 0, Errno::EINVAL),
        (MapType::LpmTrie, 4, 8, 4, BPF_F_NO_PREALLOC, Errno::EINVAL),
        // bloom filter: no key.
        (MapType::BloomFilter, 4, 8, 4, 0, Errno::EINVAL),
        // types this subsystem does not have.
        (MapType::StackTrace, 4, 8, 4, 0, Errno::EINVAL),
        (MapType::Sockmap, 4, 4, 4, 0, Errno::EINVAL),
        (MapType::Unspec, 4, 8, 4, 0, Errno::EINVAL),
    ];
    for &(ty, k, v, n, f, errno) in cases {
        assert_eq!(t.create(ty, k, v, n, f), e(errno), "{ty:?} key {k} value {v} max {n} flags {f:#x}");
    }
    // An unknown type number.
    let a = MapCreateAttr { map_type: 99, key_size: 4, value_size: 4, max_entries: 1, ..MapCreateAttr::ZERO };
    assert_eq!(t.call(Cmd::MapCreate, &a), e(Errno::EINVAL));
    // And the good versions of each family.
    for (ty, k, v, n, f) in [
        (MapType::Array, 4, 8, 4, 0),
        (MapType::PercpuArray, 4, 8, 4, 0),
        (MapType::ProgArray, 4, 4, 4, 0),
        (MapType::PerfEventArray, 4, 4, 4, 0),
        (MapType::Queue, 0, 8, 4, 0),
        (MapType::Stack, 0, 8, 4, 0),
        (MapType::Ringbuf, 0, 0, 4096, 0),
        (MapType::LpmTrie, 8, 8, 4, BPF_F_NO_PREALLOC),
        (MapType::BloomFilter, 0, 8, 4, 0),
    ] {
        assert!(t.create(ty, k, v, n, f) >= 3, "{ty:?}");
    }
    t.assert_all_freed();
}

#[test]
fn syscall_layer_checks() {
    let t = T::new();
    let base = attr(MapType::Array, 4, 8, 4, 0);
    let cases: &[(MapCreateAttr, Errno)] = &[
        (MapCreateAttr { map_flags: BPF_F_RDONLY | BPF_F_WRONLY, ..base }, Errno::EINVAL),
        (MapCreateAttr { map_extra: 1, ..base }, Errno::EINVAL),
        (MapCreateAttr { btf_key_type_id: 1, ..base }, Errno::EINVAL),
        (MapCreateAttr { btf_vmlinux_value_type_id: 1, ..base }, Errno::EINVAL),
        (MapCreateAttr { map_flags: BPF_F_NUMA_NODE, numa_node: 1, ..base }, Errno::EINVAL),
        (MapCreateAttr { map_flags: BPF_F_NUMA_NODE, numa_node: 0x7fff_ffff, ..base }, Errno::EINVAL),
        (MapCreateAttr { map_name: *b"has space\0\0\0\0\0\0\0", ..base }, Errno::EINVAL),
        (MapCreateAttr { map_name: *b"dash-name\0\0\0\0\0\0\0", ..base }, Errno::EINVAL),
        (MapCreateAttr { map_name: *b"sixteen_chars_xx", ..base }, Errno::EINVAL),
        (MapCreateAttr { map_name: name(b"\xd7"), ..base }, Errno::EINVAL),
        // BTF ids need a BTF fd: fd 0 is not one, fd 999 is not open.
        (MapCreateAttr { btf_value_type_id: 1, ..base }, Errno::EINVAL),
        (MapCreateAttr { btf_value_type_id: 1, btf_fd: 999, ..base }, Errno::EBADF),
        (MapCreateAttr { map_ifindex: 1, ..base }, Errno::EINVAL),
    ];
    for (a, errno) in cases {
        assert_eq!(t.call(Cmd::MapCreate, a), e(*errno), "{a:?}");
    }
    // The map type's checks come before the name check.
    let bad_both = MapCreateAttr { key_size: 8, map_name: *b"bad name\0\0\0\0\0\0\0\0", ..base };
    assert_eq!(t.call(Cmd::MapCreate, &bad_both), e(Errno::EINVAL));
    // numa_node = NUMA_NO_NODE with the flag, or any value without it, is accepted.
    assert!(t.call(Cmd::MapCreate, &MapCreateAttr { map_flags: BPF_F_NUMA_NODE, numa_node: u32::MAX, ..base }) >= 3);
    assert!(t.call(Cmd::MapCreate, &MapCreateAttr { map_flags: BPF_F_NUMA_NODE, numa_node: 0, ..base }) >= 3);
    assert!(t.call(Cmd::MapCreate, &MapCreateAttr { numa_node: 77, ..base }) >= 3);
    // offload needs CAP_SYS_ADMIN first.
    t.h.set_cap(Capability::SysAdmin, false);
    assert_eq!(t.call(Cmd::MapCreate, &MapCreateAttr { map_ifindex: 1, ..base }), e(Errno::EPERM));
    t.assert_all_freed();
}

#[test]
fn names_are_kept_and_reported() {
    let t = T::new();
    for n in [&b"my_map.v2"[..], b"", b"fifteen_chars_x", b"caf\xe9"] {
        let a = MapCreateAttr { map_name: name(n), ..attr(MapType::Array, 4, 4, 1, 0) };
        let fd = t.call(Cmd::MapCreate, &a);
        assert!(fd >= 3, "{n:?}");
        assert_eq!(info(&t, fd as u32).name, name(n));
    }
    // Bytes after the NUL are not part of the name.
    let mut raw = name(b"ab");
    raw[5] = b'!';
    let fd = t.call(Cmd::MapCreate, &MapCreateAttr { map_name: raw, ..attr(MapType::Array, 4, 4, 1, 0) });
    assert_eq!(info(&t, fd as u32).name, name(b"ab"));
    t.assert_all_freed();
}

#[test]
fn zero_seed_hash_needs_sys_admin() {
    let t = T::new();
    t.h.set_cap(Capability::SysAdmin, false);
    for ty in [MapType::Hash, MapType::PercpuHash, MapType::LruHash, MapType::LruPercpuHash] {
        assert_eq!(t.create(ty, 4, 8, 4, BPF_F_ZERO_SEED), e(Errno::EPERM), "{ty:?}");
    }
    // Not a hash-table rule: the bloom filter takes BPF_F_ZERO_SEED with CAP_BPF alone.
    assert!(t.create(MapType::BloomFilter, 0, 8, 4, BPF_F_ZERO_SEED) >= 3);
    t.assert_all_freed();
}

#[test]
fn access_flags_make_the_fd_read_or_write_only() {
    let t = T::new();
    let ro = t.map(MapType::Array, 4, 8, 4, BPF_F_RDONLY);
    let wo = t.map(MapType::Array, 4, 8, 4, BPF_F_WRONLY);
    assert_eq!(t.h.mode(ro), Some(FileMode::ReadOnly));
    assert_eq!(t.h.mode(wo), Some(FileMode::WriteOnly));
    // The flags belong to the fd: map info does not report them.
    assert_eq!(info(&t, ro).map_flags, 0);
    assert_eq!(t.update(ro, &[0; 4], &[1; 8], 0), e(Errno::EPERM));
    assert_eq!(t.update(wo, &[0; 4], &[1; 8], 0), 0);
    assert_eq!(t.lookup(wo, &[0; 4], 8), Err(e(Errno::EPERM)));
    assert_eq!(t.lookup(ro, &[0; 4], 8), Ok(vec![0; 8]));
    t.assert_all_freed();
}

#[test]
fn btf_ids_are_stored_when_btf_fd_is_btf() {
    let t = T::new();
    let reg = t.host.registry().clone();
    // crate::btf::tests::sample: type 1 is `int`, type 5 a pointer (8 bytes).
    let btf = BtfObj::new(&reg, crate::btf::tests::sample().0, vec![], false).unwrap();
    let btf_id = btf.id();
    let btf_fd = t.h.install_object(BpfObject::Btf(btf), FileMode::ReadOnly);
    let a = MapCreateAttr { btf_fd, btf_key_type_id: 1, btf_value_type_id: 5, ..attr(MapType::Array, 4, 8, 2, 0) };
    let fd = t.call(Cmd::MapCreate, &a);
    assert!(fd >= 3);
    let i = info(&t, fd as u32);
    assert_eq!((i.btf_id, i.btf_key_type_id, i.btf_value_type_id), (btf_id, 1, 5));
    // The map keeps the BTF object alive after its fd is closed.
    t.h.close(btf_fd);
    assert!(reg.btf(btf_id).is_some());
    t.h.close(fd as u32);
    assert!(reg.btf(btf_id).is_none());
    // Kernel BTF cannot describe a map.
    let vmlinux = BtfObj::new(&reg, vec![0; 24], b"vmlinux".to_vec(), true).unwrap();
    let kfd = t.h.install_object(BpfObject::Btf(vmlinux), FileMode::ReadOnly);
    let a = MapCreateAttr { btf_fd: kfd, btf_value_type_id: 1, ..attr(MapType::Array, 4, 8, 2, 0) };
    assert_eq!(t.call(Cmd::MapCreate, &a), e(Errno::EACCES));
    // A map fd is not a BTF fd.
    let map_fd = t.map(MapType::Array, 4, 8, 2, 0);
    let a = MapCreateAttr { btf_fd: map_fd, btf_value_type_id: 1, ..attr(MapType::Array, 4, 8, 2, 0) };
    assert_eq!(t.call(Cmd::MapCreate, &a), e(Errno::EINVAL));
    t.assert_all_freed();
}

#[test]
fn map_in_map_takes_its_template_from_inner_map_fd() {
    let t = T::new();
    let inner = t.map(MapType::Array, 4, 8, 4, 0);
    let outer = MapCreateAttr { inner_map_fd: inner, ..attr(MapType::ArrayOfMaps, 4, 4, 2, 0) };
    assert!(t.call(Cmd::MapCreate, &outer) >= 3);
    // Closed, non-map and nested templates.
    assert_eq!(t.call(Cmd::MapCreate, &MapCreateAttr { inner_map_fd: 999, ..outer }), e(Errno::EBADF));
    assert_eq!(t.call(Cmd::MapCreate, &MapCreateAttr { inner_map_fd: 1, ..outer }), e(Errno::EINVAL));
    let aom = t.call(Cmd::MapCreate, &outer) as u32;
    assert_eq!(t.call(Cmd::MapCreate, &MapCreateAttr { inner_map_fd: aom, ..outer }), e(Errno::EINVAL));
    // value_size must be 4 (an fd).
    assert_eq!(t.call(Cmd::MapCreate, &MapCreateAttr { value_size: 8, ..outer }), e(Errno::EINVAL));
    // A prog_array cannot be a template.
    let pa = t.map(MapType::ProgArray, 4, 4, 2, 0);
    assert_eq!(t.call(Cmd::MapCreate, &MapCreateAttr { inner_map_fd: pa, ..outer }), e(Errno::ENOTSUPP));
    t.assert_all_freed();
}
