//! `poll`, `ppoll`, `select`, `pselect6` (fs/select.c).
//!
//! Each call resolves its fds once, then evaluates every file's `poll` until one is ready,
//! the timeout passes or a signal arrives (`EINTR`; Linux restarts `poll` after a signal
//! with no handler, which the kernel's signal code may do on `EINTR`). Files are held for
//! the duration of the call, as Linux's poll table does.
//!
//! Signal masks (`ppoll`, `pselect6`): the size is checked (`EINVAL` unless 8) and the
//! mask is read (`EFAULT`), but it is not installed for the duration of the wait — the
//! process signal state is not among these functions' inputs. A caller that needs the
//! atomic mask swap applies [`read_sigmask`]'s value around the call.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::file::{OpenFile, PollEvents};
use crate::fs::pollwait::WaitSet;
use crate::fs::FdTable;
use crate::user::UserMem;
use crate::KResult;

/// `POLLIN_SET`: what makes `select` report an fd readable.
const POLLIN_SET: u32 = 0x001 | 0x040 | 0x080 | 0x010 | 0x008;
/// `POLLOUT_SET`: writable.
const POLLOUT_SET: u32 = 0x004 | 0x100 | 0x200 | 0x008;
/// `POLLEX_SET`: exceptional condition.
const POLLEX_SET: u32 = 0x002;
const NSEC_PER_SEC: u64 = 1_000_000_000;
/// Linux's `nr_open` default: `RLIMIT_NOFILE` can never exceed it there, so neither `nfds`
/// of `poll` nor of `select` can; capping here bounds the kernel allocation whatever limit
/// the fd table carries.
const NR_OPEN: usize = 1 << 20;

/// A timeout as Linux's `poll_select_set_timeout` takes it: `None` waits forever, `Some(0)`
/// only checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout {
    /// Monotonic deadline in ns (`None`: forever).
    pub deadline: Option<u64>,
    /// The timeout was exactly zero (no remaining time is written back then).
    pub zero: bool,
}

impl Timeout {
    /// No timeout.
    pub const FOREVER: Timeout = Timeout { deadline: None, zero: false };

    /// A relative timeout of `sec` s + `nsec` ns; `EINVAL` if negative or `nsec` out of
    /// `0..10^9` (Linux `timespec64_valid`).
    pub fn relative(sec: i64, nsec: i64) -> KResult<Timeout> {
        let (Ok(s), Ok(ns)) = (u64::try_from(sec), u64::try_from(nsec)) else { return Err(Errno::EINVAL) };
        if ns >= NSEC_PER_SEC {
            return Err(Errno::EINVAL);
        }
        let total = s.saturating_mul(NSEC_PER_SEC).saturating_add(ns);
        Ok(Timeout { deadline: Some(crate::time::monotonic_ns().saturating_add(total)), zero: total == 0 })
    }

    /// `poll`'s milliseconds: negative waits forever.
    pub fn from_ms(ms: i32) -> Timeout {
        match u64::try_from(ms) {
            Ok(ms) => Timeout {
                deadline: Some(crate::time::monotonic_ns().saturating_add(ms.saturating_mul(1_000_000))),
                zero: ms == 0,
            },
            Err(_) => Timeout::FOREVER,
        }
    }

    fn passed(&self) -> bool {
        self.deadline.is_some_and(|d| crate::time::monotonic_ns() >= d)
    }

    /// Time left (0 once passed); `None` for no deadline.
    pub fn remaining_ns(&self) -> Option<u64> {
        self.deadline.map(|d| d.saturating_sub(crate::time::monotonic_ns()))
    }
}

/// Reads two 64-bit words (`struct timespec`, `struct timeval`, pselect6's sigset pair).
fn read_words(mem: &dyn UserMem, addr: u64) -> KResult<[u64; 2]> {
    crate::user::read_val::<[u64; 2]>(mem, addr)
}

/// Reads a pair of signed 64-bit fields.
fn read_pair(mem: &dyn UserMem, addr: u64) -> KResult<(i64, i64)> {
    let [a, b] = read_words(mem, addr)?;
    Ok((i64::from_ne_bytes(a.to_ne_bytes()), i64::from_ne_bytes(b.to_ne_bytes())))
}

fn write_pair(mem: &dyn UserMem, addr: u64, a: u64, b: u64) -> KResult<()> {
    crate::user::write_val(mem, addr, &[a, b])
}

/// Reads a `struct timespec` timeout (`EFAULT`, `EINVAL` as [`Timeout::relative`]).
pub fn read_timespec_timeout(mem: &dyn UserMem, addr: u64) -> KResult<Timeout> {
    let (sec, nsec) = read_pair(mem, addr)?;
    Timeout::relative(sec, nsec)
}

/// Checks and reads a `sigset_t` argument: `Ok(None)` when `addr` is 0, `EINVAL` unless
/// `size` is 8, `EFAULT` if unreadable.
pub fn read_sigmask(mem: &dyn UserMem, addr: u64, size: u64) -> KResult<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    crate::user::read_val::<u64>(mem, addr).map(Some)
}

/// Linux `poll_select_finish`: writes the time left back (as a timespec, or a timeval when
/// `timeval`) unless the timeout was zero; a failed write is ignored.
fn write_back_remaining(mem: &dyn UserMem, addr: u64, t: &Timeout, timeval: bool) {
    if addr == 0 || t.zero {
        return;
    }
    let Some(left) = t.remaining_ns() else { return };
    let sec = left / NSEC_PER_SEC;
    let sub = left % NSEC_PER_SEC;
    let _ = write_pair(mem, addr, sec, if timeval { sub / 1000 } else { sub });
}

/// Evaluates `eval` (the number of ready entries) until non-zero, the timeout, or a signal.
fn wait_ready(files: &[Arc<OpenFile>], t: &Timeout, mut eval: impl FnMut() -> usize) -> KResult<usize> {
    let n = eval();
    if n > 0 || t.passed() {
        return Ok(n);
    }
    let mut set = WaitSet::new();
    for f in files {
        set.add(&*f.ops);
    }
    let mut last = 0;
    match set.wait(t.deadline, || {
        last = eval();
        last > 0
    }) {
        Ok(()) => Ok(last),
        Err(Errno::ETIMEDOUT) => Ok(eval()),
        Err(e) => Err(e),
    }
}

fn do_poll(mem: &dyn UserMem, files: &Mutex<FdTable>, fds: u64, nfds: u32, t: &Timeout) -> KResult<u64> {
    let limit = files.lock().limit().min(NR_OPEN);
    let n = usize::try_from(nfds).map_err(|_| Errno::EINVAL)?;
    if n > limit {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; n * 8];
    if n > 0 {
        mem.read(fds, &mut raw)?;
    }
    // (fd, events) per entry, and the file for fds that are open.
    let entries: Vec<(i32, u16)> = raw
        .chunks_exact(8)
        .map(|c| (i32::from_ne_bytes([c[0], c[1], c[2], c[3]]), u16::from_ne_bytes([c[4], c[5]])))
        .collect();
    let resolved: Vec<Option<Arc<OpenFile>>> = {
        let t = files.lock();
        entries.iter().map(|&(fd, _)| if fd < 0 { None } else { t.get(fd).ok() }).collect()
    };
    let held: Vec<Arc<OpenFile>> = resolved.iter().flatten().cloned().collect();
    let mut revents = vec![0u16; n];
    let count = wait_ready(&held, t, || {
        let mut count = 0;
        for (i, (&(fd, events), file)) in entries.iter().zip(&resolved).enumerate() {
            let mask = match file {
                _ if fd < 0 => 0,
                None => PollEvents::NVAL.bits(),
                Some(f) => {
                    let filter = u32::from(events) | PollEvents::ERR.bits() | PollEvents::HUP.bits();
                    f.ops.poll(f).bits() & filter
                }
            };
            // Every poll bit fits in the 16-bit revents.
            revents[i] = u16::try_from(mask).unwrap_or(u16::MAX);
            count += usize::from(mask != 0);
        }
        count
    })?;
    drop(held);
    for (i, r) in revents.iter().enumerate() {
        // `revents` sits at offset 6 of each 8-byte `struct pollfd`.
        let at = fds.checked_add(u64::try_from(i * 8 + 6).map_err(|_| Errno::EFAULT)?).ok_or(Errno::EFAULT)?;
        mem.write(at, &r.to_ne_bytes())?;
    }
    u64::try_from(count).map_err(|_| Errno::EINVAL)
}

/// `poll(fds, nfds, timeout_ms)`: `EINVAL` if `nfds` exceeds `RLIMIT_NOFILE`, `EFAULT` for
/// an unreadable or unwritable array; negative fds are skipped (`revents` 0), closed ones
/// report `POLLNVAL`; `POLLERR | POLLHUP` are always reported. Returns the number of
/// entries with a non-zero `revents` (0 on timeout).
pub fn sys_poll(mem: &dyn UserMem, files: &Mutex<FdTable>, fds: u64, nfds: u32, timeout_ms: i32) -> KResult<u64> {
    do_poll(mem, files, fds, nfds, &Timeout::from_ms(timeout_ms))
}

/// `ppoll(fds, nfds, tsp, sigmask, sigsetsize)`: as [`sys_poll`] with a `struct timespec`
/// timeout (NULL: forever; `EFAULT`/`EINVAL` for a bad one), the time left written back to
/// `*tsp`; see the module docs for the signal mask.
pub fn sys_ppoll(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fds: u64,
    nfds: u32,
    tsp: u64,
    sigmask: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    let t = if tsp == 0 { Timeout::FOREVER } else { read_timespec_timeout(mem, tsp)? };
    read_sigmask(mem, sigmask, sigsetsize)?;
    let r = do_poll(mem, files, fds, nfds, &t);
    write_back_remaining(mem, tsp, &t, false);
    r
}

/// One `fd_set` argument: its user address (0: absent) and bits.
struct FdSet {
    addr: u64,
    words: Vec<u64>,
}

impl FdSet {
    fn read(mem: &dyn UserMem, addr: u64, nwords: usize) -> KResult<FdSet> {
        let mut words = vec![0u64; nwords];
        if addr != 0 && nwords > 0 {
            let mut raw = vec![0u8; nwords * 8];
            mem.read(addr, &mut raw)?;
            for (w, c) in words.iter_mut().zip(raw.chunks_exact(8)) {
                *w = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            }
        }
        Ok(FdSet { addr, words })
    }

    fn has(&self, fd: usize) -> bool {
        self.words.get(fd / 64).is_some_and(|w| w & (1 << (fd % 64)) != 0)
    }

    fn write(&self, mem: &dyn UserMem, result: &[u64]) -> KResult<()> {
        if self.addr == 0 || result.is_empty() {
            return Ok(());
        }
        let raw: Vec<u8> = result.iter().flat_map(|w| w.to_ne_bytes()).collect();
        mem.write(self.addr, &raw)
    }
}

fn do_select(mem: &dyn UserMem, files: &Mutex<FdTable>, nfds: i32, sets: [u64; 3], t: &Timeout) -> KResult<u64> {
    let limit = files.lock().limit().min(NR_OPEN);
    let n = usize::try_from(nfds).map_err(|_| Errno::EINVAL)?.min(limit);
    let nwords = n.div_ceil(64);
    let inp =
        [FdSet::read(mem, sets[0], nwords)?, FdSet::read(mem, sets[1], nwords)?, FdSet::read(mem, sets[2], nwords)?];
    // Every fd named in any set must be open (Linux max_select_fd: EBADF).
    let mut watched: Vec<(usize, Arc<OpenFile>)> = Vec::new();
    {
        let table = files.lock();
        for fd in 0..n {
            if inp.iter().any(|s| s.has(fd)) {
                let f = table.get(i32::try_from(fd).map_err(|_| Errno::EBADF)?)?;
                watched.push((fd, f));
            }
        }
    }
    let held: Vec<Arc<OpenFile>> = watched.iter().map(|(_, f)| f.clone()).collect();
    let mut res = [vec![0u64; nwords], vec![0u64; nwords], vec![0u64; nwords]];
    let count = wait_ready(&held, t, || {
        let mut count = 0;
        for r in res.iter_mut() {
            r.iter_mut().for_each(|w| *w = 0);
        }
        for (fd, f) in &watched {
            let mask = f.ops.poll(f).bits();
            for (k, set) in [POLLIN_SET, POLLOUT_SET, POLLEX_SET].iter().enumerate() {
                if mask & set != 0 && inp[k].has(*fd) {
                    res[k][fd / 64] |= 1 << (fd % 64);
                    count += 1;
                }
            }
        }
        count
    })?;
    drop(held);
    for (set, r) in inp.iter().zip(&res) {
        set.write(mem, r)?;
    }
    u64::try_from(count).map_err(|_| Errno::EINVAL)
}

/// `select(nfds, readfds, writefds, exceptfds, timeout)`: `EINVAL` for negative `nfds` or a
/// bad `struct timeval` (microseconds past a second carry into seconds, as Linux does),
/// `EBADF` for a closed fd in any set, `EFAULT`; `nfds` is capped at `RLIMIT_NOFILE`.
/// Rewrites the sets to the ready fds and `*timeout` to the time left; returns the number
/// of set bits.
pub fn sys_select(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    nfds: i32,
    readfds: u64,
    writefds: u64,
    exceptfds: u64,
    tvp: u64,
) -> KResult<u64> {
    let t = if tvp == 0 {
        Timeout::FOREVER
    } else {
        let (sec, usec) = read_pair(mem, tvp)?;
        let sec = sec.checked_add(usec / 1_000_000).ok_or(Errno::EINVAL)?;
        Timeout::relative(sec, (usec % 1_000_000).saturating_mul(1000))?
    };
    let r = do_select(mem, files, nfds, [readfds, writefds, exceptfds], &t);
    write_back_remaining(mem, tvp, &t, true);
    r
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sig)`: as [`sys_select`] with a
/// `struct timespec` timeout and `sig` pointing at `{ const sigset_t *ss; size_t ss_len }`
/// (`EFAULT`, `EINVAL` unless `ss_len` is 8 when `ss` is set; see the module docs).
#[allow(clippy::too_many_arguments)]
pub fn sys_pselect6(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    nfds: i32,
    readfds: u64,
    writefds: u64,
    exceptfds: u64,
    tsp: u64,
    sig: u64,
) -> KResult<u64> {
    let t = if tsp == 0 { Timeout::FOREVER } else { read_timespec_timeout(mem, tsp)? };
    if sig != 0 {
        let [ss, len] = read_words(mem, sig)?;
        read_sigmask(mem, ss, len)?;
    }
    let r = do_select(mem, files, nfds, [readfds, writefds, exceptfds], &t);
    write_back_remaining(mem, tsp, &t, false);
    r
}

#[cfg(test)]
#[path = "poll_tests.rs"]
mod tests;
