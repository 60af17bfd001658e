//! The control-flow check: a depth-first search over the instruction graph from the first
//! instruction, as Linux's `check_cfg` does it, so that the same edge is reported.
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c` `push_insn`, `visit_func_call_insn`,
//! `visit_insn`, `check_cfg`. Edges: every instruction falls through (the second slot of an
//! `ld_imm64` included); jumps add their target; `call` to a subprogram and `ld_imm64` of a
//! function add the callee's first instruction; `exit` ends. A back-edge is a loop: accepted
//! from a privileged loader on jumps, never on calls (recursion). Every instruction must be
//! reached.

use alloc::vec;
use alloc::vec::Vec;

use super::opcodes::*;
use super::{bail, Reject, Verifier};

const DISCOVERED: u8 = 0x10;
const EXPLORED: u8 = 0x20;
const FALLTHROUGH: u8 = 1;
const BRANCH: u8 = 2;

/// What a visit step did.
enum Step {
    Done,
    Keep,
}

/// The search's state (Linux `env->cfg`).
struct Dfs {
    state: Vec<u8>,
    stack: Vec<usize>,
    privileged: bool,
}

impl Dfs {
    /// `push_insn`: follows edge `e` from `t` to `w`.
    fn push(&mut self, t: usize, w: i64, e: u8, loop_ok: bool) -> Result<Step, Reject> {
        if e == FALLTHROUGH && self.state[t] >= DISCOVERED | FALLTHROUGH {
            return Ok(Step::Done);
        }
        if e == BRANCH && self.state[t] >= DISCOVERED | BRANCH {
            return Ok(Step::Done);
        }
        let w = match usize::try_from(w) {
            Ok(w) if w < self.state.len() => w,
            _ => bail!(EINVAL, "jump out of range from insn %d to %d", "jump out of range from insn {t} to {w}"),
        };
        if self.state[w] == 0 {
            self.state[t] = DISCOVERED | e;
            self.state[w] = DISCOVERED;
            self.stack.push(w);
            return Ok(Step::Keep);
        }
        if self.state[w] & 0xf0 == DISCOVERED {
            if loop_ok && self.privileged {
                return Ok(Step::Done);
            }
            bail!(EINVAL, "back-edge from insn %d to %d", "back-edge from insn {t} to {w}");
        }
        self.state[t] = DISCOVERED | e;
        Ok(Step::Done)
    }

    /// `visit_func_call_insn`: the fall-through, then (for `visit_callee`) the callee.
    fn visit_call(&mut self, t: usize, target: i64, visit_callee: bool, loop_ok: bool) -> Result<Step, Reject> {
        if let Step::Keep = self.push(t, t as i64 + 1, FALLTHROUGH, false)? {
            return Ok(Step::Keep);
        }
        if visit_callee {
            return self.push(t, target, BRANCH, loop_ok);
        }
        Ok(Step::Done)
    }
}

impl Verifier<'_> {
    /// `visit_insn`.
    fn visit(&self, dfs: &mut Dfs, t: usize) -> Result<Step, Reject> {
        let insn = self.insn(t);
        let code = insn.opc;
        let here = t as i64;
        if code == LD_IMM64 && insn.src == PSEUDO_FUNC {
            return dfs.visit_call(t, here + i64::from(insn.imm) + 1, true, true);
        }
        let class = code & CLASS_MASK;
        if class != CLASS_JMP && class != CLASS_JMP32 {
            return dfs.push(t, here + 1, FALLTHROUGH, false);
        }
        match code & OP_MASK {
            OP_EXIT => Ok(Step::Done),
            OP_CALL => dfs.visit_call(t, here + i64::from(insn.imm) + 1, insn.src == PSEUDO_CALL, false),
            OP_JA => {
                let rel = if class == CLASS_JMP32 { i64::from(insn.imm) } else { i64::from(insn.off) };
                dfs.push(t, here + rel + 1, FALLTHROUGH, true)
            }
            _ => {
                if let Step::Keep = dfs.push(t, here + 1, FALLTHROUGH, true)? {
                    return Ok(Step::Keep);
                }
                dfs.push(t, here + i64::from(insn.off) + 1, BRANCH, true)
            }
        }
    }

    /// `check_cfg`.
    pub(super) fn check_cfg(&self) -> Result<(), Reject> {
        let n = self.len();
        let mut dfs = Dfs { state: vec![0; n], stack: vec![0], privileged: self.input.privileged };
        dfs.state[0] = DISCOVERED;
        while let Some(&t) = dfs.stack.last() {
            if let Step::Done = self.visit(&mut dfs, t)? {
                dfs.state[t] = EXPLORED;
                dfs.stack.pop();
            }
        }
        if let Some(pc) = dfs.state.iter().position(|&s| s != EXPLORED) {
            bail!(EINVAL, "unreachable insn %d", "unreachable insn {pc}");
        }
        Ok(())
    }
}
