//! `func_info` / `line_info` of `BPF_PROG_LOAD` (Linux `check_btf_func`, `check_btf_line`).

use syscall_abi::abi::Pod;
use syscall_abi::bpf::{BpfFuncInfo, BpfLineInfo, ProgLoadAttr, ProgType};
use syscall_abi::Errno;

use super::{attr, e, i, load, prog, ret};
use crate::object::{BpfObject, BtfObj, FileMode};
use crate::syscall::tests::T;
use crate::vm::insn::RawInsn;

/// (what, records, record size, errno).
type FuncCase = (&'static str, &'static [(u32, u32)], u32, Errno);
/// (what, program, line offsets, record size, errno).
type LineCase = (&'static str, Vec<RawInsn>, &'static [u32], u32, Errno);

fn btf_fd(t: &T, kernel: bool) -> u32 {
    let btf = BtfObj::new(t.host.registry(), vec![0; 24], Vec::new(), kernel).unwrap();
    t.h.install_object(BpfObject::Btf(btf), FileMode::ReadWrite)
}

fn func_infos(t: &T, a: &mut ProgLoadAttr, recs: &[(u32, u32)], rec_size: u32) {
    let mut bytes = Vec::new();
    for &(off, ty) in recs {
        let mut r = BpfFuncInfo { insn_off: off, type_id: ty }.as_bytes().to_vec();
        r.resize(rec_size as usize, 0);
        bytes.extend(r);
    }
    a.func_info = t.h.put_bytes(&bytes);
    a.func_info_cnt = recs.len() as u32;
    a.func_info_rec_size = rec_size;
}

fn line_infos(t: &T, a: &mut ProgLoadAttr, offs: &[u32], rec_size: u32) {
    let mut bytes = Vec::new();
    for &off in offs {
        let mut r = BpfLineInfo { insn_off: off, ..BpfLineInfo::ZERO }.as_bytes().to_vec();
        r.resize(rec_size as usize, 0);
        bytes.extend(r);
    }
    a.line_info = t.h.put_bytes(&bytes);
    a.line_info_cnt = offs.len() as u32;
    a.line_info_rec_size = rec_size;
}

/// main: call sub (insn 3); exit. sub: r0 = 1; exit.
fn two_funcs() -> Vec<RawInsn> {
    vec![i(0x85, 0, 1, 0, 2), i(0xb7, 0, 0, 0, 0), i(0x95, 0, 0, 0, 0), i(0xb7, 0, 0, 0, 1), i(0x95, 0, 0, 0, 0)]
}

#[test]
fn func_info_checks() {
    let t = T::new();
    let btf = btf_fd(&t, false);
    let cases: &[FuncCase] = &[
        ("count != subprograms", &[(0, 1)], 8, Errno::EINVAL),
        ("rec size 4", &[(0, 1), (3, 2)], 4, Errno::EINVAL),
        ("rec size 10", &[(0, 1), (3, 2)], 10, Errno::EINVAL),
        ("rec size 256", &[(0, 1), (3, 2)], 256, Errno::EINVAL),
        ("first insn_off not 0", &[(1, 1), (3, 2)], 8, Errno::EINVAL),
        ("not increasing", &[(0, 1), (0, 2)], 8, Errno::EINVAL),
        ("not at the subprogram", &[(0, 1), (2, 2)], 8, Errno::EINVAL),
    ];
    for (what, recs, size, errno) in cases {
        let mut a = attr(&t, ProgType::Kprobe, &two_funcs());
        a.prog_btf_fd = btf;
        func_infos(&t, &mut a, recs, *size);
        assert_eq!(load(&t, &a), e(*errno), "{what}");
    }
    // A longer record with a non-zero tail is E2BIG; with a zero tail it is accepted.
    let mut a = attr(&t, ProgType::Kprobe, &two_funcs());
    a.prog_btf_fd = btf;
    func_infos(&t, &mut a, &[(0, 1), (3, 2)], 12);
    let fd = load(&t, &a);
    assert!(fd >= 0, "{fd}");
    let p = prog(&t, fd as u32);
    assert_eq!(p.func_info().iter().map(|f| (f.insn_off, f.type_id)).collect::<Vec<_>>(), vec![(0, 1), (3, 2)]);
    assert!(p.btf().is_some());
    let addr = a.func_info + 8;
    t.h.write(addr, &[1, 0, 0, 0]);
    assert_eq!(load(&t, &a), e(Errno::E2BIG));
    // A kernel BTF is refused.
    let mut a = attr(&t, ProgType::Kprobe, &ret(0));
    a.prog_btf_fd = btf_fd(&t, true);
    func_infos(&t, &mut a, &[(0, 1)], 8);
    assert_eq!(load(&t, &a), e(Errno::EACCES));
}

#[test]
fn line_info_checks() {
    let t = T::new();
    let btf = btf_fd(&t, false);
    let mut ld = super::ld64(1, 0, 5, 0).to_vec();
    ld.extend(ret(0));
    let cases: &[LineCase] = &[
        ("rec size 8", ret(0), &[0], 8, Errno::EINVAL),
        ("rec size 18", ret(0), &[0], 18, Errno::EINVAL),
        ("past the end", ret(0), &[0, 2], 16, Errno::EINVAL),
        ("not increasing", ret(0), &[1, 1], 16, Errno::EINVAL),
        ("second half of ld_imm64", ld, &[0, 1], 16, Errno::EINVAL),
        ("subprogram without line info", two_funcs(), &[0, 1], 16, Errno::EINVAL),
    ];
    for (what, insns, offs, size, errno) in cases {
        let mut a = attr(&t, ProgType::Kprobe, insns);
        a.prog_btf_fd = btf;
        line_infos(&t, &mut a, offs, *size);
        assert_eq!(load(&t, &a), e(*errno), "{what}");
    }
    let mut a = attr(&t, ProgType::Kprobe, &two_funcs());
    a.prog_btf_fd = btf;
    line_infos(&t, &mut a, &[0, 1, 3], 16);
    let fd = load(&t, &a);
    assert!(fd >= 0, "{fd}");
    assert_eq!(prog(&t, fd as u32).line_info().len(), 3);
}
