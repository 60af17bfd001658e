//! `futex(2)`: decodes the operation and its arguments and calls [`FutexTable`].
//!
//! Supported: `FUTEX_WAIT`, `FUTEX_WAKE`, `FUTEX_REQUEUE`, `FUTEX_CMP_REQUEUE`,
//! `FUTEX_WAKE_OP`, `FUTEX_WAIT_BITSET`, `FUTEX_WAKE_BITSET`, each with or without
//! `FUTEX_PRIVATE_FLAG` (shared futexes are keyed like private ones, see
//! [`crate::proc::futex`]); `FUTEX_CLOCK_REALTIME` with `FUTEX_WAIT_BITSET`. The PI
//! operations (`LOCK_PI`, `LOCK_PI2`, `UNLOCK_PI`, `TRYLOCK_PI`, `WAIT_REQUEUE_PI`,
//! `CMP_REQUEUE_PI`) and unknown ones return `ENOSYS` (Linux without `CONFIG_FUTEX_PI`).
//!
//! Reference: kernel/futex/syscalls.c (`sys_futex`, `futex_init_timeout`, `do_futex`).

use syscall_abi::Errno;

use crate::proc::futex::{FutexKey, FutexTable, FUTEX_BITSET_MATCH_ANY};
use crate::syscall::time::{read_timespec_ns, realtime_to_monotonic_deadline};
use crate::user::{read_val, UserMem};
use crate::KResult;

/// `FUTEX_WAIT`.
pub const FUTEX_WAIT: i32 = 0;
/// `FUTEX_WAKE`.
pub const FUTEX_WAKE: i32 = 1;
/// `FUTEX_REQUEUE`.
pub const FUTEX_REQUEUE: i32 = 3;
/// `FUTEX_CMP_REQUEUE`.
pub const FUTEX_CMP_REQUEUE: i32 = 4;
/// `FUTEX_WAKE_OP`.
pub const FUTEX_WAKE_OP: i32 = 5;
/// `FUTEX_LOCK_PI`.
pub const FUTEX_LOCK_PI: i32 = 6;
/// `FUTEX_WAIT_BITSET`.
pub const FUTEX_WAIT_BITSET: i32 = 9;
/// `FUTEX_WAKE_BITSET`.
pub const FUTEX_WAKE_BITSET: i32 = 10;
/// `FUTEX_WAIT_REQUEUE_PI`.
pub const FUTEX_WAIT_REQUEUE_PI: i32 = 11;
/// `FUTEX_LOCK_PI2`.
pub const FUTEX_LOCK_PI2: i32 = 13;
/// `FUTEX_PRIVATE_FLAG`.
pub const FUTEX_PRIVATE_FLAG: i32 = 128;
/// `FUTEX_CLOCK_REALTIME`.
pub const FUTEX_CLOCK_REALTIME: i32 = 256;

/// `futex(uaddr, op, val, utime, uaddr2, val3)` for the task whose address space has id
/// `space`. `utime` is the timeout pointer for the wait operations and the second count
/// (`val2`, its low 32 bits as Linux reads them) for the requeue and wake-op operations.
#[allow(clippy::too_many_arguments)]
pub fn sys_futex(
    table: &FutexTable,
    space: u64,
    mem: &dyn UserMem,
    uaddr: u64,
    op: i32,
    val: u32,
    utime: u64,
    uaddr2: u64,
    val3: u32,
) -> KResult<u64> {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let shared = op & FUTEX_PRIVATE_FLAG == 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;

    let mut deadline = None;
    let has_timeout =
        matches!(cmd, FUTEX_WAIT | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI);
    if utime != 0 && has_timeout {
        let ns = read_timespec_ns(mem, utime)?;
        deadline = Some(if cmd == FUTEX_WAIT {
            crate::time::monotonic_ns().saturating_add(ns)
        } else if realtime {
            realtime_to_monotonic_deadline(ns)
        } else {
            ns
        });
    }
    // Linux accepts FUTEX_CLOCK_REALTIME only on the absolute-timeout waits.
    if realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2 {
        return Err(Errno::ENOSYS);
    }
    // The second count travels in the timeout register; Linux reads its low 32 bits as int.
    let val2 = as_int(low_u32(utime));
    let key = |addr: u64| -> KResult<FutexKey> {
        let key = FutexKey::new(space, addr)?;
        // A shared key is found through the page (get_user_pages): an unmapped word is
        // EFAULT even for a wake. Private keys are computed without touching memory.
        // Linux (`get_futex_key`) also refuses a shared key on a read-only anonymous page;
        // every user page here is anonymous (file mappings are private copies), so a
        // read-only word is EFAULT for shared futexes.
        if shared {
            read_val::<u32>(mem, addr)?;
            if mem.writable_prefix(addr, 4) < 4 {
                return Err(Errno::EFAULT);
            }
        }
        Ok(key)
    };
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { FUTEX_BITSET_MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            table.wait(mem, key(uaddr)?, val, deadline, bitset)?;
            Ok(0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { FUTEX_BITSET_MATCH_ANY } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            table.wake(key(uaddr)?, as_int(val), bitset)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if as_int(val) < 0 || val2 < 0 {
                return Err(Errno::EINVAL);
            }
            let (from, to) = (key(uaddr)?, key(uaddr2)?);
            let cmp = if cmd == FUTEX_CMP_REQUEUE { Some(val3) } else { None };
            table.requeue(mem, from, to, as_int(val), val2, cmp)
        }
        FUTEX_WAKE_OP => {
            let (k1, k2) = (key(uaddr)?, FutexKey::new(space, uaddr2)?);
            table.wake_op(mem, k1, k2, as_int(val), val2, val3)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// The low 32 bits of a register.
fn low_u32(v: u64) -> u32 {
    u32::try_from(v & 0xffff_ffff).unwrap_or(0)
}

/// A `u32` register value reinterpreted as C `int`.
fn as_int(v: u32) -> i32 {
    i32::from_ne_bytes(v.to_ne_bytes())
}

#[cfg(test)]
#[path = "futex_tests.rs"]
mod tests;
