//! The `bpf(2)` command layer: object registry, program loading, verifier-lite, helpers and
//! execution (`no_std` + `alloc`).
//!
//! - [`attach`]: [`attach::TracingHost`], how programs get onto perf events and raw tracepoints.
//! - [`btf`]: BTF blobs: validation (`BPF_BTF_LOAD`) and the type queries of map creation.
//! - [`helpers`]: the helper functions programs call and the environment a run gets.
//! - [`host`]: [`BpfHost`], everything the subsystem needs from a kernel — the porting guide.
//! - [`loader`]: relocation of a verified program, its tag, license rules.
//! - [`object`]: maps, programs, links and BTF objects, their global ids and the references
//!   user space holds on them.
//! - [`run`]: running a loaded program (stats, guard, preemption).
//! - [`syscall`]: [`sys_bpf`], the `bpf(2)` entry point, one module per command group.
//! - [`verifier`]: verifier-lite, the first verifier pass of `BPF_PROG_LOAD` (Linux errno and log).
//! - [`vm`]: the execution engine, an interpreter for the whole current eBPF instruction set
//!   (RFC 9669) that checks every memory access and never trusts the program.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod attach;
pub mod btf;
pub mod helpers;
pub mod host;
pub mod loader;
pub mod object;
pub mod run;
pub mod syscall;
pub mod verifier;
pub mod vm;

#[cfg(test)]
#[allow(dead_code)] // each test module uses part of it
pub(crate) mod test_host;

pub use host::BpfHost;
pub use syscall::sys_bpf;
