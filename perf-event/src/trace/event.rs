//! [`TraceEvent`]: one event with an id, a record layout and its consumers.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bpf_subsys::attach::PerfEventKind;
use spin::RwLock;
use syscall_abi::{err, Errno, Result};

use super::field::{self, Field};
use super::{TraceEnv, X86PtRegs};

/// Receives the hits of a [`TraceEvent`]: a perf event, a BPF program, the tracefs `enable`
/// file. Called in event context: must not block.
pub trait EventConsumer: Send + Sync {
    /// One hit: `rec` = the record (common header filled), `regs` = the registers at the
    /// event (kprobe: the probe's registers; tracepoints: the caller's, or `None`).
    fn hit(&self, rec: &[u8], regs: Option<&mut X86PtRegs>);
    /// The id of the BPF program this consumer runs (`PERF_EVENT_IOC_QUERY_BPF`).
    fn prog_id(&self) -> Option<u32> {
        None
    }
}

/// What makes an event fire and how its records print: the part that differs between
/// static tracepoints, syscall events and kprobe events.
pub(crate) trait EventControl: Send + Sync {
    /// The consumer count went 0 → 1 (`on`) or 1 → 0.
    fn set_enabled(&self, on: bool) -> Result<()>;
    /// The text of a `trace` line after the header (no newline).
    fn print(&self, ev: &TraceEvent, rec: &[u8], out: &mut String);
}

/// Something a [`ConsumerHandle`] detaches from.
pub(crate) trait Detach: Send + Sync {
    fn detach(&self, key: u64);
}

/// Removes its consumer when dropped (the last consumer disables the event).
pub struct ConsumerHandle {
    target: Arc<dyn Detach>,
    key: u64,
}

impl ConsumerHandle {
    pub(crate) fn new(target: Arc<dyn Detach>, key: u64) -> ConsumerHandle {
        ConsumerHandle { target, key }
    }
}

impl Drop for ConsumerHandle {
    fn drop(&mut self) {
        self.target.detach(self.key);
    }
}

impl core::fmt::Debug for ConsumerHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConsumerHandle").field("key", &self.key).finish()
    }
}

/// Keeps an event busy (a perf event opened on it, even while disabled): a kprobe event
/// cannot be deleted while a hold exists (`EBUSY`). Released on drop.
pub struct EventHold {
    event: Arc<TraceEvent>,
}

impl Drop for EventHold {
    fn drop(&mut self) {
        self.event.holds.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A list of consumers read from event context without waiting (`try_read`).
pub(crate) struct ConsumerList<C: ?Sized> {
    list: RwLock<Vec<(u64, Arc<C>)>>,
    next_key: AtomicU64,
    /// Hits dropped because a writer held the list.
    pub(crate) contended: AtomicU64,
}

impl<C: ?Sized> ConsumerList<C> {
    pub(crate) fn new() -> Self {
        ConsumerList { list: RwLock::new(Vec::new()), next_key: AtomicU64::new(1), contended: AtomicU64::new(0) }
    }

    /// Adds `c`; `first` runs (under the list lock) when the list was empty and can refuse.
    pub(crate) fn add(&self, c: Arc<C>, first: impl FnOnce() -> Result<()>) -> Result<u64> {
        let mut list = self.list.write();
        if list.is_empty() {
            first()?;
        }
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        list.push((key, c));
        Ok(key)
    }

    /// Removes the consumer `key`; `last` runs when the list became empty.
    pub(crate) fn remove(&self, key: u64, last: impl FnOnce()) {
        let removed = {
            let mut list = self.list.write();
            let Some(pos) = list.iter().position(|(k, _)| *k == key) else { return };
            let removed = list.remove(pos);
            if list.is_empty() {
                last();
            }
            removed
        };
        drop(removed);
    }

    /// Calls `f` on every consumer; counts a contended hit when a writer holds the list.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&C)) {
        match self.list.try_read() {
            Some(list) => list.iter().for_each(|(_, c)| f(c)),
            None => {
                self.contended.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether no consumer is attached (a racy snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        self.list.try_read().is_none_or(|l| l.is_empty())
    }

    /// All consumers (a snapshot, from process context).
    pub(crate) fn snapshot(&self) -> Vec<Arc<C>> {
        self.list.read().iter().map(|(_, c)| c.clone()).collect()
    }
}

/// One trace event: a static tracepoint, a syscall tracepoint or a kprobe event.
pub struct TraceEvent {
    id: u32,
    system: String,
    name: String,
    kind: PerfEventKind,
    fields: Vec<Field>,
    record_size: usize,
    print_fmt: String,
    consumers: ConsumerList<dyn EventConsumer>,
    holds: AtomicUsize,
    control: Arc<dyn EventControl>,
    env: Arc<dyn TraceEnv>,
}

/// Everything that describes a new event, for [`TraceEvent::new`].
pub(crate) struct EventDesc {
    pub(crate) system: String,
    pub(crate) name: String,
    pub(crate) kind: PerfEventKind,
    pub(crate) fields: Vec<Field>,
    pub(crate) record_size: usize,
    pub(crate) print_fmt: String,
    pub(crate) control: Arc<dyn EventControl>,
}

impl TraceEvent {
    pub(crate) fn new(id: u32, d: EventDesc, env: Arc<dyn TraceEnv>) -> TraceEvent {
        let record_size = d.record_size.max(field::fields_end(&d.fields));
        TraceEvent {
            id,
            system: d.system,
            name: d.name,
            kind: d.kind,
            fields: d.fields,
            record_size,
            print_fmt: d.print_fmt,
            consumers: ConsumerList::new(),
            holds: AtomicUsize::new(0),
            control: d.control,
            env,
        }
    }

    /// The event id (`events/<sys>/<name>/id`, `PERF_TYPE_TRACEPOINT` config, `common_type`).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The system (`sched`, `syscalls`, `kprobes`, ...).
    pub fn system(&self) -> &str {
        &self.system
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What programs may attach: `Probe` for kprobe events, `Tracepoint` otherwise.
    pub fn kind(&self) -> PerfEventKind {
        self.kind
    }

    /// Bytes of the fixed part of the record, the 8-byte common header included (the largest
    /// offset a tracepoint program may read, Linux `call->event.size` rules aside).
    pub fn record_size(&self) -> usize {
        self.record_size
    }

    /// The fields after the common header.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The tracefs `format` text, Linux layout.
    pub fn format(&self) -> String {
        field::format_text(&self.name, self.id, &self.fields, &self.print_fmt)
    }

    /// Adds a consumer (perf event, BPF program, tracefs); the returned handle removes it on
    /// drop. The first consumer enables the event (static tracepoint flag / arms a kprobe);
    /// that can fail (a probe that cannot be armed), then nothing is attached.
    pub fn attach(self: &Arc<Self>, c: Arc<dyn EventConsumer>) -> Result<ConsumerHandle> {
        let key = self.consumers.add(c, || self.control.set_enabled(true))?;
        Ok(ConsumerHandle::new(self.clone(), key))
    }

    /// Marks the event busy until the hold is dropped (see [`EventHold`]).
    pub fn hold(self: &Arc<Self>) -> EventHold {
        self.holds.fetch_add(1, Ordering::Relaxed);
        EventHold { event: self.clone() }
    }

    /// Whether a consumer or a hold exists (Linux `trace_probe_is_enabled` ||
    /// `trace_event_dyn_busy`).
    pub fn in_use(&self) -> bool {
        self.holds.load(Ordering::Relaxed) != 0 || !self.consumers.is_empty()
    }

    /// Whether a consumer is attached.
    pub fn enabled(&self) -> bool {
        !self.consumers.is_empty()
    }

    /// Ids of the BPF programs among the consumers, in attach order (`PERF_EVENT_IOC_QUERY_BPF`).
    pub fn consumer_prog_ids(&self) -> Vec<u32> {
        self.consumers.snapshot().iter().filter_map(|c| c.prog_id()).collect()
    }

    /// Hits dropped because a consumer was being attached or detached at that moment.
    pub fn contended_hits(&self) -> u64 {
        self.consumers.contended.load(Ordering::Relaxed)
    }

    /// Fills the common header of `rec` and hands it to every consumer (event context).
    pub(crate) fn fire(&self, rec: &mut [u8], mut regs: Option<&mut X86PtRegs>) {
        if let Some(h) = rec.get_mut(..field::COMMON_HEADER_SIZE) {
            let ty = u16::try_from(self.id).unwrap_or(0);
            h[..2].copy_from_slice(&ty.to_le_bytes());
            h[2] = 0;
            h[3] = 0;
            h[4..8].copy_from_slice(&self.env.current_pid().to_le_bytes());
        }
        let rec: &[u8] = rec;
        self.consumers.for_each(|c| c.hit(rec, regs.as_deref_mut()));
    }

    /// The trace environment.
    pub(crate) fn env(&self) -> &Arc<dyn TraceEnv> {
        &self.env
    }

    /// The body of a `trace` line for one of this event's records.
    pub(crate) fn print(&self, rec: &[u8], out: &mut String) {
        self.control.print(self, rec, out);
    }
}

impl Detach for TraceEvent {
    fn detach(&self, key: u64) {
        self.consumers.remove(key, || {
            if let Err(e) = self.control.set_enabled(false) {
                log::warn!("trace: disabling {}/{}: {:?}", self.system, self.name, e);
            }
        });
    }
}

impl core::fmt::Debug for TraceEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TraceEvent")
            .field("id", &self.id)
            .field("system", &self.system)
            .field("name", &self.name)
            .finish()
    }
}

/// `EINVAL` unless `name` is a valid event or group name (Linux `is_good_name`: a letter or
/// `_`, then letters, digits, `_`).
pub(crate) fn check_name(name: &str) -> Result<()> {
    let mut bytes = name.bytes();
    let ok = match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        err(Errno::EINVAL, "bad event name")
    }
}
