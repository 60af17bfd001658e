//! `perf_event_open` validation: Linux 6.1 errnos for sizes, flags, pid/cpu, types and PMUs.

mod common;

use common::{errno, sw, K};
use syscall_abi::abi::Pod;
use syscall_abi::perf::*;
use syscall_abi::Errno;

const BPF_OUTPUT: u64 = 10;
const CPU_CLOCK: u64 = 0;

#[test]
fn e2big_writes_the_kernel_size_back() {
    let k = K::new();
    let mut raw = vec![0u8; 200];
    raw[..4].copy_from_slice(&1u32.to_ne_bytes()); // software
    raw[4..8].copy_from_slice(&200u32.to_ne_bytes());
    raw[150] = 1; // non-zero tail
    let u = k.h.put_bytes(&raw);
    assert_eq!(errno(k.perf.open(u, -1, 0, None, 0)), Errno::E2BIG);
    let size = u32::from_ne_bytes(k.h.read(u + 4, 4).try_into().unwrap());
    assert_eq!(size as usize, std::mem::size_of::<PerfEventAttr>());
    // Too small a size: E2BIG as well.
    raw[4..8].copy_from_slice(&32u32.to_ne_bytes());
    let u = k.h.put_bytes(&raw);
    assert_eq!(errno(k.perf.open(u, -1, 0, None, 0)), Errno::E2BIG);
    // Longer struct with a zero tail is fine; size 0 means VER0.
    raw[150] = 0;
    raw[4..8].copy_from_slice(&200u32.to_ne_bytes());
    raw[..4].copy_from_slice(&1u32.to_ne_bytes());
    raw[8..16].copy_from_slice(&BPF_OUTPUT.to_ne_bytes());
    let u = k.h.put_bytes(&raw);
    assert!(k.perf.open(u, -1, 0, None, 0).is_ok());
    raw[4..8].copy_from_slice(&0u32.to_ne_bytes());
    let u = k.h.put_bytes(&raw);
    assert!(k.perf.open(u, -1, 0, None, 0).is_ok());
    assert_eq!(errno(k.perf.open(0x10, -1, 0, None, 0)), Errno::EFAULT);
}

#[test]
fn flags_pid_and_cpu() {
    let k = K::new();
    let a = sw(BPF_OUTPUT);
    assert_eq!(errno(k.open(&a, -1, 0, None, 1 << 4)), Errno::EINVAL);
    assert_eq!(errno(k.open(&a, -1, 0, None, PERF_FLAG_PID_CGROUP)), Errno::EINVAL);
    assert_eq!(errno(k.open(&a, -1, -1, None, 0)), Errno::EINVAL);
    assert_eq!(errno(k.open(&a, -1, 2, None, 0)), Errno::EINVAL);
    assert_eq!(errno(k.open(&a, -1, -2, None, 0)), Errno::EINVAL);
    assert_eq!(errno(k.open(&a, 4242, 0, None, 0)), Errno::ESRCH);
    assert_eq!(errno(k.open(&a, -5, 0, None, 0)), Errno::ESRCH);
    assert!(k.open(&a, 0, -1, None, 0).is_ok());
    assert!(k.open(&a, 1000, -1, None, 0).is_ok());
    let e = k.open(&a, -1, 1, None, PERF_FLAG_FD_CLOEXEC).unwrap();
    assert!(e.cloexec());
    assert!(!k.open(&a, -1, 1, None, 0).unwrap().cloexec());
}

#[test]
fn attr_rules() {
    let k = K::new();
    let mut a = sw(BPF_OUTPUT);
    a.set_reserved_1(1);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_MAX;
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let mut a = sw(BPF_OUTPUT);
    a.set_freq(1);
    a.sample_period = 100_001;
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let mut a = sw(BPF_OUTPUT);
    a.sample_period = 1 << 63;
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_BRANCH_STACK;
    a.branch_sample_type = PERF_SAMPLE_BRANCH_ANY;
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EOPNOTSUPP);
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_REGS_USER;
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    a.sample_regs_user = 1 << 12; // DS
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    a.sample_regs_user = 0xff;
    assert!(k.open(&a, -1, 0, None, 0).is_ok());
    let mut a = sw(BPF_OUTPUT);
    a.sample_type = PERF_SAMPLE_CGROUP;
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let mut a = sw(BPF_OUTPUT);
    a.set_inherit(1);
    a.sample_type = PERF_SAMPLE_READ;
    assert_eq!(errno(k.open(&a, 0, -1, None, 0)), Errno::EINVAL);
    // Kernel profiling without CAP_PERFMON.
    k.h.set_caps(false);
    assert_eq!(errno(k.open(&sw(BPF_OUTPUT), -1, 0, None, 0)), Errno::EACCES);
    let mut a = sw(BPF_OUTPUT);
    a.set_exclude_kernel(1);
    assert!(k.open(&a, -1, 0, None, 0).is_ok());
}

#[test]
fn types_without_a_pmu_are_enoent() {
    let k = K::new();
    for ty in [0u32, 3, 4, 5, 7, 100] {
        let a = PerfEventAttr { type_: ty, ..PerfEventAttr::ZERO };
        assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::ENOENT, "type {ty}");
    }
    assert_eq!(errno(k.open(&sw(12), -1, 0, None, 0)), Errno::ENOENT);
    for c in 0..12 {
        assert!(k.open(&sw(c), -1, 0, None, 0).is_ok(), "sw {c}");
    }
    // Unknown tracepoint id: perf_trace_init's EINVAL.
    let a = PerfEventAttr { type_: 2, config: 999, ..PerfEventAttr::ZERO };
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
}

fn kprobe_attr(k: &K, name: Option<&str>, config2: u64, ret: bool) -> PerfEventAttr {
    let config1 = match name {
        Some(n) => k.h.put_bytes(&[n.as_bytes(), b"\0"].concat()),
        None => 0,
    };
    PerfEventAttr { type_: k.perf.kprobe_pmu_type(), config: u64::from(ret), config1, config2, ..PerfEventAttr::ZERO }
}

#[test]
fn kprobe_pmu_rules() {
    let k = K::new();
    assert_eq!(k.perf.kprobe_pmu_type(), 6);
    let kp = k.h.kprobes.as_ref().unwrap();
    let a = kprobe_attr(&k, Some("nope"), 0, false);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::ENOENT);
    let a = kprobe_attr(&k, Some("vfs_read"), 4, true);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let a = kprobe_attr(&k, None, 0, false);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let vfs_read = k.h.sym("vfs_read");
    let do_exit = k.h.sym("do_exit");
    let a = kprobe_attr(&k, None, vfs_read + 4, true);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let a = kprobe_attr(&k, None, 0x1234, true);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::ENOENT);
    let long = "x".repeat(600);
    let a = kprobe_attr(&k, Some(&long), 0, false);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::E2BIG);
    let mut a = kprobe_attr(&k, None, 0, false);
    a.config1 = 0x10;
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EFAULT);
    // Good ones register a probe each; dropping the event unregisters it.
    let a = kprobe_attr(&k, Some("vfs_read"), 2, false);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EILSEQ);
    let a = kprobe_attr(&k, Some("vfs_read"), 8, false);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EINVAL);
    let e1 = k.open(&kprobe_attr(&k, Some("vfs_read"), 4, false), -1, 0, None, 0).unwrap();
    let e2 = k.open(&kprobe_attr(&k, None, do_exit, true), -1, 0, None, 0).unwrap();
    assert_eq!(kp.lookup(vfs_read + 4).len(), 1);
    assert_eq!(kp.lookup(do_exit).len(), 1);
    assert_eq!((k.h.text.byte(vfs_read + 4), k.h.text.byte(do_exit)), (0xcc, 0xcc), "armed");
    drop(e1);
    drop(e2);
    assert!(kp.lookup(vfs_read + 4).is_empty());
    assert!(kp.lookup(do_exit).is_empty());
    assert_eq!((k.h.text.byte(vfs_read + 4), k.h.text.byte(do_exit)), (0x31, 0x55), "restored");
    // Privilege.
    k.h.set_caps(false);
    let mut a = kprobe_attr(&k, Some("vfs_read"), 0, false);
    a.set_exclude_kernel(1);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::EACCES);
}

#[test]
fn kprobe_pmu_without_kprobes_is_enoent() {
    let k = K::with_kprobes(false);
    let a = kprobe_attr(&k, Some("vfs_read"), 0, false);
    assert_eq!(errno(k.open(&a, -1, 0, None, 0)), Errno::ENOENT);
}

#[test]
fn groups() {
    let k = K::new();
    let leader = k.open(&sw(CPU_CLOCK), -1, 0, None, 0).unwrap();
    let sib = k.open(&sw(BPF_OUTPUT), -1, 0, Some(&leader), 0).unwrap();
    // Another CPU, a sibling as leader, exclusive siblings: EINVAL.
    assert_eq!(errno(k.open(&sw(BPF_OUTPUT), -1, 1, Some(&leader), 0)), Errno::EINVAL);
    assert_eq!(errno(k.open(&sw(BPF_OUTPUT), -1, 0, Some(&sib), 0)), Errno::EINVAL);
    let mut a = sw(BPF_OUTPUT);
    a.set_pinned(1);
    assert_eq!(errno(k.open(&a, -1, 0, Some(&leader), 0)), Errno::EINVAL);
    // FD_NO_GROUP ignores the group; FD_OUTPUT needs a ring on the target.
    assert!(k.open(&sw(BPF_OUTPUT), -1, 1, Some(&sib), PERF_FLAG_FD_NO_GROUP).is_ok());
    assert_eq!(errno(k.open(&sw(BPF_OUTPUT), -1, 0, Some(&leader), PERF_FLAG_FD_OUTPUT)), Errno::EINVAL);
    let _ring = leader.mmap(0, 2, true).unwrap();
    assert!(k.open(&sw(BPF_OUTPUT), -1, 0, Some(&leader), PERF_FLAG_FD_OUTPUT).is_ok());
    // Task events: inherit must match the leader.
    let tl = k.open(&sw(CPU_CLOCK), 0, -1, None, 0).unwrap();
    let mut a = sw(BPF_OUTPUT);
    a.set_inherit(1);
    assert_eq!(errno(k.open(&a, 0, -1, Some(&tl), 0)), Errno::EINVAL);
    let _ = PerfEventAttr::ZERO.as_bytes();
}

#[test]
fn disabled_and_enable_on_exec() {
    let k = K::new();
    let e = k.open(&sw(BPF_OUTPUT), -1, 0, None, 0).unwrap();
    assert!(e.enabled());
    let mut a = sw(BPF_OUTPUT);
    a.set_disabled(1);
    a.set_enable_on_exec(1);
    let e = k.open(&a, 1001, -1, None, 0).unwrap();
    assert!(!e.enabled());
    k.perf.on_exec(1000);
    assert!(!e.enabled());
    k.perf.on_exec(1001);
    assert!(e.enabled());
}
