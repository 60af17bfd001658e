//! Per-architecture kprobe/kretprobe engines and the portable probe registry (`no_std` +
//! `alloc`).
//!
//! - [`Registry`] (the x86_64 instance of [`ProbeRegistry`]) registers, arms, disarms and
//!   removes probes, keeps hit/missed counts, and is called by the kernel's `#BP` and `#DB`
//!   handlers ([`ProbeRegistry::handle_breakpoint`], [`ProbeRegistry::handle_debug`]). The
//!   trap side takes no lock, never allocates and never frees: it reads an immutable snapshot
//!   that writers replace and free after a per-CPU grace period.
//! - Everything the registry needs from the kernel comes through [`KprobeHost`]: text
//!   patching, instruction slots, symbols, the blocklist, the current CPU.
//! - The instruction work is behind [`arch::Arch`]; [`arch::x86_64::X86_64`] decodes with
//!   iced-x86, executes the probed instruction out of line with a single step (RIP-relative
//!   operands fixed up) or emulates it when out-of-line execution would be wrong (calls,
//!   jumps, returns, loops). riscv64 and loongarch64 engines plug in the same way.
//!
//! The model is Linux's kprobes (kernel/kprobes.c, arch/x86/kernel/kprobes/core.c); no code
//! is taken from it.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;

pub mod arch;
mod host;
mod probe;
pub mod registry;

pub use host::KprobeHost;
pub use probe::{ProbeHandler, ProbeId, ProbeInfo, ProbeKind, ProbeSpec, ProbeStats};
pub use registry::{ProbeRegistry, MAXACTIVE_MAX};
pub use syscall_abi::ptregs::x86_64::PtRegs as X86PtRegs;

/// Size in bytes of one instruction slot ([`KprobeHost::alloc_insn_slot`]).
pub const SLOT_SIZE: usize = 32;

/// Number of CPUs the per-CPU probe state covers; [`KprobeHost::current_cpu`] must be below.
pub const MAX_CPUS: usize = 64;

/// The probe registry over the x86_64 engine: the type kernels use.
pub type Registry = ProbeRegistry<arch::x86_64::X86_64>;

/// The registry is shared between CPUs (trap handlers and writers).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Registry>();
};
