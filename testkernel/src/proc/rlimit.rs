//! Resource limits: the per-process `RLIMIT_*` table with Linux's defaults for init.
//!
//! Limits are stored and reported; the ones this kernel enforces are `RLIMIT_NOFILE` (the
//! soft limit is the fd table's limit: callers of [`Rlimits::set`] apply
//! [`Rlimits::nofile`] to the `FdTable`) and whatever other subsystems read through
//! [`Rlimits::get`] (e.g. `RLIMIT_MEMLOCK` for bpf maps, `RLIMIT_STACK` at exec).
//!
//! Reference: include/asm-generic/resource.h (`INIT_RLIMITS`), include/uapi/linux/resource.h,
//! kernel/sys.c (`do_prlimit`), fs/file.c (`sysctl_nr_open`), include/uapi/linux/fs.h
//! (`INR_OPEN_CUR`/`INR_OPEN_MAX`), include/uapi/linux/mman.h / mm (`MLOCK_LIMIT`).

use spin::Mutex;
use syscall_abi::Errno;

use crate::KResult;

/// `RLIMIT_CPU`: CPU time in seconds.
pub const RLIMIT_CPU: u32 = 0;
/// `RLIMIT_FSIZE`: largest file.
pub const RLIMIT_FSIZE: u32 = 1;
/// `RLIMIT_DATA`: data segment size.
pub const RLIMIT_DATA: u32 = 2;
/// `RLIMIT_STACK`: main thread stack size.
pub const RLIMIT_STACK: u32 = 3;
/// `RLIMIT_CORE`: core file size.
pub const RLIMIT_CORE: u32 = 4;
/// `RLIMIT_RSS`.
pub const RLIMIT_RSS: u32 = 5;
/// `RLIMIT_NPROC`: processes per user.
pub const RLIMIT_NPROC: u32 = 6;
/// `RLIMIT_NOFILE`: open files.
pub const RLIMIT_NOFILE: u32 = 7;
/// `RLIMIT_MEMLOCK`: locked memory (also charged by bpf maps on old kernels).
pub const RLIMIT_MEMLOCK: u32 = 8;
/// `RLIMIT_AS`: address space size.
pub const RLIMIT_AS: u32 = 9;
/// `RLIMIT_LOCKS`: file locks.
pub const RLIMIT_LOCKS: u32 = 10;
/// `RLIMIT_SIGPENDING`: queued signals.
pub const RLIMIT_SIGPENDING: u32 = 11;
/// `RLIMIT_MSGQUEUE`: POSIX message queue bytes.
pub const RLIMIT_MSGQUEUE: u32 = 12;
/// `RLIMIT_NICE`.
pub const RLIMIT_NICE: u32 = 13;
/// `RLIMIT_RTPRIO`.
pub const RLIMIT_RTPRIO: u32 = 14;
/// `RLIMIT_RTTIME`.
pub const RLIMIT_RTTIME: u32 = 15;
/// Number of limits (`RLIM_NLIMITS`).
pub const RLIM_NLIMITS: u32 = 16;
/// `RLIM_INFINITY` (= `RLIM64_INFINITY` on 64-bit).
pub const RLIM_INFINITY: u64 = u64::MAX;
/// `sysctl_nr_open` default (`1024 * 1024`): the highest hard `RLIMIT_NOFILE` (`EPERM`).
pub const NR_OPEN: u64 = 1024 * 1024;
/// Linux sets `RLIMIT_NPROC` and `RLIMIT_SIGPENDING` of init to `max_threads / 2` at boot;
/// this kernel uses a fixed value of the size a small machine gets.
pub const DEFAULT_TASK_LIMIT: u64 = 7_776;

/// One limit: soft (`rlim_cur`) and hard (`rlim_max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// Soft limit.
    pub cur: u64,
    /// Hard limit (ceiling of the soft one).
    pub max: u64,
}

const fn lim(cur: u64, max: u64) -> Rlimit {
    Rlimit { cur, max }
}

const INF: Rlimit = lim(RLIM_INFINITY, RLIM_INFINITY);
const MIB8: u64 = 8 << 20;

/// Linux's `INIT_RLIMITS`, index = resource.
pub const INIT_RLIMITS: [Rlimit; 16] = [
    INF,                                         // CPU
    INF,                                         // FSIZE
    INF,                                         // DATA
    lim(MIB8, RLIM_INFINITY),                    // STACK (_STK_LIM)
    lim(0, RLIM_INFINITY),                       // CORE
    INF,                                         // RSS
    lim(DEFAULT_TASK_LIMIT, DEFAULT_TASK_LIMIT), // NPROC
    lim(1024, 4096),                             // NOFILE (INR_OPEN_CUR, INR_OPEN_MAX)
    lim(MIB8, MIB8),                             // MEMLOCK (MLOCK_LIMIT)
    INF,                                         // AS
    INF,                                         // LOCKS
    lim(DEFAULT_TASK_LIMIT, DEFAULT_TASK_LIMIT), // SIGPENDING
    lim(819_200, 819_200),                       // MSGQUEUE (MQ_BYTES_MAX)
    lim(0, 0),                                   // NICE
    lim(0, 0),                                   // RTPRIO
    INF,                                         // RTTIME
];

/// A process's limits (shared by its threads; copied by `fork`, kept by `execve`).
pub struct Rlimits {
    table: Mutex<[Rlimit; 16]>,
}

impl Default for Rlimits {
    fn default() -> Self {
        Self::new()
    }
}

impl Rlimits {
    /// init's limits.
    pub const fn new() -> Self {
        Rlimits { table: Mutex::new(INIT_RLIMITS) }
    }

    /// A copy for a `fork` child.
    pub fn fork_copy(&self) -> Self {
        Rlimits { table: Mutex::new(*self.table.lock()) }
    }

    /// The limit of `resource` (`EINVAL` past `RLIM_NLIMITS`).
    pub fn get(&self, resource: u32) -> KResult<Rlimit> {
        let i = index(resource)?;
        Ok(self.table.lock()[i])
    }

    /// Linux's `do_prlimit` with a new value: `EINVAL` for an unknown resource or a soft
    /// limit above the hard one, `EPERM` for a hard `RLIMIT_NOFILE` above [`NR_OPEN`].
    /// Raising a hard limit needs `CAP_SYS_RESOURCE`, which every process has here (root).
    /// Returns the old value.
    pub fn set(&self, resource: u32, new: Rlimit) -> KResult<Rlimit> {
        let i = index(resource)?;
        if new.cur > new.max {
            return Err(Errno::EINVAL);
        }
        if resource == RLIMIT_NOFILE && new.max > NR_OPEN {
            return Err(Errno::EPERM);
        }
        let mut t = self.table.lock();
        Ok(core::mem::replace(&mut t[i], new))
    }

    /// The soft `RLIMIT_NOFILE` as an fd-table size.
    pub fn nofile(&self) -> usize {
        usize::try_from(self.table.lock()[RLIMIT_NOFILE as usize].cur).unwrap_or(usize::MAX)
    }
}

fn index(resource: u32) -> KResult<usize> {
    if resource >= RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    usize::try_from(resource).map_err(|_| Errno::EINVAL)
}
