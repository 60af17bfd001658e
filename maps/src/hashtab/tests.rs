//! Hash map tests: creation checks, update flags, fullness, per-CPU layout, iteration,
//! lookup-and-delete, batches, `hash_of_maps`, `BPF_F_LOCK`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::vec::Vec;

use syscall_abi::bpf::*;
use syscall_abi::Errno;

use super::{elem, HashMap};
use crate::test_host::{attr, def_of, TestHost, TestObj};
use crate::{create, reclaim, BpfMap, FdKind, LookupBatch, MapAttr, MapDef, MapHost};

pub(super) fn k(i: u32) -> [u8; 4] {
    i.to_ne_bytes()
}

pub(super) fn v(i: u64) -> [u8; 8] {
    i.to_ne_bytes()
}

pub(super) fn new_map(host: &Arc<TestHost>, a: &MapAttr) -> Arc<dyn BpfMap> {
    create(a, &host.dyn_host()).unwrap_or_else(|e| panic!("create {a:?}: {e:?}"))
}

pub(super) fn hm(m: &Arc<dyn BpfMap>) -> &HashMap {
    m.as_any().downcast_ref::<HashMap>().expect("a HashMap")
}

/// Every key, by walking `get_next_key` from the start.
pub(super) fn keys_of(m: &dyn BpfMap) -> Vec<Vec<u8>> {
    let ks = m.def().key_size as usize;
    let mut out = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    loop {
        let mut next = std::vec![0u8; ks];
        match m.get_next_key(cur.as_deref(), &mut next) {
            Ok(()) => {
                out.push(next.clone());
                cur = Some(next);
            }
            Err(e) => {
                assert_eq!(e.errno, Errno::ENOENT);
                return out;
            }
        }
        assert!(out.len() <= m.def().max_entries as usize, "iteration does not end");
    }
}

fn errno_of(a: &MapAttr) -> Option<Errno> {
    create(a, &TestHost::new(4).dyn_host()).err().map(|e| e.errno)
}

const DATA_TYPES: [MapType; 4] = [MapType::Hash, MapType::PercpuHash, MapType::LruHash, MapType::LruPercpuHash];

#[test]
fn bad_create_attributes_per_type() {
    // (type, key_size, value_size, max_entries, flags) → errno, as htab_map_alloc_check and
    // htab_map_alloc of Linux 6.1 decide.
    let kmax = 4_194_304 - 48; // KMALLOC_MAX_SIZE - sizeof(struct htab_elem)
    for ty in DATA_TYPES {
        let lru = matches!(ty, MapType::LruHash | MapType::LruPercpuHash);
        let percpu = matches!(ty, MapType::PercpuHash | MapType::LruPercpuHash);
        let cases: &[(u32, u32, u32, u32, Option<Errno>)] = &[
            (0, 8, 16, 0, Some(Errno::EINVAL)),
            (4, 0, 16, 0, Some(Errno::EINVAL)),
            (4, 8, 0, 0, Some(Errno::EINVAL)),
            (4, 8, 16, BPF_F_MMAPABLE, Some(Errno::EINVAL)),
            (4, 8, 16, BPF_F_INNER_MAP, Some(Errno::EINVAL)),
            (4, 8, 16, 1 << 20, Some(Errno::EINVAL)),
            (4, 8, 16, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, Some(Errno::EINVAL)),
            (4, 8, 16, BPF_F_RDONLY_PROG | BPF_F_ZERO_SEED | BPF_F_RDONLY, None),
            (4, 8, 16, BPF_F_NO_COMMON_LRU, if lru { None } else { Some(Errno::EINVAL) }),
            (4, 8, 16, BPF_F_NO_PREALLOC, if lru { Some(Errno::ENOTSUPP) } else { None }),
            (4, 8, 16, BPF_F_NUMA_NODE, if percpu { Some(Errno::EINVAL) } else { None }),
            (4, 8, 16, BPF_F_NUMA_NODE | BPF_F_NO_COMMON_LRU, Some(Errno::EINVAL)),
            // Linux 5.11 lifted the MAX_BPF_STACK bound on keys; key + value is bounded.
            (600, 8, 16, 0, None),
            (1, kmax, 16, 0, Some(Errno::E2BIG)),
            (kmax - 1, 1, 16, 0, Some(Errno::E2BIG)),
            (4, 32_768, 16, 0, None),
            (4, 32_769, 16, 0, if percpu { Some(Errno::E2BIG) } else { None }),
            (4, 8, (1 << 27) + 1, 0, Some(Errno::E2BIG)),
            (4, 8, u32::MAX, 0, Some(Errno::E2BIG)),
        ];
        for &(ks, vs, max, flags, want) in cases {
            let got = errno_of(&attr(ty, ks, vs, max, flags));
            assert_eq!(got, want, "{ty:?} key {ks} value {vs} max {max} flags {flags:#x}");
        }
        if !percpu {
            assert_eq!(errno_of(&attr(ty, 1, kmax - 2, 16, 0)), None, "{ty:?}: largest key + value");
        }
        // bpf_spin_lock: plain hash only (map_check_btf), inside the value, 4-aligned.
        for (off, want) in [(0, None), (4, None), (2, Some(Errno::EINVAL)), (8, Some(Errno::EFAULT))] {
            let mut a = attr(ty, 4, 8, 16, 0);
            a.spin_lock_off = Some(off);
            let want = if ty == MapType::Hash { want } else { Some(Errno::ENOTSUPP) };
            assert_eq!(errno_of(&a), want, "{ty:?} spin lock at {off}");
        }
    }
}

#[test]
fn bad_create_attributes_hash_of_maps() {
    let template = def_of(&attr(MapType::Hash, 4, 8, 16, 0));
    let nested = MapDef { map_type: MapType::HashOfMaps, ..template };
    let with = |ks, vs, max, flags, inner: Option<MapDef>| {
        let mut a = attr(MapType::HashOfMaps, ks, vs, max, flags);
        a.inner_map = inner;
        errno_of(&a)
    };
    assert_eq!(with(4, 4, 4, 0, Some(template)), None);
    assert_eq!(with(4, 8, 4, 0, Some(template)), Some(Errno::EINVAL), "value is a u32 fd");
    assert_eq!(with(4, 4, 4, 0, None), Some(Errno::EINVAL), "no inner map");
    assert_eq!(with(4, 4, 4, 0, Some(nested)), Some(Errno::EINVAL), "nested");
    assert_eq!(with(4, 4, 4, BPF_F_NO_COMMON_LRU, Some(template)), Some(Errno::EINVAL));
    assert_eq!(with(0, 4, 4, 0, Some(template)), Some(Errno::EINVAL));
    assert_eq!(with(4, 4, 0, 0, Some(template)), Some(Errno::EINVAL));
    assert_eq!(with(4, 4, u32::MAX, 0, Some(template)), Some(Errno::E2BIG));
    let locked = MapDef { spin_lock_off: Some(0), ..template };
    assert_eq!(with(4, 4, 4, 0, Some(locked)), Some(Errno::ENOTSUPP), "inner map with a spin lock");
    let mut a = attr(MapType::HashOfMaps, 4, 4, 4, 0);
    a.inner_map = Some(template);
    a.spin_lock_off = Some(0);
    assert_eq!(errno_of(&a), Some(Errno::ENOTSUPP), "outer map with a spin lock");
}

#[test]
fn created_definition_and_percpu_lru_rounding() {
    let host = TestHost::new(3);
    let m = new_map(&host, &attr(MapType::Hash, 4, 8, 100, BPF_F_NO_PREALLOC));
    assert_eq!(m.def().max_entries, 100);
    assert_eq!(hm(&m).heads.len(), 128, "roundup_pow_of_two(max_entries) buckets");
    // BPF_F_NO_COMMON_LRU: max_entries rounded up to a multiple of the CPUs.
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 100, BPF_F_NO_COMMON_LRU));
    assert_eq!(m.def().max_entries, 102);
    let m = new_map(&host, &attr(MapType::LruPercpuHash, 4, 8, 1, BPF_F_NO_COMMON_LRU));
    assert_eq!(m.def().max_entries, 3);
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 100, 0));
    assert_eq!(m.def().max_entries, 100);
}

#[test]
fn update_flags_per_type() {
    let host = TestHost::new(2);
    for ty in DATA_TYPES {
        let m = new_map(&host, &attr(ty, 4, 8, 16, 0));
        let val = std::vec![7u8; m.syscall_value_size()];
        assert_eq!(m.update(&k(1), &val, BPF_EXIST).unwrap_err().errno, Errno::ENOENT, "{ty:?}");
        m.update(&k(1), &val, BPF_NOEXIST).unwrap();
        assert_eq!(m.update(&k(1), &val, BPF_NOEXIST).unwrap_err().errno, Errno::EEXIST, "{ty:?}");
        m.update(&k(1), &val, BPF_EXIST).unwrap();
        m.update(&k(1), &val, BPF_ANY).unwrap();
        for bad in [3, 8, 1 << 32, BPF_F_LOCK, BPF_F_LOCK | BPF_EXIST] {
            assert_eq!(m.update(&k(1), &val, bad).unwrap_err().errno, Errno::EINVAL, "{ty:?} flags {bad:#x}");
            assert_eq!(m.prog_update(&k(1), &v(1), bad).unwrap_err().errno, Errno::EINVAL, "{ty:?} flags {bad:#x}");
        }
        assert_eq!(m.prog_update(&k(2), &v(2), BPF_EXIST).unwrap_err().errno, Errno::ENOENT, "{ty:?}");
        m.prog_update(&k(2), &v(2), BPF_NOEXIST).unwrap();
        assert_eq!(m.prog_update(&k(2), &v(2), BPF_NOEXIST).unwrap_err().errno, Errno::EEXIST, "{ty:?}");
        // Wrong sizes from a buggy caller are EINVAL, never a panic.
        assert_eq!(m.update(&k(1), &val[1..], BPF_ANY).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(m.update(&[1, 2, 3], &val, BPF_ANY).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(m.lookup(&k(1), &mut [0u8; 3], 0).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(m.lookup(&k(1), &mut std::vec![0u8; val.len()], 1).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(m.lookup(&k(1), &mut std::vec![0u8; val.len()], BPF_F_LOCK).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(m.delete(&k(9)).unwrap_err().errno, Errno::ENOENT);
        m.delete(&k(1)).unwrap();
        assert_eq!(m.lookup(&k(1), &mut std::vec![0u8; val.len()], 0).unwrap_err().errno, Errno::ENOENT);
        m.prog_delete(&k(2)).unwrap();
        assert_eq!(m.prog_delete(&k(2)).unwrap_err().errno, Errno::ENOENT);
    }
}

#[test]
fn full_map_is_e2big_but_replacing_works() {
    let host = TestHost::new(2);
    for ty in [MapType::Hash, MapType::PercpuHash] {
        let m = new_map(&host, &attr(ty, 4, 8, 4, BPF_F_NO_PREALLOC));
        let val = std::vec![1u8; m.syscall_value_size()];
        for i in 0..4 {
            m.update(&k(i), &val, BPF_ANY).unwrap();
        }
        assert_eq!(m.update(&k(4), &val, BPF_ANY).unwrap_err().errno, Errno::E2BIG, "{ty:?}");
        assert_eq!(m.prog_update(&k(4), &v(1), BPF_NOEXIST).unwrap_err().errno, Errno::E2BIG, "{ty:?}");
        // EXIST on a missing key is ENOENT before the fullness check.
        assert_eq!(m.update(&k(4), &val, BPF_EXIST).unwrap_err().errno, Errno::ENOENT);
        m.update(&k(3), &val, BPF_ANY).unwrap();
        m.update(&k(3), &val, BPF_EXIST).unwrap();
        m.delete(&k(0)).unwrap();
        m.update(&k(4), &val, BPF_ANY).unwrap();
        assert_eq!(hm(&m).count.load(core::sync::atomic::Ordering::Relaxed), 4);
        assert_eq!(keys_of(&*m).len(), 4);
    }
}

#[test]
fn values_round_trip_and_addresses_are_stable_and_aligned() {
    let host = TestHost::new(2);
    let m = new_map(&host, &attr(MapType::Hash, 5, 12, 64, 0));
    let key = [1u8, 2, 3, 4, 5];
    let val: [u8; 12] = core::array::from_fn(|i| i as u8 + 1);
    m.update(&key, &val, BPF_ANY).unwrap();
    let mut out = [0u8; 12];
    m.lookup(&key, &mut out, 0).unwrap();
    assert_eq!(out, val);
    let g = reclaim::read_lock();
    let p = m.prog_lookup(&key, &g).unwrap();
    assert_eq!(p.as_ptr() as usize % 8, 0, "values are 8-aligned");
    assert_eq!(m.prog_lookup(&key, &g), Some(p));
    // SAFETY: the value is 12 bytes and live under `g`.
    unsafe { *p.as_ptr().add(11) = 0xEE };
    m.lookup(&key, &mut out, 0).unwrap();
    assert_eq!(out[11], 0xEE, "a program's store is what the syscall reads");
    assert!(m.prog_lookup(&[9, 9, 9, 9, 9], &g).is_none());
    assert!(m.prog_lookup(&[1, 2, 3, 4], &g).is_none(), "wrong key length");
    drop(g);
    assert!(m.memory_usage() >= 64 * 12 + hm(&m).shape.elem_size());
}

#[test]
fn percpu_layout_with_three_cpus() {
    let host = TestHost::new(3);
    host.set_cpu(1);
    for ty in [MapType::PercpuHash, MapType::LruPercpuHash] {
        // value_size 12 → a 16-byte slot per CPU for user space.
        let m = new_map(&host, &attr(ty, 4, 12, 8, 0));
        assert_eq!(m.syscall_value_size(), 48);
        let all: Vec<u8> = (0..48).map(|i| i as u8).collect();
        m.update(&k(1), &all, BPF_ANY).unwrap();
        let mut out = [0u8; 48];
        m.lookup(&k(1), &mut out, 0).unwrap();
        assert_eq!(&out[..], &all[..], "{ty:?}: every CPU's slot, padding included");
        let g = reclaim::read_lock();
        let p = m.prog_lookup(&k(1), &g).unwrap();
        // SAFETY: CPU 1's copy is 12 bytes, live under `g`.
        let mine = unsafe { core::slice::from_raw_parts(p.as_ptr(), 12) };
        assert_eq!(mine, &all[16..28], "{ty:?}: the program sees its CPU's copy");
        let hmap = hm(&m);
        assert_eq!(hmap.prog_lookup_percpu(&k(1), 2, &g).map(|q| q.as_ptr() as usize), Some(p.as_ptr() as usize + 16));
        assert!(hmap.prog_lookup_percpu(&k(1), 3, &g).is_none(), "not a possible CPU");
        drop(g);
        // A program update writes only this CPU's copy.
        m.prog_update(&k(1), &[0xAB; 12], BPF_EXIST).unwrap();
        m.lookup(&k(1), &mut out, 0).unwrap();
        assert_eq!(&out[..16], &all[..16]);
        assert_eq!(&out[16..28], &[0xAB; 12]);
        assert_eq!(&out[28..], &all[28..], "{ty:?}: padding and other CPUs untouched");
        // A new element from a program: the other CPUs' copies are zero.
        m.prog_update(&k(2), &[0xCD; 12], BPF_NOEXIST).unwrap();
        m.lookup(&k(2), &mut out, 0).unwrap();
        let mut want = [0u8; 48];
        want[16..28].fill(0xCD);
        assert_eq!(out, want, "{ty:?}");
        // lookup_and_delete returns every CPU's copy.
        let mut out2 = [0u8; 48];
        m.lookup_and_delete(Some(&k(2)), &mut out2, 0).unwrap();
        assert_eq!(out2, want);
        assert_eq!(m.lookup(&k(2), &mut out, 0).unwrap_err().errno, Errno::ENOENT);
        assert_eq!(m.update(&k(3), &[0u8; 12], BPF_ANY).unwrap_err().errno, Errno::EINVAL, "syscall needs all CPUs");
    }
}

#[test]
fn get_next_key_visits_every_key_once() {
    let host = TestHost::new(2);
    for ty in DATA_TYPES {
        let m = new_map(&host, &attr(ty, 4, 8, 1000, 0));
        let mut first = [0u8; 4];
        assert_eq!(m.get_next_key(None, &mut first).unwrap_err().errno, Errno::ENOENT, "empty");
        let val = std::vec![0u8; m.syscall_value_size()];
        for i in 0..1000 {
            m.update(&k(i * 7), &val, BPF_NOEXIST).unwrap();
        }
        let keys = keys_of(&*m);
        assert_eq!(keys.len(), 1000, "{ty:?}");
        let set: BTreeSet<u32> = keys.iter().map(|kk| u32::from_ne_bytes(kk[..].try_into().unwrap())).collect();
        assert_eq!(set, (0..1000).map(|i| i * 7).collect(), "{ty:?}");
        // A missing key restarts from the first key; the last key ends the walk.
        m.get_next_key(None, &mut first).unwrap();
        let mut again = [0u8; 4];
        m.get_next_key(Some(&k(5)), &mut again).unwrap();
        assert_eq!(again, first);
        let last = keys.last().unwrap();
        assert_eq!(m.get_next_key(Some(last), &mut again).unwrap_err().errno, Errno::ENOENT);
        // Bucket order: the bucket index of successive keys never decreases.
        let b = |kk: &Vec<u8>| hm(&m).bucket(hm(&m).hash(kk));
        assert!(keys.windows(2).all(|w| b(&w[0]) <= b(&w[1])), "{ty:?}: iteration goes bucket by bucket");
    }
}

#[test]
fn lookup_and_delete_elem() {
    let host = TestHost::new(2);
    for ty in [MapType::Hash, MapType::LruHash] {
        let m = new_map(&host, &attr(ty, 4, 8, 8, 0));
        m.update(&k(1), &v(11), BPF_ANY).unwrap();
        m.update(&k(2), &v(22), BPF_ANY).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(m.lookup_and_delete(Some(&k(1)), &mut out, 1).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(m.lookup_and_delete(Some(&k(1)), &mut out, BPF_F_LOCK).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(m.lookup_and_delete(None, &mut out, 0).unwrap_err().errno, Errno::EINVAL);
        m.lookup_and_delete(Some(&k(1)), &mut out, 0).unwrap();
        assert_eq!(out, v(11));
        assert_eq!(m.lookup_and_delete(Some(&k(1)), &mut out, 0).unwrap_err().errno, Errno::ENOENT);
        assert_eq!(keys_of(&*m), std::vec![k(2).to_vec()]);
        assert_eq!(hm(&m).count.load(core::sync::atomic::Ordering::Relaxed), 1);
    }
}

fn batch_lookup(
    m: &dyn BpfMap,
    token: Option<u32>,
    count: u32,
    delete: bool,
) -> (crate::BatchOutcome, u32, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (ks, vs) = (m.def().key_size as usize, m.syscall_value_size());
    let mut keys = std::vec![0u8; ks * count as usize];
    let mut values = std::vec![0u8; vs * count as usize];
    let mut out = [0xFFu8; 4];
    let tok = token.map(|t| t.to_ne_bytes());
    let r = m.lookup_batch(
        LookupBatch {
            in_batch: tok.as_ref().map(|t| &t[..]),
            out_batch: &mut out,
            keys: &mut keys,
            values: &mut values,
            count,
            elem_flags: 0,
        },
        delete,
    );
    let n = r.count as usize;
    let ks_out = keys.chunks(ks).take(n).map(|c| c.to_vec()).collect();
    let vs_out = values.chunks(vs).take(n).map(|c| c.to_vec()).collect();
    (r, u32::from_ne_bytes(out), ks_out, vs_out)
}

#[test]
fn batch_lookup_walks_buckets_in_chunks() {
    let host = TestHost::new(2);
    for ty in DATA_TYPES {
        let m = new_map(&host, &attr(ty, 4, 8, 64, 0));
        let vs = m.syscall_value_size();
        for i in 0..40u32 {
            m.update(&k(i), &std::vec![i as u8; vs], BPF_ANY).unwrap();
        }
        let mut seen = BTreeSet::new();
        let mut token = None;
        let mut calls = 0;
        loop {
            let (r, next, keys, values) = batch_lookup(&*m, token, 8, false);
            calls += 1;
            assert!(r.count <= 8);
            for (kk, vv) in keys.iter().zip(&values) {
                let key = u32::from_ne_bytes(kk[..].try_into().unwrap());
                assert!(seen.insert(key), "{ty:?}: key {key} returned twice");
                assert!(vv.iter().all(|&b| b == key as u8), "{ty:?}: value of key {key}");
            }
            if let Some(t) = token {
                assert!(next > t, "{ty:?}: the token moves on");
            }
            match r.result {
                Ok(()) => token = Some(next),
                Err(e) => {
                    assert_eq!(e.errno, Errno::ENOENT, "{ty:?}");
                    assert_eq!(next, 64, "{ty:?}: out_batch is n_buckets at the end");
                    break;
                }
            }
            assert!(calls < 64);
        }
        assert_eq!(seen, (0..40).collect(), "{ty:?}");
        // Past the end: ENOENT, nothing counted.
        let (r, _, _, _) = batch_lookup(&*m, Some(64), 8, false);
        assert_eq!((r.count, r.result.unwrap_err().errno), (0, Errno::ENOENT));
        // count 0 returns at once.
        let (r, next, _, _) = batch_lookup(&*m, None, 0, false);
        assert_eq!((r.count, r.result, next), (0, Ok(()), u32::from_ne_bytes([0xFF; 4])));
        // A big enough count gets everything in one call, ending with ENOENT.
        let (r, _, keys, _) = batch_lookup(&*m, None, 64, false);
        assert_eq!((r.count, keys.len(), r.result.unwrap_err().errno), (40, 40, Errno::ENOENT));
        // The delete variant empties the map.
        let (r, _, keys, _) = batch_lookup(&*m, None, 64, true);
        assert_eq!((r.count, keys.len()), (40, 40));
        assert!(keys_of(&*m).is_empty(), "{ty:?}");
        assert_eq!(hm(&m).count.load(core::sync::atomic::Ordering::Relaxed), 0);
    }
}

#[test]
fn batch_lookup_enospc_when_a_bucket_does_not_fit() {
    let host = TestHost::new(2);
    // Two buckets, zero seed: find two keys that share a bucket.
    let m = new_map(&host, &attr(MapType::Hash, 4, 8, 2, BPF_F_ZERO_SEED));
    let seed = elem::expand_seed(0);
    let b0 = elem::hash_key(&k(0), seed) & 1;
    let other = (1..100).find(|&i| elem::hash_key(&k(i), seed) & 1 == b0).unwrap();
    m.update(&k(0), &v(0), BPF_ANY).unwrap();
    m.update(&k(other), &v(1), BPF_ANY).unwrap();
    let (r, next, _, _) = batch_lookup(&*m, None, 1, false);
    assert_eq!((r.count, r.result.unwrap_err().errno), (0, Errno::ENOSPC));
    assert_eq!(next, b0, "out_batch names the bucket to retry");
    let (r, _, keys, _) = batch_lookup(&*m, Some(next), 2, true);
    assert_eq!(keys.len(), 2);
    // Both buckets done (the other one is empty): the end of the map.
    assert_eq!((r.count, r.result.unwrap_err().errno), (2, Errno::ENOENT));
    assert!(keys_of(&*m).is_empty());
}

#[test]
fn batch_update_and_delete() {
    let host = TestHost::new(2);
    let m = new_map(&host, &attr(MapType::Hash, 4, 8, 3, 0));
    let keys: Vec<u8> = (0..4u32).flat_map(k).collect();
    let vals: Vec<u8> = (0..4u64).flat_map(v).collect();
    assert_eq!(m.update_batch(&keys, &vals, 2, BPF_NOEXIST).result.unwrap_err().errno, Errno::EINVAL);
    assert_eq!(m.update_batch(&keys, &vals, 2, BPF_F_LOCK).result.unwrap_err().errno, Errno::EINVAL);
    assert_eq!(m.update_batch(&keys, &vals, 0, 0), crate::BatchOutcome { count: 0, result: Ok(()) });
    let r = m.update_batch(&keys, &vals, 4, 0);
    assert_eq!((r.count, r.result.unwrap_err().errno), (3, Errno::E2BIG), "stops at the first error");
    let mut out = [0u8; 8];
    m.lookup(&k(2), &mut out, 0).unwrap();
    assert_eq!(out, v(2));
    let r = m.update_batch(&keys, &vals[..8], 2, 0);
    assert_eq!((r.count, r.result.unwrap_err().errno), (1, Errno::EFAULT), "short buffer");
    let r = m.delete_batch(&keys, 4, 0);
    assert_eq!((r.count, r.result.unwrap_err().errno), (3, Errno::ENOENT));
    assert!(keys_of(&*m).is_empty());
    assert_eq!(m.delete_batch(&keys, 1, 1).result.unwrap_err().errno, Errno::EINVAL);
}

#[test]
fn hash_of_maps() {
    let host = TestHost::new(2);
    let template = new_map(&host, &attr(MapType::Hash, 4, 8, 16, 0));
    let mut a = attr(MapType::HashOfMaps, 4, 4, 2, 0);
    a.inner_map = Some(*template.def());
    let outer = new_map(&host, &a);
    let inner1 = host.install_map(new_map(&host, &attr(MapType::Hash, 4, 8, 16, 0)), 101);
    let inner2 = host.install_map(new_map(&host, &attr(MapType::Hash, 4, 8, 16, 0)), 102);
    let wrong_value = host.install_map(new_map(&host, &attr(MapType::Hash, 4, 16, 16, 0)), 103);
    let wrong_flags = host.install_map(new_map(&host, &attr(MapType::Hash, 4, 8, 16, BPF_F_NO_PREALLOC)), 104);
    let other_max = host.install_map(new_map(&host, &attr(MapType::Hash, 4, 8, 32, 0)), 106);
    let prog = host.install_fd(FdKind::Prog, TestObj::plain(5));

    assert_eq!(outer.update(&k(0), &wrong_value.to_ne_bytes(), BPF_ANY).unwrap_err().errno, Errno::EINVAL);
    assert_eq!(outer.update(&k(0), &wrong_flags.to_ne_bytes(), BPF_ANY).unwrap_err().errno, Errno::EINVAL);
    // bpf_map_meta_equal does not compare max_entries (only array templates do).
    outer.update(&k(0), &other_max.to_ne_bytes(), BPF_ANY).unwrap();
    outer.delete(&k(0)).unwrap();
    assert_eq!(outer.update(&k(0), &prog.to_ne_bytes(), BPF_ANY).unwrap_err().errno, Errno::EINVAL, "prog fd");
    assert_eq!(outer.update(&k(0), &999u32.to_ne_bytes(), BPF_ANY).unwrap_err().errno, Errno::EBADF);
    assert_eq!(outer.update(&k(0), &inner1.to_ne_bytes(), BPF_F_LOCK).unwrap_err().errno, Errno::EINVAL);
    assert_eq!(outer.update(&k(0), &inner1.to_ne_bytes(), 8).unwrap_err().errno, Errno::EINVAL);
    assert_eq!(outer.update(&k(0), &inner1.to_ne_bytes(), BPF_EXIST).unwrap_err().errno, Errno::ENOENT);
    outer.update(&k(0), &inner1.to_ne_bytes(), BPF_ANY).unwrap();
    outer.update(&k(1), &inner2.to_ne_bytes(), BPF_NOEXIST).unwrap();
    assert_eq!(outer.update(&k(2), &inner2.to_ne_bytes(), BPF_ANY).unwrap_err().errno, Errno::E2BIG);

    let mut id = [0u8; 4];
    outer.lookup(&k(0), &mut id, 0).unwrap();
    assert_eq!(u32::from_ne_bytes(id), 101, "syscall lookup returns the inner map's id");
    let obj = host.resolve_fd(FdKind::Map, inner1).unwrap();
    let g = reclaim::read_lock();
    let p = outer.prog_lookup(&k(0), &g).unwrap();
    assert_eq!(p.as_ptr() as usize, Arc::as_ptr(&obj) as *const () as usize, "programs get the object");
    drop(g);
    assert_eq!(outer.prog_update(&k(0), &inner1.to_ne_bytes(), BPF_ANY).unwrap_err().errno, Errno::EINVAL);
    assert_eq!(outer.prog_delete(&k(0)).unwrap_err().errno, Errno::EINVAL);
    assert_eq!(outer.lookup_and_delete(Some(&k(0)), &mut id, 0).unwrap_err().errno, Errno::ENOTSUPP);
    let g = reclaim::read_lock();
    assert_eq!(outer.for_each(&g, &mut |_, _| core::ops::ControlFlow::Continue(())).unwrap_err().errno, Errno::EINVAL);
    drop(g);

    // Batch lookup returns ids; batch update takes fds.
    let (r, _, keys, values) = batch_lookup(&*outer, None, 2, false);
    assert_eq!(r.count, 2);
    let mut pairs: Vec<(u32, u32)> = keys
        .iter()
        .zip(&values)
        .map(|(kk, vv)| {
            (u32::from_ne_bytes(kk[..].try_into().unwrap()), u32::from_ne_bytes(vv[..].try_into().unwrap()))
        })
        .collect();
    pairs.sort();
    assert_eq!(pairs, std::vec![(0, 101), (1, 102)]);
    let r = outer.update_batch(&[k(0), k(1)].concat(), &[inner2.to_ne_bytes(), inner1.to_ne_bytes()].concat(), 2, 0);
    assert_eq!(r, crate::BatchOutcome { count: 2, result: Ok(()) });
    outer.lookup(&k(0), &mut id, 0).unwrap();
    assert_eq!(u32::from_ne_bytes(id), 102);

    outer.delete(&k(0)).unwrap();
    assert_eq!(outer.lookup(&k(0), &mut id, 0).unwrap_err().errno, Errno::ENOENT);
}

#[test]
fn bpf_f_lock_copies_under_the_value_lock() {
    let host = TestHost::new(2);
    let mut a = attr(MapType::Hash, 4, 16, 8, 0);
    a.spin_lock_off = Some(4);
    let m = new_map(&host, &a);
    let val: [u8; 16] = core::array::from_fn(|i| i as u8 + 1);
    // The lock word of the input is never stored; outputs show it as zero.
    m.update(&k(1), &val, BPF_F_LOCK).unwrap();
    let mut out = [0xFFu8; 16];
    m.lookup(&k(1), &mut out, BPF_F_LOCK).unwrap();
    let mut want = val;
    want[4..8].fill(0);
    assert_eq!(out, want);
    m.lookup(&k(1), &mut out, 0).unwrap();
    assert_eq!(out, want, "the lock word reads as zero without BPF_F_LOCK too");
    assert_eq!(m.update(&k(1), &val, BPF_F_LOCK | BPF_NOEXIST).unwrap_err().errno, Errno::EEXIST);
    assert_eq!(m.update(&k(2), &val, BPF_F_LOCK | BPF_EXIST).unwrap_err().errno, Errno::ENOENT);
    assert_eq!(m.update(&k(1), &val, BPF_F_LOCK | 8).unwrap_err().errno, Errno::EINVAL);

    // BPF_F_LOCK updates in place; a plain update replaces the element.
    let g = reclaim::read_lock();
    let p = m.prog_lookup(&k(1), &g).unwrap();
    m.update(&k(1), &[9u8; 16], BPF_F_LOCK).unwrap();
    assert_eq!(m.prog_lookup(&k(1), &g), Some(p), "in place");
    m.update(&k(1), &[8u8; 16], BPF_ANY).unwrap();
    let q = m.prog_lookup(&k(1), &g).unwrap();
    assert_ne!(q, p, "replaced");
    // SAFETY: the old element is retired, not freed, while `g` lives.
    assert_eq!(unsafe { *p.as_ptr() }, 9, "the old element is still readable");

    // A holder of the value's lock (a program in bpf_spin_lock) blocks BPF_F_LOCK readers.
    // SAFETY: the lock word of the live value, 4-aligned.
    let word = unsafe { core::sync::atomic::AtomicU32::from_ptr(q.as_ptr().add(4).cast::<u32>()) };
    word.store(1, core::sync::atomic::Ordering::Release);
    let (tx, rx) = std::sync::mpsc::channel();
    let m2 = m.clone();
    let t = std::thread::spawn(move || {
        let mut out = [0u8; 16];
        m2.lookup(&k(1), &mut out, BPF_F_LOCK).unwrap();
        tx.send(out).unwrap();
    });
    assert!(rx.recv_timeout(std::time::Duration::from_millis(100)).is_err(), "waited for the lock");
    // SAFETY: the value is live under `g`; the lock is held by this test.
    unsafe { *q.as_ptr() = 0x55 };
    word.store(0, core::sync::atomic::Ordering::Release);
    let out = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    t.join().unwrap();
    assert_eq!(out[0], 0x55);
    assert_eq!(&out[4..8], &[0; 4]);
    drop(g);

    // lookup_and_delete and batches accept BPF_F_LOCK too.
    let mut out = [0u8; 16];
    m.lookup_and_delete(Some(&k(1)), &mut out, BPF_F_LOCK).unwrap();
    assert_eq!(out[0], 0x55);
    let r = m.update_batch(&k(3), &val, 1, BPF_F_LOCK);
    assert_eq!(r, crate::BatchOutcome { count: 1, result: Ok(()) });
}

#[test]
fn for_each_visits_this_cpus_values_and_stops() {
    let host = TestHost::new(2);
    host.set_cpu(1);
    let m = new_map(&host, &attr(MapType::PercpuHash, 4, 8, 16, 0));
    for i in 0..5u64 {
        let mut all = v(0).to_vec();
        all.extend_from_slice(&v(i * 10));
        m.update(&k(i as u32), &all, BPF_ANY).unwrap();
    }
    let g = reclaim::read_lock();
    let mut sum = 0;
    let n = m
        .for_each(&g, &mut |key, val| {
            // SAFETY: 8-byte live values under `g`.
            let x = unsafe { (val.as_ptr() as *const u64).read() };
            assert_eq!(x, u32::from_ne_bytes(key.try_into().unwrap()) as u64 * 10);
            sum += x;
            core::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!((n, sum), (5, 100));
    let n = m.for_each(&g, &mut |_, _| core::ops::ControlFlow::Break(())).unwrap();
    assert_eq!(n, 1, "the stopping call counts");
}
