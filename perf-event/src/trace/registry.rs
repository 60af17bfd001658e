//! [`TraceRegistry`]: every trace event by id and by `(system, name)`, the raw tracepoints,
//! the syscall tracepoints and the kprobe events.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use bpf_subsys::attach::PerfEventKind;
use spin::{Mutex, RwLock};
use syscall_abi::{err, Errno, Result};

use super::event::{ConsumerHandle, EventDesc, TraceEvent};
use super::kprobe::{KprobeEvents, KprobeTarget, ProbeArm};
use super::raw::{RawConsumer, RawTracepoint};
use super::syscalls::SyscallTracepoints;
use super::tracepoint::{StaticControl, Tracepoint};
use super::TraceEnv;

/// Largest event id: `common_type` is a `u16`.
const MAX_ID: u32 = u16::MAX as u32;

#[derive(Default)]
struct Tables {
    by_id: BTreeMap<u32, Arc<TraceEvent>>,
    by_name: BTreeMap<(String, String), u32>,
}

/// The event tables and the id counter, shared by the registry and its parts.
pub(crate) struct EventTable {
    env: Arc<dyn TraceEnv>,
    next_id: AtomicU32,
    tables: RwLock<Tables>,
}

impl EventTable {
    /// A fresh id (`ENOSPC` when the `u16` space is used up).
    fn alloc_id(&self) -> Result<u32> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if id > MAX_ID {
            self.next_id.store(MAX_ID + 1, Ordering::Relaxed);
            return err(Errno::ENOSPC, "no trace event ids left");
        }
        Ok(id)
    }

    /// Whether an event `system/name` exists.
    pub(crate) fn exists(&self, system: &str, name: &str) -> bool {
        self.tables.read().by_name.contains_key(&(system.to_string(), name.to_string()))
    }

    /// Creates and lists an event; `EEXIST` when `system/name` exists.
    pub(crate) fn insert(&self, d: EventDesc) -> Result<Arc<TraceEvent>> {
        let mut t = self.tables.write();
        let key = (d.system.clone(), d.name.clone());
        if t.by_name.contains_key(&key) {
            return err(Errno::EEXIST, "trace event exists");
        }
        let id = self.alloc_id()?;
        let ev = Arc::new(TraceEvent::new(id, d, self.env.clone()));
        t.by_id.insert(id, ev.clone());
        t.by_name.insert(key, id);
        Ok(ev)
    }

    /// Creates an event with an id that is not listed (perf's local kprobes).
    pub(crate) fn unlisted(&self, d: EventDesc) -> Result<Arc<TraceEvent>> {
        let id = self.alloc_id()?;
        Ok(Arc::new(TraceEvent::new(id, d, self.env.clone())))
    }

    /// Unlists an event (its id is not reused).
    pub(crate) fn remove(&self, id: u32) {
        let mut t = self.tables.write();
        if let Some(ev) = t.by_id.remove(&id) {
            t.by_name.remove(&(ev.system().to_string(), ev.name().to_string()));
        }
    }

    pub(crate) fn by_id(&self, id: u32) -> Option<Arc<TraceEvent>> {
        self.tables.read().by_id.get(&id).cloned()
    }

    /// Like [`Self::by_id`] but gives up instead of waiting for a writer.
    pub(crate) fn try_by_id(&self, id: u32) -> Option<Arc<TraceEvent>> {
        self.tables.try_read()?.by_id.get(&id).cloned()
    }

    pub(crate) fn by_name(&self, system: &str, name: &str) -> Option<Arc<TraceEvent>> {
        let t = self.tables.read();
        let id = t.by_name.get(&(system.to_string(), name.to_string()))?;
        t.by_id.get(id).cloned()
    }

    /// Every listed event in id order.
    pub(crate) fn all(&self) -> Vec<Arc<TraceEvent>> {
        self.tables.read().by_id.values().cloned().collect()
    }
}

/// All trace events of a kernel: ids from 1 upward, lookup by id and by `(system, name)`.
pub struct TraceRegistry {
    table: Arc<EventTable>,
    syscalls: SyscallTracepoints,
    raw: RwLock<BTreeMap<String, Arc<RawTracepoint>>>,
    kprobes: KprobeEvents,
    /// Registered static tracepoints by address.
    statics: Mutex<Vec<(usize, Arc<TraceEvent>)>>,
}

impl TraceRegistry {
    /// An empty registry (plus the raw tracepoints `sys_enter` and `sys_exit`).
    pub fn new(env: Arc<dyn TraceEnv>) -> Arc<TraceRegistry> {
        let table = Arc::new(EventTable { env, next_id: AtomicU32::new(1), tables: RwLock::new(Tables::default()) });
        let syscalls = SyscallTracepoints::new(table.clone());
        let mut raw = BTreeMap::new();
        for r in syscalls.raw_tracepoints() {
            raw.insert(r.name().to_string(), r.clone());
        }
        Arc::new(TraceRegistry {
            kprobes: KprobeEvents::new(table.clone()),
            table,
            syscalls,
            raw: RwLock::new(raw),
            statics: Mutex::new(Vec::new()),
        })
    }

    /// The event with id `id`.
    pub fn by_id(&self, id: u32) -> Option<Arc<TraceEvent>> {
        self.table.by_id(id)
    }

    /// The event `sys/name`.
    pub fn by_name(&self, sys: &str, name: &str) -> Option<Arc<TraceEvent>> {
        self.table.by_name(sys, name)
    }

    /// Every event, in id order.
    pub fn events(&self) -> Vec<Arc<TraceEvent>> {
        self.table.all()
    }

    /// Registers a static tracepoint (idempotent: registering it again returns the same
    /// event). It also becomes the raw tracepoint of its name. A name that is taken already
    /// leaves the event unlisted (logged). A tracepoint may be registered with several
    /// registries (host tests); it fires into each.
    pub fn register_static(&self, tp: &'static Tracepoint) -> Arc<TraceEvent> {
        let mut statics = self.statics.lock();
        let key = tp as *const Tracepoint as usize;
        if let Some((_, ev)) = statics.iter().find(|(k, _)| *k == key) {
            return ev.clone();
        }
        let desc = || EventDesc {
            system: tp.system().to_string(),
            name: tp.name().to_string(),
            kind: PerfEventKind::Tracepoint,
            fields: tp.fields().to_vec(),
            record_size: tp.record_size(),
            print_fmt: tp.print_fmt().to_string(),
            control: Arc::new(StaticControl(tp)),
        };
        let event = match self.table.insert(desc()) {
            Ok(ev) => ev,
            Err(e) => {
                log::warn!("trace: {}/{} not listed: {:?}", tp.system(), tp.name(), e);
                // An id is left only when the u16 space is exhausted: use 0 then.
                self.table
                    .unlisted(desc())
                    .unwrap_or_else(|_| Arc::new(TraceEvent::new(0, desc(), self.table.env.clone())))
            }
        };
        let raw =
            Arc::new(RawTracepoint::new(tp.name().to_string(), tp.fields().len(), Box::new(move |on| tp.set_user(on))));
        self.raw.write().entry(tp.name().to_string()).or_insert_with(|| raw.clone());
        tp.link(&event, &raw);
        statics.push((key, event.clone()));
        event
    }

    /// The syscall tracepoints (`syscalls/sys_enter_*`, `sys_exit_*`).
    pub fn syscalls(&self) -> &SyscallTracepoints {
        &self.syscalls
    }

    /// The raw tracepoint `name` (bytes without the NUL), for `BPF_RAW_TRACEPOINT_OPEN`:
    /// every static tracepoint by its name, `sys_enter`, `sys_exit`.
    pub fn raw_tracepoint(&self, name: &[u8]) -> Option<Arc<RawTracepoint>> {
        let name = core::str::from_utf8(name).ok()?;
        self.raw.read().get(name).cloned()
    }

    /// `BPF_RAW_TRACEPOINT_OPEN`'s lookup and attach in one: `ENOENT` for an unknown name,
    /// `EINVAL` when the consumer reads `ctx_bytes` past the tracepoint's arguments
    /// (`nr_args * 8`, Linux `bpf_raw_tp_link_attach` / `__bpf_probe_register`), `EEXIST`
    /// when the same program is attached there already.
    pub fn attach_raw(&self, name: &[u8], ctx_bytes: usize, c: Arc<dyn RawConsumer>) -> Result<ConsumerHandle> {
        let Some(tp) = self.raw_tracepoint(name) else { return err(Errno::ENOENT, "no such raw tracepoint") };
        if ctx_bytes > tp.nr_args().saturating_mul(8) {
            return err(Errno::EINVAL, "program reads past the raw tracepoint arguments");
        }
        tp.attach(c)
    }

    /// Installs what arms kprobe events (once; later calls are ignored). Without it,
    /// `kprobe_events` accepts no probe (`ENODEV`).
    pub fn set_probe_arm(&self, arm: Arc<dyn ProbeArm>) {
        self.kprobes.set_arm(arm);
    }

    /// A kprobe event that is not listed in tracefs (Linux `create_local_trace_kprobe`, what
    /// the kprobe PMU of `perf_event_open` uses): `target` is a symbol and offset or an
    /// address; `retprobe` makes it a kretprobe (records `__probe_func`, `__probe_ret_ip`).
    /// The probe is registered disabled and armed while the event has consumers; dropping
    /// the last reference unregisters it. Errors as `kprobe_events` (`ENOENT` unknown
    /// symbol, `EINVAL` offset, `EILSEQ` not an instruction boundary, `ENODEV` no arm).
    pub fn create_local_kprobe(&self, target: KprobeTarget, retprobe: bool) -> Result<Arc<TraceEvent>> {
        self.kprobes.create_local(target, retprobe)
    }

    /// The kprobe events.
    pub(crate) fn kprobes(&self) -> &KprobeEvents {
        &self.kprobes
    }

    /// The event table.
    pub(crate) fn table(&self) -> &Arc<EventTable> {
        &self.table
    }

    /// The trace environment.
    pub(crate) fn env(&self) -> &Arc<dyn TraceEnv> {
        &self.table.env
    }
}

impl core::fmt::Debug for TraceRegistry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TraceRegistry").finish_non_exhaustive()
    }
}
