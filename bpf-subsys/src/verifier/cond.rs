//! Conditional jumps (Linux 6.1 `check_cond_jmp_op`): which edges are possible
//! (`is_branch_taken`), the bounds each edge learns (`reg_set_min_max`, shared with the
//! copies of a scalar: `find_equal_scalars`), and null checks of pointers that may be null
//! (`mark_ptr_or_null_regs`: the pointer on one edge, the scalar 0 on the other, for every
//! copy).

use alloc::boxed::Box;
use alloc::string::String;

use super::exec::{ensure, Exec, Next};
use super::opcodes::*;
use super::state::{Bounds, Kind, Reg, Scalar, State};
use super::{bail, Reject};
use crate::vm::insn::Insn;

/// Linux's `tnum_strn` of the tnum `tnum_range` derives from the unsigned bounds.
pub(super) fn tnum_str(b: &Bounds) -> String {
    let (value, mask) = if b.umin == b.umax {
        (b.umin, 0)
    } else {
        let chi = b.umin ^ b.umax;
        let bits = 64 - chi.leading_zeros();
        if bits >= 64 {
            (0, u64::MAX)
        } else {
            let delta = (1u64 << bits) - 1;
            (b.umin & !delta, delta)
        }
    };
    alloc::format!("({value:#x}; {mask:#x})")
}

/// The comparison with `op` mirrored (`a op b` is `b flip(op) a`).
fn flip(op: u8) -> u8 {
    match op {
        OP_JGT => OP_JLT,
        OP_JLT => OP_JGT,
        OP_JGE => OP_JLE,
        OP_JLE => OP_JGE,
        OP_JSGT => OP_JSLT,
        OP_JSLT => OP_JSGT,
        OP_JSGE => OP_JSLE,
        OP_JSLE => OP_JSGE,
        other => other,
    }
}

/// Whether `b op val` always holds (`Some(true)`), never does, or either.
fn taken(b: &Bounds, op: u8, val: u64) -> Option<bool> {
    let s = val as i64;
    match op {
        OP_JEQ | OP_JNE => {
            let eq = if b.konst() == Some(val) {
                Some(true)
            } else if val < b.umin || val > b.umax || s < b.smin || s > b.smax {
                Some(false)
            } else {
                None
            };
            eq.map(|e| e == (op == OP_JEQ))
        }
        OP_JSET => match b.konst() {
            Some(c) => Some(c & val != 0),
            None if val != 0 && b.umax < (1u64 << val.trailing_zeros()) => Some(false),
            None => None,
        },
        OP_JGT => decide(b.umin > val, b.umax <= val),
        OP_JGE => decide(b.umin >= val, b.umax < val),
        OP_JLT => decide(b.umax < val, b.umin >= val),
        OP_JLE => decide(b.umax <= val, b.umin > val),
        OP_JSGT => decide(b.smin > s, b.smax <= s),
        OP_JSGE => decide(b.smin >= s, b.smax < s),
        OP_JSLT => decide(b.smax < s, b.smin >= s),
        OP_JSLE => decide(b.smax <= s, b.smin > s),
        _ => None,
    }
}

fn decide(always: bool, never: bool) -> Option<bool> {
    if always {
        Some(true)
    } else if never {
        Some(false)
    } else {
        None
    }
}

/// The bounds of `b` where `b op val` is `truth`.
fn refine(b: &Bounds, op: u8, val: u64, truth: bool) -> Bounds {
    let s = val as i64;
    let mut r = *b;
    // Normalise to the condition that holds on this edge.
    let op = if truth {
        op
    } else {
        match op {
            OP_JEQ => OP_JNE,
            OP_JNE => OP_JEQ,
            OP_JGT => OP_JLE,
            OP_JLE => OP_JGT,
            OP_JGE => OP_JLT,
            OP_JLT => OP_JGE,
            OP_JSGT => OP_JSLE,
            OP_JSLE => OP_JSGT,
            OP_JSGE => OP_JSLT,
            OP_JSLT => OP_JSGE,
            _ => return r,
        }
    };
    match op {
        OP_JEQ => return Bounds::exact(val),
        OP_JGT => r.umin = r.umin.max(val.saturating_add(1)),
        OP_JGE => r.umin = r.umin.max(val),
        OP_JLT => r.umax = r.umax.min(val.saturating_sub(1)),
        OP_JLE => r.umax = r.umax.min(val),
        OP_JSGT => r.smin = r.smin.max(s.saturating_add(1)),
        OP_JSGE => r.smin = r.smin.max(s),
        OP_JSLT => r.smax = r.smax.min(s.saturating_sub(1)),
        OP_JSLE => r.smax = r.smax.min(s),
        _ => {}
    }
    r.sync();
    r
}

/// Applies `b` to register `r` of the current frame and to every copy of it.
fn set_bounds(st: &mut State, r: u8, b: Bounds) {
    let Reg::Scalar(s) = st.reg(usize::from(r)) else { return };
    let new = Scalar { b, id: s.id };
    if s.id == 0 {
        Exec::set(st, r, Reg::Scalar(new));
        return;
    }
    st.for_each_reg(|reg| {
        if let Reg::Scalar(x) = reg {
            if x.id == s.id {
                *reg = Reg::Scalar(new);
            }
        }
    });
}

/// `mark_ptr_or_null_regs`: every copy of the maybe-null pointer with `id` becomes the
/// pointer (`null == false`) or the scalar 0; the null edge drops its reference.
fn mark_ptr_or_null(st: &mut State, id: u32, ref_id: u32, null: bool) {
    st.for_each_reg(|reg| {
        if let Reg::Ptr(p) = reg {
            if p.maybe_null && p.id == id {
                if null {
                    *reg = Reg::konst(0);
                } else {
                    p.maybe_null = false;
                }
            }
        }
    });
    if null && ref_id != 0 {
        st.refs.retain(|&(r, _)| r != ref_id);
    }
}

/// A 32-bit comparison's view of a value and its operand, when it equals the 64-bit one.
fn view32(b: &Bounds, op: u8, imm: u64) -> Option<u64> {
    let signed = matches!(op, OP_JSGT | OP_JSGE | OP_JSLT | OP_JSLE);
    let limit = if signed { i32::MAX as u64 } else { u64::from(u32::MAX) };
    (b.umax <= limit).then(|| if signed { imm as u32 as i32 as i64 as u64 } else { u64::from(imm as u32) })
}

impl Exec<'_, '_> {
    /// A conditional jump at `pc`.
    pub(super) fn cond_jmp(&mut self, pc: usize, i: &Insn, st: &mut State) -> Result<Next, Reject> {
        let op = i.opc & OP_MASK;
        let x = i.opc & SRC_X != 0;
        let jmp32 = i.opc & CLASS_MASK == CLASS_JMP32;
        ensure!(
            self,
            !is_cond_jmp_op(op),
            EINVAL,
            "invalid BPF_JMP/JMP32 opcode %x",
            "invalid BPF_JMP/JMP32 opcode {op:x}"
        );
        let dst = self.src(st, i.dst)?;
        let src = if x {
            ensure!(
                self,
                i.imm != 0,
                EINVAL,
                "BPF_JMP/JMP32 uses reserved fields",
                "BPF_JMP/JMP32 uses reserved fields"
            );
            let src = self.src(st, i.src)?;
            ensure!(
                self,
                self.leaks(src),
                EACCES,
                "R%d pointer comparison prohibited",
                "R{} pointer comparison prohibited",
                i.src
            );
            src
        } else {
            ensure!(
                self,
                i.src != 0,
                EINVAL,
                "BPF_JMP/JMP32 uses reserved fields",
                "BPF_JMP/JMP32 uses reserved fields"
            );
            Reg::konst(i.imm as i64 as u64)
        };
        let fall_pc = self.v.next_pc(pc);
        let target = self.v.successors(pc)[1];

        // A null check of a pointer that may be null.
        if let Reg::Ptr(p) = dst {
            if p.maybe_null && !jmp32 && !x && i.imm == 0 && (op == OP_JEQ || op == OP_JNE) {
                let mut taken_st = st.clone();
                mark_ptr_or_null(st, p.id, p.ref_id, op == OP_JNE);
                mark_ptr_or_null(&mut taken_st, p.id, p.ref_id, op == OP_JEQ);
                return Ok(Next::Branch { fall: fall_pc, target, other: Box::new(taken_st) });
            }
            ensure!(
                self,
                self.leaks(dst),
                EACCES,
                "R%d pointer comparison prohibited",
                "R{} pointer comparison prohibited",
                i.dst
            );
            // A valid map value pointer is never null.
            let never_null = matches!(p.kind, Kind::MapValue(_)) && !p.maybe_null;
            if never_null && !x && i.imm == 0 && !jmp32 && (op == OP_JEQ || op == OP_JNE) {
                return Ok(Next::Pc(if op == OP_JNE { target } else { fall_pc }));
            }
            return Ok(Next::Branch { fall: fall_pc, target, other: Box::new(st.clone()) });
        }

        // Scalars: the register compared with a constant.
        let (reg, bounds, val, op) = match (dst, src) {
            (Reg::Scalar(d), s) if s.as_const().is_some() => (i.dst, d.b, s.as_const().unwrap_or(0), op),
            (d, Reg::Scalar(s)) if d.as_const().is_some() && x => (i.src, s.b, d.as_const().unwrap_or(0), flip(op)),
            _ => return Ok(Next::Branch { fall: fall_pc, target, other: Box::new(st.clone()) }),
        };
        let (bounds, val) = if jmp32 {
            match view32(&bounds, op, val) {
                Some(v) => (bounds, v),
                None => {
                    // Both constants: the exact 32-bit comparison.
                    let decided = match (dst.as_const(), src.as_const()) {
                        (Some(a), Some(b)) => cmp32(op, a, b),
                        _ => None,
                    };
                    return Ok(match decided {
                        Some(true) => Next::Pc(target),
                        Some(false) => Next::Pc(fall_pc),
                        None => Next::Branch { fall: fall_pc, target, other: Box::new(st.clone()) },
                    });
                }
            }
        } else {
            (bounds, val)
        };
        match taken(&bounds, op, val) {
            Some(true) => Ok(Next::Pc(target)),
            Some(false) => Ok(Next::Pc(fall_pc)),
            None => {
                let t = refine(&bounds, op, val, true);
                let f = refine(&bounds, op, val, false);
                if t.is_empty() {
                    return Ok(Next::Pc(fall_pc));
                }
                if f.is_empty() {
                    return Ok(Next::Pc(target));
                }
                let mut taken_st = st.clone();
                set_bounds(&mut taken_st, reg, t);
                set_bounds(st, reg, f);
                Ok(Next::Branch { fall: fall_pc, target, other: Box::new(taken_st) })
            }
        }
    }
}

/// `a op b` on the low 32 bits.
fn cmp32(op: u8, a: u64, b: u64) -> Option<bool> {
    let (a, b) = (a as u32, b as u32);
    let (sa, sb) = (a as i32, b as i32);
    Some(match op {
        OP_JEQ => a == b,
        OP_JNE => a != b,
        OP_JGT => a > b,
        OP_JGE => a >= b,
        OP_JLT => a < b,
        OP_JLE => a <= b,
        OP_JSET => a & b != 0,
        OP_JSGT => sa > sb,
        OP_JSGE => sa >= sb,
        OP_JSLT => sa < sb,
        OP_JSLE => sa <= sb,
        _ => return None,
    })
}
