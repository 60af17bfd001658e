//! Crate-level tests: the dispatch in `create`, and that every map type of the foundation
//! issue exists and round-trips a value through the trait.

use alloc::sync::Arc;

use syscall_abi::bpf::*;
use syscall_abi::Errno;

use crate::test_host::{attr, TestHost, TestObj};
use crate::{create, reclaim, FdKind, MapAttr};

fn errno_of(a: &MapAttr) -> Option<Errno> {
    let host = TestHost::new(4).dyn_host();
    create(a, &host).err().map(|e| e.errno)
}

#[test]
fn unknown_and_unsupported_types_are_einval() {
    let mut a = attr(MapType::Hash, 4, 4, 4, 0);
    a.map_type = None;
    assert_eq!(errno_of(&a), Some(Errno::EINVAL));
    for ty in [MapType::Unspec, MapType::Sockmap, MapType::StructOps, MapType::UserRingbuf] {
        assert_eq!(errno_of(&attr(ty, 4, 4, 4, 0)), Some(Errno::EINVAL), "{ty:?}");
    }
}

#[test]
fn rdonly_with_wronly_is_einval() {
    assert_eq!(errno_of(&attr(MapType::Hash, 4, 4, 4, BPF_F_RDONLY | BPF_F_WRONLY)), Some(Errno::EINVAL));
    assert_eq!(errno_of(&attr(MapType::Array, 4, 4, 4, BPF_F_RDONLY | BPF_F_WRONLY)), Some(Errno::EINVAL));
}

#[test]
fn map_extra_only_for_bloom_filter() {
    let mut a = attr(MapType::Hash, 4, 4, 4, 0);
    a.map_extra = 1;
    assert_eq!(errno_of(&a), Some(Errno::EINVAL));
    let mut b = attr(MapType::BloomFilter, 0, 4, 16, 0);
    b.map_extra = 3;
    assert_eq!(errno_of(&b), None);
}

/// Every type the foundation issue lists: create it with valid attributes, store one value
/// the way user space would, and read it back (or its type's equivalent).
#[test]
fn every_map_type_exists_and_round_trips() {
    let host = TestHost::new(2);
    let h = host.dyn_host();
    let key = 1u32.to_ne_bytes();
    let val = 0x1122_3344u32.to_ne_bytes();
    let pcpu_val = [0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0];

    // Keyed maps with plain values.
    for ty in [MapType::Array, MapType::Hash, MapType::LruHash] {
        let m = create(&attr(ty, 4, 4, 8, 0), &h).unwrap_or_else(|e| panic!("{ty:?}: {e:?}"));
        m.update(&key, &val, BPF_ANY).unwrap();
        let mut out = [0u8; 4];
        m.lookup(&key, &mut out, 0).unwrap();
        assert_eq!(out, val, "{ty:?}");
        let _g = reclaim::read_lock();
        assert!(m.prog_lookup(&key, &_g).is_some(), "{ty:?}");
    }
    // Per-CPU maps: one 8-byte slot per CPU to user space.
    for ty in [MapType::PercpuArray, MapType::PercpuHash, MapType::LruPercpuHash] {
        let m = create(&attr(ty, 4, 4, 8, 0), &h).unwrap_or_else(|e| panic!("{ty:?}: {e:?}"));
        assert_eq!(m.syscall_value_size(), 16, "{ty:?}");
        m.update(&key, &pcpu_val, BPF_ANY).unwrap();
        let mut out = [0u8; 16];
        m.lookup(&key, &mut out, 0).unwrap();
        assert_eq!(out, pcpu_val, "{ty:?}");
    }
    // Queue and stack: push and pop.
    for ty in [MapType::Queue, MapType::Stack] {
        let m = create(&attr(ty, 0, 4, 8, 0), &h).unwrap_or_else(|e| panic!("{ty:?}: {e:?}"));
        m.push(&val, BPF_ANY).unwrap();
        let mut out = [0u8; 4];
        m.pop(&mut out).unwrap();
        assert_eq!(out, val, "{ty:?}");
    }
    // Bloom filter: an added value is found.
    let m = create(&attr(MapType::BloomFilter, 0, 4, 64, 0), &h).unwrap();
    m.push(&val, BPF_ANY).unwrap();
    let mut probe = val;
    m.peek(&mut probe).unwrap();
    // LPM trie: a /32 key.
    let m = create(&attr(MapType::LpmTrie, 8, 4, 8, BPF_F_NO_PREALLOC), &h).unwrap();
    let lpm_key = [32, 0, 0, 0, 10, 0, 0, 1];
    m.update(&lpm_key, &val, BPF_ANY).unwrap();
    let mut out = [0u8; 4];
    m.lookup(&lpm_key, &mut out, 0).unwrap();
    assert_eq!(out, val);
    // Ring buffer: a record goes in.
    let m = create(&attr(MapType::Ringbuf, 0, 0, 4096, 0), &h).unwrap();
    let rb = m.as_any().downcast_ref::<crate::RingBuf>().expect("ringbuf type");
    rb.output(&val, 0).unwrap();
    // fd maps: the stored object's id comes back.
    for (ty, kind) in [(MapType::ProgArray, FdKind::Prog), (MapType::PerfEventArray, FdKind::PerfEvent)] {
        let m = create(&attr(ty, 4, 4, 4, 0), &h).unwrap_or_else(|e| panic!("{ty:?}: {e:?}"));
        let fd = host.install_fd(kind, TestObj::plain(77));
        m.update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), BPF_ANY).unwrap();
    }
    let inner = create(&attr(MapType::Array, 4, 4, 4, 0), &h).unwrap();
    let inner_def = *inner.def();
    let fd = host.install_map(inner, 99);
    for ty in [MapType::ArrayOfMaps, MapType::HashOfMaps] {
        let mut a = attr(ty, 4, 4, 4, 0);
        a.inner_map = Some(inner_def);
        let m = create(&a, &h).unwrap_or_else(|e| panic!("{ty:?}: {e:?}"));
        m.update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), BPF_ANY).unwrap();
        let mut id = [0u8; 4];
        m.lookup(&0u32.to_ne_bytes(), &mut id, 0).unwrap();
        assert_eq!(u32::from_ne_bytes(id), 99, "{ty:?}");
    }
    let _ = Arc::strong_count(&h);
}
