//! What a probe is: its identity, its kind, its handler and its counters.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::X86PtRegs;

/// Identifies a registered probe (unique for the registry's lifetime, never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProbeId(pub u32);

/// What a handler learns about the probe that fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeInfo {
    /// The probe.
    pub id: ProbeId,
    /// The probed address.
    pub addr: u64,
    /// Start of the symbol containing `addr`.
    pub symbol_start: u64,
}

/// Kind of a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// A kprobe: [`ProbeHandler::pre`] and [`ProbeHandler::post`] run around the probed
    /// instruction.
    Kprobe,
    /// A kretprobe on a function's first instruction: [`ProbeHandler::ret`] runs when the
    /// function returns (`pre`/`post` are not called).
    Kretprobe {
        /// Most instances (calls in progress) tracked at once; more calls count as missed.
        /// 0 → `max(10, 2 * possible_cpus)`.
        maxactive: u32,
    },
}

/// Callbacks of a probe. `R` is the architecture's register frame (Linux `pt_regs` layout).
/// Handlers run in trap context with interrupts off; a probe hit inside a handler on the same
/// CPU counts as missed and runs no handler.
pub trait ProbeHandler<R = X86PtRegs>: Send + Sync {
    /// Before the probed instruction; on x86_64 `regs.rip` = probe address + 1 (as after
    /// Linux's `int3`). A handler that changes the instruction pointer redirects execution:
    /// the probed instruction and `post` are then skipped (Linux: a pre handler returning 1).
    fn pre(&self, _probe: &ProbeInfo, _regs: &mut R) {}
    /// After the probed instruction (single-stepped or emulated); the instruction pointer is
    /// the next instruction to run.
    fn post(&self, _probe: &ProbeInfo, _regs: &mut R) {}
    /// kretprobes: at the function's return; on x86_64 `regs.rax` = return value, `regs.rip`
    /// = the real return address, `regs.rsp` = the caller's stack pointer after the return.
    fn ret(&self, _probe: &ProbeInfo, _regs: &mut R) {}
}

/// A probe to register.
pub struct ProbeSpec<R: 'static = X86PtRegs> {
    /// The probed address: an instruction boundary in a kernel function (a kretprobe: the
    /// function's start).
    pub addr: u64,
    /// Kprobe or kretprobe.
    pub kind: ProbeKind,
    /// The callbacks.
    pub handler: Arc<dyn ProbeHandler<R>>,
    /// Armed at once when true; otherwise after [`ProbeRegistry::enable`](crate::ProbeRegistry::enable).
    pub enabled: bool,
}

/// Counters of one probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeStats {
    /// Times the probe fired and ran its handlers (kretprobe: function entries tracked).
    pub hits: u64,
    /// Times it fired but ran no handler: re-entry while another handler or single step ran
    /// on the CPU, and kretprobe entries beyond `maxactive`.
    pub missed: u64,
}

/// One registered probe, shared by the registry's table, its snapshots and kretprobe
/// instances (which may outlive the registration).
pub(crate) struct Entry<R: 'static> {
    pub(crate) info: ProbeInfo,
    pub(crate) kind: ProbeKind,
    pub(crate) handler: Arc<dyn ProbeHandler<R>>,
    /// kretprobe instances in flight.
    pub(crate) active: AtomicU32,
    /// kretprobe instance slots (`maxactive` of them; none for kprobes).
    pub(crate) pool: crate::registry::Pool,
    /// Cleared by unregister: instances still in flight then only restore the return address.
    pub(crate) live: AtomicBool,
    hits: AtomicU64,
    missed: AtomicU64,
}

impl<R: 'static> Entry<R> {
    pub(crate) fn new(info: ProbeInfo, kind: ProbeKind, handler: Arc<dyn ProbeHandler<R>>, maxactive: u32) -> Self {
        Entry {
            info,
            kind,
            handler,
            active: AtomicU32::new(0),
            pool: crate::registry::Pool::new(maxactive as usize),
            live: AtomicBool::new(true),
            hits: AtomicU64::new(0),
            missed: AtomicU64::new(0),
        }
    }

    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn miss(&self) {
        self.missed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> ProbeStats {
        ProbeStats { hits: self.hits.load(Ordering::Relaxed), missed: self.missed.load(Ordering::Relaxed) }
    }

    pub(crate) fn is_kretprobe(&self) -> bool {
        matches!(self.kind, ProbeKind::Kretprobe { .. })
    }
}
