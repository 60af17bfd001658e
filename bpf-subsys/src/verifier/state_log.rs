//! The register-state text of the log, as Linux 6.1 prints it (`print_verifier_state`,
//! `print_insn_state`, `print_liveness`, `reg_type_str`, the "scratched" marks of 5.17+).
//!
//! Before an instruction, Linux prints the registers and stack slots the previous
//! instruction touched ("scratched"): on the previous instruction's line after padding and
//! `; ` when nothing was logged in between, else on a line of its own starting `N:`. After
//! a path ends everything is scratched, so the next path starts with its whole state. A
//! register written since the path's last checkpoint shows `_w` (`REG_LIVE_WRITTEN`); read
//! marks (`_r`) only ever appear on checkpoint states, which level 1 never prints.
//!
//! Formats: constants as numbers (`R0_w=5`), stack pointers with a constant offset as
//! `fp-8`, everything else as `type(id=..,ref_obj_id=..,off=..,ks=..,vs=..,imm=..)` with
//! the bounds that are not implied (`smin`, `smax`, `umin`, `umax`, `var_off`); spilled
//! registers as `fp-8_w=map_value`, other slots as 8 slot-type characters (`m`, `?`).
//!
//! Approximations: `var_off` is derived from the unsigned range (this pass has no tnums),
//! 32-bit bounds are not printed (not tracked), no `P` (no precision tracking); a register
//! of a type this pass does not follow ([`Reg::Unknown`]: the context of program types
//! whose context is not typed here) prints as `ctx(off=0,imm=0)`; map pointers and values
//! print `ks`/`vs` only when the map's attributes are known.

use alloc::string::String;
use core::fmt::Write;

use super::state::{Bounds, Frame, Kind, Ptr, Reg, Scalar, FP, NREGS, SLOTS};

/// Linux `BPF_LOG_ALIGNMENT` and `BPF_LOG_MIN_ALIGNMENT`.
const LOG_ALIGNMENT: u32 = 40;
const LOG_MIN_ALIGNMENT: u32 = 8;

/// Registers and stack slots touched since the last state print (`scratched_regs`,
/// `scratched_stack_slots`; slot `i` is `fp-8*(i+1)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Scratch {
    pub regs: u16,
    pub slots: u64,
}

impl Scratch {
    /// Everything (`mark_verifier_state_scratched`).
    pub const ALL: Scratch = Scratch { regs: u16::MAX, slots: u64::MAX };

    /// Whether anything is scratched (`verifier_state_scratched`).
    pub fn any(&self) -> bool {
        self.regs != 0 || self.slots != 0
    }
}

/// Per frame, what was written since the path's last checkpoint (`REG_LIVE_WRITTEN`;
/// bits as in [`Scratch`]), and which slots hold an immediate stored by `BPF_ST`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Written {
    pub regs: u16,
    pub slots: u64,
    /// Slots last written by `BPF_ST`: this pass spills the constant (as Linux 6.3+ does),
    /// Linux 6.1 marks the bytes `STACK_MISC`, so they print as `mmmmmmmm`.
    pub imm: u64,
}

impl Written {
    /// A new checkpoint: no live marks (the `imm` origins stay).
    pub fn checkpoint(&mut self) {
        self.regs = 0;
        self.slots = 0;
    }
}

/// Spaces before the `;` that puts a state on its instruction's line (`vlog_alignment`).
pub(super) fn alignment(insn_len: u32) -> usize {
    let pos = insn_len;
    let want = (pos + LOG_MIN_ALIGNMENT / 2).max(LOG_ALIGNMENT);
    let up = want.div_ceil(LOG_MIN_ALIGNMENT) * LOG_MIN_ALIGNMENT;
    up.saturating_sub(pos + 1).max(1) as usize
}

/// `print_verifier_state` of frame `frameno` (without the trailing newline).
pub(super) fn frame_state(
    out: &mut String,
    f: &Frame,
    frameno: usize,
    scratch: Option<&Scratch>,
    written: &Written,
    privileged: bool,
) {
    if frameno != 0 {
        let _ = write!(out, " frame{frameno}:");
    }
    for (i, reg) in f.regs.iter().enumerate().take(NREGS) {
        if matches!(reg, Reg::Uninit) || scratch.is_some_and(|s| s.regs & (1 << i) == 0) {
            continue;
        }
        let w = if i != FP && written.regs & (1 << i) != 0 { "_w" } else { "" };
        let _ = write!(out, " R{i}{w}=");
        reg_text(out, reg);
    }
    let allocated = usize::try_from(f.allocated / 8).unwrap_or(0).min(SLOTS);
    for spi in 0..allocated {
        let slot = &f.stack[SLOTS - 1 - spi];
        if slot.written == 0 || scratch.is_some_and(|s| s.slots & (1 << spi) == 0) {
            continue;
        }
        let w = if written.slots & (1 << spi) != 0 { "_w" } else { "" };
        let _ = write!(out, " fp-{}{w}=", (spi + 1) * 8);
        match slot.spill {
            Some(_) if written.imm & (1 << spi) != 0 => out.push_str("mmmmmmmm"),
            Some(Reg::Scalar(Scalar { b, .. })) if b.konst() == Some(0) => out.push_str("00000000"),
            Some(Reg::Scalar(Scalar { b, .. })) if !privileged || b == Bounds::UNKNOWN => out.push_str("mmmmmmmm"),
            Some(Reg::Scalar(Scalar { b, .. })) => {
                if let Some(c) = b.konst() {
                    let _ = write!(out, "{}", c as i64);
                }
            }
            Some(Reg::Ptr(p)) => out.push_str(p.type_str()),
            Some(Reg::Unknown) => out.push_str("ctx"),
            Some(Reg::Uninit) | None => {
                // slot_type[j] is the byte at fp-8*spi-1-j: the highest address first.
                for j in 0..8 {
                    out.push(if slot.written & (0x80 >> j) != 0 { 'm' } else { '?' });
                }
            }
        }
    }
}

/// One register after `R<n>=`.
fn reg_text(out: &mut String, reg: &Reg) {
    match reg {
        Reg::Uninit => out.push('?'),
        Reg::Unknown => out.push_str("ctx(off=0,imm=0)"),
        Reg::Scalar(s) => match s.b.konst() {
            Some(c) => {
                let _ = write!(out, "{}", c as i64);
            }
            None => {
                out.push_str("scalar(");
                let mut sep = Sep(false);
                if s.id != 0 {
                    let _ = write!(out, "{}id={}", sep.next(), s.id);
                }
                bounds_text(out, &s.b, &mut sep);
                out.push(')');
            }
        },
        Reg::Ptr(p) => ptr_text(out, p),
    }
}

fn ptr_text(out: &mut String, p: &Ptr) {
    if let (Kind::Stack { .. }, Some(v)) = (p.kind, p.var.konst()) {
        let _ = write!(out, "fp{}", (v as i64).wrapping_add(i64::from(p.off)));
        return;
    }
    out.push_str(p.type_str());
    out.push('(');
    let mut sep = Sep(false);
    if p.id != 0 {
        let _ = write!(out, "{}id={}", sep.next(), p.id);
    }
    if matches!(p.kind, Kind::Mem { .. }) && p.ref_id != 0 {
        let _ = write!(out, "{}ref_obj_id={}", sep.next(), p.ref_id);
    }
    let _ = write!(out, "{}off={}", sep.next(), p.off);
    if let Kind::MapPtr(m) | Kind::MapValue(m) = p.kind {
        if let Some(info) = m.info {
            let _ = write!(out, "{}ks={},vs={}", sep.next(), info.key_size, info.value_size);
        }
    }
    match p.var.konst() {
        Some(v) => {
            let _ = write!(out, "{}imm={v:x}", sep.next());
        }
        None => bounds_text(out, &p.var, &mut sep),
    }
    out.push(')');
}

/// The bounds Linux prints for a value that is not a constant.
fn bounds_text(out: &mut String, b: &Bounds, sep: &mut Sep) {
    if b.smin as u64 != b.umin && b.smin != i64::MIN {
        let _ = write!(out, "{}smin={}", sep.next(), b.smin);
    }
    if b.smax as u64 != b.umax && b.smax != i64::MAX {
        let _ = write!(out, "{}smax={}", sep.next(), b.smax);
    }
    if b.umin != 0 {
        let _ = write!(out, "{}umin={}", sep.next(), b.umin);
    }
    if b.umax != u64::MAX {
        let _ = write!(out, "{}umax={}", sep.next(), b.umax);
    }
    // tnum_range(umin, umax): the bits above the highest differing bit are known.
    let chi = b.umin ^ b.umax;
    let bits = 64 - chi.leading_zeros();
    if bits < 64 {
        let mask = (1u64 << bits) - 1;
        let _ = write!(out, "{}var_off=({:#x}; {:#x})", sep.next(), b.umin & !mask, mask);
    }
}

/// The `,` between attributes (`verbose_a`).
struct Sep(bool);

impl Sep {
    fn next(&mut self) -> &'static str {
        if core::mem::replace(&mut self.0, true) {
            ","
        } else {
            ""
        }
    }
}
