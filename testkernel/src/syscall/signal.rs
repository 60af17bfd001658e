//! Signal syscalls: `rt_sigaction`, `rt_sigprocmask`, `rt_sigpending`, `sigaltstack`,
//! `rt_sigsuspend`, `pause`, `rt_sigtimedwait`, `kill`, `tgkill`, `tkill`. (`rt_sigreturn` is [`crate::proc::sigframe::rt_sigreturn`],
//! which kcore calls with the saved registers.)
//!
//! Sending goes through [`SignalHost`], which the kernel implements over its process table.
//! Permission checks always pass: every process runs as root here. Process groups are
//! whatever the host reports (`processes_in_group`).
//!
//! Reference: kernel/signal.c (`SYSCALL_DEFINE4(rt_sigaction)`, `rt_sigprocmask`,
//! `rt_sigpending`/`do_sigpending`, `sigaltstack`, `kill`/`kill_something_info`,
//! `__kill_pgrp_info`, `tgkill`/`tkill`/`do_tkill`/`do_send_specific`,
//! `check_kill_permission`, `prepare_kill_siginfo`).

use alloc::vec::Vec;

use syscall_abi::Errno;

use crate::proc::signal::{
    AltStack, ProcessSignals, SigAction, SigInfo, SigSet, ThreadSignals, NSIG, SI_TKILL, SI_USER, UNBLOCKABLE,
};
use crate::sync::WaitQueue;
use crate::syscall::time::read_timespec_ns;
use crate::user::{read_val, write_val, UserMem};
use crate::KResult;

/// The kernel's `sigset_t` size: the only `sigsetsize` accepted.
pub const SIGSET_SIZE: u64 = 8;

/// What the signal-sending syscalls need from the kernel's process table.
pub trait SignalHost {
    /// The calling process's id (tgid): `si_pid` of the signals it sends.
    fn caller_pid(&self) -> u32;
    /// The calling process's group id (`kill(0, sig)`).
    fn caller_pgid(&self) -> u32;
    /// Whether process `pid` exists (zombies included, as in Linux).
    fn process_exists(&self, pid: u32) -> bool;
    /// The process (tgid) that thread `tid` belongs to, if the thread exists.
    fn thread_group_of(&self, tid: u32) -> Option<u32>;
    /// The processes of group `pgid` (empty when none).
    fn processes_in_group(&self, pgid: u32) -> Vec<u32>;
    /// Every process id.
    fn all_processes(&self) -> Vec<u32>;
    /// Posts a process-directed signal and wakes the chosen thread
    /// (`proc::signal::post_to_process`). Called only for existing processes.
    fn send_to_process(&self, pid: u32, info: SigInfo);
    /// Posts a thread-directed signal and wakes the thread (`ThreadSignals::post`).
    fn send_to_thread(&self, tid: u32, info: SigInfo);
}

/// A signal number argument: 0..=64 (`EINVAL` otherwise; 0 only checks the target).
fn check_sig(sig: i32) -> KResult<u32> {
    match u32::try_from(sig) {
        Ok(s) if s <= NSIG => Ok(s),
        _ => Err(Errno::EINVAL),
    }
}

/// `rt_sigaction(sig, act, oact, sigsetsize)`: the kernel `struct sigaction` (handler,
/// flags, restorer, mask). `EINVAL` for `sigsetsize != 8`, an invalid signal or a new action
/// for SIGKILL/SIGSTOP; `EFAULT` for unreadable `act` (checked before the signal number,
/// as in Linux) or unwritable `oact`.
pub fn sys_rt_sigaction(
    process: &ProcessSignals,
    thread: &ThreadSignals,
    mem: &dyn UserMem,
    sig: i32,
    act: u64,
    oact: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 { Some(SigAction::from_words(read_val::<[u64; 4]>(mem, act)?)) } else { None };
    let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
    let old = process.sigaction(thread, sig, new)?;
    if oact != 0 {
        write_val(mem, oact, &old.to_words())?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oset, sigsetsize)`: `EINVAL` for `sigsetsize != 8` or, when
/// `set` is given, an unknown `how`; SIGKILL/SIGSTOP are silently never blocked.
pub fn sys_rt_sigprocmask(
    thread: &ThreadSignals,
    mem: &dyn UserMem,
    how: i32,
    set: u64,
    oset: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = thread.blocked();
    if set != 0 {
        let new: u64 = read_val(mem, set)?;
        thread.sigprocmask(how, new)?;
    }
    if oset != 0 {
        write_val(mem, oset, &old)?;
    }
    Ok(0)
}

/// `rt_sigpending(set, sigsetsize)`: the blocked pending signals (thread's and process's);
/// `EINVAL` when `sigsetsize > 8`, which writes only `sigsetsize` bytes otherwise.
pub fn sys_rt_sigpending(
    process: &ProcessSignals,
    thread: &ThreadSignals,
    mem: &dyn UserMem,
    set: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    let len = usize::try_from(sigsetsize).ok().filter(|&n| n <= 8).ok_or(Errno::EINVAL)?;
    let pending = thread.pending_blocked(process);
    if len != 0 {
        mem.write(set, &pending.to_ne_bytes()[..len])?;
    }
    Ok(0)
}

/// `sigaltstack(uss, uoss)` for a thread whose user stack pointer (at the syscall) is `sp`:
/// `stack_t` is `{ void *ss_sp; int ss_flags; size_t ss_size; }` (24 bytes). Errors: see
/// [`ThreadSignals::sigaltstack`]; `EFAULT` for bad pointers (the old stack is only written
/// when the call succeeds).
pub fn sys_sigaltstack(thread: &ThreadSignals, mem: &dyn UserMem, uss: u64, uoss: u64, sp: u64) -> KResult<u64> {
    let new = if uss != 0 {
        let [ss_sp, flags, ss_size] = read_val::<[u64; 3]>(mem, uss)?;
        Some(AltStack { sp: ss_sp, size: ss_size, flags: u32::try_from(flags & 0xffff_ffff).unwrap_or(0) })
    } else {
        None
    };
    let old = thread.sigaltstack(new, sp)?;
    if uoss != 0 {
        write_val(mem, uoss, &[old.sp, u64::from(old.flags), old.size])?;
    }
    Ok(0)
}

/// Nobody wakes this queue: `rt_sigsuspend`/`pause` sleepers leave it when a signal makes
/// the scheduler interrupt the sleep (kcore wakes the target of every posted signal).
static SUSPENDED: WaitQueue = WaitQueue::new();

/// Sleeps with `mask` blocked (the current mask for `pause`) until a signal is deliverable;
/// always `EINTR` (Linux's `-ERESTARTNOHAND`, which a handler turns into `EINTR`).
fn suspend(process: &ProcessSignals, thread: &ThreadSignals, mask: Option<SigSet>) -> KResult<u64> {
    if let Some(mask) = mask {
        thread.set_temporary_mask(mask);
    }
    match SUSPENDED.wait_until(None, || thread.has_deliverable(process)) {
        Ok(()) | Err(Errno::EINTR) => Err(Errno::EINTR),
        Err(e) => Err(e),
    }
}

/// `rt_sigsuspend(mask, sigsetsize)`: `EINVAL` for `sigsetsize != 8`, `EFAULT`; waits with
/// `mask` as the temporary blocked set and returns `EINTR`. The old mask comes back after
/// the handler (through the frame) or at the return to user mode
/// ([`ThreadSignals::restore_saved_mask`]).
pub fn sys_rt_sigsuspend(
    process: &ProcessSignals,
    thread: &ThreadSignals,
    mem: &dyn UserMem,
    mask: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = read_val(mem, mask)?;
    suspend(process, thread, Some(mask))
}

/// `pause()`: waits for a deliverable signal; `EINTR`.
pub fn sys_pause(process: &ProcessSignals, thread: &ThreadSignals) -> KResult<u64> {
    suspend(process, thread, None)
}

/// `rt_sigtimedwait(these, info, timeout, sigsetsize)`: takes a pending signal of `these`
/// (blocked or not; SIGKILL/SIGSTOP excluded) and returns its number, writing its
/// `siginfo_t` to `info` when not NULL. Without one, waits with `these` unblocked until one
/// arrives, up to the relative `timeout` (NULL: forever; zero: no wait): `EAGAIN` when it
/// expires, `EINTR` when another signal interrupts. `EINVAL` for `sigsetsize != 8` or a bad
/// timespec, `EFAULT`.
pub fn sys_rt_sigtimedwait(
    process: &ProcessSignals,
    thread: &ThreadSignals,
    mem: &dyn UserMem,
    these: u64,
    info: u64,
    timeout: u64,
    sigsetsize: u64,
) -> KResult<u64> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let these = read_val::<u64>(mem, these)? & !UNBLOCKABLE;
    let wait_ns = if timeout != 0 { Some(read_timespec_ns(mem, timeout)?) } else { None };
    let mut got = thread.dequeue_from(process, these);
    let mut waited = Ok(());
    if got.is_none() && wait_ns != Some(0) {
        let deadline = wait_ns.map(|ns| crate::time::monotonic_ns().saturating_add(ns));
        thread.set_temporary_mask(thread.blocked() & !these);
        waited = SUSPENDED.wait_until(deadline, || thread.has_deliverable(process));
        thread.restore_saved_mask();
        got = thread.dequeue_from(process, these);
    }
    match got {
        Some(si) => {
            if info != 0 {
                mem.write(info, &si.to_bytes())?;
            }
            Ok(u64::from(si.signo))
        }
        None if wait_ns == Some(0) || waited == Err(Errno::ETIMEDOUT) => Err(Errno::EAGAIN),
        None => Err(Errno::EINTR),
    }
}

/// Sends `sig` (already range-checked by the caller's order of checks) to every process in
/// `targets`: `ESRCH` when there is none, then `EINVAL` for a bad signal, as Linux finds
/// the targets before `check_kill_permission` rejects the number.
fn send_all(host: &dyn SignalHost, targets: &[u32], sig: i32) -> KResult<u64> {
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    let sig = check_sig(sig)?;
    if sig != 0 {
        let me = host.caller_pid();
        for &pid in targets {
            host.send_to_process(pid, SigInfo::kill(sig, SI_USER, me));
        }
    }
    Ok(0)
}

/// `kill(pid, sig)`: `pid > 0` one process; 0 the caller's process group; -1 every
/// process except init (pid 1) and the caller; `< -1` process group `-pid`. `sig` 0 only
/// checks that a target exists. `ESRCH` when no target exists (also for `pid == INT_MIN`),
/// else `EINVAL` for a signal outside 0..=64.
pub fn sys_kill(host: &dyn SignalHost, pid: i32, sig: i32) -> KResult<u64> {
    if pid > 0 {
        let pid = pid.unsigned_abs();
        let targets: &[u32] = if host.process_exists(pid) { &[pid] } else { &[] };
        return send_all(host, targets, sig);
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    if pid != -1 {
        let pgid = if pid == 0 { host.caller_pgid() } else { pid.unsigned_abs() };
        return send_all(host, &host.processes_in_group(pgid), sig);
    }
    let me = host.caller_pid();
    let targets: Vec<u32> = host.all_processes().into_iter().filter(|&p| p > 1 && p != me).collect();
    send_all(host, &targets, sig)
}

/// `tgkill(tgid, tid, sig)`: `EINVAL` for a non-positive id, `ESRCH` when thread `tid` does
/// not exist in process `tgid`, then `EINVAL` for a bad signal; 0 only checks.
pub fn sys_tgkill(host: &dyn SignalHost, tgid: i32, tid: i32, sig: i32) -> KResult<u64> {
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    send_specific(host, Some(tgid.unsigned_abs()), tid.unsigned_abs(), sig)
}

/// `tkill(tid, sig)`: like [`sys_tgkill`] without the process check.
pub fn sys_tkill(host: &dyn SignalHost, tid: i32, sig: i32) -> KResult<u64> {
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    send_specific(host, None, tid.unsigned_abs(), sig)
}

/// Linux's `do_send_specific`.
fn send_specific(host: &dyn SignalHost, tgid: Option<u32>, tid: u32, sig: i32) -> KResult<u64> {
    match host.thread_group_of(tid) {
        Some(group) if tgid.is_none_or(|t| t == group) => {
            let sig = check_sig(sig)?;
            if sig != 0 {
                host.send_to_thread(tid, SigInfo::kill(sig, SI_TKILL, host.caller_pid()));
            }
            Ok(0)
        }
        _ => Err(Errno::ESRCH),
    }
}

#[cfg(test)]
#[path = "signal_tests.rs"]
mod tests;
