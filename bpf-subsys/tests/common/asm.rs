//! An assembler for the bpf_conformance suite's syntax (tests only): `mov32 %r0, 1`,
//! `ldxw %r0, [%r1+4]`, `stdw [%r10-8], 0xab`, `lock fetch add32 [%r1], %r2`,
//! `jne %r0, 15, label`, `ja +1`, `call 5`, `call %r2`, `call local func`, `lddw %r0, 0x...`,
//! `exit`; `label:` lines; `#` starts a comment. As in the suite, the label `exit` names the
//! first `exit` instruction unless a line defines it.
//!
//! Self-contained (std only), so both the crate's unit tests and its integration tests use it.

use std::collections::HashMap;

/// One encoded instruction (`struct bpf_insn`).
pub type Raw = [u8; 8];

const ALU: u8 = 0x04;
const ALU64: u8 = 0x07;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const SRC_X: u8 = 0x08;

fn raw(opc: u8, dst: u8, src: u8, off: i16, imm: i32) -> Raw {
    let o = off.to_le_bytes();
    let i = imm.to_le_bytes();
    [opc, dst | (src << 4), o[0], o[1], i[0], i[1], i[2], i[3]]
}

/// Parses `0x..`, decimal, with an optional sign; wraps like C's `strtoull`.
fn number(s: &str) -> Result<u64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => body.parse::<u64>(),
    }
    .map_err(|e| format!("bad number {s:?}: {e}"))?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The low 32 bits of a number, as the suite's assembler truncates immediates.
fn imm32(s: &str) -> Result<i32, String> {
    Ok(number(s)? as u32 as i32)
}

fn off16(s: &str) -> Result<i16, String> {
    Ok(number(s)? as u16 as i16)
}

fn reg(s: &str) -> Result<u8, String> {
    let n = s.strip_prefix("%r").ok_or_else(|| format!("not a register: {s:?}"))?;
    let n: u8 = n.parse().map_err(|_| format!("not a register: {s:?}"))?;
    if n > 15 {
        return Err(format!("not a register: {s:?}"));
    }
    Ok(n)
}

/// `[%rN]`, `[%rN+off]`, `[%rN-off]`.
fn mem_operand(s: &str) -> Result<(u8, i16), String> {
    let inner = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).ok_or_else(|| format!("not memory: {s:?}"))?;
    match inner.find(['+', '-']) {
        Some(i) => Ok((reg(&inner[..i])?, off16(&inner[i..])?)),
        None => Ok((reg(inner)?, 0)),
    }
}

fn alu_op(name: &str) -> Option<(u8, i16)> {
    Some(match name {
        "add" => (0x00, 0),
        "sub" => (0x10, 0),
        "mul" => (0x20, 0),
        "div" => (0x30, 0),
        "sdiv" => (0x30, 1),
        "or" => (0x40, 0),
        "and" => (0x50, 0),
        "lsh" => (0x60, 0),
        "rsh" => (0x70, 0),
        "neg" => (0x80, 0),
        "mod" => (0x90, 0),
        "smod" => (0x90, 1),
        "xor" => (0xa0, 0),
        "mov" => (0xb0, 0),
        "arsh" => (0xc0, 0),
        "movsx8" => (0xb0, 8),
        "movsx16" => (0xb0, 16),
        "movsx32" => (0xb0, 32),
        _ => return None,
    })
}

fn jmp_op(name: &str) -> Option<u8> {
    Some(match name {
        "jeq" => 0x10,
        "jgt" => 0x20,
        "jge" => 0x30,
        "jset" => 0x40,
        "jne" => 0x50,
        "jsgt" => 0x60,
        "jsge" => 0x70,
        "jlt" => 0xa0,
        "jle" => 0xb0,
        "jslt" => 0xc0,
        "jsle" => 0xd0,
        _ => return None,
    })
}

fn size_bits(suffix: &str) -> Option<u8> {
    Some(match suffix {
        "w" => 0x00,
        "h" => 0x08,
        "b" => 0x10,
        "dw" => 0x18,
        _ => return None,
    })
}

/// Where a jump's target goes once labels are known.
enum Fixup {
    Off(String),
    Imm(String),
}

/// Assembles a program; errors name the line.
pub fn assemble(text: &str) -> Result<Vec<Raw>, String> {
    let mut out: Vec<Raw> = Vec::new();
    let mut labels: HashMap<String, usize> = HashMap::new();
    let mut fixups: Vec<(usize, Fixup)> = Vec::new();
    let mut first_exit = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(label) = line.strip_suffix(':') {
            if labels.insert(label.to_string(), out.len()).is_some() {
                return Err(format!("line {}: duplicate label {label}", n + 1));
            }
            continue;
        }
        let mut words = line.split_whitespace().map(|w| w.trim_end_matches(','));
        let mnemonic = words.next().unwrap_or("");
        let ops: Vec<&str> = words.collect();
        let at = out.len();
        let insns = instruction(mnemonic, &ops, at, &mut fixups).map_err(|e| format!("line {}: {line}: {e}", n + 1))?;
        if mnemonic == "exit" && first_exit.is_none() {
            first_exit = Some(at);
        }
        out.extend(insns);
    }
    if let Some(at) = first_exit {
        labels.entry("exit".to_string()).or_insert(at);
    }
    for (at, fixup) in fixups {
        let (name, is_imm) = match &fixup {
            Fixup::Off(name) => (name, false),
            Fixup::Imm(name) => (name, true),
        };
        let target = *labels.get(name).ok_or_else(|| format!("unknown label {name}"))?;
        let rel = target as i64 - at as i64 - 1;
        if is_imm {
            out[at][4..8].copy_from_slice(&(rel as i32).to_le_bytes());
        } else {
            out[at][2..4].copy_from_slice(&(rel as i16).to_le_bytes());
        }
    }
    Ok(out)
}

/// A jump target: `+N`/`-N` or a label (fixed up later).
fn target(s: &str, at: usize, imm: bool, fixups: &mut Vec<(usize, Fixup)>) -> Result<i64, String> {
    if s.starts_with('+') || s.starts_with('-') {
        return Ok(number(s)? as i64);
    }
    fixups.push((at, if imm { Fixup::Imm(s.to_string()) } else { Fixup::Off(s.to_string()) }));
    Ok(0)
}

fn expect(ops: &[&str], n: usize) -> Result<(), String> {
    if ops.len() == n {
        Ok(())
    } else {
        Err(format!("expected {n} operands, got {}", ops.len()))
    }
}

fn instruction(m: &str, ops: &[&str], at: usize, fixups: &mut Vec<(usize, Fixup)>) -> Result<Vec<Raw>, String> {
    // Byte order.
    for (prefix, opc) in
        [("le", ALU | 0xd0), ("be", ALU | SRC_X | 0xd0), ("bswap", ALU64 | 0xd0), ("swap", ALU64 | 0xd0)]
    {
        if let Some(width) = m.strip_prefix(prefix) {
            if let Ok(width @ (16 | 32 | 64)) = width.parse::<i32>() {
                expect(ops, 1)?;
                return Ok(vec![raw(opc, reg(ops[0])?, 0, 0, width)]);
            }
        }
    }
    // ALU and ALU64 (`movsx832` = movsx8, 32-bit; `movsx864` = movsx8, 64-bit).
    let (base, class) = if let Some(b) = m.strip_suffix("32").filter(|b| alu_op(b).is_some()) {
        (b, ALU)
    } else if let Some(b) = m.strip_suffix("64").filter(|b| alu_op(b).is_some()) {
        (b, ALU64)
    } else {
        (m, ALU64)
    };
    if let Some((op, off)) = alu_op(base) {
        if op == 0x80 {
            expect(ops, 1)?;
            return Ok(vec![raw(class | op, reg(ops[0])?, 0, off, 0)]);
        }
        expect(ops, 2)?;
        let dst = reg(ops[0])?;
        return Ok(vec![if ops[1].starts_with('%') {
            raw(class | SRC_X | op, dst, reg(ops[1])?, off, 0)
        } else {
            raw(class | op, dst, 0, off, imm32(ops[1])?)
        }]);
    }
    // Conditional jumps.
    let (base, class) = match m.strip_suffix("32") {
        Some(b) if jmp_op(b).is_some() => (b, JMP32),
        _ => (m, JMP),
    };
    if let Some(op) = jmp_op(base) {
        expect(ops, 3)?;
        let dst = reg(ops[0])?;
        let off = target(ops[2], at, false, fixups)? as i16;
        return Ok(vec![if ops[1].starts_with('%') {
            raw(class | SRC_X | op, dst, reg(ops[1])?, off, 0)
        } else {
            raw(class | op, dst, 0, off, imm32(ops[1])?)
        }]);
    }
    match m {
        "exit" => {
            expect(ops, 0)?;
            Ok(vec![raw(JMP | 0x90, 0, 0, 0, 0)])
        }
        "ja" => {
            expect(ops, 1)?;
            Ok(vec![raw(JMP, 0, 0, target(ops[0], at, false, fixups)? as i16, 0)])
        }
        "ja32" => {
            expect(ops, 1)?;
            Ok(vec![raw(JMP32, 0, 0, 0, target(ops[0], at, true, fixups)? as i32)])
        }
        "call" => match ops {
            ["local", label] => Ok(vec![raw(JMP | 0x80, 0, 1, 0, target(label, at, true, fixups)? as i32)]),
            ["helper", id] | [id] if !id.starts_with('%') => Ok(vec![raw(JMP | 0x80, 0, 0, 0, imm32(id)?)]),
            ["helper", r] | [r] => Ok(vec![raw(JMP | SRC_X | 0x80, reg(r)?, 0, 0, 0)]),
            ["runtime", id] => Ok(vec![raw(JMP | 0x80, 0, 2, 0, imm32(id)?)]),
            _ => Err("bad call".to_string()),
        },
        "lddw" => {
            expect(ops, 2)?;
            let v = number(ops[1])?;
            Ok(vec![raw(0x18, reg(ops[0])?, 0, 0, v as u32 as i32), raw(0, 0, 0, 0, (v >> 32) as u32 as i32)])
        }
        "lock" => atomic(ops),
        _ => {
            if let Some(size) = m.strip_prefix("ldxs").and_then(size_bits) {
                expect(ops, 2)?;
                let (src, off) = mem_operand(ops[1])?;
                return Ok(vec![raw(0x01 | 0x80 | size, reg(ops[0])?, src, off, 0)]);
            }
            if let Some(size) = m.strip_prefix("ldx").and_then(size_bits) {
                expect(ops, 2)?;
                let (src, off) = mem_operand(ops[1])?;
                return Ok(vec![raw(0x01 | 0x60 | size, reg(ops[0])?, src, off, 0)]);
            }
            if let Some(size) = m.strip_prefix("stx").and_then(size_bits) {
                expect(ops, 2)?;
                let (dst, off) = mem_operand(ops[0])?;
                return Ok(vec![raw(0x03 | 0x60 | size, dst, reg(ops[1])?, off, 0)]);
            }
            if let Some(size) = m.strip_prefix("st").and_then(size_bits) {
                expect(ops, 2)?;
                let (dst, off) = mem_operand(ops[0])?;
                return Ok(vec![raw(0x02 | 0x60 | size, dst, 0, off, imm32(ops[1])?)]);
            }
            Err(format!("unknown mnemonic {m:?}"))
        }
    }
}

/// `lock [fetch] op[32] [dst+off], src`.
fn atomic(ops: &[&str]) -> Result<Vec<Raw>, String> {
    let (fetch, rest) = match ops.first() {
        Some(&"fetch") => (true, &ops[1..]),
        _ => (false, ops),
    };
    expect(rest, 3)?;
    let (name, size) = match rest[0].strip_suffix("32") {
        Some(name) => (name, 0x00),
        None => (rest[0], 0x18),
    };
    let imm = match name {
        "add" => 0x00,
        "or" => 0x40,
        "and" => 0x50,
        "xor" => 0xa0,
        "xchg" => 0xe1,
        "cmpxchg" => 0xf1,
        _ => return Err(format!("unknown atomic {name:?}")),
    } | i32::from(fetch);
    let (dst, off) = mem_operand(rest[1])?;
    Ok(vec![raw(0x03 | 0xc0 | size, dst, reg(rest[2])?, off, imm)])
}
