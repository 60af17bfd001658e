//! The call-chain limits: at most 8 frames, at most 512 bytes of stack for a whole chain
//! (each frame rounded up to 32 bytes), no tail call once the frames above use 256 bytes.
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c` `check_max_stack_depth`. Linux walks every
//! call chain from the main program in instruction order; so does this walk, with the same
//! messages, but it only descends into callees whose subtree can break a limit (computed
//! once per subprogram), so it stays linear where Linux's walk can be exponential.

use alloc::vec::Vec;

use super::opcodes::*;
use super::state::STACK;
use super::{bail, Reject, Verifier};
use crate::vm::MAX_CALL_FRAMES;

/// Stack a chain may use above a tail call (Linux: 256, so 33 chained tail calls fit 8 KiB).
const TAIL_CALL_STACK: i32 = 256;
/// Saturation for the subtree bounds (anything above is a violation anyway).
const CAP: i32 = 4 * STACK;

/// The subtree bounds of one subprogram.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Bounds {
    /// Frames in its deepest chain, itself included.
    frames: i32,
    /// Stack of its deepest chain, itself included.
    depth: i32,
    /// Largest stack above a tail-calling subprogram in its subtree, itself included
    /// (`None`: no tail call below).
    tail: Option<i32>,
}

impl Verifier<'_> {
    /// Stack a frame of subprogram `i` takes (Linux rounds to the interpreter's 32 bytes).
    fn frame_size(&self, i: usize) -> i32 {
        let depth = i32::try_from(self.subprogs[i].stack_depth).unwrap_or(STACK).max(1);
        (depth + 31) / 32 * 32
    }

    /// The calls (and callback references) of subprogram `i`, in instruction order:
    /// `(instruction, callee)`.
    fn calls_of(&self, i: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for pc in self.subprogs[i].start..self.subprog_end(i) {
            let insn = self.insn(pc);
            let call = insn.opc == CLASS_JMP | OP_CALL && insn.src == PSEUDO_CALL;
            let func = insn.opc == LD_IMM64 && insn.src == PSEUDO_FUNC && !self.is_second_half(pc);
            if !call && !func {
                continue;
            }
            let target = usize::try_from(pc as i64 + i64::from(insn.imm) + 1).ok();
            if let Some(callee) = target.and_then(|t| self.subprog_at(t)) {
                out.push((pc, callee));
            }
        }
        out
    }

    /// Subtree bounds of every subprogram, by relaxation (saturating, so cycles end).
    fn bounds(&self, calls: &[Vec<(usize, usize)>]) -> Vec<Bounds> {
        let n = self.subprogs.len();
        let mut b: Vec<Bounds> = (0..n)
            .map(|i| Bounds { frames: 1, depth: self.frame_size(i), tail: self.subprogs[i].has_tail_call.then_some(0) })
            .collect();
        let mut edges: Vec<(usize, usize)> =
            calls.iter().enumerate().flat_map(|(i, c)| c.iter().map(move |&(_, callee)| (i, callee))).collect();
        edges.sort_unstable();
        edges.dedup();
        let mut changed = true;
        while changed {
            changed = false;
            for &(caller, callee) in &edges {
                let own = self.frame_size(caller);
                let c = b[callee];
                let mut new = b[caller];
                new.frames = new.frames.max((c.frames + 1).min(CAP));
                new.depth = new.depth.max((own + c.depth).min(CAP));
                if let Some(t) = c.tail {
                    new.tail = Some(new.tail.unwrap_or(0).max((own + t).min(CAP)));
                }
                if new != b[caller] {
                    b[caller] = new;
                    changed = true;
                }
            }
        }
        b
    }

    /// `check_max_stack_depth` for the main program; records the deepest chain's frames.
    pub(super) fn check_max_stack_depth(&mut self) -> Result<(), Reject> {
        let calls: Vec<Vec<(usize, usize)>> = (0..self.subprogs.len()).map(|i| self.calls_of(i)).collect();
        let bounds = self.bounds(&calls);
        let max_frames = MAX_CALL_FRAMES as i32;
        self.max_frames = u32::try_from(bounds[0].frames.min(max_frames)).unwrap_or(1);

        // (subprogram, index into its calls to resume at)
        let mut ret: Vec<(usize, usize)> = Vec::new();
        let (mut idx, mut next) = (0usize, 0usize);
        let mut depth = 0i32;
        let mut frame = 0i32;
        let mut entering = true;
        loop {
            if entering {
                if idx != 0 && self.subprogs[idx].has_tail_call && depth >= TAIL_CALL_STACK {
                    bail!(
                        EACCES,
                        "tail_calls are not allowed when call stack of previous frames is %d bytes. Too large",
                        "tail_calls are not allowed when call stack of previous frames is {depth} bytes. Too large"
                    );
                }
                depth += self.frame_size(idx);
                if depth > STACK {
                    bail!(
                        EACCES,
                        "combined stack size of %d calls is %d. Too large",
                        "combined stack size of {} calls is {depth}. Too large",
                        frame + 1
                    );
                }
                entering = false;
            }
            let risky = calls[idx].iter().enumerate().skip(next).find(|(_, &(_, callee))| {
                let c = bounds[callee];
                frame + c.frames >= max_frames
                    || depth + c.depth > STACK
                    || (callee != 0 && c.tail.is_some_and(|t| depth + t >= TAIL_CALL_STACK))
            });
            match risky {
                Some((k, &(_, callee))) => {
                    ret.push((idx, k + 1));
                    idx = callee;
                    next = 0;
                    frame += 1;
                    if frame >= max_frames {
                        bail!(
                            E2BIG,
                            "the call stack of %d frames is too deep !",
                            "the call stack of {frame} frames is too deep !"
                        );
                    }
                    entering = true;
                }
                None => {
                    let Some((caller, resume)) = ret.pop() else { return Ok(()) };
                    depth -= self.frame_size(idx);
                    frame -= 1;
                    idx = caller;
                    next = resume;
                }
            }
        }
    }
}
