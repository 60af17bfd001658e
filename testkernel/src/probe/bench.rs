//! `int3bench` (kernel command line word): times `int3` round trips from kernel mode at
//! boot — the trap entry with its stack gap, the `#BP` hook (which recognises the bench
//! site and returns true, as a probe hit with no handlers would), `iretq` — and prints
//! `int3-bench: <ns> ns per int3 round trip`. `int3bench=N` sets the count (default
//! 100000, fewer when one round trip is slow, e.g. under nested virtualisation, so the
//! run stays near a second).
//!
//! Before timing, a self-test checks the kernel-mode trap entries: an `int3` and a
//! single-stepped block (TF, five `#DB`s) must each leave at least
//! `arch::idt::KERNEL_TRAP_GAP` bytes between the interrupted stack pointer and the saved
//! frame; it prints `int3-bench: selftest ok` (or `FAILED`).
//!
//! In the `#UD` breakpoint mode (`kprobe_ud`, see [`super::host::configure`]) the site holds
//! the `#UD` breakpoint byte instead, so the line times what a probe costs there.
//!
//! [`run_if_requested`] is also where the boot sequence hands the command line to the probe
//! module: it applies [`super::host::configure`] first.

use core::sync::atomic::Ordering;

use super::hooks::BENCH_RIP;

core::arch::global_asm!(
    r#"
    .section .text.probe_bench, "ax"
    .balign 16
    .global int3_bench_site
    .type int3_bench_site, @function
int3_bench_site:
    int3
    ret
    .size int3_bench_site, . - int3_bench_site

    .balign 16
    .global ud_bench_site
    .type ud_bench_site, @function
ud_bench_site:
    .byte {ud}
    ret
    .size ud_bench_site, . - ud_bench_site

    .balign 16
    .global probe_step_selftest
    .type probe_step_selftest, @function
probe_step_selftest:
    pushfq
    orq $0x100, (%rsp)
    popfq
    .global probe_step_start
probe_step_start:
    nop
    nop
    nop
    nop
    .global probe_step_end
probe_step_end:
    ret
    .size probe_step_selftest, . - probe_step_selftest
    "#,
    ud = const crate::arch::idt::UD_BREAKPOINT,
    options(att_syntax)
);

extern "C" {
    fn int3_bench_site();
    fn ud_bench_site();
    fn probe_step_selftest();
    static probe_step_start: u8;
    static probe_step_end: u8;
}

/// Single-steps a block and hits the bench `int3` once, checking the stack gap of both
/// kernel-mode entries. True when every trap arrived with the gap.
fn selftest() -> bool {
    use super::hooks::{SELFTEST, STEP_RANGE};
    let start = core::ptr::addr_of!(probe_step_start) as u64;
    let end = core::ptr::addr_of!(probe_step_end) as u64;
    STEP_RANGE[1].store(end, Ordering::SeqCst);
    // `popfq` sets TF: the first #DB comes after the instruction following it.
    STEP_RANGE[0].store(start, Ordering::SeqCst);
    // SAFETY: sets TF, runs four `nop`s (each trapping), the hook clears TF at the end.
    unsafe { probe_step_selftest() };
    let steps = SELFTEST[0].load(Ordering::SeqCst);
    // SAFETY: as in `round_trips`.
    unsafe { site()() };
    STEP_RANGE[0].store(0, Ordering::SeqCst);
    STEP_RANGE[1].store(0, Ordering::SeqCst);
    let (traps, gap) = (SELFTEST[0].load(Ordering::SeqCst), SELFTEST[1].load(Ordering::SeqCst));
    let ok = steps == 4 && traps == 5 && gap >= crate::arch::idt::KERNEL_TRAP_GAP;
    let line = alloc::format!(
        "int3-bench: selftest {} ({steps} single-steps, {traps} traps, smallest stack gap {gap} bytes)\n",
        if ok { "ok" } else { "FAILED" }
    );
    crate::arch::serial::write_bytes(line.as_bytes());
    ok
}

const DEFAULT_N: u64 = 100_000;
const BUDGET_NS: u64 = 1_000_000_000;

/// The bench site: `int3; ret`, or in the `#UD` breakpoint mode `<ud byte>; ret`.
fn site() -> unsafe extern "C" fn() {
    if crate::arch::idt::ud_mode() {
        ud_bench_site
    } else {
        int3_bench_site
    }
}

fn round_trips(n: u64) -> u64 {
    let f = site();
    let t0 = crate::time::monotonic_ns();
    for _ in 0..n {
        // SAFETY: the site is a breakpoint then `ret`; the #BP hook resumes after it.
        unsafe { f() };
    }
    crate::time::monotonic_ns() - t0
}

/// The count `int3bench=N` asks for (`Some(None)`: the word without a count).
fn requested(cmdline: &str) -> Option<Option<u64>> {
    crate::cmdline::kernel_part(cmdline).split_ascii_whitespace().find_map(|w| match w.strip_prefix("int3bench") {
        Some("") => Some(None),
        Some(rest) => rest.strip_prefix('=').map(|n| n.parse().ok()),
        None => None,
    })
}

/// Runs the benchmark when the command line asks for it (boot, hooks installed, before
/// `/init`).
pub fn run_if_requested(cmdline: &str) {
    super::host::configure(cmdline);
    let Some(n) = requested(cmdline) else { return };
    BENCH_RIP.store(site() as usize as u64 + 1, Ordering::SeqCst);
    selftest();
    // Calibrate on a few, then fit the run into the time budget.
    let warm = 100;
    let per = round_trips(warm).max(1) / warm;
    let n = n.unwrap_or_else(|| DEFAULT_N.min(BUDGET_NS / per.max(1)).max(1000)).max(1);
    let ns = round_trips(n);
    BENCH_RIP.store(0, Ordering::SeqCst);
    let per_100 = u128::from(ns) * 100 / u128::from(n);
    let line =
        alloc::format!("int3-bench: {}.{:02} ns per int3 round trip ({n} round trips)\n", per_100 / 100, per_100 % 100);
    crate::arch::serial::write_bytes(line.as_bytes());
}
