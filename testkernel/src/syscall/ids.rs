//! User, group, process-group and session ids.
//!
//! Credentials: every process runs as root (uid = euid = suid = gid = ... = 0, no
//! supplementary groups). `setuid`/`setgid` to 0 succeed; to any other id they fail with
//! `EPERM` — this kernel cannot become another user, and failing beats pretending (Linux
//! would let root switch). An id of -1 is `EINVAL` as in Linux.
//!
//! Process groups and sessions: each process has a [`JobIds`] (`pgid`, `sid`), inherited
//! by `fork`; init starts as the leader of session 1 / group 1 (Linux's init starts in
//! session 0 and calls `setsid`; ours is already a leader). `setpgid`/`setsid` follow
//! Linux's rules over [`JobHost`], which the kernel implements over its process table.
//! There are no controlling terminals.
//!
//! Reference: kernel/sys.c (`getuid`..., `setuid`, `setgid`, `getresuid`, `setpgid`,
//! `getpgid`, `getsid`, `setsid`/`ksys_setsid`), kernel/groups.c (`getgroups`).

use core::sync::atomic::{AtomicU32, Ordering};

use syscall_abi::Errno;

use crate::user::{write_val, UserMem};
use crate::KResult;

/// `getuid()`: always root.
pub fn sys_getuid() -> KResult<u64> {
    Ok(0)
}

/// `geteuid()`: always root.
pub fn sys_geteuid() -> KResult<u64> {
    Ok(0)
}

/// `getgid()`: always root's group.
pub fn sys_getgid() -> KResult<u64> {
    Ok(0)
}

/// `getegid()`: always root's group.
pub fn sys_getegid() -> KResult<u64> {
    Ok(0)
}

/// `getresuid(ruid, euid, suid)` / `getresgid`: writes three zero `u32`s, in order
/// (`EFAULT` at the first bad pointer).
pub fn sys_getresuid(mem: &dyn UserMem, r: u64, e: u64, s: u64) -> KResult<u64> {
    for addr in [r, e, s] {
        write_val(mem, addr, &0u32)?;
    }
    Ok(0)
}

/// `getgroups(size, list)`: `EINVAL` for a negative size; there are no supplementary
/// groups, so nothing is written and 0 returned.
pub fn sys_getgroups(size: i32, _list: u64) -> KResult<u64> {
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// `setuid(uid)` / `setgid(gid)`: `EINVAL` for -1, 0 succeeds, other ids `EPERM` (see the
/// module documentation).
pub fn sys_setuid(uid: u32) -> KResult<u64> {
    match uid {
        u32::MAX => Err(Errno::EINVAL),
        0 => Ok(0),
        _ => Err(Errno::EPERM),
    }
}

/// `setgid(gid)`: as [`sys_setuid`].
pub fn sys_setgid(gid: u32) -> KResult<u64> {
    sys_setuid(gid)
}

/// A process's group and session ids.
#[derive(Debug)]
pub struct JobIds {
    pgid: AtomicU32,
    sid: AtomicU32,
}

impl JobIds {
    /// Leader of its own group and session (init).
    pub const fn leader(pid: u32) -> Self {
        JobIds { pgid: AtomicU32::new(pid), sid: AtomicU32::new(pid) }
    }

    /// A `fork` child's ids: the parent's.
    pub fn fork_copy(&self) -> Self {
        JobIds { pgid: AtomicU32::new(self.pgid()), sid: AtomicU32::new(self.sid()) }
    }

    /// Process group id.
    pub fn pgid(&self) -> u32 {
        self.pgid.load(Ordering::Relaxed)
    }

    /// Session id.
    pub fn sid(&self) -> u32 {
        self.sid.load(Ordering::Relaxed)
    }

    fn set(&self, pgid: u32, sid: u32) {
        self.pgid.store(pgid, Ordering::Relaxed);
        self.sid.store(sid, Ordering::Relaxed);
    }
}

/// What a process looks like to `setpgid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobTarget {
    /// Its parent's pid.
    pub parent: u32,
    /// Whether it has called `execve` since `fork` (Linux clears `PF_FORKNOEXEC`).
    pub execed: bool,
}

/// The process table as the id syscalls need it.
pub trait JobHost {
    /// The calling process's id.
    fn caller_pid(&self) -> u32;
    /// Runs `f` with the ids and facts of process `pid`; false when there is none.
    fn with_process(&self, pid: u32, f: &mut dyn FnMut(&JobIds, JobTarget)) -> bool;
    /// Whether some process has process group id `pgid` in session `sid`.
    fn group_in_session(&self, pgid: u32, sid: u32) -> bool;
    /// Whether some process has process group id `pgid` (any session).
    fn group_exists(&self, pgid: u32) -> bool;
}

/// The `(pgid, sid, facts)` of `pid`, or `ESRCH`.
fn lookup(host: &dyn JobHost, pid: u32) -> KResult<(u32, u32, JobTarget)> {
    let mut out = None;
    host.with_process(pid, &mut |ids, t| out = Some((ids.pgid(), ids.sid(), t)));
    out.ok_or(Errno::ESRCH)
}

/// `pid` argument of `getpgid`/`getsid`: 0 is the caller, negative is `ESRCH`.
fn target(host: &dyn JobHost, pid: i32) -> KResult<u32> {
    match u32::try_from(pid) {
        Ok(0) => Ok(host.caller_pid()),
        Ok(p) => Ok(p),
        Err(_) => Err(Errno::ESRCH),
    }
}

/// `getpgid(pid)` (and `getpgrp()` = `getpgid(0)`).
pub fn sys_getpgid(host: &dyn JobHost, pid: i32) -> KResult<u64> {
    Ok(u64::from(lookup(host, target(host, pid)?)?.0))
}

/// `getsid(pid)`.
pub fn sys_getsid(host: &dyn JobHost, pid: i32) -> KResult<u64> {
    Ok(u64::from(lookup(host, target(host, pid)?)?.1))
}

/// `setsid()`: `EPERM` when the caller already leads a process group; otherwise it becomes
/// the leader of a new session and group, both numbered by its pid, which is returned.
pub fn sys_setsid(host: &dyn JobHost) -> KResult<u64> {
    let me = host.caller_pid();
    if host.group_exists(me) {
        return Err(Errno::EPERM);
    }
    let found = host.with_process(me, &mut |ids, _| ids.set(me, me));
    if !found {
        return Err(Errno::ESRCH);
    }
    Ok(u64::from(me))
}

/// `setpgid(pid, pgid)` (0 = the caller / `pid` itself): `EINVAL` for a negative group;
/// `ESRCH` when `pid` is neither the caller nor one of its children; for a child, `EPERM`
/// in another session and `EACCES` after it exec'd; `EPERM` for a session leader or when
/// joining a group that does not exist in the caller's session.
pub fn sys_setpgid(host: &dyn JobHost, pid: i32, pgid: i32) -> KResult<u64> {
    let me = host.caller_pid();
    let pid = if pid == 0 { me } else { u32::try_from(pid).map_err(|_| Errno::ESRCH)? };
    let pgid = if pgid == 0 { pid } else { u32::try_from(pgid).map_err(|_| Errno::EINVAL)? };
    let (_, my_sid, _) = lookup(host, me)?;
    let (_, sid, facts) = lookup(host, pid)?;
    if pid != me {
        if facts.parent != me {
            return Err(Errno::ESRCH);
        }
        if sid != my_sid {
            return Err(Errno::EPERM);
        }
        if facts.execed {
            return Err(Errno::EACCES);
        }
    }
    if sid == pid {
        return Err(Errno::EPERM);
    }
    if pgid != pid && !host.group_in_session(pgid, my_sid) {
        return Err(Errno::EPERM);
    }
    host.with_process(pid, &mut |ids, _| ids.set(pgid, sid));
    Ok(0)
}

#[cfg(test)]
#[path = "ids_tests.rs"]
mod tests;
