//! The kernel's `kprobe_arch::KprobeHost` and the probe engine instance.
//!
//! - Text: [`super::text`] (volatile stores into the writable kernel text; reads of the
//!   loaded image, anything else `EFAULT`).
//! - Instruction slots: [`super::slots`] (the 16 KiB `kprobe_insn_slots` area in `.text`).
//! - Symbols: [`crate::kallsyms`] (functions only for `symbol_of`).
//! - Blocklist: an address is refused when it lies in the slot area, in no function, or in
//!   a function one of whose names (aliases included) [`super::blocklist`] lists.
//! - One CPU, interrupts masked while single-stepping.
//! - `kprobe_ud` (kernel command line word, [`configure`]): the `#UD` breakpoint mode for
//!   hypervisors that cannot deliver a kernel-mode `#BP` (PVM: the guest dies with "KVM
//!   internal error ... emulation failure" at the first kernel `int3`). The engine's
//!   one-byte `int3` writes become [`UD_BREAKPOINT`] (an invalid opcode; the `#UD` entry
//!   turns it back into a `#BP` with the same frame), the addresses are remembered, and
//!   reads of the text (the engine's, and the bpf host's through [`fixup_read`]) show `int3`
//!   there, so nothing above this file sees the difference.
//!
//! [`init`] (boot) creates the `kprobe_arch::Registry` over this host and hands it to the
//! `#BP`/`#DB` hooks; [`registry`] is what the perf-event layer uses.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use kprobe_arch::{KprobeHost, Registry, X86PtRegs};
use spin::Once;
use syscall_abi::{Errno, Result};

use super::blocklist::is_blocked_name;
use super::hooks::{self, TrapHandler};
use super::slots::{self, SlotMap, SLOT_SIZE};
use super::text;
use crate::arch::idt::{self, UD_BREAKPOINT};

const INT3: u8 = 0xcc;

/// Addresses holding a [`UD_BREAKPOINT`] in place of an `int3` (0: free entry).
static UD_SITES: [AtomicU64; 512] = [const { AtomicU64::new(0) }; 512];

fn ud_site(addr: u64) -> bool {
    addr != 0 && UD_SITES.iter().any(|s| s.load(Ordering::Acquire) == addr)
}

fn set_ud_site(addr: u64, on: bool) -> Result<()> {
    if on {
        if ud_site(addr) {
            return Ok(());
        }
        let free = UD_SITES.iter().find(|s| s.compare_exchange(0, addr, Ordering::AcqRel, Ordering::Relaxed).is_ok());
        free.map(|_| ()).ok_or_else(|| Errno::ENOSPC.into())
    } else {
        for s in &UD_SITES {
            let _ = s.compare_exchange(addr, 0, Ordering::AcqRel, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Shows `int3` where the `#UD` breakpoint mode wrote [`UD_BREAKPOINT`], in `buf` read from
/// kernel address `addr` (a no-op outside that mode). For every reader of kernel text, e.g.
/// the bpf host's `copy_from_kernel_nofault`.
pub fn fixup_read(addr: u64, buf: &mut [u8]) {
    if !idt::ud_mode() {
        return;
    }
    for (i, b) in buf.iter_mut().enumerate() {
        if *b == UD_BREAKPOINT && ud_site(addr.wrapping_add(i as u64)) {
            *b = INT3;
        }
    }
}

/// The probe module's kernel command line words (boot, before the first probe): `kprobe_ud`
/// turns on the `#UD` breakpoint mode.
pub fn configure(cmdline: &str) {
    if crate::cmdline::has_flag(cmdline, "kprobe_ud") {
        idt::set_ud_mode(true);
        log::info!("kprobes: #UD breakpoint mode (kernel int3 replaced by {UD_BREAKPOINT:#04x})");
    }
}

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
        if idt::ud_mode() && bytes.len() == 1 {
            // The engine arms with a one-byte int3 and disarms with the original byte.
            let arm = bytes[0] == INT3;
            if arm {
                set_ud_site(addr, true)?;
                return Ok(text::poke(addr, &[UD_BREAKPOINT])?);
            }
            text::poke(addr, bytes)?;
            return set_ud_site(addr, false);
        }
        Ok(text::poke(addr, bytes)?)
    }

    fn text_read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        text::read(addr, buf)?;
        if idt::ud_mode() && buf == [UD_BREAKPOINT] {
            // The engine's "is a breakpoint instruction here?" (one byte, at a trapping
            // address): in this mode the invalid opcode is one, ours or not, so a stray one
            // is reported (kernel fault) instead of being re-executed forever.
            buf[0] = INT3;
        }
        fixup_read(addr, buf);
        Ok(())
    }

    fn alloc_insn_slot(&self) -> Result<u64> {
        let i = self.slots.alloc().ok_or(Errno::ENOMEM)?;
        Ok(slots::area_base() + i as u64 * SLOT_SIZE)
    }

    fn free_insn_slot(&self, addr: u64) {
        if let Some(i) = slots::index_of(slots::area_base(), addr) {
            // Back to int3s, so a stale jump into the slot traps instead of running old code.
            let _ = text::poke(addr, &[INT3; SLOT_SIZE as usize]);
            let _ = set_ud_site(addr, false);
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
