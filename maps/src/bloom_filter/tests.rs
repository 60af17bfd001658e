use std::sync::Arc;
use std::vec::Vec;

use syscall_abi::bpf::{
    MapType, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_RDONLY_PROG,
    BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_F_ZERO_SEED, BPF_NOEXIST,
};
use syscall_abi::Errno;

use super::{bitset_size, jhash, jhash2_bytes, BloomFilter, KMALLOC_MAX_SIZE};
use crate::test_host::{attr, TestHost};
use crate::{BpfMap, MapAttr};

fn host() -> Arc<dyn crate::MapHost> {
    TestHost::new(8).dyn_host()
}

fn bloom_attr(value_size: u32, max_entries: u32, flags: u32, map_extra: u64) -> MapAttr {
    MapAttr { map_extra, ..attr(MapType::BloomFilter, 0, value_size, max_entries, flags) }
}

fn mk(value_size: u32, max_entries: u32, flags: u32, map_extra: u64) -> Arc<dyn BpfMap> {
    crate::create(&bloom_attr(value_size, max_entries, flags, map_extra), &host()).unwrap()
}

fn bloom(m: &Arc<dyn BpfMap>) -> &BloomFilter {
    m.as_any().downcast_ref::<BloomFilter>().unwrap()
}

fn errno<T>(r: syscall_abi::Result<T>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.errno,
    }
}

fn set_bits(b: &BloomFilter) -> Vec<u64> {
    b.bits.iter().map(|w| w.load(std::sync::atomic::Ordering::Relaxed)).collect()
}

#[test]
fn create_rejects_bad_attributes() {
    let spin = MapAttr { spin_lock_off: Some(0), ..bloom_attr(8, 4, 0, 0) };
    let cases: &[(&str, MapAttr, Errno)] = &[
        ("key_size 4", bloom_attr(8, 4, 0, 0).with_key(4), Errno::EINVAL),
        ("value_size 0", bloom_attr(0, 4, 0, 0), Errno::EINVAL),
        ("max_entries 0", bloom_attr(8, 0, 0, 0), Errno::EINVAL),
        ("no_prealloc", bloom_attr(8, 4, BPF_F_NO_PREALLOC, 0), Errno::EINVAL),
        ("mmapable", bloom_attr(8, 4, BPF_F_MMAPABLE, 0), Errno::EINVAL),
        ("rdonly_prog|wronly_prog", bloom_attr(8, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, 0), Errno::EINVAL),
        ("map_extra bit 4", bloom_attr(8, 4, 0, 0x10), Errno::EINVAL),
        ("map_extra high bits", bloom_attr(8, 4, 0, 1 << 40 | 3), Errno::EINVAL),
        ("value too large", bloom_attr(KMALLOC_MAX_SIZE + 1, 4, 0, 0), Errno::E2BIG),
        // bloom_map_alloc_check (E2BIG) runs before bloom_map_alloc's EINVAL checks.
        ("too large and keyed", bloom_attr(KMALLOC_MAX_SIZE + 1, 4, 0, 0).with_key(4), Errno::E2BIG),
        ("spin lock", spin, Errno::ENOTSUPP),
    ];
    for (name, a, want) in cases {
        assert_eq!(errno(crate::create(a, &host())), *want, "{name}");
    }
    for flags in [0, BPF_F_NUMA_NODE, BPF_F_ZERO_SEED, BPF_F_WRONLY, BPF_F_RDONLY_PROG] {
        mk(4, 16, flags, 0);
    }
}

trait WithKey {
    fn with_key(self, key_size: u32) -> Self;
}
impl WithKey for MapAttr {
    fn with_key(self, key_size: u32) -> Self {
        MapAttr { key_size, ..self }
    }
}

#[test]
fn jhash_matches_lookup3_reference_values() {
    // Bob Jenkins' lookup3.c self-test values for hashlittle(), which Linux's jhash()
    // equals on little-endian machines.
    if cfg!(target_endian = "little") {
        assert_eq!(jhash(b"", 0), 0xdead_beef);
        assert_eq!(jhash(b"", 0xdead_beef), 0xbd5b_7dde);
        assert_eq!(jhash(b"Four score and seven years ago", 0), 0x1777_0551);
        assert_eq!(jhash(b"Four score and seven years ago", 1), 0xcd62_8161);
    }
    // jhash2 over words equals jhash over the same bytes read natively, for every length
    // (the block loop, each tail size and the empty tail).
    let bytes: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37).wrapping_add(11)).collect();
    for words in 0..16 {
        let k = &bytes[..words * 4];
        for seed in [0, 1, 0x1234_5678] {
            assert_eq!(jhash2_bytes(k, seed), jhash(k, seed), "{words} words, seed {seed:#x}");
        }
    }
    // Every byte influences the hash.
    let base = jhash(&bytes[..23], 7);
    for i in 0..23 {
        let mut k = bytes[..23].to_vec();
        k[i] ^= 1;
        assert_ne!(jhash(&k, 7), base, "byte {i}");
    }
}

#[test]
fn bitset_sizing_follows_linux() {
    assert_eq!(bitset_size(1, 5), (63, 8)); // 7 bits → at least one long
    assert_eq!(bitset_size(100, 5), (1023, 128)); // 700 → 1024
    assert_eq!(bitset_size(10_000, 3), (65_535, 8192)); // 42000 → 65536
    assert_eq!(bitset_size(4, 1), (63, 8)); // 4/5*7 = 0 → 64
    assert_eq!(bitset_size(1_500_000_000, 1), ((1 << 31) - 1, 1 << 28)); // 2.1e9 → 2^31
    assert_eq!(bitset_size(1_600_000_000, 1), (u32::MAX, 1 << 29)); // > 2^31 → 2^32 bits
    assert_eq!(bitset_size(u32::MAX, 2), (u32::MAX, 1 << 29)); // multiplication overflow
    assert_eq!(bitset_size(u32::MAX / 5, 5), (u32::MAX, 1 << 29)); // * 7 overflows
    let m = mk(8, 100, 0, 0);
    assert_eq!(bloom(&m).nr_bits(), 1024);
    assert_eq!(m.memory_usage(), core::mem::size_of::<BloomFilter>() + 128);
}

#[test]
fn nr_hash_funcs_from_map_extra() {
    assert_eq!(bloom(&mk(4, 10, 0, 0)).nr_hash_funcs(), 5);
    assert_eq!(bloom(&mk(4, 10, 0, 1)).nr_hash_funcs(), 1);
    assert_eq!(bloom(&mk(4, 10, 0, 3)).nr_hash_funcs(), 3);
    assert_eq!(bloom(&mk(4, 10, 0, 15)).nr_hash_funcs(), 15);
    // With one hash function, one push sets exactly one bit; with k, at most k.
    for k in [1u64, 4, 15] {
        let m = mk(8, 1000, BPF_F_ZERO_SEED, k);
        m.push(&42u64.to_ne_bytes(), BPF_ANY).unwrap();
        let ones: u32 = set_bits(bloom(&m)).iter().map(|w| w.count_ones()).sum();
        assert!(ones >= 1 && ones <= k as u32, "k={k}: {ones} bits");
        if k == 1 {
            assert_eq!(ones, 1);
        }
    }
}

#[test]
fn zero_seed_bit_positions_are_linux_jhash() {
    // With BPF_F_ZERO_SEED, hash i of a u32-aligned value is jhash2(value, i) & mask.
    let m = mk(4, 100, BPF_F_ZERO_SEED, 3);
    let b = bloom(&m);
    assert_eq!(b.hash_seed, 0);
    assert_eq!(b.bitset_mask, 511); // 100 * 3 / 5 * 7 = 420 → 512 bits
    let v = 0xa1b2_c3d4u32.to_ne_bytes();
    m.push(&v, BPF_ANY).unwrap();
    let mut want = vec![0u64; b.bits.len()];
    for i in 0..3 {
        let bit = jhash(&v, i) & 511;
        want[(bit / 64) as usize] |= 1 << (bit % 64);
    }
    assert_eq!(set_bits(b), want);
    // Unaligned value size hashes with jhash.
    let m = mk(3, 100, BPF_F_ZERO_SEED, 2);
    m.push(b"abc", BPF_ANY).unwrap();
    assert_eq!(bloom(&m).bitset_mask, 511); // 100 * 2 / 5 * 7 = 280 → 512 bits
    let mut want = vec![0u64; bloom(&m).bits.len()];
    for i in 0..2 {
        let bit = jhash(b"abc", i) & 511;
        want[(bit / 64) as usize] |= 1 << (bit % 64);
    }
    assert_eq!(set_bits(bloom(&m)), want);
}

#[test]
fn zero_seed_is_deterministic_random_seed_is_not_zero() {
    let a = mk(8, 500, BPF_F_ZERO_SEED, 0);
    let b = mk(8, 500, BPF_F_ZERO_SEED, 0);
    let h = TestHost::new(8);
    let r = crate::create(&bloom_attr(8, 500, 0, 0), &h.dyn_host()).unwrap();
    assert_ne!(bloom(&r).hash_seed, 0);
    for v in 0..200u64 {
        for m in [&a, &b, &r] {
            m.push(&v.to_ne_bytes(), BPF_ANY).unwrap();
        }
    }
    assert_eq!(set_bits(bloom(&a)), set_bits(bloom(&b)));
    assert_ne!(set_bits(bloom(&a)), set_bits(bloom(&r)));
}

#[test]
fn no_false_negatives_and_bounded_false_positives() {
    // 1000 entries, 5 hashes: 7000 → 8192 bits; expected FP rate (1 - e^(-5000/8192))^5 ≈ 2%.
    let m = mk(8, 1000, BPF_F_ZERO_SEED, 0);
    let value = |i: u64| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5555).to_ne_bytes();
    for i in 0..1000 {
        m.push(&value(i), BPF_ANY).unwrap();
    }
    for i in 0..1000 {
        let mut v = value(i);
        m.peek(&mut v).unwrap();
        m.lookup(&[], &mut v, 0).unwrap();
        assert_eq!(v, value(i), "lookup must not write the value");
    }
    let trials = 20_000u64;
    let fp = (1000..1000 + trials).filter(|i| m.peek(&mut value(*i)).is_ok()).count();
    let rate = fp as f64 / trials as f64;
    assert!(rate > 0.002 && rate < 0.06, "false-positive rate {rate}");
    // An empty filter rejects everything.
    let e = mk(8, 1000, 0, 0);
    assert_eq!(errno(e.peek(&mut value(1))), Errno::ENOENT);
    assert_eq!(errno(e.lookup(&[], &mut value(1), 0)), Errno::ENOENT);
}

#[test]
fn operations_and_errnos() {
    let m = mk(4, 16, 0, 0);
    let v = 7u32.to_ne_bytes();
    for flags in [BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, 8] {
        assert_eq!(errno(m.push(&v, flags)), Errno::EINVAL, "push flags {flags}");
        assert_eq!(errno(m.update(&[], &v, flags)), Errno::EINVAL, "update flags {flags}");
    }
    assert_eq!(errno(m.peek(&mut v.clone())), Errno::ENOENT);
    m.update(&[], &v, BPF_ANY).unwrap();
    m.peek(&mut v.clone()).unwrap();
    assert_eq!(errno(m.lookup(&[], &mut v.clone(), BPF_F_LOCK)), Errno::EINVAL);
    assert_eq!(errno(m.delete(&[])), Errno::EOPNOTSUPP);
    assert_eq!(errno(m.get_next_key(None, &mut [])), Errno::EOPNOTSUPP);
    assert_eq!(errno(m.pop(&mut v.clone())), Errno::EOPNOTSUPP);
    assert_eq!(errno(m.prog_update(&[], &v, BPF_ANY)), Errno::EINVAL);
    assert_eq!(errno(m.prog_delete(&[])), Errno::EOPNOTSUPP);
    assert_eq!(errno(m.lookup_and_delete(None, &mut v.clone(), 0)), Errno::ENOTSUPP);
    assert_eq!(errno(m.lookup_and_delete(None, &mut v.clone(), BPF_F_LOCK)), Errno::EINVAL);
    assert!(m.prog_lookup(&[], &crate::reclaim::read_lock()).is_none());
    assert_eq!(errno(m.push(&[1, 2, 3], BPF_ANY)), Errno::EINVAL);
    assert_eq!(errno(m.peek(&mut [0u8; 5])), Errno::EINVAL);
}

#[test]
fn concurrent_adds_lose_no_bit() {
    const THREADS: u64 = 8;
    const PER: u64 = 3000;
    let h = TestHost::new(8);
    // Sized for all values (about a third of the bits end up set): a lost concurrent
    // update of a shared word would show up as a false negative.
    let m = crate::create(&bloom_attr(8, (THREADS * PER) as u32, 0, 0), &h.dyn_host()).unwrap();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (m, h) = (m.clone(), h.clone());
            std::thread::spawn(move || {
                h.set_cpu(t as u32);
                for i in 0..PER {
                    m.push(&(t * PER + i).to_ne_bytes(), BPF_ANY).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for v in 0..THREADS * PER {
        m.peek(&mut v.to_ne_bytes()).unwrap_or_else(|e| panic!("value {v} lost: {e:?}"));
    }
}
