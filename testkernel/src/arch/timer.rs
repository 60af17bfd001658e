//! Time: the PIT (channel 0) interrupts at [`HZ`] for scheduling and sleep deadlines; the
//! TSC, calibrated against PIT channel 2 at boot, is the monotonic clock; the RTC gives
//! the wall time at boot. Registered as the kernel's [`crate::time::Clock`].

use core::sync::atomic::{AtomicU64, Ordering};

use super::cpu::{inb, outb, rdtsc};
use crate::time::Clock;

/// Timer interrupts per second.
pub const HZ: u64 = 250;
const PIT_HZ: u64 = 1_193_182;

static TSC_HZ: AtomicU64 = AtomicU64::new(1_000_000_000);
static TSC_BOOT: AtomicU64 = AtomicU64::new(0);
static REALTIME_BOOT_NS: AtomicU64 = AtomicU64::new(0);
static LAST_NS: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);

/// Measures the TSC frequency over 10 ms of PIT channel 2.
fn calibrate_tsc() -> u64 {
    let count: u64 = PIT_HZ / 100;
    outb(0x61, (inb(0x61) & !0x02) | 0x01); // gate on, speaker off
    outb(0x43, 0xb0); // channel 2, lo/hi, mode 0
    outb(0x42, (count & 0xff) as u8);
    outb(0x42, (count >> 8) as u8);
    let g = inb(0x61) & !0x01;
    outb(0x61, g);
    outb(0x61, g | 0x01); // restart the count
    let t0 = rdtsc();
    let mut spins = 0u64;
    while inb(0x61) & 0x20 == 0 && spins < 100_000_000 {
        spins += 1;
    }
    let t1 = rdtsc();
    (t1 - t0).saturating_mul(PIT_HZ) / count
}

/// Calibrates the TSC, reads the RTC, starts the PIT at [`HZ`] and registers the clock.
pub fn init() {
    let hz = calibrate_tsc().max(1_000_000);
    TSC_HZ.store(hz, Ordering::Relaxed);
    TSC_BOOT.store(rdtsc(), Ordering::Relaxed);
    REALTIME_BOOT_NS.store(super::rtc::unix_seconds().saturating_mul(1_000_000_000), Ordering::Relaxed);
    let div = PIT_HZ / HZ;
    outb(0x43, 0x34); // channel 0, lo/hi, mode 2 (rate generator)
    outb(0x40, (div & 0xff) as u8);
    outb(0x40, (div >> 8) as u8);
    crate::time::set_clock(&TscClock);
    log::info!("timer: PIT at {HZ} Hz, TSC {} MHz", hz / 1_000_000);
}

/// Timer interrupts since boot.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// The timer interrupt (IRQ 0; `f`: the interrupted registers): counts, wakes expired
/// sleepers, asks for a reschedule, samples CPU clock perf events and runs pending perf
/// irq_work.
pub fn tick(f: &super::trap::TrapFrame) {
    TICKS.fetch_add(1, Ordering::Relaxed);
    crate::task::sched::timer_tick(crate::time::monotonic_ns());
    crate::trace::timer_tick(f);
}

struct TscClock;

impl Clock for TscClock {
    fn monotonic_ns(&self) -> u64 {
        let d = rdtsc().wrapping_sub(TSC_BOOT.load(Ordering::Relaxed));
        let ns = (u128::from(d) * 1_000_000_000 / u128::from(TSC_HZ.load(Ordering::Relaxed))) as u64;
        // Never backwards, even if the TSC is unstable under virtualisation.
        LAST_NS.fetch_max(ns, Ordering::Relaxed).max(ns)
    }

    fn realtime_at_boot_ns(&self) -> u64 {
        REALTIME_BOOT_NS.load(Ordering::Relaxed)
    }
}
