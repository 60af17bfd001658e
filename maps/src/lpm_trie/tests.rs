use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::vec::Vec;

use syscall_abi::bpf::{
    MapType, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_RDONLY,
    BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_ZERO_SEED, BPF_NOEXIST,
};
use syscall_abi::Errno;

use super::{LpmTrie, Node, VAL_SIZE_MAX};
use crate::test_host::{attr, TestHost};
use crate::{reclaim, BpfMap, MapAttr};

fn host() -> Arc<dyn crate::MapHost> {
    TestHost::new(8).dyn_host()
}

fn mk(data_size: u32, value_size: u32, max_entries: u32) -> Arc<dyn BpfMap> {
    crate::create(&attr(MapType::LpmTrie, 4 + data_size, value_size, max_entries, BPF_F_NO_PREALLOC), &host()).unwrap()
}

fn trie(m: &Arc<dyn BpfMap>) -> &LpmTrie {
    m.as_any().downcast_ref::<LpmTrie>().unwrap()
}

fn errno<T>(r: syscall_abi::Result<T>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.errno,
    }
}

/// A `bpf_lpm_trie_key` with `data`.
fn key(data: &[u8], prefixlen: u32) -> Vec<u8> {
    let mut k = prefixlen.to_ne_bytes().to_vec();
    k.extend_from_slice(data);
    k
}

fn v4(a: u8, b: u8, c: u8, d: u8, prefixlen: u32) -> Vec<u8> {
    key(&[a, b, c, d], prefixlen)
}

fn ins(m: &dyn BpfMap, k: &[u8], v: u64) {
    m.update(k, &v.to_ne_bytes(), BPF_ANY).unwrap();
}

fn get(m: &dyn BpfMap, k: &[u8]) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    m.lookup(k, &mut b, 0).map_err(|e| e.errno)?;
    Ok(u64::from_ne_bytes(b))
}

fn prog_get(m: &dyn BpfMap, k: &[u8]) -> Option<u64> {
    let g = reclaim::read_lock();
    let p = m.prog_lookup(k, &g)?;
    assert_eq!(p.as_ptr() as usize % 8, 0, "value address must be 8-aligned");
    // SAFETY: the value address is valid for value_size (8) bytes while `g` lives.
    Some(unsafe { p.as_ptr().cast::<u64>().read() })
}

fn all_keys(m: &dyn BpfMap) -> Vec<Vec<u8>> {
    let ks = m.def().key_size as usize;
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut next = vec![0u8; ks];
    loop {
        let prev = out.last().cloned();
        match m.get_next_key(prev.as_deref(), &mut next) {
            Ok(()) => out.push(next.clone()),
            Err(e) => {
                assert_eq!(e.errno, Errno::ENOENT);
                return out;
            }
        }
        assert!(out.len() <= m.def().max_entries as usize, "get_next_key loops");
    }
}

#[test]
fn create_rejects_bad_attributes() {
    let lpm = |k, v, max, flags| attr(MapType::LpmTrie, k, v, max, flags);
    let np = BPF_F_NO_PREALLOC;
    let spin = MapAttr { spin_lock_off: Some(0), ..lpm(8, 8, 4, np) };
    let cases: &[(&str, MapAttr, Errno)] = &[
        ("no BPF_F_NO_PREALLOC", lpm(8, 8, 4, 0), Errno::EINVAL),
        ("max_entries 0", lpm(8, 8, 0, np), Errno::EINVAL),
        ("key_size 4 (no data)", lpm(4, 8, 4, np), Errno::EINVAL),
        ("key_size 0", lpm(0, 8, 4, np), Errno::EINVAL),
        ("key_size 261", lpm(261, 8, 4, np), Errno::EINVAL),
        ("value_size 0", lpm(8, 0, 4, np), Errno::EINVAL),
        ("value_size too large", lpm(8, VAL_SIZE_MAX + 1, 4, np), Errno::EINVAL),
        ("zero_seed flag", lpm(8, 8, 4, np | BPF_F_ZERO_SEED), Errno::EINVAL),
        ("mmapable flag", lpm(8, 8, 4, np | BPF_F_MMAPABLE), Errno::EINVAL),
        ("rdonly_prog|wronly_prog", lpm(8, 8, 4, np | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG), Errno::EINVAL),
        ("spin lock", spin, Errno::ENOTSUPP),
    ];
    for (name, a, want) in cases {
        assert_eq!(errno(crate::create(a, &host())), *want, "{name}");
    }
    for a in [
        lpm(5, 1, 1, np),
        lpm(260, VAL_SIZE_MAX, 1, np),
        lpm(8, 8, 4, np | BPF_F_NUMA_NODE),
        lpm(8, 8, 4, np | BPF_F_RDONLY),
        lpm(8, 8, 4, np | BPF_F_WRONLY_PROG),
    ] {
        let m = crate::create(&a, &host()).unwrap();
        assert!(trie(&m).is_empty());
        assert_eq!(trie(&m).max_prefixlen, (a.key_size - 4) * 8);
    }
}

#[test]
fn longest_prefix_wins_over_overlapping_ipv4_prefixes_in_any_insert_order() {
    let prefixes =
        [(v4(0, 0, 0, 0, 0), 0u64), (v4(10, 0, 0, 0, 8), 8), (v4(10, 1, 0, 0, 16), 16), (v4(10, 1, 2, 0, 24), 24)];
    // All 24 insertion orders build tries with the same answers.
    let mut orders = vec![vec![0usize, 1, 2, 3]];
    for _ in 0..23 {
        let mut o = orders.last().unwrap().clone();
        // next permutation
        let i = (0..3).rev().find(|&i| o[i] < o[i + 1]).unwrap();
        let j = (i + 1..4).rev().find(|&j| o[i] < o[j]).unwrap();
        o.swap(i, j);
        o[i + 1..].reverse();
        orders.push(o);
    }
    for order in orders {
        let m = mk(4, 8, 16);
        for &i in &order {
            ins(&*m, &prefixes[i].0, prefixes[i].1);
        }
        let cases = [
            (v4(10, 1, 2, 3, 32), Ok(24)),
            (v4(10, 1, 2, 255, 32), Ok(24)),
            (v4(10, 1, 3, 1, 32), Ok(16)),
            (v4(10, 2, 0, 0, 32), Ok(8)),
            (v4(11, 0, 0, 0, 32), Ok(0)),
            (v4(255, 255, 255, 255, 32), Ok(0)),
            // The key's own prefix length limits the match.
            (v4(10, 1, 2, 3, 20), Ok(16)),
            (v4(10, 1, 2, 3, 8), Ok(8)),
            (v4(10, 1, 2, 3, 0), Ok(0)),
            (v4(10, 1, 2, 0, 24), Ok(24)),
            (v4(10, 1, 2, 3, 33), Err(Errno::ENOENT)),
        ];
        for (k, want) in &cases {
            assert_eq!(get(&*m, k), *want, "order {order:?} key {k:?}");
            assert_eq!(prog_get(&*m, k), want.ok(), "order {order:?} key {k:?}");
        }
        assert_eq!(trie(&m).len().unwrap(), 4);
        assert_eq!(all_keys(&*m).len(), 4);
    }
    // Without the default route, unmatched addresses miss.
    let m = mk(4, 8, 16);
    ins(&*m, &v4(10, 0, 0, 0, 8), 8);
    assert_eq!(get(&*m, &v4(11, 0, 0, 0, 32)), Err(Errno::ENOENT));
    assert_eq!(prog_get(&*m, &v4(11, 0, 0, 0, 32)), None);
}

#[test]
fn get_next_key_is_linux_post_order() {
    // The example at the top of Linux's lpm_trie.c.
    let m = mk(4, 8, 16);
    assert_eq!(errno(m.get_next_key(None, &mut [0u8; 8])), Errno::ENOENT);
    ins(&*m, &v4(192, 168, 0, 0, 16), 1);
    ins(&*m, &v4(192, 168, 0, 0, 24), 2);
    ins(&*m, &v4(192, 168, 128, 0, 24), 3);
    ins(&*m, &v4(192, 168, 1, 0, 24), 5);
    let want = [v4(192, 168, 0, 0, 24), v4(192, 168, 1, 0, 24), v4(192, 168, 128, 0, 24), v4(192, 168, 0, 0, 16)];
    assert_eq!(all_keys(&*m), want);
    let mut next = [0u8; 8];
    // A missing key, an intermediate node's prefix, and an overlong prefix restart.
    for k in [v4(1, 2, 3, 4, 32), v4(192, 168, 0, 0, 23), v4(192, 168, 0, 0, 99)] {
        m.get_next_key(Some(&k), &mut next).unwrap();
        assert_eq!(next.as_slice(), want[0].as_slice());
    }
    assert_eq!(errno(m.get_next_key(Some(&want[3]), &mut next)), Errno::ENOENT);
    // The intermediate 192.168.0.0/23 is never a key nor a lookup result.
    assert_eq!(get(&*m, &v4(192, 168, 1, 7, 23)), Ok(1));
    assert_eq!(errno(m.delete(&v4(192, 168, 0, 0, 23))), Errno::ENOENT);
    // Bad sizes.
    assert_eq!(errno(m.get_next_key(None, &mut [0u8; 7])), Errno::EINVAL);
    assert_eq!(errno(m.get_next_key(Some(&[0u8; 9]), &mut next)), Errno::EINVAL);
}

#[test]
fn get_next_key_visits_every_key_once_more_specific_first() {
    let m = mk(4, 8, 2000);
    let mut stored = HashSet::new();
    let mut x = 0x1234_5678u32;
    while stored.len() < 600 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // Prefixes concentrated in 10.0.0.0/12 so that they nest and split often.
        let plen = 8 + x % 25;
        let addr = (0x0a00_0000 | (x >> 12)) & if plen == 0 { 0 } else { u32::MAX << (32 - plen) };
        let k = key(&addr.to_be_bytes(), plen);
        if stored.insert(k.clone()) {
            m.update(&k, &u64::from(addr).to_ne_bytes(), BPF_NOEXIST).unwrap();
        } else {
            assert_eq!(errno(m.update(&k, &0u64.to_ne_bytes(), BPF_NOEXIST)), Errno::EEXIST);
        }
    }
    let keys = all_keys(&*m);
    assert_eq!(keys.len(), stored.len());
    let seen: HashSet<Vec<u8>> = keys.iter().cloned().collect();
    assert_eq!(seen, stored);
    // Post order: a key comes after every more specific key it covers.
    let pos: HashMap<&Vec<u8>, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let parse =
        |k: &Vec<u8>| (u32::from_ne_bytes(k[..4].try_into().unwrap()), u32::from_be_bytes(k[4..].try_into().unwrap()));
    for a in &keys {
        let (pa, xa) = parse(a);
        for b in &keys {
            let (pb, xb) = parse(b);
            let mask = if pa == 0 { 0 } else { u32::MAX << (32 - pa) };
            if pb > pa && xb & mask == xa {
                assert!(pos[b] < pos[a], "{b:?} covered by {a:?} must come first");
            }
        }
    }
    // Each stored prefix finds itself.
    for k in &stored {
        let addr = u32::from_be_bytes(k[4..].try_into().unwrap());
        assert_eq!(get(&*m, k), Ok(u64::from(addr)));
    }
}

#[test]
fn update_flags_and_enospc() {
    let m = mk(4, 8, 3);
    let (a, b, c, d) = (v4(10, 0, 0, 0, 8), v4(10, 1, 0, 0, 16), v4(10, 2, 0, 0, 16), v4(10, 3, 0, 0, 16));
    assert_eq!(errno(m.update(&a, &1u64.to_ne_bytes(), BPF_EXIST)), Errno::ENOENT);
    m.update(&a, &1u64.to_ne_bytes(), BPF_NOEXIST).unwrap();
    assert_eq!(errno(m.update(&a, &2u64.to_ne_bytes(), BPF_NOEXIST)), Errno::EEXIST);
    m.update(&a, &3u64.to_ne_bytes(), BPF_EXIST).unwrap();
    assert_eq!(get(&*m, &a), Ok(3));
    for flags in [BPF_NOEXIST | BPF_EXIST, BPF_F_LOCK, 8, u64::MAX] {
        assert_eq!(errno(m.update(&b, &0u64.to_ne_bytes(), flags)), Errno::EINVAL, "flags {flags:#x}");
        assert_eq!(errno(m.prog_update(&b, &0u64.to_ne_bytes(), flags)), Errno::EINVAL);
    }
    assert_eq!(errno(m.update(&v4(10, 0, 0, 0, 33), &0u64.to_ne_bytes(), BPF_ANY)), Errno::EINVAL);
    // Intermediate prefixes are not elements: BPF_EXIST fails, BPF_NOEXIST creates.
    ins(&*m, &b, 16);
    ins(&*m, &c, 17); // 10.0.0.0/14 is now an intermediate node between b and c
    assert_eq!(errno(m.update(&v4(10, 0, 0, 0, 14), &0u64.to_ne_bytes(), BPF_EXIST)), Errno::ENOENT);
    // Full: a new prefix (even one an intermediate node already has) is ENOSPC ...
    assert_eq!(trie(&m).len().unwrap(), 3);
    assert_eq!(errno(m.update(&d, &0u64.to_ne_bytes(), BPF_ANY)), Errno::ENOSPC);
    assert_eq!(errno(m.update(&v4(10, 0, 0, 0, 14), &0u64.to_ne_bytes(), BPF_NOEXIST)), Errno::ENOSPC);
    assert_eq!(errno(m.prog_update(&d, &0u64.to_ne_bytes(), BPF_ANY)), Errno::ENOSPC);
    // ... but replacing an existing one works, and BPF_EXIST on a missing one is ENOENT.
    m.update(&b, &160u64.to_ne_bytes(), BPF_ANY).unwrap();
    m.update(&c, &170u64.to_ne_bytes(), BPF_EXIST).unwrap();
    assert_eq!(errno(m.update(&d, &0u64.to_ne_bytes(), BPF_EXIST)), Errno::ENOENT);
    assert_eq!((get(&*m, &b), get(&*m, &c)), (Ok(160), Ok(170)));
    m.delete(&a).unwrap();
    m.prog_update(&d, &4u64.to_ne_bytes(), BPF_NOEXIST).unwrap();
    assert_eq!(get(&*m, &d), Ok(4));
    assert_eq!(trie(&m).len().unwrap(), 3);
    // Bad buffer sizes.
    assert_eq!(errno(m.update(&b[..7], &0u64.to_ne_bytes(), BPF_ANY)), Errno::EINVAL);
    assert_eq!(errno(m.update(&b, &[0u8; 4], BPF_ANY)), Errno::EINVAL);
    assert_eq!(errno(m.lookup(&b, &mut [0u8; 4], 0)), Errno::EINVAL);
    assert_eq!(errno(m.lookup(&b, &mut [0u8; 8], BPF_F_LOCK)), Errno::EINVAL);
    assert!(m.prog_lookup(&b[..7], &reclaim::read_lock()).is_none());
    assert_eq!(errno(m.lookup_and_delete(Some(&b), &mut [0u8; 8], 0)), Errno::ENOTSUPP);
    assert_eq!(errno(m.lookup_and_delete(Some(&b), &mut [0u8; 8], BPF_F_LOCK)), Errno::EINVAL);
}

fn node_size(data_size: usize, value_size: usize) -> usize {
    core::mem::size_of::<Node>() + crate::round_up_8(data_size) + crate::round_up_8(value_size)
}

#[test]
fn delete_keeps_the_trie_minimal() {
    let m = mk(4, 8, 16);
    let t = trie(&m);
    let base = core::mem::size_of::<LpmTrie>();
    let real = node_size(4, 8);
    let im = node_size(4, 0);
    assert_eq!(m.memory_usage(), base);
    assert_eq!(errno(m.delete(&v4(10, 0, 0, 0, 8))), Errno::ENOENT);
    assert_eq!(errno(m.delete(&v4(10, 0, 0, 0, 33))), Errno::EINVAL);
    assert_eq!(errno(m.delete(&v4(10, 0, 0, 0, 8)[..5])), Errno::EINVAL);

    // Two siblings under an intermediate node.
    let (a, b) = (v4(192, 168, 0, 0, 24), v4(192, 168, 1, 0, 24));
    ins(&*m, &a, 1);
    ins(&*m, &b, 2);
    assert_eq!(m.memory_usage(), base + 2 * real + im);
    // Deleting a leaf under an intermediate node removes both; the sibling moves up.
    m.delete(&a).unwrap();
    assert_eq!(m.memory_usage(), base + real);
    assert_eq!(get(&*m, &a), Err(Errno::ENOENT));
    assert_eq!(get(&*m, &v4(192, 168, 1, 9, 32)), Ok(2));
    assert_eq!(errno(m.delete(&a)), Errno::ENOENT);

    // A node with two children becomes intermediate; its prefix stops matching.
    let p16 = v4(192, 168, 0, 0, 16);
    let hi = v4(192, 168, 128, 0, 24);
    ins(&*m, &p16, 16);
    ins(&*m, &hi, 3);
    assert_eq!(m.memory_usage(), base + 3 * real);
    m.delete(&p16).unwrap();
    assert_eq!(m.memory_usage(), base + 3 * real, "kept as an intermediate node");
    assert_eq!(get(&*m, &v4(192, 168, 5, 5, 32)), Err(Errno::ENOENT));
    assert_eq!(errno(m.delete(&p16)), Errno::ENOENT);
    assert_eq!(all_keys(&*m), [b.clone(), hi.clone()]);
    // Its leaf child goes, and the former /16 goes with it.
    m.delete(&b).unwrap();
    assert_eq!(m.memory_usage(), base + real);
    assert_eq!(all_keys(&*m), std::slice::from_ref(&hi));
    // Re-adding the /16 above the /24, then deleting the /16 (one child): the child moves up.
    ins(&*m, &p16, 16);
    m.delete(&p16).unwrap();
    assert_eq!(all_keys(&*m), std::slice::from_ref(&hi));
    assert_eq!(get(&*m, &v4(192, 168, 128, 1, 32)), Ok(3));
    m.delete(&hi).unwrap();
    assert!(t.is_empty());
    assert_eq!(t.len().unwrap(), 0);
    assert_eq!(m.memory_usage(), base);

    // An intermediate node becomes real when its prefix is added, and back on delete.
    ins(&*m, &a, 1);
    ins(&*m, &b, 2);
    ins(&*m, &v4(192, 168, 0, 0, 23), 23);
    assert_eq!(m.memory_usage(), base + 3 * real);
    assert_eq!(get(&*m, &v4(192, 168, 1, 1, 23)), Ok(23));
    assert_eq!(all_keys(&*m), [a.clone(), b.clone(), v4(192, 168, 0, 0, 23)]);
    m.delete(&v4(192, 168, 0, 0, 23)).unwrap();
    assert_eq!(get(&*m, &v4(192, 168, 1, 1, 23)), Err(Errno::ENOENT));
    assert_eq!(get(&*m, &v4(192, 168, 1, 1, 32)), Ok(2));
}

#[test]
fn ipv6_and_maximum_key_sizes() {
    let m = mk(16, 8, 64);
    let ip6 = |s: [u16; 8], plen| {
        let mut d = Vec::new();
        for w in s {
            d.extend_from_slice(&w.to_be_bytes());
        }
        key(&d, plen)
    };
    ins(&*m, &ip6([0; 8], 0), 0);
    ins(&*m, &ip6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), 32);
    ins(&*m, &ip6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0], 48), 48);
    ins(&*m, &ip6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1], 128), 128);
    ins(&*m, &ip6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), 10);
    assert_eq!(get(&*m, &ip6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1], 128)), Ok(128));
    assert_eq!(get(&*m, &ip6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 2], 128)), Ok(48));
    assert_eq!(get(&*m, &ip6([0x2001, 0xdb8, 2, 0, 0, 0, 0, 1], 128)), Ok(32));
    assert_eq!(get(&*m, &ip6([0x2002, 0, 0, 0, 0, 0, 0, 1], 128)), Ok(0));
    assert_eq!(get(&*m, &ip6([0xfebf, 1, 0, 0, 0, 0, 0, 1], 128)), Ok(10));
    assert_eq!(get(&*m, &ip6([0xfec0, 1, 0, 0, 0, 0, 0, 1], 128)), Ok(0));
    assert_eq!(get(&*m, &ip6([0; 8], 129)), Err(Errno::ENOENT));
    assert_eq!(errno(m.update(&ip6([0; 8], 129), &0u64.to_ne_bytes(), BPF_ANY)), Errno::EINVAL);
    assert_eq!(all_keys(&*m).len(), 5);

    // 256 data bytes: prefixes up to 2048 bits, differing only in the last bit.
    let m = mk(256, 8, 8);
    let mut d = vec![0xabu8; 256];
    ins(&*m, &key(&d, 2048), 1);
    ins(&*m, &key(&d, 2047), 2);
    assert_eq!(get(&*m, &key(&d, 2048)), Ok(1));
    d[255] ^= 1;
    assert_eq!(get(&*m, &key(&d, 2048)), Ok(2));
    ins(&*m, &key(&d, 2048), 3);
    assert_eq!(get(&*m, &key(&d, 2048)), Ok(3));
    assert_eq!(all_keys(&*m).len(), 3);
    assert_eq!(get(&*m, &key(&d, 2049)), Err(Errno::ENOENT));
}

#[test]
fn writer_reentry_is_ebusy_readers_do_not_block() {
    let h = TestHost::new(8);
    h.set_cpu(2);
    let m = crate::create(&attr(MapType::LpmTrie, 8, 8, 8, BPF_F_NO_PREALLOC), &h.dyn_host()).unwrap();
    ins(&*m, &v4(10, 0, 0, 0, 8), 8);
    let _held = trie(&m).state.lock(2).unwrap();
    assert_eq!(errno(m.update(&v4(11, 0, 0, 0, 8), &0u64.to_ne_bytes(), BPF_ANY)), Errno::EBUSY);
    assert_eq!(errno(m.prog_delete(&v4(10, 0, 0, 0, 8))), Errno::EBUSY);
    assert_eq!(get(&*m, &v4(10, 9, 9, 9, 32)), Ok(8));
    assert_eq!(prog_get(&*m, &v4(10, 9, 9, 9, 32)), Some(8));
    assert_eq!(all_keys(&*m).len(), 1);
}

#[test]
fn deleted_value_stays_readable_while_a_guard_lives() {
    let m = mk(4, 64, 8);
    let k = v4(10, 0, 0, 0, 8);
    m.update(&k, &[0x5a; 64], BPF_ANY).unwrap();
    let g = reclaim::read_lock();
    let p = m.prog_lookup(&v4(10, 1, 1, 1, 32), &g).unwrap();
    // Delete it, replace a second element, and churn the allocator with same-sized blocks:
    // an early free would let these reuse the node's memory.
    m.delete(&k).unwrap();
    m.update(&v4(11, 0, 0, 0, 8), &[0x22; 64], BPF_ANY).unwrap();
    m.update(&v4(11, 0, 0, 0, 8), &[0x11; 64], BPF_ANY).unwrap();
    // Blocks the size of a node header and of its key+value memory.
    let churn: Vec<Vec<u8>> = (0..2000).map(|i| vec![i as u8; core::mem::size_of::<Node>()]).collect();
    let churn2: Vec<Box<[u64; 9]>> = (0..2000).map(|i| Box::new([i as u64; 9])).collect();
    reclaim::collect();
    reclaim::collect();
    assert!(reclaim::pending() >= 1, "the deleted node cannot be freed yet");
    // SAFETY: the address stays valid for 64 bytes while `g` lives.
    let seen = unsafe { core::slice::from_raw_parts(p.as_ptr(), 64) };
    assert!(seen.iter().all(|b| *b == 0x5a), "deleted value changed under a live guard");
    drop((churn, churn2));
    drop(g);
    assert_eq!(errno(m.lookup(&k, &mut [0u8; 64], 0)), Errno::ENOENT);
}

#[test]
fn concurrent_disjoint_inserts_all_land() {
    const THREADS: u32 = 8;
    const PER: u32 = 400;
    let h = TestHost::new(8);
    let m = crate::create(&attr(MapType::LpmTrie, 8, 8, THREADS * PER, BPF_F_NO_PREALLOC), &h.dyn_host()).unwrap();
    let keys_of = |t: u32| -> Vec<(Vec<u8>, u64)> {
        (0..PER)
            .map(|i| {
                // Interleaved prefixes so that threads keep splitting each other's subtrees.
                let addr = (i << 16) | (t << 8);
                let plen = 24 + (i % 3) * 4;
                (key(&addr.to_be_bytes(), plen), u64::from(t * PER + i))
            })
            .collect()
    };
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (m, h) = (m.clone(), h.clone());
            std::thread::spawn(move || {
                h.set_cpu(t);
                for (k, v) in keys_of(t) {
                    m.update(&k, &v.to_ne_bytes(), BPF_NOEXIST).unwrap();
                    assert_eq!(prog_get(&*m, &k), Some(v));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(trie(&m).len().unwrap(), THREADS * PER);
    for t in 0..THREADS {
        for (k, v) in keys_of(t) {
            assert_eq!(get(&*m, &k), Ok(v));
        }
    }
    assert_eq!(all_keys(&*m).len(), (THREADS * PER) as usize);
}

#[test]
fn concurrent_readers_see_only_valid_values_while_writers_churn() {
    let h = TestHost::new(8);
    let m = crate::create(&attr(MapType::LpmTrie, 8, 8, 64, BPF_F_NO_PREALLOC), &h.dyn_host()).unwrap();
    ins(&*m, &v4(10, 0, 0, 0, 8), 8);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for w in 0..3u32 {
        let (m, h, stop) = (m.clone(), h.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            h.set_cpu(w);
            let mine = [v4(10, 1, 0, 0, 16), v4(10, 1, 2, 0, 24), v4(10, 1, 2, 0, 28)];
            let vals = [16u64, 24, 28];
            for i in w as usize..w as usize + 20_000 {
                let j = i % 3;
                // Updates and deletes race with the other writers; only readers check.
                let _ = m.update(&mine[j], &vals[j].to_ne_bytes(), BPF_ANY);
                let _ = m.delete(&mine[(j + 1) % 3]);
            }
            stop.store(true, Ordering::SeqCst);
        }));
    }
    for r in 0..5u32 {
        let (m, h, stop) = (m.clone(), h.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            h.set_cpu(3 + r);
            let mut reads = 0u64;
            while !stop.load(Ordering::SeqCst) || reads < 1000 {
                let v = prog_get(&*m, &v4(10, 1, 2, 3, 32)).expect("10.0.0.0/8 always matches");
                assert!([8, 16, 24, 28].contains(&v), "read {v}");
                assert!([Ok(8), Ok(16), Ok(24), Ok(28)].contains(&get(&*m, &v4(10, 1, 2, 9, 32))));
                reads += 1;
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(get(&*m, &v4(10, 200, 0, 0, 32)), Ok(8));
}
