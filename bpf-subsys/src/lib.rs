//! The `bpf(2)` command layer: object registry, program loading, verifier-lite, helpers and
//! execution (`no_std` + `alloc`).
//!
//! - [`vm`]: the execution engine, an interpreter for the whole current eBPF instruction set
//!   (RFC 9669) that checks every memory access and never trusts the program.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod vm;
