//! `PERF_TYPE_TRACEPOINT` events: a consumer of a [`TraceEvent`] (Linux
//! `perf_trace_event_init` / `perf_tp_event`, with `trace_call_bpf` first).

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use bpf_subsys::attach::PerfEventKind;
use syscall_abi::abi::Pod;
use syscall_abi::Result;

use super::Source;
use crate::event::EventCore;
use crate::record::SampleData;
use crate::trace::{EventConsumer, TraceEvent};
use crate::X86PtRegs;

/// The consumer a perf event puts on its trace event.
pub(crate) struct TpConsumer {
    core: Arc<EventCore>,
    /// A probe event (kprobe_events): programs get `pt_regs`, not the record.
    probe: bool,
}

/// Subscribes `core` to `tp`.
pub(crate) fn attach(core: &Arc<EventCore>, tp: &Arc<TraceEvent>) -> Result<Source> {
    let probe = tp.kind() == PerfEventKind::Probe;
    let c = Arc::new(TpConsumer { core: core.clone(), probe });
    let handle = tp.attach(c)?;
    Ok(Source::Tracepoint(handle, tp.hold()))
}

impl EventConsumer for TpConsumer {
    fn hit(&self, rec: &[u8], regs: Option<&mut X86PtRegs>) {
        let e = &self.core;
        let regs = regs.map(|r| &*r);
        // The program runs for every hit of the trace event (it is attached to the event,
        // not to this CPU/task); a zero return drops the perf sample (`trace_call_bpf`).
        let ran = match (self.probe, regs) {
            (true, Some(r)) => {
                let func_ip = rec.get(8..16).map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])));
                e.run_prog(r.as_bytes(), func_ip)
            }
            _ => e.run_prog(rec, 0),
        };
        if ran == Some(0) || !e.counts_here() {
            return;
        }
        if e.account(1) {
            let period = e.period.load(Ordering::Relaxed);
            let ip = regs.map_or(0, |r| r.rip);
            e.overflow(&SampleData { ip, period, raw: Some(rec), ..Default::default() });
        }
    }

    fn prog_id(&self) -> Option<u32> {
        self.core.prog.try_read()?.as_ref().map(|s| s.prog.id())
    }
}
