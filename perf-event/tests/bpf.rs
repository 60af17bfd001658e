//! Programs on perf events: SET_BPF, perf links, kprobe PMU hits running kprobe programs,
//! perf_event programs on the CPU clock, and bpf_perf_event_output through a
//! perf_event_array into a BPF_OUTPUT event's ring.

mod common;

use std::sync::atomic::Ordering;

use common::{counter_prog, errno, header, insn, sw, u64s, Fd, View, K};
use perf_event::X86PtRegs;
use syscall_abi::bpf::{MapType, ProgType};
use syscall_abi::perf::*;
use syscall_abi::Errno;

fn kprobe(k: &K, sym: &str, ret: bool) -> std::sync::Arc<perf_event::PerfEvent> {
    let name = k.h.put_bytes(&[sym.as_bytes(), b"\0"].concat());
    let a = PerfEventAttr {
        type_: k.perf.kprobe_pmu_type(),
        config: u64::from(ret),
        config1: name,
        sample_period: 1,
        sample_type: PERF_SAMPLE_RAW,
        ..PerfEventAttr::ZERO
    };
    k.open(&a, -1, 0, None, 0).unwrap()
}

/// Fires the probe at `vfs_read` (offset 0: `push rbp`).
fn hit(k: &K) -> bool {
    k.h.kprobe_hit(k.h.sym("vfs_read"), 1)
}

#[test]
fn set_bpf_runs_the_program_on_each_hit() {
    let k = K::new();
    let e = kprobe(&k, "vfs_read", false);
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    let m = k.map(MapType::Array, 4, 8, 1);
    let p = k.load(ProgType::Kprobe, &counter_prog(m, 1));
    let tp = k.load(ProgType::Tracepoint, &counter_prog(m, 1));
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, 99)), Errno::EBADF);
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(m))), Errno::EINVAL);
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(tp))), Errno::EINVAL);
    e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p)).unwrap();
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p))), Errno::EEXIST);
    assert!(hit(&k));
    assert!(hit(&k));
    assert_eq!(k.lookup_u64(m, 0), 2);
    assert_eq!(e.count(), 2);
    // The raw sample: kprobe trace entry (common header, __probe_ip).
    let rec = v.data(0, 32);
    assert_eq!(header(&rec).2, 32);
    assert_eq!(u32::from_ne_bytes(rec[8..12].try_into().unwrap()), 20);
    assert_eq!(u32::from_ne_bytes(rec[16..20].try_into().unwrap()), 1001, "common_pid");
    assert_eq!(u64s(&rec[20..28]), vec![k.h.sym("vfs_read")]);
    // The program runs even while the event is disabled (it is on the trace event), the
    // count does not move.
    e.ioctl(PERF_EVENT_IOC_DISABLE, 0).unwrap();
    hit(&k);
    assert_eq!((k.lookup_u64(m, 0), e.count()), (3, 2));
    // Dropping the event frees the program's hold and the probe.
    k.h.close(p);
    drop(e);
    assert!(k.h.kprobes.as_ref().unwrap().lookup(k.h.sym("vfs_read")).is_empty());
    drop(r);
    assert_eq!(k.h.live_pages.load(Ordering::SeqCst), 0);
}

#[test]
fn zero_from_the_program_drops_the_sample() {
    let k = K::new();
    let e = kprobe(&k, "do_exit", true);
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    let m = k.map(MapType::Array, 4, 8, 1);
    let p = k.load(ProgType::Kprobe, &counter_prog(m, 0));
    e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p)).unwrap();
    k.h.kretprobe_hit(k.h.sym("do_exit"), 5);
    assert_eq!((k.lookup_u64(m, 0), e.count(), v.head()), (1, 0, 0));
}

#[test]
fn perf_links_attach_and_detach() {
    let k = K::new();
    let e = kprobe(&k, "vfs_read", false);
    let fd = k.fd(&e);
    let m = k.map(MapType::Array, 4, 8, 1);
    let p = k.load(ProgType::Kprobe, &counter_prog(m, 1));
    let tp = k.load(ProgType::Tracepoint, &counter_prog(m, 1));
    assert_eq!(k.link(tp, fd, 0), Errno::EINVAL.to_syscall_ret());
    let l = k.link(p, fd, 7);
    assert!(l >= 0, "{l}");
    assert_eq!(k.link(p, fd, 0), Errno::EEXIST.to_syscall_ret());
    hit(&k);
    assert_eq!(k.lookup_u64(m, 0), 1);
    k.h.close(l as u32);
    hit(&k);
    assert_eq!(k.lookup_u64(m, 0), 1);
    // Free again: SET_BPF works now.
    e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p)).unwrap();
    // Counters take perf_event programs only.
    let c = k.open(&sw(0), -1, 0, None, 0).unwrap();
    let cfd = k.fd(&c);
    assert_eq!(k.link(p, cfd, 0), Errno::EINVAL.to_syscall_ret());
    let not_perf = k.h.install(Fd::Other);
    assert_eq!(k.link(p, not_perf, 0), Errno::EBADF.to_syscall_ret());
}

#[test]
fn perf_event_programs_on_the_cpu_clock() {
    let k = K::new();
    let mut a = sw(0);
    a.sample_period = 10_000;
    a.sample_type = PERF_SAMPLE_IP;
    let e = k.open(&a, -1, 0, None, 0).unwrap();
    let r = e.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    let m = k.map(MapType::Array, 4, 8, 1);
    // Returns ctx->sample_period != 0 after counting: writes the sample.
    let mut prog = counter_prog(m, 1);
    prog.insert(0, insn(0xbf, 6, 1, 0, 0));
    let p = k.load(ProgType::PerfEvent, &prog);
    e.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p)).unwrap();
    let regs = X86PtRegs { rip: 0x1234, ..X86PtRegs::ZERO };
    k.h.advance(25_000);
    k.perf.timer_tick(&regs);
    assert_eq!((k.lookup_u64(m, 0), v.head()), (1, 16));
    let kp = k.load(ProgType::Kprobe, &counter_prog(m, 1));
    let e2 = k.open(&a, -1, 0, None, 0).unwrap();
    assert_eq!(errno(e2.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(kp))), Errno::EINVAL);
}

/// `bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, "hello", 5)`; returns its result.
fn output_prog(map_fd: u32) -> Vec<[u8; 8]> {
    vec![
        insn(0xbf, 6, 1, 0, 0),             // r6 = ctx
        insn(0xb4, 1, 0, 0, 0x6c6c_6568),   // w1 = "hell"
        insn(0x63, 10, 1, -8, 0),           // *(u32 *)(r10 - 8) = r1
        insn(0xb4, 1, 0, 0, 0x6f),          // w1 = "o"
        insn(0x63, 10, 1, -4, 0),           // *(u32 *)(r10 - 4) = r1
        insn(0xbf, 4, 10, 0, 0),            // r4 = r10
        insn(0x07, 4, 0, 0, -8),            // r4 -= 8
        insn(0xbf, 1, 6, 0, 0),             // r1 = ctx
        insn(0x18, 2, 1, 0, map_fd as i32), // r2 = map
        insn(0, 0, 0, 0, 0),
        insn(0xb4, 3, 0, 0, -1), // w3 = BPF_F_CURRENT_CPU
        insn(0xb7, 5, 0, 0, 5),  // r5 = 5
        insn(0x85, 0, 0, 0, 25), // call bpf_perf_event_output
        insn(0x95, 0, 0, 0, 0),
    ]
}

#[test]
fn bpf_perf_event_output_through_a_perf_event_array() {
    let k = K::new();
    let mut a = sw(10);
    a.sample_type = PERF_SAMPLE_RAW;
    a.sample_period = 1;
    a.wakeup_events = 1;
    let out = k.open(&a, -1, 0, None, 0).unwrap();
    let ofd = k.fd(&out);
    let r = out.mmap(0, 2, true).unwrap();
    let v = View { ring: &r };
    let arr = k.map(MapType::PerfEventArray, 4, 4, 2);
    assert_eq!(k.update(arr, &0u32.to_ne_bytes(), &ofd.to_ne_bytes()), 0);
    let res = k.map(MapType::Array, 4, 8, 1);
    // Store the helper's return value in `res` to check it.
    let mut prog = output_prog(arr);
    prog.pop();
    prog.extend([
        insn(0x7b, 10, 0, -16, 0), // *(u64 *)(r10 - 16) = r0
        insn(0x62, 10, 0, -20, 0), // key 0
        insn(0xbf, 2, 10, 0, 0),
        insn(0x07, 2, 0, 0, -20),
        insn(0xbf, 3, 10, 0, 0),
        insn(0x07, 3, 0, 0, -16),
        insn(0x18, 1, 1, 0, res as i32),
        insn(0, 0, 0, 0, 0),
        insn(0xb7, 4, 0, 0, 0),
        insn(0x85, 0, 0, 0, 2), // map_update_elem
        insn(0xb7, 0, 0, 0, 1),
        insn(0x95, 0, 0, 0, 0),
    ]);
    let p = k.load(ProgType::Kprobe, &prog);
    let probe = kprobe(&k, "vfs_read", false);
    probe.ioctl(PERF_EVENT_IOC_SET_BPF, u64::from(p)).unwrap();
    hit(&k);
    assert_eq!(k.lookup_u64(res, 0), 0);
    assert_eq!(v.head(), 24);
    let rec = v.data(0, 24);
    assert_eq!(header(&rec), (PerfRecordType::Sample as u32, PERF_RECORD_MISC_KERNEL, 24));
    assert_eq!(&rec[12..17], b"hello");
    assert_eq!(k.h.irq_works.load(Ordering::SeqCst), 1);
    // On CPU 1 the slot is empty: -ENOENT.
    k.h.cpu.store(1, Ordering::SeqCst);
    hit(&k);
    assert_eq!(k.lookup_u64(res, 0) as i64, -2);
    // A CPU-0 event in slot 1 seen from CPU 1: -EOPNOTSUPP.
    assert_eq!(k.update(arr, &1u32.to_ne_bytes(), &ofd.to_ne_bytes()), 0);
    hit(&k);
    assert_eq!(k.lookup_u64(res, 0) as i64, -95);
}

#[test]
fn query_bpf_is_for_tracepoints() {
    let k = K::new();
    let e = kprobe(&k, "vfs_read", false);
    let q = k.h.put(&PerfEventQueryBpf { ids_len: 4, ..PerfEventQueryBpf::ZERO });
    assert_eq!(errno(e.ioctl(PERF_EVENT_IOC_QUERY_BPF, q)), Errno::EINVAL);
}
