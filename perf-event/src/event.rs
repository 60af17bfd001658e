//! [`PerfEvent`], the object behind a perf event fd, and [`EventCore`], its state shared
//! with the event sources (probe handler, tracepoint consumer, timer).
//!
//! Counting and sampling follow Linux's software events (`perf_swevent_event`,
//! `__perf_event_overflow`): every hit adds to the count while the event is enabled and
//! runs on this CPU/task; a sampling event (`sample_period` != 0) overflows every
//! `sample_period` hits (CPU clock: ns) and writes a `PERF_RECORD_SAMPLE` to its ring (or
//! runs its `BPF_PROG_TYPE_PERF_EVENT` program first).

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use bpf_subsys::attach::Attachment;
use bpf_subsys::object::ProgObj;
use maps::FdObject;
use spin::{Mutex, RwLock};
use syscall_abi::perf::PerfEventAttr;
use syscall_abi::Result;

use crate::perf::Shared;
use crate::record::{self, Origin, SampleData};
use crate::ring::{OutputError, RingBuffer};
use crate::source::Source;
use crate::trace::TraceEvent;
use crate::{PerfHost, PollState};

/// What produces an event's hits.
pub(crate) enum Kind {
    /// `PERF_TYPE_TRACEPOINT` (static, syscall or kprobe_events trace event), or the kprobe
    /// PMU (its own unlisted kprobe trace event).
    Tracepoint(Arc<TraceEvent>),
    /// `PERF_COUNT_SW_BPF_OUTPUT`.
    BpfOutput,
    /// `PERF_COUNT_SW_CPU_CLOCK` / `PERF_COUNT_SW_TASK_CLOCK` (ns, from the timer tick).
    Clock,
    /// Another software event (counted only through [`crate::Perf::sw_event`]).
    Software(u64),
}

/// A program on the event (`PERF_EVENT_IOC_SET_BPF` or a perf link).
#[derive(Clone)]
pub(crate) struct ProgSlot {
    pub prog: Arc<ProgObj>,
    pub cookie: u64,
}

/// Enable time bookkeeping (syscall side).
#[derive(Default)]
struct Times {
    total: u64,
    since: Option<u64>,
}

/// The state of one event.
pub(crate) struct EventCore {
    pub(crate) id: u32,
    pub(crate) shared: Arc<Shared>,
    pub(crate) attr: PerfEventAttr,
    pub(crate) kind: Kind,
    /// Bound CPU, or -1.
    pub(crate) cpu: i32,
    /// Bound task (thread id), or -1 for every task.
    pub(crate) task: i32,
    pub(crate) leader: Option<Arc<EventCore>>,
    pub(crate) siblings: Mutex<Vec<Weak<EventCore>>>,
    enabled: AtomicBool,
    count: AtomicU64,
    /// Hits (ns) since the last overflow.
    pub(crate) period_acc: AtomicU64,
    pub(crate) period: AtomicU64,
    /// `PERF_EVENT_IOC_REFRESH` limit (0: none).
    event_limit: AtomicI64,
    lost: AtomicU64,
    times: Mutex<Times>,
    pub(crate) ring: RwLock<Option<Arc<RingBuffer>>>,
    pub(crate) prog: RwLock<Option<ProgSlot>>,
    /// Last CPU clock tick seen (ns).
    pub(crate) clock_last: AtomicU64,
    pub(crate) enable_on_exec: AtomicBool,
    /// The bound task exited (`EPOLLHUP`).
    pub(crate) dead: AtomicBool,
    /// A hang-up wake-up waits for `irq_work_run`.
    pub(crate) hup_pending: AtomicBool,
}

impl EventCore {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: u32,
        shared: Arc<Shared>,
        attr: PerfEventAttr,
        kind: Kind,
        cpu: i32,
        task: i32,
        leader: Option<Arc<EventCore>>,
        period: u64,
    ) -> EventCore {
        EventCore {
            id,
            shared,
            attr,
            kind,
            cpu,
            task,
            leader,
            siblings: Mutex::new(Vec::new()),
            enabled: AtomicBool::new(false),
            count: AtomicU64::new(0),
            period_acc: AtomicU64::new(0),
            period: AtomicU64::new(period),
            event_limit: AtomicI64::new(0),
            lost: AtomicU64::new(0),
            times: Mutex::new(Times::default()),
            ring: RwLock::new(None),
            prog: RwLock::new(None),
            clock_last: AtomicU64::new(0),
            enable_on_exec: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            hup_pending: AtomicBool::new(false),
        }
    }

    pub(crate) fn host(&self) -> &dyn PerfHost {
        &*self.shared.host
    }

    pub(crate) fn bpf(&self) -> &dyn bpf_subsys::BpfHost {
        self.shared.host.bpf()
    }

    /// Timestamps of records (`local_clock`).
    pub(crate) fn clock_ns(&self) -> u64 {
        self.bpf().ktime_ns()
    }

    /// Whether the event itself is enabled.
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Enabled, with its group leader enabled (siblings count only with their leader).
    pub(crate) fn is_active(&self) -> bool {
        self.is_enabled() && self.leader.as_ref().is_none_or(|l| l.is_enabled())
    }

    /// Whether the event counts what happens now: active, on its CPU, in its task.
    pub(crate) fn counts_here(&self) -> bool {
        if !self.is_active() {
            return false;
        }
        let host = self.bpf();
        if self.cpu >= 0 && host.current_cpu() as i32 != self.cpu {
            return false;
        }
        if self.task >= 0 {
            let (tid, pid) = host.current_pid_tgid();
            if tid as i32 != self.task && pid as i32 != self.task {
                return false;
            }
        }
        true
    }

    /// A clock event that runs here: counts the time since the last tick now (Linux
    /// `cpu_clock_event_read`); a sample due is written at the next tick.
    pub(crate) fn clock_sync(&self) {
        if matches!(self.kind, Kind::Clock) && self.counts_here() {
            let now = self.clock_ns();
            let last = self.clock_last.swap(now, Ordering::Relaxed);
            if last != 0 {
                // Counted and carried toward the next period; the next tick samples.
                let delta = now.saturating_sub(last);
                self.add_count(delta);
                self.period_acc.fetch_add(delta, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn set_enabled(&self, on: bool) {
        if on && self.dead.load(Ordering::Acquire) {
            return;
        }
        if !on {
            self.clock_sync();
        }
        let now = self.clock_ns();
        let mut t = self.times.lock();
        if on && t.since.is_none() {
            t.since = Some(now);
            if matches!(self.kind, Kind::Clock) {
                self.clock_last.store(now, Ordering::Relaxed);
            }
        } else if !on {
            if let Some(s) = t.since.take() {
                t.total += now.saturating_sub(s);
            }
        }
        self.enabled.store(on, Ordering::Release);
        drop(t);
        self.update_user_page();
    }

    /// `(time_enabled, time_running)` in ns.
    pub(crate) fn times(&self) -> (u64, u64) {
        let Some(t) = self.times.try_lock() else { return (0, 0) };
        let total = t.total + t.since.map_or(0, |s| self.clock_ns().saturating_sub(s));
        (total, total)
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    pub(crate) fn add_count(&self, n: u64) {
        self.count.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
        self.period_acc.store(0, Ordering::Relaxed);
        self.update_user_page();
    }

    pub(crate) fn set_event_limit(&self, n: i64) {
        self.event_limit.store(n, Ordering::Relaxed);
    }

    /// Refreshes the self-monitoring fields of the mapped metadata page.
    pub(crate) fn update_user_page(&self) {
        let (e, r) = self.times();
        if let Some(rb) = self.ring.try_read().and_then(|r| r.clone()) {
            rb.update_user_page(self.count(), e, r);
        }
    }

    /// The ring this event writes to.
    pub(crate) fn ring(&self) -> Option<Arc<RingBuffer>> {
        self.ring.read().clone()
    }

    /// Sets the ring (syscall side).
    pub(crate) fn set_ring(self: &Arc<Self>, rb: Option<Arc<RingBuffer>>) {
        let old = core::mem::replace(&mut *self.ring.write(), rb.clone());
        if let Some(old) = old {
            old.detach(self);
        }
        if let Some(rb) = rb {
            rb.attach(self);
        }
        self.update_user_page();
    }

    /// The last mapping of `rb` went: stop writing to it.
    pub(crate) fn detach_ring(&self, rb: &Arc<RingBuffer>) {
        let mut slot = self.ring.write();
        if slot.as_ref().is_some_and(|r| Arc::ptr_eq(r, rb)) {
            *slot = None;
        }
    }

    /// Counts `nr` hits and overflows per the sample period: returns how many overflows
    /// happened (0 or 1; a hit never overflows twice).
    pub(crate) fn account(&self, nr: u64) -> bool {
        self.add_count(nr);
        let period = self.period.load(Ordering::Relaxed);
        if period == 0 {
            return false;
        }
        let acc = self.period_acc.fetch_add(nr, Ordering::Relaxed) + nr;
        if acc < period {
            return false;
        }
        self.period_acc.store(acc % period, Ordering::Relaxed);
        true
    }

    /// An overflow (Linux `__perf_event_overflow`): the `PERF_EVENT_IOC_REFRESH` limit, then
    /// the sample.
    pub(crate) fn overflow(&self, d: &SampleData<'_>) {
        let limit = self.event_limit.load(Ordering::Relaxed);
        if limit > 0 && self.event_limit.fetch_sub(1, Ordering::Relaxed) == 1 {
            // Disable from event context: only the flag (time bookkeeping at the next
            // syscall-side change).
            self.enabled.store(false, Ordering::Release);
        }
        let _ = self.output_sample(d);
    }

    /// Writes a `PERF_RECORD_SAMPLE` to the event's ring; `ENOSPC` without room or ring.
    pub(crate) fn output_sample(&self, d: &SampleData<'_>) -> core::result::Result<(), OutputError> {
        let Some(guard) = self.ring.try_read() else {
            self.lost.fetch_add(1, Ordering::Relaxed);
            return Err(OutputError::Unavailable);
        };
        let Some(rb) = guard.as_ref() else {
            return Err(OutputError::Unavailable);
        };
        let Some(size) = record::sample_size(self, d) else {
            self.lost.fetch_add(1, Ordering::Relaxed);
            return Err(OutputError::NoSpace);
        };
        let o = Origin::current(self);
        let lost = |cur: &mut crate::ring::Cursor, n: u64| record::write_lost(cur, self, &o, n);
        let r = rb.output(size, true, record::lost_size(self), &lost, &mut |cur| {
            record::write_sample(cur, self, &o, d, size)
        });
        match r {
            Ok(wake) => {
                if wake {
                    self.host().queue_irq_work();
                }
                Ok(())
            }
            Err(e) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Runs the attached program as a tracing program (kprobe/tracepoint): `Some(r0)` when
    /// one ran, `Some(0)` when the CPU was already running one (Linux `bpf_prog_active`).
    pub(crate) fn run_prog(&self, ctx: &[u8], func_ip: u64) -> Option<u64> {
        let slot = self.prog.try_read()?.clone()?;
        Some(crate::bpf::run_tracing(&self.shared, &slot.prog, ctx, func_ip, slot.cookie))
    }

    /// Poll state of the event's fd.
    pub(crate) fn poll(&self) -> PollState {
        let readable = self.ring.read().as_ref().is_some_and(|rb| rb.poll_readable());
        PollState { readable, hup: self.dead.load(Ordering::Acquire) }
    }
}

/// A perf event: what a perf event fd holds (Linux `struct perf_event` behind
/// `perf_fops`). Implements `maps::FdObject` (a `perf_event_array` stores it) and
/// `bpf_subsys::helpers::PerfEventOutput`. Dropping the last reference detaches the program,
/// unregisters the probe or tracepoint consumer and releases the ring buffer.
pub struct PerfEvent {
    pub(crate) core: Arc<EventCore>,
    /// Declared before `source`: the program goes first.
    pub(crate) set_bpf: Mutex<Option<Box<dyn Attachment>>>,
    pub(crate) source: Mutex<Option<Source>>,
    pub(crate) cloexec: bool,
}

impl PerfEvent {
    /// The event's id (`PERF_EVENT_IOC_ID`, `PERF_FORMAT_ID`, `PERF_SAMPLE_ID`).
    pub fn id(&self) -> u32 {
        self.core.id
    }

    /// Whether the fd is close-on-exec (`PERF_FLAG_FD_CLOEXEC`).
    pub fn cloexec(&self) -> bool {
        self.cloexec
    }

    /// The current count (hits; ns for the clocks).
    pub fn count(&self) -> u64 {
        self.core.count()
    }

    /// Whether the event is enabled.
    pub fn enabled(&self) -> bool {
        self.core.is_enabled()
    }

    /// `read(2)`: the values of `read_format` (Linux `perf_read`); a buffer shorter than
    /// the read size → `ENOSPC`.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        crate::read::read(&self.core, buf)
    }

    /// `ioctl(2)` on the fd: `ENABLE`, `DISABLE`, `RESET`, `REFRESH`, `PERIOD`, `SET_OUTPUT`,
    /// `SET_FILTER`, `ID`, `SET_BPF`, `PAUSE_OUTPUT`, `QUERY_BPF`, `MODIFY_ATTRIBUTES`;
    /// `ENOTTY` for anything else. `arg` is the raw argument (a user pointer or a value).
    pub fn ioctl(&self, cmd: u32, arg: u64) -> Result<u64> {
        crate::ioctl::ioctl(self, cmd, arg)
    }

    /// `mmap(2)` of the fd (Linux `perf_mmap`): `pgoff` must be 0 and `npages` `1 + 2^n`
    /// (`EINVAL` otherwise); the first mapping allocates the ring (`writable`: the mapping
    /// has `PROT_WRITE`, else the ring overwrites old data); a later mapping shares it and
    /// must have the same size (`EINVAL`).
    pub fn mmap(&self, pgoff: u64, npages: usize, writable: bool) -> Result<Arc<crate::PerfRing>> {
        crate::ioctl::mmap(self, pgoff, npages, writable)
    }

    /// `poll(2)` readiness (Linux `perf_poll`).
    pub fn poll_ready(&self) -> PollState {
        self.core.poll()
    }
}

impl Drop for PerfEvent {
    fn drop(&mut self) {
        drop(self.set_bpf.lock().take());
        *self.core.prog.write() = None;
        drop(self.source.lock().take());
        self.core.set_enabled(false);
        let rb = self.core.ring.write().take();
        if let Some(rb) = rb {
            rb.detach(&self.core);
        }
        if let Some(l) = &self.core.leader {
            l.siblings.lock().retain(|s| s.strong_count() > 0 && !core::ptr::eq(s.as_ptr(), &*self.core));
        }
    }
}

impl FdObject for PerfEvent {
    fn id(&self) -> u32 {
        self.core.id
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
