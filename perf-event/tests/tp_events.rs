//! PERF_TYPE_TRACEPOINT events over trace events: counting, raw samples carrying the
//! record, tracepoint programs, QUERY_BPF, kprobe_events probes running kprobe programs,
//! raw tracepoints through BPF_RAW_TRACEPOINT_OPEN.

mod common;

use std::sync::atomic::Ordering;

use common::{counter_prog, errno, header, insn, K};
use syscall_abi::bpf::{Cmd, MapType, ProgType, RawTracepointAttr};
use syscall_abi::perf::*;
use syscall_abi::Errno;

perf_event::tracepoint! {
    /// For the counting test.
    fn trace_p1_count(p1 / p1_count) -> static P1_COUNT, struct P1Count {
        a: u32,
        b: u64,
    }
    print "\"a=%u\", REC->a";
}

perf_event::tracepoint! {
    /// For the program test.
    fn trace_p1_prog(p1 / p1_prog) -> static P1_PROG, struct P1Prog {
        x: u64,
    }
    print "\"x=%llu\", REC->x";
}

perf_event::tracepoint! {
    /// For the raw tracepoint test.
    fn trace_p1_raw(p1 / p1_raw) -> static P1_RAW, struct P1Raw {
        x: u64,
        y: u64,
    }
    print "\"x=%llu\", REC->x";
}

fn tp_attr(id: u32) -> PerfEventAttr {
    PerfEventAttr {
        type_: 2,
        config: u64::from(id),
        sample_period: 1,
        sample_type: PERF_SAMPLE_RAW,
        ..PerfEventAttr::ZERO
    }
}

#[test]
fn tracepoint_counts_and_samples_the_record() {
    let k = K::new();
    let tp = k.perf.trace().register_static(&P1_COUNT);
    assert!(!P1_COUNT.enabled());
    let e = k.open(&tp_attr(tp.id()), -1, 0, None, 0).unwrap();
    assert!(P1_COUNT.enabled(), "the perf event enables the tracepoint");
    let r = e.mmap(0, 2, true).unwrap();
    let v = common::View { ring: &r };
    trace_p1_count(7, 9);
    assert_eq!(e.count(), 1);
    // Record: 8-byte common header, a @8, b @16: 24 bytes; raw 4 + 24 → 32 (4 pad).
    let s = v.data(0, 40);
    assert_eq!(header(&s), (PerfRecordType::Sample as u32, PERF_RECORD_MISC_KERNEL, 40));
    assert_eq!(u32::from_ne_bytes(s[8..12].try_into().unwrap()), 28);
    let rec = &s[12..36];
    assert_eq!(u16::from_ne_bytes(rec[0..2].try_into().unwrap()) as u32, tp.id(), "common_type");
    assert_eq!(i32::from_ne_bytes(rec[4..8].try_into().unwrap()), 1001, "common_pid");
    assert_eq!(u32::from_ne_bytes(rec[8..12].try_into().unwrap()), 7);
    assert_eq!(u64::from_ne_bytes(rec[16..24].try_into().unwrap()), 9);
    assert_eq!(&s[36..40], &[0; 4]);
    // Another CPU's hit does not count for a CPU-0 event.
    k.h.cpu.store(1, Ordering::SeqCst);
    trace_p1_count(1, 1);
    assert_eq!(e.count(), 1);
    drop(e);
    assert!(!P1_COUNT.enabled() || P1_COUNT.registrations() > 1);
}

#[test]
fn tracepoint_programs_and_query_bpf() {
    let k = K::new();
    let tp = k.perf.trace().register_static(&P1_PROG);
    let e = k.open(&tp_attr(tp.id()), -1, 0, None, 0).unwrap();
    let m = k.map(MapType::Array, 4, 8, 1);
    let kp = k.load(ProgType::Kprobe, &counter_prog(m, 1));
    let p = k.load(ProgType::Tracepoint, &counter_prog(m, 0));
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(kp))), Errno::EINVAL);
    // r0 = *(u64 *)(r1 + 16): one byte past the 16-byte record → EACCES; + 8 is fine.
    let far = k.load(ProgType::Tracepoint, &[insn(0x79, 0, 1, 16, 0), insn(0x95, 0, 0, 0, 0)]);
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(far))), Errno::EACCES);
    let near = k.load(ProgType::Tracepoint, &[insn(0x79, 0, 1, 8, 0), insn(0x95, 0, 0, 0, 0)]);
    e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(near)).unwrap();
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p))), Errno::EEXIST);
    drop(e);
    let e = k.open(&tp_attr(tp.id()), -1, 0, None, 0).unwrap();
    e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p)).unwrap();
    trace_p1_prog(5);
    assert_eq!((k.lookup_u64(m, 0), e.count()), (1, 0), "zero return drops the perf hit");
    // QUERY_BPF: prog_cnt and ids; a short array → ENOSPC after writing what fits.
    let q = k.h.put(&PerfEventQueryBpf { ids_len: 4, ..PerfEventQueryBpf::ZERO });
    k.h.alloc(16);
    e.ioctl(PERF_EVENT_IOC_QUERY_BPF, q).unwrap();
    let out = k.h.read(q, 12);
    let prog_id = k.h.registry_prog_ids()[1]; // kp, p, far, near
    assert_eq!(u32::from_ne_bytes(out[4..8].try_into().unwrap()), 1);
    assert_eq!(u32::from_ne_bytes(out[8..12].try_into().unwrap()), prog_id);
    let e2 = k.open(&tp_attr(tp.id()), -1, 0, None, 0).unwrap();
    let p2 = k.load(ProgType::Tracepoint, &counter_prog(m, 1));
    e2.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p2)).unwrap();
    let q = k.h.put(&PerfEventQueryBpf { ids_len: 1, ..PerfEventQueryBpf::ZERO });
    k.h.alloc(8);
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_QUERY_BPF, q)), Errno::ENOSPC);
    assert_eq!(u32::from_ne_bytes(k.h.read(q + 4, 4).try_into().unwrap()), 2);
    let q = k.h.put(&PerfEventQueryBpf { ids_len: 65, ..PerfEventQueryBpf::ZERO });
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_QUERY_BPF, q)), Errno::E2BIG);
    k.h.set_caps(false);
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_QUERY_BPF, q)), Errno::EPERM);
}

#[test]
fn kprobe_events_probes_run_kprobe_programs() {
    let k = K::new();
    let fs = k.perf.tracefs();
    fs.write_file("kprobe_events", b"p:myprobe vfs_read+4", true).unwrap();
    let tp = k.perf.trace().by_name("kprobes", "myprobe").unwrap();
    let e = k.open(&tp_attr(tp.id()), -1, 0, None, 0).unwrap();
    let addr = k.h.sym("vfs_read") + 4;
    assert_eq!(k.h.text.byte(addr), 0xcc, "armed by the perf event");
    assert_eq!(errno(fs.write_file("kprobe_events", b"-:myprobe", true)), Errno::EBUSY);
    let m = k.map(MapType::Array, 4, 8, 1);
    let tpp = k.load(ProgType::Tracepoint, &counter_prog(m, 1));
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(tpp))), Errno::EINVAL);
    let p = k.load(ProgType::Kprobe, &counter_prog(m, 1));
    e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p)).unwrap();
    assert!(k.h.kprobe_hit(addr, 2));
    assert_eq!((k.lookup_u64(m, 0), e.count()), (1, 1));
    drop(e);
    assert_eq!(k.h.text.byte(addr), 0x31, "disarmed with the last consumer");
    fs.write_file("kprobe_events", b"-:myprobe", true).unwrap();
}

#[test]
fn raw_tracepoint_open_runs_the_program_with_the_arguments() {
    let k = K::new();
    k.perf.trace().register_static(&P1_RAW);
    let m = k.map(MapType::Array, 4, 8, 1);
    let p = k.load(ProgType::RawTracepoint, &counter_prog(m, 0));
    let open = |name: &[u8]| {
        let a = RawTracepointAttr { name: k.h.put_bytes(name), prog_fd: p, ..RawTracepointAttr::ZERO };
        k.bpf(Cmd::RawTracepointOpen, &a)
    };
    assert_eq!(open(b"nope\0"), Errno::ENOENT.to_syscall_ret());
    let l = open(b"p1_raw\0");
    assert!(l >= 0, "{l}");
    assert_eq!(open(b"p1_raw\0"), Errno::EEXIST.to_syscall_ret());
    trace_p1_raw(1, 2);
    assert_eq!(k.lookup_u64(m, 0), 1);
    k.h.close(l as u32);
    trace_p1_raw(1, 2);
    assert_eq!(k.lookup_u64(m, 0), 1);
}
