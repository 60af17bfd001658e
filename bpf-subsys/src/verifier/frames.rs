//! The deepest frame each subprogram runs at, from the call graph (calls and callback
//! references): the frame a callback root starts at, and `max_call_frames`.

use alloc::vec;
use alloc::vec::Vec;

use super::opcodes::*;
use super::Verifier;
use crate::vm::MAX_CALL_FRAMES;

/// The deepest frame index of each subprogram over the call graph (calls and callback
/// references), capped at `MAX_CALL_FRAMES`.
pub(super) fn frames(v: &Verifier<'_>) -> Vec<u32> {
    let mut edges = Vec::new();
    for pc in 0..v.len() {
        let insn = v.insn(pc);
        let call = insn.opc == CLASS_JMP | OP_CALL && insn.src == PSEUDO_CALL;
        let func = insn.opc == LD_IMM64 && insn.src == PSEUDO_FUNC && !v.is_second_half(pc);
        if call || func {
            let target = usize::try_from(pc as i64 + i64::from(insn.imm) + 1).ok();
            if let Some(callee) = target.and_then(|t| v.subprog_at(t)) {
                edges.push((v.subprog_of(pc), callee));
            }
        }
    }
    let cap = MAX_CALL_FRAMES as u32;
    let mut frame = vec![0u32; v.subprogs.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for &(caller, callee) in &edges {
            let want = (frame[caller] + 1).min(cap);
            if frame[callee] < want {
                frame[callee] = want;
                changed = true;
            }
        }
    }
    frame
}
