//! Division, modulo and shift edge cases, on the semantic functions and through programs.

use alloc::format;

use super::super::alu::{alu32, alu64};
use super::super::insn::{BPF_DIV, BPF_LSH, BPF_MOD, BPF_MOV};
use super::super::Vm;
use super::{prog, TestEnv};

const MIN64: u64 = 1 << 63;
const MIN32: u32 = 1 << 31;
const NEG1: u64 = u64::MAX;

#[test]
fn sixty_four_bit_division_edge_cases() {
    // (op, offset, dst, src, result)
    let cases = [
        (BPF_DIV, 0, 7, 0, 0),                           // div by zero: 0
        (BPF_MOD, 0, 7, 0, 7),                           // mod by zero: dst
        (BPF_DIV, 1, 7, 0, 0),                           // sdiv by zero: 0
        (BPF_MOD, 1, 7, 0, 7),                           // smod by zero: dst
        (BPF_DIV, 1, MIN64, NEG1, MIN64),                // INT64_MIN / -1 = INT64_MIN
        (BPF_MOD, 1, MIN64, NEG1, 0),                    // INT64_MIN % -1 = 0
        (BPF_DIV, 0, MIN64, NEG1, 0),                    // unsigned: 2^63 / (2^64 - 1) = 0
        (BPF_DIV, 1, (-7i64) as u64, 2, (-3i64) as u64), // truncates toward zero
        (BPF_MOD, 1, (-7i64) as u64, 2, (-1i64) as u64), // sign of the dividend
        (BPF_MOD, 1, 7, (-2i64) as u64, 1),
        (BPF_LSH, 0, 1, 65, 2), // shift masked to 63
    ];
    for (op, off, dst, src, want) in cases {
        assert_eq!(alu64(op, off, true, dst, src), Some(want), "op {op:#x} off {off} {dst:#x}, {src:#x}");
    }
}

#[test]
fn thirty_two_bit_division_edge_cases() {
    let cases = [
        (BPF_DIV, 0, 7, 0, 0),
        (BPF_MOD, 0, 7, 0, 7),
        (BPF_DIV, 1, MIN32, u32::MAX, MIN32),
        (BPF_MOD, 1, MIN32, u32::MAX, 0),
        (BPF_DIV, 1, (-7i32) as u32, 2, (-3i32) as u32),
        (BPF_MOD, 1, (-7i32) as u32, 2, (-1i32) as u32),
        (BPF_LSH, 0, 1, 33, 2),
    ];
    for (op, off, dst, src, want) in cases {
        assert_eq!(alu32(op, off, true, dst, src), Some(want), "op {op:#x} off {off} {dst:#x}, {src:#x}");
    }
    // movsx needs a register source; 32-bit movsx has no 32-bit form.
    assert_eq!(alu64(BPF_MOV, 8, false, 0, 0x80), None);
    assert_eq!(alu32(BPF_MOV, 32, true, 0, 0x80), None);
    assert_eq!(alu32(BPF_MOV, 8, true, 0, 0x80), Some(0xffff_ff80));
}

#[test]
fn thirty_two_bit_results_are_zero_extended_through_programs() {
    let run = |text: &str| Vm::new(&prog(text)).run(&mut TestEnv::default());
    // mod32 by zero truncates dst to 32 bits.
    assert_eq!(run("lddw %r0, 0x100000005\nmov %r1, 0\nmod32 %r0, %r1\nexit"), Ok(5));
    // mod64 by zero leaves all 64 bits.
    assert_eq!(run("lddw %r0, 0x100000005\nmov %r1, 0\nmod %r0, %r1\nexit"), Ok(0x1_0000_0005));
    // div64 by an immediate -1 divides by 2^64 - 1 (the immediate is sign-extended).
    assert_eq!(run("lddw %r0, 0xffffffffffffffff\ndiv %r0, -1\nexit"), Ok(1));
    // sdiv32 INT_MIN / -1 in a register with garbage above bit 31.
    let text = format!("lddw %r0, {:#x}\nmov %r1, -1\nsdiv32 %r0, %r1\nexit", 0xdead_0000_8000_0000u64);
    assert_eq!(run(&text), Ok(0x8000_0000));
    // smod64 INT_MIN by an immediate -1.
    assert_eq!(run("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), Ok(0));
    // neg32 of INT_MIN stays INT_MIN, zero-extended.
    assert_eq!(run("lddw %r0, 0xffffffff80000000\nneg32 %r0\nexit"), Ok(0x8000_0000));
}
