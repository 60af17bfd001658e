//! `perf_event_open(2)`, perf ring buffers, tracepoints and the kprobe PMU (`no_std` + `alloc`).
//!
//! The model is Linux 6.1 (`kernel/events/core.c`, `kernel/events/ring_buffer.c`,
//! `kernel/trace/trace_event_perf.c`, `kernel/trace/trace_kprobe.c`,
//! `kernel/trace/bpf_trace.c`); errnos follow it.
//!
//! - [`Perf`]: the subsystem object a kernel creates once over its [`PerfHost`]:
//!   `perf_event_open` ([`Perf::open`]), the CPU clock tick ([`Perf::timer_tick`]),
//!   irq_work ([`Perf::irq_work_run`]), the exec and exit hooks ([`Perf::on_exec`],
//!   [`Perf::on_exit`]), software event hooks ([`Perf::sw_event`]), the `bpf(2)` attach side
//!   ([`Perf::tracing_host`]).
//! - [`PerfEvent`]: one event (what a perf fd holds): `read`, `ioctl`, `mmap`, `poll`.
//! - [`PerfRing`]: one mapping of an event's ring buffer (`perf_event_mmap_page` + data).
//! - [`trace`]: tracepoints, the trace event registry and the tracefs model.
//!
//! # Contexts
//! Events fire from probe (trap), tracepoint and timer context: that path takes no lock that
//! the syscall side can hold while it runs on the same CPU — it only uses `try_lock`s and
//! atomics, and drops the sample (counted as lost) when a lock is busy. Wake-ups are never
//! done from event context: the event asks for [`PerfHost::queue_irq_work`] and the kernel
//! calls [`Perf::irq_work_run`] at its next safe point, which calls [`PerfHost::wake`].
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod bpf;
mod event;
mod ioctl;
mod open;
mod perf;
mod read;
mod record;
mod ring;
mod source;
pub mod trace;

pub use event::PerfEvent;
pub use kprobe_arch::X86PtRegs;
pub use perf::Perf;
pub use ring::PerfRing;

/// The type of the kprobe PMU (`/sys/bus/event_source/devices/kprobe/type`): the first
/// dynamic PMU type after the built-in ones, as on a Linux with no other dynamic PMU.
pub const KPROBE_PMU_TYPE: u32 = 6;

/// `/sys/bus/event_source/devices/kprobe/format/retprobe`: the retprobe bit of `config`.
pub const KPROBE_FORMAT_RETPROBE: &str = "config:0\n";

/// Who a [`PerfHost::wake`] call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeKey {
    /// Waiters on the fd of the perf event with this id (poll/epoll/blocking read).
    Event(u32),
    /// Readers blocked on tracefs `trace_pipe`.
    TracePipe,
}

/// What `poll` on a perf event fd reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollState {
    /// `EPOLLIN`: the ring buffer has data since the last wake-up.
    pub readable: bool,
    /// `EPOLLHUP`: the event's task exited ([`Perf::on_exit`]).
    pub hup: bool,
}

/// What the perf-event subsystem needs from a kernel, on top of its [`bpf_subsys::BpfHost`].
pub trait PerfHost: Send + Sync {
    /// The kernel's bpf host: user memory, ids of the current task, time, CPUs,
    /// `alloc_shared`, capabilities, fd resolution.
    fn bpf(&self) -> &dyn bpf_subsys::BpfHost;
    /// The kprobe registry; `None` on a kernel without kprobes (the kprobe PMU then answers
    /// `ENOENT`).
    fn kprobes(&self) -> Option<&kprobe_arch::Registry>;
    /// Ask for [`Perf::irq_work_run`] at the next safe point (Linux `irq_work_queue`). Called
    /// from event context: must not block or take locks the event may interrupt.
    fn queue_irq_work(&self);
    /// Whether a task with this pid (thread id) exists (`perf_event_open` with `pid > 0`
    /// answers `ESRCH` otherwise).
    fn task_exists(&self, pid: i32) -> bool;
    /// Wake whoever waits on this event's fd / on `trace_pipe` (called only from
    /// [`Perf::irq_work_run`]).
    fn wake(&self, key: WakeKey);
}
