//! verifier-lite: the first verifier pass of `BPF_PROG_LOAD`, pure (`no_std` + `alloc`): the
//! program's instructions and a few facts about it in, a [`VerifiedProgram`] or an
//! [`Error`] out, with Linux's errno and, in a [`VerifierLog`], Linux's log text.
//!
//! # Using it
//! ```
//! use bpf_subsys::verifier::{verify, TracingHelpers, VerifierInput, VerifierLog};
//! use bpf_subsys::vm::insn::{encode, Insn};
//! use syscall_abi::bpf::ProgType;
//!
//! let prog: Vec<[u8; 8]> = [
//!     Insn { opc: 0xbf, dst: 0, src: 2, off: 0, imm: 0 }, // r0 = r2 (never written)
//!     Insn { opc: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, // exit
//! ]
//! .iter()
//! .map(encode)
//! .collect();
//! let input = VerifierInput::new(&prog, ProgType::Kprobe);
//! let mut ops = TracingHelpers { prog_type: ProgType::Kprobe, privileged: true };
//! let mut log = VerifierLog::new(1, true, 4096).unwrap();
//! let err = verify(&input, &mut ops, &mut log).unwrap_err();
//! assert_eq!(err.errno, syscall_abi::Errno::EACCES);
//! assert!(log.text().starts_with("0: R1=ctx(off=0,imm=0) R10=fp0\n0: (bf) r0 = r2\nR2 !read_ok\n"));
//! ```
//!
//! The `PROG_LOAD` code: checks the size with [`check_insn_cnt`] before copying the
//! instructions (Linux does it in `bpf_prog_load`, before the verifier and its log); builds
//! the log with [`VerifierLog::new`] (`EINVAL` for bad log attributes); calls [`verify`]
//! with a [`VerifierOps`] (helper prototypes, and optionally map-fd resolution at Linux's
//! point); copies [`VerifierLog::user_bytes`] to `log_buf` whatever the result (a fault
//! there is `EFAULT`); and on success relocates [`VerifiedProgram::pseudo_loads`].
//!
//! # What is checked, in Linux's order (`bpf_check`)
//! 1. Subprograms (`add_subprog_and_kfunc`): `BPF_PSEUDO_CALL` and `BPF_PSEUDO_FUNC`
//!    targets start subprograms ("call to invalid destination", "too many subprograms");
//!    unprivileged loaders may not use them (`EPERM`); kfunc calls are `ENOTSUPP`
//!    ("calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF").
//! 2. `check_subprogs`: jumps stay inside their subprogram ("jump out of range from insn %d
//!    to %d"), each subprogram ends in `exit` or `ja` ("last insn is not an exit or jmp");
//!    without BTF func info, no tail call or `LD_ABS` in a subprogram.
//! 3. `resolve_pseudo_ldimm64`: `LDX` reserved fields, `ld_imm64` well-formed ("invalid
//!    bpf_ld_imm64 insn", "unrecognized bpf_ld_imm64 insn"), the [`VerifierOps`] hook for
//!    each pseudo load, unknown opcodes ("unknown opcode %02x").
//! 4. `check_cfg`: "back-edge from insn %d to %d" (loops need `privileged`; recursion is
//!    always rejected), "unreachable insn %d".
//! 5. `do_check`, path-sensitive (`explore.rs`): paths are walked depth first with a stack
//!    of pending branch states; at prune points a state contained in a fully explored one
//!    ends the path (`is_state_visited`/`states_equal`, with static register liveness, ids
//!    renamed consistently), an identical state still on the path is "infinite loop detected
//!    at insn %d", and past 1,000,000 processed instructions "BPF program is too large.
//!    Processed 1000001 insn" (`E2BIG`). Checked on each path: reserved fields, register
//!    numbers ("R%d is invalid"), reads of unwritten registers ("R%d !read_ok"), `R10`
//!    writes, constant division by zero and shifts; register types (`state.rs`): scalars
//!    with unsigned/signed bounds (constants exact, refined by conditional jumps against
//!    constants and shared by copies), the context (kprobe: `pt_regs`, 168 bytes;
//!    perf_event: 184 bytes; "invalid bpf_context access", "dereference of modified ctx
//!    ptr"), stack pointers of any frame (bounds, alignment, initialised bytes, spilled
//!    registers), map pointers, map values (null checks: "R0 invalid mem access
//!    'map_value_or_null'"; bounds when [`VerifierOps::map_info`] knows the map: "invalid
//!    access to map value, value_size=%d off=%d size=%d"), ring buffer memory (null check,
//!    size, "Unreleased reference" at exit), subprogram addresses; pointer arithmetic
//!    (`adjust_ptr_min_max_vals`); helper arguments by prototype ([`Arg`]: map pointer,
//!    key/value sizes, initialised memory and its size, context, callbacks,
//!    `check_map_func_compatibility`); helper ids and GPL-only helpers; bpf-to-bpf calls
//!    with a frame per call ("the call stack of %d frames is too deep"); returning pointers
//!    ("R0 leaks addr as return value", unprivileged), stack pointers from subprograms.
//! 6. `check_max_stack_depth`: combined stack of a call chain ≤ 512 bytes, ≤ 8 frames, tail
//!    calls under a 256-byte stack.
//!
//! Not checked here (left to the engine's run-time checks, or not needed by the program
//! types loaded): the contexts of socket filters (`__sk_buff`), raw tracepoints and the
//! bounds of tracepoint records (their `R1` is of a type the pass does not follow, because
//! the conformance suite runs with a writable memory context of any layout), writes to
//! kprobe/perf_event contexts (Linux refuses them; an existing run test relies on the
//! engine refusing them), map values when `map_info` is unknown (the default), read-only
//! maps, spin locks, packet pointers, tnums (bits known inside unknown values),
//! precision tracking (pruning compares all live scalars' ranges), `ARG_PTR_TO_CONST_STR`
//! read-only-ness. Callbacks (`BPF_PSEUDO_FUNC` targets) are checked as roots of their own
//! with `R1`-`R5` of unknown type, not at the helper call with the helper's arguments.
//!
//! # The log
//! Level 0: nothing. Level 1 (`BPF_LOG_LEVEL1`): the instructions of the path being checked
//! (`0: (b7) r0 = 0`) with the registers and stack slots each one touched
//! (`; R0_w=0`, `state_log.rs`) and the full states at bpf-to-bpf calls and returns, reset
//! when a branch is abandoned and cleared after success as in Linux, then the error line,
//! then the `processed N insns ... total_states N peak_states N mark_read 0` line
//! (`mark_read` stays 0: read marks are not propagated). Level 2 also keeps the trace on
//! success and prints `func#N @insn` and branch headers with the whole state. Level 4
//! (`BPF_LOG_STATS`) adds the stack depths. A log that fills up makes the load fail with
//! `ENOSPC`, as in Linux 6.1.

mod alu;
mod call;
mod cfg;
mod cond;
mod disasm;
mod equiv;
mod exec;
mod explore;
mod frames;
mod helpers;
mod liveness;
mod log;
mod mem;
mod opcodes;
mod pseudo;
mod stack_depth;
mod state;
mod state_log;
mod subprogs;

#[cfg(test)]
mod tests;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use syscall_abi::bpf::limits::BPF_COMPLEXITY_LIMIT_INSNS;
use syscall_abi::bpf::{ProgType, BPF_MAXINSNS};
use syscall_abi::{Errno, Error};

use crate::vm::insn::{decode, Insn, RawInsn};

pub use helpers::{Arg, FuncName, HelperProto, HelperRet, TracingHelpers, VerifierOps};
pub use log::{VerifierLog, BPF_LOG_LEVEL1, BPF_LOG_LEVEL2, BPF_LOG_MASK, BPF_LOG_STATS, LOG_SIZE_MAX, LOG_SIZE_MIN};
pub use state::MapInfo;

/// Most subprograms a program may have (`BPF_MAX_SUBPROGS`).
pub const MAX_SUBPROGS: usize = 256;

/// What the verifier is given.
#[derive(Clone, Copy, Debug)]
pub struct VerifierInput<'a> {
    /// The instructions as loaded (`struct bpf_insn`), before relocation.
    pub insns: &'a [RawInsn],
    /// The program type.
    pub prog_type: ProgType,
    /// The license is GPL-compatible (`license_is_gpl_compatible`).
    pub gpl_compatible: bool,
    /// The loader has `CAP_BPF` and `CAP_PERFMON` (Linux's `bpf_capable`,
    /// `allow_ptr_leaks`, `bypass_spec_v1`): bigger programs, loops, subprograms, pointer
    /// arithmetic and comparisons.
    pub privileged: bool,
    /// `PROG_LOAD` carried BTF func info (`func_info_cnt != 0`).
    pub has_func_info: bool,
    /// Accept the RFC 9669 instructions Linux 6.6 added (`sdiv`/`smod`, `movsx`, `bswap`,
    /// sign-extending loads, `gotol`) with Linux 6.6's checks; Linux 6.1 rejects them.
    pub isa_v4: bool,
}

impl<'a> VerifierInput<'a> {
    /// A privileged, GPL-compatible load of `insns` without func info, current ISA.
    pub fn new(insns: &'a [RawInsn], prog_type: ProgType) -> Self {
        VerifierInput { insns, prog_type, gpl_compatible: true, privileged: true, has_func_info: false, isa_v4: true }
    }
}

/// The kind of an `ld_imm64` with a pseudo source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PseudoKind {
    /// `BPF_PSEUDO_MAP_FD`: `imm` is a map fd.
    MapFd,
    /// `BPF_PSEUDO_MAP_VALUE`: map fd, `aux_imm` is an offset into its value.
    MapValue,
    /// `BPF_PSEUDO_BTF_ID`: a kernel variable's BTF id (`aux_imm`: module BTF fd).
    BtfId,
    /// `BPF_PSEUDO_FUNC`: the address of the subprogram at `insn + imm + 1`.
    Func,
    /// `BPF_PSEUDO_MAP_IDX`: `imm` indexes `fd_array`.
    MapIdx,
    /// `BPF_PSEUDO_MAP_IDX_VALUE`: `fd_array` index, `aux_imm` is a value offset.
    MapIdxValue,
}

impl PseudoKind {
    /// Whether it names a map.
    pub fn is_map(self) -> bool {
        matches!(self, PseudoKind::MapFd | PseudoKind::MapValue | PseudoKind::MapIdx | PseudoKind::MapIdxValue)
    }
}

/// An `ld_imm64` whose value the loader must supply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PseudoLoad {
    /// Index of its first slot.
    pub insn: usize,
    /// What it loads.
    pub kind: PseudoKind,
    /// The first slot's `imm`.
    pub imm: i32,
    /// The second slot's `imm`.
    pub aux_imm: i32,
}

/// One subprogram (function) of a verified program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubprogInfo {
    /// Its first instruction.
    pub start: usize,
    /// Bytes of stack it uses below its frame pointer (Linux `stack_depth`).
    pub stack_depth: u32,
    /// It calls `bpf_tail_call`.
    pub has_tail_call: bool,
    /// Its address is taken (`BPF_PSEUDO_FUNC`): it runs as a helper's callback.
    pub is_callback: bool,
}

/// What the verifier learned about an accepted program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProgram {
    /// Subprograms in instruction order; the first is the main program.
    pub subprogs: Vec<SubprogInfo>,
    /// Longest chain of frames (the main program alone is 1).
    pub max_call_frames: u32,
    /// Every `ld_imm64` with a pseudo source, in program order.
    pub pseudo_loads: Vec<PseudoLoad>,
    /// Some subprogram calls `bpf_tail_call`.
    pub uses_tail_calls: bool,
    /// Helper ids called, ascending, without duplicates.
    pub helpers: Vec<u32>,
    /// Instructions the check pass went through (the `processed N insns` of the log).
    pub insns_processed: u32,
    /// One past the highest context byte the program reads (Linux
    /// `prog->aux->max_ctx_offset`): attaching a tracepoint program to an event whose record
    /// is shorter is `EACCES`.
    pub max_ctx_offset: u32,
}

impl VerifiedProgram {
    /// The map references (`ld_imm64` map pseudo loads), in program order.
    pub fn map_refs(&self) -> impl Iterator<Item = &PseudoLoad> {
        self.pseudo_loads.iter().filter(|l| l.kind.is_map())
    }

    /// The main program's stack depth (Linux `prog->aux->stack_depth`).
    pub fn stack_depth(&self) -> u32 {
        self.subprogs.first().map_or(0, |s| s.stack_depth)
    }
}

/// `bpf_prog_load`'s size check: 1..=4096 instructions, or up to 1,000,000 for a
/// privileged loader; otherwise `E2BIG` (also for 0, as in Linux).
pub fn check_insn_cnt(insn_cnt: usize, privileged: bool) -> Result<(), Error> {
    let limit = if privileged { BPF_COMPLEXITY_LIMIT_INSNS } else { BPF_MAXINSNS };
    if insn_cnt == 0 || u32::try_from(insn_cnt).map_or(true, |n| n > limit) {
        return Err(Error::new(Errno::E2BIG, "program has no instructions or too many"));
    }
    Ok(())
}

/// Verifies a program (Linux `bpf_check`). The log gets Linux's text; with a log enabled, a
/// log that filled up makes the result `ENOSPC`, whatever it was.
pub fn verify(
    input: &VerifierInput<'_>,
    ops: &mut dyn VerifierOps,
    log: &mut VerifierLog,
) -> Result<VerifiedProgram, Error> {
    check_insn_cnt(input.insns.len(), input.privileged)?;
    let mut v = Verifier::new(input);
    let result = v.run(ops, log);
    if let Err(reject) = &result {
        if !reject.line.is_empty() {
            log.write_str(&reject.line);
        }
    }
    v.print_stats(log);
    if log.level() != 0 && log.is_full() {
        return Err(Error::new(Errno::ENOSPC, "verifier log full"));
    }
    result.map_err(|r| Error::new(r.errno, r.msg))
}

/// Why a program is rejected: errno, Linux's format string, and the log line.
#[derive(Debug)]
pub(crate) struct Reject {
    errno: Errno,
    msg: &'static str,
    line: String,
}

impl Reject {
    /// A rejection whose log line is `line` (a newline is added).
    fn new(errno: Errno, msg: &'static str, line: fmt::Arguments<'_>) -> Self {
        let mut text = String::new();
        let _ = fmt::write(&mut text, line);
        text.push('\n');
        Reject { errno, msg, line: text }
    }

    /// A rejection already logged by someone else.
    fn silent(errno: Errno, msg: &'static str) -> Self {
        Reject { errno, msg, line: String::new() }
    }
}

/// `Err(Reject::new(Errno::X, "linux format", format_args!(...)))`.
macro_rules! bail {
    ($errno:ident, $msg:literal, $($arg:tt)*) => {
        return Err($crate::verifier::Reject::new(syscall_abi::Errno::$errno, $msg, format_args!($($arg)*)))
    };
}
pub(crate) use bail;

/// One subprogram while verifying.
#[derive(Clone, Debug, Default)]
struct Subprog {
    start: usize,
    has_tail_call: bool,
    has_ld_abs: bool,
    is_callback: bool,
    stack_depth: u32,
}

/// The verification of one program (Linux `struct bpf_verifier_env`).
struct Verifier<'a> {
    input: VerifierInput<'a>,
    /// Subprograms sorted by start.
    subprogs: Vec<Subprog>,
    /// Bit per instruction: the second slot of an `ld_imm64`.
    second_half: Vec<u64>,
    /// The instructions decoded once.
    decoded: Vec<Insn>,
    pseudo_loads: Vec<PseudoLoad>,
    helpers_used: Vec<u32>,
    insns_processed: u32,
    /// `max_states_per_insn` and `total_states` (= `peak_states`) of the check pass.
    max_states_per_insn: u32,
    total_states: u32,
    max_frames: u32,
    /// See [`VerifiedProgram::max_ctx_offset`]; raised by every context access checked.
    max_ctx_offset: core::cell::Cell<u32>,
}

impl<'a> Verifier<'a> {
    fn new(input: &VerifierInput<'a>) -> Self {
        Verifier {
            input: *input,
            subprogs: Vec::new(),
            second_half: Vec::new(),
            decoded: input.insns.iter().map(decode).collect(),
            pseudo_loads: Vec::new(),
            helpers_used: Vec::new(),
            insns_processed: 0,
            max_states_per_insn: 0,
            total_states: 0,
            max_frames: 1,
            max_ctx_offset: core::cell::Cell::new(0),
        }
    }

    fn len(&self) -> usize {
        self.input.insns.len()
    }

    /// Instruction `pc` (callers keep `pc < len`).
    fn insn(&self, pc: usize) -> Insn {
        self.decoded.get(pc).map_or(Insn { opc: 0, dst: 0, src: 0, off: 0, imm: 0 }, |i| Insn { ..*i })
    }

    /// The `imm` of slot `pc`, 0 past the end.
    fn imm_at(&self, pc: usize) -> i32 {
        self.decoded.get(pc).map_or(0, |i| i.imm)
    }

    fn is_second_half(&self, pc: usize) -> bool {
        self.second_half.get(pc / 64).is_some_and(|w| w & (1 << (pc % 64)) != 0)
    }

    /// The subprogram containing `pc`.
    fn subprog_of(&self, pc: usize) -> usize {
        self.subprogs.partition_point(|s| s.start <= pc).saturating_sub(1)
    }

    /// The subprogram starting at `pc`.
    fn subprog_at(&self, pc: usize) -> Option<usize> {
        self.subprogs.binary_search_by_key(&pc, |s| s.start).ok()
    }

    /// End (exclusive) of subprogram `i`.
    fn subprog_end(&self, i: usize) -> usize {
        self.subprogs.get(i + 1).map_or(self.len(), |s| s.start)
    }

    fn run(&mut self, ops: &mut dyn VerifierOps, log: &mut VerifierLog) -> Result<VerifiedProgram, Reject> {
        self.add_subprogs(log)?;
        self.check_subprogs()?;
        self.check_abnormal_return()?;
        self.resolve_pseudo_loads(ops, log)?;
        self.check_cfg()?;
        self.explore(&*ops, log)?;
        if !log.has(BPF_LOG_LEVEL2) {
            log.reset(0);
        }
        self.check_max_stack_depth()?;
        let mut helpers = core::mem::take(&mut self.helpers_used);
        helpers.sort_unstable();
        helpers.dedup();
        Ok(VerifiedProgram {
            subprogs: self
                .subprogs
                .iter()
                .map(|s| SubprogInfo {
                    start: s.start,
                    stack_depth: s.stack_depth,
                    has_tail_call: s.has_tail_call,
                    is_callback: s.is_callback,
                })
                .collect(),
            max_call_frames: self.max_frames,
            pseudo_loads: core::mem::take(&mut self.pseudo_loads),
            uses_tail_calls: self.subprogs.iter().any(|s| s.has_tail_call),
            helpers,
            insns_processed: self.insns_processed,
            max_ctx_offset: self.max_ctx_offset.get(),
        })
    }

    /// `print_verification_stats`.
    fn print_stats(&self, log: &mut VerifierLog) {
        if log.has(BPF_LOG_STATS) {
            log.write_str("verification time 0 usec\n");
            log.write_str("stack depth ");
            for (i, s) in self.subprogs.iter().enumerate() {
                let sep = if i + 1 < self.subprogs.len() { "+" } else { "" };
                log.write_fmt(format_args!("{}{sep}", s.stack_depth));
            }
            log.write_str("\n");
        }
        log.write_fmt(format_args!(
            "processed {} insns (limit {BPF_COMPLEXITY_LIMIT_INSNS}) max_states_per_insn {} total_states {} \
             peak_states {} mark_read 0\n",
            self.insns_processed, self.max_states_per_insn, self.total_states, self.total_states
        ));
    }
}
