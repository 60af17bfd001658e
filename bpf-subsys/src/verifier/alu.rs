//! `ALU` and `ALU64` instructions: reserved fields, constant division and shifts, arithmetic
//! on stack pointers, and constant folding (the only value tracking this pass does).
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c` `check_alu_op`, `adjust_reg_min_max_vals`,
//! `adjust_ptr_min_max_vals`, `check_reg_sane_offset`,
//! `check_stack_access_for_ptr_arithmetic`; Linux 6.6 for the RFC 9669 forms. Linux tracks
//! exact values for `add sub mul and or xor lsh rsh arsh mov` and forgets them for `div`,
//! `mod`, `neg` and byte swaps; so does this pass. The `as` casts between integer widths
//! below are the instruction set's own truncations and sign extensions.

use super::exec::{ensure, Exec};
use super::opcodes::*;
use super::state::{Reg, State, STACK};
use super::{bail, Reject};
use crate::vm::insn::Insn;

/// `BPF_MAX_VAR_OFF`.
const MAX_VAR_OFF: i64 = 1 << 29;

/// `bpf_alu_string`.
fn alu_str(op: u8) -> &'static str {
    match op {
        OP_ADD => "+=",
        OP_SUB => "-=",
        OP_MUL => "*=",
        OP_DIV => "/=",
        OP_OR => "|=",
        OP_AND => "&=",
        OP_LSH => "<<=",
        OP_RSH => ">>=",
        OP_NEG => "neg",
        OP_MOD => "%=",
        OP_XOR => "^=",
        OP_MOV => "=",
        OP_ARSH => "s>>=",
        _ => "endian",
    }
}

/// Sign-extends the low `bits` bits of `v`.
fn sext(v: u64, bits: i16) -> u64 {
    match bits {
        8 => v as u8 as i8 as i64 as u64,
        16 => v as u16 as i16 as i64 as u64,
        32 => v as u32 as i32 as i64 as u64,
        _ => v,
    }
}

/// `a op b` for constants, as Linux's scalar tracking computes it (`None`: unknown).
fn fold(op: u8, a: u64, b: u64, is64: bool) -> Option<u64> {
    let bits = if is64 { 64 } else { 32 };
    let (a, b) = if is64 { (a, b) } else { (u64::from(a as u32), u64::from(b as u32)) };
    let r = match op {
        OP_ADD => a.wrapping_add(b),
        OP_SUB => a.wrapping_sub(b),
        OP_MUL => a.wrapping_mul(b),
        OP_OR => a | b,
        OP_AND => a & b,
        OP_XOR => a ^ b,
        OP_LSH if b < bits => a << b,
        OP_RSH if b < bits => a >> b,
        OP_ARSH if b < bits => {
            if is64 {
                ((a as i64) >> b) as u64
            } else {
                u64::from(((a as u32 as i32) >> b) as u32)
            }
        }
        _ => return None,
    };
    Some(if is64 { r } else { u64::from(r as u32) })
}

impl Exec<'_, '_> {
    /// `check_alu_op`.
    pub(super) fn alu(&mut self, i: &Insn, st: &mut State) -> Result<(), Reject> {
        let is64 = i.opc & CLASS_MASK == CLASS_ALU64;
        let x = i.opc & SRC_X != 0;
        let op = i.opc & OP_MASK;
        let v4 = self.v.input.isa_v4;
        match op {
            OP_NEG | OP_END => {
                if op == OP_NEG {
                    let reserved = x || i.src != 0 || i.off != 0 || i.imm != 0;
                    ensure!(self, reserved, EINVAL, "BPF_NEG uses reserved fields", "BPF_NEG uses reserved fields");
                } else {
                    let reserved = i.src != 0 || i.off != 0 || !matches!(i.imm, 16 | 32 | 64) || (is64 && (!v4 || x));
                    ensure!(self, reserved, EINVAL, "BPF_END uses reserved fields", "BPF_END uses reserved fields");
                }
                let value = self.src(st, i.dst)?;
                ensure!(
                    self,
                    self.leaks(value),
                    EACCES,
                    "R%d pointer arithmetic prohibited",
                    "R{} pointer arithmetic prohibited",
                    i.dst
                );
                self.dst(i.dst)?;
                Self::set(st, i.dst, Reg::Init);
                if matches!(value, Reg::Stack(_)) {
                    st.escape();
                }
                Ok(())
            }
            OP_MOV => self.mov(i, st, is64, x, v4),
            _ if op > OP_END => {
                ensure!(self, true, EINVAL, "invalid BPF_ALU opcode %x", "invalid BPF_ALU opcode {op:x}");
                Ok(())
            }
            _ => self.arith(i, st, is64, x, v4),
        }
    }

    fn mov(&mut self, i: &Insn, st: &mut State, is64: bool, x: bool, v4: bool) -> Result<(), Reject> {
        let src = if x {
            let off_ok = i.off == 0 || (v4 && (matches!(i.off, 8 | 16) || (is64 && i.off == 32)));
            ensure!(
                self,
                !off_ok || i.imm != 0,
                EINVAL,
                "BPF_MOV uses reserved fields",
                "BPF_MOV uses reserved fields"
            );
            Some(self.src(st, i.src)?)
        } else {
            ensure!(
                self,
                i.src != 0 || i.off != 0,
                EINVAL,
                "BPF_MOV uses reserved fields",
                "BPF_MOV uses reserved fields"
            );
            None
        };
        self.dst(i.dst)?;
        let value = match src {
            None if is64 => Reg::Const(i.imm as i64 as u64),
            None => Reg::Const(u64::from(i.imm as u32)),
            Some(Reg::Stack(off)) if is64 && i.off == 0 => Reg::Stack(off),
            Some(Reg::Stack(_)) => {
                if i.off == 0 {
                    ensure!(
                        self,
                        self.leaks(Reg::Stack(0)),
                        EACCES,
                        "R%d partial copy of pointer",
                        "R{} partial copy of pointer",
                        i.src
                    );
                } else {
                    ensure!(
                        self,
                        self.leaks(Reg::Stack(0)),
                        EACCES,
                        "R%d sign-extension part of pointer",
                        "R{} sign-extension part of pointer",
                        i.src
                    );
                }
                st.escape();
                Reg::Init
            }
            Some(Reg::Const(c)) => {
                let c = sext(c, i.off);
                Reg::Const(if is64 { c } else { u64::from(c as u32) })
            }
            Some(other) => other,
        };
        Self::set(st, i.dst, value);
        Ok(())
    }

    /// The two-operand operations (`add` .. `arsh`, `div`, `mod`).
    fn arith(&mut self, i: &Insn, st: &mut State, is64: bool, x: bool, v4: bool) -> Result<(), Reject> {
        let op = i.opc & OP_MASK;
        let off_ok = i.off == 0 || (v4 && i.off == 1 && (op == OP_DIV || op == OP_MOD));
        let src = if x {
            ensure!(
                self,
                i.imm != 0 || !off_ok,
                EINVAL,
                "BPF_ALU uses reserved fields",
                "BPF_ALU uses reserved fields"
            );
            self.src(st, i.src)?
        } else {
            ensure!(
                self,
                i.src != 0 || !off_ok,
                EINVAL,
                "BPF_ALU uses reserved fields",
                "BPF_ALU uses reserved fields"
            );
            Reg::Const(i.imm as i64 as u64)
        };
        let dst = self.src(st, i.dst)?;
        ensure!(self, (op == OP_DIV || op == OP_MOD) && !x && i.imm == 0, EINVAL, "div by zero", "div by zero");
        if matches!(op, OP_LSH | OP_RSH | OP_ARSH) && !x {
            let bits = if is64 { 64 } else { 32 };
            ensure!(self, i.imm < 0 || i.imm >= bits, EINVAL, "invalid shift %d", "invalid shift {}", i.imm);
        }
        self.dst(i.dst)?;
        let value = match (dst, src) {
            (Reg::Stack(_), Reg::Stack(_)) => {
                let allowed = op == OP_SUB && self.v.input.privileged;
                ensure!(
                    self,
                    !allowed,
                    EACCES,
                    "R%d pointer %s pointer prohibited",
                    "R{} pointer {} pointer prohibited",
                    i.dst,
                    alu_str(op)
                );
                st.escape();
                Reg::Init
            }
            (Reg::Stack(ptr), scalar) => self.ptr_alu(i, st, is64, ptr, scalar, false)?,
            (scalar, Reg::Stack(ptr)) => self.ptr_alu(i, st, is64, ptr, scalar, true)?,
            (Reg::Const(a), Reg::Const(b)) => fold(op, a, b, is64).map_or(Reg::Init, Reg::Const),
            _ => Reg::Init,
        };
        Self::set(st, i.dst, value);
        Ok(())
    }

    /// `adjust_ptr_min_max_vals` for a stack pointer `fp + ptr` and a scalar; `scalar_is_dst`
    /// for `scalar op= pointer`.
    fn ptr_alu(
        &mut self,
        i: &Insn,
        st: &mut State,
        is64: bool,
        ptr: i32,
        scalar: Reg,
        scalar_is_dst: bool,
    ) -> Result<Reg, Reject> {
        let op = i.opc & OP_MASK;
        let dst = i.dst;
        if !is64 {
            let allowed = op == OP_SUB && self.v.input.privileged;
            ensure!(
                self,
                !allowed,
                EACCES,
                "R%d 32-bit pointer arithmetic prohibited",
                "R{dst} 32-bit pointer arithmetic prohibited"
            );
            st.escape();
            return Ok(Reg::Init);
        }
        if let Reg::Const(c) = scalar {
            let c = c as i64;
            ensure!(
                self,
                c >= MAX_VAR_OFF || c <= -MAX_VAR_OFF,
                EINVAL,
                "math between %s pointer and %lld is not allowed",
                "math between fp pointer and {c} is not allowed"
            );
        }
        match op {
            OP_ADD => {}
            OP_SUB if scalar_is_dst => {
                ensure!(
                    self,
                    true,
                    EACCES,
                    "R%d tried to subtract pointer from scalar",
                    "R{dst} tried to subtract pointer from scalar"
                );
            }
            OP_SUB => {
                ensure!(
                    self,
                    true,
                    EACCES,
                    "R%d subtraction from stack pointer prohibited",
                    "R{dst} subtraction from stack pointer prohibited"
                );
            }
            OP_AND | OP_OR | OP_XOR => {
                ensure!(
                    self,
                    true,
                    EACCES,
                    "R%d bitwise operator %s on pointer prohibited",
                    "R{dst} bitwise operator {} on pointer prohibited",
                    alu_str(op)
                );
            }
            _ => {
                ensure!(
                    self,
                    true,
                    EACCES,
                    "R%d pointer arithmetic with %s operator prohibited",
                    "R{dst} pointer arithmetic with {} operator prohibited",
                    alu_str(op)
                );
            }
        }
        let Reg::Const(c) = scalar else {
            // A variable offset: the pass stops following this pointer.
            st.escape();
            return Ok(Reg::Init);
        };
        if op != OP_ADD {
            st.escape();
            return Ok(Reg::Init);
        }
        let off = i64::from(ptr).saturating_add(c as i64);
        let sane = (-MAX_VAR_OFF + 1..MAX_VAR_OFF).contains(&off);
        ensure!(self, !sane, EINVAL, "%s pointer offset %d is not allowed", "fp pointer offset {off} is not allowed");
        let (true, Ok(off)) = (sane, i32::try_from(off)) else {
            // Only reached by the dataflow pass, which reports nothing.
            st.escape();
            return Ok(Reg::Init);
        };
        ensure!(
            self,
            !self.v.input.privileged && !(-STACK..0).contains(&off),
            EACCES,
            "R%d stack pointer arithmetic goes out of range, prohibited for !root; off=%d",
            "R{dst} stack pointer arithmetic goes out of range, prohibited for !root; off={off}"
        );
        Ok(Reg::Stack(off))
    }
}
