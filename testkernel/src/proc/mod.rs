//! Processes: the portable parts (futexes, signals, resource limits, program loading).

pub mod elf;
pub mod exec;
pub mod futex;
pub mod rlimit;
pub mod sigframe;
pub mod siginfo;
pub mod signal;
