//! The attach layer: how programs get onto events. [`TracingHost`] is what the kernel (its
//! perf-event layer and its raw tracepoint table) implements; `BPF_LINK_CREATE` with
//! `BPF_PERF_EVENT` and `BPF_RAW_TRACEPOINT_OPEN` reach it through
//! [`crate::BpfHost::tracing`] and wrap what it returns in a link.
//!
//! Contract (Linux 6.1 `perf_event_set_bpf_prog`, `bpf_probe_register`):
//! - an attachment runs the program on every hit of the event — with
//!   [`crate::run::run_prog`] (or [`crate::run::run_kprobe`] for kprobes), passing the cookie
//!   given at attach time as `RunCtx::cookie` — until the returned [`Attachment`] is dropped;
//! - dropping the [`Attachment`] detaches (Linux `perf_event_free_bpf_prog`,
//!   `bpf_probe_unregister`); the implementation keeps the program alive (it holds the
//!   `Arc<ProgObj>`) while attached;
//! - errors are Linux's: a program of the wrong type for the event → `EINVAL`
//!   ([`check_perf_event_prog`] makes that decision for perf events), an event that already
//!   has a program → `EEXIST`, an unknown raw tracepoint → `ENOENT`.
//!
//! A kernel without tracing keeps the default [`crate::BpfHost::tracing`] (`None`): then no fd
//! is a perf event `BPF_LINK_CREATE` can use (`EBADF`, what Linux's `perf_event_get` says for
//! an fd that is not a perf event) and no raw tracepoint exists (`ENOENT`).

use alloc::boxed::Box;
use alloc::sync::Arc;

use maps::FdObject;
use syscall_abi::bpf::ProgType;
use syscall_abi::{err, Errno, Result};

use crate::object::ProgObj;

/// A program attached to an event; dropping it detaches the program.
pub trait Attachment: Send + Sync {}

/// What a perf event is, for the program-type rules of [`check_perf_event_prog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfEventKind {
    /// A kprobe, kretprobe, uprobe or uretprobe event (`TRACE_EVENT_FL_UKPROBE`).
    Probe,
    /// A static tracepoint, syscall tracepoints included (`PERF_TYPE_TRACEPOINT`).
    Tracepoint,
    /// Another trace event (neither probe nor tracepoint, e.g. an ftrace function event).
    OtherTraceEvent,
    /// A hardware or software event (`PERF_TYPE_HARDWARE`, `PERF_TYPE_SOFTWARE`, ...): runs
    /// `BPF_PROG_TYPE_PERF_EVENT` programs on overflow.
    Counter,
    /// A counter the kernel uses itself (hardware breakpoint, kernel counter with an
    /// overflow handler): no program can attach.
    KernelCounter,
}

/// Linux 6.1 `perf_event_set_bpf_prog` / `perf_event_set_bpf_handler`: whether a program of
/// `prog_type` may attach to an event of `kind` (`EINVAL` otherwise). Kprobe programs go on
/// probe events, tracepoint programs on tracepoints, perf_event programs on counters.
/// Implementations of [`TracingHost::attach_perf_event`] call it, in Linux's order: for a
/// trace event (probe, tracepoint) this check comes first, then `EACCES` if a tracepoint
/// program reads past the record (`max_ctx_offset`), then `EEXIST` if the event already has
/// a program; for a counter, `EINVAL` for a kernel counter, then `EEXIST`, then this check.
pub fn check_perf_event_prog(kind: PerfEventKind, prog_type: ProgType) -> Result<()> {
    let ok = match kind {
        PerfEventKind::Probe => prog_type == ProgType::Kprobe,
        PerfEventKind::Tracepoint => prog_type == ProgType::Tracepoint,
        PerfEventKind::Counter => prog_type == ProgType::PerfEvent,
        PerfEventKind::OtherTraceEvent | PerfEventKind::KernelCounter => false,
    };
    if ok {
        Ok(())
    } else {
        err(Errno::EINVAL, "program type does not match the perf event")
    }
}

/// The kernel's tracing side, as `bpf(2)` needs it.
pub trait TracingHost: Send + Sync {
    /// Attaches `prog` to `event`, the object the perf-event layer made for a perf event fd
    /// (the one [`crate::object::FdTarget::PerfEvent`] carries; downcast with
    /// `event.as_any()`). `cookie` is what `bpf_get_attach_cookie` returns in its runs.
    /// Errors: see [`check_perf_event_prog`] (`EINVAL`); a program already attached →
    /// `EEXIST`; an object that is not one of this layer's events → `EBADF`.
    fn attach_perf_event(
        &self,
        event: &Arc<dyn FdObject>,
        prog: Arc<ProgObj>,
        cookie: u64,
    ) -> Result<Box<dyn Attachment>>;

    /// Attaches `prog` (a `BPF_PROG_TYPE_RAW_TRACEPOINT` program) to the raw tracepoint
    /// `name` (bytes without the NUL, at most 127). Errors: no such tracepoint → `ENOENT`;
    /// the program reads past the tracepoint's arguments → `EINVAL`; this program is
    /// attached there already → `EEXIST`. Default: no raw tracepoints (`ENOENT`).
    fn raw_tracepoint_open(&self, name: &[u8], prog: Arc<ProgObj>) -> Result<Box<dyn Attachment>> {
        let _ = (name, prog);
        err(Errno::ENOENT, "no such raw tracepoint")
    }
}
