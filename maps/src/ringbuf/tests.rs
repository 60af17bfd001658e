//! Tests of the BPF ring buffer against Linux 6.1's behaviour.

use std::boxed::Box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::vec;
use std::vec::Vec;

use core::ptr::NonNull;

use syscall_abi::bpf::*;
use syscall_abi::{err, Errno, Result};

use super::*;
use crate::host::{FdKind, FdObject};
use crate::test_host::{attr, def_of, TestHost};

const PAGE: usize = 4096;

fn new_map(host: &Arc<TestHost>, max_entries: u32) -> Arc<dyn BpfMap> {
    crate::create(&attr(MapType::Ringbuf, 0, 0, max_entries, 0), &host.dyn_host()).unwrap()
}

fn rb(map: &Arc<dyn BpfMap>) -> &RingBuf {
    map.as_any().downcast_ref::<RingBuf>().unwrap()
}

/// What user space sees through its mmap: pointers into the shared pages.
fn user_base(map: &Arc<dyn BpfMap>) -> *mut u8 {
    map.shared_pages().unwrap().as_ptr().as_ptr()
}

fn user_cons(map: &Arc<dyn BpfMap>) -> usize {
    // SAFETY: consumer page of a live map.
    unsafe { (*(user_base(map) as *const AtomicUsize)).load(Ordering::Acquire) }
}

fn set_user_cons(map: &Arc<dyn BpfMap>, pos: usize) {
    // SAFETY: consumer page of a live map, user-writable.
    unsafe { (*(user_base(map) as *const AtomicUsize)).store(pos, Ordering::Release) }
}

fn user_prod(map: &Arc<dyn BpfMap>) -> usize {
    // SAFETY: producer page of a live map.
    unsafe { (*(user_base(map).add(PAGE) as *const AtomicUsize)).load(Ordering::Acquire) }
}

/// The header at data offset `off`, as user space reads it: `(len, pg_off)`.
fn user_header(map: &Arc<dyn BpfMap>, off: usize) -> (u32, u32) {
    // SAFETY: inside the data area of a live map.
    unsafe {
        let p = user_base(map).add(2 * PAGE + off) as *const u32;
        (p.read_volatile(), p.add(1).read_volatile())
    }
}

/// The byte at data offset `off` (`off < 2 * size`: either mapping).
fn user_byte(map: &Arc<dyn BpfMap>, off: usize) -> u8 {
    // SAFETY: inside the doubly mapped data area of a live map.
    unsafe { user_base(map).add(2 * PAGE + off).read_volatile() }
}

fn drain(r: &RingBuf) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    r.consume(|s| {
        out.push(s.to_vec());
        Ok(())
    })
    .unwrap();
    out
}

fn fill(p: NonNull<u8>, data: &[u8]) {
    // SAFETY: the tests only write reservations of at least `data.len()` bytes.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p.as_ptr(), data.len()) }
}

fn counter(r: &RingBuf) -> Arc<AtomicUsize> {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    r.set_notify(Some(Arc::new(move || {
        n2.fetch_add(1, Ordering::SeqCst);
    })));
    n
}

fn errno<T>(r: Result<T>) -> Errno {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.errno,
    }
}

// ---- creation ----

#[test]
fn bad_create_attributes_table() {
    let host = TestHost::new(2);
    let p = PAGE as u32;
    let cases: &[(u32, u32, u32, u32, Errno)] = &[
        // key_size, value_size, max_entries, map_flags → errno
        (4, 0, p, 0, Errno::EINVAL),
        (0, 4, p, 0, Errno::EINVAL),
        (0, 8, p, 0, Errno::EINVAL),
        (0, 0, 0, 0, Errno::EINVAL),
        (0, 0, 3 * p, 0, Errno::EINVAL),
        (0, 0, p + 1, 0, Errno::EINVAL),
        (0, 0, 2048, 0, Errno::EINVAL),
        (0, 0, 8, 0, Errno::EINVAL),
        (0, 0, u32::MAX, 0, Errno::EINVAL),
        (0, 0, p, BPF_F_NO_PREALLOC, Errno::EINVAL),
        (0, 0, p, BPF_F_RDONLY, Errno::EINVAL),
        (0, 0, p, BPF_F_WRONLY, Errno::EINVAL),
        (0, 0, p, BPF_F_RDONLY_PROG, Errno::EINVAL),
        (0, 0, p, BPF_F_MMAPABLE, Errno::EINVAL),
        (0, 0, p, BPF_F_INNER_MAP, Errno::EINVAL),
        (0, 0, p, 1 << 31, Errno::EINVAL),
        (0, 0, p, BPF_F_NUMA_NODE | BPF_F_ZERO_SEED, Errno::EINVAL),
    ];
    for &(k, v, m, f, want) in cases {
        let got = crate::create(&attr(MapType::Ringbuf, k, v, m, f), &host.dyn_host()).err().map(|e| e.errno);
        assert_eq!(got, Some(want), "key {k} value {v} max {m} flags {f:#x}");
    }
    // map_extra is only for bloom filters (common check in `create`).
    let mut a = attr(MapType::Ringbuf, 0, 0, p, 0);
    a.map_extra = 1;
    assert_eq!(errno(crate::create(&a, &host.dyn_host())), Errno::EINVAL);
    // Valid: plain, numa flag, larger power of two.
    for (m, f) in [(p, 0), (p, BPF_F_NUMA_NODE), (16 * p, 0)] {
        let a = attr(MapType::Ringbuf, 0, 0, m, f);
        let map = crate::create(&a, &host.dyn_host()).unwrap();
        assert_eq!(*map.def(), def_of(&a));
    }
}

/// A host with tiny pages, so that Linux's RINGBUF_MAX_DATA_SZ fits in a u32.
struct TinyPages(Arc<TestHost>);

impl MapHost for TinyPages {
    fn possible_cpus(&self) -> u32 {
        self.0.possible_cpus()
    }
    fn current_cpu(&self) -> u32 {
        self.0.current_cpu()
    }
    fn random_u32(&self) -> u32 {
        self.0.random_u32()
    }
    fn page_size(&self) -> usize {
        16
    }
    fn alloc_shared(&self, _pages: usize, _repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        err(Errno::ENOMEM, "test: no allocation expected")
    }
    fn resolve_fd(&self, kind: FdKind, fd: u32) -> Result<Arc<dyn FdObject>> {
        self.0.resolve_fd(kind, fd)
    }
}

#[test]
fn too_large_is_e2big_checked_before_allocation_and_after_einval() {
    let host: Arc<dyn MapHost> = Arc::new(TinyPages(TestHost::new(1)));
    // (2^24 - 3) pages of 16 bytes < 2^28: E2BIG, without calling alloc_shared (ENOMEM).
    let big = attr(MapType::Ringbuf, 0, 0, 1 << 28, 0);
    assert_eq!(errno(crate::create(&big, &host)), Errno::E2BIG);
    // Flags and sizes are checked first.
    let big_bad_flags = attr(MapType::Ringbuf, 0, 0, 1 << 28, BPF_F_RDONLY);
    assert_eq!(errno(crate::create(&big_bad_flags, &host)), Errno::EINVAL);
    let big_key = attr(MapType::Ringbuf, 4, 0, 1 << 28, 0);
    assert_eq!(errno(crate::create(&big_key, &host)), Errno::EINVAL);
    // Just under the limit: passes the checks and reaches the allocation.
    let ok = attr(MapType::Ringbuf, 0, 0, 1 << 27, 0);
    assert_eq!(errno(crate::create(&ok, &host)), Errno::ENOMEM);
}

#[test]
fn layout_memory_usage_and_syscall_side_errnos() {
    let host = TestHost::new(2);
    let map = new_map(&host, 4 * PAGE as u32);
    let pages = map.shared_pages().unwrap();
    assert_eq!(pages.pages(), 2 + 4);
    assert_eq!(pages.as_ptr().as_ptr() as usize % PAGE, 0);
    assert_eq!(map.memory_usage(), core::mem::size_of::<RingBuf>() + 6 * PAGE);
    assert_eq!((user_cons(&map), user_prod(&map)), (0, 0));
    assert_eq!(map.syscall_value_size(), 0);

    let mut v = [0u8; 0];
    assert_eq!(errno(map.lookup(&[], &mut v, 0)), Errno::ENOTSUPP);
    assert_eq!(errno(map.lookup(&[], &mut v, BPF_F_LOCK)), Errno::EINVAL);
    assert_eq!(errno(map.lookup(&[], &mut v, 8)), Errno::EINVAL);
    assert_eq!(errno(map.update(&[], &[], BPF_ANY)), Errno::ENOTSUPP);
    assert_eq!(errno(map.update(&[], &[], BPF_EXIST)), Errno::ENOTSUPP);
    assert_eq!(errno(map.update(&[], &[], BPF_F_LOCK)), Errno::EINVAL);
    assert_eq!(errno(map.delete(&[])), Errno::ENOTSUPP);
    assert_eq!(errno(map.get_next_key(None, &mut v)), Errno::ENOTSUPP);
    assert_eq!(errno(map.get_next_key(Some(&[]), &mut v)), Errno::ENOTSUPP);
    assert_eq!(errno(map.lookup_and_delete(None, &mut v, 0)), Errno::ENOTSUPP);
    assert_eq!(errno(map.lookup_and_delete(None, &mut v, BPF_F_LOCK)), Errno::EINVAL);
    assert_eq!(map.update_batch(&[], &[], 1, 0).result.unwrap_err().errno, Errno::ENOTSUPP);
    assert_eq!(map.delete_batch(&[], 1, 0).result.unwrap_err().errno, Errno::ENOTSUPP);
    let guard = crate::reclaim::read_lock();
    assert!(map.prog_lookup(&[], &guard).is_none());
    drop(guard);
    assert_eq!(errno(map.push(&[], 0)), Errno::EINVAL);
}

#[test]
fn mmap_rules_match_linux() {
    let host = TestHost::new(2);
    let map = new_map(&host, 2 * PAGE as u32);
    let r = rb(&map);
    let p = PAGE as u64;
    let data = 2 * 2 * p;
    assert_eq!(r.check_mmap(0, p, true), Ok(()));
    assert_eq!(errno(r.check_mmap(0, 2 * p, true)), Errno::EPERM);
    assert_eq!(errno(r.check_mmap(1, p, true)), Errno::EPERM);
    assert_eq!(r.check_mmap(1, p + data, false), Ok(())); // libbpf's read-only mapping
    assert_eq!(r.check_mmap(0, 2 * p + data, false), Ok(()));
    assert_eq!(errno(r.check_mmap(0, 3 * p + data, false)), Errno::EINVAL);
    assert_eq!(errno(r.check_mmap(1, 2 * p + data, false)), Errno::EINVAL);
    assert_eq!(errno(r.check_mmap(u64::MAX / 2, p, false)), Errno::EINVAL);
    assert_eq!(errno(r.check_mmap(1, u64::MAX, false)), Errno::EINVAL);
}

// ---- records ----

#[test]
fn reserve_submit_consume_round_trip() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    let s = r.reserve(16, 0).unwrap();
    assert_eq!(s.as_ptr() as usize, user_base(&map) as usize + 2 * PAGE + 8);
    fill(s, b"0123456789abcdef");
    assert_eq!(user_prod(&map), 24);
    assert!(drain(r).is_empty(), "busy record must not be consumed");
    r.submit(s, 0).unwrap();
    r.output(b"xyz", 0).unwrap();
    assert_eq!(user_prod(&map), 24 + 16);
    assert_eq!(drain(r), vec![b"0123456789abcdef".to_vec(), b"xyz".to_vec()]);
    assert_eq!(user_cons(&map), 40);
    assert!(drain(r).is_empty());
    // Zero-length sample.
    r.output(&[], 0).unwrap();
    assert_eq!(drain(r), vec![Vec::<u8>::new()]);
    assert_eq!(user_cons(&map), 48);
}

#[test]
fn header_bits_and_pg_off_as_linux() {
    let host = TestHost::new(2);
    let map = new_map(&host, 2 * PAGE as u32);
    let r = rb(&map);
    let a = r.reserve(5, 0).unwrap();
    // pg_off counts Linux's kernel-only page + consumer + producer pages.
    assert_eq!(user_header(&map, 0), (5 | BPF_RINGBUF_BUSY_BIT, 3));
    assert_eq!(user_prod(&map), 16);
    r.submit(a, 0).unwrap();
    assert_eq!(user_header(&map, 0), (5, 3));
    let b = r.reserve(7, 0).unwrap();
    assert_eq!(user_header(&map, 16), (7 | BPF_RINGBUF_BUSY_BIT, 3));
    r.discard(b, 0).unwrap();
    assert_eq!(user_header(&map, 16), (7 | BPF_RINGBUF_DISCARD_BIT, 3));
    // A record that starts in the second data page.
    r.output(&[0u8; PAGE - 32 - 8], 0).unwrap();
    assert_eq!(user_prod(&map), PAGE);
    r.output(&[1], 0).unwrap();
    assert_eq!(user_header(&map, PAGE), (1, 4));
    assert_eq!(user_prod(&map), PAGE + 16);
}

#[test]
fn discarded_records_are_skipped() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    r.output(b"one", 0).unwrap();
    let d = r.reserve(100, 0).unwrap();
    fill(d, &[0xee; 100]);
    r.discard(d, 0).unwrap();
    r.output(b"three", 0).unwrap();
    let mut seen = 0u64;
    let n = r
        .consume(|s| {
            seen += 1;
            assert_ne!(s.first(), Some(&0xee));
            Ok(())
        })
        .unwrap();
    assert_eq!((n, seen), (2, 2));
    // The discarded record's space is consumed too.
    assert_eq!(user_cons(&map), 16 + 112 + 16);
    assert_eq!(user_cons(&map), user_prod(&map));
}

#[test]
fn record_crossing_the_end_is_contiguous_through_the_double_mapping() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    // Move to 16 bytes before the end of the data area.
    r.output(&[0u8; PAGE - 16 - 8], 0).unwrap();
    assert_eq!(drain(r).len(), 1);
    assert_eq!(user_prod(&map), PAGE - 16);
    let pattern: Vec<u8> = (0..100u8).collect();
    let s = r.reserve(100, 0).unwrap();
    // Header in the last 16 bytes of the first mapping, sample runs into the second one.
    assert_eq!(s.as_ptr() as usize, user_base(&map) as usize + 2 * PAGE + PAGE - 8);
    fill(s, &pattern);
    r.submit(s, 0).unwrap();
    // The same bytes are at the start of the data area (same physical pages).
    assert_eq!(user_byte(&map, PAGE - 8), 0);
    for i in 8..100 {
        assert_eq!(user_byte(&map, i - 8), i as u8);
        assert_eq!(user_byte(&map, PAGE + i - 8), i as u8);
    }
    assert_eq!(drain(r), vec![pattern]);
    assert_eq!(user_cons(&map), PAGE - 16 + 112);
}

#[test]
fn full_ring_fails_reserve_until_consumed() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    // Sizes: over the record limit, or never fitting (len == ring size).
    assert!(r.reserve(MAX_RECORD_SZ + 1, 0).is_none());
    assert!(r.reserve(u64::MAX, 0).is_none());
    assert!(r.reserve(PAGE as u64 - 8, 0).is_none());
    assert_eq!(errno(r.output(&[0u8; PAGE - 8], 0)), Errno::EAGAIN);
    assert_eq!(user_prod(&map), 0);
    // The producer may get at most size - 1 bytes ahead: three 1 KiB records fit, not four.
    let recs: Vec<_> = (0..3).map(|_| r.reserve(1024 - 8, 0).unwrap()).collect();
    assert!(r.reserve(1024 - 8, 0).is_none());
    assert_eq!(errno(r.output(&[0u8; 1024 - 8], 0)), Errno::EAGAIN);
    r.output(&[7u8; 1024 - 16], 0).unwrap(); // a 1016-byte record: up to size - 8
    for s in recs {
        r.submit(s, 0).unwrap();
    }
    // All committed, none consumed: an 8-byte record would put the producer size ahead.
    assert!(r.reserve(0, 0).is_none());
    assert_eq!(errno(r.output(&[], 0)), Errno::EAGAIN);
    assert_eq!(user_prod(&map), PAGE - 8);
    assert_eq!(drain(r).len(), 4);
    let s = r.reserve(PAGE as u64 - 16, 0).unwrap();
    r.submit(s, 0).unwrap();
    assert_eq!(drain(r).len(), 1);
}

#[test]
fn busy_record_blocks_consumer_until_submitted_out_of_order() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    let a = r.reserve(8, 0).unwrap();
    let b = r.reserve(8, 0).unwrap();
    fill(a, b"AAAAAAAA");
    fill(b, b"BBBBBBBB");
    r.submit(b, 0).unwrap();
    assert!(drain(r).is_empty());
    assert_eq!(user_cons(&map), 0);
    r.submit(a, 0).unwrap();
    assert_eq!(drain(r), vec![b"AAAAAAAA".to_vec(), b"BBBBBBBB".to_vec()]);
    // Consumer stops in the middle: records after a busy one wait.
    r.output(b"1", 0).unwrap();
    let c = r.reserve(1, 0).unwrap();
    r.output(b"3", 0).unwrap();
    assert_eq!(drain(r), vec![b"1".to_vec()]);
    r.discard(c, 0).unwrap();
    assert_eq!(drain(r), vec![b"3".to_vec()]);
}

#[test]
fn query_values() {
    let host = TestHost::new(2);
    let map = new_map(&host, 2 * PAGE as u32);
    let r = rb(&map);
    assert_eq!(r.query(BPF_RB_RING_SIZE), 2 * PAGE as u64);
    assert_eq!(r.query(BPF_RB_AVAIL_DATA), 0);
    r.output(&[1, 2, 3], 0).unwrap();
    let s = r.reserve(20, 0).unwrap();
    assert_eq!(r.query(BPF_RB_AVAIL_DATA), 16 + 32);
    assert_eq!(r.query(BPF_RB_PROD_POS), 48);
    assert_eq!(r.query(BPF_RB_CONS_POS), 0);
    assert_eq!(r.query(4), 0);
    assert_eq!(r.query(u64::MAX), 0);
    r.submit(s, 0).unwrap();
    drain(r);
    assert_eq!(r.query(BPF_RB_CONS_POS), 48);
    assert_eq!(r.query(BPF_RB_AVAIL_DATA), 0);
    // Values user space wrote to consumer_pos are reported as they are.
    set_user_cons(&map, 40);
    assert_eq!(r.query(BPF_RB_CONS_POS), 40);
    assert_eq!(r.query(BPF_RB_AVAIL_DATA), 8);
}

#[test]
fn poll_ready_tracks_positions() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    assert!(!r.poll_ready());
    let s = r.reserve(4, 0).unwrap();
    assert!(r.poll_ready(), "Linux reports EPOLLIN once producer_pos moved");
    r.submit(s, 0).unwrap();
    drain(r);
    assert!(!r.poll_ready());
}

// ---- wake-ups ----

#[test]
fn default_wakeup_only_when_consumer_caught_up() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    let n = counter(r);
    r.output(b"a", 0).unwrap(); // consumer at 0 == this record
    assert_eq!(n.load(Ordering::SeqCst), 1);
    r.output(b"b", 0).unwrap(); // consumer still at the first record
    assert_eq!(n.load(Ordering::SeqCst), 1);
    drain(r);
    // Two reservations; submitting the second first does not wake (consumer waits for
    // the first), submitting the first does.
    let a = r.reserve(8, 0).unwrap();
    let b = r.reserve(8, 0).unwrap();
    r.submit(b, 0).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 1);
    r.discard(a, 0).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2);
    drain(r);
    // Invalid flag bits are ignored by submit.
    let c = r.reserve(8, 0).unwrap();
    r.submit(c, 0xf0).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 3);
}

#[test]
fn no_wakeup_never_force_wakeup_always() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    let n = counter(r);
    r.output(b"a", BPF_RB_NO_WAKEUP).unwrap();
    let s = r.reserve(8, 0).unwrap();
    r.discard(s, BPF_RB_NO_WAKEUP).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 0);
    drain(r);
    let s = r.reserve(8, 0).unwrap();
    r.submit(s, BPF_RB_NO_WAKEUP).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 0, "caught up, but NO_WAKEUP");
    // FORCE_WAKEUP although the consumer lags behind; FORCE wins over NO_WAKEUP.
    r.output(b"b", BPF_RB_FORCE_WAKEUP).unwrap();
    let s = r.reserve(8, 0).unwrap();
    r.submit(s, BPF_RB_FORCE_WAKEUP | BPF_RB_NO_WAKEUP).unwrap();
    let s = r.reserve(8, 0).unwrap();
    r.discard(s, BPF_RB_FORCE_WAKEUP).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 3);
    // Removing the hook stops notifications; replacing it switches to the new one.
    r.set_notify(None);
    r.output(b"c", BPF_RB_FORCE_WAKEUP).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 3);
    let m = counter(r);
    let m2 = counter(r);
    r.output(b"d", BPF_RB_FORCE_WAKEUP).unwrap();
    assert_eq!((n.load(Ordering::SeqCst), m.load(Ordering::SeqCst), m2.load(Ordering::SeqCst)), (3, 0, 1));
}

// ---- invalid use ----

#[test]
fn invalid_flags() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    for f in [4, 1 << 63, BPF_RB_NO_WAKEUP | 8] {
        assert_eq!(errno(r.output(b"x", f)), Errno::EINVAL);
    }
    for f in [BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, 4] {
        assert!(r.reserve(8, f).is_none(), "reserve flags {f}");
    }
    assert_eq!(user_prod(&map), 0, "nothing was reserved");
}

#[test]
fn bad_sample_pointers_are_rejected_without_damage() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let other = new_map(&host, PAGE as u32);
    let r = rb(&map);
    let s = r.reserve(64, 0).unwrap();
    let o = rb(&other).reserve(64, 0).unwrap();
    let data = user_base(&map) as usize + 2 * PAGE;
    let ptr = |a: usize| NonNull::new(a as *mut u8).unwrap();
    let bad = [
        NonNull::<u8>::dangling(),
        o,                                 // another ring's sample
        ptr(data),                         // header address, not sample
        ptr(data + 9),                     // misaligned
        ptr(data + 8 + 16),                // inside the sample
        ptr(data + 8 + PAGE),              // second mapping
        ptr(data + 8 + 2 * PAGE),          // past the mapping
        ptr(data + 8 + 72),                // just after the reservation
        ptr(user_base(&map) as usize + 8), // consumer page
    ];
    for p in bad {
        assert_eq!(errno(r.submit(p, 0)), Errno::EINVAL, "{p:?}");
        assert_eq!(errno(r.discard(p, 0)), Errno::EINVAL, "{p:?}");
    }
    assert_eq!(user_header(&map, 0), (64 | BPF_RINGBUF_BUSY_BIT, 3));
    fill(s, &[5u8; 64]);
    r.submit(s, 0).unwrap();
    assert_eq!(errno(r.submit(s, 0)), Errno::EINVAL, "double submit");
    assert_eq!(errno(r.discard(s, 0)), Errno::EINVAL, "discard after submit");
    assert_eq!(drain(r), vec![vec![5u8; 64]]);
    rb(&other).submit(o, 0).unwrap();

    // A forged busy header left in consumed space (outside the reserved region).
    let s = r.reserve(64, 0).unwrap(); // at 72
    let fake = [(8 | BPF_RINGBUF_BUSY_BIT).to_le_bytes(), 3u32.to_le_bytes()].concat();
    let mut payload = vec![0u8; 64];
    payload[8..16].copy_from_slice(&fake); // header at data offset 72 + 8 + 8 = 88
    fill(s, &payload);
    r.submit(s, 0).unwrap();
    assert_eq!(drain(r).len(), 1);
    // The next reservation moves the pending position past the committed record.
    let t = r.reserve(8, 0).unwrap();
    assert_eq!(errno(r.submit(ptr(data + 96), 0)), Errno::EINVAL);
    r.submit(t, 0).unwrap();
    assert_eq!(user_header(&map, 88), (8 | BPF_RINGBUF_BUSY_BIT, 3), "forged header untouched");
}

#[test]
fn reentry_on_the_same_cpu_fails_like_nmi_trylock() {
    let host = TestHost::new(2);
    host.set_cpu(1);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    let held = r.lock.lock(1).unwrap();
    assert!(r.reserve(8, 0).is_none());
    assert_eq!(errno(r.output(b"x", 0)), Errno::EAGAIN);
    drop(held);
    r.output(b"x", 0).unwrap();
}

#[test]
fn consumer_pos_moved_by_user_cannot_overrun_busy_records() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    let a = r.reserve(1024 - 8, 0).unwrap();
    fill(a, &[0xaa; 1016]);
    // Malicious consumer skips the busy record.
    set_user_cons(&map, 1024);
    let b = r.reserve(2048 - 8, 0).unwrap(); // [1024, 3072)
    r.submit(b, 0).unwrap();
    // 3072 + 1024 - 0 > 4095: would reach the busy record's header, although
    // prod - cons = 3072 leaves room.
    assert!(r.reserve(1024 - 8, 0).is_none());
    assert_eq!(user_header(&map, 0), (1016 | BPF_RINGBUF_BUSY_BIT, 3));
    r.submit(a, 0).unwrap();
    assert_eq!(user_header(&map, 0), (1016, 3));
    // Once committed, the space is the consumer's to give away.
    set_user_cons(&map, 3072);
    let c = r.reserve(1024 - 8, 0).unwrap();
    r.submit(c, 0).unwrap();
    assert_eq!(user_prod(&map), 4096);
}

#[test]
fn consume_errors() {
    let host = TestHost::new(2);
    let map = new_map(&host, PAGE as u32);
    let r = rb(&map);
    r.output(b"a", 0).unwrap();
    r.output(b"b", 0).unwrap();
    // A callback error stops after the failing record, which counts as consumed.
    let e = r.consume(|_| err(Errno::EIO, "test")).unwrap_err();
    assert_eq!(e.errno, Errno::EIO);
    assert_eq!(user_cons(&map), 16);
    // Nested consume is refused.
    let mut nested = None;
    r.consume(|_| {
        nested = Some(r.consume(|_| Ok(())).map(|_| ()));
        Ok(())
    })
    .unwrap();
    assert_eq!(nested.map(errno), Some(Errno::EBUSY));
    assert_eq!(user_cons(&map), 32);
    // Consumer positions user space corrupted.
    r.output(&[0u8; 40], 0).unwrap(); // [32, 80)
    set_user_cons(&map, 36);
    assert_eq!(errno(r.consume(|_| Ok(()))), Errno::EINVAL);
    set_user_cons(&map, 40); // middle of the sample: zero bytes read as a header of len 0
    assert_eq!(r.consume(|_| Ok(())).unwrap(), 5);
    assert_eq!(user_cons(&map), 80);
    // A "header" longer than what was produced.
    r.output(&(100u32.to_le_bytes()), 0).unwrap(); // [80, 96): bytes at 88 hold len 100
    set_user_cons(&map, 88);
    assert_eq!(errno(r.consume(|_| Ok(()))), Errno::EINVAL);
    set_user_cons(&map, 96);
    assert_eq!(r.consume(|_| Ok(())).unwrap(), 0);
}

// ---- concurrency ----

#[test]
fn concurrent_producers_one_consumer_every_record_once_in_order() {
    const PRODUCERS: u32 = 6;
    const PER_PRODUCER: u32 = 5000;
    let host = TestHost::new(8);
    let map = new_map(&host, 4 * PAGE as u32);
    let wakeups = counter(rb(&map));
    // Every retry loop gives up at the deadline, so a broken consumer fails the test
    // instead of leaving producers spinning on a full ring.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let check_deadline = move || assert!(std::time::Instant::now() < deadline, "timed out");

    fn payload(p: u32, seq: u32) -> Vec<u8> {
        let extra = ((p * 31 + seq * 7) % 57) as usize;
        let mut v = Vec::with_capacity(8 + extra);
        v.extend_from_slice(&p.to_le_bytes());
        v.extend_from_slice(&seq.to_le_bytes());
        v.extend((0..extra).map(|i| (p as usize * 13 + seq as usize + i) as u8));
        v
    }

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let host = host.clone();
            let map = map.clone();
            std::thread::spawn(move || {
                host.set_cpu(p + 1);
                let r = rb(&map);
                for seq in 0..PER_PRODUCER {
                    let data = payload(p, seq);
                    if seq % 5 == 0 {
                        // A discarded reservation the consumer must never see.
                        loop {
                            if let Some(s) = r.reserve(12, 0) {
                                fill(s, &[0xff; 12]);
                                r.discard(s, 0).unwrap();
                                break;
                            }
                            check_deadline();
                            std::thread::yield_now();
                        }
                    }
                    loop {
                        let done = if seq % 2 == 0 {
                            r.output(&data, 0).map_err(|e| assert_eq!(e.errno, Errno::EAGAIN)).is_ok()
                        } else if let Some(s) = r.reserve(data.len() as u64, 0) {
                            fill(s, &data);
                            r.submit(s, 0).unwrap();
                            true
                        } else {
                            false
                        };
                        if done {
                            break;
                        }
                        check_deadline();
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();

    let consumer = {
        let host = host.clone();
        let map = map.clone();
        std::thread::spawn(move || {
            host.set_cpu(7);
            let r = rb(&map);
            let mut next = vec![0u32; PRODUCERS as usize];
            let mut total = 0u64;
            while total < u64::from(PRODUCERS * PER_PRODUCER) {
                check_deadline();
                total += r
                    .consume(|s| {
                        assert!(s.len() >= 8, "short record {s:?}");
                        let p = u32::from_le_bytes(s[0..4].try_into().unwrap());
                        let seq = u32::from_le_bytes(s[4..8].try_into().unwrap());
                        assert!(p < PRODUCERS, "bad producer {p}");
                        assert_eq!(seq, next[p as usize], "producer {p} out of order");
                        assert_eq!(s, &payload(p, seq)[..], "corrupt record {p}/{seq}");
                        next[p as usize] += 1;
                        Ok(())
                    })
                    .unwrap();
                std::thread::yield_now();
            }
            assert!(next.iter().all(|&n| n == PER_PRODUCER));
            total
        })
    };
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(consumer.join().unwrap(), u64::from(PRODUCERS * PER_PRODUCER));
    let r = rb(&map);
    assert_eq!(r.query(BPF_RB_AVAIL_DATA), 0);
    assert_eq!(r.consume(|_| Ok(())).unwrap(), 0);
    assert!(wakeups.load(Ordering::SeqCst) > 0);
}

#[test]
fn concurrent_default_wakeups_are_never_lost() {
    // The consumer sleeps (waits for a notification) whenever poll reports no data; with
    // default flags a lost wake-up would leave it waiting until the deadline.
    const PRODUCERS: u32 = 4;
    const PER_PRODUCER: u32 = 3000;
    let host = TestHost::new(8);
    let map = new_map(&host, PAGE as u32);
    let notes = counter(rb(&map));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let check_deadline = move || assert!(std::time::Instant::now() < deadline, "timed out");
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let host = host.clone();
            let map = map.clone();
            std::thread::spawn(move || {
                host.set_cpu(p + 1);
                for seq in 0..PER_PRODUCER {
                    while rb(&map).output(&[p.to_le_bytes(), seq.to_le_bytes()].concat(), 0).is_err() {
                        check_deadline();
                        std::thread::yield_now();
                    }
                    if seq % 64 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    }
                }
            })
        })
        .collect();
    host.set_cpu(7);
    let r = rb(&map);
    let mut total = 0u64;
    let mut sleeps = 0u64;
    while total < u64::from(PRODUCERS * PER_PRODUCER) {
        let seen = notes.load(Ordering::SeqCst);
        let n = r.consume(|_| Ok(())).unwrap();
        total += n;
        if n == 0 && !r.poll_ready() {
            sleeps += 1;
            while notes.load(Ordering::SeqCst) == seen {
                check_deadline();
                std::thread::yield_now();
            }
        }
    }
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(total, u64::from(PRODUCERS * PER_PRODUCER));
    assert!(sleeps > 0, "the consumer never waited: the test did not exercise wake-ups");
}
