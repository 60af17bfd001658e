//! Byte-exact mirrors of the Linux `bpf(2)` and `perf_event_open(2)` user-space ABI.
//!
//! Reference: Linux 6.1 `include/uapi/linux/bpf.h`, `include/uapi/linux/perf_event.h`,
//! `include/uapi/asm-generic/errno*.h`. Every struct, enum and constant here is defined with
//! the macros of [`abi`], and `tests/layout.rs` checks each one against the C headers.
//!
//! This crate allocates nothing, locks nothing and knows no kernel.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

pub mod abi;
pub mod bpf;
pub mod errno;

pub use errno::{err, Errno, Error, Result};
