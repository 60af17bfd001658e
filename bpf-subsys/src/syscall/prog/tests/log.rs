//! The verifier log through `PROG_LOAD`: levels, copy-out on failure, `ENOSPC`, faults.

use syscall_abi::bpf::ProgType;
use syscall_abi::Errno;

use super::{attr, e, i, load, ret};
use crate::syscall::tests::T;

/// The NUL-terminated text at `addr`.
fn text(t: &T, addr: u64, len: usize) -> String {
    let bytes = t.h.read(addr, len);
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(len);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[test]
fn rejected_program_log_is_copied() {
    let t = T::new();
    let mut a = attr(&t, ProgType::Kprobe, &[i(0xbf, 0, 2, 0, 0), i(0x95, 0, 0, 0, 0)]);
    a.log_level = 1;
    a.log_size = 4096;
    a.log_buf = t.h.alloc(4096);
    assert_eq!(load(&t, &a), e(Errno::EACCES));
    let log = text(&t, a.log_buf, 4096);
    assert!(log.starts_with("0: R1=ctx(off=0,imm=0) R10=fp0\n0: (bf) r0 = r2\nR2 !read_ok\n"), "{log}");
    assert!(log.contains("processed "), "{log}");
}

#[test]
fn level_1_success_keeps_only_stats_level_2_keeps_trace() {
    let t = T::new();
    for (level, trace) in [(1, false), (2, true)] {
        let mut a = attr(&t, ProgType::Kprobe, &ret(0));
        a.log_level = level;
        a.log_size = 4096;
        a.log_buf = t.h.alloc(4096);
        assert!(load(&t, &a) >= 0);
        let log = text(&t, a.log_buf, 4096);
        assert!(log.contains("processed 2 insns"), "level {level}: {log}");
        assert_eq!(log.contains("(b7) r0 = 0"), trace, "level {level}: {log}");
    }
}

#[test]
fn level_0_writes_nothing() {
    let t = T::new();
    let mut a = attr(&t, ProgType::Kprobe, &[i(0x95, 0, 0, 0, 0)]);
    a.log_buf = 0;
    assert_eq!(load(&t, &a), e(Errno::EACCES));
}

#[test]
fn full_log_is_enospc_and_truncated() {
    let t = T::new();
    // A long straight-line program: its level-2 trace exceeds 128 bytes.
    let mut prog: Vec<_> = (0..40).map(|_| i(0xb7, 0, 0, 0, 1)).collect();
    prog.push(i(0x95, 0, 0, 0, 0));
    let mut a = attr(&t, ProgType::Kprobe, &prog);
    a.log_level = 2;
    a.log_size = 128;
    a.log_buf = t.h.alloc(256);
    t.h.write(a.log_buf + 128, &[0xaa; 128]);
    assert_eq!(load(&t, &a), e(Errno::ENOSPC));
    let bytes = t.h.read(a.log_buf, 256);
    assert_eq!(bytes[127], 0, "NUL at log_size - 1");
    assert!(bytes[..127].iter().all(|&b| b != 0));
    assert!(bytes[128..].iter().all(|&b| b == 0xaa), "nothing past log_size");
    assert!(t.host.registry().is_empty());
}

#[test]
fn log_buffer_fault_is_efault() {
    let t = T::new();
    let mut a = attr(&t, ProgType::Kprobe, &[i(0x95, 0, 0, 0, 0)]);
    a.log_level = 1;
    a.log_size = 4096;
    a.log_buf = 16; // unmapped
    assert_eq!(load(&t, &a), e(Errno::EFAULT));
}

#[test]
fn relocation_errors_are_logged() {
    let t = T::new();
    let mut prog = super::ld64(1, 1, 77, 0).to_vec();
    prog.extend(ret(0));
    let mut a = attr(&t, ProgType::Kprobe, &prog);
    a.log_level = 1;
    a.log_size = 4096;
    a.log_buf = t.h.alloc(4096);
    assert_eq!(load(&t, &a), e(Errno::EBADF));
    let log = text(&t, a.log_buf, 4096);
    assert!(log.contains("fd 77 is not pointing to valid bpf_map"), "{log}");
}

#[test]
fn sleepable_rejection_is_logged() {
    let t = T::new();
    let mut a = attr(&t, ProgType::RawTracepoint, &ret(0));
    a.prog_flags = syscall_abi::bpf::BPF_F_SLEEPABLE;
    a.log_level = 1;
    a.log_size = 4096;
    a.log_buf = t.h.alloc(4096);
    assert_eq!(load(&t, &a), e(Errno::EINVAL));
    assert!(text(&t, a.log_buf, 4096).contains("can be sleepable"));
}
