//! eBPF → native code JIT (`no_std`).
//!
//! Empty for now: no issue has asked for the JIT yet. Programs run on the `rbpf`
//! interpreter in `bpf-subsys` (issue 3). Nothing here pretends to work.
#![no_std]
