//! The portable probe registry: registration, arming, counters, and (in `hit.rs`) the trap
//! handlers.
//!
//! Writers (register, unregister, enable, disable) serialize on one spin lock, keep the full
//! table, and publish an immutable snapshot of the armed addresses for the hit path, which
//! takes no lock (`snapshot.rs` explains when replaced snapshots are freed). Arming
//! order: publish, then write the breakpoint; disarming: restore the original bytes, then
//! publish. A CPU that still hits a breakpoint being removed finds no site, sees the original
//! bytes back and re-executes the instruction (Linux does the same).

mod hit;
mod kretprobe;
mod percpu;
mod snapshot;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use syscall_abi::{err, Errno, Result};

use crate::arch::Arch;
use crate::probe::Entry;
use crate::{KprobeHost, ProbeId, ProbeInfo, ProbeKind, ProbeSpec, ProbeStats};
pub(crate) use kretprobe::Pool;
use percpu::PerCpu;
use snapshot::{Grace, Published, Site, Snapshot};

/// Largest `maxactive` of a kretprobe (Linux's `KRETPROBE_MAXACTIVE_MAX`).
pub const MAXACTIVE_MAX: u32 = 4096;

/// Registered probes of one architecture engine `A`, and its trap handlers.
pub struct ProbeRegistry<A: Arch> {
    host: Arc<dyn KprobeHost>,
    published: Published<A>,
    percpu: PerCpu<A>,
    /// Orders kretprobe instances (newest return handlers run first).
    seq: AtomicU64,
    inner: spin::Mutex<Inner<A>>,
}

/// One registered probe (writer side).
struct Registered<R: 'static> {
    entry: Arc<Entry<R>>,
    enabled: bool,
}

/// One probed address (writer side).
struct SiteState<A: Arch> {
    insn: Arc<A::Insn>,
    /// Whether the breakpoint is written.
    armed: bool,
    /// Probes at this address in registration order.
    ids: Vec<ProbeId>,
}

/// The writer-side table.
struct Inner<A: Arch> {
    next_id: u32,
    probes: BTreeMap<ProbeId, Registered<A::Regs>>,
    sites: BTreeMap<u64, SiteState<A>>,
    /// The trampoline slot (0 until the first kretprobe).
    trampoline: u64,
    /// Instructions of sites removed since the last publish.
    released: Vec<Arc<A::Insn>>,
    /// Unregistered kretprobes, listed for the trampoline until no CPU can still record an
    /// instance (the grace period after their removal) and none is in flight.
    zombies: Vec<(Arc<Entry<A::Regs>>, Grace)>,
    /// What waits for a grace period.
    pending: Vec<Retired<A>>,
}

/// Things unreachable for new trap handlers, freed once the handlers running when they
/// became unreachable are gone.
struct Retired<A: Arch> {
    grace: Grace,
    snapshot: Option<Box<Snapshot<A>>>,
    /// Instructions (slots) of removed sites.
    released: Vec<Arc<A::Insn>>,
}

impl<A: Arch> ProbeRegistry<A> {
    /// An empty registry over `host`.
    pub fn new(host: Arc<dyn KprobeHost>) -> Self {
        ProbeRegistry {
            host,
            published: Published::new(),
            percpu: PerCpu::new(),
            seq: AtomicU64::new(0),
            inner: spin::Mutex::new(Inner {
                next_id: 1,
                probes: BTreeMap::new(),
                sites: BTreeMap::new(),
                trampoline: 0,
                released: Vec::new(),
                zombies: Vec::new(),
                pending: Vec::new(),
            }),
        }
    }

    /// `symbol`+`offset` → address. `ENOENT`: unknown symbol; `EINVAL`: offset past the
    /// symbol or blocklisted address; `EILSEQ`: not an instruction boundary (decoded from the
    /// symbol's start).
    pub fn resolve(&self, symbol: &[u8], offset: u64) -> Result<u64> {
        let Some(start) = self.host.symbol_addr(symbol) else {
            return err(Errno::ENOENT, "unknown symbol");
        };
        let (sym_start, size) = self.host.symbol_of(start).unwrap_or((start, 0));
        if size != 0 && start.saturating_add(offset) >= sym_start.saturating_add(size) {
            return err(Errno::EINVAL, "offset past the end of the symbol");
        }
        let addr = start.wrapping_add(offset);
        if self.host.is_blocklisted(addr) {
            return err(Errno::EINVAL, "address is blocklisted");
        }
        let inner = self.inner.lock();
        A::check_boundary(&*self.host, addr, (sym_start, size), &|base, buf| recover(&inner, base, buf))?;
        Ok(addr)
    }

    /// Registers a probe: checks the address (inside a function — `EINVAL` otherwise — at an
    /// instruction boundary — `EILSEQ` — not blocklisted — `EINVAL` — a kretprobe only at
    /// the function's start — `EINVAL`), checks that the instruction can be probed
    /// (`EILSEQ`) and arms it when `spec.enabled`. Several probes may share an address: one
    /// breakpoint, handlers in registration order.
    pub fn register(&self, spec: ProbeSpec<A::Regs>) -> Result<ProbeId> {
        let host = &*self.host;
        let Some(symbol) = host.symbol_of(spec.addr) else {
            return err(Errno::EINVAL, "address is not in a kernel function");
        };
        if host.is_blocklisted(spec.addr) {
            return err(Errno::EINVAL, "address is blocklisted");
        }
        let maxactive = match spec.kind {
            ProbeKind::Kprobe => 0,
            ProbeKind::Kretprobe { .. } if spec.addr != symbol.0 => {
                return err(Errno::EINVAL, "kretprobe not at a function start");
            }
            ProbeKind::Kretprobe { maxactive: 0 } => host.possible_cpus().saturating_mul(2).max(10),
            ProbeKind::Kretprobe { maxactive } if maxactive > MAXACTIVE_MAX => {
                return err(Errno::E2BIG, "kretprobe maxactive too big");
            }
            ProbeKind::Kretprobe { maxactive } => maxactive,
        };
        let mut inner = self.inner.lock();
        let new_site = !inner.sites.contains_key(&spec.addr);
        if new_site {
            let insn = A::analyze(host, spec.addr, symbol, &|base, buf| recover(&inner, base, buf))?;
            inner.sites.insert(spec.addr, SiteState { insn: Arc::new(insn), armed: false, ids: Vec::new() });
        }
        if maxactive != 0 && inner.trampoline == 0 {
            match self.make_trampoline() {
                Ok(t) => inner.trampoline = t,
                Err(e) => {
                    self.drop_site_if_empty(&mut inner, spec.addr);
                    return Err(e);
                }
            }
        }
        let id = ProbeId(inner.next_id);
        inner.next_id += 1;
        let info = ProbeInfo { id, addr: spec.addr, symbol_start: symbol.0 };
        let entry = Arc::new(Entry::new(info, spec.kind, spec.handler, maxactive));
        inner.probes.insert(id, Registered { entry, enabled: spec.enabled });
        if let Some(site) = inner.sites.get_mut(&spec.addr) {
            site.ids.push(id);
        }
        if let Err(e) = self.sync(&mut inner) {
            self.remove(&mut inner, id);
            // Best effort: the table without the probe was armed before.
            let _ = self.sync(&mut inner);
            return Err(e);
        }
        Ok(id)
    }

    /// Unregisters a probe (`ENOENT` if unknown); the original bytes are restored when the
    /// last probe at its address goes.
    pub fn unregister(&self, id: ProbeId) -> Result<()> {
        let mut inner = self.inner.lock();
        if !inner.probes.contains_key(&id) {
            return err(Errno::ENOENT, "no such probe");
        }
        self.remove(&mut inner, id);
        self.sync(&mut inner)
    }

    /// Arms a probe (`ENOENT` if unknown).
    pub fn enable(&self, id: ProbeId) -> Result<()> {
        self.set_enabled(id, true)
    }

    /// Disarms a probe (`ENOENT` if unknown); its breakpoint goes when no enabled probe is
    /// left at the address.
    pub fn disable(&self, id: ProbeId) -> Result<()> {
        self.set_enabled(id, false)
    }

    /// Hit and missed counts of a probe.
    pub fn stats(&self, id: ProbeId) -> Option<ProbeStats> {
        self.inner.lock().probes.get(&id).map(|p| p.entry.stats())
    }

    /// The probes registered at `addr` (enabled or not), in registration order.
    pub fn lookup(&self, addr: u64) -> Vec<ProbeId> {
        self.inner.lock().sites.get(&addr).map(|s| s.ids.clone()).unwrap_or_default()
    }

    /// The kretprobe trampoline's address (0 before the first kretprobe).
    pub fn trampoline(&self) -> u64 {
        self.inner.lock().trampoline
    }

    fn set_enabled(&self, id: ProbeId, enabled: bool) -> Result<()> {
        let mut inner = self.inner.lock();
        let Some(p) = inner.probes.get_mut(&id) else {
            return err(Errno::ENOENT, "no such probe");
        };
        if p.enabled == enabled {
            return Ok(());
        }
        p.enabled = enabled;
        let r = self.sync(&mut inner);
        if r.is_err() {
            if let Some(p) = inner.probes.get_mut(&id) {
                p.enabled = !enabled;
            }
        }
        r
    }

    /// A slot holding the breakpoint: where kretprobed functions return to.
    fn make_trampoline(&self) -> Result<u64> {
        let slot = self.host.alloc_insn_slot()?;
        if let Err(e) = self.host.text_poke(slot, A::BREAKPOINT) {
            self.host.free_insn_slot(slot);
            return Err(e);
        }
        Ok(slot)
    }

    /// Removes probe `id` from the table (not yet from the snapshot).
    fn remove(&self, inner: &mut Inner<A>, id: ProbeId) {
        let Some(p) = inner.probes.remove(&id) else { return };
        p.entry.live.store(false, Ordering::SeqCst);
        if p.entry.is_kretprobe() {
            // Its grace period is recorded when the next publish drops it from the sites.
            inner.zombies.push((p.entry.clone(), Grace::never()));
        }
        let addr = p.entry.info.addr;
        if let Some(site) = inner.sites.get_mut(&addr) {
            site.ids.retain(|&i| i != id);
        }
        self.drop_site_if_empty(inner, addr);
    }

    /// Forgets the site at `addr` if no probe uses it (it must be disarmed by the next sync).
    fn drop_site_if_empty(&self, inner: &mut Inner<A>, addr: u64) {
        if inner.sites.get(&addr).is_some_and(|s| s.ids.is_empty()) {
            if let Some(site) = inner.sites.remove(&addr) {
                if site.armed {
                    // Restore the original bytes before the snapshot loses the site.
                    let _ = self.host.text_poke(addr, A::original(&site.insn));
                }
                inner.released.push(site.insn);
            }
        }
    }

    /// Brings breakpoints and the published snapshot in line with the table, then frees what
    /// no handler can be using any more.
    fn sync(&self, inner: &mut Inner<A>) -> Result<()> {
        // Disarm sites without an enabled probe.
        let mut to_arm = Vec::new();
        for (&addr, site) in inner.sites.iter_mut() {
            let want = site.ids.iter().any(|id| inner.probes.get(id).is_some_and(|p| p.enabled));
            if site.armed && !want {
                self.host.text_poke(addr, A::original(&site.insn))?;
                site.armed = false;
            } else if !site.armed && want {
                to_arm.push(addr);
            }
        }
        // Publish: armed sites plus those about to be armed.
        let mut sites = Vec::new();
        for (&addr, site) in inner.sites.iter() {
            if site.armed || to_arm.contains(&addr) {
                let probes = site
                    .ids
                    .iter()
                    .filter_map(|id| inner.probes.get(id))
                    .filter(|p| p.enabled)
                    .map(|p| p.entry.clone())
                    .collect();
                sites.push(Site { addr, insn: site.insn.clone(), probes });
            }
        }
        let kretprobes = inner
            .probes
            .values()
            .filter(|p| p.entry.is_kretprobe())
            .map(|p| p.entry.clone())
            .chain(inner.zombies.iter().map(|(z, _)| z.clone()))
            .collect();
        let old = self.published.publish(Snapshot { sites, kretprobes, trampoline: inner.trampoline });
        let grace = self.published.grace();
        for (_, g) in inner.zombies.iter_mut().filter(|(_, g)| g.is_never()) {
            *g = grace.clone();
        }
        let released = core::mem::take(&mut inner.released);
        inner.pending.push(Retired { grace, snapshot: Some(old), released });
        // Arm.
        let mut result = Ok(());
        for addr in to_arm {
            if let Some(site) = inner.sites.get_mut(&addr) {
                match self.host.text_poke(addr, A::BREAKPOINT) {
                    Ok(()) => site.armed = true,
                    Err(e) => result = Err(e),
                }
            }
        }
        self.reclaim(inner);
        result
    }

    /// Frees what waited for a grace period that has passed, and forgets unregistered
    /// kretprobes no CPU can use any more (the snapshots listing them hold the last
    /// references, so those drop here, in writer context, never in a trap).
    fn reclaim(&self, inner: &mut Inner<A>) {
        let mut i = 0;
        while i < inner.pending.len() {
            if !self.published.passed(&inner.pending[i].grace) {
                i += 1;
                continue;
            }
            let Retired { grace: _, snapshot, released } = inner.pending.swap_remove(i);
            drop(snapshot);
            for insn in &released {
                A::release(&*self.host, insn);
            }
        }
        let published = &self.published;
        inner.zombies.retain(|(z, g)| g.is_never() || !published.passed(g) || z.active.load(Ordering::SeqCst) != 0);
    }

    /// Frees what earlier changes had to leave in place because a trap handler was running
    /// (old snapshots, instruction slots of removed probes). Every change does this too; a
    /// kernel may also call it from a timer.
    pub fn reclaim_deferred(&self) {
        let mut inner = self.inner.lock();
        self.reclaim(&mut inner);
    }
}

/// Puts the original bytes of armed sites back into `buf` (text read from `base`).
fn recover<A: Arch>(inner: &Inner<A>, base: u64, buf: &mut [u8]) {
    let end = base.saturating_add(buf.len() as u64);
    for (&addr, site) in inner.sites.range(base..end) {
        if !site.armed {
            continue;
        }
        for (i, &b) in A::original(&site.insn).iter().enumerate() {
            let at = addr.wrapping_add(i as u64);
            if at < end {
                buf[(at - base) as usize] = b;
            }
        }
    }
}

impl<A: Arch> Drop for ProbeRegistry<A> {
    fn drop(&mut self) {
        // No trap handler can run any more (the kernel dropped its last reference).
        let inner = self.inner.get_mut();
        for (&addr, site) in inner.sites.iter() {
            if site.armed {
                let _ = self.host.text_poke(addr, A::original(&site.insn));
            }
        }
        let sites = core::mem::take(&mut inner.sites);
        drop(self.published.publish(Snapshot::empty()));
        for done in inner.pending.drain(..) {
            for insn in &done.released {
                A::release(&*self.host, insn);
            }
        }
        for site in sites.into_values() {
            A::release(&*self.host, &site.insn);
        }
        for insn in inner.released.drain(..) {
            A::release(&*self.host, &insn);
        }
        let in_flight = inner.probes.values().map(|p| &p.entry).chain(inner.zombies.iter().map(|(z, _)| z));
        if inner.trampoline != 0 && in_flight.into_iter().all(|e| e.active.load(Ordering::SeqCst) == 0) {
            self.host.free_insn_slot(inner.trampoline);
        }
    }
}
