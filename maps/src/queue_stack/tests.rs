use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use syscall_abi::bpf::{
    MapType, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_RDONLY,
    BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_F_ZERO_SEED, BPF_NOEXIST,
};
use syscall_abi::Errno;

use super::{QueueStack, KMALLOC_MAX_SIZE};
use crate::test_host::{attr, TestHost};
use crate::{BpfMap, MapAttr};

fn host() -> Arc<dyn crate::MapHost> {
    TestHost::new(8).dyn_host()
}

fn mk(ty: MapType, value_size: u32, max_entries: u32) -> Arc<dyn BpfMap> {
    crate::create(&attr(ty, 0, value_size, max_entries, 0), &host()).unwrap()
}

fn errno<T>(r: syscall_abi::Result<T>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.errno,
    }
}

fn push_u32(m: &dyn BpfMap, v: u32, flags: u64) -> syscall_abi::Result<()> {
    m.push(&v.to_ne_bytes(), flags)
}

fn pop_u32(m: &dyn BpfMap) -> syscall_abi::Result<u32> {
    let mut b = [0u8; 4];
    m.pop(&mut b)?;
    Ok(u32::from_ne_bytes(b))
}

#[test]
fn create_rejects_bad_attributes() {
    let spin = MapAttr { spin_lock_off: Some(0), ..attr(MapType::Queue, 0, 8, 4, 0) };
    let cases: &[(&str, MapAttr, Errno)] = &[
        ("max_entries 0", attr(MapType::Queue, 0, 4, 0, 0), Errno::EINVAL),
        ("key_size 4", attr(MapType::Queue, 4, 4, 4, 0), Errno::EINVAL),
        ("value_size 0", attr(MapType::Stack, 0, 0, 4, 0), Errno::EINVAL),
        ("no_prealloc flag", attr(MapType::Queue, 0, 4, 4, BPF_F_NO_PREALLOC), Errno::EINVAL),
        ("zero_seed flag", attr(MapType::Stack, 0, 4, 4, BPF_F_ZERO_SEED), Errno::EINVAL),
        ("mmapable flag", attr(MapType::Queue, 0, 4, 4, BPF_F_MMAPABLE), Errno::EINVAL),
        (
            "rdonly_prog|wronly_prog",
            attr(MapType::Queue, 0, 4, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG),
            Errno::EINVAL,
        ),
        ("value too large", attr(MapType::Queue, 0, KMALLOC_MAX_SIZE + 1, 4, 0), Errno::E2BIG),
        // EINVAL checks come before the size limit.
        ("too large and keyed", attr(MapType::Stack, 4, KMALLOC_MAX_SIZE + 1, 4, 0), Errno::EINVAL),
        ("spin lock", spin, Errno::ENOTSUPP),
    ];
    for (name, a, want) in cases {
        assert_eq!(errno(crate::create(a, &host())), *want, "{name}");
    }
    for flags in [0, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG] {
        for ty in [MapType::Queue, MapType::Stack] {
            let m = crate::create(&attr(ty, 0, 4, 4, flags), &host()).unwrap();
            assert_eq!(m.def().map_type, ty);
            assert!(m.as_any().downcast_ref::<QueueStack>().is_some());
        }
    }
    // The largest accepted value size.
    assert!(crate::create(&attr(MapType::Queue, 0, KMALLOC_MAX_SIZE, 1, 0), &host()).is_ok());
}

#[test]
fn queue_is_fifo_stack_is_lifo() {
    let q = mk(MapType::Queue, 4, 8);
    let s = mk(MapType::Stack, 4, 8);
    for v in 1..=5 {
        push_u32(&*q, v, BPF_ANY).unwrap();
        push_u32(&*s, v, BPF_ANY).unwrap();
    }
    let qs: Vec<u32> = (0..5).map(|_| pop_u32(&*q).unwrap()).collect();
    let ss: Vec<u32> = (0..5).map(|_| pop_u32(&*s).unwrap()).collect();
    assert_eq!(qs, [1, 2, 3, 4, 5]);
    assert_eq!(ss, [5, 4, 3, 2, 1]);
    assert_eq!(errno(pop_u32(&*q)), Errno::ENOENT);
    assert_eq!(errno(pop_u32(&*s)), Errno::ENOENT);
}

#[test]
fn order_survives_wraparound() {
    let q = mk(MapType::Queue, 4, 3);
    let s = mk(MapType::Stack, 4, 3);
    let mut next = 0u32;
    let mut expect_q = std::collections::VecDeque::new();
    for round in 0..50u32 {
        for _ in 0..(round % 3 + 1) {
            push_u32(&*q, next, BPF_ANY).unwrap();
            expect_q.push_back(next);
            next += 1;
        }
        for _ in 0..(round % 3 + 1) {
            assert_eq!(pop_u32(&*q).unwrap(), expect_q.pop_front().unwrap());
        }
        // Stack: push 3, pop 2, push 1, pop 2 across the ring boundary.
        push_u32(&*s, 1, BPF_ANY).unwrap();
        push_u32(&*s, 2, BPF_ANY).unwrap();
        push_u32(&*s, 3, BPF_ANY).unwrap();
        assert_eq!(pop_u32(&*s).unwrap(), 3);
        assert_eq!(pop_u32(&*s).unwrap(), 2);
        push_u32(&*s, 4, BPF_ANY).unwrap();
        assert_eq!(pop_u32(&*s).unwrap(), 4);
        assert_eq!(pop_u32(&*s).unwrap(), 1);
        assert_eq!(errno(pop_u32(&*s)), Errno::ENOENT);
    }
}

#[test]
fn full_map_e2big_or_replace_oldest_with_bpf_exist() {
    for (ty, want) in [(MapType::Queue, [2u32, 3, 4]), (MapType::Stack, [4, 3, 2])] {
        let m = mk(ty, 4, 3);
        for v in 1..=3 {
            push_u32(&*m, v, BPF_ANY).unwrap();
        }
        assert_eq!(errno(push_u32(&*m, 9, BPF_ANY)), Errno::E2BIG, "{ty:?}");
        // BPF_EXIST drops the oldest element (1) for both types.
        push_u32(&*m, 4, BPF_EXIST).unwrap();
        let got: Vec<u32> = (0..3).map(|_| pop_u32(&*m).unwrap()).collect();
        assert_eq!(got, want, "{ty:?}");
        assert_eq!(errno(pop_u32(&*m)), Errno::ENOENT);
        // BPF_EXIST on a map with room just pushes.
        push_u32(&*m, 7, BPF_EXIST).unwrap();
        assert_eq!(pop_u32(&*m).unwrap(), 7);
    }
}

#[test]
fn push_flags() {
    let m = mk(MapType::Queue, 4, 4);
    for flags in [BPF_NOEXIST, BPF_NOEXIST | BPF_EXIST, BPF_F_LOCK, 8, u64::MAX] {
        assert_eq!(errno(push_u32(&*m, 1, flags)), Errno::EINVAL, "flags {flags:#x}");
        assert_eq!(errno(m.update(&[], &1u32.to_ne_bytes(), flags)), Errno::EINVAL, "flags {flags:#x}");
    }
    assert!(m.as_any().downcast_ref::<QueueStack>().unwrap().is_empty().unwrap());
}

#[test]
fn empty_pop_and_peek_zero_the_buffer() {
    for ty in [MapType::Queue, MapType::Stack] {
        let m = mk(ty, 4, 2);
        let mut b = [0xffu8; 4];
        assert_eq!(errno(m.pop(&mut b)), Errno::ENOENT);
        assert_eq!(b, [0; 4]);
        let mut b = [0xffu8; 4];
        assert_eq!(errno(m.peek(&mut b)), Errno::ENOENT);
        assert_eq!(b, [0; 4]);
        let mut b = [0xffu8; 4];
        assert_eq!(errno(m.lookup(&[], &mut b, 0)), Errno::ENOENT);
        assert_eq!(b, [0; 4]);
    }
}

#[test]
fn syscall_operations_route_to_push_peek_pop() {
    for ty in [MapType::Queue, MapType::Stack] {
        let m = mk(ty, 8, 4);
        m.update(&[], &11u64.to_ne_bytes(), BPF_ANY).unwrap();
        m.update(&[], &22u64.to_ne_bytes(), BPF_EXIST).unwrap();
        let top = if ty == MapType::Queue { 11u64 } else { 22 };
        let mut b = [0u8; 8];
        // lookup = peek: twice the same element, nothing removed.
        m.lookup(&[], &mut b, 0).unwrap();
        assert_eq!(u64::from_ne_bytes(b), top);
        m.peek(&mut b).unwrap();
        assert_eq!(u64::from_ne_bytes(b), top);
        assert_eq!(m.as_any().downcast_ref::<QueueStack>().unwrap().len().unwrap(), 2);
        assert_eq!(errno(m.lookup(&[], &mut b, BPF_F_LOCK)), Errno::EINVAL);
        // lookup_and_delete = pop; any flag is EINVAL.
        assert_eq!(errno(m.lookup_and_delete(None, &mut b, BPF_F_LOCK)), Errno::EINVAL);
        assert_eq!(errno(m.lookup_and_delete(None, &mut b, 1)), Errno::EINVAL);
        m.lookup_and_delete(None, &mut b, 0).unwrap();
        assert_eq!(u64::from_ne_bytes(b), top);
        assert_eq!(m.as_any().downcast_ref::<QueueStack>().unwrap().len().unwrap(), 1);
        // Keyed operations.
        assert_eq!(errno(m.delete(&[])), Errno::EINVAL);
        assert_eq!(errno(m.get_next_key(None, &mut [])), Errno::EINVAL);
        assert_eq!(errno(m.get_next_key(Some(&[]), &mut [])), Errno::EINVAL);
        assert_eq!(errno(m.prog_update(&[], &b, 0)), Errno::EINVAL);
        assert_eq!(errno(m.prog_delete(&[])), Errno::EINVAL);
        assert!(m.prog_lookup(&[], &crate::reclaim::read_lock()).is_none());
        // Buffers of the wrong size are refused, not truncated.
        assert_eq!(errno(m.push(&[0u8; 4], 0)), Errno::EINVAL);
        assert_eq!(errno(m.pop(&mut [0u8; 9])), Errno::EINVAL);
    }
}

#[test]
fn reentry_on_the_same_cpu_is_ebusy() {
    let h = TestHost::new(8);
    h.set_cpu(3);
    let m = crate::create(&attr(MapType::Queue, 0, 4, 4, 0), &h.dyn_host()).unwrap();
    let qs = m.as_any().downcast_ref::<QueueStack>().unwrap();
    {
        let _held = qs.ring.lock(3).unwrap();
        assert_eq!(errno(push_u32(&*m, 1, 0)), Errno::EBUSY);
        assert_eq!(errno(pop_u32(&*m)), Errno::EBUSY);
        assert_eq!(errno(m.peek(&mut [0u8; 4])), Errno::EBUSY);
    }
    push_u32(&*m, 1, 0).unwrap();
    assert_eq!(pop_u32(&*m).unwrap(), 1);
}

#[test]
fn memory_usage_counts_all_slots() {
    let m = mk(MapType::Stack, 24, 100);
    let base = core::mem::size_of::<QueueStack>();
    assert_eq!(m.memory_usage(), base + 101 * 24);
}

#[test]
fn concurrent_producers_and_consumers_lose_nothing() {
    for ty in [MapType::Queue, MapType::Stack] {
        const PRODUCERS: u32 = 4;
        const PER: u32 = 5000;
        let h = TestHost::new(8);
        let m = crate::create(&attr(ty, 0, 4, 64, 0), &h.dyn_host()).unwrap();
        let popped = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for p in 0..PRODUCERS {
            let (m, h) = (m.clone(), h.clone());
            threads.push(std::thread::spawn(move || {
                h.set_cpu(p);
                for i in 0..PER {
                    let v = p * PER + i;
                    loop {
                        match push_u32(&*m, v, BPF_ANY) {
                            Ok(()) => break,
                            Err(e) => {
                                assert_eq!(e.errno, Errno::E2BIG);
                                std::thread::yield_now();
                            }
                        }
                    }
                }
            }));
        }
        for c in 0..4u32 {
            let (m, h, popped, done) = (m.clone(), h.clone(), popped.clone(), done.clone());
            threads.push(std::thread::spawn(move || {
                h.set_cpu(4 + c);
                let mut mine = Vec::new();
                while done.load(Ordering::SeqCst) < (PRODUCERS * PER) as usize {
                    match pop_u32(&*m) {
                        Ok(v) => {
                            mine.push(v);
                            done.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => {
                            assert_eq!(e.errno, Errno::ENOENT);
                            std::thread::yield_now();
                        }
                    }
                }
                popped.lock().unwrap().extend(mine);
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        let all = popped.lock().unwrap();
        assert_eq!(all.len(), (PRODUCERS * PER) as usize, "{ty:?}");
        let set: HashSet<u32> = all.iter().copied().collect();
        assert_eq!(set.len(), all.len(), "{ty:?}: a value was popped twice");
        assert!(set.iter().all(|v| *v < PRODUCERS * PER));
        assert_eq!(errno(pop_u32(&*m)), Errno::ENOENT);
    }
}
