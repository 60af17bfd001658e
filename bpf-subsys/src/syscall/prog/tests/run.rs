//! `BPF_PROG_TEST_RUN`, `run_prog` statistics, the runaway guard and kprobe runs.

use core::sync::atomic::Ordering::Relaxed;

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{ProgType, TestRunAttr, BPF_F_TEST_RUN_ON_CPU};
use syscall_abi::ptregs::native::PtRegs;
use syscall_abi::Errno;

use super::{e, i, load_ok, prog, ret, test_run};
use crate::syscall::tests::T;
use crate::vm::VmErrorKind;

/// `r0 = *(u64 *)(r1 + 8); exit`: the second raw tracepoint argument.
fn second_arg() -> Vec<[u8; 8]> {
    vec![i(0x79, 0, 1, 8, 0), i(0x95, 0, 0, 0, 0)]
}

fn raw_tp_attr(t: &T, fd: u32, args: &[u64]) -> TestRunAttr {
    let bytes: Vec<u8> = args.iter().flat_map(|a| a.to_ne_bytes()).collect();
    TestRunAttr {
        prog_fd: fd,
        ctx_in: if bytes.is_empty() { 0 } else { t.h.put_bytes(&bytes) },
        ctx_size_in: bytes.len() as u32,
        ..TestRunAttr::ZERO
    }
}

#[test]
fn raw_tp_returns_retval() {
    let t = T::new();
    let fd = load_ok(&t, ProgType::RawTracepoint, &second_arg());
    let (r, back) = test_run(&t, &raw_tp_attr(&t, fd, &[1, 0x1_0000_0042]));
    assert_eq!(r, 0);
    assert_eq!(back.retval, 0x42, "retval is the low 32 bits");
    // On a CPU that exists.
    let mut a = raw_tp_attr(&t, fd, &[1, 5]);
    a.flags = BPF_F_TEST_RUN_ON_CPU;
    a.cpu = 3;
    assert_eq!(test_run(&t, &a).0, 0);
}

#[test]
fn raw_tp_errors() {
    let t = T::new();
    let fd = load_ok(&t, ProgType::RawTracepoint, &second_arg());
    type Edit = fn(&T, &mut TestRunAttr);
    let cases: &[(&str, Edit, Errno)] = &[
        (
            "data_in",
            |t, a| {
                a.data_in = t.h.alloc(8);
                a.data_size_in = 8
            },
            Errno::EINVAL,
        ),
        ("data_out", |t, a| a.data_out = t.h.alloc(8), Errno::EINVAL),
        ("repeat", |_, a| a.repeat = 2, Errno::EINVAL),
        ("duration", |_, a| a.duration = 1, Errno::EINVAL),
        ("batch_size", |_, a| a.batch_size = 1, Errno::EINVAL),
        (
            "ctx_out",
            |t, a| {
                a.ctx_out = t.h.alloc(8);
                a.ctx_size_out = 8
            },
            Errno::EINVAL,
        ),
        ("ctx_size_in without ctx_in", |_, a| a.ctx_in = 0, Errno::EINVAL),
        ("ctx_in without ctx_size_in", |_, a| a.ctx_size_in = 0, Errno::EINVAL),
        ("ctx_size_out without ctx_out", |_, a| a.ctx_size_out = 8, Errno::EINVAL),
        (
            "13 arguments",
            |t, a| {
                a.ctx_in = t.h.alloc(13 * 8);
                a.ctx_size_in = 13 * 8
            },
            Errno::EINVAL,
        ),
        ("cpu without flag", |_, a| a.cpu = 1, Errno::EINVAL),
        (
            "missing cpu",
            |_, a| {
                a.flags = BPF_F_TEST_RUN_ON_CPU;
                a.cpu = 99
            },
            Errno::ENXIO,
        ),
        ("ctx fault", |_, a| a.ctx_in = 8, Errno::EFAULT),
        ("ctx too small for the program", |_, a| a.ctx_size_in = 8, Errno::EINVAL),
        ("closed prog fd", |_, a| a.prog_fd = 77, Errno::EBADF),
        ("map fd", |t, a| a.prog_fd = t.map(syscall_abi::bpf::MapType::Array, 4, 4, 1, 0), Errno::EINVAL),
    ];
    for (what, edit, errno) in cases {
        let mut a = raw_tp_attr(&t, fd, &[1, 2]);
        edit(&t, &mut a);
        assert_eq!(test_run(&t, &a).0, e(*errno), "{what}");
    }
}

#[test]
fn tracing_types_cannot_be_test_run() {
    let t = T::new();
    for ty in [ProgType::Kprobe, ProgType::Tracepoint, ProgType::PerfEvent] {
        let fd = load_ok(&t, ty, &ret(0));
        assert_eq!(test_run(&t, &TestRunAttr { prog_fd: fd, ..TestRunAttr::ZERO }).0, e(Errno::ENOTSUPP), "{ty:?}");
    }
}

#[test]
fn kprobe_runs_with_synthetic_pt_regs() {
    let t = T::new();
    // r0 = *(u64 *)(r1 + 0): the first field of pt_regs.
    let fd = load_ok(&t, ProgType::Kprobe, &[i(0x79, 0, 1, 0, 0), i(0x95, 0, 0, 0, 0)]);
    let p = prog(&t, fd);
    let mut regs = PtRegs::ZERO;
    regs.as_bytes_mut()[..8].copy_from_slice(&77u64.to_ne_bytes());
    assert_eq!(crate::run::run_kprobe(&*t.host, &p, &regs, 0, 0), Ok(77));
    // Writing the context is refused at run time.
    let fd = load_ok(&t, ProgType::Kprobe, &[i(0x7a, 1, 0, 0, 1), i(0xb7, 0, 0, 0, 0), i(0x95, 0, 0, 0, 0)]);
    let err = crate::run::run_kprobe(&*t.host, &prog(&t, fd), &regs, 0, 0).unwrap_err();
    assert!(matches!(err.kind, VmErrorKind::MemoryAccess { write: true, .. }), "{err:?}");
}

#[test]
fn runaway_loop_is_stopped() {
    let t = T::new();
    // r0 = 0; loop: r0 += 1; if r0 != 0 goto loop: Linux's verifier explores every
    // iteration and gives up at 1M processed instructions (E2BIG).
    let insns = [i(0xb7, 0, 0, 0, 0), i(0x07, 0, 0, 0, 1), i(0x55, 0, 0, -2, 0), i(0x95, 0, 0, 0, 0)];
    let mut a = super::attr(&t, ProgType::RawTracepoint, &insns);
    a.log_level = 4;
    a.log_size = 4096;
    a.log_buf = t.h.alloc(4096);
    assert_eq!(super::load(&t, &a), e(Errno::E2BIG));
    // What the verifier accepts may still run long: bpf_loop(1 << 23, cb) with a 3-insn
    // callback runs past the engine's 2^24-instruction budget.
    let insns = [
        i(0xb7, 1, 0, 0, 1 << 23),
        i(0x18, 2, 4, 0, 5),
        i(0, 0, 0, 0, 0),
        i(0xb7, 3, 0, 0, 0),
        i(0xb7, 4, 0, 0, 0),
        i(0x85, 0, 0, 0, 181),
        i(0x95, 0, 0, 0, 0),
        i(0xb7, 0, 0, 0, 0),
        i(0x07, 0, 0, 0, 0),
        i(0x95, 0, 0, 0, 0),
    ];
    let fd = load_ok(&t, ProgType::RawTracepoint, &insns);
    let p = prog(&t, fd);
    let err = crate::run::run_prog(&*t.host, &p, crate::vm::Region::new(&[]), Default::default()).unwrap_err();
    assert_eq!(err.kind, VmErrorKind::BudgetExceeded);
    assert_eq!(test_run(&t, &TestRunAttr { prog_fd: fd, ..TestRunAttr::ZERO }).0, e(Errno::EFAULT));
}

#[test]
fn stats_count_runs_only_when_enabled() {
    let t = T::new();
    let fd = load_ok(&t, ProgType::RawTracepoint, &ret(3));
    let p = prog(&t, fd);
    let run = || test_run(&t, &TestRunAttr { prog_fd: fd, ..TestRunAttr::ZERO }).0;
    // Other tests may enable stats concurrently: only check what this test controls.
    crate::run::stats_enable();
    assert_eq!(run(), 0);
    assert_eq!(run(), 0);
    crate::run::stats_disable();
    assert!(p.stats().run_cnt.load(Relaxed) >= 2);
}

/// A 60-byte IPv4-over-Ethernet frame.
fn frame() -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[12] = 0x08;
    f[13] = 0x00;
    f[20] = 0xab;
    f
}

#[test]
fn socket_filter_test_run() {
    let t = T::new();
    // r0 = skb->len + skb->mark; cb[0] = 7
    let insns =
        [i(0x61, 0, 1, 0, 0), i(0x61, 2, 1, 8, 0), i(0x0f, 0, 2, 0, 0), i(0x62, 1, 0, 48, 7), i(0x95, 0, 0, 0, 0)];
    let fd = load_ok(&t, ProgType::SocketFilter, &insns);
    let data = frame();
    let mut ctx = [0u8; 192];
    ctx[8..12].copy_from_slice(&100u32.to_ne_bytes());
    let out = t.h.alloc(64);
    let ctx_out = t.h.alloc(192);
    let a = TestRunAttr {
        prog_fd: fd,
        data_in: t.h.put_bytes(&data),
        data_size_in: 60,
        data_out: out,
        data_size_out: 64,
        ctx_in: t.h.put_bytes(&ctx),
        ctx_size_in: 192,
        ctx_out,
        ctx_size_out: 192,
        repeat: 3,
        ..TestRunAttr::ZERO
    };
    let (r, back) = test_run(&t, &a);
    assert_eq!(r, 0);
    assert_eq!(back.retval, 46 + 100);
    assert_eq!(back.data_size_out, 60);
    assert_eq!(t.h.read(out, 60), data);
    assert_eq!(back.ctx_size_out, 192);
    let c = t.h.read(ctx_out, 192);
    assert_eq!(&c[48..52], &7u32.to_ne_bytes());
    assert_eq!(&c[8..12], &100u32.to_ne_bytes());
    assert_eq!(&c[0..4], &[0; 4], "len is not an output field");

    // Small data_out: ENOSPC, what fits is copied, the size is reported.
    let small = t.h.alloc(16);
    let (r, back) = test_run(
        &t,
        &TestRunAttr {
            data_out: small,
            data_size_out: 16,
            ctx_in: 0,
            ctx_size_in: 0,
            ctx_out: 0,
            ctx_size_out: 0,
            ..a
        },
    );
    assert_eq!(r, e(Errno::ENOSPC));
    assert_eq!(back.data_size_out, 60);
    assert_eq!(t.h.read(small, 16), data[..16]);
}

#[test]
fn socket_filter_test_run_errors() {
    let t = T::new();
    let fd = load_ok(&t, ProgType::SocketFilter, &ret(0));
    let base = TestRunAttr { prog_fd: fd, data_in: t.h.put_bytes(&frame()), data_size_in: 60, ..TestRunAttr::ZERO };
    let mut bad_ctx = [0u8; 192];
    bad_ctx[4] = 1; // pkt_type
    let long_ctx = {
        let mut c = vec![0u8; 200];
        c[199] = 1;
        c
    };
    let cases = [
        ("flags", TestRunAttr { flags: 1, ..base }, Errno::EINVAL),
        ("cpu", TestRunAttr { cpu: 1, ..base }, Errno::EINVAL),
        ("short frame", TestRunAttr { data_size_in: 13, ..base }, Errno::EINVAL),
        ("huge frame", TestRunAttr { data_size_in: 4000, ..base }, Errno::EINVAL),
        ("data fault", TestRunAttr { data_in: 8, ..base }, Errno::EFAULT),
        (
            "read-only ctx field",
            TestRunAttr { ctx_in: t.h.put_bytes(&bad_ctx), ctx_size_in: 192, ..base },
            Errno::EINVAL,
        ),
        ("ctx tail", TestRunAttr { ctx_in: t.h.put_bytes(&long_ctx), ctx_size_in: 200, ..base }, Errno::E2BIG),
    ];
    for (what, a, errno) in cases {
        assert_eq!(test_run(&t, &a).0, e(errno), "{what}");
    }
}
