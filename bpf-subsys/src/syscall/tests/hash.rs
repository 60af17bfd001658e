//! Hash maps through the syscall. `maps::hashtab` is still a placeholder in the main tree, so
//! these tests are ignored until it lands (`cargo test -- --ignored` runs them).

use core::mem::offset_of;
use std::collections::BTreeSet;

use syscall_abi::bpf::{
    Cmd, MapBatchAttr, MapCreateAttr, MapType, BPF_ANY, BPF_EXIST, BPF_F_NO_PREALLOC, BPF_F_ZERO_SEED, BPF_NOEXIST,
};
use syscall_abi::Errno;

use super::lifetime::map_of;
use super::{e, u32b, u64b, CPUS, T};

fn batch(t: &T, cmd: Cmd, a: &MapBatchAttr) -> (isize, u32) {
    let (r, addr) = t.call_at(cmd, a);
    (r, t.h.get(addr + offset_of!(MapBatchAttr, count) as u64))
}

#[test]
fn hash_element_commands() {
    let t = T::new();
    for flags in [0, BPF_F_NO_PREALLOC] {
        let fd = t.map(MapType::Hash, 4, 8, 3, flags);
        assert_eq!(t.next_key(fd, None, 4), Err(e(Errno::ENOENT)));
        assert_eq!(t.update(fd, &u32b(7), &u64b(70), BPF_EXIST), e(Errno::ENOENT));
        assert_eq!(t.update(fd, &u32b(7), &u64b(70), BPF_NOEXIST), 0);
        assert_eq!(t.update(fd, &u32b(7), &u64b(71), BPF_NOEXIST), e(Errno::EEXIST));
        assert_eq!(t.update(fd, &u32b(8), &u64b(80), BPF_ANY), 0);
        assert_eq!(t.update(fd, &u32b(9), &u64b(90), BPF_ANY), 0);
        assert_eq!(t.update(fd, &u32b(10), &u64b(100), BPF_ANY), e(Errno::E2BIG));
        assert_eq!(t.lookup(fd, &u32b(8), 8), Ok(u64b(80)));
        assert_eq!(t.lookup(fd, &u32b(10), 8), Err(e(Errno::ENOENT)));
        // Walk every key with GET_NEXT_KEY.
        let mut seen = BTreeSet::new();
        let mut key = t.next_key(fd, None, 4).unwrap();
        loop {
            seen.insert(u32::from_ne_bytes(key[..4].try_into().unwrap()));
            match t.next_key(fd, Some(&key), 4) {
                Ok(next) => key = next,
                Err(r) => {
                    assert_eq!(r, e(Errno::ENOENT));
                    break;
                }
            }
        }
        assert_eq!(seen, BTreeSet::from([7, 8, 9]));
        assert_eq!(t.pop(fd, &u32b(8), 8, 0), Ok(u64b(80)));
        assert_eq!(t.lookup(fd, &u32b(8), 8), Err(e(Errno::ENOENT)));
        assert_eq!(t.delete(fd, &u32b(8)), e(Errno::ENOENT));
        assert_eq!(t.delete(fd, &u32b(9)), 0);
    }
    t.assert_all_freed();
}

#[test]
fn percpu_and_lru_hashes() {
    let t = T::new();
    let fd = t.map(MapType::PercpuHash, 4, 4, 4, 0);
    let len = 8 * CPUS as usize;
    let value: std::vec::Vec<u8> = (0..len as u8).collect();
    assert_eq!(t.update(fd, &u32b(1), &value, BPF_ANY), 0);
    assert_eq!(t.lookup(fd, &u32b(1), len), Ok(value));
    // LRU: a full map evicts instead of failing.
    let lru = t.map(MapType::LruHash, 4, 8, 64, 0);
    for k in 0..200u32 {
        assert_eq!(t.update(lru, &u32b(k), &u64b(u64::from(k)), BPF_ANY), 0, "key {k}");
    }
    assert_eq!(t.lookup(lru, &u32b(199), 8), Ok(u64b(199)));
    t.assert_all_freed();
}

#[test]
fn hash_batches_continue_from_a_bucket_index() {
    let t = T::new();
    let fd = t.map(MapType::Hash, 4, 8, 64, 0);
    for k in 0..40u32 {
        assert_eq!(t.update(fd, &u32b(k), &u64b(u64::from(k) * 3), BPF_ANY), 0);
    }
    let (keys, values) = (t.h.alloc(4 * 64), t.h.alloc(8 * 64));
    let (in_batch, out_batch) = (t.h.alloc(4), t.h.alloc(4));
    let mut found = BTreeSet::new();
    let mut a = MapBatchAttr { map_fd: fd, keys, values, out_batch, count: 8, ..MapBatchAttr::ZERO };
    loop {
        let (r, n) = batch(&t, Cmd::MapLookupBatch, &a);
        for i in 0..n as u64 {
            let k: u32 = t.h.get(keys + 4 * i);
            let v: u64 = t.h.get(values + 8 * i);
            assert_eq!(v, u64::from(k) * 3);
            assert!(found.insert(k), "key {k} returned twice");
        }
        if r == e(Errno::ENOENT) {
            break;
        }
        assert_eq!(r, 0);
        // The position is a u32 bucket index.
        t.h.write(in_batch, &t.h.read(out_batch, 4));
        a.in_batch = in_batch;
    }
    assert_eq!(found.len(), 40);
    // batch.flags must be zero for hash maps.
    assert_eq!(batch(&t, Cmd::MapLookupBatch, &MapBatchAttr { flags: 1, in_batch: 0, ..a }).0, e(Errno::EINVAL));
    // Delete ten keys by batch, then take the rest with lookup_and_delete.
    let del = MapBatchAttr {
        map_fd: fd,
        keys: t.h.put_bytes(&(0..10u32).flat_map(u32::to_ne_bytes).collect::<std::vec::Vec<_>>()),
        count: 10,
        ..MapBatchAttr::ZERO
    };
    assert_eq!(batch(&t, Cmd::MapDeleteBatch, &del), (0, 10));
    assert_eq!(batch(&t, Cmd::MapDeleteBatch, &MapBatchAttr { count: 1, ..del }), (e(Errno::ENOENT), 0));
    let take = MapBatchAttr { map_fd: fd, keys, values, out_batch, count: 64, ..MapBatchAttr::ZERO };
    assert_eq!(batch(&t, Cmd::MapLookupAndDeleteBatch, &take), (e(Errno::ENOENT), 30));
    assert_eq!(t.next_key(fd, None, 4), Err(e(Errno::ENOENT)));
    t.assert_all_freed();
}

#[test]
fn hash_of_maps_and_zero_seed() {
    let t = T::new();
    let inner = t.map(MapType::Array, 4, 4, 2, 0);
    let a = MapCreateAttr {
        map_type: MapType::HashOfMaps.into(),
        key_size: 8,
        value_size: 4,
        max_entries: 4,
        inner_map_fd: inner,
        ..MapCreateAttr::ZERO
    };
    let outer = t.call(Cmd::MapCreate, &a);
    assert!(outer >= 3);
    assert_eq!(t.update(outer as u32, &u64b(1), &u32b(inner), BPF_ANY), 0);
    assert_eq!(t.lookup(outer as u32, &u64b(1), 4), Ok(u32b(map_of(&t, inner).id())));
    // With CAP_SYS_ADMIN, BPF_F_ZERO_SEED is accepted.
    assert!(t.create(MapType::Hash, 4, 4, 4, BPF_F_ZERO_SEED) >= 3);
    t.assert_all_freed();
}
