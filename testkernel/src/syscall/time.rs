//! Clocks and sleeps: `clock_gettime`, `clock_getres`, `gettimeofday`, `time`, `nanosleep`,
//! `clock_nanosleep`, and the `struct timespec` helpers the futex timeouts share.
//!
//! Clocks come from [`crate::time`]: `CLOCK_MONOTONIC` (= `MONOTONIC_RAW` = `BOOTTIME`: the
//! kernel never suspends nor slews) and `CLOCK_REALTIME` (= `TAI`, whose offset is 0 as on a
//! freshly booted Linux). The coarse clocks return the precise value (Linux returns the value
//! at the last tick; both are valid readings) and report the tick as their resolution.
//! `CLOCK_PROCESS_CPUTIME_ID` / `CLOCK_THREAD_CPUTIME_ID` (and the negative "CPU clock of
//! myself" ids `clock_getcpuclockid` builds for pid 0) are approximated by the monotonic
//! clock: this kernel does not account CPU time per task, and a task never has used more CPU
//! than wall time since boot. CPU clocks of other pids and dynamic (fd) clocks give
//! `EINVAL`; the alarm clocks give `EINVAL` (`EOPNOTSUPP` for sleeps) like Linux without an
//! RTC wake-up device.
//!
//! Sleeps wait on a queue nobody wakes, with a monotonic deadline: they end at the deadline
//! or with `EINTR` when a signal is pending (the relative forms then write the remaining time
//! to `rem`). Linux restarts an interrupted sleep transparently when no handler runs
//! (`-ERESTART_RESTARTBLOCK`); this kernel returns `EINTR` (kcore's dispatcher has no
//! restart machinery).
//!
//! Reference: kernel/time/posix-timers.c (`clock_gettime`, `clock_getres`,
//! `clock_nanosleep`), kernel/time/posix-stubs.c, kernel/time/hrtimer.c (`nanosleep`),
//! kernel/time/time.c (`gettimeofday`, `time`), kernel/time/posix-cpu-timers.c,
//! kernel/time/alarmtimer.c, include/linux/time64.h (`timespec64_valid`).

use syscall_abi::Errno;

use crate::sync::WaitQueue;
use crate::user::{read_val, write_val, UserMem};
use crate::KResult;

/// `CLOCK_REALTIME`.
pub const CLOCK_REALTIME: i32 = 0;
/// `CLOCK_MONOTONIC`.
pub const CLOCK_MONOTONIC: i32 = 1;
/// `CLOCK_PROCESS_CPUTIME_ID`.
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
/// `CLOCK_THREAD_CPUTIME_ID`.
pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
/// `CLOCK_MONOTONIC_RAW`.
pub const CLOCK_MONOTONIC_RAW: i32 = 4;
/// `CLOCK_REALTIME_COARSE`.
pub const CLOCK_REALTIME_COARSE: i32 = 5;
/// `CLOCK_MONOTONIC_COARSE`.
pub const CLOCK_MONOTONIC_COARSE: i32 = 6;
/// `CLOCK_BOOTTIME`.
pub const CLOCK_BOOTTIME: i32 = 7;
/// `CLOCK_REALTIME_ALARM`.
pub const CLOCK_REALTIME_ALARM: i32 = 8;
/// `CLOCK_BOOTTIME_ALARM`.
pub const CLOCK_BOOTTIME_ALARM: i32 = 9;
/// `CLOCK_TAI`.
pub const CLOCK_TAI: i32 = 11;
/// `TIMER_ABSTIME` flag of `clock_nanosleep`.
pub const TIMER_ABSTIME: i32 = 1;

/// Nanoseconds per timer tick: the resolution `clock_getres` reports for the coarse clocks
/// (4 ms, as on a Linux built with HZ=250). Must match `arch::timer::HZ` (250), which this
/// portable module cannot import because `arch` only exists in kernel builds.
pub const TICK_NS: u64 = 1_000_000_000 / 250;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// A clock id, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClockKind {
    /// Wall time: REALTIME, TAI.
    Real,
    /// Wall time read at tick granularity: REALTIME_COARSE.
    RealCoarse,
    /// Time since boot: MONOTONIC, BOOTTIME.
    Mono,
    /// MONOTONIC_RAW: readable, cannot be slept on.
    MonoRaw,
    /// MONOTONIC_COARSE.
    MonoCoarse,
    /// CPU time of the calling process (approximated by monotonic time).
    ProcessCpu,
    /// CPU time of the calling thread (approximated by monotonic time).
    ThreadCpu,
    /// REALTIME_ALARM / BOOTTIME_ALARM: no RTC wake-up device.
    Alarm,
}

/// Resolves a `clockid_t`: `EINVAL` for unknown ids and CPU clocks of other pids.
fn clock_kind(id: i32) -> KResult<ClockKind> {
    if id < 0 {
        // CPU clock encoding of `clock_getcpuclockid`: ((~pid) << 3) | perthread<<2 | type,
        // type 3 being a dynamic (fd) clock. Only pid 0 (the caller) is supported.
        let pid = !(id >> 3);
        let kind = id & 3;
        if pid != 0 || kind == 3 {
            return Err(Errno::EINVAL);
        }
        return Ok(if id & 4 != 0 { ClockKind::ThreadCpu } else { ClockKind::ProcessCpu });
    }
    Ok(match id {
        CLOCK_REALTIME | CLOCK_TAI => ClockKind::Real,
        CLOCK_MONOTONIC | CLOCK_BOOTTIME => ClockKind::Mono,
        CLOCK_PROCESS_CPUTIME_ID => ClockKind::ProcessCpu,
        CLOCK_THREAD_CPUTIME_ID => ClockKind::ThreadCpu,
        CLOCK_MONOTONIC_RAW => ClockKind::MonoRaw,
        CLOCK_REALTIME_COARSE => ClockKind::RealCoarse,
        CLOCK_MONOTONIC_COARSE => ClockKind::MonoCoarse,
        CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM => ClockKind::Alarm,
        _ => return Err(Errno::EINVAL),
    })
}

/// The current value of a clock in nanoseconds (`EINVAL` for the alarm clocks).
fn now_ns(kind: ClockKind) -> KResult<u64> {
    match kind {
        ClockKind::Real | ClockKind::RealCoarse => Ok(crate::time::realtime_ns()),
        ClockKind::Mono | ClockKind::MonoRaw | ClockKind::MonoCoarse => Ok(crate::time::monotonic_ns()),
        ClockKind::ProcessCpu | ClockKind::ThreadCpu => Ok(crate::time::monotonic_ns()),
        ClockKind::Alarm => Err(Errno::EINVAL),
    }
}

/// Reads a `struct timespec` (`EFAULT`) and checks it as `timespec64_valid` does (`EINVAL`
/// for a negative `tv_sec` or a `tv_nsec` outside `0..1e9`); returns it in nanoseconds,
/// saturating at `u64::MAX` (Linux saturates at `KTIME_MAX`).
pub fn read_timespec_ns(mem: &dyn UserMem, addr: u64) -> KResult<u64> {
    let [sec, nsec] = read_val::<[i64; 2]>(mem, addr)?;
    let sec = u64::try_from(sec).map_err(|_| Errno::EINVAL)?;
    let nsec = u64::try_from(nsec).map_err(|_| Errno::EINVAL)?;
    if nsec >= NSEC_PER_SEC {
        return Err(Errno::EINVAL);
    }
    Ok(sec.saturating_mul(NSEC_PER_SEC).saturating_add(nsec))
}

/// Writes nanoseconds as a `struct timespec`.
pub fn write_timespec_ns(mem: &dyn UserMem, addr: u64, ns: u64) -> KResult<()> {
    write_val(mem, addr, &split_ns(ns, NSEC_PER_SEC, 1))
}

/// `[seconds, ns / unit]` as the two `long`s of a timespec (`unit` 1) or timeval (1000).
fn split_ns(ns: u64, per_sec: u64, unit: u64) -> [i64; 2] {
    let sec = i64::try_from(ns / per_sec).unwrap_or(i64::MAX);
    let frac = i64::try_from((ns % per_sec) / unit).unwrap_or(0);
    [sec, frac]
}

/// The monotonic deadline equivalent to absolute time `abs_ns` on `CLOCK_REALTIME`.
pub fn realtime_to_monotonic_deadline(abs_ns: u64) -> u64 {
    // Wall time first: the monotonic reading after it can only make the deadline later,
    // never earlier than the realtime one.
    let now_real = crate::time::realtime_ns();
    let now_mono = crate::time::monotonic_ns();
    now_mono.saturating_add(abs_ns.saturating_sub(now_real))
}

/// `clock_gettime(clockid, tp)`.
pub fn sys_clock_gettime(mem: &dyn UserMem, clockid: i32, tp: u64) -> KResult<u64> {
    let ns = now_ns(clock_kind(clockid)?)?;
    write_timespec_ns(mem, tp, ns)?;
    Ok(0)
}

/// `clock_getres(clockid, res)`: 1 ns for the high-resolution clocks, the tick for the
/// coarse ones and the PROF/VIRT CPU clocks; `res` may be NULL.
pub fn sys_clock_getres(mem: &dyn UserMem, clockid: i32, res: u64) -> KResult<u64> {
    let resolution = match clock_kind(clockid)? {
        ClockKind::RealCoarse | ClockKind::MonoCoarse => TICK_NS,
        // CPU clocks other than CPUCLOCK_SCHED (PROF, VIRT) tick (posix_cpu_clock_getres).
        ClockKind::ProcessCpu | ClockKind::ThreadCpu if clockid < 0 && clockid & 3 != 2 => TICK_NS,
        ClockKind::Alarm => return Err(Errno::EINVAL),
        _ => 1,
    };
    if res != 0 {
        write_timespec_ns(mem, res, resolution)?;
    }
    Ok(0)
}

/// `gettimeofday(tv, tz)`: either pointer may be NULL; the time zone is always UTC
/// (`{0, 0}`).
pub fn sys_gettimeofday(mem: &dyn UserMem, tv: u64, tz: u64) -> KResult<u64> {
    if tv != 0 {
        write_val(mem, tv, &split_ns(crate::time::realtime_ns(), NSEC_PER_SEC, 1000))?;
    }
    if tz != 0 {
        write_val(mem, tz, &[0i32; 2])?;
    }
    Ok(0)
}

/// `time(tloc)`: seconds since the epoch, also stored at `tloc` when not NULL.
pub fn sys_time(mem: &dyn UserMem, tloc: u64) -> KResult<u64> {
    let secs = crate::time::realtime_ns() / NSEC_PER_SEC;
    if tloc != 0 {
        write_val(mem, tloc, &secs)?;
    }
    Ok(secs)
}

/// Nobody wakes this queue: sleepers leave it at their deadline or on a signal.
static SLEEPERS: WaitQueue = WaitQueue::new();

/// Sleeps until the monotonic `deadline`; on `EINTR` writes the time left to `rem` when it
/// is not 0 (`EFAULT` if that write fails, as in Linux).
fn sleep_until(mem: &dyn UserMem, deadline: u64, rem: u64) -> KResult<u64> {
    loop {
        match SLEEPERS.wait_until(Some(deadline), || false) {
            // Never return before the deadline, even if a timer fired a little early.
            Ok(()) | Err(Errno::ETIMEDOUT) => {
                if crate::time::monotonic_ns() >= deadline {
                    return Ok(0);
                }
            }
            Err(Errno::EINTR) => {
                if rem != 0 {
                    let left = deadline.saturating_sub(crate::time::monotonic_ns());
                    write_timespec_ns(mem, rem, left)?;
                }
                return Err(Errno::EINTR);
            }
            Err(e) => return Err(e),
        }
    }
}

/// `nanosleep(req, rem)`: a relative sleep on `CLOCK_MONOTONIC`.
pub fn sys_nanosleep(mem: &dyn UserMem, req: u64, rem: u64) -> KResult<u64> {
    let ns = read_timespec_ns(mem, req)?;
    sleep_until(mem, crate::time::monotonic_ns().saturating_add(ns), rem)
}

/// `clock_nanosleep(clockid, flags, req, rem)`: relative, or absolute with `TIMER_ABSTIME`
/// (other flag bits are ignored, as in Linux; `rem` is only written for relative sleeps).
/// `EINVAL` for unknown clocks, `EOPNOTSUPP` for clocks that cannot be slept on
/// (`MONOTONIC_RAW`, the coarse clocks, `THREAD_CPUTIME_ID`, the alarm clocks here).
pub fn sys_clock_nanosleep(mem: &dyn UserMem, clockid: i32, flags: i32, req: u64, rem: u64) -> KResult<u64> {
    let kind = clock_kind(clockid)?;
    let realtime = match kind {
        ClockKind::Real => true,
        ClockKind::Mono | ClockKind::ProcessCpu => false,
        // The generic CPU-clock ids refuse per-thread sleeps with EINVAL (posix_cpu_nsleep);
        // CLOCK_THREAD_CPUTIME_ID itself has no nsleep at all (EOPNOTSUPP).
        ClockKind::ThreadCpu if clockid < 0 => return Err(Errno::EINVAL),
        _ => return Err(Errno::EOPNOTSUPP),
    };
    let ns = read_timespec_ns(mem, req)?;
    if flags & TIMER_ABSTIME != 0 {
        let deadline = if realtime { realtime_to_monotonic_deadline(ns) } else { ns };
        return sleep_until(mem, deadline, 0);
    }
    sleep_until(mem, crate::time::monotonic_ns().saturating_add(ns), rem)
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
