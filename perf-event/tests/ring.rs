//! The mmap ring buffer: metadata page, record layout (byte-exact), wrap, LOST, wake-ups,
//! poll, overwrite mode, pause, and what `bpf_perf_event_output` sees.

mod common;

use std::sync::atomic::Ordering;

use bpf_subsys::helpers::PerfEventOutput;
use common::{errno, header, sw, u64s, View, K};
use perf_event::WakeKey;
use syscall_abi::perf::*;
use syscall_abi::Errno;

const BPF_OUTPUT: u64 = 10;

fn output_event(k: &K, sample_type: u64, cpu: i32) -> std::sync::Arc<perf_event::PerfEvent> {
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = sample_type;
    a.sample_period = 1;
    a.wakeup_events = 1;
    k.open(&a, -1, cpu, None, 0).unwrap()
}

#[test]
fn mmap_sizes_and_metadata() {
    let k = K::new();
    let e = output_event(&k, PERF_SAMPLE_RAW, 0);
    assert_eq!(errno(e.mmap(0, 0, true)), Errno::EINVAL);
    assert_eq!(errno(e.mmap(0, 4, true)), Errno::EINVAL);
    assert_eq!(errno(e.mmap(0, 6, true)), Errno::EINVAL);
    assert_eq!(errno(e.mmap(1, 3, true)), Errno::EINVAL);
    let r = e.mmap(0, 3, true).unwrap();
    assert_eq!(r.page_count(), 3);
    let p = View { ring: &r }.page();
    assert_eq!((p.version, p.compat_version, p.index), (0, 0, 0));
    assert_eq!((p.data_offset, p.data_size, p.data_head, p.data_tail), (4096, 8192, 0, 0));
    assert_eq!(p.cap_bit0_is_deprecated(), 1);
    assert_eq!((p.cap_user_time(), p.cap_user_rdpmc()), (0, 0));
    assert_eq!(p.size, 96);
    // A second mapping shares the ring, and must have the same size.
    assert_eq!(errno(e.mmap(0, 5, true)), Errno::EINVAL);
    let r2 = e.mmap(0, 3, true).unwrap();
    assert_eq!(r.pages().as_ptr(), r2.pages().as_ptr());
    assert_eq!(k.h.live_pages.load(Ordering::SeqCst), 1);
    drop(r);
    assert_eq!(k.h.live_pages.load(Ordering::SeqCst), 1);
    drop(r2);
    assert_eq!(k.h.live_pages.load(Ordering::SeqCst), 0);
    // Only the metadata page: allowed, holds nothing.
    let r = e.mmap(0, 1, true).unwrap();
    assert_eq!(View { ring: &r }.page().data_size, 0);
    assert_eq!(e.bpf_output(0, b"x").unwrap_err().errno, Errno::ENOSPC);
}

#[test]
fn raw_sample_is_padded_to_8_bytes() {
    let k = K::new();
    let e = output_event(&k, PERF_SAMPLE_RAW, 0);
    assert_eq!(e.bpf_output(0, b"hello").unwrap_err().errno, Errno::ENOSPC, "no ring yet");
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    e.bpf_output(0, b"hello").unwrap();
    assert_eq!(v.head(), 24);
    let rec = v.data(0, 24);
    assert_eq!(header(&rec), (PerfRecordType::Sample as u32, PERF_RECORD_MISC_KERNEL, 24));
    assert_eq!(u32::from_ne_bytes(rec[8..12].try_into().unwrap()), 12);
    assert_eq!(&rec[12..17], b"hello");
    assert_eq!(&rec[17..24], &[0; 7]);
    // 4 bytes of data: 4 + 4 = 8, no padding.
    e.bpf_output(0, b"abcd").unwrap();
    let rec = v.data(24, 16);
    assert_eq!(header(&rec).2, 16);
    assert_eq!(u32::from_ne_bytes(rec[8..12].try_into().unwrap()), 4);
    assert_eq!(&rec[12..16], b"abcd");
}

#[test]
fn sample_fields_in_linux_order() {
    let k = K::new();
    k.h.cpu.store(1, Ordering::SeqCst);
    let st = PERF_SAMPLE_IDENTIFIER
        | PERF_SAMPLE_IP
        | PERF_SAMPLE_TID
        | PERF_SAMPLE_TIME
        | PERF_SAMPLE_ADDR
        | PERF_SAMPLE_ID
        | PERF_SAMPLE_STREAM_ID
        | PERF_SAMPLE_CPU
        | PERF_SAMPLE_PERIOD
        | PERF_SAMPLE_RAW;
    let e = output_event(&k, st, 1);
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    e.bpf_output(1, &[7u8; 8]).unwrap();
    let id = u64::from(e.id());
    let size = 8 + 9 * 8 + 16;
    assert_eq!(v.head(), size as u64);
    let rec = v.data(0, size);
    assert_eq!(header(&rec).2 as usize, size);
    let w = u64s(&rec[8..80]);
    let now = k.h.clock.load(Ordering::SeqCst);
    assert_eq!(w, vec![id, 0, 1000 | (1001 << 32), now, 0, id, id, 1, 0]);
    assert_eq!(u32::from_ne_bytes(rec[80..84].try_into().unwrap()), 12);
    assert_eq!(&rec[84..92], &[7; 8]);
    assert_eq!(&rec[92..96], &[0; 4]);
}

#[test]
fn output_errors_follow_bpf_trace_c() {
    let k = K::new();
    let e = output_event(&k, PERF_SAMPLE_RAW, 0);
    let _r = e.mmap(0, 2, true).unwrap();
    assert_eq!(e.bpf_output(1, b"x").unwrap_err().errno, Errno::EOPNOTSUPP);
    e.ioctl(PERF_EVENT_IOC_DISABLE, 0).unwrap();
    assert_eq!(e.bpf_output(0, b"x").unwrap_err().errno, Errno::EOPNOTSUPP);
    let c = k.open(&sw(0), -1, 0, None, 0).unwrap();
    assert_eq!(c.bpf_output(0, b"x").unwrap_err().errno, Errno::EINVAL);
    // A per-task event runs on whatever CPU its task is on.
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_RAW;
    let t2 = k.open(&a, 1001, -1, None, 0).unwrap();
    let _r2 = t2.mmap(0, 2, true).unwrap();
    k.h.cpu.store(1, Ordering::SeqCst);
    t2.bpf_output(1, b"x").unwrap();
    k.h.tid.store(1000, Ordering::SeqCst);
    assert_eq!(t2.bpf_output(1, b"x").unwrap_err().errno, Errno::EOPNOTSUPP);
}

#[test]
fn wrap_and_lost_records() {
    let k = K::new();
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_RAW;
    a.set_sample_id_all(1);
    a.sample_type |= PERF_SAMPLE_ID;
    let e = k.open(&a, -1, 0, None, 0).unwrap();
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    let data = vec![0xabu8; 1000];
    // Each record: 8 header + 8 id + (1000 + 4 → 1008) raw = 1024.
    for _ in 0..4 {
        e.bpf_output(0, &data).unwrap();
    }
    assert_eq!(v.head(), 4096);
    assert_eq!(e.bpf_output(0, &data).unwrap_err().errno, Errno::ENOSPC);
    assert_eq!(e.bpf_output(0, &data).unwrap_err().errno, Errno::ENOSPC);
    // The consumer frees one record: LOST (8 + 16 + 8 id trailer = 32) + record = 1056 > 1024.
    v.set_tail(1024);
    assert_eq!(e.bpf_output(0, &data).unwrap_err().errno, Errno::ENOSPC);
    v.set_tail(2048);
    e.bpf_output(0, &data).unwrap();
    assert_eq!(v.head(), 4096 + 32 + 1024);
    let lost = v.data(4096, 32);
    assert_eq!(header(&lost), (PerfRecordType::Lost as u32, 0, 32));
    assert_eq!(u64s(&lost[8..32]), vec![u64::from(e.id()), 3, u64::from(e.id())]);
    // The sample wrapped from offset 32 of the area... it starts at 4128 = 32 (mod 4096).
    let rec = v.data(4128, 1024);
    assert_eq!(header(&rec), (PerfRecordType::Sample as u32, PERF_RECORD_MISC_KERNEL, 1024));
    assert_eq!(u64s(&rec[8..16]), vec![u64::from(e.id())]);
    assert_eq!(u32::from_ne_bytes(rec[16..20].try_into().unwrap()), 1004);
    assert!(rec[20..1020].iter().all(|&b| b == 0xab));
    // read_format LOST counts the dropped samples.
    let mut a = sw(BPF_OUTPUT);
    a.read_format = PERF_FORMAT_LOST;
    let e2 = k.open(&a, -1, 0, None, 0).unwrap();
    let _r2 = e2.mmap(0, 1, true).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(e.read(&mut buf), Ok(8));
    let _ = e2.bpf_output(0, b"x");
    assert_eq!(e2.read(&mut buf), Ok(16));
    assert_eq!(u64s(&buf), vec![0, 1]);
}

#[test]
fn wrapped_record_bytes_straddle_the_end() {
    let k = K::new();
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_RAW;
    let e = k.open(&a, -1, 0, None, 0).unwrap();
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    let big = vec![1u8; 4076]; // record 4088
    e.bpf_output(0, &big).unwrap();
    v.set_tail(4088);
    let small: Vec<u8> = (0..20u8).collect(); // record 32: bytes 4088..4120
    e.bpf_output(0, &small).unwrap();
    assert_eq!(v.head(), 4120);
    let rec = v.data(4088, 32);
    assert_eq!(header(&rec), (PerfRecordType::Sample as u32, PERF_RECORD_MISC_KERNEL, 32));
    assert_eq!(&rec[12..32], &small[..]);
}

#[test]
fn wakeups_go_through_irq_work() {
    let k = K::new();
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_RAW;
    a.wakeup_events = 2;
    let e = k.open(&a, -1, 0, None, 0).unwrap();
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    assert!(!e.poll_ready().readable);
    e.bpf_output(0, b"1").unwrap();
    assert_eq!(k.h.irq_works.load(Ordering::SeqCst), 0);
    assert!(!e.poll_ready().readable);
    e.bpf_output(0, b"2").unwrap();
    assert_eq!(k.h.irq_works.load(Ordering::SeqCst), 1);
    assert!(k.h.take_wakes().is_empty(), "no wake from event context");
    k.perf.irq_work_run();
    assert_eq!(k.h.take_wakes(), vec![WakeKey::Event(e.id())]);
    k.perf.irq_work_run();
    assert!(k.h.take_wakes().is_empty());
    assert!(e.poll_ready().readable);
    assert!(e.poll_ready().readable, "level-triggered until consumed");
    v.set_tail(v.head());
    assert!(!e.poll_ready().readable);
    // Watermark mode: wake when the head passes wakeup_watermark bytes.
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_RAW;
    a.set_watermark(1);
    a.wakeup_events = 100; // wakeup_watermark
    let w = k.open(&a, -1, 0, None, 0).unwrap();
    let _r = w.mmap(0, 2, true).unwrap();
    w.bpf_output(0, &[0; 60]).unwrap(); // 72 bytes
    assert_eq!(k.h.irq_works.load(Ordering::SeqCst), 1);
    w.bpf_output(0, &[0; 60]).unwrap(); // 144 > 100
    assert_eq!(k.h.irq_works.load(Ordering::SeqCst), 2);
    k.perf.irq_work_run();
    assert_eq!(k.h.take_wakes(), vec![WakeKey::Event(w.id())]);
}

#[test]
fn set_output_shares_a_ring_and_wakes_its_events() {
    let k = K::new();
    let a = output_event(&k, PERF_SAMPLE_RAW | PERF_SAMPLE_ID, 0);
    let b = output_event(&k, PERF_SAMPLE_RAW | PERF_SAMPLE_ID, 0);
    let c = output_event(&k, PERF_SAMPLE_RAW, 1);
    let fa = k.fd(&a);
    let fc = k.fd(&c);
    // The target has no ring yet.
    assert_eq!(errno(b.ioctl(PERF_EVENT_IOC_SET_OUTPUT, u64::from(fa))), Errno::EINVAL);
    let r = a.mmap(0, 2, true).unwrap();
    let _rc = c.mmap(0, 2, true).unwrap();
    assert_eq!(errno(b.ioctl(PERF_EVENT_IOC_SET_OUTPUT, u64::from(fc))), Errno::EINVAL, "other cpu");
    assert_eq!(errno(b.ioctl(PERF_EVENT_IOC_SET_OUTPUT, 77)), Errno::EBADF);
    assert_eq!(errno(b.ioctl(PERF_EVENT_IOC_SET_OUTPUT, 1)), Errno::EBADF);
    b.ioctl(PERF_EVENT_IOC_SET_OUTPUT, u64::from(fa)).unwrap();
    // A mapping of b shares a's ring.
    let rb = b.mmap(0, 2, true).unwrap();
    assert_eq!(r.pages().as_ptr(), rb.pages().as_ptr());
    drop(rb);
    let v = View { ring: &r };
    b.bpf_output(0, b"b").unwrap();
    let rec = v.data(0, 32);
    assert_eq!(u64s(&rec[8..16]), vec![u64::from(b.id())]);
    k.perf.irq_work_run();
    let mut w = k.h.take_wakes();
    w.sort_by_key(|k| match k {
        WakeKey::Event(i) => *i,
        WakeKey::TracePipe => 0,
    });
    assert_eq!(w, vec![WakeKey::Event(a.id()), WakeKey::Event(b.id())]);
    // a cannot redirect while it has its own mapping; b can go back to none.
    assert_eq!(errno(a.ioctl(PERF_EVENT_IOC_SET_OUTPUT, u64::MAX)), Errno::EINVAL);
    b.ioctl(PERF_EVENT_IOC_SET_OUTPUT, u64::MAX).unwrap();
    assert_eq!(b.bpf_output(0, b"b").unwrap_err().errno, Errno::ENOSPC);
}

#[test]
fn overwrite_mode_and_pause() {
    let k = K::new();
    let e = output_event(&k, PERF_SAMPLE_RAW, 0);
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT, 1)), Errno::EINVAL);
    let r = e.mmap(0, 2, false).unwrap();
    let v = View { ring: &r };
    for _ in 0..10 {
        e.bpf_output(0, &[0; 1000]).unwrap();
    }
    assert_eq!(v.head(), 10 * 1016);
    e.ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT, 1).unwrap();
    assert!(e.bpf_output(0, b"x").is_err());
    e.ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT, 0).unwrap();
    e.bpf_output(0, b"x").unwrap();
}

#[test]
fn closing_frees_the_ring() {
    let k = K::new();
    let e = output_event(&k, PERF_SAMPLE_RAW, 0);
    let r = e.mmap(0, 2, true).unwrap();
    assert_eq!(k.h.live_pages.load(Ordering::SeqCst), 1);
    drop(e);
    assert_eq!(k.h.live_pages.load(Ordering::SeqCst), 1, "the mapping keeps the pages");
    drop(r);
    assert_eq!(k.h.live_pages.load(Ordering::SeqCst), 0);
}
