//! `ALU` and `ALU64` instructions: reserved fields, constant division and shifts, scalar
//! bounds (constants folded exactly, unsigned and signed ranges otherwise), and pointer
//! arithmetic (a constant moves the fixed offset, a bounded scalar the variable one).
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c` `check_alu_op`, `adjust_reg_min_max_vals`,
//! `adjust_ptr_min_max_vals`, `check_reg_sane_offset`,
//! `check_stack_access_for_ptr_arithmetic`; Linux 6.6 for the RFC 9669 forms. Linux tracks
//! exact values for `add sub mul and or xor lsh rsh arsh mov` and forgets them for `div`,
//! `mod`, `neg` and byte swaps; so does this pass. The `as` casts between integer widths
//! below are the instruction set's own truncations and sign extensions.

use super::exec::{ensure, Exec};
use super::opcodes::*;
use super::state::{Bounds, Kind, Ptr, Reg, Scalar, State, STACK};
use super::{bail, Reject};
use crate::vm::insn::Insn;

/// `BPF_MAX_VAR_OFF`.
const MAX_VAR_OFF: i64 = 1 << 29;
/// The 32-bit range.
const U32: Bounds = Bounds { umin: 0, umax: u32::MAX as u64, smin: 0, smax: u32::MAX as i64 };

/// Bounds of `a op b` on 64 bits where the operation is tracked (Linux
/// `adjust_scalar_min_max_vals` without tnums).
fn bounds64(op: u8, a: &Bounds, b: &Bounds) -> Bounds {
    let mut r = Bounds::UNKNOWN;
    match op {
        OP_ADD => {
            if let (Some(lo), Some(hi)) = (a.umin.checked_add(b.umin), a.umax.checked_add(b.umax)) {
                r.umin = lo;
                r.umax = hi;
            }
            if let (Some(lo), Some(hi)) = (a.smin.checked_add(b.smin), a.smax.checked_add(b.smax)) {
                r.smin = lo;
                r.smax = hi;
            }
        }
        OP_SUB => {
            if a.umin >= b.umax {
                r.umin = a.umin - b.umax;
                r.umax = a.umax - b.umin;
            }
            if let (Some(lo), Some(hi)) = (a.smin.checked_sub(b.smax), a.smax.checked_sub(b.smin)) {
                r.smin = lo;
                r.smax = hi;
            }
        }
        OP_MUL if a.smin >= 0 && b.smin >= 0 => {
            if let Some(hi) = a.umax.checked_mul(b.umax) {
                r.umin = a.umin * b.umin;
                r.umax = hi;
            }
        }
        OP_AND => {
            r.umax = a.umax.min(b.umax);
            if a.smin >= 0 || b.smin >= 0 {
                r.smin = 0;
            }
        }
        OP_OR | OP_XOR => {
            let m = a.umax | b.umax;
            r.umax = if m == 0 { 0 } else { u64::MAX >> m.leading_zeros() };
            if op == OP_OR {
                r.umin = a.umin.max(b.umin);
            }
        }
        OP_LSH => {
            if let Some(k) = b.konst().filter(|&k| k < 64) {
                if u64::from(a.umax.leading_zeros()) >= k {
                    r.umin = a.umin << k;
                    r.umax = a.umax << k;
                }
            }
        }
        OP_RSH => match b.konst().filter(|&k| k < 64) {
            Some(k) => {
                r.umin = a.umin >> k;
                r.umax = a.umax >> k;
            }
            None => r.umax = a.umax,
        },
        OP_ARSH => {
            if let Some(k) = b.konst().filter(|&k| k < 64) {
                r.smin = a.smin >> k;
                r.smax = a.smax >> k;
            }
        }
        _ => {}
    }
    r.sync();
    if r.is_empty() {
        Bounds::UNKNOWN
    } else {
        r
    }
}

/// Bounds of a 32-bit operation (the result zero-extended).
fn bounds32(op: u8, a: &Bounds, b: &Bounds) -> Bounds {
    if a.umax > u64::from(u32::MAX) || b.umax > u64::from(u32::MAX) || matches!(op, OP_ARSH | OP_SUB) {
        return U32;
    }
    let r = bounds64(op, a, b);
    if r.umax <= u64::from(u32::MAX) {
        r
    } else {
        U32
    }
}

/// A scalar truncated to 32 bits (zero-extended).
fn zext32(b: &Bounds) -> Bounds {
    match b.konst() {
        Some(c) => Bounds::exact(u64::from(c as u32)),
        None if b.umax <= u64::from(u32::MAX) => *b,
        None => U32,
    }
}

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
                let result = match value.as_const() {
                    Some(c) if op == OP_NEG => {
                        let n = c.wrapping_neg();
                        Reg::konst(if is64 { n } else { u64::from(n as u32) })
                    }
                    _ if is64 || op == OP_END => Reg::unknown_scalar(),
                    _ => Reg::scalar(U32),
                };
                Self::set(st, i.dst, result);
                Ok(())
            }
            OP_MOV => self.mov(i, st, is64, x, v4),
            _ if op > OP_END => {
                bail!(EINVAL, "invalid BPF_ALU opcode %x", "invalid BPF_ALU opcode {op:x}");
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
            None if is64 => Reg::konst(i.imm as i64 as u64),
            None => Reg::konst(u64::from(i.imm as u32)),
            Some(Reg::Ptr(p)) if is64 && i.off == 0 => Reg::Ptr(p),
            Some(Reg::Ptr(_)) => {
                if i.off == 0 {
                    ensure!(
                        self,
                        !self.v.input.privileged,
                        EACCES,
                        "R%d partial copy of pointer",
                        "R{} partial copy of pointer",
                        i.src
                    );
                } else {
                    ensure!(
                        self,
                        !self.v.input.privileged,
                        EACCES,
                        "R%d sign-extension part of pointer",
                        "R{} sign-extension part of pointer",
                        i.src
                    );
                }
                if is64 {
                    Reg::unknown_scalar()
                } else {
                    Reg::scalar(U32)
                }
            }
            Some(Reg::Scalar(s)) if i.off != 0 => match s.b.konst() {
                Some(c) => {
                    let c = sext(c, i.off);
                    Reg::konst(if is64 { c } else { u64::from(c as u32) })
                }
                None if is64 => Reg::unknown_scalar(),
                None => Reg::scalar(U32),
            },
            Some(Reg::Scalar(s)) if is64 => {
                if s.b.konst().is_some() {
                    Reg::Scalar(Scalar { id: 0, ..s })
                } else {
                    // Copies share an id: a later comparison bounds both (`find_equal_scalars`).
                    let id = if s.id != 0 { s.id } else { self.new_id() };
                    Self::set(st, i.src, Reg::Scalar(Scalar { id, ..s }));
                    Reg::Scalar(Scalar { id, ..s })
                }
            }
            Some(Reg::Scalar(s)) => Reg::scalar(zext32(&s.b)),
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
            Reg::konst(i.imm as i64 as u64)
        };
        let dst = self.src(st, i.dst)?;
        ensure!(self, (op == OP_DIV || op == OP_MOD) && !x && i.imm == 0, EINVAL, "div by zero", "div by zero");
        if matches!(op, OP_LSH | OP_RSH | OP_ARSH) && !x {
            let bits = if is64 { 64 } else { 32 };
            ensure!(self, i.imm < 0 || i.imm >= bits, EINVAL, "invalid shift %d", "invalid shift {}", i.imm);
        }
        self.dst(i.dst)?;
        let value = match (dst, src) {
            (Reg::Ptr(_), Reg::Ptr(_)) => {
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
                Reg::unknown_scalar()
            }
            (Reg::Ptr(ptr), scalar) => self.ptr_alu(i, is64, ptr, scalar, false)?,
            (scalar, Reg::Ptr(ptr)) => self.ptr_alu(i, is64, ptr, scalar, true)?,
            (Reg::Scalar(a), Reg::Scalar(b)) => {
                let folded = match (a.b.konst(), b.b.konst()) {
                    (Some(a), Some(b)) => fold(op, a, b, is64),
                    _ => None,
                };
                match folded {
                    Some(c) => Reg::konst(c),
                    None if is64 => Reg::scalar(bounds64(op, &a.b, &b.b)),
                    None => Reg::scalar(bounds32(op, &zext32(&a.b), &zext32(&b.b))),
                }
            }
            _ => Reg::Unknown,
        };
        Self::set(st, i.dst, value);
        Ok(())
    }

    /// `adjust_ptr_min_max_vals` for a pointer and a scalar; `scalar_is_dst` for
    /// `scalar op= pointer`.
    fn ptr_alu(&mut self, i: &Insn, is64: bool, ptr: Ptr, scalar: Reg, scalar_is_dst: bool) -> Result<Reg, Reject> {
        let op = i.opc & OP_MASK;
        let dst = i.dst;
        let privileged = self.v.input.privileged;
        if !is64 {
            let allowed = op == OP_SUB && privileged;
            ensure!(
                self,
                !allowed,
                EACCES,
                "R%d 32-bit pointer arithmetic prohibited",
                "R{dst} 32-bit pointer arithmetic prohibited"
            );
            return Ok(Reg::scalar(U32));
        }
        let ty = ptr.type_str();
        if ptr.maybe_null {
            bail!(
                EACCES,
                "R%d pointer arithmetic on %s prohibited, null-check it first",
                "R{dst} pointer arithmetic on {ty} prohibited, null-check it first"
            );
        }
        let Reg::Scalar(s) = scalar else { return Ok(Reg::Unknown) };
        let b = s.b;
        if matches!(ptr.kind, Kind::MapPtr(_) | Kind::Func(_)) && !(b.konst() == Some(0) && op == OP_ADD) {
            bail!(EACCES, "R%d pointer arithmetic on %s prohibited", "R{dst} pointer arithmetic on {ty} prohibited");
        }
        if let Some(c) = b.konst() {
            let c = c as i64;
            ensure!(
                self,
                c >= MAX_VAR_OFF || c <= -MAX_VAR_OFF,
                EINVAL,
                "math between %s pointer and %lld is not allowed",
                "math between {ty} pointer and {c} is not allowed"
            );
        }
        if b.smin == i64::MIN {
            bail!(
                EINVAL,
                "math between %s pointer and register with unbounded min value is not allowed",
                "math between {ty} pointer and register with unbounded min value is not allowed"
            );
        }
        if b.smin >= MAX_VAR_OFF || b.smin <= -MAX_VAR_OFF {
            bail!(
                EINVAL,
                "value %lld makes %s pointer be out of bounds",
                "value {} makes {ty} pointer be out of bounds",
                b.smin
            );
        }
        match op {
            OP_ADD => {}
            OP_SUB if scalar_is_dst => {
                bail!(
                    EACCES,
                    "R%d tried to subtract pointer from scalar",
                    "R{dst} tried to subtract pointer from scalar"
                );
            }
            OP_SUB if matches!(ptr.kind, Kind::Stack { .. }) => {
                bail!(
                    EACCES,
                    "R%d subtraction from stack pointer prohibited",
                    "R{dst} subtraction from stack pointer prohibited"
                );
            }
            OP_SUB => {}
            OP_AND | OP_OR | OP_XOR => {
                bail!(
                    EACCES,
                    "R%d bitwise operator %s on pointer prohibited",
                    "R{dst} bitwise operator {} on pointer prohibited",
                    alu_str(op)
                );
            }
            _ => {
                bail!(
                    EACCES,
                    "R%d pointer arithmetic with %s operator prohibited",
                    "R{dst} pointer arithmetic with {} operator prohibited",
                    alu_str(op)
                );
            }
        }
        let mut out = ptr;
        match b.konst() {
            Some(c) => {
                let c = c as i64;
                let off = if op == OP_ADD { i64::from(ptr.off) + c } else { i64::from(ptr.off) - c };
                let sane = (-MAX_VAR_OFF + 1..MAX_VAR_OFF).contains(&off);
                if !sane {
                    bail!(EINVAL, "%s pointer offset %d is not allowed", "{ty} pointer offset {off} is not allowed");
                }
                out.off = off as i32;
            }
            None => {
                let neg = Bounds { umin: 0, umax: u64::MAX, smin: -b.smax, smax: -b.smin };
                let add = if op == OP_ADD { b } else { neg };
                out.var = bounds64(OP_ADD, &ptr.var, &add);
            }
        }
        if !privileged {
            self.unpriv_ptr_range(dst, &out)?;
        }
        Ok(Reg::Ptr(out))
    }

    /// `sanitize_check_bounds`: unprivileged pointers stay inside their object.
    fn unpriv_ptr_range(&self, dst: u8, p: &Ptr) -> Result<(), Reject> {
        match p.kind {
            Kind::Stack { .. } => {
                let off = i64::from(p.off) + p.var.smin;
                let end = i64::from(p.off) + p.var.smax;
                if p.var.konst().is_none() || !(-i64::from(STACK)..0).contains(&off) || end >= 0 {
                    let off = p.off;
                    bail!(
                        EACCES,
                        "R%d stack pointer arithmetic goes out of range, prohibited for !root; off=%d",
                        "R{dst} stack pointer arithmetic goes out of range, prohibited for !root; off={off}"
                    );
                }
            }
            Kind::MapValue(desc) => {
                if let Some(info) = desc.info {
                    if self.region_access(dst, p, 0, 1, info.value_size, "map value").is_err() {
                        bail!(
                            EACCES,
                            "R%d pointer arithmetic of map value goes out of range, prohibited for !root",
                            "R{dst} pointer arithmetic of map value goes out of range, prohibited for !root"
                        );
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
