//! `epoll_create`, `epoll_create1`, `epoll_ctl`, `epoll_wait`, `epoll_pwait`,
//! `epoll_pwait2` (fs/eventpoll.c). The semantics live in [`crate::fs::epoll`]; these decode
//! and check the arguments in Linux's order. `struct epoll_event` is packed on x86_64:
//! `u32 events` then `u64 data`, 12 bytes.
//!
//! The signal mask of `epoll_pwait`/`epoll_pwait2` is checked and read but not installed
//! for the wait (see `syscall/poll.rs`).

use spin::Mutex;
use syscall_abi::Errno;

use super::poll::{read_sigmask, read_timespec_timeout, Timeout};
use crate::fs::epoll::{epoll_ctl, new_epoll, EpollFile, EPOLL_CTL_DEL};
use crate::fs::FdTable;
use crate::user::{access_ok, UserMem};
use crate::KResult;

/// `EPOLL_CLOEXEC` (= `O_CLOEXEC`).
pub const EPOLL_CLOEXEC: u32 = 0o2000000;
/// Size of `struct epoll_event` on x86_64 (packed).
pub const EPOLL_EVENT_SIZE: usize = 12;
/// Largest `maxevents` (Linux `EP_MAX_EVENTS` = `INT_MAX / sizeof(struct epoll_event)`).
pub const EP_MAX_EVENTS: i32 = i32::MAX / 12;

/// `epoll_create1(flags)`: `EINVAL` for flags other than `EPOLL_CLOEXEC`.
pub fn sys_epoll_create1(files: &Mutex<FdTable>, flags: u32) -> KResult<u64> {
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let fd = files.lock().install(new_epoll(), flags & EPOLL_CLOEXEC != 0)?;
    u64::try_from(fd).map_err(|_| Errno::EMFILE)
}

/// `epoll_create(size)`: `EINVAL` unless `size > 0` (otherwise ignored).
pub fn sys_epoll_create(files: &Mutex<FdTable>, size: i32) -> KResult<u64> {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    sys_epoll_create1(files, 0)
}

/// `epoll_ctl(epfd, op, fd, event)`: the event is read first unless `op` is `DEL`
/// (`EFAULT`), then `EBADF` for either fd, then [`epoll_ctl`]'s checks.
pub fn sys_epoll_ctl(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    epfd: i32,
    op: u32,
    fd: i32,
    event: u64,
) -> KResult<u64> {
    let (events, data) = if op != EPOLL_CTL_DEL {
        let mut b = [0u8; EPOLL_EVENT_SIZE];
        mem.read(event, &mut b)?;
        (
            u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            u64::from_ne_bytes([b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]]),
        )
    } else {
        (0, 0)
    };
    let (ep, target) = {
        let t = files.lock();
        (t.get(epfd)?, t.get(fd)?)
    };
    epoll_ctl(&ep, op, fd, &target, events, data)?;
    Ok(0)
}

fn do_epoll_wait(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    epfd: i32,
    events: u64,
    maxevents: i32,
    t: &Timeout,
) -> KResult<u64> {
    if maxevents <= 0 || maxevents > EP_MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let max = usize::try_from(maxevents).map_err(|_| Errno::EINVAL)?;
    let len = u64::try_from(max * EPOLL_EVENT_SIZE).map_err(|_| Errno::EFAULT)?;
    if !access_ok(events, len) {
        return Err(Errno::EFAULT);
    }
    let file = files.lock().get(epfd)?;
    let ep = file.ops.as_any().downcast_ref::<EpollFile>().ok_or(Errno::EINVAL)?;
    let ready = ep.wait(max, t.deadline)?;
    let mut at = events;
    for (i, (ev, data)) in ready.iter().enumerate() {
        let mut b = [0u8; EPOLL_EVENT_SIZE];
        b[..4].copy_from_slice(&ev.to_ne_bytes());
        b[4..].copy_from_slice(&data.to_ne_bytes());
        if let Err(e) = mem.write(at, &b) {
            return if i == 0 { Err(e) } else { u64::try_from(i).map_err(|_| e) };
        }
        at += EPOLL_EVENT_SIZE as u64;
    }
    u64::try_from(ready.len()).map_err(|_| Errno::EINVAL)
}

/// `epoll_wait(epfd, events, maxevents, timeout_ms)`: `EINVAL` unless `0 < maxevents <=
/// EP_MAX_EVENTS`, `EFAULT` if the array is not in user space, `EBADF`, `EINVAL` if `epfd`
/// is not an epoll instance, `EINTR` on a signal; returns the number of events stored (0 on
/// timeout; `timeout_ms` < 0 waits forever, 0 only checks).
pub fn sys_epoll_wait(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    epfd: i32,
    events: u64,
    maxevents: i32,
    timeout_ms: i32,
) -> KResult<u64> {
    do_epoll_wait(mem, files, epfd, events, maxevents, &Timeout::from_ms(timeout_ms))
}

/// `epoll_pwait(..., sigmask, sigsetsize)`: the mask is checked first (`EINVAL` unless
/// `sigsetsize` is 8, `EFAULT`), then as [`sys_epoll_wait`].
#[allow(clippy::too_many_arguments)]
pub fn sys_epoll_pwait(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    epfd: i32,
    events: u64,
    maxevents: i32,
    timeout_ms: i32,
    sigmask: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    read_sigmask(mem, sigmask, sigsetsize)?;
    do_epoll_wait(mem, files, epfd, events, maxevents, &Timeout::from_ms(timeout_ms))
}

/// `epoll_pwait2(..., const struct timespec *timeout, sigmask, sigsetsize)`: a NULL timeout
/// waits forever; a bad one is `EFAULT`/`EINVAL` (checked before the mask).
#[allow(clippy::too_many_arguments)]
pub fn sys_epoll_pwait2(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    epfd: i32,
    events: u64,
    maxevents: i32,
    timeout: u64,
    sigmask: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    let t = if timeout == 0 { Timeout::FOREVER } else { read_timespec_timeout(mem, timeout)? };
    read_sigmask(mem, sigmask, sigsetsize)?;
    do_epoll_wait(mem, files, epfd, events, maxevents, &t)
}

#[cfg(test)]
#[path = "epoll_tests.rs"]
mod tests;
