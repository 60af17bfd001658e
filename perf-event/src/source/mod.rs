//! Where events' hits come from: the kprobe PMU ([`kprobe`]), trace events
//! ([`tracepoint`]), and the software counters (CPU clock, [`counter_overflow`]).

pub(crate) mod kprobe;
pub(crate) mod tracepoint;

use core::sync::atomic::Ordering;

use syscall_abi::abi::Pod;
use syscall_abi::ptregs::x86_64::BpfPerfEventData;

use crate::event::EventCore;
use crate::record::SampleData;
use crate::trace::{ConsumerHandle, EventHold};
use crate::X86PtRegs;

/// What an event holds to keep receiving hits; dropping it stops them.
pub(crate) enum Source {
    /// A consumer of a trace event, and the hold that keeps the event from being deleted
    /// (`kprobe_events` `-:` → `EBUSY`) while the perf event exists.
    Tracepoint(#[allow(dead_code)] ConsumerHandle, #[allow(dead_code)] EventHold),
}

/// A counter overflowed (Linux `__perf_event_overflow` with `bpf_overflow_handler`): a
/// `BPF_PROG_TYPE_PERF_EVENT` program runs first with `struct bpf_perf_event_data`, and a
/// zero return suppresses the sample.
pub(crate) fn counter_overflow(e: &EventCore, regs: Option<&X86PtRegs>, d: &SampleData<'_>) {
    if e.prog.try_read().is_some_and(|p| p.is_some()) {
        let ctx =
            BpfPerfEventData { regs: regs.copied().unwrap_or(X86PtRegs::ZERO), sample_period: d.period, addr: d.addr };
        if e.run_prog(ctx.as_bytes(), 0) == Some(0) {
            return;
        }
    }
    e.overflow(d);
}

/// `delta` ns of CPU clock passed on a running clock event.
pub(crate) fn clock_hit(e: &EventCore, delta: u64, regs: &X86PtRegs) {
    if e.account(delta) {
        let period = e.period.load(Ordering::Relaxed);
        let user = regs.cs & 3 == 3;
        counter_overflow(e, Some(regs), &SampleData { ip: regs.rip, period, user, ..Default::default() });
    }
}
