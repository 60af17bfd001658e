//! The execution engine: a `no_std` + `alloc` interpreter for the whole current eBPF
//! instruction set (RFC 9669), which checks every memory access and trusts nothing about
//! the program it runs.
//!
//! # Why not rbpf's interpreter
//! The project names `rbpf` as its engine, but rbpf 0.3's interpreter cannot serve in a
//! kernel: it panics (`unimplemented!()`) on atomics and tail calls; its helpers are bare
//! `fn(u64, …) -> u64` with no context; memory outside its two buffers is allowed by exact
//! start address only (a `HashSet`); it has no bpf-to-bpf calls; and it lacks the RFC 9669
//! additions (`sdiv`/`smod`, `movsx`, sign-extending loads, `bswap`, `ja32`, atomics with
//! fetch, `xchg`, `cmpxchg`). So the interpreter loop is written here, in the structure of
//! rbpf's (one `match` over the opcode per instruction), and rbpf stays the *instruction
//! module*: [`insn`] re-exports `rbpf::ebpf` (its [`insn::Insn`] and opcode constants) and adds
//! what rbpf 0.3 does not name. `rbpf` is used with `default-features = false`, which builds
//! `no_std` for `x86_64-unknown-none`, `riscv64gc-unknown-none-elf` and
//! `loongarch64-unknown-none` with Rust 1.85. Instructions are decoded by [`insn::decode`]
//! (rbpf's `get_insn` panics on a short program).
//!
//! # Using it
//! ```
//! use bpf_subsys::vm::{insn, ActiveRun, Env, Region, Vm, VmError, VmErrorKind};
//!
//! struct Helpers;
//! // SAFETY: `mem_ok` keeps its default, which approves no memory.
//! unsafe impl Env for Helpers {
//!     fn call_helper(&mut self, id: u32, args: [u64; 5], _: &mut dyn ActiveRun) -> Result<u64, VmError> {
//!         match id {
//!             7 => Ok(args[0] + 1), // a made-up helper
//!             _ => Err(VmError::new(VmErrorKind::UnknownHelper { id })),
//!         }
//!     }
//! }
//!
//! let prog: Vec<insn::RawInsn> = [
//!     insn::Insn { opc: insn::LD_W_REG, dst: 1, src: 1, off: 0, imm: 0 }, // r1 = *(u32 *)(r1 + 0)
//!     insn::Insn { opc: insn::CALL, dst: 0, src: 0, off: 0, imm: 7 },     // r0 = helper7(r1)
//!     insn::Insn { opc: insn::EXIT, dst: 0, src: 0, off: 0, imm: 0 },
//! ]
//! .iter()
//! .map(insn::encode)
//! .collect();
//! let ctx = 41u32.to_ne_bytes();
//! let r0 = Vm::new(&prog).context(Region::new(&ctx)).run(&mut Helpers);
//! assert_eq!(r0, Ok(42));
//! ```
//!
//! - [`Vm`]: the run's code ([`insn::RawInsn`]s, relocated), context ([`Region`], `R1`),
//!   extra regions, entry registers and [`Limits`]; [`Vm::run`] returns `R0` or a
//!   [`VmError`] (instruction index and [`VmErrorKind`]).
//! - [`Env`] (implemented by the helper layer): `call_helper(id, args, run)`,
//!   `tail_call(map, index) -> TailCall`, `mem_ok(addr, len, write)`.
//! - [`ActiveRun`] (what a helper gets of the running program): `call_subprog` for
//!   callbacks (`bpf_loop`, `bpf_for_each_map_elem`), checked `read`/`write` of the run's
//!   own memory.
//! - [`Program`]: a program's instructions behind an `Arc`, for tail-call targets.
//!
//! # Instruction set
//! | class | supported |
//! |---|---|
//! | `ALU`, `ALU64` | `add sub mul div sdiv mod smod or and xor lsh rsh arsh neg mov movsx` (imm and reg), `le`/`be` 16/32/64 (`ALU`), `bswap` 16/32/64 (`ALU64`) |
//! | `JMP`, `JMP32` | `ja`, `ja32` (offset in `imm`), `jeq jne jgt jge jlt jle jset jsgt jsge jslt jsle` (imm and reg); `JMP` only: `call` (helper, bpf-to-bpf, `callx`), `exit` |
//! | `LD` | `ld_imm64` (two slots; any `src`: the loader has already relocated the value) |
//! | `LDX` | `MEM` b/h/w/dw, `MEMSX` b/h/w |
//! | `ST`, `STX` | `MEM` b/h/w/dw; `STX` `ATOMIC` w/dw: `add or and xor` with and without `BPF_FETCH`, `xchg`, `cmpxchg` |
//!
//! Semantics follow Linux (`kernel/bpf/core.c` and the verifier's fixups): 32-bit results
//! are zero-extended; `div` by zero gives 0 and `mod` by zero leaves `dst` (truncated to 32
//! bits for the 32-bit form); `sdiv` of the minimum by -1 gives the minimum and `smod` 0;
//! shift amounts are masked to 31/63; 64-bit immediates are sign-extended. Not supported,
//! with [`VmErrorKind::Unsupported`]: the legacy packet loads `LD | ABS` and `LD | IND`
//! (classic-BPF socket filter compatibility, which this subsystem's program types never
//! need) and kfunc calls (`src = BPF_PSEUDO_KFUNC_CALL`). Any other opcode, an unknown
//! offset selector (`sdiv`/`movsx`), an unknown atomic operation or width, or a register
//! above `R10` is [`VmErrorKind::InvalidInsn`] at run time: a verifier rejects these first,
//! but the engine does not rely on it.
//!
//! `callx` (`JMP | X | CALL`, 0x8d) calls the *helper* whose id is in `dst`, the meaning
//! the conformance suite (and uBPF) gives it. Linux 6.1's verifier rejects the opcode, so
//! loaded programs never reach it; it is here because issue 3 requires every conformance
//! case to pass.
//!
//! # Memory
//! Every load, store and atomic is checked before it happens, against, in order: the
//! context (its length and writability), the run's extra regions, the stacks of the active
//! frames (a callee may use a pointer into its caller's stack, as Linux allows), and finally
//! [`Env::mem_ok`]. A violation ends the run with [`VmErrorKind::MemoryAccess`]; it is never
//! undefined behaviour and never a panic. Loads and stores are unaligned-safe and use the
//! host's byte order; atomics are [`core::sync::atomic`] operations (sequentially
//! consistent) and need natural alignment ([`VmErrorKind::MisalignedAtomic`]).
//!
//! # Calls, tail calls, budget
//! - bpf-to-bpf calls (`call` with `src = BPF_PSEUDO_CALL`, target `pc + imm + 1`): at most
//!   [`MAX_CALL_FRAMES`] frames, each with its own [`MAX_BPF_STACK`]-byte stack, allocated
//!   when a frame that deep is first entered; `R10` is the top of the frame's stack,
//!   `R6`–`R9` are restored on return; `R1`–`R5` are the arguments and are not restored.
//!   A callback ([`ActiveRun::call_subprog`]) is a frame too.
//! - `call 12` (`bpf_tail_call(ctx, map, index)`) asks [`Env::tail_call`]; on success the
//!   current frame continues at the first instruction of the new program with the same
//!   registers (so `R1` is still the context) and the same stack; on failure execution goes
//!   on after the call. At most [`MAX_TAIL_CALL_CNT`] tail calls per run.
//! - Every executed instruction, in every frame, callback and tail-called program, counts
//!   against [`Limits::insn_budget`]; running out is [`VmErrorKind::BudgetExceeded`].

mod alu;
mod env;
mod error;
pub mod insn;
mod interp;
mod memory;

#[cfg(test)]
mod tests;

pub use env::{ActiveRun, Env, Program, TailCall};
pub use error::{VmError, VmErrorKind};
pub use interp::Vm;
pub use memory::Region;

/// Frames a run may use at once: the program and 7 nested calls (Linux `MAX_CALL_FRAMES`).
pub const MAX_CALL_FRAMES: usize = 8;
/// Bytes of stack per frame (Linux `MAX_BPF_STACK`).
pub const MAX_BPF_STACK: usize = 512;
/// Tail calls a run may make (Linux 6.1 `MAX_TAIL_CALL_CNT`).
pub const MAX_TAIL_CALL_CNT: u32 = 33;
/// Default [`Limits::insn_budget`]: 2^24 executed instructions.
pub const DEFAULT_INSN_BUDGET: u64 = 1 << 24;

/// Limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Instructions a run may execute, across all its frames, callbacks and tail calls:
    /// the guard against runaway loops.
    pub insn_budget: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { insn_budget: DEFAULT_INSN_BUDGET }
    }
}
