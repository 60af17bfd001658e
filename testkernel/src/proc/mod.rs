//! Processes: the portable parts (futexes, signals, resource limits, program loading).

pub mod futex;
