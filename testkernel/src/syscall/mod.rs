//! System calls by family, Linux x86_64 numbers and semantics: each `sys_<name>` function
//! takes explicit references to the process state it needs and returns `KResult<u64>`.

pub mod futex;
pub mod time;
