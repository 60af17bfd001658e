//! Tests of verifier-lite: tables of rejected programs (errno and Linux's log line), accepted
//! programs and what the verifier reports about them, the log's Linux semantics, the
//! disassembler, and the conformance suite's programs. Programs are written in the
//! conformance suite's assembler syntax, plus [`raw`] for what it cannot express.

use alloc::string::String;
use alloc::vec::Vec;

use syscall_abi::bpf::ProgType;
use syscall_abi::{Errno, Error};

use super::*;
use crate::vm::insn::{encode, Insn};

// The engine's unit tests load the same assembler; their module is private to `vm`.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/common/asm.rs"]
mod asm;
// Shared with the integration tests; only the program is used here.
#[allow(dead_code)]
#[path = "../../tests/common/data.rs"]
mod data;

#[path = "tests_bad.rs"]
mod bad;
#[path = "tests_good.rs"]
mod good;
#[path = "tests_log.rs"]
mod log_tests;
#[path = "tests_paths.rs"]
mod paths;
#[path = "tests_elf.rs"]
mod tests_elf;

/// Assembles a test program.
fn prog(text: &str) -> Vec<RawInsn> {
    asm::assemble(text).unwrap_or_else(|e| panic!("{e}"))
}

/// One raw instruction.
fn raw(opc: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
    encode(&Insn { opc, dst, src, off, imm })
}

/// `ld_imm64` with a pseudo source: both slots.
fn ld_pseudo(dst: u8, src: u8, imm: i32, aux: i32) -> [RawInsn; 2] {
    [raw(0x18, dst, src, 0, imm), raw(0, 0, 0, 0, aux)]
}

/// How a test loads its program.
#[derive(Clone, Copy)]
struct Load {
    prog_type: ProgType,
    privileged: bool,
    gpl: bool,
    func_info: bool,
    v4: bool,
    log_level: u32,
    log_size: u32,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            prog_type: ProgType::Kprobe,
            privileged: true,
            gpl: true,
            func_info: false,
            v4: true,
            log_level: 1,
            log_size: 1 << 20,
        }
    }
}

impl Load {
    fn unprivileged() -> Self {
        Load { prog_type: ProgType::SocketFilter, privileged: false, ..Load::default() }
    }
}

/// Verifies `insns`; the result and the log text.
fn check_with(insns: &[RawInsn], load: Load) -> (Result<VerifiedProgram, Error>, String) {
    let input = VerifierInput {
        insns,
        prog_type: load.prog_type,
        gpl_compatible: load.gpl,
        privileged: load.privileged,
        has_func_info: load.func_info,
        isa_v4: load.v4,
    };
    let mut ops = TracingHelpers { prog_type: load.prog_type, privileged: load.privileged };
    let mut log = match load.log_level {
        0 => VerifierLog::disabled(),
        level => VerifierLog::new(level, true, load.log_size).expect("valid log attributes"),
    };
    let result = verify(&input, &mut ops, &mut log);
    (result, String::from(log.text()))
}

/// Verifies a privileged kprobe program.
fn check(insns: &[RawInsn]) -> (Result<VerifiedProgram, Error>, String) {
    check_with(insns, Load::default())
}

/// Asserts that `insns` is rejected with `errno` and a log containing `line` (as a whole
/// line).
#[track_caller]
fn assert_rejected(insns: &[RawInsn], load: Load, errno: Errno, line: &str) {
    let (result, log) = check_with(insns, load);
    match result {
        Ok(_) => panic!("accepted, expected {errno:?} {line:?}; log:\n{log}"),
        Err(e) => {
            assert_eq!(e.errno, errno, "errno for {line:?}; log:\n{log}");
            assert!(log.lines().any(|l| l == line), "log lacks the line {line:?}:\n{log}");
        }
    }
}

/// Asserts that `insns` is accepted; returns what the verifier reported.
#[track_caller]
fn assert_accepted(insns: &[RawInsn], load: Load) -> VerifiedProgram {
    let (result, log) = check_with(insns, load);
    match result {
        Ok(v) => v,
        Err(e) => panic!("rejected with {e:?}; log:\n{log}"),
    }
}

#[test]
fn the_conformance_programs_are_judged_like_linux() {
    // The suite runs programs with R1 = memory and R2 = its length, calls uBPF's helper 5
    // and uses instructions Linux rejects (`callx`); so some of its programs are not valid
    // Linux programs. Each must either be accepted or be rejected for one of these reasons.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/tests");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).expect("conformance suite").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let (mut accepted, mut rejected) = (0, Vec::new());
    for file in &files {
        if file.extension().is_none_or(|e| e != "data") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read");
        let Ok(case) = data::parse(&text) else { continue };
        let insns = case.insns;
        // The suite's memory is a writable context of any layout: as raw tracepoint
        // programs (like the PROG_LOAD suite), whose context the engine bounds at run time.
        let (result, log) = check_with(&insns, Load { prog_type: ProgType::RawTracepoint, ..Load::default() });
        match result {
            Ok(_) => accepted += 1,
            Err(e) => {
                let last = log.lines().rev().nth(1).unwrap_or("").to_string();
                let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                rejected.push((name, e.errno, last));
            }
        }
    }
    // Linux rejects these too: shifts by immediates out of range, `callx`, and a read of
    // R2, which the suite sets and Linux leaves unwritten.
    let expected: Vec<(String, Errno, String)> = [
        ("arsh32-imm-high", "invalid shift 48"),
        ("arsh32-imm-neg", "invalid shift -16"),
        ("arsh64-imm-high", "invalid shift 124"),
        ("arsh64-imm-neg", "invalid shift -4"),
        ("lsh32-imm-high", "invalid shift 60"),
        ("lsh32-imm-neg", "invalid shift -4"),
        ("lsh64-imm-high", "invalid shift 68"),
        ("lsh64-imm-neg", "invalid shift -60"),
        ("rsh32-imm-high", "invalid shift 40"),
        ("rsh32-imm-neg", "invalid shift -24"),
        ("rsh64-imm-high", "invalid shift 68"),
        ("rsh64-imm-neg", "invalid shift -60"),
        ("callx", "unknown opcode 8d"),
        ("mem-len", "R2 !read_ok"),
    ]
    .into_iter()
    .map(|(name, line)| {
        let errno = if line.starts_with('R') { Errno::EACCES } else { Errno::EINVAL };
        (String::from(name), errno, String::from(line))
    })
    .collect();
    rejected.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(rejected, expected);
    std::println!("conformance: {accepted} accepted, {} rejected", rejected.len());
    assert_eq!(accepted, 299);
}

/// A small deterministic generator (xorshift) for the robustness test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn no_program_makes_the_verifier_panic() {
    // Valid opcodes with random fields, small jump offsets, an exit at the end; plus random
    // byte flips of accepted programs. Every verification must end with Ok or an errno.
    let opcodes: Vec<u8> = (0..=255u8).filter(|&c| opcodes::opcode_valid(c, true)).collect();
    let seeds = [
        prog("mov %r0, 0\nexit"),
        prog("stdw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -8\nldxdw %r0, [%r2+0]\ncall local f\nexit\nf:\nmov %r0, 1\nexit"),
        prog("mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 10, l\nexit"),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let loads =
        [Load::default(), Load::unprivileged(), Load { v4: false, func_info: true, gpl: false, ..Load::default() }];
    let mut accepted = 0u32;
    let mut reasons = std::collections::BTreeMap::new();
    for round in 0..2000 {
        let insns: Vec<RawInsn> = if round % 2 == 0 {
            let n = 1 + (rng.next() % 24) as usize;
            let mut p: Vec<RawInsn> = (0..n)
                .map(|_| {
                    let code = rng.pick(&opcodes);
                    let regs = rng.pick(&[0u8, 1, 2, 10, 0x21, 0xa1, 0x1a, 0x10, 0x40, 0xbb]);
                    let off = rng.pick(&[0i16, 1, -1, 2, -8, -16, 4, -512, 8]);
                    let imm = rng.pick(&[0i32, 1, -1, 2, 5, 12, 64, -8, 181, 1 << 29]);
                    let mut raw = encode(&Insn { opc: code, dst: 0, src: 0, off, imm });
                    raw[1] = regs;
                    raw
                })
                .collect();
            p.push(raw(0x95, 0, 0, 0, 0));
            p
        } else {
            let mut insns = seeds[(rng.next() % seeds.len() as u64) as usize].clone();
            for _ in 0..1 + rng.next() % 3 {
                let at = (rng.next() % insns.len() as u64) as usize;
                let byte = (rng.next() % 8) as usize;
                insns[at][byte] ^= 1 << (rng.next() % 8);
            }
            insns
        };
        for load in loads {
            let (result, _log) = check_with(&insns, load);
            match result {
                Ok(_) => accepted += 1,
                Err(e) => {
                    assert!(e.errno.0 > 0, "round {round}: {e:?}");
                    *reasons.entry(e.msg).or_insert(0u32) += 1;
                }
            }
        }
    }
    std::println!("fuzz: {accepted} accepted, {} distinct rejections", reasons.len());
    // The generator reaches deep into the checks, not only the opcode table.
    // (2000 rounds: random back-edges now run into the 1M-instruction limit, ~1 s each.)
    assert!(accepted > 300, "{accepted} accepted");
    assert!(reasons.len() > 25, "{} distinct rejections: {reasons:?}", reasons.len());
}

#[test]
fn max_ctx_offset_covers_the_furthest_context_read() {
    let load = Load { prog_type: ProgType::Tracepoint, ..Load::default() };
    let v = assert_accepted(&prog("ldxw %r0, [%r1+8]\nldxdw %r2, [%r1+16]\nexit"), load);
    assert_eq!(v.max_ctx_offset, 24);
    let v = assert_accepted(&prog("ldxb %r0, [%r1+3]\nexit"), load);
    assert_eq!(v.max_ctx_offset, 4);
    let v = assert_accepted(&prog("mov %r0, 0\nexit"), load);
    assert_eq!(v.max_ctx_offset, 0);
}
