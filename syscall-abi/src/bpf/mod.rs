//! `include/uapi/linux/bpf.h`.

pub mod map;

pub use map::*;
