//! `prlimit64`, `getrlimit`, `setrlimit` over [`Rlimits`]; a new soft `RLIMIT_NOFILE`
//! becomes the fd table's limit.
//!
//! `struct rlimit` and `struct rlimit64` are both two `u64`s on x86_64.
//!
//! Reference: kernel/sys.c (`getrlimit`, `setrlimit`, `prlimit64`, `do_prlimit`,
//! `check_prlimit_permission`).

use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::FdTable;
use crate::proc::rlimit::{Rlimit, Rlimits, RLIMIT_NOFILE};
use crate::user::{read_val, write_val, UserMem};
use crate::KResult;

/// Finds other processes for `prlimit64`.
pub trait LimitsHost {
    /// Runs `f` on the limits and fd table of the process containing task `pid`; false when
    /// there is no such task.
    fn with_process_limits(&self, pid: u32, f: &mut dyn FnMut(&Rlimits, &Mutex<FdTable>)) -> bool;
}

fn read_rlimit(mem: &dyn UserMem, addr: u64) -> KResult<Rlimit> {
    let [cur, max] = read_val::<[u64; 2]>(mem, addr)?;
    Ok(Rlimit { cur, max })
}

fn write_rlimit(mem: &dyn UserMem, addr: u64, r: Rlimit) -> KResult<()> {
    write_val(mem, addr, &[r.cur, r.max])
}

/// `do_prlimit` plus the fd-table update: returns the old value.
fn apply(limits: &Rlimits, files: &Mutex<FdTable>, resource: u32, new: Option<Rlimit>) -> KResult<Rlimit> {
    let Some(new) = new else {
        return limits.get(resource);
    };
    let old = limits.set(resource, new)?;
    if resource == RLIMIT_NOFILE {
        files.lock().set_limit(limits.nofile());
    }
    Ok(old)
}

/// `getrlimit(resource, rlim)`: `EINVAL` for an unknown resource, `EFAULT`.
pub fn sys_getrlimit(limits: &Rlimits, mem: &dyn UserMem, resource: u32, rlim: u64) -> KResult<u64> {
    let cur = limits.get(resource)?;
    write_rlimit(mem, rlim, cur)?;
    Ok(0)
}

/// `setrlimit(resource, rlim)`: `EFAULT` (read first), then `EINVAL` for an unknown
/// resource or soft > hard, `EPERM` for a hard `RLIMIT_NOFILE` above `nr_open`.
pub fn sys_setrlimit(
    limits: &Rlimits,
    files: &Mutex<FdTable>,
    mem: &dyn UserMem,
    resource: u32,
    rlim: u64,
) -> KResult<u64> {
    let new = read_rlimit(mem, rlim)?;
    apply(limits, files, resource, Some(new))?;
    Ok(0)
}

/// `prlimit64(pid, resource, new, old)` for the caller (`limits`, `files`, process id
/// `caller_pid`); another `pid` is looked up through `host`. Order as in Linux: `EFAULT`
/// reading `new`, `ESRCH` for an unknown pid, the `setrlimit` errors, then `EFAULT` writing
/// `old` (after the new limit took effect).
#[allow(clippy::too_many_arguments)]
pub fn sys_prlimit64(
    host: &dyn LimitsHost,
    caller_pid: u32,
    limits: &Rlimits,
    files: &Mutex<FdTable>,
    mem: &dyn UserMem,
    pid: i32,
    resource: u32,
    new: u64,
    old: u64,
) -> KResult<u64> {
    let new_lim = if new != 0 { Some(read_rlimit(mem, new)?) } else { None };
    let pid = u32::try_from(pid).map_err(|_| Errno::ESRCH)?;
    let prev = if pid == 0 || pid == caller_pid {
        apply(limits, files, resource, new_lim)?
    } else {
        let mut result = Err(Errno::ESRCH);
        host.with_process_limits(pid, &mut |l, f| result = apply(l, f, resource, new_lim));
        result?
    };
    if old != 0 {
        write_rlimit(mem, old, prev)?;
    }
    Ok(0)
}

#[cfg(test)]
#[path = "rlimit_tests.rs"]
mod tests;
