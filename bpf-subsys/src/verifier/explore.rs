//! Path-sensitive exploration (Linux `do_check`): one path at a time, depth first, with the
//! other edge of every undecided conditional jump pushed on a stack of pending states
//! (`push_stack`/`pop_stack`). At prune points (conditional jumps, jump targets, the
//! instruction after a call or a `ja`) the state is compared with the fully explored states
//! seen there (`is_state_visited`): a state contained in one of them ends the path. A state
//! identical to one still being explored on the same path is an infinite loop. At most
//! `BPF_COMPLEXITY_LIMIT_INSNS` instructions are processed.
//!
//! The level-1 trace is Linux's: `N: (code) text` per instruction, reset to the branch
//! point when a path ends, `N: safe` / `from N to M: safe` for pruned paths.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use syscall_abi::bpf::limits::BPF_COMPLEXITY_LIMIT_INSNS;

use super::disasm::Disasm;
use super::equiv::{same_regs, states_equal};
use super::exec::{Acc, Exec, Next};
use super::helpers::VerifierOps;
use super::liveness::{self, Live};
use super::log::{VerifierLog, BPF_LOG_LEVEL1, BPF_LOG_LEVEL2};
use super::opcodes::*;
use super::state::{Frame, Reg, State};
use super::{bail, Reject, Verifier};

/// Linux `BPF_COMPLEXITY_LIMIT_JMP_SEQ`: most pending branches.
const LIMIT_JMP_SEQ: usize = 8192;
/// Most states kept per instruction (Linux drops rarely hit ones; this keeps the first).
const MAX_STATES_PER_INSN: usize = 8;

/// A path to explore (`struct bpf_verifier_stack_elem`).
struct Path {
    pc: usize,
    st: State,
    /// The latest checkpoint on the path.
    parent: Option<u32>,
    /// Log length when it was pushed, and the jump that pushed it.
    pushed: Option<(u32, usize)>,
}

/// A state kept at a prune point.
struct Checkpoint {
    st: State,
    parent: Option<u32>,
    /// Paths still being explored from it (Linux `branches`); 0: fully explored.
    branches: u32,
}

struct Explorer<'a, 'v> {
    exec: Exec<'a, 'v>,
    live: Vec<Live>,
    prune: Vec<bool>,
    cps: Vec<Checkpoint>,
    explored: BTreeMap<usize, Vec<u32>>,
    stack: Vec<Path>,
    processed: u32,
    /// Conditional jumps with both edges explored.
    jmps: u32,
    /// `processed` and `jmps` when the last checkpoint was added.
    prev: (u32, u32),
}

/// What a visit of a prune point decided.
enum Visit {
    Prune,
    Go(Option<u32>),
}

impl Explorer<'_, '_> {
    fn trace(log: &VerifierLog) -> bool {
        log.has(BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2) && !log.is_full()
    }

    /// A path ended: its checkpoints lose a pending branch (`update_branch_counts`).
    fn path_done(&mut self, mut parent: Option<u32>) {
        while let Some(id) = parent {
            let Some(cp) = self.cps.get_mut(id as usize) else { return };
            cp.branches = cp.branches.saturating_sub(1);
            if cp.branches > 0 {
                return;
            }
            parent = cp.parent;
        }
    }

    /// `is_state_visited`.
    fn visit(&mut self, pc: usize, st: &State, parent: Option<u32>) -> Result<Visit, Reject> {
        let ids = self.explored.get(&pc).map(Vec::as_slice).unwrap_or(&[]);
        let mut add = true;
        for &id in ids {
            let Some(cp) = self.cps.get(id as usize) else { continue };
            if cp.branches > 0 {
                if same_regs(&cp.st, st) && states_equal(&cp.st, st, &self.live, pc) {
                    bail!(EINVAL, "infinite loop detected at insn %d", "infinite loop detected at insn {pc}");
                }
                // Inside a loop: a new state only now and then (Linux's heuristic).
                if self.jmps - self.prev.1 < 20 && self.processed - self.prev.0 < 100 {
                    add = false;
                }
                continue;
            }
            if states_equal(&cp.st, st, &self.live, pc) {
                return Ok(Visit::Prune);
            }
        }
        if !add || ids.len() >= MAX_STATES_PER_INSN {
            return Ok(Visit::Go(parent));
        }
        self.prev = (self.processed, self.jmps);
        let id = self.cps.len() as u32;
        self.cps.push(Checkpoint { st: st.clone(), parent, branches: 1 });
        self.explored.entry(pc).or_default().push(id);
        Ok(Visit::Go(Some(id)))
    }

    /// Explores `path` until it ends; undecided branches are pushed.
    fn follow(&mut self, path: Path, log: &mut VerifierLog) -> Result<(), Reject> {
        let Path { mut pc, mut st, mut parent, pushed } = path;
        let mut first = true;
        if let Some((pos, _)) = pushed {
            if !log.has(BPF_LOG_LEVEL2) {
                log.reset(pos);
            }
        }
        loop {
            if self.prune.get(pc).copied().unwrap_or(false) {
                match self.visit(pc, &st, parent)? {
                    Visit::Prune => {
                        if Self::trace(log) {
                            match pushed {
                                Some((_, from)) if first => {
                                    log.write_fmt(format_args!("\nfrom {from} to {pc}: safe\n"))
                                }
                                _ => log.write_fmt(format_args!("{pc}: safe\n")),
                            }
                        }
                        self.path_done(parent);
                        return Ok(());
                    }
                    Visit::Go(p) => parent = p,
                }
            }
            if first {
                if let Some((_, from)) = pushed {
                    if log.has(BPF_LOG_LEVEL2) {
                        log.write_fmt(format_args!("\nfrom {from} to {pc}:\n"));
                    }
                }
                first = false;
            }
            self.processed += 1;
            if self.processed > BPF_COMPLEXITY_LIMIT_INSNS {
                bail!(
                    E2BIG,
                    "BPF program is too large. Processed %d insn",
                    "BPF program is too large. Processed {} insn",
                    self.processed
                );
            }
            let v = self.exec.v;
            if Self::trace(log) {
                let insn = v.insn(pc);
                let text = Disasm { insn: &insn, next_imm: v.imm_at(pc + 1), show_ptrs: v.input.privileged };
                log.write_fmt(format_args!("{pc}: {text}"));
            }
            match self.exec.step(pc, &mut st)? {
                Next::Pc(to) => pc = to,
                Next::Branch { fall, target, other } => {
                    if self.stack.len() >= LIMIT_JMP_SEQ {
                        bail!(
                            E2BIG,
                            "The sequence of %d jumps is too complex.",
                            "The sequence of {} jumps is too complex.",
                            self.stack.len() + 1
                        );
                    }
                    if let Some(cp) = parent.and_then(|id| self.cps.get_mut(id as usize)) {
                        cp.branches += 1;
                    }
                    self.jmps += 1;
                    let pushed = Some((log.len_used(), pc));
                    self.stack.push(Path { pc: target, st: *other, parent, pushed });
                    pc = fall;
                }
                Next::Done => {
                    self.path_done(parent);
                    return Ok(());
                }
            }
        }
    }
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

    /// Where control may go after `pc` inside its subprogram (`usize::MAX`: nowhere).
    pub(super) fn successors(&self, pc: usize) -> [usize; 2] {
        let insn = self.insn(pc);
        let class = insn.opc & CLASS_MASK;
        let next = self.next_pc(pc);
        if class != CLASS_JMP && class != CLASS_JMP32 {
            return [next, usize::MAX];
        }
        let rel = |r: i32| usize::try_from(pc as i64 + i64::from(r) + 1).unwrap_or(usize::MAX);
        match insn.opc & OP_MASK {
            OP_EXIT => [usize::MAX; 2],
            OP_CALL => [next, usize::MAX],
            OP_JA if class == CLASS_JMP32 => [rel(insn.imm), usize::MAX],
            OP_JA => [rel(i32::from(insn.off)), usize::MAX],
            _ => [next, rel(i32::from(insn.off))],
        }
    }

    /// Prune points (Linux `mark_prune_point` in `check_cfg`).
    fn prune_points(&self) -> Vec<bool> {
        let n = self.len();
        let mut prune = vec![false; n + 1];
        let mut pc = 0;
        while pc < n {
            let insn = self.insn(pc);
            let class = insn.opc & CLASS_MASK;
            if class == CLASS_JMP || class == CLASS_JMP32 {
                let [a, b] = self.successors(pc);
                match insn.opc & OP_MASK {
                    OP_EXIT => {}
                    OP_CALL | OP_JA => {
                        prune[a.min(n)] = true;
                        prune[self.next_pc(pc).min(n)] = true;
                    }
                    _ => {
                        prune[pc] = true;
                        prune[b.min(n)] = true;
                    }
                }
            }
            pc = self.next_pc(pc);
        }
        prune
    }

    /// `do_check` over the main program, then over each callback as a root of its own.
    pub(super) fn explore(&mut self, ops: &dyn VerifierOps, log: &mut VerifierLog) -> Result<(), Reject> {
        let frame_of = super::frames::frames(self);
        let live = liveness::compute(self, ops);
        let prune = self.prune_points();
        let mut roots: Vec<(usize, usize)> = vec![(0, 0)];
        roots.extend(self.subprogs.iter().enumerate().filter(|(_, s)| s.is_callback).map(|(i, s)| (i, s.start)));
        let acc = Acc { stack_depth: vec![0; self.subprogs.len()], helpers: Vec::new(), next_id: 1, max_frames: 1 };
        let (result, acc, processed) = {
            let exec = Exec { v: &*self, ops, checking: true, acc };
            let mut x = Explorer {
                exec,
                live,
                prune,
                cps: Vec::new(),
                explored: BTreeMap::new(),
                stack: Vec::new(),
                processed: 0,
                jmps: 0,
                prev: (0, 0),
            };
            let mut result = Ok(());
            for (i, &(sub, start)) in roots.iter().enumerate() {
                if i > 0 && !log.has(BPF_LOG_LEVEL2) {
                    log.reset(0);
                }
                let base = frame_of.get(sub).copied().unwrap_or(0);
                let mut frame = Frame::entry(0, sub, 0);
                if i == 0 {
                    frame.regs[1] = if super::mem::typed_ctx(self.input.prog_type) {
                        Reg::Ptr(super::state::Ptr::new(super::state::Kind::Ctx))
                    } else {
                        Reg::Unknown
                    };
                } else {
                    for r in 1..=5 {
                        frame.regs[r] = Reg::Unknown;
                    }
                }
                x.exec.acc.max_frames = x.exec.acc.max_frames.max(base + 1);
                let st = State { frames: vec![frame], refs: Vec::new(), base_frame: base };
                x.stack.push(Path { pc: start, st, parent: None, pushed: None });
                while let Some(path) = x.stack.pop() {
                    result = x.follow(path, log);
                    if result.is_err() {
                        break;
                    }
                }
                if result.is_err() {
                    break;
                }
            }
            (result, x.exec.acc, x.processed)
        };
        self.insns_processed = processed;
        for (s, depth) in self.subprogs.iter_mut().zip(acc.stack_depth) {
            s.stack_depth = depth;
        }
        self.helpers_used = acc.helpers;
        self.max_frames = acc.max_frames;
        result
    }
}
