//! ioctls and read(): enable/disable/reset/id/period/refresh, read_format (single and
//! group), the CPU clock driven by timer ticks.

mod common;

use std::sync::atomic::Ordering;

use common::{errno, header, sw, u64s, View, K};
use perf_event::X86PtRegs;
use syscall_abi::perf::*;
use syscall_abi::Errno;

const CPU_CLOCK: u64 = 0;
const PAGE_FAULTS: u64 = 2;

fn tick(k: &K, ns: u64) {
    k.h.advance(ns);
    let regs = X86PtRegs { rip: 0xffff_8000_0010_0004, ..X86PtRegs::ZERO };
    k.perf.timer_tick(&regs);
}

#[test]
fn enable_disable_reset_count_the_clock() {
    let k = K::new();
    let mut a = sw(CPU_CLOCK);
    a.set_disabled(1);
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
    let e = k.open(&a, -1, 0, None, 0).unwrap();
    tick(&k, 1000);
    assert_eq!(e.count(), 0);
    e.ioctl(PERF_EVENT_IOC_ENABLE, 0).unwrap();
    tick(&k, 1000);
    tick(&k, 500);
    assert_eq!(e.count(), 1500);
    // Another CPU's tick does not count for a CPU-bound event.
    k.h.cpu.store(1, Ordering::SeqCst);
    tick(&k, 700);
    k.h.cpu.store(0, Ordering::SeqCst);
    tick(&k, 300);
    assert_eq!(e.count(), 1800);
    let mut buf = [0u8; 32];
    assert_eq!(errno(e.read(&mut buf[..31])), Errno::ENOSPC);
    assert_eq!(e.read(&mut buf), Ok(32));
    assert_eq!(u64s(&buf), vec![1800, 2500, 2500, u64::from(e.id())]);
    e.ioctl(PERF_EVENT_IOC_DISABLE, 0).unwrap();
    tick(&k, 1000);
    assert_eq!(e.count(), 1800);
    e.ioctl(PERF_EVENT_IOC_RESET, 0).unwrap();
    assert_eq!(e.count(), 0);
    assert_eq!(errno(e.ioctl(0x1234, 0)), Errno::ENOTTY);
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_FILTER, 0)), Errno::EINVAL);
}

#[test]
fn id_and_period() {
    let k = K::new();
    let e1 = k.open(&sw(CPU_CLOCK), -1, 0, None, 0).unwrap();
    let e2 = k.open(&sw(CPU_CLOCK), -1, 0, None, 0).unwrap();
    assert_ne!(e1.id(), e2.id());
    let out = k.h.alloc(8);
    e2.ioctl(PERF_EVENT_IOC_ID, out).unwrap();
    assert_eq!(u64s(&k.h.read(out, 8)), vec![u64::from(e2.id())]);
    assert_eq!(errno(e2.ioctl(PERF_EVENT_IOC_ID, 8)), Errno::EFAULT);
    // PERIOD: only on sampling events, non-zero.
    let p = k.h.put_bytes(&20_000u64.to_ne_bytes());
    assert_eq!(errno(e1.ioctl(PERF_EVENT_IOC_PERIOD, p)), Errno::EINVAL);
    let mut a = sw(CPU_CLOCK);
    a.sample_period = 1_000_000;
    a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_PERIOD;
    let s = k.open(&a, -1, 0, None, 0).unwrap();
    let zero = k.h.put_bytes(&0u64.to_ne_bytes());
    assert_eq!(errno(s.ioctl(PERF_EVENT_IOC_PERIOD, zero)), Errno::EINVAL);
    assert_eq!(errno(s.ioctl(PERF_EVENT_IOC_PERIOD, 4)), Errno::EFAULT);
    s.ioctl(PERF_EVENT_IOC_PERIOD, p).unwrap();
    let r = s.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    tick(&k, 15_000);
    assert_eq!(v.head(), 0);
    tick(&k, 10_000);
    assert_eq!(v.head(), 24);
    let rec = v.data(0, 24);
    assert_eq!(header(&rec), (PerfRecordType::Sample as u32, PERF_RECORD_MISC_KERNEL, 24));
    assert_eq!(u64s(&rec[8..24]), vec![0xffff_8000_0010_0004, 20_000]);
}

#[test]
fn refresh_limits_overflows() {
    let k = K::new();
    let mut a = sw(CPU_CLOCK);
    a.set_disabled(1);
    a.sample_period = 10_000;
    a.sample_type = PERF_SAMPLE_IP;
    let e = k.open(&a, -1, 0, None, 0).unwrap();
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    e.ioctl(PERF_EVENT_IOC_REFRESH, 2).unwrap();
    assert!(e.enabled());
    for _ in 0..5 {
        tick(&k, 10_000);
    }
    assert_eq!(v.head(), 32, "two samples, then disabled");
    assert!(!e.enabled());
    let c = k.open(&sw(CPU_CLOCK), -1, 0, None, 0).unwrap();
    assert_eq!(errno(c.ioctl(PERF_EVENT_IOC_REFRESH, 1)), Errno::EINVAL);
}

#[test]
fn freq_mode_becomes_a_period() {
    let k = K::new();
    let mut a = sw(CPU_CLOCK);
    a.set_freq(1);
    a.sample_period = 1000; // 1000 Hz → 1 ms
    a.sample_type = PERF_SAMPLE_PERIOD;
    let e = k.open(&a, -1, 0, None, 0).unwrap();
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    tick(&k, 999_999);
    assert_eq!(v.head(), 0);
    tick(&k, 1);
    assert_eq!(u64s(&v.data(8, 8)), vec![1_000_000]);
}

#[test]
fn task_clock_follows_its_task() {
    let k = K::new();
    let e = k.open(&sw(CPU_CLOCK), 1001, -1, None, 0).unwrap();
    tick(&k, 100);
    k.h.tid.store(1000, Ordering::SeqCst);
    tick(&k, 100);
    assert_eq!(e.count(), 100);
}

#[test]
fn group_reads_and_group_ioctls() {
    let k = K::new();
    let mut a = sw(CPU_CLOCK);
    a.set_disabled(1);
    a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED;
    let l = k.open(&a, -1, 0, None, 0).unwrap();
    let mut b = sw(PAGE_FAULTS);
    b.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID;
    let s = k.open(&b, -1, 0, Some(&l), 0).unwrap();
    // The sibling is enabled but its leader is not: nothing counts.
    k.perf.sw_event(PAGE_FAULTS, 3, None);
    assert_eq!(s.count(), 0);
    l.ioctl(PERF_EVENT_IOC_ENABLE, 0).unwrap();
    k.perf.sw_event(PAGE_FAULTS, 3, None);
    tick(&k, 50);
    assert_eq!(s.count(), 3);
    let mut buf = [0u8; 48];
    assert_eq!(errno(l.read(&mut buf[..47])), Errno::ENOSPC);
    assert_eq!(l.read(&mut buf), Ok(48));
    assert_eq!(u64s(&buf), vec![2, 50, 50, u64::from(l.id()), 3, u64::from(s.id())]);
    // A sibling reads the whole group too.
    let mut buf2 = [0u8; 40];
    assert_eq!(s.read(&mut buf2), Ok(40));
    assert_eq!(u64s(&buf2), vec![2, 50, u64::from(l.id()), 3, u64::from(s.id())]);
    // Group ioctls.
    l.ioctl(PERF_EVENT_IOC_RESET, u64::from(PERF_IOC_FLAG_GROUP)).unwrap();
    assert_eq!((l.count(), s.count()), (0, 0));
    l.ioctl(PERF_EVENT_IOC_DISABLE, u64::from(PERF_IOC_FLAG_GROUP)).unwrap();
    assert!(!l.enabled() && !s.enabled());
    s.ioctl(PERF_EVENT_IOC_ENABLE, 0).unwrap();
    assert!(!l.enabled() && s.enabled());
    drop(s);
    let mut buf = [0u8; 32];
    assert_eq!(l.read(&mut buf), Ok(32));
    assert_eq!(u64s(&buf)[0], 1);
}

#[test]
fn modify_attributes_and_query_bpf_on_counters() {
    let k = K::new();
    let e = k.open(&sw(CPU_CLOCK), -1, 0, None, 0).unwrap();
    let a = k.h.put(&sw(CPU_CLOCK));
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_MODIFY_ATTRIBUTES, a)), Errno::EOPNOTSUPP);
    let other = k.h.put(&PerfEventAttr { type_: 2, ..PerfEventAttr::ZERO });
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_MODIFY_ATTRIBUTES, other)), Errno::EINVAL);
    let q = k.h.put(&PerfEventQueryBpf { ids_len: 4, ..PerfEventQueryBpf::ZERO });
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_QUERY_BPF, q)), Errno::EINVAL);
}

#[test]
fn clock_reads_include_time_since_the_tick_and_user_samples_say_so() {
    let k = K::new();
    let mut a = sw(CPU_CLOCK);
    a.sample_period = 10_000;
    a.sample_type = PERF_SAMPLE_IP;
    let e = k.open(&a, 0, -1, None, 0).unwrap();
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    k.h.advance(300);
    let mut buf = [0u8; 8];
    assert_eq!(e.read(&mut buf), Ok(8));
    assert_eq!(u64s(&buf), vec![300]);
    k.h.advance(9_700);
    let regs = X86PtRegs { rip: 0x40_1000, cs: 0x33, ..X86PtRegs::ZERO };
    k.perf.timer_tick(&regs);
    assert_eq!(e.count(), 10_000);
    let rec = v.data(0, 16);
    assert_eq!(header(&rec), (PerfRecordType::Sample as u32, PERF_RECORD_MISC_USER, 16));
    assert_eq!(u64s(&rec[8..16]), vec![0x40_1000]);
    // Disabling counts up to the moment of the ioctl.
    k.h.advance(50);
    e.ioctl(PERF_EVENT_IOC_DISABLE, 0).unwrap();
    k.h.advance(50);
    assert_eq!(e.read(&mut buf), Ok(8));
    assert_eq!(u64s(&buf), vec![10_050]);
}

#[test]
fn task_exit_hangs_up_its_events() {
    let k = K::new();
    let e = k.open(&sw(CPU_CLOCK), 1001, -1, None, 0).unwrap();
    let cpu_wide = k.open(&sw(CPU_CLOCK), -1, 0, None, 0).unwrap();
    k.perf.on_exit(1000);
    assert!(!e.poll_ready().hup && e.enabled());
    let before = k.h.irq_works.load(Ordering::SeqCst);
    k.perf.on_exit(1001);
    assert!(e.poll_ready().hup && !e.enabled());
    assert!(!cpu_wide.poll_ready().hup && cpu_wide.enabled());
    assert_eq!(k.h.irq_works.load(Ordering::SeqCst), before + 1);
    assert!(k.h.take_wakes().is_empty());
    k.perf.irq_work_run();
    assert_eq!(k.h.take_wakes(), vec![perf_event::WakeKey::Event(e.id())]);
    e.ioctl(PERF_EVENT_IOC_ENABLE, 0).unwrap();
    assert!(!e.enabled(), "an exited event stays off");
}
