//! The interpreter: a run's state ([`Machine`]) and its loop, one `match` over the opcode
//! per instruction, in the structure of rbpf's `interpreter.rs`.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::alu::{alu32, alu64, cond32, cond64, endian, lo32, sext16, sext32};
use super::env::{ActiveRun, Env, Program, TailCall};
use super::insn::*;
use super::memory::{self, len_of, AtomicOp, Region, Stack, Width};
use super::{Limits, VmError, VmErrorKind, MAX_CALL_FRAMES, MAX_TAIL_CALL_CNT};

/// A program run: the code, the context, extra regions and limits. Build it with
/// [`Vm::new`] and the setters, then [`Vm::run`] it (as often as wanted, also from several
/// threads at once).
#[derive(Clone, Debug)]
pub struct Vm<'a> {
    code: &'a [RawInsn],
    ctx: Option<Region<'a>>,
    regions: &'a [Region<'a>],
    args: [u64; 5],
    limits: Limits,
}

impl<'a> Vm<'a> {
    /// A run of `code` (relocated instructions) with no context, no regions, `R1`–`R5` = 0
    /// and [`Limits::default`].
    pub fn new(code: &'a [RawInsn]) -> Self {
        Vm { code, ctx: None, regions: &[], args: [0; 5], limits: Limits::default() }
    }

    /// The context: `R1` points to it, the program may access it within its length (and
    /// write it only if it is writable).
    pub fn context(mut self, ctx: Region<'a>) -> Self {
        self.args[0] = ctx.addr();
        self.ctx = Some(ctx);
        self
    }

    /// Extra memory the program may access (a test's packet, a perf sample's raw data).
    pub fn regions(mut self, regions: &'a [Region<'a>]) -> Self {
        self.regions = regions;
        self
    }

    /// Sets `R1`–`R5` at entry (overriding the `R1` that [`Vm::context`] set).
    pub fn args(mut self, args: [u64; 5]) -> Self {
        self.args = args;
        self
    }

    /// Sets the limits of the run.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Runs the program to its outermost `exit` and returns `R0`, or the reason it stopped.
    pub fn run(&self, env: &mut dyn Env) -> Result<u64, VmError> {
        let mut m = Machine {
            code: Code::Borrowed(self.code),
            ctx: self.ctx,
            regions: self.regions,
            stacks: Vec::new(),
            frames: Vec::new(),
            budget: self.limits.insn_budget,
            tail_calls: 0,
            fault: None,
        };
        let stack_top = m.enter_frame(0).map_err(|kind| VmError::at(0, kind))?;
        let mut reg = [0u64; 11];
        reg[1..=5].copy_from_slice(&self.args);
        reg[10] = stack_top;
        m.exec(env, 0, &mut reg, 0)
    }
}

/// The program a frame runs: the one the run started with, or one a tail call reached.
#[derive(Clone)]
enum Code<'a> {
    Borrowed(&'a [RawInsn]),
    Shared(Arc<dyn Program>),
}

impl Code<'_> {
    fn insns(&self) -> &[RawInsn] {
        match self {
            Code::Borrowed(insns) => insns,
            Code::Shared(prog) => prog.insns(),
        }
    }
}

/// What a bpf-to-bpf call (or a callback) saves of its caller.
struct Frame<'a> {
    /// Where `exit` resumes the caller (unused for a callback frame).
    ret_pc: usize,
    /// The caller's `R6`–`R9`.
    saved: [u64; 4],
    /// The caller's program (a tail call in the callee replaces only the callee's).
    code: Code<'a>,
}

/// The state of one run.
struct Machine<'a> {
    /// The program of the current frame.
    code: Code<'a>,
    ctx: Option<Region<'a>>,
    regions: &'a [Region<'a>],
    /// `stacks[i]` belongs to frame `i`; allocated when a frame that deep is first entered.
    stacks: Vec<Stack>,
    /// Call records; the current frame's index is `frames.len()`.
    frames: Vec<Frame<'a>>,
    /// Instructions left to execute.
    budget: u64,
    tail_calls: u32,
    /// The first error of a callback, kept so that a helper cannot swallow it.
    fault: Option<VmError>,
}

/// Whether an instruction's `src` field is not a register (but a call kind or an
/// `ld_imm64` pseudo source).
fn src_is_selector(opc: u8) -> bool {
    opc == CALL || opc == LD_DW_IMM
}

/// `pc + off`, checked against the program's length.
fn jump(pc: usize, off: i64, len: usize, at: usize) -> Result<usize, VmError> {
    let target = i64::try_from(pc).ok().and_then(|pc| pc.checked_add(off));
    match target.and_then(|t| usize::try_from(t).ok()) {
        Some(t) if t < len => Ok(t),
        _ => Err(VmError::at(at, VmErrorKind::PcOutOfRange { target: target.unwrap_or(i64::MAX) })),
    }
}

impl<'a> Machine<'a> {
    /// Makes sure frame `index` has a stack; returns its frame pointer.
    fn enter_frame(&mut self, index: usize) -> Result<u64, VmErrorKind> {
        if index >= MAX_CALL_FRAMES {
            return Err(VmErrorKind::CallDepth);
        }
        while self.stacks.len() <= index {
            self.stacks.try_reserve(MAX_CALL_FRAMES).map_err(|_| VmErrorKind::NoMemory)?;
            self.stacks.push(Stack::new().ok_or(VmErrorKind::NoMemory)?);
        }
        self.stacks.get(index).map(Stack::top).ok_or(VmErrorKind::NoMemory)
    }

    /// Saves the caller and enters a new frame; returns the new frame pointer.
    fn push_frame(&mut self, ret_pc: usize, reg: &[u64; 11]) -> Result<u64, VmErrorKind> {
        let top = self.enter_frame(self.frames.len() + 1)?;
        if self.frames.capacity() == 0 {
            self.frames.try_reserve_exact(MAX_CALL_FRAMES).map_err(|_| VmErrorKind::NoMemory)?;
        }
        let saved = [reg[6], reg[7], reg[8], reg[9]];
        self.frames.push(Frame { ret_pc, saved, code: self.code.clone() });
        Ok(top)
    }

    /// The frame pointer of the current frame.
    fn frame_pointer(&self) -> u64 {
        self.stacks.get(self.frames.len()).map_or(0, Stack::top)
    }

    /// Whether `len` bytes at `addr` are the run's own memory (see [`ActiveRun::region_ok`]).
    fn own_memory(&self, addr: u64, len: u64, write: bool) -> bool {
        self.ctx.is_some_and(|ctx| ctx.contains(addr, len, write))
            || self.regions.iter().any(|r| r.contains(addr, len, write))
            || self.stacks.iter().take(self.frames.len() + 1).any(|s| s.contains(addr, len))
    }

    /// Checks an access of the program and returns the address to use.
    fn check(&self, env: &dyn Env, addr: u64, len: u64, write: bool, at: usize) -> Result<usize, VmError> {
        if self.own_memory(addr, len, write) || env.mem_ok(addr, len, write) {
            if let Ok(addr) = usize::try_from(addr) {
                return Ok(addr);
            }
        }
        Err(VmError::at(at, VmErrorKind::MemoryAccess { addr, len, write }))
    }

    /// Calls helper `id` with `R1`–`R5`.
    fn call_helper(&mut self, env: &mut dyn Env, id: u32, reg: &[u64; 11], at: usize) -> Result<u64, VmError> {
        let args = [reg[1], reg[2], reg[3], reg[4], reg[5]];
        let result = env.call_helper(id, args, self);
        // A callback's error ends the run even if the helper returned something else.
        let result = match self.fault.take() {
            Some(fault) => Err(fault),
            None => result,
        };
        result.map_err(|mut e| {
            e.pc.get_or_insert(at);
            e
        })
    }

    /// `bpf_tail_call(ctx, R2 = map, R3 = index)`; returns whether the program changed.
    fn tail_call(&mut self, env: &mut dyn Env, reg: &[u64; 11]) -> bool {
        if self.tail_calls >= MAX_TAIL_CALL_CNT {
            return false;
        }
        match env.tail_call(reg[2], lo32(reg[3])) {
            TailCall::OutOfRange => false,
            TailCall::Empty => {
                self.tail_calls += 1;
                false
            }
            TailCall::Program(prog) => {
                self.tail_calls += 1;
                self.code = Code::Shared(prog);
                true
            }
        }
    }

    /// Runs from `pc` in the current frame until the frame at depth `base` exits.
    fn exec(&mut self, env: &mut dyn Env, mut pc: usize, reg: &mut [u64; 11], base: usize) -> Result<u64, VmError> {
        let mut last = pc;
        loop {
            let at = pc;
            let len = self.code.insns().len();
            let Some(raw) = self.code.insns().get(pc).copied() else {
                let target = i64::try_from(pc).unwrap_or(i64::MAX);
                return Err(VmError::at(last, VmErrorKind::PcOutOfRange { target }));
            };
            last = pc;
            if self.budget == 0 {
                return Err(VmError::at(at, VmErrorKind::BudgetExceeded));
            }
            self.budget -= 1;
            let insn = decode(&raw);
            let invalid = VmError::at(at, VmErrorKind::InvalidInsn { opcode: insn.opc });
            if insn.dst > 10 || (insn.src > 10 && !src_is_selector(insn.opc)) {
                return Err(invalid);
            }
            let (dst, src) = (usize::from(insn.dst), usize::from(insn.src));
            pc += 1;

            match insn.opc & BPF_CLS_MASK {
                BPF_ALU | BPF_ALU64 => {
                    let op = insn.opc & BPF_ALU_OP_MASK;
                    let by_reg = insn.opc & BPF_X != 0;
                    reg[dst] = if op == BPF_END {
                        endian(insn.opc, insn.imm, reg[dst])
                    } else if insn.opc & BPF_CLS_MASK == BPF_ALU64 {
                        let s = if by_reg { reg[src] } else { sext32(insn.imm) };
                        alu64(op, insn.off, by_reg, reg[dst], s)
                    } else {
                        let s = if by_reg { lo32(reg[src]) } else { lo32(sext32(insn.imm)) };
                        alu32(op, insn.off, by_reg, lo32(reg[dst]), s).map(u64::from)
                    }
                    .ok_or(invalid)?;
                }

                BPF_JMP | BPF_JMP32 => match insn.opc {
                    JA => pc = jump(pc, i64::from(insn.off), len, at)?,
                    JA32 => pc = jump(pc, i64::from(insn.imm), len, at)?,
                    CALL => match insn.src {
                        0 if u32s_imm(insn.imm) == BPF_FUNC_TAIL_CALL => {
                            if self.tail_call(env, reg) {
                                pc = 0;
                            }
                        }
                        0 => reg[0] = self.call_helper(env, u32s_imm(insn.imm), reg, at)?,
                        BPF_PSEUDO_CALL => {
                            let target = jump(pc, i64::from(insn.imm), len, at)?;
                            reg[10] = self.push_frame(pc, reg).map_err(|kind| VmError::at(at, kind))?;
                            pc = target;
                        }
                        BPF_PSEUDO_KFUNC_CALL => {
                            return Err(VmError::at(at, VmErrorKind::Unsupported { opcode: insn.opc }))
                        }
                        _ => return Err(invalid),
                    },
                    CALLX => {
                        // The conformance suite's (uBPF's) meaning: a helper whose id is in dst.
                        let id = u32::try_from(reg[dst])
                            .map_err(|_| VmError::at(at, VmErrorKind::UnknownHelper { id: u32::MAX }))?;
                        reg[0] = self.call_helper(env, id, reg, at)?;
                    }
                    EXIT => {
                        if self.frames.len() <= base {
                            return Ok(reg[0]);
                        }
                        let Some(frame) = self.frames.pop() else { return Ok(reg[0]) };
                        reg[6..=9].copy_from_slice(&frame.saved);
                        self.code = frame.code;
                        reg[10] = self.frame_pointer();
                        pc = frame.ret_pc;
                    }
                    _ => {
                        let op = insn.opc & BPF_ALU_OP_MASK;
                        let by_reg = insn.opc & BPF_X != 0;
                        let taken = if insn.opc & BPF_CLS_MASK == BPF_JMP {
                            cond64(op, reg[dst], if by_reg { reg[src] } else { sext32(insn.imm) })
                        } else {
                            let b = if by_reg { lo32(reg[src]) } else { lo32(sext32(insn.imm)) };
                            cond32(op, lo32(reg[dst]), b)
                        }
                        .ok_or(invalid)?;
                        if taken {
                            pc = jump(pc, i64::from(insn.off), len, at)?;
                        }
                    }
                },

                BPF_LD => match insn.opc {
                    LD_DW_IMM => {
                        let Some(next) = self.code.insns().get(pc).map(decode) else { return Err(invalid) };
                        if next.opc != 0 {
                            return Err(invalid);
                        }
                        reg[dst] = u64::from(lo32(sext32(insn.imm))) | (u64::from(lo32(sext32(next.imm))) << 32);
                        pc += 1;
                    }
                    opc if is_legacy_packet_load(opc) => {
                        return Err(VmError::at(at, VmErrorKind::Unsupported { opcode: opc }))
                    }
                    _ => return Err(invalid),
                },

                BPF_LDX => {
                    let signed = match insn.opc & 0xe0 {
                        BPF_MEM => false,
                        BPF_MEMSX if Width::of(insn.opc) != Width::DW => true,
                        _ => return Err(invalid),
                    };
                    let width = Width::of(insn.opc);
                    let addr = reg[src].wrapping_add(sext16(insn.off));
                    let p = self.check(&*env, addr, width.bytes(), false, at)?;
                    // SAFETY: `check` verified that the bytes are readable.
                    let value = unsafe { memory::load(p, width) };
                    reg[dst] = if signed { width.sign_extend(value) } else { value };
                }

                BPF_ST | BPF_STX => {
                    let width = Width::of(insn.opc);
                    let addr = reg[dst].wrapping_add(sext16(insn.off));
                    match insn.opc & 0xe0 {
                        BPF_MEM => {
                            let stx = insn.opc & BPF_CLS_MASK == BPF_STX;
                            let value = if stx { reg[src] } else { sext32(insn.imm) };
                            let p = self.check(&*env, addr, width.bytes(), true, at)?;
                            // SAFETY: `check` verified that the bytes are writable.
                            unsafe { memory::store(p, width, value) };
                        }
                        BPF_ATOMIC if insn.opc == ATOMIC_W || insn.opc == ATOMIC_DW => {
                            self.atomic(&*env, &insn, reg, addr, at)?
                        }
                        _ => return Err(invalid),
                    }
                }

                _ => return Err(invalid),
            }
        }
    }

    /// A `BPF_ATOMIC` instruction at `addr` (`dst + off`).
    fn atomic(&self, env: &dyn Env, insn: &Insn, reg: &mut [u64; 11], addr: u64, at: usize) -> Result<(), VmError> {
        let invalid = VmError::at(at, VmErrorKind::InvalidInsn { opcode: insn.opc });
        let src = usize::from(insn.src);
        let (op, fetch) = match insn.imm {
            BPF_XCHG => (AtomicOp::Xchg, true),
            BPF_CMPXCHG => (AtomicOp::Cmpxchg(reg[0]), true),
            imm => {
                let op = match imm & !BPF_FETCH {
                    0x00 => AtomicOp::Add,
                    0x40 => AtomicOp::Or,
                    0x50 => AtomicOp::And,
                    0xa0 => AtomicOp::Xor,
                    _ => return Err(invalid),
                };
                (op, imm & BPF_FETCH != 0)
            }
        };
        let wide = insn.opc == ATOMIC_DW;
        let size: u64 = if wide { 8 } else { 4 };
        let ptr = self.check(env, addr, size, true, at)?;
        if addr % size != 0 {
            return Err(VmError::at(at, VmErrorKind::MisalignedAtomic { addr }));
        }
        let old = if wide {
            // SAFETY: `check` verified the 8 bytes are writable, and `addr` is 8-aligned.
            unsafe { memory::atomic64(ptr, op, reg[src]) }
        } else {
            // SAFETY: as above, 4 bytes, 4-aligned.
            u64::from(unsafe { memory::atomic32(ptr, op, lo32(reg[src])) })
        };
        match op {
            AtomicOp::Cmpxchg(_) => reg[0] = old,
            _ if fetch => reg[src] = old,
            _ => {}
        }
        Ok(())
    }
}

/// A helper id from `imm` (the same 32 bits, unsigned).
fn u32s_imm(imm: i32) -> u32 {
    u32::from_ne_bytes(imm.to_ne_bytes())
}

impl Machine<'_> {
    /// Runs the subprogram at `insn` in a new frame until it returns (see
    /// [`ActiveRun::call_subprog`]).
    fn callback(&mut self, env: &mut dyn Env, insn: usize, args: [u64; 5]) -> Result<u64, VmError> {
        if insn >= self.code.insns().len() {
            let target = i64::try_from(insn).unwrap_or(i64::MAX);
            return Err(VmError::new(VmErrorKind::PcOutOfRange { target }));
        }
        let mut reg = [0u64; 11];
        reg[1..=5].copy_from_slice(&args);
        reg[10] = self.push_frame(usize::MAX, &reg).map_err(VmError::new)?;
        let base = self.frames.len();
        let result = self.exec(env, insn, &mut reg, base);
        // An error may leave deeper frames behind: drop them, then the callback's own record.
        self.frames.truncate(base);
        if let Some(frame) = self.frames.pop() {
            self.code = frame.code;
        }
        result
    }
}

impl ActiveRun for Machine<'_> {
    fn call_subprog(&mut self, env: &mut dyn Env, insn: usize, args: [u64; 5]) -> Result<u64, VmError> {
        let result = self.callback(env, insn, args);
        if let Err(e) = result {
            self.fault.get_or_insert(e);
        }
        result
    }

    fn region_ok(&self, addr: u64, len: u64, write: bool) -> bool {
        self.own_memory(addr, len, write)
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        match usize::try_from(addr) {
            Ok(p) if self.own_memory(addr, len_of(buf.len()), false) => {
                // SAFETY: the bytes lie in the run's own readable memory.
                unsafe { memory::copy_out(p, buf) };
                true
            }
            _ => false,
        }
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> bool {
        match usize::try_from(addr) {
            Ok(p) if self.own_memory(addr, len_of(data.len()), true) => {
                // SAFETY: the bytes lie in the run's own writable memory.
                unsafe { memory::copy_in(p, data) };
                true
            }
            _ => false,
        }
    }
}
