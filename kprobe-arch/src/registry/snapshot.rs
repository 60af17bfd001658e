//! The immutable table the hit path reads, published through an atomic pointer.
//!
//! Writers build a new [`Snapshot`] and swap it in (copy on write). Trap handlers take no
//! lock: each CPU counts how deeply it is inside the probe machinery (`nest`, raised *before*
//! the pointer is loaded, lowered after the last use — for a single-stepped probe at the end
//! of the step) and how often it left it completely (`exits`). After a swap the writer
//! records a [`Grace`]: the CPUs inside at that moment and their `exits`. Whatever the swap
//! made unreachable (the old snapshot, slots of removed sites) may be freed once each of
//! those CPUs has left (`nest` 0 or `exits` moved). A CPU entering after the swap loads the
//! new snapshot; a CPU that took a breakpoint being removed but entered only after the swap
//! finds no site and re-executes the restored instruction. No CPU ever waits for another,
//! and busy CPUs cannot starve reclamation (each exit counts).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

use crate::arch::Arch;
use crate::probe::Entry;
use crate::MAX_CPUS;

/// One armed address.
pub(crate) struct Site<A: Arch> {
    pub(crate) addr: u64,
    pub(crate) insn: Arc<A::Insn>,
    /// Enabled probes at this address, in registration order.
    pub(crate) probes: Vec<Arc<Entry<A::Regs>>>,
}

/// What the hit path sees.
pub(crate) struct Snapshot<A: Arch> {
    /// Sorted by address.
    pub(crate) sites: Vec<Site<A>>,
    /// Every kretprobe that may have instances in flight (registered, and unregistered
    /// ones until their grace period passed and their instances are gone).
    pub(crate) kretprobes: Vec<Arc<Entry<A::Regs>>>,
    /// Address of the kretprobe trampoline's breakpoint (0: none yet).
    pub(crate) trampoline: u64,
}

impl<A: Arch> Snapshot<A> {
    pub(crate) fn empty() -> Self {
        Snapshot { sites: Vec::new(), kretprobes: Vec::new(), trampoline: 0 }
    }

    pub(crate) fn find(&self, addr: u64) -> Option<&Site<A>> {
        self.sites.binary_search_by_key(&addr, |s| s.addr).ok().map(|i| &self.sites[i])
    }
}

/// One CPU's presence in the hit path.
struct CpuPresence {
    /// Nesting depth inside the hit path.
    nest: AtomicU32,
    /// Times `nest` went back to zero.
    exits: AtomicU64,
}

/// The CPUs that were inside the hit path when a snapshot was replaced.
#[derive(Clone)]
pub(crate) struct Grace {
    /// (CPU, its `exits` at the time).
    busy: Vec<(usize, u64)>,
    /// Not recorded yet: never passes.
    never: bool,
}

impl Grace {
    /// A grace period that does not pass until replaced by a recorded one.
    pub(crate) fn never() -> Self {
        Grace { busy: Vec::new(), never: true }
    }

    /// Whether this is [`never`](Self::never).
    pub(crate) fn is_never(&self) -> bool {
        self.never
    }
}

/// The published snapshot and the per-CPU presence in the hit path.
pub(crate) struct Published<A: Arch> {
    current: AtomicPtr<Snapshot<A>>,
    cpus: [CpuPresence; MAX_CPUS],
}

impl<A: Arch> Published<A> {
    pub(crate) fn new() -> Self {
        Published {
            current: AtomicPtr::new(Box::into_raw(Box::new(Snapshot::empty()))),
            cpus: core::array::from_fn(|_| CpuPresence { nest: AtomicU32::new(0), exits: AtomicU64::new(0) }),
        }
    }

    /// Enters the hit path on `cpu` (the calling CPU, below [`MAX_CPUS`]); `None` for a CPU
    /// number out of range. The snapshot stays valid until the matching [`exit`](Self::exit).
    pub(crate) fn enter(&self, cpu: u32) -> Option<&Snapshot<A>> {
        let presence = self.cpus.get(usize::try_from(cpu).ok()?)?;
        presence.nest.fetch_add(1, Ordering::SeqCst);
        let p = self.current.load(Ordering::SeqCst);
        // SAFETY: `current` always holds a pointer from `Box::into_raw`. A replaced snapshot
        // is freed only after its `Grace` passed: this CPU raised `nest` before loading the
        // pointer (both SeqCst), so either it loaded the new pointer or the writer saw it
        // inside and waits until it leaves.
        Some(unsafe { &*p })
    }

    /// The snapshot published now, for a caller already inside (between [`enter`](Self::enter)
    /// and [`exit`](Self::exit) on this CPU): it may be newer than the one `enter` returned.
    pub(crate) fn reload(&self) -> &Snapshot<A> {
        let p = self.current.load(Ordering::SeqCst);
        // SAFETY: as in `enter`: this CPU's `nest` was raised before this load, so every
        // grace period recorded from now on waits for this CPU.
        unsafe { &*p }
    }

    /// Leaves the hit path (pairs with a successful [`enter`](Self::enter) on the same CPU).
    pub(crate) fn exit(&self, cpu: u32) {
        let Some(presence) = usize::try_from(cpu).ok().and_then(|i| self.cpus.get(i)) else { return };
        if presence.nest.fetch_sub(1, Ordering::SeqCst) == 1 {
            presence.exits.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Which CPUs are inside now (call right after a swap).
    pub(crate) fn grace(&self) -> Grace {
        let busy = self
            .cpus
            .iter()
            .enumerate()
            .filter(|(_, c)| c.nest.load(Ordering::SeqCst) != 0)
            .map(|(i, c)| (i, c.exits.load(Ordering::SeqCst)))
            .collect();
        Grace { busy, never: false }
    }

    /// Whether every CPU inside at `grace` has left since.
    pub(crate) fn passed(&self, grace: &Grace) -> bool {
        !grace.never
            && grace.busy.iter().all(|&(i, exits)| {
                let c = &self.cpus[i];
                c.nest.load(Ordering::SeqCst) == 0 || c.exits.load(Ordering::SeqCst) != exits
            })
    }

    /// Publishes `new` and returns the replaced snapshot, still in its box: handlers hold
    /// references to it, so it must neither move nor drop before a grace period passed.
    pub(crate) fn publish(&self, new: Snapshot<A>) -> Box<Snapshot<A>> {
        let old = self.current.swap(Box::into_raw(Box::new(new)), Ordering::SeqCst);
        // SAFETY: `old` came from `Box::into_raw` and is no longer reachable through
        // `current`; the caller keeps the box until a grace period passed.
        unsafe { Box::from_raw(old) }
    }
}

impl<A: Arch> Drop for Published<A> {
    fn drop(&mut self) {
        let p = self.current.swap(ptr::null_mut(), Ordering::SeqCst);
        if !p.is_null() {
            // SAFETY: from `Box::into_raw`; the registry is being dropped, so no handler runs.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}
