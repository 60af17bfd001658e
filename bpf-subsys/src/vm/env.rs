//! What the engine asks of the code around it: helpers, tail-call targets, and which memory
//! outside its own regions a program may touch ([`Env`]); and what a helper may ask of the
//! running program ([`ActiveRun`]).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::insn::RawInsn;
use super::VmError;

/// A program's instructions as the engine runs them (already relocated: `ld_imm64`
/// immediates are final 64-bit values). The loader's program object implements it, so an
/// `Arc` of it, returned by [`Env::tail_call`], keeps the program (and what it references)
/// alive while it runs.
pub trait Program: Send + Sync {
    /// The instructions.
    fn insns(&self) -> &[RawInsn];
}

impl Program for Vec<RawInsn> {
    fn insns(&self) -> &[RawInsn] {
        self
    }
}

impl Program for [RawInsn] {
    fn insns(&self) -> &[RawInsn] {
        self
    }
}

/// The answer to a `bpf_tail_call(ctx, map, index)`, mirroring Linux's order of checks
/// (`kernel/bpf/core.c`, `JMP_TAIL_CALL`): an index outside the array fails without
/// counting; otherwise the attempt counts against `MAX_TAIL_CALL_CNT`, even when the slot
/// is empty.
pub enum TailCall {
    /// `map` is not a program array of this program, or `index >= max_entries`.
    OutOfRange,
    /// The slot holds no program.
    Empty,
    /// The program in the slot: it replaces the running one.
    Program(Arc<dyn Program>),
}

/// The environment of a run: helpers, tail-call targets, extra memory.
///
/// # Safety
/// [`Env::mem_ok`] is a promise the engine acts on: it reads and writes every byte the
/// method approves, without further checks. An implementation must approve only memory
/// that stays valid (allocated, and writable when `write` is set) until the run ends, and
/// that no Rust reference covers exclusively while the run lasts.
pub unsafe trait Env {
    /// Calls helper `id` with `R1`–`R5`; the result goes to `R0`.
    ///
    /// `run` is the program being run: a helper such as `bpf_loop` calls one of its
    /// subprograms through it, and any helper may use it to read and write the program's
    /// own memory (stack, context, regions) with checks. Unknown id →
    /// [`super::VmErrorKind::UnknownHelper`]. `bpf_tail_call` (id 12) never arrives here:
    /// the engine handles it with [`Env::tail_call`].
    fn call_helper(&mut self, id: u32, args: [u64; 5], run: &mut dyn ActiveRun) -> Result<u64, VmError>;

    /// Resolves a tail call: `map` is the value of `R2` (the program array as the loader
    /// relocated it), `index` the low 32 bits of `R3` (Linux truncates it to `u32`).
    /// The default has no program arrays.
    fn tail_call(&mut self, map: u64, index: u32) -> TailCall {
        let _ = (map, index);
        TailCall::OutOfRange
    }

    /// Whether the program may access `len` bytes at `addr` (for writing, when `write`),
    /// outside the engine's own regions: map values, ring buffer records, kernel memory a
    /// helper handed out. The default approves nothing. See the trait's safety contract.
    fn mem_ok(&self, addr: u64, len: u64, write: bool) -> bool {
        let _ = (addr, len, write);
        false
    }
}

/// The running program, as a helper sees it.
pub trait ActiveRun {
    /// Calls the subprogram starting at instruction `insn` of the running program, in a new
    /// frame (counted against `MAX_CALL_FRAMES`, with its own stack), with `R1`–`R5` =
    /// `args`, and returns its `R0`. The callback shares the run's instruction budget and
    /// tail-call count. Helpers such as `bpf_loop` and `bpf_for_each_map_elem` use it.
    fn call_subprog(&mut self, env: &mut dyn Env, insn: usize, args: [u64; 5]) -> Result<u64, VmError>;

    /// Whether `len` bytes at `addr` lie in the engine's own memory of this run: the active
    /// frames' stacks, the context, the run's regions (writable ones only when `write`).
    /// Memory the environment approves is not included: the environment knows it itself.
    fn region_ok(&self, addr: u64, len: u64, write: bool) -> bool;

    /// Copies `buf.len()` bytes from `addr` if [`ActiveRun::region_ok`] allows it; returns
    /// whether it did.
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool;

    /// Copies `data` to `addr` if [`ActiveRun::region_ok`] allows a write; returns whether
    /// it did.
    fn write(&mut self, addr: u64, data: &[u8]) -> bool;
}
