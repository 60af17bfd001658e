//! The ext-ebpf demo kernel (see `testkernel/README.md` and ARCHITECTURE.md).
//!
//! Portable modules (`fs`, `mm`, `proc`, `user`, `sync`, `time`) are plain `no_std` + `alloc`
//! Rust that also builds on the host, where `cargo test --lib` tests them against fakes
//! (a `Vec`-backed user memory, a `HashMap` page table). The x86_64 machine code — boot,
//! traps, paging, context switch, `syscall` entry — lives in `arch` and only builds for
//! `target_os = "none"`.

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(target_os = "none")]
pub mod arch;
#[cfg(target_os = "none")]
pub mod boot;
pub mod bpf;
pub mod cmdline;
pub mod fs;
pub mod kallsyms;
pub mod mm;
pub mod probe;
pub mod proc;
pub mod sync;
pub mod syscall;
#[cfg(target_os = "none")]
pub mod task;
pub mod time;
pub mod trace;
pub mod user;

/// The kernel's result type: Linux errno values from `syscall-abi`.
pub type KResult<T> = core::result::Result<T, syscall_abi::Errno>;
