//! Rejected programs: one table, each with Linux's errno and log line.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use syscall_abi::bpf::ProgType;
use syscall_abi::Errno;

use super::*;

/// A rejected program.
struct Bad {
    name: &'static str,
    insns: Vec<RawInsn>,
    load: Load,
    errno: Errno,
    line: &'static str,
}

fn bad(name: &'static str, insns: Vec<RawInsn>, errno: Errno, line: &'static str) -> Bad {
    Bad { name, insns, load: Load::default(), errno, line }
}

fn bad_with(name: &'static str, insns: Vec<RawInsn>, load: Load, errno: Errno, line: &'static str) -> Bad {
    Bad { name, insns, load, errno, line }
}

/// `text` assembled, then `extra` appended.
fn cat(text: &str, extra: &[RawInsn]) -> Vec<RawInsn> {
    let mut p = prog(text);
    p.extend_from_slice(extra);
    p
}

const EINVAL: Errno = Errno::EINVAL;
const EACCES: Errno = Errno::EACCES;
const EPERM: Errno = Errno::EPERM;
const E2BIG: Errno = Errno::E2BIG;
const ENOTSUPP: Errno = Errno::ENOTSUPP;

/// The pieces one after the other.
fn cat_all(parts: &[&[RawInsn]]) -> Vec<RawInsn> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// Turns the instruction at `at` into a `BPF_PSEUDO_CALL` to `at + 1 + rel`.
trait WithCall {
    fn with_call(self, at: usize, rel: i32) -> Self;
}

impl WithCall for Vec<RawInsn> {
    fn with_call(mut self, at: usize, rel: i32) -> Self {
        self[at] = raw(0x85, 0, 1, 0, rel);
        self
    }
}

/// An `ld_imm64` pseudo load into R1, then `r0 = 0; exit`.
fn ld_then_exit(src: u8, imm: i32, aux: i32) -> Vec<RawInsn> {
    let mut p = ld_pseudo(1, src, imm, aux).to_vec();
    p.extend(prog("mov %r0, 0\nexit"));
    p
}

/// `r1 = 4; r2 = &callback; r3 = 0; r4 = 0; bpf_loop(); exit;` then the callback `body`.
fn with_callback(body: &str) -> Vec<RawInsn> {
    let mut p = prog("mov %r1, 4");
    p.extend_from_slice(&ld_pseudo(2, 4, 5, 0));
    p.extend(prog(&format!("mov %r3, 0\nmov %r4, 0\ncall 181\nexit\n{body}")));
    p
}

fn structure() -> Vec<Bad> {
    let unpriv = Load::unprivileged();
    let nongpl = Load { gpl: false, ..Load::default() };
    let v3 = Load { v4: false, ..Load::default() };
    let mut ldimm_dst = prog("lddw %r0, 1\nexit");
    ldimm_dst[1] = raw(0, 1, 0, 0, 0);
    let mut ldimm_code = prog("lddw %r0, 1\nexit");
    ldimm_code[1] = raw(0x07, 0, 0, 0, 0);
    let mut ldimm_off = prog("lddw %r0, 1\nexit");
    ldimm_off[0] = raw(0x18, 0, 0, 3, 1);
    let into_second_half = prog("jeq %r1, 0, +1\nlddw %r0, 1\nexit");
    vec![
        bad("unknown opcode (callx)", prog("mov %r0, 0\ncall %r0\nexit"), EINVAL, "unknown opcode 8d"),
        bad(
            "unknown opcode (neg by register)",
            cat("mov %r0, 0", &[raw(0x8f, 0, 0, 0, 0), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "unknown opcode 8f",
        ),
        bad(
            "unknown opcode (ld w imm)",
            cat("", &[raw(0x00, 0, 0, 0, 0), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "unknown opcode 00",
        ),
        bad(
            "unknown opcode (jmp32 call)",
            cat("mov %r0, 0", &[raw(0x86, 0, 0, 0, 1), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "unknown opcode 86",
        ),
        bad(
            "unknown opcode (atomic u8)",
            cat("mov %r0, 0", &[raw(0xd3, 10, 0, -8, 0), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "unknown opcode d3",
        ),
        bad_with("ja32 before v4", prog("ja32 +0\nmov %r0, 0\nexit"), v3, EINVAL, "unknown opcode 06"),
        bad_with("bswap before v4", prog("mov %r0, 0\nbswap16 %r0\nexit"), v3, EINVAL, "unknown opcode d7"),
        bad_with("ldxs before v4", prog("ldxsw %r0, [%r1+0]\nexit"), v3, EINVAL, "BPF_LDX uses reserved fields"),
        bad(
            "ldx with imm",
            cat("", &[raw(0x61, 0, 1, 0, 1), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_LDX uses reserved fields",
        ),
        bad("ld_imm64 second slot dst", ldimm_dst, EINVAL, "invalid bpf_ld_imm64 insn"),
        bad("ld_imm64 second slot opcode", ldimm_code, EINVAL, "invalid bpf_ld_imm64 insn"),
        bad("ld_imm64 off", ldimm_off, EINVAL, "BPF_LD_IMM64 uses reserved fields"),
        bad("jump into ld_imm64", into_second_half, EINVAL, "invalid BPF_LD_IMM insn"),
        bad("ld_imm64 unknown pseudo", ld_then_exit(7, 3, 0), EINVAL, "unrecognized bpf_ld_imm64 insn"),
        bad("map fd with offset", ld_then_exit(1, 3, 8), EINVAL, "unrecognized bpf_ld_imm64 insn"),
        bad(
            "btf id",
            ld_then_exit(3, 3, 0),
            EINVAL,
            "kernel is missing BTF, make sure CONFIG_DEBUG_INFO_BTF=y is specified in Kconfig.",
        ),
        bad("map value offset", ld_then_exit(2, 3, 1 << 29), EINVAL, "direct value offset of 536870912 is not allowed"),
        bad("jump past the end", prog("ja +5\nmov %r0, 0\nexit"), EINVAL, "jump out of range from insn 0 to 6"),
        bad("jump before the start", prog("mov %r0, 0\nja -3\nexit"), EINVAL, "jump out of range from insn 1 to -1"),
        bad(
            "jump into another subprogram",
            prog("call local f\nja f\nexit\nf:\nmov %r0, 0\nexit"),
            EINVAL,
            "jump out of range from insn 1 to 3",
        ),
        bad("last insn not exit", prog("mov %r0, 0"), EINVAL, "last insn is not an exit or jmp"),
        bad(
            "subprogram falls into the next",
            prog("call local f\nmov %r0, 0\nf:\nmov %r0, 1\nexit"),
            EINVAL,
            "last insn is not an exit or jmp",
        ),
        bad("unreachable insn", prog("mov %r0, 0\nexit\nmov %r0, 1\nexit"), EINVAL, "unreachable insn 2"),
        bad("unreachable subprogram end", prog("mov %r0, 0\nja +1\nexit\nexit"), EINVAL, "unreachable insn 2"),
        bad_with(
            "loop, unprivileged",
            prog("mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 10, l\nexit"),
            unpriv,
            EINVAL,
            "back-edge from insn 2 to 1",
        ),
        bad_with(
            "ja back, unprivileged",
            prog("mov %r0, 0\njeq %r0, 0, +1\nja -2\nexit"),
            unpriv,
            EINVAL,
            "back-edge from insn 2 to 1",
        ),
        bad(
            "recursion",
            prog("call local f\nexit\nf:\ncall local f\nmov %r0, 0\nexit"),
            EINVAL,
            "back-edge from insn 2 to 2",
        ),
        bad(
            "mutual recursion",
            prog("call local f\nexit\nf:\ncall local g\nexit\ng:\ncall local f\nexit"),
            EINVAL,
            "back-edge from insn 4 to 2",
        ),
        bad(
            "call out of the program",
            cat("", &[raw(0x85, 0, 1, 0, 10), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "call to invalid destination",
        ),
        bad_with(
            "bpf-to-bpf call, unprivileged",
            prog("call local f\nexit\nf:\nmov %r0, 0\nexit"),
            unpriv,
            EPERM,
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
        ),
        bad(
            "kfunc call",
            prog("call runtime 7\nmov %r0, 0\nexit"),
            ENOTSUPP,
            "calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF",
        ),
        bad(
            "tail call in subprogram without BTF",
            prog("call local f\nmov %r0, 0\nexit\nf:\nmov %r2, 0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit"),
            EINVAL,
            "tail_call is not allowed in subprogs without BTF",
        ),
        bad_with(
            "GPL-only helper, other license",
            prog("mov %r1, %r10\nadd %r1, -8\nstdw [%r10-8], 0\nmov %r2, 8\ncall 6\nexit"),
            nongpl,
            EINVAL,
            "cannot call GPL-restricted function from non-GPL compatible program",
        ),
    ]
}

fn registers() -> Vec<Bad> {
    let unpriv = Load::unprivileged();
    vec![
        bad("read of unwritten R2", prog("mov %r0, %r2\nexit"), EACCES, "R2 !read_ok"),
        bad("exit without R0", prog("exit"), EACCES, "R0 !read_ok"),
        bad("R0 written on one path only", prog("jeq %r1, 0, +1\nmov %r0, 0\nexit"), EACCES, "R0 !read_ok"),
        bad("R1 clobbered by a helper", prog("call 5\nmov %r0, %r1\nexit"), EACCES, "R1 !read_ok"),
        bad("R5 clobbered by a helper", prog("mov %r5, 1\ncall 5\nadd %r0, %r5\nexit"), EACCES, "R5 !read_ok"),
        bad(
            "helper argument unwritten",
            cat_all(&[&ld_pseudo(1, 1, 3, 0), &prog("call 1\nexit")]),
            EACCES,
            "R2 !read_ok",
        ),
        bad(
            "R0 after a void helper",
            cat_all(&[
                &ld_pseudo(1, 1, 3, 0),
                &prog("mov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, +3\nmov %r1, %r0\nmov %r2, 0\ncall 132\nexit"),
            ]),
            EACCES,
            "R0 !read_ok",
        ),
        bad(
            "R0 after tail call",
            cat_all(&[&ld_pseudo(2, 1, 3, 0), &prog("mov %r3, 0\ncall 12\nexit")]),
            EACCES,
            "R0 !read_ok",
        ),
        bad(
            "callee reads a register its caller did not write",
            prog("call local f\nexit\nf:\nmov %r0, %r3\nexit"),
            EACCES,
            "R3 !read_ok",
        ),
        bad(
            "callee reads the caller's R6",
            prog("mov %r6, 1\ncall local f\nexit\nf:\nmov %r0, %r6\nexit"),
            EACCES,
            "R6 !read_ok",
        ),
        bad("callee leaves R0 unwritten", prog("call local f\nexit\nf:\nexit"), EACCES, "R0 !read_ok"),
        bad("store of an unwritten register", prog("stxdw [%r10-8], %r4\nmov %r0, 0\nexit"), EACCES, "R4 !read_ok"),
        bad("compare with an unwritten register", prog("mov %r0, 0\njeq %r0, %r7, +0\nexit"), EACCES, "R7 !read_ok"),
        bad("write R10", prog("mov %r10, 0\nmov %r0, 0\nexit"), EACCES, "frame pointer is read only"),
        bad("add to R10", prog("add %r10, 8\nmov %r0, 0\nexit"), EACCES, "frame pointer is read only"),
        bad("load into R10", prog("ldxdw %r10, [%r1+0]\nmov %r0, 0\nexit"), EACCES, "frame pointer is read only"),
        bad("ld_imm64 into R10", prog("lddw %r10, 1\nmov %r0, 0\nexit"), EACCES, "frame pointer is read only"),
        bad(
            "atomic fetch into R10",
            prog("stdw [%r10-8], 0\nlock fetch add [%r10-8], %r10\nmov %r0, 0\nexit"),
            EACCES,
            "frame pointer is read only",
        ),
        bad("R11 destination", cat("", &[raw(0xb7, 11, 0, 0, 0), raw(0x95, 0, 0, 0, 0)]), EINVAL, "R11 is invalid"),
        bad("R12 source", cat("", &[raw(0xbf, 0, 12, 0, 0), raw(0x95, 0, 0, 0, 0)]), EINVAL, "R12 is invalid"),
        bad_with(
            "R0 leaks a stack address",
            prog("mov %r0, %r10\nexit"),
            unpriv,
            EACCES,
            "R0 leaks addr as return value",
        ),
        bad_with("32-bit copy of R10", prog("mov32 %r0, %r10\nexit"), unpriv, EACCES, "R10 partial copy of pointer"),
        bad_with(
            "negating a stack pointer",
            prog("mov %r2, %r10\nneg %r2\nmov %r0, 0\nexit"),
            unpriv,
            EACCES,
            "R2 pointer arithmetic prohibited",
        ),
        bad_with(
            "comparing a stack pointer",
            prog("mov %r2, %r10\nmov %r0, 0\njeq %r2, 0, +0\nexit"),
            unpriv,
            EACCES,
            "R2 pointer comparison prohibited",
        ),
        bad_with(
            "comparing with a stack pointer",
            prog("mov %r0, 0\njeq %r0, %r10, +0\nexit"),
            unpriv,
            EACCES,
            "R10 pointer comparison prohibited",
        ),
        bad(
            "subprogram returns its stack",
            prog("call local f\nmov %r0, 0\nexit\nf:\nmov %r0, %r10\nadd %r0, -8\nexit"),
            EINVAL,
            "cannot return stack pointer to the caller",
        ),
    ]
}

fn alu_and_jumps() -> Vec<Bad> {
    let mov = |t: &str| prog(&format!("mov %r0, 1\n{t}\nexit"));
    let with = |insn: RawInsn| cat("mov %r0, 1\nmov %r1, 1", &[insn, raw(0x95, 0, 0, 0, 0)]);
    vec![
        bad("div by zero", mov("div %r0, 0"), EINVAL, "div by zero"),
        bad("mod32 by zero", mov("mod32 %r0, 0"), EINVAL, "div by zero"),
        bad("shift by 64", mov("lsh %r0, 64"), EINVAL, "invalid shift 64"),
        bad("shift32 by 32", mov("rsh32 %r0, 32"), EINVAL, "invalid shift 32"),
        bad("negative arsh", mov("arsh %r0, -1"), EINVAL, "invalid shift -1"),
        bad("alu K with src", with(raw(0x07, 0, 1, 0, 1)), EINVAL, "BPF_ALU uses reserved fields"),
        bad("alu X with imm", with(raw(0x0f, 0, 1, 0, 1)), EINVAL, "BPF_ALU uses reserved fields"),
        bad("alu with off", with(raw(0x07, 0, 0, 1, 1)), EINVAL, "BPF_ALU uses reserved fields"),
        bad("sdiv-style off on add", with(raw(0x0f, 0, 1, 1, 0)), EINVAL, "BPF_ALU uses reserved fields"),
        bad_with(
            "sdiv before v4",
            with(raw(0x3f, 0, 1, 1, 0)),
            Load { v4: false, ..Load::default() },
            EINVAL,
            "BPF_ALU uses reserved fields",
        ),
        bad("mov K with src", with(raw(0xb7, 0, 1, 0, 1)), EINVAL, "BPF_MOV uses reserved fields"),
        bad("mov X with imm", with(raw(0xbf, 0, 1, 0, 1)), EINVAL, "BPF_MOV uses reserved fields"),
        bad("movsx with off 7", with(raw(0xbf, 0, 1, 7, 0)), EINVAL, "BPF_MOV uses reserved fields"),
        bad("movsx32 with off 32", with(raw(0xbc, 0, 1, 32, 0)), EINVAL, "BPF_MOV uses reserved fields"),
        bad("neg with imm", with(raw(0x87, 0, 0, 0, 1)), EINVAL, "BPF_NEG uses reserved fields"),
        bad("end with width 8", with(raw(0xd4, 0, 0, 0, 8)), EINVAL, "BPF_END uses reserved fields"),
        bad("bswap with X", with(raw(0xdf, 0, 0, 0, 16)), EINVAL, "unknown opcode df"),
        bad("bswap with src", with(raw(0xd7, 0, 1, 0, 16)), EINVAL, "BPF_END uses reserved fields"),
        bad("exit with dst", cat("mov %r0, 0", &[raw(0x95, 1, 0, 0, 0)]), EINVAL, "BPF_EXIT uses reserved fields"),
        bad("exit with imm", cat("mov %r0, 0", &[raw(0x95, 0, 0, 0, 1)]), EINVAL, "BPF_EXIT uses reserved fields"),
        bad("call with off", with(raw(0x85, 0, 0, 1, 5)), EINVAL, "BPF_CALL uses reserved fields"),
        bad("call with dst", with(raw(0x85, 1, 0, 0, 5)), EINVAL, "BPF_CALL uses reserved fields"),
        bad("call with src 3", with(raw(0x85, 0, 3, 0, 5)), EINVAL, "BPF_CALL uses reserved fields"),
        bad(
            "ja with imm",
            cat("mov %r0, 0", &[raw(0x05, 0, 0, 0, 1), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_JA uses reserved fields",
        ),
        bad(
            "ja with dst",
            cat("mov %r0, 0", &[raw(0x05, 1, 0, 0, 0), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_JA uses reserved fields",
        ),
        bad(
            "ja32 with off",
            cat("mov %r0, 0", &[raw(0x06, 0, 0, 1, 0), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_JA uses reserved fields",
        ),
        bad("jeq K with src", with(raw(0x15, 0, 1, 0, 0)), EINVAL, "BPF_JMP/JMP32 uses reserved fields"),
        bad("jeq X with imm", with(raw(0x1d, 0, 1, 0, 1)), EINVAL, "BPF_JMP/JMP32 uses reserved fields"),
        bad(
            "stx with imm",
            cat("mov %r0, 0", &[raw(0x7b, 10, 0, -8, 1), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_STX uses reserved fields",
        ),
        bad(
            "st with src",
            cat("mov %r0, 0", &[raw(0x7a, 10, 1, -8, 1), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_ST uses reserved fields",
        ),
        bad(
            "atomic with a bad operation",
            cat("mov %r0, 0\nstdw [%r10-8], 0", &[raw(0xdb, 10, 0, -8, 0x10), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_ATOMIC uses invalid atomic opcode 10",
        ),
        bad(
            "legacy packet load in a kprobe",
            cat("mov %r6, %r1", &[raw(0x20, 0, 0, 0, 0), raw(0x95, 0, 0, 0, 0)]),
            EINVAL,
            "BPF_LD_[ABS|IND] instructions not allowed for this program type",
        ),
        bad(
            "dereference of a constant",
            prog("mov %r1, 0\nldxdw %r0, [%r1+0]\nexit"),
            EACCES,
            "R1 invalid mem access 'scalar'",
        ),
        bad(
            "store through a 64-bit constant",
            prog("lddw %r1, 0x1000\nstdw [%r1+0], 0\nmov %r0, 0\nexit"),
            EACCES,
            "R1 invalid mem access 'scalar'",
        ),
    ]
}

fn stack() -> Vec<Bad> {
    let unpriv = Load::unprivileged();
    vec![
        bad(
            "write below the frame",
            prog("stdw [%r10-520], 0\nmov %r0, 0\nexit"),
            EACCES,
            "invalid write to stack R10 off=-520 size=8",
        ),
        bad(
            "write at the frame pointer",
            prog("stdw [%r10+0], 0\nmov %r0, 0\nexit"),
            EACCES,
            "invalid write to stack R10 off=0 size=8",
        ),
        bad(
            "write above the frame",
            prog("stb [%r10+8], 0\nmov %r0, 0\nexit"),
            EACCES,
            "invalid write to stack R10 off=8 size=1",
        ),
        bad(
            "misaligned write",
            prog("stdw [%r10-4], 0\nmov %r0, 0\nexit"),
            EACCES,
            "misaligned stack access off (0x0; 0x0)+0+-4 size 8",
        ),
        bad(
            "misaligned read through a copy",
            prog("mov %r2, %r10\nadd %r2, -8\nldxw %r0, [%r2+2]\nexit"),
            EACCES,
            "misaligned stack access off (0x0; 0x0)+-8+2 size 4",
        ),
        bad(
            "read of a never written slot",
            prog("ldxdw %r0, [%r10-8]\nexit"),
            EACCES,
            "invalid read from stack R10 off=-8 size=8",
        ),
        bad(
            "read of a half-written slot",
            prog("stw [%r10-8], 0\nldxdw %r0, [%r10-8]\nexit"),
            EACCES,
            "invalid read from stack off -8+4 size 8",
        ),
        bad(
            "read below the written part",
            prog("stdw [%r10-8], 0\nldxdw %r0, [%r10-16]\nexit"),
            EACCES,
            "invalid read from stack R10 off=-16 size=8",
        ),
        bad(
            "read of a slot written on one path",
            prog("stdw [%r10-16], 0\njeq %r1, 0, +1\nstdw [%r10-8], 0\nldxdw %r0, [%r10-8]\nexit"),
            EACCES,
            "invalid read from stack off -8+0 size 8",
        ),
        bad(
            "atomic on unwritten stack",
            prog("stdw [%r10-16], 0\nmov %r1, 1\nlock add [%r10-8], %r1\nmov %r0, 0\nexit"),
            EACCES,
            "invalid read from stack off -8+0 size 8",
        ),
        bad(
            "write out of the frame through a copy",
            prog("mov %r2, %r10\nadd %r2, -8\nstdw [%r2-512], 0\nmov %r0, 0\nexit"),
            EACCES,
            "invalid write to stack R2 off=-520 size=8",
        ),
        bad(
            "subtraction from a stack pointer",
            prog("mov %r2, %r10\nsub %r2, 8\nmov %r0, 0\nexit"),
            EACCES,
            "R2 subtraction from stack pointer prohibited",
        ),
        bad(
            "scalar minus stack pointer",
            prog("mov %r2, 8\nsub %r2, %r10\nmov %r0, 0\nexit"),
            EACCES,
            "R2 tried to subtract pointer from scalar",
        ),
        bad(
            "bitwise and on a stack pointer",
            prog("mov %r2, %r10\nand %r2, 7\nmov %r0, 0\nexit"),
            EACCES,
            "R2 bitwise operator &= on pointer prohibited",
        ),
        bad(
            "multiplying a stack pointer",
            prog("mov %r2, %r10\nmul %r2, 2\nmov %r0, 0\nexit"),
            EACCES,
            "R2 pointer arithmetic with *= operator prohibited",
        ),
        bad(
            "32-bit arithmetic on a stack pointer",
            prog("mov %r2, %r10\nadd32 %r2, 8\nmov %r0, 0\nexit"),
            EACCES,
            "R2 32-bit pointer arithmetic prohibited",
        ),
        bad(
            "pointer plus pointer",
            prog("mov %r2, %r10\nadd %r2, %r10\nmov %r0, 0\nexit"),
            EACCES,
            "R2 pointer += pointer prohibited",
        ),
        bad(
            "huge constant on a stack pointer",
            prog("mov %r2, %r10\nadd %r2, 0x20000000\nmov %r0, 0\nexit"),
            EINVAL,
            "math between fp pointer and 536870912 is not allowed",
        ),
        bad_with(
            "stack pointer moved out of the frame, unprivileged",
            prog("mov %r2, %r10\nadd %r2, 8\nmov %r0, 0\nexit"),
            unpriv,
            EACCES,
            "R2 stack pointer arithmetic goes out of range, prohibited for !root; off=8",
        ),
        bad_with(
            "pointer difference, unprivileged",
            prog("mov %r2, %r10\nsub %r2, %r10\nmov %r0, 0\nexit"),
            unpriv,
            EACCES,
            "R2 pointer -= pointer prohibited",
        ),
        bad(
            "4-byte spill of a stack pointer",
            prog("mov %r2, %r10\nstxw [%r10-8], %r2\nmov %r0, 0\nexit"),
            EACCES,
            "invalid size of register spill",
        ),
    ]
}

fn helpers_and_calls() -> Vec<Bad> {
    let chain = |n: usize| {
        // main calls f1, f1 calls f2, ... f<n> returns.
        let mut text = String::from("call local f1\nexit\n");
        for i in 1..n {
            text.push_str(&format!("f{i}:\ncall local f{}\nexit\n", i + 1));
        }
        text.push_str(&format!("f{n}:\nmov %r0, 0\nexit\n"));
        prog(&text)
    };
    let with_func_info = Load { func_info: true, ..Load::default() };
    let socket = Load { prog_type: ProgType::SocketFilter, ..Load::default() };
    let unpriv = Load::unprivileged();
    vec![
        bad("helper id out of range", prog("call 500\nexit"), EINVAL, "invalid func unknown#500"),
        bad("negative helper id", prog("call -1\nexit"), EINVAL, "invalid func unknown#-1"),
        bad("helper not for kprobes", prog("call 9\nexit"), EINVAL, "unknown func bpf_skb_store_bytes#9"),
        bad(
            "coarse clock in a tracing program",
            prog("call 160\nexit"),
            EINVAL,
            "unknown func bpf_ktime_get_coarse_ns#160",
        ),
        bad("helper id 0", prog("call 0\nexit"), EINVAL, "unknown func bpf_unspec#0"),
        bad("get_func_ip outside kprobes", prog("call 173\nexit"), EINVAL, "unknown func bpf_get_func_ip#173")
            .on(ProgType::Tracepoint),
        bad_with(
            "trace_printk, unprivileged socket filter",
            prog("mov %r1, 0\nmov %r2, 0\ncall 6\nexit"),
            unpriv,
            EINVAL,
            "unknown func bpf_trace_printk#6",
        ),
        bad_with(
            "pid in a socket filter",
            prog("call 14\nexit"),
            socket,
            EINVAL,
            "unknown func bpf_get_current_pid_tgid#14",
        ),
        bad("nine frames", chain(8), E2BIG, "the call stack of 9 frames is too deep"),
        bad(
            "combined stack too large",
            prog("stdw [%r10-256], 0\ncall local f\nexit\nf:\nstdw [%r10-288], 0\nmov %r0, 0\nexit"),
            EACCES,
            "combined stack size of 2 calls is 544. Too large",
        ),
        bad_with(
            "tail call under a deep stack",
            cat_all(&[
                &prog("stdw [%r10-256], 0\ncall 1\nexit\nmov %r3, 0"),
                &ld_pseudo(2, 1, 3, 0),
                &prog("call 12\nmov %r0, 0\nexit"),
            ])
            .with_call(1, 1),
            with_func_info,
            EACCES,
            "tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large",
        ),
        bad(
            "callback returns 2",
            with_callback("mov %r0, 2\nexit"),
            EINVAL,
            "At callback return the register R0 has value (0x2; 0x0) should have been in (0x0; 0x1)",
        ),
        bad("callback without R0", with_callback("exit"), EACCES, "R0 not a scalar value"),
    ]
}

impl Bad {
    /// The same case for another (privileged) program type.
    fn on(mut self, prog_type: ProgType) -> Self {
        self.load.prog_type = prog_type;
        self
    }
}

#[test]
fn every_bad_program_is_rejected_with_linux_errno_and_message() {
    let cases: Vec<Bad> =
        [structure(), registers(), alu_and_jumps(), stack(), helpers_and_calls()].into_iter().flatten().collect();
    let mut failures = Vec::new();
    for case in &cases {
        let (result, log) = check_with(&case.insns, case.load);
        let ok = match &result {
            Ok(_) => false,
            Err(e) => e.errno == case.errno && log.lines().any(|l| l == case.line),
        };
        if !ok {
            failures.push(format!(
                "{}: got {:?}, want {:?} {:?}\n{log}",
                case.name,
                result.map(|_| ()),
                case.errno,
                case.line
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert!(cases.len() > 100, "the table shrank: {}", cases.len());
}

#[test]
fn size_limits() {
    let mov = raw(0xb7, 0, 0, 0, 0);
    let exit = raw(0x95, 0, 0, 0, 0);
    let (r, _) = check(&[]);
    assert_eq!(r.map(|_| ()).unwrap_err().errno, Errno::E2BIG);
    let mut big = vec![mov; 4096];
    big.push(exit);
    let (r, log) = check_with(&big, Load::unprivileged());
    assert_eq!(r.map(|_| ()).unwrap_err().errno, Errno::E2BIG);
    assert_eq!(log, "", "the size check comes before the verifier and its log");
    assert!(check(&big).0.is_ok(), "privileged loaders may load more than 4096 insns");
    assert_eq!(check_insn_cnt(1_000_000, true), Ok(()));
    assert_eq!(check_insn_cnt(1_000_001, true).unwrap_err().errno, Errno::E2BIG);
    assert_eq!(check_insn_cnt(4096, false), Ok(()));
    assert_eq!(check_insn_cnt(0, true).unwrap_err().errno, Errno::E2BIG);
}

#[test]
fn the_first_error_in_linux_order_wins() {
    // Structural errors before control-flow ones, control flow before registers.
    let (r, log) = check(&prog("mov %r0, %r2\nexit\nmov %r0, 0\ncall %r0\nexit"));
    assert_eq!(r.map(|_| ()).unwrap_err().errno, Errno::EINVAL);
    assert!(log.starts_with("unknown opcode 8d\n"), "{log}");
    let (r, log) = check(&prog("mov %r0, %r2\nexit\nmov %r0, 0\nexit"));
    assert_eq!(r.map(|_| ()).unwrap_err().errno, Errno::EINVAL);
    assert!(log.starts_with("unreachable insn 2\n"), "{log}");
    // In a block, the first instruction in program order; across branches, the
    // fall-through path first.
    let (_, log) = check(&prog("jeq %r1, 0, +2\nmov %r0, %r3\nexit\nmov %r0, %r4\nexit"));
    assert!(log.contains("R3 !read_ok\n") && !log.contains("R4"), "{log}");
}

#[test]
fn reserved_fields_before_register_numbers_and_reads() {
    // Linux checks the instruction's fields, then reads, then the destination.
    assert_rejected(
        &cat("", &[raw(0xb7, 11, 1, 0, 0), raw(0x95, 0, 0, 0, 0)]),
        Load::default(),
        Errno::EINVAL,
        "BPF_MOV uses reserved fields",
    );
    assert_rejected(&prog("add %r10, %r9\nexit"), Load::default(), Errno::EACCES, "R9 !read_ok");
    let log = check(&prog("mov %r9, 1\nadd %r10, %r9\nexit")).1;
    assert!(log.contains("frame pointer is read only"), "{log}");
}

/// The error line is the last line before the statistics.
#[test]
fn the_error_is_the_last_line_before_the_statistics() {
    let (_, log) = check(&prog("mov %r0, %r2\nexit"));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[lines.len() - 2], "R2 !read_ok");
    assert!(lines[lines.len() - 1].starts_with("processed 1 insns (limit 1000000)"));
}
