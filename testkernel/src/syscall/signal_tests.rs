//! Host tests of the signal syscalls: errno tables and target selection over a fake host.

use alloc::vec;

use spin::Mutex;

use super::*;
use crate::proc::signal::{post_to_process, sigmask, SA_RESTORER, SIGKILL, SIGUSR1, SIGUSR2, SS_ONSTACK, UNBLOCKABLE};
use crate::user::TestMem;

/// Processes: 1 (pgid 1), 100 = caller (pgid 100, threads 100 and 102), 101 (pgid 100),
/// 200 (pgid 200).
struct Host {
    sent: Mutex<Vec<(char, u32, SigInfo)>>,
}

impl Host {
    fn new() -> Self {
        Host { sent: Mutex::new(Vec::new()) }
    }

    fn take(&self) -> Vec<(char, u32, SigInfo)> {
        core::mem::take(&mut *self.sent.lock())
    }
}

impl SignalHost for Host {
    fn caller_pid(&self) -> u32 {
        100
    }
    fn caller_pgid(&self) -> u32 {
        100
    }
    fn process_exists(&self, pid: u32) -> bool {
        [1, 100, 101, 200].contains(&pid)
    }
    fn thread_group_of(&self, tid: u32) -> Option<u32> {
        match tid {
            100 | 102 => Some(100),
            1 | 101 | 200 => Some(tid),
            _ => None,
        }
    }
    fn processes_in_group(&self, pgid: u32) -> Vec<u32> {
        match pgid {
            1 => vec![1],
            100 => vec![100, 101],
            200 => vec![200],
            _ => vec![],
        }
    }
    fn all_processes(&self) -> Vec<u32> {
        vec![1, 100, 101, 200]
    }
    fn send_to_process(&self, pid: u32, info: SigInfo) {
        self.sent.lock().push(('p', pid, info));
    }
    fn send_to_thread(&self, tid: u32, info: SigInfo) {
        self.sent.lock().push(('t', tid, info));
    }
}

fn user(sig: u32) -> SigInfo {
    SigInfo::kill(sig, SI_USER, 100)
}

#[test]
fn kill_targets_and_errnos() {
    let h = Host::new();
    let cases: &[(i32, i32, KResult<u64>, &[u32])] = &[
        (999, 9, Err(Errno::ESRCH), &[]),
        (999, 100, Err(Errno::ESRCH), &[]),
        (101, 65, Err(Errno::EINVAL), &[]),
        (101, -1, Err(Errno::EINVAL), &[]),
        (101, 0, Ok(0), &[]),
        (101, 15, Ok(0), &[101]),
        (100, 10, Ok(0), &[100]),
        (0, 10, Ok(0), &[100, 101]),
        (0, 0, Ok(0), &[]),
        (-200, 12, Ok(0), &[200]),
        (-300, 12, Err(Errno::ESRCH), &[]),
        (-300, 99, Err(Errno::ESRCH), &[]),
        (-200, 99, Err(Errno::EINVAL), &[]),
        (i32::MIN, 9, Err(Errno::ESRCH), &[]),
        (-1, 10, Ok(0), &[101, 200]),
        (-1, 99, Err(Errno::EINVAL), &[]),
    ];
    for &(pid, sig, ref want, targets) in cases {
        assert_eq!(sys_kill(&h, pid, sig), *want, "kill({pid}, {sig})");
        let sent = h.take();
        let expect: Vec<_> = targets.iter().map(|&p| ('p', p, user(sig.unsigned_abs()))).collect();
        assert_eq!(sent, expect, "kill({pid}, {sig})");
    }
}

#[test]
fn tgkill_and_tkill() {
    let h = Host::new();
    let tk = SigInfo::kill(10, SI_TKILL, 100);
    let cases: &[(i32, i32, i32, KResult<u64>)] = &[
        (0, 100, 9, Err(Errno::EINVAL)),
        (100, 0, 9, Err(Errno::EINVAL)),
        (-1, 100, 9, Err(Errno::EINVAL)),
        (100, 101, 9, Err(Errno::ESRCH)),
        (100, 999, 0, Err(Errno::ESRCH)),
        (100, 999, 65, Err(Errno::ESRCH)),
        (100, 102, 65, Err(Errno::EINVAL)),
        (100, 102, 0, Ok(0)),
    ];
    for &(tgid, tid, sig, want) in cases {
        assert_eq!(sys_tgkill(&h, tgid, tid, sig), want, "tgkill({tgid}, {tid}, {sig})");
    }
    assert!(h.take().is_empty());
    assert_eq!(sys_tgkill(&h, 100, 102, 10), Ok(0));
    assert_eq!(h.take(), [('t', 102, tk)]);
    for (tid, sig, want) in
        [(-5, 9, Err(Errno::EINVAL)), (0, 9, Err(Errno::EINVAL)), (999, 9, Err(Errno::ESRCH)), (101, 64, Ok(0))]
    {
        assert_eq!(sys_tkill(&h, tid, sig), want, "tkill({tid}, {sig})");
    }
    assert_eq!(h.take(), [('t', 101, SigInfo::kill(64, SI_TKILL, 100))]);
}

const BASE: u64 = 0x30_000;
const ACT: u64 = BASE + 0x10;
const OACT: u64 = BASE + 0x40;
const SET: u64 = BASE + 0x80;

#[test]
fn rt_sigaction_syscall() {
    let (p, t, m) = (ProcessSignals::new(), ThreadSignals::new(), TestMem::new(BASE, 0x100));
    write_val(&m, ACT, &[0x4000u64, SA_RESTORER | 0x400, 0x5000, u64::MAX]).unwrap();
    let cases: &[(i32, u64, u64, u64, Errno)] = &[
        (10, ACT, 0, 4, Errno::EINVAL),
        (10, ACT, 0, 16, Errno::EINVAL),
        (10, 8, 0, 8, Errno::EFAULT),
        (0, 8, 0, 8, Errno::EFAULT),
        (0, ACT, 0, 8, Errno::EINVAL),
        (-1, 0, OACT, 8, Errno::EINVAL),
        (65, 0, OACT, 8, Errno::EINVAL),
        (9, ACT, 0, 8, Errno::EINVAL),
        (19, ACT, 0, 8, Errno::EINVAL),
    ];
    for &(sig, act, oact, size, errno) in cases {
        assert_eq!(sys_rt_sigaction(&p, &t, &m, sig, act, oact, size), Err(errno), "sig {sig} act {act:#x}");
    }
    assert_eq!(sys_rt_sigaction(&p, &t, &m, 9, 0, OACT, 8), Ok(0));
    assert_eq!(read_val::<[u64; 4]>(&m, OACT), Ok([0; 4]));
    assert_eq!(sys_rt_sigaction(&p, &t, &m, 10, ACT, OACT, 8), Ok(0));
    assert_eq!(read_val::<[u64; 4]>(&m, OACT), Ok([0; 4]));
    assert_eq!(sys_rt_sigaction(&p, &t, &m, 10, 0, OACT, 8), Ok(0));
    assert_eq!(read_val::<[u64; 4]>(&m, OACT), Ok([0x4000, SA_RESTORER, 0x5000, !UNBLOCKABLE]));
    // A bad oact is EFAULT, after the new action was installed (as in Linux).
    write_val(&m, ACT, &[0x6000u64, SA_RESTORER, 0x5000, 0]).unwrap();
    assert_eq!(sys_rt_sigaction(&p, &t, &m, 10, ACT, 8, 8), Err(Errno::EFAULT));
    assert_eq!(p.action(10).handler, 0x6000);
}

#[test]
fn rt_sigprocmask_and_sigpending_syscalls() {
    let (p, t, m) = (ProcessSignals::new(), ThreadSignals::new(), TestMem::new(BASE, 0x100));
    write_val(&m, SET, &(sigmask(SIGUSR1) | sigmask(SIGKILL))).unwrap();
    assert_eq!(sys_rt_sigprocmask(&t, &m, 0, SET, 0, 4), Err(Errno::EINVAL));
    assert_eq!(sys_rt_sigprocmask(&t, &m, 5, SET, 0, 8), Err(Errno::EINVAL));
    assert_eq!(sys_rt_sigprocmask(&t, &m, 5, 0, 0, 8), Ok(0), "how is not checked without a set");
    assert_eq!(sys_rt_sigprocmask(&t, &m, 0, 8, 0, 8), Err(Errno::EFAULT));
    assert_eq!(sys_rt_sigprocmask(&t, &m, 0, SET, OACT, 8), Ok(0));
    assert_eq!(read_val::<u64>(&m, OACT), Ok(0));
    assert_eq!(t.blocked(), sigmask(SIGUSR1));
    assert_eq!(sys_rt_sigprocmask(&t, &m, 1, 0, OACT, 8), Ok(0));
    assert_eq!(read_val::<u64>(&m, OACT), Ok(sigmask(SIGUSR1)));
    assert_eq!(sys_rt_sigprocmask(&t, &m, 2, 0, 8, 8), Err(Errno::EFAULT));

    // Pending: only blocked ones are reported; sizes up to 8 write that many bytes.
    t.post(&p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    p.sigaction(&t, SIGUSR2, Some(SigAction { handler: 0x5000, flags: SA_RESTORER, restorer: 1, mask: 0 })).unwrap();
    t.post(&p, SigInfo::kill(SIGUSR2, SI_TKILL, 1));
    write_val(&m, SET, &u64::MAX).unwrap();
    assert_eq!(sys_rt_sigpending(&p, &t, &m, SET, 9), Err(Errno::EINVAL));
    assert_eq!(sys_rt_sigpending(&p, &t, &m, SET, 2), Ok(0));
    assert_eq!(read_val::<u64>(&m, SET), Ok(0xffff_ffff_ffff_0000 | sigmask(SIGUSR1)));
    assert_eq!(sys_rt_sigpending(&p, &t, &m, SET, 8), Ok(0));
    assert_eq!(read_val::<u64>(&m, SET), Ok(sigmask(SIGUSR1)));
    assert_eq!(sys_rt_sigpending(&p, &t, &m, 8, 8), Err(Errno::EFAULT));
    assert_eq!(sys_rt_sigpending(&p, &t, &m, 8, 0), Ok(0));
}

#[test]
fn sigaltstack_syscall() {
    let (t, m) = (ThreadSignals::new(), TestMem::new(BASE, 0x100));
    write_val(&m, SET, &[0x9000u64, 0, 8192]).unwrap();
    write_val(&m, OACT, &[u64::MAX; 3]).unwrap();
    assert_eq!(sys_sigaltstack(&t, &m, 8, 0, 0), Err(Errno::EFAULT));
    assert_eq!(sys_sigaltstack(&t, &m, SET, OACT, 0x1000), Ok(0));
    assert_eq!(read_val::<[u64; 3]>(&m, OACT), Ok([0, 2, 0]));
    assert_eq!(sys_sigaltstack(&t, &m, 0, OACT, 0x9100), Ok(0));
    assert_eq!(read_val::<[u64; 3]>(&m, OACT), Ok([0x9000, u64::from(SS_ONSTACK), 8192]));
    // EPERM on the stack; the old stack is not written on failure.
    write_val(&m, OACT, &[u64::MAX; 3]).unwrap();
    assert_eq!(sys_sigaltstack(&t, &m, SET, OACT, 0x9100), Err(Errno::EPERM));
    assert_eq!(read_val::<[u64; 3]>(&m, OACT), Ok([u64::MAX; 3]));
    // Only the low 32 bits of the flags word are ss_flags (the rest is padding).
    write_val(&m, SET, &[0xa000u64, 0xdead_0000_0000, 4096]).unwrap();
    assert_eq!(sys_sigaltstack(&t, &m, SET, 0, 0x1000), Ok(0));
    write_val(&m, SET, &[0xa000u64, 7, 4096]).unwrap();
    assert_eq!(sys_sigaltstack(&t, &m, SET, 0, 0x1000), Err(Errno::EINVAL));
    assert_eq!(sys_sigaltstack(&t, &m, 0, 8, 0x1000), Err(Errno::EFAULT));
}

#[test]
fn sigsuspend_waits_for_a_signal_with_the_temporary_mask() {
    use alloc::sync::Arc;
    let p = Arc::new(ProcessSignals::new());
    let t = Arc::new(ThreadSignals::new());
    let m = TestMem::new(BASE, 0x100);
    t.sigprocmask(2, sigmask(SIGUSR1) | sigmask(SIGUSR2)).unwrap();
    write_val(&m, SET, &sigmask(SIGUSR2)).unwrap();
    assert_eq!(sys_rt_sigsuspend(&p, &t, &m, SET, 4), Err(Errno::EINVAL));
    assert_eq!(sys_rt_sigsuspend(&p, &t, &m, 8, 8), Err(Errno::EFAULT));
    assert_eq!(t.blocked(), sigmask(SIGUSR1) | sigmask(SIGUSR2), "failed calls keep the mask");

    // SIGUSR2 stays blocked during the wait: posting it does not end the wait; SIGUSR1 does.
    let (p2, t2) = (p.clone(), t.clone());
    let poster = std::thread::spawn(move || {
        while t2.blocked() != sigmask(SIGUSR2) {
            std::thread::yield_now();
        }
        t2.post(&p2, SigInfo::kill(SIGUSR2, SI_TKILL, 1));
        std::thread::sleep(std::time::Duration::from_millis(20));
        t2.post(&p2, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    });
    p.sigaction(&t, SIGUSR1, Some(SigAction { handler: 0x5000, flags: SA_RESTORER, restorer: 1, mask: 0 })).unwrap();
    p.sigaction(&t, SIGUSR2, Some(SigAction { handler: 0x5000, flags: SA_RESTORER, restorer: 1, mask: 0 })).unwrap();
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_rt_sigsuspend(&p, &t, &m, SET, 8), Err(Errno::EINTR));
    assert!(crate::time::monotonic_ns() - t0 >= 20_000_000, "SIGUSR2 did not interrupt");
    poster.join().unwrap();
    assert_eq!(t.blocked(), sigmask(SIGUSR2), "temporary mask until the return to user mode");
    t.restore_saved_mask();
    assert_eq!(t.blocked(), sigmask(SIGUSR1) | sigmask(SIGUSR2));
    t.restore_saved_mask();
    assert_eq!(t.blocked(), sigmask(SIGUSR1) | sigmask(SIGUSR2), "restoring twice changes nothing");

    // pause: the current mask; returns once something deliverable is pending.
    t.sigprocmask(2, 0).unwrap();
    t.post(&p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    assert_eq!(sys_pause(&p, &t), Err(Errno::EINTR));
}

#[test]
fn sigtimedwait() {
    use alloc::sync::Arc;
    const TS: u64 = BASE + 0xa0;
    const INFO: u64 = BASE - 0x100;
    let p = Arc::new(ProcessSignals::new());
    let t = Arc::new(ThreadSignals::new());
    let m = TestMem::new(BASE - 0x100, 0x200);
    t.sigprocmask(2, sigmask(SIGUSR1)).unwrap();
    write_val(&m, SET, &(sigmask(SIGUSR1) | sigmask(SIGKILL))).unwrap();
    write_val(&m, TS, &[0i64, 0]).unwrap();
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, 0, 0, 16), Err(Errno::EINVAL));
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, 8, 0, 0, 8), Err(Errno::EFAULT));
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, 0, 8, 8), Err(Errno::EFAULT));
    write_val(&m, TS, &[0i64, 1_000_000_000]).unwrap();
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, 0, TS, 8), Err(Errno::EINVAL));
    // Zero timeout: poll.
    write_val(&m, TS, &[0i64, 0]).unwrap();
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, 0, TS, 8), Err(Errno::EAGAIN));
    // Already pending (blocked, process-directed): taken at once with its siginfo.
    assert_eq!(post_to_process(&p, &[&*t], SigInfo::kill(SIGUSR1, SI_USER, 33)), None);
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, INFO, TS, 8), Ok(u64::from(SIGUSR1)));
    assert_eq!(read_val::<[u32; 5]>(&m, INFO), Ok([SIGUSR1, 0, 0, 0, 33]));
    assert_eq!(t.pending_blocked(&p), 0);
    // A timed wait that expires: EAGAIN, the mask is back.
    write_val(&m, TS, &[0i64, 20_000_000]).unwrap();
    let t0 = crate::time::monotonic_ns();
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, 0, TS, 8), Err(Errno::EAGAIN));
    assert!(crate::time::monotonic_ns() - t0 >= 20_000_000);
    assert_eq!(t.blocked(), sigmask(SIGUSR1));
    // A signal arriving during an endless wait; SIGCHLD (default ignore) in the set is not
    // discarded while the wait unblocks it, because it was blocked before.
    write_val(&m, SET, &sigmask(crate::proc::signal::SIGCHLD)).unwrap();
    t.sigprocmask(0, sigmask(crate::proc::signal::SIGCHLD)).unwrap();
    let (p2, t2) = (p.clone(), t.clone());
    let poster = std::thread::spawn(move || {
        while t2.blocked() & sigmask(crate::proc::signal::SIGCHLD) != 0 {
            std::thread::yield_now();
        }
        post_to_process(&p2, &[&*t2], SigInfo::child_exit(77, 3 << 8))
    });
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, INFO, 0, 8), Ok(17));
    assert_eq!(poster.join().unwrap(), Some(0));
    assert_eq!(read_val::<[i32; 7]>(&m, INFO), Ok([17, 0, crate::proc::signal::CLD_EXITED, 0, 77, 0, 3]));
    // Another (deliverable) signal interrupts.
    write_val(&m, SET, &sigmask(SIGUSR2)).unwrap();
    p.sigaction(&t, SIGUSR1, Some(SigAction { handler: 0x5000, flags: SA_RESTORER, restorer: 1, mask: 0 })).unwrap();
    t.sigprocmask(2, 0).unwrap();
    t.post(&p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    assert_eq!(sys_rt_sigtimedwait(&p, &t, &m, SET, 0, 0, 8), Err(Errno::EINTR));
}

#[test]
fn child_exit_siginfo() {
    use crate::proc::signal::{SigFields, CLD_DUMPED, CLD_EXITED, CLD_KILLED};
    let f = |code| match SigInfo::child_exit(5, code) {
        SigInfo { signo: 17, code, fields: SigFields::Child { pid: 5, status, .. }, .. } => (code, status),
        other => panic!("{other:?}"),
    };
    assert_eq!(f(0), (CLD_EXITED, 0));
    assert_eq!(f(42 << 8), (CLD_EXITED, 42));
    assert_eq!(f(9), (CLD_KILLED, 9));
    assert_eq!(f(0x80 | 11), (CLD_DUMPED, 11));
}
