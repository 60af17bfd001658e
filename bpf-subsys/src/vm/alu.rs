//! Arithmetic, byte-order and comparison semantics, as Linux defines them (RFC 9669 for the
//! signed division, sign-extending moves and byte swaps).
//!
//! The `as` casts here are the ISA's own truncations and sign extensions, each named by a
//! small function; none applies to a length or an index.

use super::insn::{
    BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE, BPF_JSET, BPF_JSGE,
    BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR,
    BSWAP, TO_BE, TO_LE,
};

/// The low 32 bits: what a 32-bit operation sees of a register.
pub(super) fn lo32(v: u64) -> u32 {
    v as u32
}

/// The low 16 bits: what a half-word store writes.
fn lo16(v: u64) -> u16 {
    v as u16
}

/// A 32-bit immediate sign-extended to 64 bits, as 64-bit operations use it.
pub(super) fn sext32(v: i32) -> u64 {
    i64::from(v) as u64
}

/// `i16` offset sign-extended to 64 bits (for address arithmetic).
pub(super) fn sext16(v: i16) -> u64 {
    i64::from(v) as u64
}

/// Low 8 bits, sign-extended.
fn sx8(v: u64) -> i64 {
    i64::from(v as u8 as i8)
}

/// Low 16 bits, sign-extended.
fn sx16(v: u64) -> i64 {
    i64::from(v as u16 as i16)
}

/// Low 32 bits, sign-extended.
fn sx32(v: u64) -> i64 {
    i64::from(v as u32 as i32)
}

/// Same bits, as signed (and back): two's complement reinterpretation.
fn s64(v: u64) -> i64 {
    v as i64
}

fn u64s(v: i64) -> u64 {
    v as u64
}

fn s32(v: u32) -> i32 {
    v as i32
}

fn u32s(v: i32) -> u32 {
    v as u32
}

/// A 64-bit ALU operation (`op` = the `BPF_OP` bits). `off` selects the signed variants
/// (`sdiv`/`smod`: 1, `movsx`: 8/16/32); `reg` says whether `src` came from a register.
/// `None`: no such operation.
pub(super) fn alu64(op: u8, off: i16, reg: bool, dst: u64, src: u64) -> Option<u64> {
    Some(match (op, off) {
        (BPF_ADD, 0) => dst.wrapping_add(src),
        (BPF_SUB, 0) => dst.wrapping_sub(src),
        (BPF_MUL, 0) => dst.wrapping_mul(src),
        // Division by zero gives 0; modulo by zero leaves dst (Linux's verifier fixups).
        (BPF_DIV, 0) => dst.checked_div(src).unwrap_or(0),
        (BPF_DIV, 1) => match src {
            0 => 0,
            // i64::MIN / -1 wraps to i64::MIN (Linux negates dst for a divisor of -1).
            _ => u64s(s64(dst).wrapping_div(s64(src))),
        },
        (BPF_MOD, 0) => dst.checked_rem(src).unwrap_or(dst),
        (BPF_MOD, 1) => match src {
            0 => dst,
            // i64::MIN % -1 is 0 (Linux zeroes dst for a divisor of -1).
            _ => u64s(s64(dst).wrapping_rem(s64(src))),
        },
        (BPF_OR, 0) => dst | src,
        (BPF_AND, 0) => dst & src,
        (BPF_XOR, 0) => dst ^ src,
        (BPF_LSH, 0) => dst << (src & 63),
        (BPF_RSH, 0) => dst >> (src & 63),
        (BPF_ARSH, 0) => u64s(s64(dst) >> (src & 63)),
        (BPF_NEG, 0) if !reg => dst.wrapping_neg(),
        (BPF_MOV, 0) => src,
        (BPF_MOV, 8) if reg => u64s(sx8(src)),
        (BPF_MOV, 16) if reg => u64s(sx16(src)),
        (BPF_MOV, 32) if reg => u64s(sx32(src)),
        _ => return None,
    })
}

/// A 32-bit ALU operation on the low halves; the caller zero-extends the result.
/// Arguments as for [`alu64`] (`movsx` only with 8 and 16).
pub(super) fn alu32(op: u8, off: i16, reg: bool, dst: u32, src: u32) -> Option<u32> {
    Some(match (op, off) {
        (BPF_ADD, 0) => dst.wrapping_add(src),
        (BPF_SUB, 0) => dst.wrapping_sub(src),
        (BPF_MUL, 0) => dst.wrapping_mul(src),
        (BPF_DIV, 0) => dst.checked_div(src).unwrap_or(0),
        (BPF_DIV, 1) => match src {
            0 => 0,
            _ => u32s(s32(dst).wrapping_div(s32(src))),
        },
        (BPF_MOD, 0) => dst.checked_rem(src).unwrap_or(dst),
        (BPF_MOD, 1) => match src {
            0 => dst,
            _ => u32s(s32(dst).wrapping_rem(s32(src))),
        },
        (BPF_OR, 0) => dst | src,
        (BPF_AND, 0) => dst & src,
        (BPF_XOR, 0) => dst ^ src,
        (BPF_LSH, 0) => dst << (src & 31),
        (BPF_RSH, 0) => dst >> (src & 31),
        (BPF_ARSH, 0) => u32s(s32(dst) >> (src & 31)),
        (BPF_NEG, 0) if !reg => dst.wrapping_neg(),
        (BPF_MOV, 0) => src,
        (BPF_MOV, 8) if reg => lo32(u64s(sx8(u64::from(src)))),
        (BPF_MOV, 16) if reg => lo32(u64s(sx16(u64::from(src)))),
        _ => return None,
    })
}

/// `le`/`be`/`bswap` with width `imm` (16, 32 or 64); the result is zero-extended.
/// `None`: another opcode or width.
pub(super) fn endian(opc: u8, imm: i32, dst: u64) -> Option<u64> {
    Some(match (opc, imm) {
        (TO_LE, 16) => u64::from(lo16(dst).to_le()),
        (TO_LE, 32) => u64::from(lo32(dst).to_le()),
        (TO_LE, 64) => dst.to_le(),
        (TO_BE, 16) => u64::from(lo16(dst).to_be()),
        (TO_BE, 32) => u64::from(lo32(dst).to_be()),
        (TO_BE, 64) => dst.to_be(),
        (BSWAP, 16) => u64::from(lo16(dst).swap_bytes()),
        (BSWAP, 32) => u64::from(lo32(dst).swap_bytes()),
        (BSWAP, 64) => dst.swap_bytes(),
        _ => return None,
    })
}

/// The condition of a 64-bit conditional jump (`op` = the `BPF_OP` bits); `None`: not a
/// conditional jump.
pub(super) fn cond64(op: u8, a: u64, b: u64) -> Option<bool> {
    Some(match op {
        BPF_JEQ => a == b,
        BPF_JNE => a != b,
        BPF_JGT => a > b,
        BPF_JGE => a >= b,
        BPF_JLT => a < b,
        BPF_JLE => a <= b,
        BPF_JSET => a & b != 0,
        BPF_JSGT => s64(a) > s64(b),
        BPF_JSGE => s64(a) >= s64(b),
        BPF_JSLT => s64(a) < s64(b),
        BPF_JSLE => s64(a) <= s64(b),
        _ => return None,
    })
}

/// The condition of a 32-bit conditional jump, on the low halves.
pub(super) fn cond32(op: u8, a: u32, b: u32) -> Option<bool> {
    Some(match op {
        BPF_JEQ => a == b,
        BPF_JNE => a != b,
        BPF_JGT => a > b,
        BPF_JGE => a >= b,
        BPF_JLT => a < b,
        BPF_JLE => a <= b,
        BPF_JSET => a & b != 0,
        BPF_JSGT => s32(a) > s32(b),
        BPF_JSGE => s32(a) >= s32(b),
        BPF_JSLT => s32(a) < s32(b),
        BPF_JSLE => s32(a) <= s32(b),
        _ => return None,
    })
}
