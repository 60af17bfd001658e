//! Path-sensitive exploration (Linux `do_check`): one path at a time, depth first, with the
//! other edge of every undecided conditional jump pushed on a stack of pending states
//! (`push_stack`/`pop_stack`). At prune points (conditional jumps, jump targets, the
//! instruction after a call or a `ja`) the state is compared with the fully explored states
//! seen there (`is_state_visited`): a state contained in one of them ends the path. A state
//! identical to one still being explored on the same path is an infinite loop. At most
//! `BPF_COMPLEXITY_LIMIT_INSNS` instructions are processed.
//!
//! The level-1 trace is Linux's: `N: (code) text` per instruction, preceded by the
//! registers and stack slots the previous instruction touched (`state_log.rs`), reset to
//! the branch point when a path ends, `N: safe` / `from N to M: safe` for pruned paths.
//!
//! Statistics (`print_verification_stats`): `total_states` counts the checkpoints kept,
//! `peak_states` the most kept at once (the same number: none is ever freed here),
//! `max_states_per_insn` the most checkpoints compared at one visit that did not prune.

use alloc::collections::BTreeMap;
use alloc::string::String;
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
use super::state::{Frame, Reg, State, SLOTS};
use super::state_log::{self, Scratch, Written};
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
    /// Per frame, what was written since the latest checkpoint (kept only when tracing).
    written: Vec<Written>,
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
    /// Touched since the last state print (Linux keeps this in the env, not the path).
    scratch: Scratch,
    /// Log length after the last instruction line, and that line's length
    /// (`prev_log_len`, `prev_insn_print_len`).
    prev_log_len: u32,
    prev_insn_len: u32,
    /// Most checkpoints compared at one visit that did not prune.
    max_states_per_insn: u32,
}

/// What a visit of a prune point decided.
enum Visit {
    Prune,
    /// Go on with this parent; `true`: a new checkpoint was added.
    Go(Option<u32>, bool),
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
        self.max_states_per_insn = self.max_states_per_insn.max(ids.len() as u32);
        if !add || ids.len() >= MAX_STATES_PER_INSN {
            return Ok(Visit::Go(parent, false));
        }
        self.prev = (self.processed, self.jmps);
        let id = self.cps.len() as u32;
        self.cps.push(Checkpoint { st: st.clone(), parent, branches: 1 });
        self.explored.entry(pc).or_default().push(id);
        Ok(Visit::Go(Some(id), true))
    }

    /// Explores `path` until it ends; undecided branches are pushed.
    fn follow(&mut self, path: Path, log: &mut VerifierLog) -> Result<(), Reject> {
        let Path { mut pc, mut st, mut parent, pushed, mut written } = path;
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
                        self.scratch = Scratch::ALL;
                        self.path_done(parent);
                        return Ok(());
                    }
                    Visit::Go(p, added) => {
                        parent = p;
                        if added {
                            // The new checkpoint's children start with no live marks.
                            written.iter_mut().for_each(Written::checkpoint);
                        }
                    }
                }
            }
            if first {
                if let Some((_, from)) = pushed {
                    if log.has(BPF_LOG_LEVEL2) {
                        let mut line = String::new();
                        self.state_text(&mut line, &st, &written, false);
                        log.write_fmt(format_args!("\nfrom {from} to {pc}:{line}\n"));
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
            let tracing = Self::trace(log);
            if tracing {
                if self.scratch.any() {
                    self.print_insn_state(log, pc, &st, &written);
                }
                let insn = v.insn(pc);
                let text = Disasm { insn: &insn, next_imm: v.imm_at(pc + 1), show_ptrs: v.input.privileged };
                self.prev_log_len = log.len_used();
                log.write_fmt(format_args!("{pc}: {text}"));
                self.prev_insn_len = log.len_used() - self.prev_log_len;
                self.prev_log_len = log.len_used();
            }
            let before = tracing.then(|| (st.frames.len(), st.cur().clone()));
            let next = self.exec.step(pc, &mut st)?;
            if let Some((depth, frame)) = before {
                let old_w = written.last().copied().unwrap_or_default();
                self.touch(pc, depth, &frame, &st, &mut written);
                if depth != st.frames.len() {
                    let ret = match next {
                        Next::Pc(to) => to,
                        _ => pc,
                    };
                    self.print_call(log, (depth, &frame, old_w), &st, &written, ret);
                }
            }
            match next {
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
                    self.stack.push(Path { pc: target, st: *other, parent, pushed, written: written.clone() });
                    pc = fall;
                }
                Next::Done => {
                    self.scratch = Scratch::ALL;
                    self.path_done(parent);
                    return Ok(());
                }
            }
        }
    }
}

impl Explorer<'_, '_> {
    /// `print_verifier_state` of the current frame: everything, or only what is scratched.
    fn state_text(&self, out: &mut String, st: &State, written: &[Written], scratched_only: bool) {
        let frameno = st.frames.len() - 1;
        let w = written.get(frameno).copied().unwrap_or_default();
        let scratch = scratched_only.then_some(&self.scratch);
        state_log::frame_state(out, st.cur(), frameno, scratch, &w, self.exec.v.input.privileged);
    }

    /// `print_insn_state`: the scratched state on the previous instruction's line when
    /// nothing came after it, else on a line of its own; then nothing is scratched.
    fn print_insn_state(&mut self, log: &mut VerifierLog, pc: usize, st: &State, written: &[Written]) {
        let mut line = String::new();
        if self.prev_log_len != 0 && self.prev_log_len == log.len_used() {
            log.reset(self.prev_log_len - 1);
            line.extend(core::iter::repeat_n(' ', state_log::alignment(self.prev_insn_len)));
            line.push(';');
        } else {
            line = alloc::format!("{pc}:");
        }
        self.state_text(&mut line, st, written, true);
        line.push('\n');
        log.write_str(&line);
        self.scratch = Scratch::default();
    }

    /// The full states Linux prints at a bpf-to-bpf call (`caller:` / `callee:`) and return
    /// (`returning from callee:` / `to caller at N:`), at every log level.
    fn print_call(
        &self,
        log: &mut VerifierLog,
        (depth, old, old_w): (usize, &Frame, Written),
        st: &State,
        written: &[Written],
        ret: usize,
    ) {
        let privileged = self.exec.v.input.privileged;
        let mut text = String::new();
        let frame = |text: &mut String, f: &Frame, no: usize, w: Written| {
            state_log::frame_state(text, f, no, None, &w, privileged);
            text.push('\n');
        };
        let w = |no: usize| written.get(no).copied().unwrap_or_default();
        let now = st.frames.len();
        if now > depth {
            text.push_str("caller:\n");
            if let Some(caller) = st.frames.get(now.saturating_sub(2)) {
                // Linux has made R0-R5 of the caller NOT_INIT by now.
                let mut caller = caller.clone();
                caller.regs[..6].fill(Reg::Uninit);
                frame(&mut text, &caller, now.saturating_sub(2), w(now.saturating_sub(2)));
            }
            text.push_str("callee:\n");
            frame(&mut text, st.cur(), now - 1, w(now - 1));
        } else {
            text.push_str("returning from callee:\n");
            frame(&mut text, old, depth - 1, old_w);
            text.push_str(&alloc::format!("to caller at {ret}:\n"));
            frame(&mut text, st.cur(), now - 1, w(now - 1));
        }
        log.write_str(&text);
    }

    /// Marks what the instruction at `pc` touched (`mark_reg_scratched`,
    /// `mark_stack_slot_scratched`) and wrote (`REG_LIVE_WRITTEN`); `depth` and `frame`:
    /// the frame count and current frame before it.
    fn touch(&mut self, pc: usize, depth: usize, frame: &Frame, st: &State, written: &mut Vec<Written>) {
        let insn = self.exec.v.insn(pc);
        let (dst, src) = (1u16 << (insn.dst & 15), 1u16 << (insn.src & 15));
        let x = insn.opc & SRC_X != 0;
        let caller_saved = 0b11_1111;
        let (regs, wrote) = match insn.opc & CLASS_MASK {
            CLASS_ALU | CLASS_ALU64 => {
                let op = insn.opc & OP_MASK;
                (if x && op != OP_END && op != OP_NEG { dst | src } else { dst }, dst)
            }
            CLASS_LDX => (dst | src, dst),
            CLASS_STX if insn.opc & MODE_MASK == MODE_ATOMIC => {
                let fetch = if insn.imm & 1 != 0 { src } else { 0 };
                let r0 = if insn.imm == 0xf1 { 1 } else { 0 };
                (dst | src | r0, fetch | r0)
            }
            CLASS_STX => (dst | src, 0),
            CLASS_ST => (dst, 0),
            CLASS_LD if insn.opc == LD_IMM64 => (dst, dst),
            CLASS_LD => ((1 << 6) | if insn.opc & MODE_MASK == MODE_IND { src } else { 0 } | caller_saved, 1),
            _ => match insn.opc & OP_MASK {
                OP_JA => (0, 0),
                OP_CALL => (caller_saved, 1),
                OP_EXIT => (1, 1),
                _ => (if x { dst | src } else { dst }, 0),
            },
        };
        self.scratch.regs |= regs;
        let depth_now = st.frames.len();
        let args = written.last().map_or(0, |w| w.regs & 0b11_1110);
        written.resize(depth_now, Written::default());
        if depth_now > depth {
            // Into a callee: R1-R5 come with the caller's marks (`set_callee_state`).
            if let Some(w) = written.last_mut() {
                *w = Written { regs: args, ..Written::default() };
            }
            return;
        }
        let Some(w) = written.last_mut() else { return };
        w.regs |= wrote;
        if depth_now < depth {
            return;
        }
        let dw_store = matches!(insn.opc & CLASS_MASK, CLASS_ST | CLASS_STX) && insn.opc & SIZE_MASK == SIZE_DW;
        let st_imm = insn.opc & CLASS_MASK == CLASS_ST;
        let cur = st.cur();
        for spi in 0..SLOTS {
            if cur.stack[SLOTS - 1 - spi] != frame.stack[SLOTS - 1 - spi] {
                self.scratch.slots |= 1 << spi;
                if dw_store {
                    w.slots |= 1 << spi;
                }
                if st_imm {
                    w.imm |= 1 << spi;
                } else {
                    w.imm &= !(1 << spi);
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
                scratch: Scratch::ALL,
                prev_log_len: 0,
                prev_insn_len: 0,
                max_states_per_insn: 0,
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
                x.scratch = Scratch::ALL;
                x.stack.push(Path { pc: start, st, parent: None, pushed: None, written: vec![Written::default()] });
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
            let states = x.cps.len() as u32;
            (result, x.exec.acc, (x.processed, x.max_states_per_insn, states))
        };
        let (processed, max_states_per_insn, states) = processed;
        self.insns_processed = processed;
        self.max_states_per_insn = max_states_per_insn;
        self.total_states = states;
        for (s, depth) in self.subprogs.iter_mut().zip(acc.stack_depth) {
            s.stack_depth = depth;
        }
        self.helpers_used = acc.helpers;
        self.max_frames = acc.max_frames;
        result
    }
}
