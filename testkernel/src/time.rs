//! Clocks: monotonic and wall time in nanoseconds, from the [`Clock`] the kernel registers
//! at boot (host tests use the host's clocks).

use spin::Once;

/// What the kernel's timekeeping provides.
pub trait Clock: Sync {
    /// Nanoseconds since boot, never decreasing (`CLOCK_MONOTONIC`; also `CLOCK_BOOTTIME`,
    /// as this kernel never suspends).
    fn monotonic_ns(&self) -> u64;
    /// Nanoseconds since the Unix epoch at boot (read from the RTC), so that
    /// `CLOCK_REALTIME` = this + [`Clock::monotonic_ns`].
    fn realtime_at_boot_ns(&self) -> u64;
}

static CLOCK: Once<&'static dyn Clock> = Once::new();

/// Registers the kernel's clock (once, at boot).
pub fn set_clock(c: &'static dyn Clock) {
    CLOCK.call_once(|| c);
}

/// `CLOCK_MONOTONIC` in nanoseconds (0 before a clock is registered).
pub fn monotonic_ns() -> u64 {
    #[cfg(test)]
    if CLOCK.get().is_none() {
        return host_monotonic_ns();
    }
    CLOCK.get().map_or(0, |c| c.monotonic_ns())
}

/// `CLOCK_REALTIME` in nanoseconds since the epoch.
pub fn realtime_ns() -> u64 {
    #[cfg(test)]
    if CLOCK.get().is_none() {
        return std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    }
    CLOCK.get().map_or(0, |c| c.realtime_at_boot_ns().saturating_add(c.monotonic_ns()))
}

#[cfg(test)]
fn host_monotonic_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_nanos() as u64
}
