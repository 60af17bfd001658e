//! [`Perf`]: the subsystem object a kernel creates once.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use maps::FdObject;
use spin::Mutex;

use crate::event::{EventCore, Kind, PerfEvent};
use crate::record::SampleData;
use crate::trace::{KprobeSource, RegistryArm, TraceEnv, TraceFs, TraceRegistry};
use crate::{PerfHost, WakeKey, X86PtRegs};

/// State the events share with [`Perf`].
pub(crate) struct Shared {
    pub(crate) host: Arc<dyn PerfHost>,
    /// Per-CPU "a tracing program runs" flags (Linux `bpf_prog_active`).
    bpf_active: Vec<AtomicBool>,
}

/// Clears a CPU's `bpf_active` flag on drop.
pub(crate) struct BpfBusy<'a>(&'a AtomicBool);

impl Drop for BpfBusy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Shared {
    /// Marks `cpu` as running a tracing program; `None` if it already is (recursion).
    pub(crate) fn bpf_enter(&self, cpu: u32) -> Option<BpfBusy<'_>> {
        let flag = self.bpf_active.get(cpu as usize)?;
        flag.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok()?;
        Some(BpfBusy(flag))
    }
}

/// The perf-event subsystem of a kernel: `perf_event_open`, the trace registry and tracefs,
/// the kprobe PMU, the CPU clock, irq_work, and the `bpf(2)` attach side.
pub struct Perf {
    pub(crate) shared: Arc<Shared>,
    pub(crate) next_id: AtomicU32,
    /// Every live event (for irq_work, the timer and exec); pruned on open.
    pub(crate) events: Mutex<Vec<Weak<EventCore>>>,
    trace: Arc<TraceRegistry>,
    tracefs: TraceFs,
}

impl Perf {
    /// The subsystem over `host`.
    pub fn new(host: Arc<dyn PerfHost>) -> Arc<Perf> {
        let cpus = host.bpf().possible_cpus().max(1) as usize;
        let trace = TraceRegistry::new(Arc::new(Env(host.clone())));
        if host.kprobes().is_some() {
            trace.set_probe_arm(RegistryArm::new(Arc::new(Env(host.clone()))));
        }
        let tracefs = TraceFs::new(trace.clone());
        let shared = Arc::new(Shared { host, bpf_active: (0..cpus).map(|_| AtomicBool::new(false)).collect() });
        Arc::new(Perf { shared, next_id: AtomicU32::new(1), events: Mutex::new(Vec::new()), trace, tracefs })
    }

    /// The host.
    pub fn host(&self) -> &Arc<dyn PerfHost> {
        &self.shared.host
    }

    /// The trace event registry.
    pub fn trace(&self) -> &Arc<TraceRegistry> {
        &self.trace
    }

    /// The tracefs model.
    pub fn tracefs(&self) -> &TraceFs {
        &self.tracefs
    }

    /// The kprobe PMU's type (`/sys/bus/event_source/devices/kprobe/type`).
    pub fn kprobe_pmu_type(&self) -> u32 {
        crate::KPROBE_PMU_TYPE
    }

    /// The perf event behind an object a `perf_event_array` or an fd holds (for
    /// `BpfHost::perf_event_output_target` and the kernel's fd operations).
    pub fn as_event(obj: &dyn FdObject) -> Option<&PerfEvent> {
        obj.as_any().downcast_ref::<PerfEvent>()
    }

    /// Live events (skipping ones being freed); `None` if the list is busy.
    fn live(&self, wait: bool) -> Option<Vec<Arc<EventCore>>> {
        let list = if wait { self.events.lock() } else { self.events.try_lock()? };
        Some(list.iter().filter_map(Weak::upgrade).collect())
    }

    /// Runs `f` on every live event from event context (timer interrupt, software event
    /// hooks): no allocation, and nothing at all when the list is being changed. (On SMP an
    /// event closed on another CPU meanwhile may be freed here, at the end of `f`.)
    fn for_each_event(&self, mut f: impl FnMut(&EventCore)) {
        let Some(list) = self.events.try_lock() else { return };
        for w in list.iter() {
            if let Some(e) = w.upgrade() {
                f(&e);
            }
        }
    }

    /// Registers a new event.
    pub(crate) fn add_event(&self, core: &Arc<EventCore>) {
        let mut list = self.events.lock();
        list.retain(|e| e.strong_count() > 0);
        list.push(Arc::downgrade(core));
    }

    /// Linux `irq_work_run` for this subsystem: wakes the waiters of every event whose ring
    /// asked for a wake-up, and the trace_pipe readers. Call it from a context that may
    /// take locks (the kernel's irq_work / softirq / return-to-user point).
    pub fn irq_work_run(&self) {
        if let Some(events) = self.live(false) {
            for e in events {
                if e.hup_pending.swap(false, Ordering::AcqRel) {
                    self.shared.host.wake(WakeKey::Event(e.id));
                }
                let rb = e.ring.try_read().and_then(|r| r.clone());
                if let Some(rb) = rb {
                    if rb.take_wake() {
                        for id in rb.event_ids() {
                            self.shared.host.wake(WakeKey::Event(id));
                        }
                    }
                }
            }
        } else {
            // Busy: try again at the next safe point.
            self.shared.host.queue_irq_work();
        }
        if self.tracefs.take_wakeup() {
            self.shared.host.wake(WakeKey::TracePipe);
        }
    }

    /// `PERF_COUNT_SW_CPU_CLOCK` / `TASK_CLOCK`: the kernel calls this from its timer
    /// interrupt with the interrupted registers. Adds the time since the last tick to every
    /// running clock event of this CPU/task; a sampling one overflows every `sample_period`
    /// ns (`sample_freq` Hz in freq mode), writing a sample or running its
    /// `BPF_PROG_TYPE_PERF_EVENT` program.
    pub fn timer_tick(&self, regs: &X86PtRegs) {
        self.for_each_event(|e| {
            if !matches!(e.kind, Kind::Clock) {
                return;
            }
            let now = e.clock_ns();
            let last = e.clock_last.swap(now, Ordering::Relaxed);
            if e.counts_here() && last != 0 {
                crate::source::clock_hit(e, now.saturating_sub(last), regs);
            }
        });
    }

    /// A software event of this kind happened `nr` times (`perf_sw_event`): the kernel may
    /// call it for page faults, context switches, ... (`config` = `PERF_COUNT_SW_*`).
    pub fn sw_event(&self, config: u64, nr: u64, regs: Option<&X86PtRegs>) {
        self.for_each_event(|e| {
            if matches!(e.kind, Kind::Software(c) if c == config) && e.counts_here() && e.account(nr) {
                let ip = regs.map_or(0, |r| r.rip);
                let user = regs.is_some_and(|r| r.cs & 3 == 3);
                let d = SampleData { ip, period: e.period.load(Ordering::Relaxed), user, ..Default::default() };
                crate::source::counter_overflow(e, regs, &d);
            }
        });
    }

    /// Task `pid` (thread id) exited (Linux `perf_event_exit_task`): its task-bound events
    /// stop counting and report `EPOLLHUP`; their waiters are woken through irq_work.
    pub fn on_exit(&self, pid: i32) {
        let Some(events) = self.live(true) else { return };
        let mut any = false;
        for e in events.iter().filter(|e| e.task == pid && e.task >= 0) {
            e.set_enabled(false);
            e.dead.store(true, Ordering::Release);
            e.hup_pending.store(true, Ordering::Release);
            any = true;
        }
        if any {
            self.shared.host.queue_irq_work();
        }
    }

    /// `exec` of task `pid` (thread id): enables its `enable_on_exec` events (Linux
    /// `perf_event_enable_on_exec`).
    pub fn on_exec(&self, pid: i32) {
        let Some(events) = self.live(true) else { return };
        for e in events {
            if e.task == pid && e.enable_on_exec.swap(false, Ordering::AcqRel) {
                e.set_enabled(true);
            }
        }
    }
}

/// The trace side's view of the kernel ([`TraceEnv`], [`KprobeSource`]) over the
/// [`PerfHost`].
struct Env(Arc<dyn PerfHost>);

impl TraceEnv for Env {
    fn current_pid(&self) -> i32 {
        self.0.bpf().current_pid_tgid().0 as i32
    }

    fn current_comm(&self) -> [u8; 16] {
        self.0.bpf().current_comm()
    }

    fn current_cpu(&self) -> u32 {
        self.0.bpf().current_cpu()
    }

    fn clock_ns(&self) -> u64 {
        self.0.bpf().ktime_ns()
    }

    fn nr_cpus(&self) -> u32 {
        self.0.bpf().possible_cpus()
    }

    fn queue_irq_work(&self) {
        self.0.queue_irq_work();
    }
}

impl KprobeSource for Env {
    fn kprobes(&self) -> Option<&kprobe_arch::Registry> {
        self.0.kprobes()
    }

    fn symbol_name(&self, addr: u64) -> Option<(alloc::string::String, u64, u64)> {
        let mut buf = [0u8; 256];
        let sym = self.0.bpf().kallsyms_lookup_addr(addr, &mut buf)?;
        let name = core::str::from_utf8(buf.get(..sym.name_len)?).ok()?;
        Some((name.into(), addr.wrapping_sub(sym.start), sym.size))
    }

    fn read_kernel(&self, addr: u64, buf: &mut [u8]) -> syscall_abi::Result<()> {
        self.0.bpf().copy_from_kernel_nofault(buf, addr)
    }
}
