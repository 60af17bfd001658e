//! Tracing in the demo kernel: the perf-event crate wired in.
//!
//! - [`perf_file`]: [`perf_file::PerfFileOps`], a perf event fd (`read`, `ioctl`, `mmap` of the
//!   ring, `poll` with wake-ups); `perf_event_open(2)` itself is
//!   [`crate::syscall::perf::sys_perf_event_open`].
//! - [`syscall_table`]: the `sys_enter_<name>` argument lists of every implemented system
//!   call (generated from Linux's tracefs by `scripts/gen-syscall-table.py`).
//! - [`events`]: the static tracepoints `sched/sched_switch`, `sched/sched_process_exec`,
//!   `sched/sched_process_exit` (Linux 6.1 records).
//! - `kernel` (kernel builds): the `perf_event::PerfHost` implementation, boot wiring
//!   ([`init`]: the `Perf` instance, syscall tracepoints, tracefs at `/sys/kernel/tracing` and
//!   `/sys/kernel/debug/tracing`, the kprobe PMU's sysfs files, the bpf host's tracing,
//!   perf-event lookup and `bpf_trace_printk` sink) and the hooks the kernel calls:
//!   [`syscall_enter`]/[`syscall_exit`] around every system call, [`timer_tick`] (CPU clock
//!   sampling), [`irq_work_run`] at safe points, the sched tracepoint helpers.
//!
//! # Wake-ups
//! Events fire in any context, including a probe inside a function that holds a wait
//! queue's lock; so nothing is woken from there. The crate calls
//! `PerfHost::queue_irq_work()`, which only sets a flag, and the kernel runs
//! `Perf::irq_work_run()` (which wakes the fd and `trace_pipe` queues through
//! `PerfHost::wake`) at points where no kernel lock is held: the end of every system call,
//! the timer interrupt (taken only in user mode or in the idle `hlt`) and the idle loop.

pub mod events;
pub mod perf_file;
pub mod syscall_table;

#[cfg(target_os = "none")]
mod kernel;

#[cfg(target_os = "none")]
pub use kernel::*;

#[cfg(test)]
mod tests;
