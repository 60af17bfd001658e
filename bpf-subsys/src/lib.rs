//! The `bpf(2)` command layer: object registry, program loading, verifier-lite, helpers and
//! execution (`no_std` + `alloc`).
//!
//! Empty until issue 3 ("bpf(2) core"). Nothing here pretends to work.
#![no_std]
