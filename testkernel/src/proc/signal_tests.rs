//! Host tests of the signal state machine.

use super::*;

fn handler(h: u64) -> SigAction {
    SigAction { handler: h, flags: SA_RESTORER | SA_SIGINFO, restorer: 0x1000, mask: 0 }
}

fn next(p: &ProcessSignals, t: &ThreadSignals) -> Option<Disposition> {
    t.next_disposition(p)
}

fn sig_of(d: Option<Disposition>) -> Option<u32> {
    match d {
        Some(Disposition::Handler { info, .. }) => Some(info.signo),
        Some(Disposition::Terminate { sig, .. }) => Some(sig + 1000),
        None => None,
    }
}

#[test]
fn default_actions_and_wait_status() {
    let cases = [
        (SIGHUP, DefaultAction::Term),
        (SIGINT, DefaultAction::Term),
        (SIGQUIT, DefaultAction::Core),
        (SIGABRT, DefaultAction::Core),
        (SIGKILL, DefaultAction::Term),
        (SIGSEGV, DefaultAction::Core),
        (SIGPIPE, DefaultAction::Term),
        (SIGCHLD, DefaultAction::Ignore),
        (SIGCONT, DefaultAction::Continue),
        (SIGSTOP, DefaultAction::Stop),
        (21, DefaultAction::Stop),
        (SIGURG, DefaultAction::Ignore),
        (24, DefaultAction::Core),
        (SIGWINCH, DefaultAction::Ignore),
        (SIGSYS, DefaultAction::Core),
        (SIGRTMIN, DefaultAction::Term),
        (64, DefaultAction::Term),
    ];
    for (sig, want) in cases {
        assert_eq!(default_action(sig), want, "signal {sig}");
    }
    assert_eq!(wait_status_for_signal(SIGSEGV, true), 0x8b);
    assert_eq!(wait_status_for_signal(SIGTERM, false), 15);
    assert!(!valid_signal(0) && valid_signal(1) && valid_signal(64) && !valid_signal(65));
}

#[test]
fn sigaction_rules() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    for (sig, new, want) in [
        (0, None, Err(Errno::EINVAL)),
        (65, None, Err(Errno::EINVAL)),
        (SIGKILL, Some(handler(5)), Err(Errno::EINVAL)),
        (SIGSTOP, Some(SigAction::default()), Err(Errno::EINVAL)),
        (SIGKILL, None, Ok(SigAction::default())),
        (SIGUSR1, None, Ok(SigAction::default())),
    ] {
        assert_eq!(p.sigaction(&t, sig, new), want, "signal {sig}");
    }
    // Unknown flags (SA_UNSUPPORTED 0x400, 0x800) are cleared; KILL/STOP leave the mask.
    let a = SigAction { handler: 0x4000, flags: SA_RESTORER | 0x400 | 0x800 | 0x100, restorer: 9, mask: u64::MAX };
    p.sigaction(&t, SIGUSR1, Some(a)).unwrap();
    let got = p.sigaction(&t, SIGUSR1, None).unwrap();
    assert_eq!(got, SigAction { handler: 0x4000, flags: SA_RESTORER, restorer: 9, mask: !UNBLOCKABLE });
    assert_eq!(p.action(SIGUSR1), got);
    assert_eq!(p.action(0), SigAction::default());
    assert_eq!(p.action(99), SigAction::default());
}

#[test]
fn ignoring_flushes_pending_even_if_blocked() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    t.sigprocmask(0, sigmask(SIGUSR1) | sigmask(SIGUSR2)).unwrap();
    assert_eq!(t.post(&p, SigInfo::kill(SIGUSR1, SI_USER, 1)), Posted::Queued);
    assert_eq!(post_to_process(&p, &[&t], SigInfo::kill(SIGUSR2, SI_USER, 1)), None);
    assert_eq!(t.pending_blocked(&p), sigmask(SIGUSR1) | sigmask(SIGUSR2));
    p.sigaction(&t, SIGUSR1, Some(SigAction { handler: SIG_IGN, ..SigAction::default() })).unwrap();
    p.sigaction(&t, SIGUSR2, Some(SigAction { handler: SIG_IGN, ..SigAction::default() })).unwrap();
    assert_eq!(t.pending_blocked(&p), 0);
}

#[test]
fn sigprocmask_how() {
    let t = ThreadSignals::new();
    assert_eq!(t.sigprocmask(0, 0b1010 | UNBLOCKABLE), Ok(0));
    assert_eq!(t.blocked(), 0b1010, "SIGKILL/SIGSTOP never blocked");
    assert_eq!(t.sigprocmask(1, 0b0010), Ok(0b1010));
    assert_eq!(t.blocked(), 0b1000);
    assert_eq!(t.sigprocmask(2, 0b0110), Ok(0b1000));
    assert_eq!(t.blocked(), 0b0110);
    assert_eq!(t.sigprocmask(3, 0), Err(Errno::EINVAL));
    assert_eq!(t.sigprocmask(-1, 0), Err(Errno::EINVAL));
    assert_eq!(t.blocked(), 0b0110);
    assert_eq!(t.set_blocked(u64::MAX), 0b0110);
    assert_eq!(t.blocked(), !UNBLOCKABLE);
}

#[test]
fn default_actions_when_dequeued() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    // SIGCHLD and SIGCONT (default ignore) are discarded when posted unblocked.
    assert_eq!(t.post(&p, SigInfo::kernel(SIGCHLD)), Posted::Ignored);
    assert_eq!(post_to_process(&p, &[&t], SigInfo::kernel(SIGCONT)), None);
    assert!(!t.has_deliverable(&p));
    // Blocked, they stay pending; unblocked later they are dropped at dequeue.
    t.sigprocmask(0, sigmask(SIGCHLD) | sigmask(SIGTSTP)).unwrap();
    assert_eq!(t.post(&p, SigInfo::kernel(SIGCHLD)), Posted::Queued);
    assert_eq!(t.post(&p, SigInfo::kernel(SIGTSTP)), Posted::Queued);
    assert!(!t.has_deliverable(&p));
    t.sigprocmask(2, 0).unwrap();
    assert!(t.has_deliverable(&p));
    assert_eq!(next(&p, &t), None);
    // Term and core.
    t.post(&p, SigInfo::kill(SIGTERM, SI_USER, 3));
    assert_eq!(next(&p, &t), Some(Disposition::Terminate { sig: SIGTERM, core: false }));
    t.post(&p, SigInfo::kill(SIGQUIT, SI_USER, 3));
    assert_eq!(next(&p, &t), Some(Disposition::Terminate { sig: SIGQUIT, core: true }));
    assert_eq!(next(&p, &t), None);
}

#[test]
fn order_sync_first_then_lowest_thread_before_process() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    for s in [SIGUSR1, SIGUSR2, SIGSEGV, SIGINT] {
        p.sigaction(&t, s, Some(handler(0x5000 + u64::from(s)))).unwrap();
    }
    t.sigprocmask(2, !0).unwrap();
    post_to_process(&p, &[&t], SigInfo::kill(SIGINT, SI_USER, 1));
    t.post(&p, SigInfo::kill(SIGUSR2, SI_TKILL, 1));
    t.post(&p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    t.post(&p, SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0x10));
    assert_eq!(next(&p, &t), None, "all blocked");
    t.sigprocmask(2, 0).unwrap();
    let order: Vec<_> = core::iter::from_fn(|| sig_of(next(&p, &t))).collect();
    // Fault first, then the thread's queue in number order, then the process queue.
    assert_eq!(order, [SIGSEGV, SIGUSR1, SIGUSR2, SIGINT]);
}

#[test]
fn standard_signals_coalesce_realtime_queue() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    p.sigaction(&t, SIGUSR1, Some(handler(0x5000))).unwrap();
    p.sigaction(&t, SIGRTMIN, Some(handler(0x6000))).unwrap();
    t.sigprocmask(2, !0).unwrap();
    for pid in [7, 8] {
        t.post(&p, SigInfo::kill(SIGUSR1, SI_USER, pid));
        t.post(&p, SigInfo::kill(SIGRTMIN, SI_USER, pid));
    }
    t.sigprocmask(2, 0).unwrap();
    let mut got = Vec::new();
    while let Some(Disposition::Handler { info, .. }) = next(&p, &t) {
        got.push(info);
    }
    assert_eq!(
        got,
        [SigInfo::kill(SIGUSR1, SI_USER, 7), SigInfo::kill(SIGRTMIN, SI_USER, 7), SigInfo::kill(SIGRTMIN, SI_USER, 8)]
    );
}

#[test]
fn resethand_and_handler_disposition() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    let a = SigAction { flags: SA_RESTORER | SA_RESETHAND, ..handler(0x7000) };
    p.sigaction(&t, SIGUSR1, Some(a)).unwrap();
    t.post(&p, SigInfo::kill(SIGUSR1, SI_USER, 2));
    assert_eq!(next(&p, &t), Some(Disposition::Handler { info: SigInfo::kill(SIGUSR1, SI_USER, 2), action: a }));
    assert_eq!(p.action(SIGUSR1).handler, SIG_DFL);
    t.post(&p, SigInfo::kill(SIGUSR1, SI_USER, 2));
    assert_eq!(next(&p, &t), Some(Disposition::Terminate { sig: SIGUSR1, core: false }));
}

#[test]
fn forced_faults_cannot_be_blocked_or_ignored() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    // Handler installed but SIGSEGV blocked: reset to default and unblocked.
    p.sigaction(&t, SIGSEGV, Some(handler(0x7000))).unwrap();
    t.sigprocmask(0, sigmask(SIGSEGV)).unwrap();
    let trap = TrapInfo { trapno: 14, err: 6, cr2: 0x1234 };
    t.force_fault(&p, SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0x1234), trap);
    assert_eq!(t.blocked(), 0);
    assert_eq!(next(&p, &t), Some(Disposition::Terminate { sig: SIGSEGV, core: true }));
    assert_eq!(t.inner.lock().trap, trap);
    // Ignored SIGBUS: reset to default.
    p.sigaction(&t, SIGBUS, Some(SigAction { handler: SIG_IGN, ..SigAction::default() })).unwrap();
    t.force_fault(&p, SigInfo::fault(SIGBUS, 2, 0), TrapInfo::default());
    assert_eq!(next(&p, &t), Some(Disposition::Terminate { sig: SIGBUS, core: true }));
    // With a handler and unblocked: the handler runs.
    p.sigaction(&t, SIGFPE, Some(handler(0x7100))).unwrap();
    t.force_fault(&p, SigInfo::fault(SIGFPE, 1, 0x400000), TrapInfo::default());
    assert_eq!(sig_of(next(&p, &t)), Some(SIGFPE));
}

#[test]
fn process_directed_signals_pick_a_thread() {
    let p = ProcessSignals::new();
    let (a, b, c) = (ThreadSignals::new(), ThreadSignals::new(), ThreadSignals::new());
    p.sigaction(&a, SIGUSR1, Some(handler(0x5000))).unwrap();
    a.sigprocmask(0, sigmask(SIGUSR1)).unwrap();
    b.sigprocmask(0, sigmask(SIGUSR1)).unwrap();
    assert_eq!(post_to_process(&p, &[&a, &b, &c], SigInfo::kill(SIGUSR1, SI_USER, 9)), Some(2));
    // Only c may take it.
    assert!(!a.has_deliverable(&p) && !b.has_deliverable(&p) && c.has_deliverable(&p));
    assert_eq!(next(&p, &a), None);
    assert_eq!(sig_of(next(&p, &c)), Some(SIGUSR1));
    // Everyone blocks: pending, nobody to wake.
    c.sigprocmask(0, sigmask(SIGUSR1)).unwrap();
    assert_eq!(post_to_process(&p, &[&a, &b, &c], SigInfo::kill(SIGUSR1, SI_USER, 9)), None);
    assert_eq!(p.shared_pending(), sigmask(SIGUSR1));
    assert_eq!(post_to_process(&p, &[&a], SigInfo::kill(65, SI_USER, 9)), None);
    assert_eq!(a.post(&p, SigInfo::kill(0, SI_USER, 9)), Posted::Ignored);
}

#[test]
fn init_drops_default_signals_but_not_handled_ones_or_faults() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    p.set_unkillable(true);
    assert_eq!(post_to_process(&p, &[&t], SigInfo::kill(SIGTERM, SI_USER, 5)), None);
    assert_eq!(t.post(&p, SigInfo::kill(SIGKILL, SI_TKILL, 5)), Posted::Ignored);
    p.sigaction(&t, SIGTERM, Some(handler(0x5000))).unwrap();
    assert_eq!(post_to_process(&p, &[&t], SigInfo::kill(SIGTERM, SI_USER, 5)), Some(0));
    assert_eq!(sig_of(next(&p, &t)), Some(SIGTERM));
    t.force_fault(&p, SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0), TrapInfo::default());
    assert_eq!(next(&p, &t), Some(Disposition::Terminate { sig: SIGSEGV, core: true }));
    // A fork child of init is killable.
    let child = p.fork_copy();
    assert_eq!(post_to_process(&child, &[&t], SigInfo::kill(SIGINT, SI_USER, 5)), Some(0));
}

#[test]
fn exec_fork_and_thread_inheritance() {
    let p = ProcessSignals::new();
    let t = ThreadSignals::new();
    p.sigaction(&t, SIGUSR1, Some(handler(0x5000))).unwrap();
    p.sigaction(&t, SIGUSR2, Some(SigAction { handler: SIG_IGN, flags: SA_RESTART, ..SigAction::default() })).unwrap();
    p.sigaction(&t, SIGCHLD, Some(SigAction { handler: SIG_DFL, flags: SA_NOCLDWAIT, ..SigAction::default() }))
        .unwrap();
    assert!(p.reaps_children());
    t.sigprocmask(2, 0b100).unwrap();
    t.sigaltstack(Some(AltStack { sp: 0x9000, size: 8192, flags: 0 }), 0).unwrap();

    let child = p.fork_copy();
    assert_eq!(child.action(SIGUSR1).handler, 0x5000);
    let ct = t.fork_copy();
    assert_eq!((ct.blocked(), ct.altstack().size), (0b100, 8192));
    let nt = t.new_thread();
    assert_eq!((nt.blocked(), nt.altstack()), (0b100, AltStack::DISABLED));

    p.reset_for_exec();
    t.reset_for_exec();
    assert_eq!(p.action(SIGUSR1), SigAction::default());
    assert_eq!(p.action(SIGUSR2), SigAction { handler: SIG_IGN, ..SigAction::default() });
    assert!(!p.reaps_children());
    assert_eq!((t.blocked(), t.altstack()), (0b100, AltStack::DISABLED));
    p.sigaction(&t, SIGCHLD, Some(SigAction { handler: SIG_IGN, ..SigAction::default() })).unwrap();
    assert!(p.reaps_children());
}

#[test]
fn flush_ignored_on_other_threads() {
    let p = ProcessSignals::new();
    let (a, b) = (ThreadSignals::new(), ThreadSignals::new());
    b.sigprocmask(0, sigmask(SIGUSR1)).unwrap();
    b.post(&p, SigInfo::kill(SIGUSR1, SI_TKILL, 1));
    p.sigaction(&a, SIGUSR1, Some(SigAction { handler: SIG_IGN, ..SigAction::default() })).unwrap();
    assert_eq!(b.pending_blocked(&p), sigmask(SIGUSR1));
    b.flush_ignored(&p);
    assert_eq!(b.pending_blocked(&p), 0);
}

#[test]
fn sigaltstack_rules() {
    let t = ThreadSignals::new();
    let disabled = AltStack { sp: 0, size: 0, flags: SS_DISABLE };
    assert_eq!(t.sigaltstack(None, 0x5000), Ok(disabled));
    let bad = |flags, size| t.sigaltstack(Some(AltStack { sp: 0x10000, size, flags }), 0x5000);
    assert_eq!(bad(3, 4096), Err(Errno::EINVAL));
    assert_eq!(bad(4, 4096), Err(Errno::EINVAL));
    assert_eq!(bad(0, 2047), Err(Errno::ENOMEM));
    assert_eq!(bad(SS_ONSTACK, 100), Err(Errno::ENOMEM));
    // SS_DISABLE with any size is fine.
    assert_eq!(bad(SS_DISABLE, 1), Ok(disabled));
    assert_eq!(bad(0, 2048), Ok(disabled));
    // Off the stack: mode 0; on it: SS_ONSTACK, and changing it is EPERM.
    assert_eq!(t.sigaltstack(None, 0x5000), Ok(AltStack { sp: 0x10000, size: 2048, flags: 0 }));
    assert_eq!(t.sigaltstack(None, 0x10800), Ok(AltStack { sp: 0x10000, size: 2048, flags: SS_ONSTACK }));
    assert_eq!(t.sigaltstack(None, 0x10000 + 2048), Ok(AltStack { sp: 0x10000, size: 2048, flags: SS_ONSTACK }));
    assert_eq!(t.sigaltstack(None, 0x10000), Ok(AltStack { sp: 0x10000, size: 2048, flags: 0 }));
    assert_eq!(bad(SS_DISABLE, 0).map(|_| ()), Ok(()));
    t.sigaltstack(Some(AltStack { sp: 0x10000, size: 4096, flags: 0 }), 0).unwrap();
    assert_eq!(t.sigaltstack(Some(disabled), 0x10800), Err(Errno::EPERM));
    // SS_AUTODISARM: reported, and never "on stack".
    t.sigaltstack(Some(AltStack { sp: 0x10000, size: 4096, flags: SS_AUTODISARM }), 0).unwrap();
    assert_eq!(t.sigaltstack(None, 0x10800), Ok(AltStack { sp: 0x10000, size: 4096, flags: SS_AUTODISARM }));
    assert_eq!(t.sigaltstack(Some(disabled), 0x10800).map(|o| o.flags), Ok(SS_AUTODISARM));
    assert_eq!(t.altstack(), disabled);
}

#[test]
fn siginfo_layout() {
    let b = SigInfo::kill(SIGUSR1, SI_TKILL, 0x1234).to_bytes();
    assert_eq!(&b[0..4], &10u32.to_ne_bytes());
    assert_eq!(&b[8..12], &(-6i32).to_ne_bytes());
    assert_eq!(&b[16..20], &0x1234u32.to_ne_bytes());
    let f = SigInfo::fault(SIGSEGV, SEGV_ACCERR, 0xdead_beef_0000).to_bytes();
    assert_eq!(&f[16..24], &0xdead_beef_0000u64.to_ne_bytes());
    let c = SigInfo {
        signo: SIGCHLD,
        errno: 0,
        code: CLD_EXITED,
        fields: SigFields::Child { pid: 5, uid: 0, status: 3, utime: 7, stime: 9 },
    }
    .to_bytes();
    assert_eq!(
        (&c[16..20], &c[24..28], &c[32..40], &c[40..48]),
        (&5u32.to_ne_bytes()[..], &3i32.to_ne_bytes()[..], &7i64.to_ne_bytes()[..], &9i64.to_ne_bytes()[..])
    );
    let q = SigInfo { signo: 40, errno: 0, code: SI_QUEUE, fields: SigFields::Queue { pid: 1, uid: 2, value: 77 } }
        .to_bytes();
    assert_eq!(&q[24..32], &77u64.to_ne_bytes());
    assert!(b[24..].iter().all(|&x| x == 0));
}
