use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::vec;
use std::vec::Vec;

use syscall_abi::bpf::{
    MapType, BPF_ANY, BPF_EXIST, BPF_F_INNER_MAP, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE,
    BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_NOEXIST,
};
use syscall_abi::Errno;

use crate::reclaim;
use crate::test_host::{attr, TestHost};
use crate::{BpfMap, MapAttr};

use super::ArrayMap;

fn make(h: &Arc<TestHost>, a: &MapAttr) -> Arc<dyn BpfMap> {
    crate::create(a, &h.dyn_host()).unwrap()
}

fn errno_of(h: &Arc<TestHost>, a: &MapAttr) -> Option<Errno> {
    crate::create(a, &h.dyn_host()).err().map(|e| e.errno)
}

fn k(i: u32) -> [u8; 4] {
    i.to_ne_bytes()
}

fn as_array(m: &Arc<dyn BpfMap>) -> &ArrayMap {
    m.as_any().downcast_ref::<ArrayMap>().unwrap()
}

#[test]
fn create_rejects_bad_attributes_like_linux() {
    let h = TestHost::new(3);
    let with_lock = |ty, vs, off, flags| MapAttr { spin_lock_off: Some(off), ..attr(ty, 4, vs, 4, flags) };
    let rows: Vec<(&str, MapAttr, Errno)> = vec![
        ("key_size 8", attr(MapType::Array, 8, 4, 4, 0), Errno::EINVAL),
        ("key_size 0", attr(MapType::PercpuArray, 0, 4, 4, 0), Errno::EINVAL),
        ("value_size 0", attr(MapType::Array, 4, 0, 4, 0), Errno::EINVAL),
        ("max_entries 0", attr(MapType::PercpuArray, 4, 4, 0, 0), Errno::EINVAL),
        ("hash-only flag", attr(MapType::Array, 4, 4, 4, BPF_F_NO_PREALLOC), Errno::EINVAL),
        ("unknown flag", attr(MapType::Array, 4, 4, 4, 1 << 13), Errno::EINVAL),
        ("rdonly+wronly prog", attr(MapType::Array, 4, 4, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG), Errno::EINVAL),
        ("rdonly+wronly", attr(MapType::Array, 4, 4, 4, BPF_F_RDONLY | BPF_F_WRONLY), Errno::EINVAL),
        ("preserve elems", attr(MapType::Array, 4, 4, 4, BPF_F_PRESERVE_ELEMS), Errno::EINVAL),
        ("percpu mmapable", attr(MapType::PercpuArray, 4, 4, 4, BPF_F_MMAPABLE), Errno::EINVAL),
        ("percpu inner map", attr(MapType::PercpuArray, 4, 4, 4, BPF_F_INNER_MAP), Errno::EINVAL),
        ("percpu numa", attr(MapType::PercpuArray, 4, 4, 4, BPF_F_NUMA_NODE), Errno::EINVAL),
        ("value > INT_MAX", attr(MapType::Array, 4, 1 << 31, 1, 0), Errno::E2BIG),
        ("percpu value > 32K", attr(MapType::PercpuArray, 4, 32 * 1024 + 1, 1, 0), Errno::E2BIG),
        ("too large to allocate", attr(MapType::Array, 4, 1 << 30, u32::MAX, 0), Errno::ENOMEM),
        ("percpu spin lock", with_lock(MapType::PercpuArray, 8, 0, 0), Errno::ENOTSUPP),
        ("spin lock + rdonly prog", with_lock(MapType::Array, 8, 0, BPF_F_RDONLY_PROG), Errno::EACCES),
        ("spin lock misaligned", with_lock(MapType::Array, 16, 6, 0), Errno::EINVAL),
        ("spin lock past value", with_lock(MapType::Array, 16, 14, 0), Errno::EINVAL),
        ("map_extra", MapAttr { map_extra: 1, ..attr(MapType::Array, 4, 4, 4, 0) }, Errno::EINVAL),
    ];
    for (what, a, want) in rows {
        assert_eq!(errno_of(&h, &a), Some(want), "{what}");
    }
    let ok: Vec<(&str, MapAttr)> = vec![
        ("rdonly", attr(MapType::Array, 4, 4, 4, BPF_F_RDONLY)),
        ("wronly", attr(MapType::PercpuArray, 4, 4, 4, BPF_F_WRONLY)),
        ("rdonly prog", attr(MapType::Array, 4, 4, 4, BPF_F_RDONLY_PROG | BPF_F_RDONLY)),
        ("wronly prog", attr(MapType::PercpuArray, 4, 4, 4, BPF_F_WRONLY_PROG)),
        ("numa", attr(MapType::Array, 4, 4, 4, BPF_F_NUMA_NODE)),
        ("mmapable", attr(MapType::Array, 4, 4, 4, BPF_F_MMAPABLE)),
        ("inner map", attr(MapType::Array, 4, 4, 4, BPF_F_INNER_MAP)),
        ("percpu value 32K", attr(MapType::PercpuArray, 4, 32 * 1024 - 7, 1, 0)),
        ("spin lock at end", with_lock(MapType::Array, 16, 12, 0)),
    ];
    for (what, a) in ok {
        assert_eq!(errno_of(&h, &a), None, "{what}");
    }
}

#[test]
fn update_flags_range_and_lookup_follow_array_map_update_elem() {
    let h = TestHost::new(1);
    let m = make(&h, &attr(MapType::Array, 4, 8, 5, 0));
    let v = 7u64.to_ne_bytes();
    let e = |r: syscall_abi::Result<()>| r.err().map(|e| e.errno);
    assert_eq!(e(m.update(&k(0), &v, BPF_ANY)), None);
    assert_eq!(e(m.update(&k(1), &v, BPF_EXIST)), None);
    assert_eq!(e(m.update(&k(1), &v, BPF_NOEXIST)), Some(Errno::EEXIST));
    assert_eq!(e(m.update(&k(1), &v, 3)), Some(Errno::EINVAL));
    assert_eq!(e(m.update(&k(1), &v, 8)), Some(Errno::EINVAL));
    assert_eq!(e(m.update(&k(1), &v, BPF_F_LOCK)), Some(Errno::EINVAL));
    // The syscall checks BPF_F_LOCK first; a program's update checks NOEXIST first.
    assert_eq!(e(m.update(&k(1), &v, BPF_NOEXIST | BPF_F_LOCK)), Some(Errno::EINVAL));
    assert_eq!(e(m.prog_update(&k(1), &v, BPF_NOEXIST | BPF_F_LOCK)), Some(Errno::EEXIST));
    // Index before NOEXIST, flags before index.
    assert_eq!(e(m.update(&k(5), &v, BPF_NOEXIST)), Some(Errno::E2BIG));
    assert_eq!(e(m.update(&k(u32::MAX), &v, BPF_ANY)), Some(Errno::E2BIG));
    assert_eq!(e(m.update(&k(5), &v, 3)), Some(Errno::EINVAL));
    assert_eq!(e(m.prog_update(&k(5), &v, BPF_ANY)), Some(Errno::E2BIG));

    let mut out = [0xffu8; 8];
    m.lookup(&k(0), &mut out, 0).unwrap();
    assert_eq!(out, v);
    m.lookup(&k(4), &mut out, 0).unwrap();
    assert_eq!(out, [0; 8], "values start zeroed");
    assert_eq!(e(m.lookup(&k(5), &mut out, 0)), Some(Errno::ENOENT));
    assert_eq!(e(m.lookup(&k(0), &mut out, 1)), Some(Errno::EINVAL));
    assert_eq!(e(m.lookup(&k(0), &mut out, BPF_F_LOCK)), Some(Errno::EINVAL));
    assert_eq!(e(m.delete(&k(0))), Some(Errno::EINVAL));
    assert_eq!(e(m.prog_delete(&k(0))), Some(Errno::EINVAL));
    assert_eq!(e(m.lookup_and_delete(Some(&k(0)), &mut out, 0)), Some(Errno::ENOTSUPP));

    m.prog_update(&k(2), &9u64.to_ne_bytes(), BPF_EXIST).unwrap();
    let g = reclaim::read_lock();
    let p = m.prog_lookup(&k(2), &g).unwrap();
    assert_eq!(p.as_ptr() as usize % 8, 0, "values are 8-byte aligned");
    // SAFETY: p points at value 2 (8 bytes) of a live map.
    assert_eq!(unsafe { p.cast::<u64>().as_ptr().read() }, 9);
    assert_eq!(m.prog_lookup(&k(2), &g), Some(p), "addresses are stable");
    assert_eq!(m.prog_lookup(&k(5), &g), None);
    assert_eq!(m.prog_lookup(&[0, 0], &g), None);
}

#[test]
fn plain_values_cross_the_syscall_unpadded() {
    let h = TestHost::new(2);
    let m = make(&h, &attr(MapType::Array, 4, 4, 2, 0));
    assert_eq!(m.syscall_value_size(), 4);
    m.update(&k(1), &0x1122_3344u32.to_ne_bytes(), BPF_ANY).unwrap();
    let mut out = [0u8; 4];
    m.lookup(&k(1), &mut out, 0).unwrap();
    assert_eq!(u32::from_ne_bytes(out), 0x1122_3344);
    let mut padded = [0u8; 8];
    assert_eq!(m.lookup(&k(1), &mut padded, 0).err().map(|e| e.errno), Some(Errno::EINVAL));
    assert_eq!(m.update(&k(1), &padded, BPF_ANY).err().map(|e| e.errno), Some(Errno::EINVAL));
}

#[test]
fn get_next_key_walks_indices_then_enoent() {
    let h = TestHost::new(1);
    let m = make(&h, &attr(MapType::Array, 4, 4, 3, 0));
    let mut next = [0u8; 4];
    let mut seen = Vec::new();
    let mut key: Option<[u8; 4]> = None;
    loop {
        match m.get_next_key(key.as_ref().map(|k| &k[..]), &mut next) {
            Ok(()) => {
                seen.push(u32::from_ne_bytes(next));
                key = Some(next);
            }
            Err(e) => {
                assert_eq!(e.errno, Errno::ENOENT);
                break;
            }
        }
    }
    assert_eq!(seen, [0, 1, 2]);
    for out_of_range in [3, 1000, u32::MAX] {
        m.get_next_key(Some(&k(out_of_range)), &mut next).unwrap();
        assert_eq!(u32::from_ne_bytes(next), 0, "key {out_of_range}");
    }
}

#[test]
fn percpu_values_are_strided_per_cpu_and_programs_see_their_own_copy() {
    let h = TestHost::new(3);
    h.set_cpu(0);
    let m = make(&h, &attr(MapType::PercpuArray, 4, 4, 2, 0));
    assert_eq!(m.syscall_value_size(), 24, "round_up(4, 8) * 3 CPUs");
    // CPU c gets 100 + c, and its padding bytes 0xc0 + c (Linux copies the padding too).
    let mut v = vec![0u8; 24];
    for c in 0..3u8 {
        let off = usize::from(c) * 8;
        v[off..off + 4].copy_from_slice(&(100 + u32::from(c)).to_ne_bytes());
        v[off + 4..off + 8].fill(0xc0 + c);
    }
    m.update(&k(1), &v, BPF_ANY).unwrap();
    let mut out = vec![0u8; 24];
    m.lookup(&k(1), &mut out, 0).unwrap();
    assert_eq!(out, v);

    let e = |r: syscall_abi::Result<()>| r.err().map(|e| e.errno);
    assert_eq!(e(m.update(&k(1), &v, BPF_NOEXIST)), Some(Errno::EEXIST));
    assert_eq!(e(m.update(&k(1), &v, BPF_F_LOCK)), Some(Errno::EINVAL));
    assert_eq!(e(m.update(&k(2), &v, BPF_ANY)), Some(Errno::E2BIG));
    assert_eq!(e(m.lookup(&k(2), &mut out, 0)), Some(Errno::ENOENT));
    assert_eq!(e(m.update(&k(1), &v[..8], BPF_ANY)), Some(Errno::EINVAL));

    let m2 = m.clone();
    let h2 = h.clone();
    std::thread::scope(|s| {
        for cpu in 0..3u32 {
            let (m, h) = (m2.clone(), h2.clone());
            s.spawn(move || {
                h.set_cpu(cpu);
                let g = reclaim::read_lock();
                let p = m.prog_lookup(&k(1), &g).unwrap();
                // SAFETY: p points at this CPU's 4-byte value of a live map.
                assert_eq!(unsafe { p.cast::<u32>().as_ptr().read() }, 100 + cpu);
                let pc = as_array(&m).lookup_percpu(&k(1), cpu, &g).unwrap();
                assert_eq!(p, pc);
                drop(g);
                m.prog_update(&k(1), &(200 + cpu).to_ne_bytes(), BPF_ANY).unwrap();
            });
        }
    });
    m.lookup(&k(1), &mut out, 0).unwrap();
    for c in 0..3usize {
        let cpu_value = u32::from_ne_bytes(out[c * 8..c * 8 + 4].try_into().unwrap());
        assert_eq!(cpu_value, 200 + c as u32);
        assert_eq!(out[c * 8 + 4..c * 8 + 8], [0xc0 + c as u8; 4], "program update keeps the padding");
    }
    let g = reclaim::read_lock();
    assert!(as_array(&m).lookup_percpu(&k(1), 3, &g).is_none());
    assert!(as_array(&m).lookup_percpu(&k(2), 0, &g).is_none());
}

#[test]
fn mmapable_values_live_in_the_shared_pages() {
    let h = TestHost::new(1);
    let m = make(&h, &attr(MapType::Array, 4, 12, 300, BPF_F_MMAPABLE));
    assert_eq!(m.syscall_value_size(), 12, "plain arrays pass value_size bytes, no padding");
    let pages = m.shared_pages().expect("mmapable array exposes its pages");
    assert_eq!(pages.pages(), 2, "300 * 16 bytes fit two 4 KiB pages");
    let base = pages.as_ptr();
    let g = reclaim::read_lock();
    let p = m.prog_lookup(&k(257), &g).unwrap();
    // SAFETY: value 257 is 12 bytes inside the map's shared pages.
    unsafe { p.as_ptr().copy_from_nonoverlapping([1u8, 2, 3, 4].as_ptr(), 4) };
    // SAFETY: 257 * 16 + 4 bytes lie within the two mapped pages.
    let seen = unsafe { core::slice::from_raw_parts(base.as_ptr().add(257 * 16), 4) };
    assert_eq!(seen, [1, 2, 3, 4]);
    m.update(&k(3), &[9u8; 12], BPF_ANY).unwrap();
    // SAFETY: as above.
    let seen = unsafe { core::slice::from_raw_parts(base.as_ptr().add(3 * 16), 16) };
    assert_eq!(seen, [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0]);
    assert!(m.memory_usage() >= 2 * 4096);
    let plain = make(&h, &attr(MapType::Array, 4, 12, 300, 0));
    assert!(plain.shared_pages().is_none());
    assert!(plain.memory_usage() >= 300 * 16 && plain.memory_usage() < 2 * 4096);
}

#[test]
fn spin_lock_word_is_skipped_and_bpf_f_lock_waits_for_the_holder() {
    let h = TestHost::new(2);
    let a = MapAttr { spin_lock_off: Some(4), ..attr(MapType::Array, 4, 16, 2, 0) };
    let m = make(&h, &a);
    let g = reclaim::read_lock();
    let p = m.prog_lookup(&k(0), &g).unwrap();
    // SAFETY: the lock word is 4-aligned inside value 0 of a live map.
    let word = unsafe { AtomicU32::from_ptr(p.as_ptr().add(4).cast::<u32>()) };
    drop(g);

    // A plain update never overwrites the lock word; a lookup returns it zeroed.
    word.store(0x55, std::sync::atomic::Ordering::SeqCst);
    m.update(&k(0), &[7u8; 16], BPF_ANY).unwrap();
    assert_eq!(word.load(std::sync::atomic::Ordering::SeqCst), 0x55);
    let mut out = [0xffu8; 16];
    m.lookup(&k(0), &mut out, 0).unwrap();
    assert_eq!(out, [7, 7, 7, 7, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7]);

    // Held by "a program": a BPF_F_LOCK update waits until it is released.
    word.store(1, std::sync::atomic::Ordering::SeqCst);
    std::thread::scope(|s| {
        let t = s.spawn(|| m.update(&k(0), &[3u8; 16], BPF_F_LOCK | BPF_EXIST));
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut mid = [0u8; 16];
        m.lookup(&k(0), &mut mid, 0).unwrap();
        assert_eq!(mid[0], 7, "update ran while the lock was held");
        word.store(0, std::sync::atomic::Ordering::SeqCst);
        t.join().unwrap().unwrap();
    });
    m.lookup(&k(0), &mut out, BPF_F_LOCK).unwrap();
    assert_eq!(out, [3, 3, 3, 3, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3]);
    assert_eq!(word.load(std::sync::atomic::Ordering::SeqCst), 0, "lock released");
}

#[test]
fn for_each_visits_in_order_and_stops_on_break() {
    let h = TestHost::new(2);
    h.set_cpu(1);
    let m = make(&h, &attr(MapType::PercpuArray, 4, 8, 4, 0));
    let mut v = vec![0u8; 16];
    v[8..16].copy_from_slice(&5u64.to_ne_bytes());
    m.update(&k(2), &v, BPF_ANY).unwrap();
    let g = reclaim::read_lock();
    let mut seen = Vec::new();
    let n = m
        .for_each(&g, &mut |key, val| {
            // SAFETY: the callback gets the address of an 8-byte value.
            seen.push((u32::from_ne_bytes(key.try_into().unwrap()), unsafe { val.cast::<u64>().as_ptr().read() }));
            core::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!(seen, [(0, 0), (1, 0), (2, 5), (3, 0)], "CPU 1's copies");
    let n = m.for_each(&g, &mut |key, _| {
        if key == k(1) {
            core::ops::ControlFlow::Break(())
        } else {
            core::ops::ControlFlow::Continue(())
        }
    });
    assert_eq!(n.unwrap(), 2);
}

#[test]
fn direct_value_addr_for_global_data() {
    let h = TestHost::new(2);
    let m = make(&h, &attr(MapType::Array, 4, 16, 1, 0));
    let a = as_array(&m);
    let g = reclaim::read_lock();
    let base = m.prog_lookup(&k(0), &g).unwrap();
    // SAFETY: offset 8 is inside the 16-byte value.
    assert_eq!(a.direct_value_addr(8).unwrap(), unsafe { base.add(8) });
    assert_eq!(a.direct_value_addr(16).err().unwrap().errno, Errno::EINVAL);
    let two = make(&h, &attr(MapType::Array, 4, 16, 2, 0));
    assert_eq!(as_array(&two).direct_value_addr(0).err().unwrap().errno, Errno::ENOTSUPP);
    let pc = make(&h, &attr(MapType::PercpuArray, 4, 16, 1, 0));
    assert_eq!(as_array(&pc).direct_value_addr(0).err().unwrap().errno, Errno::EINVAL);
}

#[test]
fn no_delete_batches_for_arrays() {
    let h = TestHost::new(1);
    let m = make(&h, &attr(MapType::Array, 4, 4, 4, 0));
    let (mut ob, mut ks, mut vs) = ([0u8; 4], [0u8; 16], [0u8; 16]);
    let batch = crate::LookupBatch {
        in_batch: None,
        out_batch: &mut ob,
        keys: &mut ks,
        values: &mut vs,
        count: 4,
        elem_flags: 0,
    };
    let r = m.lookup_batch(batch, true);
    assert_eq!((r.count, r.result.err().map(|e| e.errno)), (0, Some(Errno::ENOTSUPP)));
    let r = m.delete_batch(&k(0), 1, 0);
    assert_eq!(r.result.err().map(|e| e.errno), Some(Errno::ENOTSUPP));
}

#[test]
fn memory_usage_counts_every_cpu_copy() {
    let h = TestHost::new(4);
    let plain = make(&h, &attr(MapType::Array, 4, 12, 100, 0));
    let pc = make(&h, &attr(MapType::PercpuArray, 4, 12, 100, 0));
    assert!(plain.memory_usage() >= 100 * 16);
    assert!(pc.memory_usage() >= 4 * 100 * 16);
    assert!(pc.memory_usage() > plain.memory_usage() * 3);
}

#[test]
fn concurrent_updates_and_percpu_counters_lose_nothing() {
    const CPUS: u32 = 4;
    const ROUNDS: u64 = 2000;
    let h = TestHost::new(CPUS);
    let arr = make(&h, &attr(MapType::Array, 4, 8, 64, 0));
    let counters = make(&h, &attr(MapType::PercpuArray, 4, 8, 1, 0));
    std::thread::scope(|s| {
        for cpu in 0..CPUS {
            let (arr, counters, h) = (&arr, &counters, &h);
            s.spawn(move || {
                h.set_cpu(cpu);
                let mine: Vec<u32> = (cpu..64).step_by(CPUS as usize).collect();
                let mut out = [0u8; 8];
                for seq in 1..=ROUNDS {
                    for &i in &mine {
                        arr.update(&k(i), &((u64::from(i) << 32) | seq).to_ne_bytes(), BPF_ANY).unwrap();
                    }
                    // Everyone's values are whole words: never torn.
                    let other = (seq as u32 * 7) % 64;
                    arr.lookup(&k(other), &mut out, 0).unwrap();
                    let word = u64::from_ne_bytes(out);
                    assert!(word == 0 || word >> 32 == u64::from(other), "torn value {word:#x}");
                    let g = reclaim::read_lock();
                    let p = counters.prog_lookup(&k(0), &g).unwrap().cast::<u64>();
                    // SAFETY: this CPU's copy, only this thread (CPU) touches it.
                    unsafe { p.as_ptr().write(p.as_ptr().read() + 1) };
                }
            });
        }
    });
    let mut out = [0u8; 8];
    for i in 0..64u32 {
        arr.lookup(&k(i), &mut out, 0).unwrap();
        assert_eq!(u64::from_ne_bytes(out), (u64::from(i) << 32) | ROUNDS, "index {i}");
    }
    let mut all = vec![0u8; 8 * CPUS as usize];
    counters.lookup(&k(0), &mut all, 0).unwrap();
    let per_cpu: Vec<u64> = all.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect();
    assert_eq!(per_cpu, vec![ROUNDS; CPUS as usize]);
    assert_eq!(per_cpu.iter().sum::<u64>(), ROUNDS * u64::from(CPUS));
}
