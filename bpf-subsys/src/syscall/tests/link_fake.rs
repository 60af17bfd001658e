//! A fake tracing layer for the link tests: perf events that record the program attached to
//! them and can be fired, a raw tracepoint table, and [`TracingTestHost`], the test host with
//! that tracing layer plugged in ([`crate::BpfHost::tracing`]).

use std::boxed::Box;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use maps::{FdObject, SharedPages};
use syscall_abi::ptregs::native::PtRegs;
use syscall_abi::{err, Errno, Result};

use crate::attach::{check_perf_event_prog, Attachment, PerfEventKind, TracingHost};
use crate::helpers::RunCtx;
use crate::host::{BpfHost, Capability};
use crate::object::{BpfFile, BpfObject, FdTarget, FileMode, ProgObj, Registry, UserRef};
use crate::run::{run_kprobe, run_prog};
use crate::syscall::tests::T;
use crate::test_host::TestHost;
use crate::vm::Region;

/// Address a fake kprobe reports to `bpf_get_func_ip`.
pub(super) const PROBE_IP: u64 = 0xffff_ffff_8100_1000;

/// A fake perf event.
pub(super) struct FakePerfEvent {
    id: u32,
    kind: PerfEventKind,
    attached: Mutex<Option<(Arc<ProgObj>, u64)>>,
}

impl FakePerfEvent {
    pub(super) fn new(id: u32, kind: PerfEventKind) -> Arc<FakePerfEvent> {
        Arc::new(FakePerfEvent { id, kind, attached: Mutex::new(None) })
    }

    /// Id of the attached program, if any.
    pub(super) fn prog_id(&self) -> Option<u32> {
        self.attached.lock().unwrap().as_ref().map(|(p, _)| p.id())
    }

    /// One hit of the event: runs the attached program (kprobes with `regs` as `pt_regs`,
    /// tracepoints with a 16-byte record); `None` when nothing is attached.
    pub(super) fn fire(&self, host: &dyn BpfHost, regs: &PtRegs) -> Option<u64> {
        let (prog, cookie) = self.attached.lock().unwrap().clone()?;
        let r = match self.kind {
            PerfEventKind::Probe => run_kprobe(host, &prog, regs, PROBE_IP, cookie),
            _ => {
                let record = [0u8; 16];
                run_prog(host, &prog, Region::new(&record), RunCtx { cookie, ..RunCtx::default() })
            }
        };
        Some(r.expect("attached program failed"))
    }
}

impl FdObject for FakePerfEvent {
    fn id(&self) -> u32 {
        self.id
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// A program on a [`FakePerfEvent`]; dropping it detaches.
struct PerfAttachment(Arc<dyn FdObject>);

impl Attachment for PerfAttachment {}

impl Drop for PerfAttachment {
    fn drop(&mut self) {
        if let Some(ev) = self.0.as_any().downcast_ref::<FakePerfEvent>() {
            ev.attached.lock().unwrap().take();
        }
    }
}

type TpTable = Mutex<BTreeMap<Vec<u8>, Vec<Arc<ProgObj>>>>;

/// The fake raw tracepoint table: the tracepoints `sched_switch` and `sys_enter`.
pub(super) struct FakeTracing {
    tps: Arc<TpTable>,
}

impl FakeTracing {
    fn new() -> FakeTracing {
        let mut tps = BTreeMap::new();
        tps.insert(b"sched_switch".to_vec(), Vec::new());
        tps.insert(b"sys_enter".to_vec(), Vec::new());
        FakeTracing { tps: Arc::new(Mutex::new(tps)) }
    }

    /// Number of programs on the raw tracepoint `name`.
    pub(super) fn attached(&self, name: &[u8]) -> usize {
        self.tps.lock().unwrap().get(name).map_or(0, Vec::len)
    }

    /// One hit of the raw tracepoint `name` with `args`: the results of its programs.
    pub(super) fn fire_raw_tp(&self, host: &dyn BpfHost, name: &[u8], args: &[u64]) -> Vec<u64> {
        let progs = self.tps.lock().unwrap().get(name).cloned().unwrap_or_default();
        let bytes: Vec<u8> = args.iter().flat_map(|a| a.to_ne_bytes()).collect();
        progs
            .iter()
            .map(|p| run_prog(host, p, Region::new(&bytes), RunCtx::default()).expect("raw tp program failed"))
            .collect()
    }
}

/// A program on a raw tracepoint; dropping it unregisters.
struct RawTpAttachment {
    tps: Arc<TpTable>,
    name: Vec<u8>,
    prog: Arc<ProgObj>,
}

impl Attachment for RawTpAttachment {}

impl Drop for RawTpAttachment {
    fn drop(&mut self) {
        if let Some(v) = self.tps.lock().unwrap().get_mut(&self.name) {
            v.retain(|p| !Arc::ptr_eq(p, &self.prog));
        }
    }
}

impl TracingHost for FakeTracing {
    fn attach_perf_event(
        &self,
        event: &Arc<dyn FdObject>,
        prog: Arc<ProgObj>,
        cookie: u64,
    ) -> Result<Box<dyn Attachment>> {
        let Some(ev) = event.as_any().downcast_ref::<FakePerfEvent>() else {
            return err(Errno::EBADF, "not a fake perf event");
        };
        let mut slot = ev.attached.lock().unwrap();
        // perf_event_set_bpf_handler (counters) checks EEXIST before the program type.
        if ev.kind == PerfEventKind::Counter && slot.is_some() {
            return err(Errno::EEXIST, "event has a program");
        }
        check_perf_event_prog(ev.kind, prog.prog_type())?;
        if slot.is_some() {
            return err(Errno::EEXIST, "event has a program");
        }
        *slot = Some((prog, cookie));
        Ok(Box::new(PerfAttachment(event.clone())))
    }

    fn raw_tracepoint_open(&self, name: &[u8], prog: Arc<ProgObj>) -> Result<Box<dyn Attachment>> {
        let mut tps = self.tps.lock().unwrap();
        let Some(progs) = tps.get_mut(name) else {
            return err(Errno::ENOENT, "no such raw tracepoint");
        };
        if progs.iter().any(|p| Arc::ptr_eq(p, &prog)) {
            return err(Errno::EEXIST, "program already on this tracepoint");
        }
        progs.push(prog.clone());
        Ok(Box::new(RawTpAttachment { tps: self.tps.clone(), name: name.to_vec(), prog }))
    }
}

/// The test host with [`FakeTracing`].
pub(super) struct TracingTestHost {
    inner: Arc<TestHost>,
    pub(super) tracing: FakeTracing,
}

impl BpfHost for TracingTestHost {
    fn copy_from_user(&self, dst: &mut [u8], src: u64) -> Result<()> {
        self.inner.copy_from_user(dst, src)
    }
    fn copy_to_user(&self, dst: u64, src: &[u8]) -> Result<()> {
        self.inner.copy_to_user(dst, src)
    }
    fn strncpy_from_user(&self, dst: &mut [u8], src: u64) -> Result<usize> {
        self.inner.strncpy_from_user(dst, src)
    }
    fn current_pid_tgid(&self) -> (u32, u32) {
        self.inner.current_pid_tgid()
    }
    fn current_uid_gid(&self) -> (u32, u32) {
        self.inner.current_uid_gid()
    }
    fn current_comm(&self) -> [u8; 16] {
        self.inner.current_comm()
    }
    fn capable(&self, cap: Capability) -> bool {
        self.inner.capable(cap)
    }
    fn ktime_ns(&self) -> u64 {
        self.inner.ktime_ns()
    }
    fn jiffies(&self) -> u64 {
        self.inner.jiffies()
    }
    fn current_cpu(&self) -> u32 {
        self.inner.current_cpu()
    }
    fn possible_cpus(&self) -> u32 {
        self.inner.possible_cpus()
    }
    fn random_u32(&self) -> u32 {
        self.inner.random_u32()
    }
    fn alloc_shared(&self, pages: usize, repeat_tail: usize) -> Result<Box<dyn SharedPages>> {
        self.inner.alloc_shared(pages, repeat_tail)
    }
    fn install_fd(&self, file: BpfFile, cloexec: bool) -> Result<u32> {
        self.inner.install_fd(file, cloexec)
    }
    fn resolve_fd(&self, fd: u32) -> Result<FdTarget> {
        self.inner.resolve_fd(fd)
    }
    fn pin(&self, path: &[u8], obj: UserRef) -> Result<()> {
        self.inner.pin(path, obj)
    }
    fn get_pinned(&self, path: &[u8], mode: FileMode) -> Result<BpfObject> {
        self.inner.get_pinned(path, mode)
    }
    fn registry(&self) -> &Registry {
        self.inner.registry()
    }
    fn trace_printk(&self, msg: &[u8]) {
        self.inner.trace_printk(msg)
    }
    fn tracing(&self) -> Option<&dyn TracingHost> {
        Some(&self.tracing)
    }
}

/// A fake process on a kernel with tracing: the [`T`] helpers plus the tracing layer.
pub(super) struct TT {
    pub t: T,
    pub th: Arc<TracingTestHost>,
}

impl TT {
    pub fn new() -> TT {
        let h = TestHost::new(super::CPUS);
        let th = Arc::new(TracingTestHost { inner: h.clone(), tracing: FakeTracing::new() });
        let host: Arc<dyn BpfHost> = th.clone();
        TT { t: T { h, host }, th }
    }

    /// A new fake perf event of `kind`, installed as an fd: `(fd, event)`.
    pub fn event(&self, kind: PerfEventKind) -> (u32, Arc<FakePerfEvent>) {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let ev = FakePerfEvent::new(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed), kind);
        (self.t.h.install_perf(ev.clone()), ev)
    }

    /// Fires `ev` once with zeroed registers.
    pub fn fire(&self, ev: &FakePerfEvent) -> Option<u64> {
        ev.fire(&*self.th, &PtRegs::ZERO)
    }
}
