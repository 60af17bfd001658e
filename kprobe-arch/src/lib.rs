//! Per-architecture kprobe/kretprobe engines and the portable probe registry (`no_std`).
//!
//! Empty until issue 5 (x86_64 engine first). Nothing here pretends to work.
#![no_std]
