//! The `bpf(2)` side of perf events: [`bpf_subsys::attach::TracingHost`] (perf links and raw
//! tracepoints), `PERF_EVENT_IOC_SET_BPF`, and `bpf_perf_event_output` into
//! `PERF_COUNT_SW_BPF_OUTPUT` events (Linux `perf_event_set_bpf_prog`,
//! `__bpf_perf_event_output`).

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};

use bpf_subsys::attach::{check_perf_event_prog, Attachment, PerfEventKind, TracingHost};
use bpf_subsys::helpers::PerfEventOutput;
use bpf_subsys::object::ProgObj;
use maps::FdObject;
use syscall_abi::{err, Errno, Result};

use crate::event::{EventCore, Kind, PerfEvent, ProgSlot};
use crate::perf::{Perf, Shared};
use crate::record::SampleData;
use crate::trace::{ConsumerHandle, RawConsumer};

/// Runs a tracing program with `ctx` (Linux `trace_call_bpf` / `__bpf_trace_run`): returns
/// `R0`, or 0 when this CPU already runs a tracing program (counted in the program's
/// `recursion_misses`, as Linux's `bpf_prog_active`) or the run failed.
pub(crate) fn run_tracing(shared: &Shared, prog: &ProgObj, ctx: &[u8], func_ip: u64, cookie: u64) -> u64 {
    let host = shared.host.bpf();
    let Some(_busy) = shared.bpf_enter(host.current_cpu()) else {
        prog.stats().recursion_misses.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        return 0;
    };
    let run_ctx = bpf_subsys::helpers::RunCtx { func_ip, cookie, ..Default::default() };
    bpf_subsys::run::run_prog(host, prog, bpf_subsys::vm::Region::new(ctx), run_ctx).unwrap_or(0)
}

/// Most arguments a raw tracepoint passes (Linux: 12).
const MAX_RAW_ARGS: usize = 12;

/// A program on a raw tracepoint (Linux `bpf_raw_tp_link`'s probe).
struct RawProg {
    shared: Arc<Shared>,
    prog: Arc<ProgObj>,
}

impl RawConsumer for RawProg {
    fn hit(&self, args: &[u64]) {
        let mut ctx = [0u8; MAX_RAW_ARGS * 8];
        let n = args.len().min(MAX_RAW_ARGS);
        for (dst, a) in ctx.chunks_exact_mut(8).zip(&args[..n]) {
            dst.copy_from_slice(&a.to_ne_bytes());
        }
        run_tracing(&self.shared, &self.prog, &ctx[..n * 8], 0, 0);
    }

    fn prog_id(&self) -> Option<u32> {
        Some(self.prog.id())
    }
}

/// A raw tracepoint attachment: dropping it removes the consumer.
struct RawAttachment {
    _handle: ConsumerHandle,
}

impl Attachment for RawAttachment {}

/// What kind of event `core` is for the program-type rules.
fn kind_of(core: &EventCore) -> PerfEventKind {
    match &core.kind {
        Kind::Tracepoint(tp) => tp.kind(),
        Kind::BpfOutput | Kind::Clock | Kind::Software(_) => PerfEventKind::Counter,
    }
}

/// A program on an event; dropping it detaches the program.
struct PerfAttachment {
    core: Arc<EventCore>,
}

impl Attachment for PerfAttachment {}

impl Drop for PerfAttachment {
    fn drop(&mut self) {
        *self.core.prog.write() = None;
    }
}

/// Linux `perf_event_set_bpf_prog`: type rules, then (tracepoints) `EACCES` for a program
/// reading past the record (`max_ctx_offset`), then `EEXIST` (counters: `EEXIST` first).
pub(crate) fn attach(core: &Arc<EventCore>, prog: Arc<ProgObj>, cookie: u64) -> Result<Box<dyn Attachment>> {
    let kind = kind_of(core);
    let mut slot = core.prog.write();
    if kind == PerfEventKind::Counter {
        if slot.is_some() {
            return err(Errno::EEXIST, "the event has a program");
        }
        check_perf_event_prog(kind, prog.prog_type())?;
    } else {
        check_perf_event_prog(kind, prog.prog_type())?;
        if let Kind::Tracepoint(tp) = &core.kind {
            let size = u32::try_from(tp.record_size()).unwrap_or(u32::MAX);
            if kind == PerfEventKind::Tracepoint && prog.max_ctx_offset() > size {
                return err(Errno::EACCES, "the program reads past the tracepoint record");
            }
        }
        if slot.is_some() {
            return err(Errno::EEXIST, "the event has a program");
        }
    }
    *slot = Some(ProgSlot { prog, cookie });
    Ok(Box::new(PerfAttachment { core: core.clone() }))
}

/// The [`TracingHost`] of a [`Perf`].
struct Tracing {
    perf: Weak<Perf>,
}

impl TracingHost for Tracing {
    fn attach_perf_event(
        &self,
        event: &Arc<dyn FdObject>,
        prog: Arc<ProgObj>,
        cookie: u64,
    ) -> Result<Box<dyn Attachment>> {
        let ev = Perf::as_event(&**event).ok_or(Errno::EBADF)?;
        attach(&ev.core, prog, cookie)
    }

    fn raw_tracepoint_open(&self, name: &[u8], prog: Arc<ProgObj>) -> Result<Box<dyn Attachment>> {
        let Some(perf) = self.perf.upgrade() else {
            return err(Errno::ENOENT, "no such raw tracepoint");
        };
        let Some(tp) = perf.trace().raw_tracepoint(name) else {
            return err(Errno::ENOENT, "no such raw tracepoint");
        };
        let handle = tp.attach(Arc::new(RawProg { shared: perf.shared.clone(), prog }))?;
        Ok(Box::new(RawAttachment { _handle: handle }))
    }
}

impl Perf {
    /// What the kernel hands to its `BpfHost::tracing` (`BPF_LINK_CREATE` with
    /// `BPF_PERF_EVENT`, `BPF_RAW_TRACEPOINT_OPEN`).
    pub fn tracing_host(self: &Arc<Self>) -> Arc<dyn TracingHost> {
        Arc::new(Tracing { perf: Arc::downgrade(self) })
    }
}

impl PerfEventOutput for PerfEvent {
    /// Linux `__bpf_perf_event_output`: a `PERF_COUNT_SW_BPF_OUTPUT` event only (`EINVAL`),
    /// running on `cpu` (`EOPNOTSUPP` when disabled, bound to another CPU or to a task that
    /// is not current), then a sample with `PERF_SAMPLE_RAW` = `data`; no ring or no room →
    /// `ENOSPC` (counted as lost).
    fn bpf_output(&self, cpu: u32, data: &[u8]) -> Result<()> {
        let core = &self.core;
        if !matches!(core.kind, Kind::BpfOutput) {
            return err(Errno::EINVAL, "not a BPF_OUTPUT event");
        }
        if !core.counts_here() || (core.cpu >= 0 && core.cpu as u32 != cpu) {
            return err(Errno::EOPNOTSUPP, "the event is not running on this CPU");
        }
        let d = SampleData { raw: Some(data), ..Default::default() };
        core.output_sample(&d).map_err(|_| Errno::ENOSPC.into())
    }
}
