//! Host tests of the clock and sleep syscalls.

use super::*;
use crate::user::{read_val, TestMem};

const BASE: u64 = 0x20_000;
const TP: u64 = BASE + 0x10;
const REM: u64 = BASE + 0x40;

fn mem() -> TestMem {
    TestMem::new(BASE, 0x100)
}

fn ts(m: &TestMem, addr: u64) -> (i64, i64) {
    let [s, n] = read_val::<[i64; 2]>(m, addr).unwrap();
    (s, n)
}

fn set_ts(m: &TestMem, addr: u64, sec: i64, nsec: i64) {
    write_val(m, addr, &[sec, nsec]).unwrap();
}

#[test]
fn gettime_every_clock() {
    let m = mem();
    for id in [0, 1, 2, 3, 4, 5, 6, 7, 11, -6, -2, -8] {
        assert_eq!(sys_clock_gettime(&m, id, TP), Ok(0), "clock {id}");
        let (s, n) = ts(&m, TP);
        assert!(s >= 0 && (0..1_000_000_000).contains(&n), "clock {id}: {s}.{n}");
    }
    sys_clock_gettime(&m, CLOCK_REALTIME, TP).unwrap();
    assert!(ts(&m, TP).0 > 1_600_000_000, "realtime is wall time");
    // Monotonic never goes back.
    sys_clock_gettime(&m, CLOCK_MONOTONIC, TP).unwrap();
    let a = ts(&m, TP);
    sys_clock_gettime(&m, CLOCK_MONOTONIC, TP).unwrap();
    assert!(ts(&m, TP) >= a);
}

#[test]
fn gettime_errors() {
    let m = mem();
    for id in [8, 9, 10, 12, 16, i32::MAX, -1, -5, -14, -16] {
        assert_eq!(sys_clock_gettime(&m, id, TP), Err(Errno::EINVAL), "clock {id}");
    }
    assert_eq!(sys_clock_gettime(&m, CLOCK_MONOTONIC, 0), Err(Errno::EFAULT));
    assert_eq!(sys_clock_gettime(&m, CLOCK_MONOTONIC, BASE + 0xf8), Err(Errno::EFAULT));
}

#[test]
fn getres() {
    let m = mem();
    for (id, res) in [(0, 1), (1, 1), (4, 1), (7, 1), (2, 1), (3, 1), (5, TICK_NS), (6, TICK_NS)] {
        assert_eq!(sys_clock_getres(&m, id, TP), Ok(0));
        assert_eq!(ts(&m, TP), (0, i64::try_from(res).unwrap()), "clock {id}");
    }
    for (id, res) in [(-6, 1), (-2, 1), (-8, TICK_NS), (-7, TICK_NS), (-4, TICK_NS)] {
        assert_eq!(sys_clock_getres(&m, id, TP), Ok(0));
        assert_eq!(ts(&m, TP), (0, i64::try_from(res).unwrap()), "cpu clock {id}");
    }
    assert_eq!(sys_clock_getres(&m, CLOCK_MONOTONIC, 0), Ok(0));
    assert_eq!(sys_clock_getres(&m, 8, TP), Err(Errno::EINVAL));
    assert_eq!(sys_clock_getres(&m, 99, 0), Err(Errno::EINVAL));
    assert_eq!(sys_clock_getres(&m, CLOCK_MONOTONIC, 8), Err(Errno::EFAULT));
}

#[test]
fn gettimeofday_and_time() {
    let m = mem();
    write_val(&m, REM, &[-1i32; 2]).unwrap();
    assert_eq!(sys_gettimeofday(&m, TP, REM), Ok(0));
    let (s, us) = ts(&m, TP);
    assert!(s > 1_600_000_000 && (0..1_000_000).contains(&us));
    assert_eq!(read_val::<[i32; 2]>(&m, REM), Ok([0, 0]));
    assert_eq!(sys_gettimeofday(&m, 0, 0), Ok(0));
    assert_eq!(sys_gettimeofday(&m, 8, 0), Err(Errno::EFAULT));
    assert_eq!(sys_gettimeofday(&m, TP, 8), Err(Errno::EFAULT));
    let t = sys_time(&m, TP).unwrap();
    assert!(t > 1_600_000_000);
    assert_eq!(read_val::<u64>(&m, TP), Ok(t));
    assert!(sys_time(&m, 0).unwrap() >= t);
    assert_eq!(sys_time(&m, 8), Err(Errno::EFAULT));
}

#[test]
fn nanosleep_sleeps_and_checks_its_argument() {
    let m = mem();
    set_ts(&m, TP, 0, 20_000_000);
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_nanosleep(&m, TP, REM), Ok(0));
    assert!(crate::time::monotonic_ns() - t0 >= 20_000_000);
    set_ts(&m, TP, 0, 0);
    assert_eq!(sys_nanosleep(&m, TP, 0), Ok(0));
    for (s, n) in [(0, 1_000_000_000), (0, -1), (-1, 0), (i64::MIN, 0)] {
        set_ts(&m, TP, s, n);
        assert_eq!(sys_nanosleep(&m, TP, 0), Err(Errno::EINVAL), "{s}.{n}");
    }
    assert_eq!(sys_nanosleep(&m, 0, 0), Err(Errno::EFAULT));
}

#[test]
fn clock_nanosleep_relative_absolute_and_errors() {
    let m = mem();
    set_ts(&m, TP, 0, 15_000_000);
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_clock_nanosleep(&m, CLOCK_MONOTONIC, 0, TP, REM), Ok(0));
    assert!(crate::time::monotonic_ns() - t0 >= 15_000_000);

    // Absolute monotonic deadline 15 ms ahead; unknown flag bits are ignored.
    let d = crate::time::monotonic_ns() + 15_000_000;
    set_ts(&m, TP, i64::try_from(d / 1_000_000_000).unwrap(), i64::try_from(d % 1_000_000_000).unwrap());
    assert_eq!(sys_clock_nanosleep(&m, CLOCK_MONOTONIC, TIMER_ABSTIME | 0x100, TP, 0), Ok(0));
    assert!(crate::time::monotonic_ns() >= d);

    // Absolute realtime deadline 15 ms ahead.
    let r = crate::time::realtime_ns() + 15_000_000;
    set_ts(&m, TP, i64::try_from(r / 1_000_000_000).unwrap(), i64::try_from(r % 1_000_000_000).unwrap());
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_clock_nanosleep(&m, CLOCK_REALTIME, TIMER_ABSTIME, TP, 0), Ok(0));
    let waited = crate::time::monotonic_ns() - t0;
    assert!((5_000_000..5_000_000_000).contains(&waited), "waited {waited}");
    // An absolute time in the past returns at once.
    set_ts(&m, TP, 1, 0);
    assert_eq!(sys_clock_nanosleep(&m, CLOCK_REALTIME, TIMER_ABSTIME, TP, 0), Ok(0));

    set_ts(&m, TP, 0, 1000);
    for (id, e) in [
        (CLOCK_MONOTONIC_RAW, Errno::EOPNOTSUPP),
        (CLOCK_MONOTONIC_COARSE, Errno::EOPNOTSUPP),
        (CLOCK_REALTIME_COARSE, Errno::EOPNOTSUPP),
        (CLOCK_THREAD_CPUTIME_ID, Errno::EOPNOTSUPP),
        (CLOCK_BOOTTIME_ALARM, Errno::EOPNOTSUPP),
        (10, Errno::EINVAL),
        (-1, Errno::EINVAL),
        (-2, Errno::EINVAL),
    ] {
        assert_eq!(sys_clock_nanosleep(&m, id, 0, TP, 0), Err(e), "clock {id}");
    }
    for id in [CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_PROCESS_CPUTIME_ID, -6] {
        assert_eq!(sys_clock_nanosleep(&m, id, 0, TP, 0), Ok(0), "clock {id}");
    }
    // Clock checked before the request: EOPNOTSUPP beats EFAULT, then EFAULT, then EINVAL.
    assert_eq!(sys_clock_nanosleep(&m, CLOCK_MONOTONIC_RAW, 0, 0, 0), Err(Errno::EOPNOTSUPP));
    assert_eq!(sys_clock_nanosleep(&m, CLOCK_MONOTONIC, 0, 0, 0), Err(Errno::EFAULT));
    set_ts(&m, TP, 0, 1_000_000_000);
    assert_eq!(sys_clock_nanosleep(&m, CLOCK_MONOTONIC, TIMER_ABSTIME, TP, 0), Err(Errno::EINVAL));
}

#[test]
fn timespec_helpers_saturate() {
    let m = mem();
    set_ts(&m, TP, i64::MAX, 999_999_999);
    assert_eq!(read_timespec_ns(&m, TP), Ok(u64::MAX));
    write_timespec_ns(&m, TP, 3_000_000_007).unwrap();
    assert_eq!(ts(&m, TP), (3, 7));
}
