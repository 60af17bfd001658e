//! System information: `uname`, `sysinfo`, `getrandom`, `sched_getaffinity`,
//! `sched_setaffinity`.
//!
//! This kernel runs on one CPU: the affinity mask is always `{0}` (the kernel's cpumask is
//! 8 bytes, as on a Linux with `nr_cpu_ids` <= 64 and `CPUMASK_OFFSTACK`).
//!
//! Reference: kernel/sys.c (`newuname`, `do_sysinfo`/`sysinfo`), include/uapi/linux/utsname.h,
//! include/uapi/linux/sysinfo.h, drivers/char/random.c (`getrandom`,
//! `get_random_bytes_user`), kernel/sched/core.c (`sched_getaffinity`,
//! `sched_setaffinity`, `get_user_cpu_mask`).

use syscall_abi::Errno;

use crate::user::{access_ok, UserMem};
use crate::KResult;

/// `uname -s`.
pub const SYSNAME: &str = "Linux";
/// `uname -n`.
pub const NODENAME: &str = "ext-ebpf";
/// `uname -r`: parses as Linux 6.1.0 for libbpf/aya version checks.
/// TODO(kpoll): use `crate::fs::procfs::version::KERNEL_RELEASE` once `fs/procfs/version.rs`
/// is merged (same value), so that `/proc/sys/kernel/osrelease` and `uname` agree.
pub const RELEASE: &str = "6.1.0-ext-ebpf";
/// `uname -v`.
/// TODO(kpoll): use `crate::fs::procfs::version::KERNEL_VERSION` once merged (same value).
pub const VERSION: &str = "#1 ext-ebpf testkernel";
/// `uname -m`.
pub const MACHINE: &str = "x86_64";
/// `domainname`: Linux's default.
pub const DOMAINNAME: &str = "(none)";

/// Length of each `struct new_utsname` field (`__NEW_UTS_LEN + 1`).
const UTS_FIELD: usize = 65;
/// `sizeof(struct sysinfo)` on x86_64.
const SYSINFO_SIZE: usize = 112;
/// Bytes of the kernel's cpumask (`cpumask_size()`).
pub const CPUMASK_SIZE: u64 = 8;
/// CPUs this kernel runs on (`nr_cpu_ids`).
const NR_CPUS: u64 = 1;

/// `GRND_NONBLOCK`.
pub const GRND_NONBLOCK: u32 = 1;
/// `GRND_RANDOM`.
pub const GRND_RANDOM: u32 = 2;
/// `GRND_INSECURE`.
pub const GRND_INSECURE: u32 = 4;

/// `uname(buf)`: fills `struct new_utsname` (six 65-byte NUL-padded strings).
pub fn sys_uname(mem: &dyn UserMem, buf: u64) -> KResult<u64> {
    let mut b = [0u8; 6 * UTS_FIELD];
    for (i, s) in [SYSNAME, NODENAME, RELEASE, VERSION, MACHINE, DOMAINNAME].iter().enumerate() {
        let n = s.len().min(UTS_FIELD - 1);
        b[i * UTS_FIELD..i * UTS_FIELD + n].copy_from_slice(&s.as_bytes()[..n]);
    }
    mem.write(buf, &b)?;
    Ok(0)
}

/// What `sysinfo` reports that only the kernel knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysStats {
    /// Usable RAM in bytes.
    pub total_ram: u64,
    /// Free RAM in bytes.
    pub free_ram: u64,
    /// Shared RAM in bytes.
    pub shared_ram: u64,
    /// Buffer RAM in bytes.
    pub buffer_ram: u64,
    /// Number of tasks (Linux reports `nr_threads`).
    pub tasks: u64,
}

/// `sysinfo(info)`: uptime in seconds (rounded up, as Linux does), load averages 0 (no load
/// accounting here), RAM from `stats` with `mem_unit` 1, no swap, no high memory.
pub fn sys_sysinfo(mem: &dyn UserMem, info: u64, stats: &SysStats) -> KResult<u64> {
    let up = crate::time::monotonic_ns();
    let uptime = up / 1_000_000_000 + u64::from(up % 1_000_000_000 != 0);
    let mut b = [0u8; SYSINFO_SIZE];
    let words = [uptime, 0, 0, 0, stats.total_ram, stats.free_ram, stats.shared_ram, stats.buffer_ram, 0, 0];
    for (i, w) in words.iter().enumerate() {
        b[8 * i..8 * i + 8].copy_from_slice(&w.to_ne_bytes());
    }
    let procs = u16::try_from(stats.tasks).unwrap_or(u16::MAX);
    b[80..82].copy_from_slice(&procs.to_ne_bytes());
    b[104..108].copy_from_slice(&1u32.to_ne_bytes());
    mem.write(info, &b)?;
    Ok(0)
}

/// `getrandom(buf, count, flags)`: `EINVAL` for unknown flags or `GRND_RANDOM` together
/// with `GRND_INSECURE`; the pool is always ready, so no flag ever blocks. `count` is capped
/// at `INT_MAX`. Fills page by page from `fill`; a fault after some bytes returns the count
/// written, a fault before any is `EFAULT` (Linux's `get_random_bytes_user`). Linux also
/// stops early on a pending signal; here large requests run to completion.
pub fn sys_getrandom(mem: &dyn UserMem, fill: &dyn Fn(&mut [u8]), buf: u64, count: u64, flags: u32) -> KResult<u64> {
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE
    {
        return Err(Errno::EINVAL);
    }
    let count = count.min(i32::MAX.unsigned_abs().into());
    if !access_ok(buf, count) {
        return Err(Errno::EFAULT);
    }
    let mut done: u64 = 0;
    let mut chunk = [0u8; 256];
    while done < count {
        let at = buf + done;
        let to_page_end = 4096 - at % 4096;
        let n = usize::try_from((count - done).min(to_page_end).min(chunk.len() as u64)).unwrap_or(chunk.len());
        fill(&mut chunk[..n]);
        if mem.write(at, &chunk[..n]).is_err() {
            return if done == 0 { Err(Errno::EFAULT) } else { Ok(done) };
        }
        done += n as u64;
    }
    chunk.fill(0);
    Ok(done)
}

/// `sched_getaffinity(pid, len, mask)` (`len` is C `unsigned int`): `EINVAL` when `len` is too small for the CPUs or
/// not a multiple of 8, `ESRCH` when `pid` (0 = caller) names no task; writes
/// `min(len, 8)` bytes and returns that count.
pub fn sys_sched_getaffinity(
    mem: &dyn UserMem,
    task_exists: &dyn Fn(u32) -> bool,
    pid: i32,
    len: u32,
    mask: u64,
) -> KResult<u64> {
    let len = u64::from(len);
    if len.saturating_mul(8) < NR_CPUS || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    find_task(task_exists, pid)?;
    let n = len.min(CPUMASK_SIZE);
    let bits: u64 = (1 << NR_CPUS) - 1;
    mem.write(mask, &bits.to_ne_bytes()[..usize::try_from(n).unwrap_or(8)])?;
    Ok(n)
}

/// `sched_setaffinity(pid, len, mask)`: reads up to 8 bytes (a shorter mask is
/// zero-extended; `EFAULT`), `ESRCH` for an unknown task, `EINVAL` when the mask contains no
/// CPU this kernel runs on (CPU 0). Accepting changes nothing: there is one CPU.
pub fn sys_sched_setaffinity(
    mem: &dyn UserMem,
    task_exists: &dyn Fn(u32) -> bool,
    pid: i32,
    len: u32,
    mask: u64,
) -> KResult<u64> {
    let len = u64::from(len);
    let mut bytes = [0u8; 8];
    let n = usize::try_from(len.min(CPUMASK_SIZE)).unwrap_or(8);
    if n != 0 {
        mem.read(mask, &mut bytes[..n])?;
    }
    find_task(task_exists, pid)?;
    let wanted = u64::from_ne_bytes(bytes);
    if wanted & ((1 << NR_CPUS) - 1) == 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// Linux's `find_process_by_pid`: 0 is the caller; a negative or unknown id is `ESRCH`.
fn find_task(task_exists: &dyn Fn(u32) -> bool, pid: i32) -> KResult<()> {
    match u32::try_from(pid) {
        Ok(0) => Ok(()),
        Ok(p) if task_exists(p) => Ok(()),
        _ => Err(Errno::ESRCH),
    }
}

#[cfg(test)]
#[path = "info_tests.rs"]
mod tests;
