//! The `#BP`/`#DB` hooks: kernel and user `int3` and debug traps reach the probe engine
//! here (installed with `arch::trap::set_breakpoint_hook`/`set_debug_hook` by [`init`]).
//!
//! The engine is any [`TrapHandler`] (the `kprobe_arch::Registry` through
//! [`super::host`]), published once with [`set_handler`]; until then probes do not exist
//! and the hooks only answer the `int3bench` site. Trap context: interrupts off, no locks.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use crate::arch::trap::{self, TrapFrame};

/// What handles probe traps (the kprobe engine).
pub trait TrapHandler: Send + Sync {
    /// An `int3` trap (`regs.rip` = the byte after the `int3`); true when it was a probe.
    fn breakpoint(&self, regs: &mut TrapFrame) -> bool;
    /// A debug trap; true when it was the single-step of a probed instruction.
    fn debug(&self, regs: &mut TrapFrame) -> bool;
}

static HANDLER: Once<&'static dyn TrapHandler> = Once::new();

/// The `int3bench` site's address + 1 while the benchmark runs (0 otherwise).
pub(super) static BENCH_RIP: AtomicU64 = AtomicU64::new(0);
/// While the boot self-test single-steps: `[start, end)` of the stepped code (0, 0 otherwise).
pub(super) static STEP_RANGE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
/// Self-test results: traps seen, and the smallest distance between a kernel trap's
/// interrupted stack pointer and the end of its saved frame.
pub(super) static SELFTEST: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(u64::MAX)];

fn note_gap(f: &TrapFrame) {
    let frame_end = f as *const TrapFrame as u64 + core::mem::size_of::<TrapFrame>() as u64;
    SELFTEST[0].fetch_add(1, Ordering::Relaxed);
    SELFTEST[1].fetch_min(f.rsp.wrapping_sub(frame_end), Ordering::Relaxed);
}

/// Publishes the probe engine (once; later calls are ignored).
pub fn set_handler(h: &'static dyn TrapHandler) {
    HANDLER.call_once(|| h);
}

fn breakpoint(f: &mut TrapFrame) -> bool {
    if f.rip == BENCH_RIP.load(Ordering::Relaxed) {
        if STEP_RANGE[0].load(Ordering::Relaxed) != 0 {
            note_gap(f);
        }
        return true;
    }
    // User-mode int3 is the process's business (SIGTRAP), as Linux's kprobe_int3_handler.
    !trap::from_user(f) && HANDLER.get().is_some_and(|h| h.breakpoint(f))
}

fn debug(f: &mut TrapFrame) -> bool {
    let (lo, hi) = (STEP_RANGE[0].load(Ordering::Relaxed), STEP_RANGE[1].load(Ordering::Relaxed));
    if f.rip > lo && f.rip <= hi {
        note_gap(f);
        if f.rip == hi {
            f.eflags &= !0x100; // TF: the stepped block ends here
        }
        return true;
    }
    !trap::from_user(f) && HANDLER.get().is_some_and(|h| h.debug(f))
}

/// Installs the hooks (boot, after the IDT).
pub fn init() {
    trap::set_breakpoint_hook(breakpoint);
    trap::set_debug_hook(debug);
}
