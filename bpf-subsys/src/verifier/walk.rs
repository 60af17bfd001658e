//! The check pass: every reachable instruction is checked once against the dataflow
//! states, in the order Linux's `do_check` would first reach it (fall-through before the
//! jump target, into a callee at the call, back to the caller at its `exit`), writing
//! Linux's level-1 trace: `N: (code) text` per instruction, reset to the branch point when a
//! path ends.
//!
//! Reference: Linux 6.1 `kernel/bpf/verifier.c` `do_check`, `push_stack`, `pop_stack`,
//! `bpf_vlog_reset`; `is_state_visited` for the `N: safe` lines (here: a block already
//! checked).

use alloc::vec;
use alloc::vec::Vec;

use super::disasm::Disasm;
use super::exec::{Acc, Exec};
use super::flow::{Exit, Flow};
use super::helpers::VerifierOps;
use super::log::{VerifierLog, BPF_LOG_LEVEL1, BPF_LOG_LEVEL2};
use super::{Reject, Verifier};

/// A path to check later (`struct bpf_verifier_stack_elem`).
struct Item {
    /// Instruction to continue at.
    pc: usize,
    /// Return addresses of the active calls.
    frames: Vec<usize>,
    /// Log length when it was pushed, and the jump that pushed it.
    pushed: Option<(u32, usize)>,
}

struct Walker<'a, 'v> {
    exec: Exec<'a, 'v>,
    flow: &'a Flow,
    visited: Vec<bool>,
    stack: Vec<Item>,
    processed: u32,
}

impl Walker<'_, '_> {
    fn trace(&self, log: &VerifierLog) -> bool {
        log.has(BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2)
    }

    /// Checks one path from `item` until it ends (exit of the root, a block already
    /// checked, or a dead edge).
    fn follow(&mut self, item: Item, log: &mut VerifierLog) -> Result<(), Reject> {
        let Item { mut pc, mut frames, pushed } = item;
        if let Some((pos, from)) = pushed {
            if !log.has(BPF_LOG_LEVEL2) {
                log.reset(pos);
            }
            if self.flow.block_at(pc).is_some_and(|b| self.visited[b]) {
                if self.trace(log) {
                    log.write_fmt(format_args!("\nfrom {from} to {pc}: safe\n"));
                }
                return Ok(());
            }
            if log.has(BPF_LOG_LEVEL2) {
                log.write_fmt(format_args!("\nfrom {from} to {pc}:\n"));
            }
        }
        loop {
            let Some(b) = self.flow.block_at(pc) else { return Ok(()) };
            if self.visited[b] {
                return Ok(());
            }
            let Some(mut st) = self.flow.entry[b].clone() else { return Ok(()) };
            self.visited[b] = true;
            let block = self.flow.blocks[b];
            let v = self.exec.v;
            let mut at = block.start;
            let before = loop {
                if self.trace(log) {
                    let insn = v.insn(at);
                    let text = Disasm { insn: &insn, next_imm: v.imm_at(at + 1), show_ptrs: v.input.privileged };
                    log.write_fmt(format_args!("{at}: {text}"));
                }
                self.processed += 1;
                let before = st.clone();
                self.exec.step(at, &mut st)?;
                let next = v.next_pc(at);
                if next >= block.end {
                    break before;
                }
                at = next;
            };
            let to = match v.block_exit(at, &self.exec, &before) {
                Exit::Goto(to) => to,
                Exit::Branch(fall, to) => {
                    let pushed = Some((log.len_used(), at));
                    self.stack.push(Item { pc: to, frames: frames.clone(), pushed });
                    fall
                }
                Exit::Call(callee, ret) => {
                    let fresh = self.flow.block_at(callee).is_some_and(|cb| !self.visited[cb]);
                    if fresh {
                        frames.push(ret);
                        callee
                    } else {
                        ret
                    }
                }
                Exit::Return => match frames.pop() {
                    Some(ret) => ret,
                    None => return Ok(()),
                },
            };
            let seen = self.flow.block_at(to).is_some_and(|nb| self.visited[nb]);
            if seen && self.trace(log) {
                log.write_fmt(format_args!("{to}: safe\n"));
            }
            pc = to;
        }
    }
}

impl Verifier<'_> {
    /// The check pass over the main program, then over callbacks not reached from it.
    pub(super) fn walk(&mut self, flow: &Flow, ops: &dyn VerifierOps, log: &mut VerifierLog) -> Result<(), Reject> {
        let roots: Vec<usize> =
            core::iter::once(0).chain(self.subprogs.iter().filter(|s| s.is_callback).map(|s| s.start)).collect();
        let acc = Acc { stack_depth: vec![0; self.subprogs.len()], helpers: Vec::new() };
        let (result, acc, processed) = {
            let exec = Exec { v: &*self, ops, checking: true, frame_of: &flow.frame_of, acc };
            let mut w = Walker { exec, flow, visited: vec![false; flow.blocks.len()], stack: Vec::new(), processed: 0 };
            let mut result = Ok(());
            for (i, &root) in roots.iter().enumerate() {
                if flow.block_at(root).is_some_and(|b| w.visited[b]) {
                    continue;
                }
                if i > 0 && !log.has(BPF_LOG_LEVEL2) {
                    log.reset(0);
                }
                w.stack.push(Item { pc: root, frames: Vec::new(), pushed: None });
                while let Some(item) = w.stack.pop() {
                    result = w.follow(item, log);
                    if result.is_err() {
                        break;
                    }
                }
                if result.is_err() {
                    break;
                }
            }
            (result, w.exec.acc, w.processed)
        };
        self.insns_processed = processed;
        for (s, depth) in self.subprogs.iter_mut().zip(acc.stack_depth) {
            s.stack_depth = depth;
        }
        self.helpers_used = acc.helpers;
        result
    }
}
