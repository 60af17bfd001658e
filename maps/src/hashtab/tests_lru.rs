//! LRU eviction tests: the policy documented in [`crate::lru_list`].

use std::vec::Vec;

use syscall_abi::bpf::*;
use syscall_abi::Errno;

use super::tests::{hm, k, keys_of, new_map, v};
use crate::test_host::{attr, TestHost};
use crate::{reclaim, BpfMap};

fn present(m: &dyn BpfMap, i: u32) -> bool {
    let mut out = std::vec![0u8; m.syscall_value_size()];
    match m.lookup(&k(i), &mut out, 0) {
        Ok(()) => true,
        Err(e) => {
            assert_eq!(e.errno, Errno::ENOENT);
            false
        }
    }
}

fn put(m: &dyn BpfMap, i: u32) {
    let val = std::vec![i as u8; m.syscall_value_size()];
    m.update(&k(i), &val, BPF_ANY).unwrap_or_else(|e| panic!("insert {i}: {e:?}"));
}

fn touch(m: &dyn BpfMap, i: u32) {
    let g = reclaim::read_lock();
    assert!(m.prog_lookup(&k(i), &g).is_some(), "touch {i}");
}

fn survivors(m: &dyn BpfMap, upto: u32) -> Vec<u32> {
    (0..upto).filter(|&i| present(m, i)).collect()
}

#[test]
fn evicts_the_least_recently_used_and_spares_touched_keys() {
    let host = TestHost::new(2);
    for ty in [MapType::LruHash, MapType::LruPercpuHash] {
        let m = new_map(&host, &attr(ty, 4, 8, 8, 0));
        for i in 0..8 {
            put(&*m, i);
        }
        touch(&*m, 0);
        touch(&*m, 1);
        // A syscall lookup does not count as a use.
        assert!(present(&*m, 2));
        for i in 8..14 {
            put(&*m, i);
        }
        assert_eq!(survivors(&*m, 14), [0, 1, 8, 9, 10, 11, 12, 13], "{ty:?}");
        assert_eq!(keys_of(&*m).len(), 8);
        // The oldest untouched key goes next; the touched ones now sit in the active list.
        put(&*m, 14);
        assert_eq!(survivors(&*m, 15), [0, 1, 9, 10, 11, 12, 13, 14], "{ty:?}");
    }
}

#[test]
fn all_referenced_falls_back_to_the_oldest() {
    let host = TestHost::new(2);
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 4, 0));
    for i in 0..4 {
        put(&*m, i);
        touch(&*m, i);
    }
    put(&*m, 4);
    assert_eq!(survivors(&*m, 5), [1, 2, 3, 4], "force shrink takes the oldest");
}

#[test]
fn hot_keys_survive_a_stream_of_cold_inserts() {
    let host = TestHost::new(2);
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 16, 0));
    for i in 0..4 {
        put(&*m, i);
    }
    for i in 100..400 {
        put(&*m, i);
        for hot in 0..4 {
            touch(&*m, hot);
        }
        assert_eq!(hm(&m).count.load(core::sync::atomic::Ordering::Relaxed), (i - 95).min(16));
    }
    assert_eq!(survivors(&*m, 4), [0, 1, 2, 3]);
    // The 12 other slots hold the newest cold keys.
    let cold: Vec<u32> = (100..400).filter(|&i| present(&*m, i)).collect();
    assert_eq!(cold, (388..400).collect::<Vec<_>>());
}

#[test]
fn deleting_frees_a_slot_and_replacing_evicts_like_linux() {
    let host = TestHost::new(2);
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 8, 0));
    for i in 0..8 {
        put(&*m, i);
    }
    m.delete(&k(3)).unwrap();
    put(&*m, 100);
    assert_eq!(survivors(&*m, 8), [0, 1, 2, 4, 5, 6, 7], "a deleted slot is reused, nothing evicted");
    // Linux takes the LRU slot before looking the key up: updating an existing key of a
    // full map evicts the oldest element too.
    m.update(&k(7), &v(77), BPF_EXIST).unwrap();
    assert_eq!(survivors(&*m, 8), [1, 2, 4, 5, 6, 7]);
    let mut out = [0u8; 8];
    m.lookup(&k(7), &mut out, 0).unwrap();
    assert_eq!(out, v(77));
    // Per-CPU LRU maps update in place with BPF_EXIST (no slot is taken).
    let m = new_map(&host, &attr(MapType::LruPercpuHash, 4, 8, 4, 0));
    for i in 0..4 {
        put(&*m, i);
    }
    m.update(&k(3), &[9u8; 16], BPF_EXIST).unwrap();
    assert_eq!(survivors(&*m, 4), [0, 1, 2, 3]);
    m.update(&k(3), &[9u8; 16], BPF_ANY).unwrap();
    assert_eq!(survivors(&*m, 4), [1, 2, 3]);
}

#[test]
fn per_cpu_lists_evict_only_their_own_elements() {
    let host = TestHost::new(2);
    // max_entries 3 → 4 (two CPUs), two elements per CPU list.
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 3, BPF_F_NO_COMMON_LRU));
    assert_eq!(m.def().max_entries, 4);
    host.set_cpu(0);
    put(&*m, 0);
    put(&*m, 1);
    host.set_cpu(1);
    put(&*m, 10);
    put(&*m, 11);
    touch(&*m, 0); // a use from another CPU still counts
    host.set_cpu(0);
    put(&*m, 2);
    assert_eq!(survivors(&*m, 12), [0, 2, 10, 11], "CPU 0 evicts from its own list only");
    host.set_cpu(1);
    put(&*m, 12);
    assert_eq!(survivors(&*m, 13), [0, 2, 11, 12]);
}

#[test]
fn delete_while_the_list_is_held_on_this_cpu_is_reaped_later() {
    let host = TestHost::new(2);
    host.set_cpu(0);
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 4, 0));
    for i in 0..4 {
        put(&*m, i);
    }
    let lru = hm(&m).lru.as_ref().unwrap();
    {
        // An LRU operation of CPU 0 was interrupted by a program that deletes and inserts.
        let _held = lru.hold_list(0, 0).unwrap();
        m.delete(&k(0)).unwrap();
        assert!(!present(&*m, 0));
        assert_eq!(m.update(&k(50), &v(1), BPF_ANY).unwrap_err().errno, Errno::EBUSY);
    }
    // The dead node's slot is reclaimed by the next insertion: nothing else is evicted.
    put(&*m, 10);
    assert_eq!(survivors(&*m, 11), [1, 2, 3, 10]);
    put(&*m, 11);
    assert_eq!(survivors(&*m, 12), [2, 3, 10, 11]);
}

#[test]
fn lru_batch_delete_returns_slots() {
    let host = TestHost::new(2);
    let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 8, 0));
    for i in 0..8 {
        put(&*m, i);
    }
    let keys: Vec<u8> = (0..4u32).flat_map(k).collect();
    assert_eq!(m.delete_batch(&keys, 4, 0).count, 4);
    for i in 20..24 {
        put(&*m, i);
    }
    assert_eq!(survivors(&*m, 24), [4, 5, 6, 7, 20, 21, 22, 23]);
}
