//! System calls by family, Linux x86_64 numbers and semantics: each `sys_<name>` function
//! takes explicit references to the process state it needs and returns `KResult<u64>`.
//! `dispatch` (kernel builds only) maps the numbers to them.

#[cfg(target_os = "none")]
pub mod dispatch;
#[cfg(test)]
pub mod dispatched;
pub mod epoll;
pub mod eventfd;
pub mod fs_attr;
pub mod fs_dir;
pub mod fs_fd;
pub mod fs_open;
pub mod fs_path;
pub mod fs_rw;
pub mod fs_stat;
#[cfg(test)]
mod fs_testutil;
pub mod futex;
pub mod ids;
pub mod info;
pub mod mm;
pub mod perf;
pub mod pipe;
pub mod poll;
#[cfg(target_os = "none")]
pub mod process;
pub mod rlimit;
pub mod signal;
pub mod time;

#[cfg(target_os = "none")]
pub use dispatch::syscall_dispatch;
