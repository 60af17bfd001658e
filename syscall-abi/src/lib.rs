//! Byte-exact mirrors of the Linux `bpf(2)` and `perf_event_open(2)` user-space ABI.
//!
//! Reference: Linux 6.1 `include/uapi/linux/bpf.h`, `include/uapi/linux/bpf_common.h`,
//! `include/uapi/linux/btf.h`, `include/uapi/linux/perf_event.h`,
//! `include/uapi/linux/bpf_perf_event.h`, the per-architecture `ptrace.h`, and
//! `include/uapi/asm-generic/errno*.h`. Every struct, enum and constant here is defined with
//! the macros of [`abi`], listed in [`abi::ALL_LAYOUTS`]/[`abi::ALL_CONSTS`], and
//! `tests/layout.rs` checks each one against the C headers.
//!
//! Untrusted integers become enums only through `TryFrom` (`EINVAL` for unknown values);
//! versioned user structs are copied with [`uarg`] (Linux's tail-zero and size rules) and
//! [`perf::copy_attr`].
//!
//! This crate allocates nothing, locks nothing and knows no kernel.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

pub mod abi;
pub mod bpf;
pub mod errno;
pub mod perf;
pub mod ptregs;
mod registry;
pub mod uarg;

pub use errno::{err, Errno, Error, Result};
