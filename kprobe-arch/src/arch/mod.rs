//! The architecture interface of the probe engine.
//!
//! [`ProbeRegistry`](crate::ProbeRegistry) does the portable part (probe table, snapshots,
//! per-CPU re-entry state, kretprobe instances, counters); an [`Arch`] says how to decode and
//! check a probed instruction, what the breakpoint is, and how to execute the original
//! instruction afterwards: emulated in the trap, or out of line in a slot with a single step.

use syscall_abi::Result;

use crate::KprobeHost;

pub mod x86_64;

/// How a single-step trap relates to a probe being stepped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepEnd {
    /// The instruction completed; registers point after the original instruction.
    Done,
    /// The instruction is not finished yet (a `rep` string instruction): step again.
    Again,
    /// The trap is not the end of this step.
    NotOurs,
}

/// One architecture's probe engine. All functions run in trap context except
/// [`analyze`](Arch::analyze), [`check_boundary`](Arch::check_boundary) and
/// [`release`](Arch::release) (writer side, under the registry lock).
pub trait Arch: Sized + Send + Sync + 'static {
    /// The register frame handlers see (Linux `pt_regs` layout).
    type Regs: 'static;
    /// A probed instruction after analysis (decoded, classified, slot prepared).
    type Insn: Send + Sync + 'static;
    /// What a single step saves to restore afterwards.
    type StepSave: Copy + Send + 'static;

    /// The breakpoint instruction written at a probed address.
    const BREAKPOINT: &'static [u8];

    /// Checks that `addr` is an instruction boundary of the function `symbol` = (start,
    /// size) and that its instruction can be probed, and prepares it (an instruction slot
    /// for out-of-line execution). `recover(base, buf)` puts the original bytes back into
    /// `buf` (text read from `base`) where breakpoints of other probes are armed.
    /// `EILSEQ`: not a boundary, undecodable or unprobeable instruction.
    fn analyze(
        host: &dyn KprobeHost,
        addr: u64,
        symbol: (u64, u64),
        recover: &dyn Fn(u64, &mut [u8]),
    ) -> Result<Self::Insn>;
    /// Only the boundary part of [`analyze`](Arch::analyze): `EILSEQ` when `addr` is not an
    /// instruction boundary of `symbol` (decoded from its start), `EINVAL` outside it.
    fn check_boundary(
        host: &dyn KprobeHost,
        addr: u64,
        symbol: (u64, u64),
        recover: &dyn Fn(u64, &mut [u8]),
    ) -> Result<()>;
    /// Frees what [`analyze`](Arch::analyze) allocated (called when no CPU can use it).
    fn release(host: &dyn KprobeHost, insn: &Self::Insn);
    /// The original bytes the breakpoint covers.
    fn original(insn: &Self::Insn) -> &[u8];

    /// The probed address of a breakpoint trap.
    fn breakpoint_addr(regs: &Self::Regs) -> u64;
    /// The instruction pointer.
    fn ip(regs: &Self::Regs) -> u64;
    /// Sets the instruction pointer.
    fn set_ip(regs: &mut Self::Regs, ip: u64);

    /// Whether the instruction is emulated (else it is single-stepped out of line).
    fn emulated(insn: &Self::Insn) -> bool;
    /// Performs the instruction's effect on `regs` (and the stack); ip = the next instruction.
    fn emulate(insn: &Self::Insn, regs: &mut Self::Regs);
    /// Redirects execution to the instruction's slot with single-stepping on.
    fn step_begin(host: &dyn KprobeHost, insn: &Self::Insn, regs: &mut Self::Regs) -> Self::StepSave;
    /// At a single-step trap: if the step of `insn` is complete, fixes the registers up as if
    /// the original instruction had run in place and restores what `step_begin` changed.
    fn step_end(insn: &Self::Insn, save: Self::StepSave, regs: &mut Self::Regs) -> StepEnd;

    /// At a function's first instruction: (return address, frame) where frame identifies the
    /// call (x86_64: the entry stack pointer).
    fn entry_return(regs: &Self::Regs) -> (u64, u64);
    /// Replaces the return address of the call that is at its first instruction.
    fn set_entry_return(regs: &mut Self::Regs, ret: u64);
    /// At the kretprobe trampoline's breakpoint: the frame of the returning call (matches
    /// [`entry_return`](Arch::entry_return)'s).
    fn trampoline_frame(regs: &Self::Regs) -> u64;
}
