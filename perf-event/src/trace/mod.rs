//! Trace events: static tracepoints, syscall tracepoints, kprobe events, raw tracepoints and
//! the tracefs model (Linux 6.1 `kernel/trace/` is the reference for every text and errno).
//!
//! - [`tracepoint!`](crate::tracepoint) defines a static [`Tracepoint`] in kernel code (Linux
//!   `TRACE_EVENT`): a `#[repr(C)]` record struct and a `trace_<name>()` function whose
//!   disabled path is one relaxed load and a branch.
//! - [`TraceRegistry`] gives every event an id (from 1 upward) and finds it by id or by
//!   `(system, name)`; [`TraceEvent`] is one event, [`EventConsumer`]s (perf events, BPF
//!   programs, the tracefs `enable` file) attach to it.
//! - [`SyscallTracepoints`]: `syscalls/sys_enter_<name>` and `sys_exit_<name>` with Linux's
//!   x86_64 record layout, plus the raw tracepoints `sys_enter` / `sys_exit`.
//! - [`RawTracepoint`]: `BPF_RAW_TRACEPOINT_OPEN` targets, arguments as `u64`s.
//! - [`kprobe`]: events created through `kprobe_events` (`p:`/`r:`/`-:`), armed through a
//!   [`ProbeArm`] when their first consumer attaches.
//! - [`TraceFs`]: the files of `/sys/kernel/tracing` (`available_events`,
//!   `events/<sys>/<name>/{id,format,enable}`, `trace`, `trace_pipe`, `kprobe_events`,
//!   `kprobe_profile`, `tracing_on`).
//!
//! Event context (a tracepoint or probe firing) never blocks and never waits for a lock a
//! writer might hold: consumer lists are read with `try_read` (a hit that meets a writer is
//! dropped), the trace buffer with `try_lock`; wake-ups of `trace_pipe` readers go through
//! [`TraceEnv::queue_irq_work`].
//!
//! Wiring in a kernel (the perf layer does most of it):
//! 1. `let reg = TraceRegistry::new(env)` with a [`TraceEnv`] over the kernel's current task,
//!    clock and irq_work; `let fs = TraceFs::new(reg.clone())`.
//! 2. At boot: `reg.syscalls().register(nr, "openat", &[("int", "dfd"), ...])` for every
//!    syscall, `reg.register_static(&SCHED_SWITCH)` for every static tracepoint, and
//!    `reg.set_probe_arm(RegistryArm::new(source))` when the kernel has kprobes.
//! 3. Hooks: `reg.syscalls().syscall_enter(nr, &args, regs)` / `syscall_exit(nr, ret, regs)`
//!    around every syscall, `trace_sched_switch(...)` etc. where the events happen.
//! 4. The VFS forwards tracefs files to [`TraceFs`] (`truncate` on an `O_TRUNC` open,
//!    `trace_pipe_read` blocking on `EAGAIN` until [`TraceFs::take_wakeup`] said so).

mod buffer;
mod event;
mod field;
pub mod kprobe;
mod output;
mod raw;
mod registry;
mod syscalls;
mod tracefs;
mod tracepoint;

pub use event::{ConsumerHandle, EventConsumer, EventHold, TraceEvent};
pub use field::{Field, FieldStyle, COMMON_HEADER_SIZE};
pub use kprobe::{KprobeHit, KprobeSource, KprobeTarget, ProbeArm, ProbeArmKind, RegistryArm};
pub use raw::{RawConsumer, RawTracepoint};
pub use registry::TraceRegistry;
pub use syscalls::SyscallTracepoints;
pub use tracefs::{NodeKind, TraceFs};
pub use tracepoint::{with_record, CommonHeader, DataLoc, TraceField, Tracepoint};

pub use syscall_abi::ptregs::x86_64::PtRegs as X86PtRegs;

/// What the trace side needs from the kernel at event time. All methods may be called from
/// event context (trap handlers, the scheduler): they must not block.
pub trait TraceEnv: Send + Sync {
    /// The current thread's id (Linux `current->pid`; 0 for the idle task).
    fn current_pid(&self) -> i32;
    /// The current task's name, NUL-padded.
    fn current_comm(&self) -> [u8; 16];
    /// The CPU this runs on.
    fn current_cpu(&self) -> u32;
    /// Trace clock in nanoseconds (monotonic since boot).
    fn clock_ns(&self) -> u64;
    /// Number of CPUs (the `#P:` of the `trace` header).
    fn nr_cpus(&self) -> u32 {
        1
    }
    /// Asks for a later call of [`TraceFs::take_wakeup`] from a safe point (Linux irq_work):
    /// new data is in the trace buffer. Must only queue work.
    fn queue_irq_work(&self);
}
