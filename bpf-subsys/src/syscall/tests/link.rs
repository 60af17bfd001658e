//! `BPF_LINK_CREATE`, `BPF_LINK_UPDATE`, `BPF_LINK_DETACH` through raw attribute bytes, with
//! the fake tracing layer of `link_fake` (Linux 6.1 `link_create`, `bpf_perf_link_attach`,
//! `perf_event_set_bpf_prog`, `link_update`, `bpf_link_detach`).

use std::vec::Vec;

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{
    AttachType, BpfAttr, BpfLinkInfo, Cmd, GetIdAttr, InfoAttr, LinkCreatePerfEventAttr, LinkDetachAttr, LinkType,
    LinkUpdateAttr, MapType, ProgLoadAttr, ProgType, BPF_F_REPLACE, BPF_PSEUDO_MAP_FD,
};
use syscall_abi::Errno;

use super::link_fake::TT;
use super::{e, u32b, T};
use crate::attach::PerfEventKind;
use crate::vm::insn::{encode, Insn, RawInsn};

/// One instruction.
pub(super) fn i(opc: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    encode(&Insn { opc, dst, src, off, imm })
}

/// `r0 = imm; exit`.
pub(super) fn ret(imm: i32) -> Vec<RawInsn> {
    vec![i(0xb7, 0, 0, 0, imm), i(0x95, 0, 0, 0, 0)]
}

/// `BPF_PROG_LOAD` of `insns` as `ty` with `expected_attach_type`; the result.
pub(super) fn load_ex(t: &T, ty: ProgType, expected: u32, insns: &[RawInsn]) -> isize {
    let bytes: Vec<u8> = insns.iter().flatten().copied().collect();
    let a = ProgLoadAttr {
        prog_type: ty.into(),
        expected_attach_type: expected,
        insn_cnt: insns.len() as u32,
        insns: t.h.put_bytes(&bytes),
        license: t.h.put_bytes(b"GPL\0"),
        ..ProgLoadAttr::ZERO
    };
    t.call(Cmd::ProgLoad, &a)
}

/// Loads `insns` as `ty`; panics on failure; the fd.
pub(super) fn load(t: &T, ty: ProgType, insns: &[RawInsn]) -> u32 {
    let r = load_ex(t, ty, 0, insns);
    assert!(r >= 0, "load of {ty:?} failed: {r}");
    r as u32
}

/// A program adding 1 to the u64 at key 0 of the array `map_fd` on every run.
pub(super) fn counter(map_fd: u32) -> Vec<RawInsn> {
    vec![
        i(0x62, 10, 0, -4, 0), // *(u32 *)(r10 - 4) = 0
        i(0xbf, 2, 10, 0, 0),  // r2 = r10
        i(0x07, 2, 0, 0, -4),  // r2 += -4
        i(0x18, 1, BPF_PSEUDO_MAP_FD, 0, map_fd as i32),
        i(0, 0, 0, 0, 0),    // r1 = map
        i(0x85, 0, 0, 0, 1), // call map_lookup_elem
        i(0x15, 0, 0, 2, 0), // if r0 == 0 goto +2
        i(0xb7, 1, 0, 0, 1), // r1 = 1
        i(0xdb, 0, 1, 0, 0), // lock *(u64 *)(r0 + 0) += r1
        i(0xb7, 0, 0, 0, 0), // r0 = 0
        i(0x95, 0, 0, 0, 0), // exit
    ]
}

/// The u64 at key 0 of the array `map_fd`.
pub(super) fn count(t: &T, map_fd: u32) -> u64 {
    let v = t.lookup(map_fd, &u32b(0), 8).expect("lookup");
    u64::from_ne_bytes(v.try_into().unwrap())
}

/// `BPF_LINK_CREATE` with the perf event arm.
pub(super) fn link_create(t: &T, prog_fd: u32, target_fd: u32, attach_type: u32, cookie: u64) -> isize {
    let a = LinkCreatePerfEventAttr { prog_fd, target_fd, attach_type, flags: 0, bpf_cookie: cookie };
    t.call(Cmd::LinkCreate, &a)
}

const PERF: u32 = 41; // BPF_PERF_EVENT

/// `BPF_OBJ_GET_INFO_BY_FD` of a link with `info` as the user's record: result and record.
pub(super) fn link_info(t: &T, fd: u32, info: &BpfLinkInfo) -> (isize, BpfLinkInfo) {
    let addr = t.h.put(info);
    let a = InfoAttr { bpf_fd: fd, info_len: core::mem::size_of::<BpfLinkInfo>() as u32, info: addr };
    let r = t.call(Cmd::ObjGetInfoByFd, &a);
    (r, t.h.get(addr))
}

#[test]
fn kprobe_link_counts_until_closed() {
    let tt = TT::new();
    let t = &tt.t;
    let map = t.map(MapType::Array, 4, 8, 1, 0);
    let prog = load(t, ProgType::Kprobe, &counter(map));
    let (ev_fd, ev) = tt.event(PerfEventKind::Probe);
    assert_eq!(tt.fire(&ev), None, "nothing attached yet");
    let link = link_create(t, prog, ev_fd, PERF, 0);
    assert!(link >= 3, "{link}");
    let link = link as u32;
    for _ in 0..3 {
        assert_eq!(tt.fire(&ev), Some(0));
    }
    assert_eq!(count(t, map), 3);

    // Info: the common header only (Linux 6.1 perf links have no fill_link_info); the
    // union comes back as the user passed it.
    let mut info = BpfLinkInfo::ZERO;
    info.info = [7, 8, 9, 10];
    let (r, back) = link_info(t, link, &info);
    assert_eq!(r, 0);
    assert_eq!(back.type_, u32::from(LinkType::PerfEvent));
    assert_eq!(back.prog_id, ev.prog_id().unwrap());
    assert_eq!(back.info, [7, 8, 9, 10]);
    assert!(back.id >= 1);
    // The link is registered: LINK_GET_FD_BY_ID finds it.
    let by_id = t.call(Cmd::LinkGetFdById, &GetIdAttr { start_id: back.id, ..GetIdAttr::ZERO });
    assert!(by_id >= 3, "{by_id}");

    // No detach and no update for perf event links in 6.1.
    assert_eq!(t.call(Cmd::LinkDetach, &LinkDetachAttr { link_fd: link }), e(Errno::EOPNOTSUPP));
    let upd = LinkUpdateAttr { link_fd: link, new_prog_fd: prog, flags: 0, old_prog_fd: 0 };
    assert_eq!(t.call(Cmd::LinkUpdate, &upd), e(Errno::EINVAL));
    assert_eq!(tt.fire(&ev), Some(0));
    assert_eq!(count(t, map), 4);

    // Closing the program fd does not detach (the link holds the program); closing every
    // link fd does.
    assert!(t.h.close(prog));
    assert_eq!(tt.fire(&ev), Some(0));
    assert!(t.h.close(link));
    assert!(ev.prog_id().is_some(), "the fd from LINK_GET_FD_BY_ID still holds the link");
    assert!(t.h.close(by_id as u32));
    assert_eq!(ev.prog_id(), None);
    assert_eq!(tt.fire(&ev), None);
    assert_eq!(count(t, map), 5);
    // The event is free again.
    let prog2 = load(t, ProgType::Kprobe, &ret(0));
    assert!(link_create(t, prog2, ev_fd, PERF, 0) >= 3);
    t.assert_all_freed();
}

#[test]
fn cookie_reaches_the_program() {
    let tt = TT::new();
    let t = &tt.t;
    // r0 = bpf_get_attach_cookie(ctx); exit
    let prog = load(t, ProgType::Kprobe, &[i(0x85, 0, 0, 0, 174), i(0x95, 0, 0, 0, 0)]);
    let (ev_fd, ev) = tt.event(PerfEventKind::Probe);
    assert!(link_create(t, prog, ev_fd, PERF, 0xdead_beef_0123) >= 3);
    assert_eq!(tt.fire(&ev), Some(0xdead_beef_0123));
}

#[test]
fn program_types_match_event_kinds() {
    let tt = TT::new();
    let t = &tt.t;
    let kprobe = load(t, ProgType::Kprobe, &ret(1));
    let tp = load(t, ProgType::Tracepoint, &ret(2));
    let pe = load(t, ProgType::PerfEvent, &ret(3));
    let cases = [
        (kprobe, PerfEventKind::Tracepoint, e(Errno::EINVAL)),
        (kprobe, PerfEventKind::Counter, e(Errno::EINVAL)),
        (tp, PerfEventKind::Probe, e(Errno::EINVAL)),
        (tp, PerfEventKind::Counter, e(Errno::EINVAL)),
        (pe, PerfEventKind::Probe, e(Errno::EINVAL)),
        (pe, PerfEventKind::Tracepoint, e(Errno::EINVAL)),
        (kprobe, PerfEventKind::OtherTraceEvent, e(Errno::EINVAL)),
        (pe, PerfEventKind::KernelCounter, e(Errno::EINVAL)),
    ];
    for (prog, kind, want) in cases {
        let (fd, ev) = tt.event(kind);
        assert_eq!(link_create(t, prog, fd, PERF, 0), want, "{prog} on {kind:?}");
        assert_eq!(ev.prog_id(), None);
    }
    for (prog, kind, r0) in [(kprobe, PerfEventKind::Probe, 1), (tp, PerfEventKind::Tracepoint, 2)] {
        let (fd, ev) = tt.event(kind);
        assert!(link_create(t, prog, fd, PERF, 0) >= 3, "{kind:?}");
        assert_eq!(tt.fire(&ev), Some(r0));
        // A second program on the same event: EEXIST.
        assert_eq!(link_create(t, prog, fd, PERF, 0), e(Errno::EEXIST));
    }
    let (fd, ev) = tt.event(PerfEventKind::Counter);
    assert!(link_create(t, pe, fd, PERF, 0) >= 3);
    assert_eq!(tt.fire(&ev), Some(3));
    // On a counter with a program, EEXIST comes before the type check.
    assert_eq!(link_create(t, kprobe, fd, PERF, 0), e(Errno::EEXIST));
}

#[test]
fn link_create_errors() {
    let tt = TT::new();
    let t = &tt.t;
    let map = t.map(MapType::Array, 4, 8, 1, 0);
    let kprobe = load(t, ProgType::Kprobe, &ret(0));
    let tp = load(t, ProgType::Tracepoint, &ret(0));
    let filter = load(t, ProgType::SocketFilter, &ret(0));
    let (ev, ev_obj) = tt.event(PerfEventKind::Probe);
    let multi = u32::from(AttachType::TraceKprobeMulti);
    let cases: &[(&str, u32, u32, u32, isize)] = &[
        ("prog fd not open", 77, ev, PERF, e(Errno::EBADF)),
        ("prog fd is a map", map, ev, PERF, e(Errno::EINVAL)),
        ("prog fd is a plain file", 1, ev, PERF, e(Errno::EINVAL)),
        ("kprobe with attach type 0", kprobe, ev, 0, e(Errno::EINVAL)),
        ("kprobe with unknown attach type", kprobe, ev, 99, e(Errno::EINVAL)),
        ("kprobe_multi (no CONFIG_FPROBE)", kprobe, ev, multi, e(Errno::EOPNOTSUPP)),
        ("tracepoint with kprobe_multi", tp, ev, multi, e(Errno::EINVAL)),
        ("socket filter with BPF_PERF_EVENT", filter, ev, PERF, e(Errno::EINVAL)),
        ("socket filter with attach type 0", filter, ev, 0, e(Errno::EINVAL)),
        ("target fd not open", kprobe, 77, PERF, e(Errno::EBADF)),
        ("target fd is a map", kprobe, map, PERF, e(Errno::EBADF)),
        ("target fd is a plain file", kprobe, 2, PERF, e(Errno::EBADF)),
    ];
    for &(what, prog, target, attach, want) in cases {
        assert_eq!(link_create(t, prog, target, attach, 0), want, "{what}");
    }
    // Flags must be zero.
    let a = LinkCreatePerfEventAttr { prog_fd: kprobe, target_fd: ev, attach_type: PERF, flags: 1, bpf_cookie: 0 };
    assert_eq!(t.call(Cmd::LinkCreate, &a), e(Errno::EINVAL));
    // Bytes past the last field (kprobe_multi.cookies) are EINVAL.
    let mut attr = BpfAttr::from_part(&LinkCreatePerfEventAttr {
        prog_fd: kprobe,
        target_fd: ev,
        attach_type: PERF,
        ..Default::default()
    });
    attr.as_bytes_mut()[48] = 1;
    assert_eq!(t.call(Cmd::LinkCreate, &attr), e(Errno::EINVAL));
    assert_eq!(ev_obj.prog_id(), None, "no failed attempt attached anything");
    // A kprobe program loaded for kprobe_multi cannot take BPF_PERF_EVENT.
    let r = load_ex(t, ProgType::Kprobe, multi, &ret(0));
    assert!(r >= 3, "{r}");
    assert_eq!(link_create(t, r as u32, ev, PERF, 0), e(Errno::EINVAL));
    assert_eq!(link_create(t, r as u32, ev, multi, 0), e(Errno::EOPNOTSUPP));
    // No links were made.
    assert_eq!(t.call(Cmd::LinkGetNextId, &GetIdAttr::ZERO), e(Errno::ENOENT));
}

#[test]
fn kernel_without_tracing() {
    let t = T::new();
    let kprobe = load(&t, ProgType::Kprobe, &ret(0));
    let ev = super::link_fake::FakePerfEvent::new(1, PerfEventKind::Probe);
    let fd = t.h.install_perf(ev);
    assert_eq!(link_create(&t, kprobe, fd, PERF, 0), e(Errno::EBADF));
}

#[test]
fn link_update_errors() {
    let tt = TT::new();
    let t = &tt.t;
    let map = t.map(MapType::Array, 4, 8, 1, 0);
    let kprobe = load(t, ProgType::Kprobe, &ret(0));
    let other = load(t, ProgType::Kprobe, &ret(1));
    let (ev, ev_obj) = tt.event(PerfEventKind::Probe);
    let link = link_create(t, kprobe, ev, PERF, 0) as u32;
    let u = |link_fd, new_prog_fd, flags, old_prog_fd| LinkUpdateAttr { link_fd, new_prog_fd, flags, old_prog_fd };
    let cases: &[(&str, LinkUpdateAttr, Errno)] = &[
        ("unknown flag", u(link, other, 2, 0), Errno::EINVAL),
        ("link fd not open", u(77, other, 0, 0), Errno::EBADF),
        ("link fd is a map", u(map, other, 0, 0), Errno::EINVAL),
        ("link fd is a program", u(kprobe, other, 0, 0), Errno::EINVAL),
        ("new prog not open", u(link, 77, 0, 0), Errno::EBADF),
        ("new prog is a map", u(link, map, 0, 0), Errno::EINVAL),
        ("old_prog_fd without BPF_F_REPLACE", u(link, other, 0, kprobe), Errno::EINVAL),
        ("old prog not open", u(link, other, BPF_F_REPLACE, 77), Errno::EBADF),
        ("old prog is a map", u(link, other, BPF_F_REPLACE, map), Errno::EINVAL),
        ("perf links have no update_prog", u(link, other, 0, 0), Errno::EINVAL),
        ("not even with BPF_F_REPLACE", u(link, other, BPF_F_REPLACE, kprobe), Errno::EINVAL),
    ];
    for (what, a, want) in cases {
        assert_eq!(t.call(Cmd::LinkUpdate, a), e(*want), "{what}");
    }
    assert_eq!(tt.fire(&ev_obj), Some(0), "the original program is still attached");
}

#[test]
fn link_detach_errors() {
    let tt = TT::new();
    let t = &tt.t;
    let map = t.map(MapType::Array, 4, 8, 1, 0);
    let d = |fd| t.call(Cmd::LinkDetach, &LinkDetachAttr { link_fd: fd });
    assert_eq!(d(77), e(Errno::EBADF));
    assert_eq!(d(map), e(Errno::EINVAL));
    assert_eq!(d(1), e(Errno::EINVAL));
    let kprobe = load(t, ProgType::Kprobe, &ret(5));
    let (ev, ev_obj) = tt.event(PerfEventKind::Probe);
    let link = link_create(t, kprobe, ev, PERF, 0) as u32;
    assert_eq!(d(link), e(Errno::EOPNOTSUPP));
    assert_eq!(d(link), e(Errno::EOPNOTSUPP));
    assert_eq!(tt.fire(&ev_obj), Some(5), "still attached");
}
