//! Kprobe events: created through `kprobe_events` (or by perf's kprobe PMU), armed through
//! a [`ProbeArm`] while they have consumers.
//!
//! Reference: Linux 6.1 `kernel/trace/trace_kprobe.c`. A probe is registered (disabled)
//! when its event is created — so an unknown symbol fails the write with `ENOENT`, a bad
//! offset with `EINVAL`/`EILSEQ` — and enabled when the first consumer (tracefs `enable`,
//! a perf event) attaches. Deleting an event in use is `EBUSY`; a missing one `ENOENT`;
//! creating one whose name exists `EEXIST`; truncating `kprobe_events` deletes every event,
//! or none and `EBUSY` when one is in use.

mod arch;
mod event;
mod fetch;
mod parse;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::AtomicU64;

use bpf_subsys::attach::PerfEventKind;
use spin::{Mutex, Once};
use syscall_abi::{err, Errno, Result};

pub use self::arch::{KprobeSource, RegistryArm};
use self::event::{Handler, KprobeEvent};
use self::parse::{Command, ProbeDef};
use super::event::{EventDesc, TraceEvent};
use super::registry::EventTable;
use super::X86PtRegs;

/// Longest `kprobe_events` command line (Linux `WRITE_BUFSIZE`).
const MAX_LINE: usize = 4096;

/// Where a probe goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KprobeTarget {
    /// `SYM+offs` (`MOD:SYM` looks up `SYM`: there are no modules).
    Symbol {
        /// The symbol as written.
        name: String,
        /// Byte offset from the symbol.
        offset: u64,
    },
    /// A kernel address.
    Address(u64),
}

/// What kind of probe [`ProbeArm::register`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeArmKind {
    /// A kprobe: [`KprobeHit::pre`] before the probed instruction.
    Kprobe,
    /// A kretprobe: [`KprobeHit::ret`] at the function's return; `maxactive` 0 = default.
    Kretprobe {
        /// Most instances at once (missed beyond).
        maxactive: u32,
    },
}

/// Called by the probe engine (trap context).
pub trait KprobeHit: Send + Sync {
    /// Before the probed instruction (`regs.rip` = probe address + 1, as Linux x86).
    fn pre(&self, regs: &mut X86PtRegs);
    /// At the probed function's return (`regs.rax` = return value, `regs.rip` = the real
    /// return address).
    fn ret(&self, regs: &mut X86PtRegs);
}

/// The probe engine as kprobe events need it; the kernel implements it over
/// `kprobe_arch::Registry` (`ProbeHandler::pre`/`ret` forward to [`KprobeHit`]).
pub trait ProbeArm: Send + Sync {
    /// `symbol + offset` → address (`ENOENT` unknown symbol, `EINVAL` offset past it,
    /// `EILSEQ` not an instruction boundary).
    fn resolve(&self, symbol: &[u8], offset: u64) -> Result<u64>;
    /// Registers a disabled probe at `addr`; returns its id.
    fn register(&self, addr: u64, kind: ProbeArmKind, hit: Arc<dyn KprobeHit>) -> Result<u64>;
    /// Removes a probe (restoring the original bytes).
    fn unregister(&self, id: u64);
    /// Arms a probe.
    fn enable(&self, id: u64) -> Result<()>;
    /// Disarms a probe.
    fn disable(&self, id: u64) -> Result<()>;
    /// Missed hits of a probe (reentry, kretprobe maxactive).
    fn missed(&self, id: u64) -> u64;
    /// `addr` → (symbol name, offset in it, symbol size), for trace lines.
    fn symbolize(&self, addr: u64) -> Option<(String, u64, u64)> {
        let _ = addr;
        None
    }
    /// Reads kernel memory for memory fetch arguments (`+8(%di)`, `@ADDR`, `$stackN`) from
    /// probe context: must not fault or block (Linux `copy_from_kernel_nofault`). Default:
    /// `EFAULT` (such arguments then record 0, strings `(fault)`).
    fn read_kernel(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let _ = (addr, buf);
        err(Errno::EFAULT, "no kernel memory access")
    }
}

struct Entry {
    event: Arc<TraceEvent>,
    kprobe: Arc<KprobeEvent>,
}

/// The kprobe events of a registry.
pub(crate) struct KprobeEvents {
    table: Arc<EventTable>,
    arm: Once<Arc<dyn ProbeArm>>,
    /// In creation order (the order `kprobe_events` lists them).
    list: Mutex<Vec<Entry>>,
}

impl KprobeEvents {
    pub(crate) fn new(table: Arc<EventTable>) -> KprobeEvents {
        KprobeEvents { table, arm: Once::new(), list: Mutex::new(Vec::new()) }
    }

    pub(crate) fn set_arm(&self, arm: Arc<dyn ProbeArm>) {
        self.arm.call_once(|| arm);
    }

    /// Whether a probe engine is installed.
    pub(crate) fn available(&self) -> bool {
        self.arm.get().is_some()
    }

    fn arm(&self) -> Result<&Arc<dyn ProbeArm>> {
        match self.arm.get() {
            Some(a) => Ok(a),
            None => err(Errno::ENODEV, "no kprobe engine"),
        }
    }

    /// Registers the probe of `def` and builds its event description.
    fn build(&self, def: ProbeDef) -> Result<(EventDesc, Arc<Handler>, Arc<KprobeEvent>)> {
        let arm = self.arm()?.clone();
        let addr = match &def.target {
            KprobeTarget::Symbol { name, offset } => {
                let sym = name.rsplit(':').next().unwrap_or(name);
                arm.resolve(sym.as_bytes(), *offset)?
            }
            KprobeTarget::Address(a) => *a,
        };
        let fields = event::fields(&def);
        let size = super::field::fields_end(&fields);
        let handler = Arc::new(Handler {
            event: Once::new(),
            arm: Arc::downgrade(&arm),
            addr,
            retprobe: def.retprobe,
            args: def.args.clone(),
            size,
            nhit: AtomicU64::new(0),
        });
        let kind =
            if def.retprobe { ProbeArmKind::Kretprobe { maxactive: def.maxactive } } else { ProbeArmKind::Kprobe };
        let probe_id = arm.register(addr, kind, handler.clone())?;
        let print_fmt = fetch::print_fmt(def.retprobe, &def.args);
        let (system, name) = (def.group.clone(), def.event.clone());
        let kprobe = Arc::new(KprobeEvent { def, arm, probe_id, handler: handler.clone() });
        let desc = EventDesc {
            system,
            name,
            kind: PerfEventKind::Probe,
            fields,
            record_size: size,
            print_fmt,
            control: kprobe.clone(),
        };
        Ok((desc, handler, kprobe))
    }

    /// A `p:`/`r:` command.
    fn create(&self, def: ProbeDef) -> Result<()> {
        let mut list = self.list.lock();
        if self.table.exists(&def.group, &def.event) {
            return err(Errno::EEXIST, "event exists");
        }
        let (desc, handler, kprobe) = self.build(def)?;
        let event = self.table.insert(desc)?;
        handler.event.call_once(|| Arc::downgrade(&event));
        list.push(Entry { event, kprobe });
        Ok(())
    }

    /// Perf's unlisted kprobe.
    pub(crate) fn create_local(&self, target: KprobeTarget, retprobe: bool) -> Result<Arc<TraceEvent>> {
        if let KprobeTarget::Symbol { name, offset } = &target {
            if name.is_empty() || (retprobe && *offset != 0) {
                return err(Errno::EINVAL, "bad kprobe target");
            }
        }
        let event = parse::default_name(retprobe, &target);
        let def = ProbeDef {
            group: String::from(parse::DEFAULT_GROUP),
            event,
            target,
            retprobe,
            maxactive: 0,
            args: Vec::new(),
        };
        let (desc, handler, _) = self.build(def)?;
        let event = self.table.unlisted(desc)?;
        handler.event.call_once(|| Arc::downgrade(&event));
        Ok(event)
    }

    /// A `-:` command.
    fn delete(&self, group: Option<&str>, name: &str) -> Result<()> {
        let mut list = self.list.lock();
        let matches =
            |e: &Entry| group.is_none_or(|g| g == e.event.system()) && (name.is_empty() || name == e.event.name());
        if !list.iter().any(matches) {
            return err(Errno::ENOENT, "no such event");
        }
        if list.iter().filter(|e| matches(e)).any(|e| e.event.in_use()) {
            return err(Errno::EBUSY, "event in use");
        }
        let (gone, keep): (Vec<Entry>, Vec<Entry>) = list.drain(..).partition(matches);
        *list = keep;
        drop(list);
        for e in &gone {
            self.table.remove(e.event.id());
        }
        Ok(())
    }

    /// Deletes every event (truncation of `kprobe_events`): none and `EBUSY` when one is in use.
    pub(crate) fn release_all(&self) -> Result<()> {
        let mut list = self.list.lock();
        if list.iter().any(|e| e.event.in_use()) {
            return err(Errno::EBUSY, "an event is in use");
        }
        let gone: Vec<Entry> = list.drain(..).collect();
        drop(list);
        for e in &gone {
            self.table.remove(e.event.id());
        }
        Ok(())
    }

    /// A write to `kprobe_events`: one command per line, `#` comments, blank lines skipped.
    /// Commands before a failing line stay applied.
    pub(crate) fn write(&self, data: &[u8]) -> Result<usize> {
        let Ok(text) = core::str::from_utf8(data) else { return err(Errno::EINVAL, "not text") };
        for line in text.split('\n') {
            if line.len() >= MAX_LINE {
                return err(Errno::EINVAL, "line too long");
            }
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            match parse::parse_command(line)? {
                Command::Create(def) => self.create(def)?,
                Command::Delete { group, event } => self.delete(group.as_deref(), &event)?,
            }
        }
        Ok(data.len())
    }

    /// The text of `kprobe_events`.
    pub(crate) fn list_text(&self) -> String {
        let mut out = String::new();
        for e in self.list.lock().iter() {
            let d = &e.kprobe.def;
            out.push(if d.retprobe { 'r' } else { 'p' });
            if d.retprobe && d.maxactive != 0 {
                let _ = write!(out, "{}", d.maxactive);
            }
            let _ = write!(out, ":{}/{}", d.group, d.event);
            match &d.target {
                KprobeTarget::Address(a) => {
                    let _ = write!(out, " 0x{a:x}");
                }
                KprobeTarget::Symbol { name, offset: 0 } => {
                    let _ = write!(out, " {name}");
                }
                KprobeTarget::Symbol { name, offset } => {
                    let _ = write!(out, " {name}+{offset}");
                }
            }
            for a in &d.args {
                let _ = write!(out, " {}={}", a.name, a.comm);
            }
            out.push('\n');
        }
        out
    }

    /// The text of `kprobe_profile`: `  <event> <hits> <misses>` (Linux `%-44s %15lu %15lu`).
    pub(crate) fn profile_text(&self) -> String {
        let mut out = String::new();
        for e in self.list.lock().iter() {
            let missed = e.kprobe.arm.missed(e.kprobe.probe_id);
            let _ = writeln!(out, "  {:<44} {:>15} {:>15}", e.event.name(), e.kprobe.hits(), missed);
        }
        out
    }
}
