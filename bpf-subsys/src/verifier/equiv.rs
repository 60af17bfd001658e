//! State containment for pruning (Linux `states_equal`, `func_states_equal`, `regsafe`,
//! `stacksafe`, `refsafe`, `check_ids`): a path may stop at an instruction where an already
//! fully explored state was at least as general, since every continuation of the new state
//! is then a continuation the old one proved safe.

use alloc::vec::Vec;

use super::liveness::Live;
use super::state::{Frame, Reg, State, NREGS};

/// A consistent renaming of ids from the old state to the current one.
#[derive(Default)]
struct IdMap(Vec<(u32, u32)>);

impl IdMap {
    fn check(&mut self, old: u32, cur: u32) -> bool {
        if old == 0 {
            return true;
        }
        if cur == 0 {
            return false;
        }
        for &(o, c) in &self.0 {
            if o == old {
                return c == cur;
            }
            if c == cur {
                return false;
            }
        }
        self.0.push((old, cur));
        true
    }
}

/// Whether every value `cur` may hold, `old` may hold too, with the same type.
fn regsafe(old: &Reg, cur: &Reg, ids: &mut IdMap) -> bool {
    match (old, cur) {
        (Reg::Uninit, _) => true,
        (Reg::Unknown, c) => *c != Reg::Uninit,
        (Reg::Scalar(o), Reg::Scalar(c)) => o.b.contains(&c.b) && ids.check(o.id, c.id),
        (Reg::Ptr(o), Reg::Ptr(c)) => {
            o.kind == c.kind
                && o.off == c.off
                && o.var.contains(&c.var)
                && o.maybe_null == c.maybe_null
                && (!o.maybe_null || ids.check(o.id, c.id))
                && (o.ref_id == 0) == (c.ref_id == 0)
                && ids.check(o.ref_id, c.ref_id)
        }
        _ => false,
    }
}

fn stacksafe(old: &Frame, cur: &Frame, ids: &mut IdMap) -> bool {
    old.stack.iter().zip(cur.stack.iter()).all(|(o, c)| {
        if o.written & !c.written != 0 {
            return false;
        }
        match (o.spill, c.spill) {
            (None, None) => true,
            (None, Some(c)) => o.written == 0 || matches!(c, Reg::Scalar(_)),
            (Some(o), Some(c)) => regsafe(&o, &c, ids),
            (Some(o), None) => matches!(o, Reg::Scalar(s) if s.b == super::state::Bounds::UNKNOWN && s.id == 0),
        }
    })
}

/// Whether `cur` at an instruction is contained in `old` there; `live[pc]` gives the live
/// registers of the current frame at `pc` (`pc`: the instruction both are at).
pub(super) fn states_equal(old: &State, cur: &State, live: &[Live], pc: usize) -> bool {
    if old.frames.len() != cur.frames.len() || old.refs.len() != cur.refs.len() || old.base_frame != cur.base_frame {
        return false;
    }
    let mut ids = IdMap::default();
    let last = cur.frames.len() - 1;
    for (i, (fo, fc)) in old.frames.iter().zip(cur.frames.iter()).enumerate() {
        if fo.ret_pc != fc.ret_pc || fo.subprog != fc.subprog {
            return false;
        }
        // Caller frames keep R6-R9 across the call; the callee sets R0 and clobbers R1-R5.
        let mask =
            if i == last { live.get(pc).copied().unwrap_or(Live::MAX) } else { live_after_call(live, fo.ret_pc) };
        for r in 0..NREGS {
            if r < 16 && mask & (1 << r) == 0 && r != super::state::FP {
                continue;
            }
            if !regsafe(&fo.regs[r], &fc.regs[r], &mut ids) {
                return false;
            }
        }
        if !stacksafe(fo, fc, &mut ids) {
            return false;
        }
    }
    old.refs.iter().zip(cur.refs.iter()).all(|(&(o, _), &(c, _))| ids.check(o, c))
}

/// Registers of a caller frame live when control returns to `ret_pc`.
fn live_after_call(live: &[Live], ret_pc: usize) -> Live {
    live.get(ret_pc).copied().unwrap_or(Live::MAX) & 0x03c0
}

/// Linux `states_maybe_looping`: the current frames' registers are identical.
pub(super) fn same_regs(old: &State, cur: &State) -> bool {
    old.frames.len() == cur.frames.len() && old.cur().regs == cur.cur().regs
}
