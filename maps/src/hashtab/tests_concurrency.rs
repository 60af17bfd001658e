//! Reclamation and SMP tests: threads pinned to CPUs of an 8-CPU test host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::vec::Vec;

use syscall_abi::bpf::*;

use super::tests::{hm, k, keys_of, new_map};
use crate::test_host::{attr, def_of, TestHost};
use crate::{reclaim, FdKind, MapHost};

const WORDS: usize = 8;

fn words(x: u64) -> Vec<u8> {
    (0..WORDS).flat_map(|_| x.to_ne_bytes()).collect()
}

/// Reads a value of `WORDS` u64s through a program pointer and checks it is not torn.
fn read_untorn(p: core::ptr::NonNull<u8>) -> u64 {
    // SAFETY: the caller holds a guard; the value is WORDS * 8 bytes, 8-aligned.
    let w: [u64; WORDS] = core::array::from_fn(|i| unsafe { (p.as_ptr() as *const u64).add(i).read_volatile() });
    assert!(w.iter().all(|&x| x == w[0]), "torn value {w:?}");
    w[0]
}

#[test]
fn replaced_element_lives_while_a_guard_does_then_is_freed() {
    let host = TestHost::new(2);
    let mut a = attr(MapType::HashOfMaps, 4, 4, 4, 0);
    a.inner_map = Some(def_of(&attr(MapType::Hash, 4, 8, 4, 0)));
    let outer = new_map(&host, &a);
    let fd1 = host.install_map(new_map(&host, &attr(MapType::Hash, 4, 8, 4, 0)), 1);
    let fd2 = host.install_map(new_map(&host, &attr(MapType::Hash, 4, 8, 4, 0)), 2);
    let obj1 = host.resolve_fd(FdKind::Map, fd1).unwrap();
    let base = Arc::strong_count(&obj1); // the fd table and `obj1`
    outer.update(&k(0), &fd1.to_ne_bytes(), BPF_ANY).unwrap();
    assert_eq!(Arc::strong_count(&obj1), base + 1, "the element holds the inner map");

    // A plain hash map alongside: the old value stays readable at its old address.
    let plain = new_map(&host, &attr(MapType::Hash, 4, 64, 4, 0));
    plain.update(&k(0), &words(1), BPF_ANY).unwrap();

    let g = reclaim::read_lock();
    let p = outer.prog_lookup(&k(0), &g).unwrap();
    assert_eq!(p.as_ptr() as usize, Arc::as_ptr(&obj1) as *const () as usize);
    let old = plain.prog_lookup(&k(0), &g).unwrap();
    outer.update(&k(0), &fd2.to_ne_bytes(), BPF_ANY).unwrap();
    plain.update(&k(0), &words(2), BPF_ANY).unwrap();
    for _ in 0..10 {
        reclaim::collect();
    }
    assert_eq!(Arc::strong_count(&obj1), base + 1, "freed while a reader could hold it");
    assert_eq!(read_untorn(old), 1, "the replaced value is intact at its old address");
    assert_eq!(read_untorn(plain.prog_lookup(&k(0), &g).unwrap()), 2);
    drop(g);

    // Other tests hold guards too: retry for up to a second.
    let start = Instant::now();
    while Arc::strong_count(&obj1) != base && start.elapsed() < Duration::from_secs(1) {
        reclaim::collect();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(Arc::strong_count(&obj1), base, "the replaced element is freed eventually");
}

#[test]
fn concurrent_writers_lose_no_update() {
    let host = TestHost::new(8);
    let m = new_map(&host, &attr(MapType::Hash, 4, (WORDS * 8) as u32, 8192, 0));
    const THREADS: u32 = if cfg!(miri) { 3 } else { 6 };
    const N: u32 = if cfg!(miri) { 40 } else { 300 };
    const ROUNDS: u64 = if cfg!(miri) { 2 } else { 4 };
    let stop = Arc::new(AtomicBool::new(false));
    // A reader checking that program lookups never see a torn value while keys are replaced.
    let reader = {
        let (m, host, stop) = (m.clone(), host.clone(), stop.clone());
        std::thread::spawn(move || {
            host.set_cpu(7);
            let mut seen = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for i in 0..64 {
                    let g = reclaim::read_lock();
                    if let Some(p) = m.prog_lookup(&k(1_000_000 + i), &g) {
                        read_untorn(p);
                        seen += 1;
                    }
                }
            }
            seen
        })
    };
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (m, host) = (m.clone(), host.clone());
            std::thread::spawn(move || {
                host.set_cpu(t);
                let base = t * 10_000;
                for round in 0..ROUNDS {
                    for i in 0..N {
                        let val = words(round * 1000 + i as u64);
                        // Half through the syscall path, half through the program path.
                        if i % 2 == 0 {
                            m.update(&k(base + i), &val, BPF_ANY).unwrap();
                        } else {
                            m.prog_update(&k(base + i), &val, BPF_ANY).unwrap();
                        }
                        // Overlapping keys: every thread replaces and deletes them.
                        let shared = 1_000_000 + (i * (t + 1)) % 64;
                        if i % 5 == 0 {
                            let _ = m.delete(&k(shared));
                        } else {
                            m.update(&k(shared), &words(t as u64 * 7 + i as u64), BPF_ANY).unwrap();
                        }
                    }
                }
                for i in (0..N).step_by(3) {
                    m.delete(&k(base + i)).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0, "the reader saw values");

    let mut out = std::vec![0u8; WORDS * 8];
    for t in 0..THREADS {
        for i in 0..N {
            let r = m.lookup(&k(t * 10_000 + i), &mut out, 0);
            if i % 3 == 0 {
                assert!(r.is_err(), "thread {t} key {i} was deleted");
            } else {
                r.unwrap();
                assert_eq!(out, words((ROUNDS - 1) * 1000 + i as u64), "thread {t} key {i}");
            }
        }
    }
    let keys = keys_of(&*m);
    let survivors = THREADS * (N - N.div_ceil(3));
    let shared = keys.iter().filter(|kk| u32::from_ne_bytes(kk[..].try_into().unwrap()) >= 1_000_000).count();
    assert_eq!(keys.len() as u32, survivors + shared as u32);
    assert_eq!(hm(&m).count.load(Ordering::Relaxed) as usize, keys.len(), "element count is exact");
}

#[test]
fn percpu_counters_from_eight_cpus_sum_exactly() {
    let host = TestHost::new(8);
    for ty in [MapType::PercpuHash, MapType::LruPercpuHash] {
        let m = new_map(&host, &attr(ty, 4, 8, 16, 0));
        m.update(&k(7), &std::vec![0u8; 64], BPF_ANY).unwrap();
        const N: u64 = if cfg!(miri) { 50 } else { 20_000 };
        let threads: Vec<_> = (0..8u32)
            .map(|cpu| {
                let (m, host) = (m.clone(), host.clone());
                std::thread::spawn(move || {
                    host.set_cpu(cpu);
                    for _ in 0..N {
                        let g = reclaim::read_lock();
                        let p = m.prog_lookup(&k(7), &g).unwrap().as_ptr() as *mut u64;
                        // SAFETY: this CPU's 8-byte copy, touched by this thread only,
                        // live under `g`.
                        unsafe { *p += 1 };
                        // Other keys come and go meanwhile.
                        let other = k(100 + cpu);
                        m.prog_update(&other, &[1; 8], BPF_ANY).unwrap();
                        m.prog_delete(&other).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut out = [0u8; 64];
        m.lookup(&k(7), &mut out, 0).unwrap();
        let per_cpu: Vec<u64> = out.chunks(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect();
        assert_eq!(per_cpu, std::vec![N; 8], "{ty:?}");
        assert_eq!(per_cpu.iter().sum::<u64>(), 8 * N);
        assert_eq!(keys_of(&*m), std::vec![k(7).to_vec()], "{ty:?}");
    }
}

/// Insertions per thread (fewer under Miri, which runs this test too).
const LRU_INSERTS: u32 = if cfg!(miri) { 400 } else { 3000 };

#[test]
fn concurrent_lru_inserts_stay_within_capacity() {
    let host = TestHost::new(8);
    for flags in [0, BPF_F_NO_COMMON_LRU] {
        let m = new_map(&host, &attr(MapType::LruHash, 4, 8, 64, flags));
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let (m, host) = (m.clone(), host.clone());
                std::thread::spawn(move || {
                    host.set_cpu(t);
                    for i in 0..LRU_INSERTS {
                        let key = k(t * 100_000 + i);
                        m.update(&key, &[t as u8; 8], BPF_ANY).unwrap();
                        let g = reclaim::read_lock();
                        let _ = m.prog_lookup(&k(t * 100_000 + i / 2), &g);
                        drop(g);
                        if i % 7 == 0 {
                            let _ = m.delete(&k(t * 100_000 + i / 3));
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let keys = keys_of(&*m);
        // Per-CPU lists: 8 CPUs share 64 slots, the 4 busy CPUs own 8 each.
        let cap = if flags == 0 { 64 } else { 32 };
        assert!(keys.len() <= cap && keys.len() >= cap / 2, "{} elements", keys.len());
        assert_eq!(hm(&m).count.load(Ordering::Relaxed) as usize, keys.len());
        if flags != 0 {
            // Nobody else inserts into a CPU's own list: its newest key survived.
            for t in 0..4 {
                let mut out = [0u8; 8];
                m.lookup(&k(t * 100_000 + LRU_INSERTS - 1), &mut out, 0).unwrap();
                assert_eq!(out, [t as u8; 8]);
            }
        }
    }
}
