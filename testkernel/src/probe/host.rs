//! The kernel's `kprobe_arch::KprobeHost` and the probe engine instance.
//!
//! - Text: [`super::text`] (volatile stores into the writable kernel text; reads of the
//!   loaded image, anything else `EFAULT`).
//! - Instruction slots: [`super::slots`] (the 16 KiB `kprobe_insn_slots` area in `.text`).
//! - Symbols: [`crate::kallsyms`] (functions only for `symbol_of`).
//! - Blocklist: an address is refused when it lies in the slot area, in no function, or in
//!   a function one of whose names (aliases included) [`super::blocklist`] lists.
//! - One CPU, interrupts masked while single-stepping.
//!
//! [`init`] (boot) creates the `kprobe_arch::Registry` over this host and hands it to the
//! `#BP`/`#DB` hooks; [`registry`] is what the perf-event layer uses.

use alloc::sync::Arc;

use kprobe_arch::{KprobeHost, Registry, X86PtRegs};
use spin::Once;
use syscall_abi::{Errno, Result};

use super::blocklist::is_blocked_name;
use super::hooks::{self, TrapHandler};
use super::slots::{self, SlotMap, SLOT_SIZE};
use super::text;

/// The demo kernel's kprobe host.
pub struct KernelKprobeHost {
    slots: SlotMap,
}

impl KernelKprobeHost {
    /// A host with every slot free.
    pub const fn new() -> KernelKprobeHost {
        KernelKprobeHost { slots: SlotMap::new() }
    }
}

impl Default for KernelKprobeHost {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether kernel code at `addr` must not be probed.
pub fn is_blocklisted(addr: u64) -> bool {
    let base = slots::area_base();
    if addr >= base && addr - base < slots::AREA_SIZE {
        return true;
    }
    // Every name of the function counts (LLVM merges identical bodies into aliases).
    let mut names = crate::kallsyms::table().covering(addr).peekable();
    names.peek().is_none() || names.any(|sym| !sym.is_text() || is_blocked_name(sym.name))
}

impl KprobeHost for KernelKprobeHost {
    fn text_poke(&self, addr: u64, bytes: &[u8]) -> Result<()> {
        Ok(text::poke(addr, bytes)?)
    }

    fn text_read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        Ok(text::read(addr, buf)?)
    }

    fn alloc_insn_slot(&self) -> Result<u64> {
        let i = self.slots.alloc().ok_or(Errno::ENOMEM)?;
        Ok(slots::area_base() + i as u64 * SLOT_SIZE)
    }

    fn free_insn_slot(&self, addr: u64) {
        if let Some(i) = slots::index_of(slots::area_base(), addr) {
            // Back to int3s, so a stale jump into the slot traps instead of running old code.
            let _ = text::poke(addr, &[0xcc; SLOT_SIZE as usize]);
            self.slots.free(i);
        }
    }

    fn symbol_addr(&self, name: &[u8]) -> Option<u64> {
        crate::kallsyms::lookup_name(name)
    }

    fn symbol_of(&self, addr: u64) -> Option<(u64, u64)> {
        crate::kallsyms::table().lookup_addr(addr).filter(|s| s.is_text()).map(|s| (s.addr, s.size))
    }

    fn is_blocklisted(&self, addr: u64) -> bool {
        is_blocklisted(addr)
    }

    fn current_cpu(&self) -> u32 {
        0
    }

    fn possible_cpus(&self) -> u32 {
        1
    }

    fn mask_interrupts_in_step(&self) -> bool {
        true
    }
}

struct Engine(Registry);

impl TrapHandler for Engine {
    fn breakpoint(&self, regs: &mut X86PtRegs) -> bool {
        self.0.handle_breakpoint(regs)
    }

    fn debug(&self, regs: &mut X86PtRegs) -> bool {
        self.0.handle_debug(regs)
    }
}

static ENGINE: Once<Engine> = Once::new();

/// Creates the probe engine and connects it to the `#BP`/`#DB` hooks (boot, after
/// [`crate::kallsyms::init`] and [`hooks::init`]).
pub fn init() {
    let engine = ENGINE.call_once(|| Engine(Registry::new(Arc::new(KernelKprobeHost::new()))));
    hooks::set_handler(engine);
}

/// The kernel's probe registry (`None` before [`init`]).
pub fn registry() -> Option<&'static Registry> {
    ENGINE.get().map(|e| &e.0)
}
