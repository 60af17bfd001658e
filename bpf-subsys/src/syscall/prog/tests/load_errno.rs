//! Every errno path of `BPF_PROG_LOAD` before and around the verifier.

use syscall_abi::bpf::{MapType, ProgLoadAttr, ProgType, BPF_F_SLEEPABLE, BPF_F_TEST_RND_HI32};
use syscall_abi::Errno;

use super::{attr, e, i, load, load_ok, prog, ret};
use crate::host::Capability;
use crate::syscall::tests::T;
use crate::vm::insn::RawInsn;

type Edit = fn(&T, &mut ProgLoadAttr);

#[test]
fn errno_table() {
    let cases: &[(&str, Edit, Errno)] = &[
        ("unknown prog_flags bit", |_, a| a.prog_flags = 1 << 6, Errno::EINVAL),
        ("insn_cnt 0", |_, a| a.insn_cnt = 0, Errno::E2BIG),
        ("insn_cnt above 1M", |_, a| a.insn_cnt = 1_000_001, Errno::E2BIG),
        ("attach_btf_id without vmlinux BTF", |_, a| a.attach_btf_id = 5, Errno::EINVAL),
        ("attach_prog_fd not a prog or BTF", |_, a| a.attach_prog_fd = 1, Errno::EINVAL),
        ("attach_prog_fd closed", |_, a| a.attach_prog_fd = 77, Errno::EINVAL),
        ("insns fault", |_, a| a.insns = 8, Errno::EFAULT),
        ("license fault", |_, a| a.license = 8, Errno::EFAULT),
        ("offload ifindex", |_, a| a.prog_ifindex = 1, Errno::EINVAL),
        ("unsupported type xdp", |_, a| a.prog_type = ProgType::Xdp.into(), Errno::EINVAL),
        ("unknown type", |_, a| a.prog_type = 999, Errno::EINVAL),
        ("type unspec", |_, a| a.prog_type = 0, Errno::EINVAL),
        ("bad name char", |_, a| a.prog_name[..3].copy_from_slice(b"a-b"), Errno::EINVAL),
        ("name without NUL", |_, a| a.prog_name = [b'a'; 16], Errno::EINVAL),
        ("log level without buffer", |_, a| a.log_level = 1, Errno::EINVAL),
        ("log size too small", |t, a| set_log(t, a, 1, 127), Errno::EINVAL),
        ("log size too big", |t, a| set_log(t, a, 1, u32::MAX >> 1), Errno::EINVAL),
        ("log level bits", |t, a| set_log(t, a, 8, 4096), Errno::EINVAL),
        ("log buffer without level", |t, a| set_log(t, a, 0, 4096), Errno::EINVAL),
        ("sleepable tracepoint", |_, a| a.prog_flags = BPF_F_SLEEPABLE, Errno::EINVAL),
        (
            "func_info with closed btf fd",
            |_, a| {
                a.func_info_cnt = 1;
                a.func_info_rec_size = 8;
                a.prog_btf_fd = 77;
            },
            Errno::EBADF,
        ),
        (
            "line_info with non-BTF fd",
            |_, a| {
                a.line_info_cnt = 1;
                a.line_info_rec_size = 16;
                a.prog_btf_fd = 1;
            },
            Errno::EINVAL,
        ),
    ];
    let t = T::new();
    for (what, edit, errno) in cases {
        let mut a = attr(&t, ProgType::Tracepoint, &ret(0));
        edit(&t, &mut a);
        assert_eq!(load(&t, &a), e(*errno), "{what}");
    }
    assert!(t.host.registry().is_empty(), "no program object left behind");
}

fn set_log(t: &T, a: &mut ProgLoadAttr, level: u32, size: u32) {
    a.log_level = level;
    a.log_size = size;
    a.log_buf = t.h.alloc(4096);
}

#[test]
fn accepted_flags_and_fields() {
    let t = T::new();
    let mut a = attr(&t, ProgType::Kprobe, &ret(0));
    a.prog_flags = BPF_F_TEST_RND_HI32 | BPF_F_SLEEPABLE; // kprobe may sleep (uprobes)
    a.kern_version = 0x0006_0100;
    a.expected_attach_type = 42;
    a.prog_btf_fd = 77; // ignored without func/line info, as Linux
    a.prog_name[..4].copy_from_slice(b"ab.c");
    let fd = load(&t, &a);
    assert!(fd >= 3, "{fd}");
    let p = prog(&t, fd as u32);
    assert_eq!(p.expected_attach_type(), 42);
    assert_eq!(&p.name()[..5], b"ab.c\0");
    assert!(p.gpl_compatible());
}

#[test]
fn capabilities() {
    let t = T::new();
    t.h.set_cap(Capability::Perfmon, false);
    t.h.set_cap(Capability::SysAdmin, false);
    for ty in [ProgType::Kprobe, ProgType::Tracepoint, ProgType::PerfEvent, ProgType::RawTracepoint] {
        assert_eq!(load(&t, &attr(&t, ty, &ret(0))), e(Errno::EPERM), "{ty:?}");
    }
    // Socket filters need only CAP_BPF.
    assert!(load(&t, &attr(&t, ProgType::SocketFilter, &ret(0))) >= 0);
    // Networking types need CAP_NET_ADMIN before the type is found unsupported.
    t.h.set_cap(Capability::NetAdmin, false);
    assert_eq!(load(&t, &attr(&t, ProgType::Xdp, &ret(0))), e(Errno::EPERM));
    t.h.set_cap(Capability::NetAdmin, true);
    assert_eq!(load(&t, &attr(&t, ProgType::Xdp, &ret(0))), e(Errno::EINVAL));
    // No CAP_BPF at all: the dispatcher refuses PROG_LOAD first.
    t.h.drop_all_caps();
    assert_eq!(load(&t, &attr(&t, ProgType::SocketFilter, &ret(0))), e(Errno::EPERM));
}

#[test]
fn attach_prog_fd_of_a_program_is_einval() {
    let t = T::new();
    let p = load_ok(&t, ProgType::Kprobe, &ret(0));
    let mut a = attr(&t, ProgType::Kprobe, &ret(0));
    a.attach_prog_fd = p;
    assert_eq!(load(&t, &a), e(Errno::EINVAL));
    let m = t.map(MapType::Array, 4, 4, 1, 0);
    a.attach_prog_fd = m;
    assert_eq!(load(&t, &a), e(Errno::EINVAL));
}

#[test]
fn license_gpl_compatibility() {
    // r1 = r10 - 8 (fmt); *(u64 *)(r10 - 8) = 0; r2 = 8; call bpf_trace_printk (GPL-only)
    let printk: [RawInsn; 7] = [
        i(0x7a, 10, 0, -8, 0),
        i(0xbf, 1, 10, 0, 0),
        i(0x07, 1, 0, 0, -8),
        i(0xb7, 2, 0, 0, 8),
        i(0x85, 0, 0, 0, 6),
        i(0xb7, 0, 0, 0, 0),
        i(0x95, 0, 0, 0, 0),
    ];
    let t = T::new();
    for (lic, ok) in [
        (&b"GPL\0"[..], true),
        (b"GPL v2\0", true),
        (b"GPL and additional rights\0", true),
        (b"Dual BSD/GPL\0", true),
        (b"Dual MIT/GPL\0", true),
        (b"Dual MPL/GPL\0", true),
        (b"MIT\0", false),
        (b"GPL \0", false),
        (b"gpl\0", false),
        (b"\0", false),
    ] {
        let mut a = attr(&t, ProgType::Kprobe, &printk);
        a.license = t.h.put_bytes(lic);
        let r = load(&t, &a);
        if ok {
            assert!(r >= 0, "{lic:?}: {r}");
            assert!(prog(&t, r as u32).gpl_compatible());
        } else {
            assert_eq!(r, e(Errno::EINVAL), "{lic:?}");
        }
    }
    // A license longer than 127 bytes is cut: "GPL" followed by 200 bytes is not GPL.
    let mut long = b"GPL".to_vec();
    long.extend([b'x'; 200]);
    long.push(0);
    let mut a = attr(&t, ProgType::Kprobe, &ret(0));
    a.license = t.h.put_bytes(&long);
    let fd = load(&t, &a);
    assert!(fd >= 0);
    assert!(!prog(&t, fd as u32).gpl_compatible());
}

#[test]
fn verifier_rejections_keep_linux_errno() {
    let t = T::new();
    // r0 never written.
    let a = attr(&t, ProgType::Kprobe, &[i(0x95, 0, 0, 0, 0)]);
    assert_eq!(load(&t, &a), e(Errno::EACCES));
    // Unknown opcode.
    let a = attr(&t, ProgType::Kprobe, &[i(0xff, 0, 0, 0, 0), i(0x95, 0, 0, 0, 0)]);
    assert_eq!(load(&t, &a), e(Errno::EINVAL));
}

#[test]
fn program_object_fields() {
    let t = T::new();
    let fd = load_ok(&t, ProgType::RawTracepoint, &ret(7));
    let p = prog(&t, fd);
    assert_eq!(p.prog_type(), ProgType::RawTracepoint);
    assert!(p.id() >= 1);
    assert_eq!(p.xlated().len(), 2);
    assert_eq!(p.created_by_uid(), t.host.current_uid_gid().0);
    assert!(p.load_time() > 0);
    assert!(p.verified_insns() >= 2);
    assert!(t.h.close(fd));
    drop(p);
    assert!(t.host.registry().is_empty());
}
