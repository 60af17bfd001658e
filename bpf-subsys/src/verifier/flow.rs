//! The dataflow pass: the state at the start of every basic block, met over all paths and
//! calls until nothing changes; branches whose condition compares known constants follow
//! only the edge taken (Linux does not verify code it proves dead either).
//!
//! Calls are summarised, not inlined: a subprogram's entry state is the meet of its callers'
//! `R1`-`R5` (everything else unwritten, a fresh stack, as Linux's `__check_func_call` sets
//! up a frame), and after a call the caller keeps `R6`-`R10` and its stack, has `R1`-`R5`
//! unwritten, and `R0` as the callee left it on all its exits. Callbacks (subprograms whose
//! address is taken) start with `R1`-`R5` written.

use alloc::vec;
use alloc::vec::Vec;

use super::exec::{Acc, Exec};
use super::helpers::VerifierOps;
use super::opcodes::*;
use super::state::{Reg, State};
use super::Verifier;
use crate::vm::MAX_CALL_FRAMES;

/// A straight-line run of instructions `[start, end)`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    pub start: usize,
    pub end: usize,
}

/// The result of the dataflow pass.
pub(super) struct Flow {
    pub blocks: Vec<Block>,
    /// The block starting at each instruction (`u32::MAX`: none).
    block_at: Vec<u32>,
    /// The state on entry to each block (`None`: never reached).
    pub entry: Vec<Option<State>>,
    /// The deepest frame index each subprogram runs at.
    pub frame_of: Vec<u32>,
}

/// Where control goes after the last instruction of a block.
pub(super) enum Exit {
    /// Fall through or jump to one instruction.
    Goto(usize),
    /// A conditional jump with both edges possible: fall through, target.
    Branch(usize, usize),
    /// A bpf-to-bpf call: callee's first instruction, return address.
    Call(usize, usize),
    /// `exit`.
    Return,
}

impl Flow {
    /// The block starting at `pc`.
    pub fn block_at(&self, pc: usize) -> Option<usize> {
        self.block_at.get(pc).copied().filter(|&b| b != u32::MAX).map(|b| b as usize)
    }

    /// Runs the dataflow pass (the program passed the structural checks).
    pub fn compute(v: &Verifier<'_>, ops: &dyn VerifierOps) -> Flow {
        let frame_of = frames(v);
        let (blocks, block_at) = blocks(v);
        let mut flow = Flow { entry: vec![None; blocks.len()], blocks, block_at, frame_of };
        let mut exec = Exec { v, ops, checking: false, frame_of: &[], acc: Acc::default() };
        let nsub = v.subprogs.len();
        let mut summary: Vec<Option<Reg>> = vec![None; nsub];
        let mut callers: Vec<Vec<usize>> = vec![Vec::new(); nsub];
        let mut work: Vec<usize> = Vec::new();
        let mut queued = vec![false; flow.blocks.len()];

        let mut main = State::entry();
        main.regs[1] = Reg::Init;
        flow.join(0, &main, &mut work, &mut queued);
        for s in v.subprogs.iter().filter(|s| s.is_callback) {
            let mut cb = State::entry();
            for r in 1..=5 {
                cb.regs[r] = Reg::Init;
            }
            flow.join(s.start, &cb, &mut work, &mut queued);
        }

        while let Some(b) = work.pop() {
            queued[b] = false;
            let Some(mut st) = flow.entry[b].clone() else { continue };
            let Block { start, end } = flow.blocks[b];
            let mut pc = start;
            loop {
                let before = st.clone();
                // The dataflow pass computes effects only; it reports nothing.
                let _ = exec.step(pc, &mut st);
                let next = v.next_pc(pc);
                if next < end {
                    pc = next;
                    continue;
                }
                match v.block_exit(pc, &exec, &before) {
                    Exit::Goto(to) => flow.join(to, &st, &mut work, &mut queued),
                    Exit::Branch(fall, to) => {
                        flow.join(fall, &st, &mut work, &mut queued);
                        flow.join(to, &st, &mut work, &mut queued);
                    }
                    Exit::Call(callee, ret) => {
                        flow.join(callee, &callee_entry(&before), &mut work, &mut queued);
                        let sub = v.subprog_of(callee);
                        if !callers[sub].contains(&b) {
                            callers[sub].push(b);
                        }
                        if let Some(r0) = summary[sub] {
                            flow.join(ret, &after_call(&st, r0), &mut work, &mut queued);
                        }
                    }
                    Exit::Return => {
                        let sub = v.subprog_of(pc);
                        let r0 = match st.regs[0] {
                            Reg::Stack(_) => Reg::Init,
                            r0 => r0,
                        };
                        let met = summary[sub].map_or(r0, |old| old.meet(r0).0);
                        if summary[sub] != Some(met) {
                            summary[sub] = Some(met);
                            for &caller in &callers[sub] {
                                if !queued[caller] {
                                    queued[caller] = true;
                                    work.push(caller);
                                }
                            }
                        }
                    }
                }
                break;
            }
        }
        flow
    }

    /// Meets `st` into the entry of the block at `pc`, queueing it if that changed it.
    fn join(&mut self, pc: usize, st: &State, work: &mut Vec<usize>, queued: &mut [bool]) {
        let Some(b) = self.block_at(pc) else { return };
        let changed = match &mut self.entry[b] {
            Some(old) => old.meet(st),
            slot @ None => {
                *slot = Some(st.clone());
                true
            }
        };
        if changed && !queued[b] {
            queued[b] = true;
            work.push(b);
        }
    }
}

/// A callee's state on entry from a caller in state `caller` (`set_callee_state`).
fn callee_entry(caller: &State) -> State {
    let mut st = State::entry();
    for r in 1..=5 {
        st.regs[r] = match caller.regs[r] {
            // The caller's stack is not followed into the callee.
            Reg::Stack(_) => Reg::Init,
            other => other,
        };
    }
    st
}

/// The caller's state after a call returning `r0` (`prepare_func_exit` and the caller-saved
/// registers).
fn after_call(caller: &State, r0: Reg) -> State {
    let mut st = caller.clone();
    st.regs[0] = r0;
    for r in 1..=5 {
        st.regs[r] = Reg::Uninit;
    }
    st
}

impl Verifier<'_> {
    /// The instruction after `pc` (an `ld_imm64` takes two slots).
    pub(super) fn next_pc(&self, pc: usize) -> usize {
        if self.insn(pc).opc == LD_IMM64 && !self.is_second_half(pc) {
            pc + 2
        } else {
            pc + 1
        }
    }

    /// Where control goes after `pc`, the last instruction of a block, in state `st` (the
    /// state before it).
    pub(super) fn block_exit(&self, pc: usize, exec: &Exec<'_, '_>, st: &State) -> Exit {
        let insn = self.insn(pc);
        let class = insn.opc & CLASS_MASK;
        let next = self.next_pc(pc);
        if class != CLASS_JMP && class != CLASS_JMP32 {
            return Exit::Goto(next);
        }
        let rel = |r: i32| usize::try_from(pc as i64 + i64::from(r) + 1).unwrap_or(usize::MAX);
        match insn.opc & OP_MASK {
            OP_EXIT => Exit::Return,
            OP_CALL if insn.src == PSEUDO_CALL => Exit::Call(rel(insn.imm), next),
            OP_CALL => Exit::Goto(next),
            OP_JA if class == CLASS_JMP32 => Exit::Goto(rel(insn.imm)),
            OP_JA => Exit::Goto(rel(i32::from(insn.off))),
            _ => {
                let to = rel(i32::from(insn.off));
                match exec.branch(&insn, st) {
                    Some(true) => Exit::Goto(to),
                    Some(false) => Exit::Goto(next),
                    None => Exit::Branch(next, to),
                }
            }
        }
    }
}

/// The basic blocks: leaders are the first instruction, subprogram starts, jump targets and
/// the instructions after jumps, calls and exits (and after a targeted `ld_imm64` second
/// slot, which is then a one-slot block of its own).
fn blocks(v: &Verifier<'_>) -> (Vec<Block>, Vec<u32>) {
    let n = v.len();
    let mut leader = vec![false; n + 1];
    leader[0] = true;
    for s in &v.subprogs {
        leader[s.start] = true;
    }
    let mut pc = 0;
    while pc < n {
        let insn = v.insn(pc);
        let class = insn.opc & CLASS_MASK;
        let next = v.next_pc(pc);
        if class == CLASS_JMP || class == CLASS_JMP32 {
            leader[next.min(n)] = true;
            let op = insn.opc & OP_MASK;
            let rel = match op {
                OP_CALL | OP_EXIT => None,
                OP_JA if class == CLASS_JMP32 => Some(insn.imm),
                _ => Some(i32::from(insn.off)),
            };
            if let Some(rel) = rel {
                if let Ok(to) = usize::try_from(pc as i64 + i64::from(rel) + 1) {
                    if to < n {
                        leader[to] = true;
                        if v.is_second_half(to) {
                            leader[to + 1] = true;
                        }
                    }
                }
            }
        }
        pc = next;
    }
    let mut blocks = Vec::new();
    let mut block_at = vec![u32::MAX; n];
    let starts: Vec<usize> = (0..n).filter(|&pc| leader[pc]).collect();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(n);
        block_at[start] = blocks.len() as u32;
        blocks.push(Block { start, end });
    }
    (blocks, block_at)
}

/// The deepest frame index of each subprogram over the call graph (calls and callback
/// references), capped at `MAX_CALL_FRAMES`.
fn frames(v: &Verifier<'_>) -> Vec<u32> {
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
