//! `BPF_PROG_LOAD` / `BPF_PROG_TEST_RUN` tests through raw attribute bytes.

mod btf_info;
mod conformance;
mod elf;
mod load_errno;
mod log;
mod reloc;
mod run;

use std::sync::Arc;
use std::vec::Vec;

use syscall_abi::bpf::{Cmd, ProgLoadAttr, ProgType, TestRunAttr};

use crate::object::{BpfObject, ProgObj};
use crate::syscall::tests::T;
use crate::vm::insn::{encode, Insn, RawInsn};

pub(super) use crate::syscall::tests::e;

/// One instruction.
pub(super) fn i(opc: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    encode(&Insn { opc, dst, src, off, imm })
}

/// `r0 = imm; exit`.
pub(super) fn ret(imm: i32) -> Vec<RawInsn> {
    vec![i(0xb7, 0, 0, 0, imm), i(0x95, 0, 0, 0, 0)]
}

/// `ld_imm64 dst, src(pseudo), imm, aux`.
pub(super) fn ld64(dst: u8, src: u8, imm: i32, aux: i32) -> [RawInsn; 2] {
    [i(0x18, dst, src, 0, imm), i(0, 0, 0, 0, aux)]
}

/// Load attributes for `insns` of type `ty` with a "GPL" license, everything else zero.
pub(super) fn attr(t: &T, ty: ProgType, insns: &[RawInsn]) -> ProgLoadAttr {
    let bytes: Vec<u8> = insns.iter().flatten().copied().collect();
    ProgLoadAttr {
        prog_type: ty.into(),
        insn_cnt: insns.len() as u32,
        insns: t.h.put_bytes(&bytes),
        license: t.h.put_bytes(b"GPL\0"),
        ..ProgLoadAttr::ZERO
    }
}

/// `BPF_PROG_LOAD`.
pub(super) fn load(t: &T, a: &ProgLoadAttr) -> isize {
    t.call(Cmd::ProgLoad, a)
}

/// Loads `insns` as `ty`; panics on failure; returns the fd.
pub(super) fn load_ok(t: &T, ty: ProgType, insns: &[RawInsn]) -> u32 {
    let r = load(t, &attr(t, ty, insns));
    assert!(r >= 0, "load failed: {r}");
    r as u32
}

/// The program behind `fd`.
pub(super) fn prog(t: &T, fd: u32) -> Arc<ProgObj> {
    match t.h.object(fd) {
        Some(BpfObject::Prog(p)) => p,
        other => panic!("fd {fd} is not a program: {other:?}"),
    }
}

/// `BPF_PROG_TEST_RUN` with `a`; returns the result and the attributes as written back.
pub(super) fn test_run(t: &T, a: &TestRunAttr) -> (isize, TestRunAttr) {
    let (r, addr) = t.call_at(Cmd::ProgTestRun, a);
    let back: syscall_abi::bpf::BpfAttr = t.h.get(addr);
    (r, back.part())
}
