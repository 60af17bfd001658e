//! `BPF_RAW_TRACEPOINT_OPEN` and raw tracepoint link info through raw attribute bytes (Linux
//! 6.1 `bpf_raw_tracepoint_open`, `bpf_raw_tp_link_attach`, `bpf_raw_tp_link_fill_link_info`).

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{
    BpfLinkInfo, BpfLinkInfoRawTracepoint, Cmd, LinkDetachAttr, LinkType, LinkUpdateAttr, MapType, ProgType,
    RawTracepointAttr,
};
use syscall_abi::Errno;

use super::link::{count, counter, i, link_info, load, ret};
use super::link_fake::TT;
use super::{e, T};

/// `BPF_RAW_TRACEPOINT_OPEN` with a user pointer to the name.
fn open(t: &T, prog_fd: u32, name: u64) -> isize {
    t.call(Cmd::RawTracepointOpen, &RawTracepointAttr { name, prog_fd, pad0: 0 })
}

/// `r0 = *(u64 *)(r1 + 8); exit`: the second argument.
fn second_arg() -> Vec<[u8; 8]> {
    vec![i(0x79, 0, 1, 8, 0), i(0x95, 0, 0, 0, 0)]
}

#[test]
fn open_fire_close() {
    let tt = TT::new();
    let t = &tt.t;
    let map = t.map(MapType::Array, 4, 8, 1, 0);
    let prog = load(t, ProgType::RawTracepoint, &counter(map));
    let arg = load(t, ProgType::RawTracepoint, &second_arg());
    let link = open(t, prog, t.cstr("sched_switch"));
    assert!(link >= 3, "{link}");
    let link2 = open(t, arg, t.cstr("sched_switch"));
    assert!(link2 >= 3, "{link2}");
    assert_eq!(tt.th.tracing.attached(b"sched_switch"), 2);
    for _ in 0..3 {
        assert_eq!(tt.th.tracing.fire_raw_tp(&*tt.th, b"sched_switch", &[1, 42]), vec![0, 42]);
    }
    assert_eq!(count(t, map), 3);
    // Nothing fires on the other tracepoint.
    assert!(tt.th.tracing.fire_raw_tp(&*tt.th, b"sys_enter", &[1, 2]).is_empty());
    // No detach, no update in 6.1.
    assert_eq!(t.call(Cmd::LinkDetach, &LinkDetachAttr { link_fd: link as u32 }), e(Errno::EOPNOTSUPP));
    let upd = LinkUpdateAttr { link_fd: link as u32, new_prog_fd: prog, flags: 0, old_prog_fd: 0 };
    assert_eq!(t.call(Cmd::LinkUpdate, &upd), e(Errno::EINVAL));
    // Closing the link fd detaches.
    assert!(t.h.close(link as u32));
    assert_eq!(tt.th.tracing.fire_raw_tp(&*tt.th, b"sched_switch", &[1, 7]), vec![7]);
    assert_eq!(count(t, map), 3);
    t.assert_all_freed();
    assert_eq!(tt.th.tracing.attached(b"sched_switch"), 0);
}

#[test]
fn open_errors() {
    let tt = TT::new();
    let t = &tt.t;
    let map = t.map(MapType::Array, 4, 8, 1, 0);
    let raw = load(t, ProgType::RawTracepoint, &ret(0));
    let kprobe = load(t, ProgType::Kprobe, &ret(0));
    let tp = load(t, ProgType::Tracepoint, &ret(0));
    let name = t.cstr("sys_enter");
    let long = t.cstr(&"x".repeat(300));
    let unterminated = {
        // "sys_enter" right before a hole: the copy faults.
        let a = t.h.alloc(64);
        t.h.write(a, b"sys_enter");
        t.h.punch_hole(a + 9, 55);
        a
    };
    let cases: &[(&str, u32, u64, Errno)] = &[
        ("prog fd not open", 77, name, Errno::EBADF),
        ("prog fd is a map", map, name, Errno::EINVAL),
        ("kprobe program", kprobe, name, Errno::EINVAL),
        ("tracepoint program", tp, name, Errno::EINVAL),
        ("NULL name", raw, 0, Errno::EFAULT),
        ("name faults", raw, unterminated, Errno::EFAULT),
        ("unknown tracepoint", raw, t.cstr("no_such_tp"), Errno::ENOENT),
        ("empty name", raw, t.cstr(""), Errno::ENOENT),
        ("300-byte name (cut at 127)", raw, long, Errno::ENOENT),
    ];
    for (what, prog, name, want) in cases {
        assert_eq!(open(t, *prog, *name), e(*want), "{what}");
    }
    assert_eq!(tt.th.tracing.attached(b"sys_enter"), 0);
    // The same program twice on one tracepoint: EEXIST; on another one: fine.
    assert!(open(t, raw, name) >= 3);
    assert_eq!(open(t, raw, name), e(Errno::EEXIST));
    assert!(open(t, raw, t.cstr("sched_switch")) >= 3);
    // A kernel without tracing has no raw tracepoints.
    let plain = T::new();
    let p = load(&plain, ProgType::RawTracepoint, &ret(0));
    assert_eq!(open(&plain, p, plain.cstr("sys_enter")), e(Errno::ENOENT));
}

#[test]
fn link_info_names_the_tracepoint() {
    let tt = TT::new();
    let t = &tt.t;
    let prog = load(t, ProgType::RawTracepoint, &ret(0));
    let link = open(t, prog, t.cstr("sched_switch")) as u32;
    let rt = |tp_name, tp_name_len| {
        let v = BpfLinkInfoRawTracepoint { tp_name, tp_name_len, ..BpfLinkInfoRawTracepoint::ZERO };
        let info: BpfLinkInfo = v.cast();
        info
    };
    // No buffer: only the length (with the NUL).
    let (r, back) = link_info(t, link, &rt(0, 0));
    assert_eq!(r, 0);
    let v: BpfLinkInfoRawTracepoint = back.cast();
    assert_eq!((v.type_, v.tp_name_len), (u32::from(LinkType::RawTracepoint), 13));
    assert!(v.id >= 1 && v.prog_id >= 1);
    // A buffer that fits.
    let buf = t.h.alloc(32);
    let (r, back) = link_info(t, link, &rt(buf, 32));
    assert_eq!(r, 0);
    assert_eq!(back.cast::<BpfLinkInfoRawTracepoint>().tp_name_len, 13);
    assert_eq!(t.h.read(buf, 14), b"sched_switch\0\0");
    // Exactly the size.
    let buf = t.h.alloc(13);
    assert_eq!(link_info(t, link, &rt(buf, 13)).0, 0);
    assert_eq!(t.h.read(buf, 13), b"sched_switch\0");
    // Too short: truncated, NUL-terminated, ENOSPC, and the record is not written back.
    let buf = t.h.alloc(6);
    let (r, back) = link_info(t, link, &rt(buf, 6));
    assert_eq!(r, e(Errno::ENOSPC));
    assert_eq!(t.h.read(buf, 6), b"sched\0");
    assert_eq!((back.type_, back.cast::<BpfLinkInfoRawTracepoint>().tp_name_len), (0, 6));
    // Pointer and length must come together.
    assert_eq!(link_info(t, link, &rt(buf, 0)).0, e(Errno::EINVAL));
    assert_eq!(link_info(t, link, &rt(0, 8)).0, e(Errno::EINVAL));
    // A buffer that faults.
    assert_eq!(link_info(t, link, &rt(0x10, 32)).0, e(Errno::EFAULT));
}
