//! System calls by family, Linux x86_64 numbers and semantics: each `sys_<name>` function
//! takes explicit references to the process state it needs and returns `KResult<u64>`.
//! `dispatch` (kernel builds only) maps the numbers to them.

#[cfg(target_os = "none")]
pub mod dispatch;
pub mod epoll;
pub mod eventfd;
pub mod futex;
pub mod mm;
pub mod pipe;
pub mod poll;
pub mod signal;
pub mod time;

#[cfg(target_os = "none")]
pub use dispatch::syscall_dispatch;
