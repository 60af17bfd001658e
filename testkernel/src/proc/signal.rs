//! Signals: numbers, `sigaction` table, blocked masks, pending queues, default actions,
//! alternate stacks, and the choice of what a thread does with its next signal.
//!
//! State is split as in Linux: [`ProcessSignals`] (one per process, shared by its threads:
//! the action table and the process-wide pending queue — Linux's `sighand_struct` +
//! `signal_struct.shared_pending`) and [`ThreadSignals`] (one per thread: blocked mask,
//! private pending queue, alternate stack, last fault registers). Each has its own lock;
//! when both are taken, the process lock is taken first.
//!
//! What kcore does with this:
//! - sending: [`post_to_process`] (process-directed: `kill`, SIGCHLD) returns the thread to
//!   wake; [`ThreadSignals::post`] (thread-directed: `tgkill`, faults) — then wake the
//!   target (`Scheduler::wake`) so a sleep returns `EINTR`;
//! - `Scheduler::signal_pending` = [`ThreadSignals::has_deliverable`];
//! - a user fault: [`ThreadSignals::force_fault`], then the return-to-user path;
//! - at every return to user mode: `proc::sigframe::deliver` (handler frame or death),
//!   then [`ThreadSignals::restore_saved_mask`];
//! - fork: [`ProcessSignals::fork_copy`] + [`ThreadSignals::fork_copy`]; a new thread:
//!   [`ThreadSignals::new_thread`]; execve: [`ProcessSignals::reset_for_exec`] +
//!   [`ThreadSignals::reset_for_exec`].
//!
//! Stop signals (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) have no job control here: their default
//! action is treated as "ignore" (SIGCONT's "continue" is also just "ignore").
//!
//! Reference: kernel/signal.c (`do_sigaction`, `sigprocmask`, `do_sigaltstack`,
//! `next_signal`, `dequeue_signal`, `get_signal`, `sig_ignored`, `force_sig_info_to_task`,
//! `complete_signal`, `flush_signal_handlers`), include/linux/signal.h (`sig_kernel_*`
//! masks), include/uapi/asm-generic/siginfo.h.

use alloc::vec::Vec;

use spin::Mutex;
use syscall_abi::Errno;

pub use crate::proc::siginfo::*;
use crate::KResult;

/// Number of signals (`_NSIG`): valid signals are 1..=64.
pub const NSIG: u32 = 64;
/// `SIGHUP`.
pub const SIGHUP: u32 = 1;
/// `SIGINT`.
pub const SIGINT: u32 = 2;
/// `SIGQUIT`.
pub const SIGQUIT: u32 = 3;
/// `SIGILL`.
pub const SIGILL: u32 = 4;
/// `SIGTRAP`.
pub const SIGTRAP: u32 = 5;
/// `SIGABRT`.
pub const SIGABRT: u32 = 6;
/// `SIGBUS`.
pub const SIGBUS: u32 = 7;
/// `SIGFPE`.
pub const SIGFPE: u32 = 8;
/// `SIGKILL`.
pub const SIGKILL: u32 = 9;
/// `SIGUSR1`.
pub const SIGUSR1: u32 = 10;
/// `SIGSEGV`.
pub const SIGSEGV: u32 = 11;
/// `SIGUSR2`.
pub const SIGUSR2: u32 = 12;
/// `SIGPIPE`.
pub const SIGPIPE: u32 = 13;
/// `SIGALRM`.
pub const SIGALRM: u32 = 14;
/// `SIGTERM`.
pub const SIGTERM: u32 = 15;
/// `SIGCHLD`.
pub const SIGCHLD: u32 = 17;
/// `SIGCONT`.
pub const SIGCONT: u32 = 18;
/// `SIGSTOP`.
pub const SIGSTOP: u32 = 19;
/// `SIGTSTP`.
pub const SIGTSTP: u32 = 20;
/// `SIGURG`.
pub const SIGURG: u32 = 23;
/// `SIGWINCH`.
pub const SIGWINCH: u32 = 28;
/// `SIGSYS`.
pub const SIGSYS: u32 = 31;
/// `SIGRTMIN` as the kernel defines it (libc reserves the first few for itself).
pub const SIGRTMIN: u32 = 32;

/// `SIG_DFL` handler value.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN` handler value.
pub const SIG_IGN: u64 = 1;

/// `SA_NOCLDSTOP`.
pub const SA_NOCLDSTOP: u64 = 0x1;
/// `SA_NOCLDWAIT`.
pub const SA_NOCLDWAIT: u64 = 0x2;
/// `SA_SIGINFO`.
pub const SA_SIGINFO: u64 = 0x4;
/// `SA_RESTORER` (x86_64 libcs always pass it with their `__restore_rt`).
pub const SA_RESTORER: u64 = 0x0400_0000;
/// `SA_ONSTACK`.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// `SA_RESTART`.
pub const SA_RESTART: u64 = 0x1000_0000;
/// `SA_NODEFER`.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// `SA_RESETHAND`.
pub const SA_RESETHAND: u64 = 0x8000_0000;
/// The flags Linux keeps (`UAPI_SA_FLAGS` on x86_64); others are cleared so that user space
/// can probe for support (`SA_UNSUPPORTED`).
pub const UAPI_SA_FLAGS: u64 =
    SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | SA_RESTORER;

/// `SS_ONSTACK`.
pub const SS_ONSTACK: u32 = 1;
/// `SS_DISABLE`.
pub const SS_DISABLE: u32 = 2;
/// `SS_AUTODISARM`: the alternate stack is disabled while a handler runs on it.
pub const SS_AUTODISARM: u32 = 1 << 31;
/// `MINSIGSTKSZ` on x86_64: smaller alternate stacks are `ENOMEM`.
pub const MINSIGSTKSZ: u64 = 2048;

/// A signal set: bit `sig - 1` for signal `sig` (the kernel `sigset_t` on x86_64).
pub type SigSet = u64;

/// The bit of `sig` in a [`SigSet`] (0 for an invalid signal).
pub const fn sigmask(sig: u32) -> SigSet {
    if sig == 0 || sig > NSIG {
        0
    } else {
        1 << (sig - 1)
    }
}

/// SIGKILL and SIGSTOP: never blocked, caught or ignored.
pub const UNBLOCKABLE: SigSet = sigmask(SIGKILL) | sigmask(SIGSTOP);
/// Signals delivered before others when several are pending (Linux's `SYNCHRONOUS_MASK`).
const SYNCHRONOUS: SigSet =
    sigmask(SIGSEGV) | sigmask(SIGBUS) | sigmask(SIGILL) | sigmask(SIGTRAP) | sigmask(SIGFPE) | sigmask(SIGSYS);
/// At most this many queued `siginfo`s per pending queue; past it, a signal is still marked
/// pending but its details are lost (Linux bounds the queue by `RLIMIT_SIGPENDING`).
const MAX_QUEUED: usize = 1024;

/// Whether `sig` is a valid signal number (1..=64).
pub fn valid_signal(sig: u32) -> bool {
    (1..=NSIG).contains(&sig)
}

/// What `SIG_DFL` does for a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the process.
    Term,
    /// Terminate the process, reported as having dumped core.
    Core,
    /// Nothing.
    Ignore,
    /// Stop the process (treated as [`DefaultAction::Ignore`]: no job control here).
    Stop,
    /// Continue a stopped process (nothing to do here).
    Continue,
}

/// The default action of `sig` (signal(7)); real-time signals terminate.
pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | 24 | 25 | SIGSYS => DefaultAction::Core,
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | SIGTSTP | 21 | 22 => DefaultAction::Stop,
        _ => DefaultAction::Term,
    }
}

/// The `wait` status of a process killed by `sig` (`WTERMSIG`), with the `WCOREDUMP` bit
/// (0x80) for core-dumping signals. (This kernel writes no core file; Linux sets the bit
/// only when a dump was written, which `RLIMIT_CORE` 0 prevents — the lead chose to report
/// the bit for every core signal.)
pub fn wait_status_for_signal(sig: u32, core: bool) -> u32 {
    (sig & 0x7f) | if core { 0x80 } else { 0 }
}

/// One entry of the action table (the kernel's x86_64 `struct sigaction`: handler, flags,
/// restorer, mask — 32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SigAction {
    /// Handler address, or [`SIG_DFL`] / [`SIG_IGN`].
    pub handler: u64,
    /// `SA_*` flags (only [`UAPI_SA_FLAGS`] are kept).
    pub flags: u64,
    /// Address of the `rt_sigreturn` trampoline (`SA_RESTORER`).
    pub restorer: u64,
    /// Signals blocked while the handler runs.
    pub mask: SigSet,
}

impl SigAction {
    /// Decodes the 32-byte kernel layout.
    pub fn from_words(w: [u64; 4]) -> Self {
        SigAction { handler: w[0], flags: w[1], restorer: w[2], mask: w[3] }
    }

    /// The 32-byte kernel layout.
    pub fn to_words(self) -> [u64; 4] {
        [self.handler, self.flags, self.restorer, self.mask]
    }

    /// Whether this action discards `sig` (Linux's `sig_handler_ignored`).
    fn ignores(&self, sig: u32) -> bool {
        self.handler == SIG_IGN
            || (self.handler == SIG_DFL
                && matches!(default_action(sig), DefaultAction::Ignore | DefaultAction::Continue | DefaultAction::Stop))
    }
}

/// A pending set with the queued details (Linux's `struct sigpending`): standard signals
/// (1..31) are pending at most once; real-time ones queue every instance.
#[derive(Clone, Debug, Default)]
struct PendingQueue {
    mask: SigSet,
    queue: Vec<SigInfo>,
}

impl PendingQueue {
    /// Queues `info`; false when a standard signal was already pending (coalesced).
    fn post(&mut self, info: SigInfo) -> bool {
        let bit = sigmask(info.signo);
        if info.signo < SIGRTMIN && self.mask & bit != 0 {
            return false;
        }
        if self.queue.len() < MAX_QUEUED {
            self.queue.push(info);
        }
        self.mask |= bit;
        true
    }

    /// Removes the oldest instance of `sig` (a bare `SI_USER` one if its details were lost).
    fn take(&mut self, sig: u32) -> SigInfo {
        let info = match self.queue.iter().position(|i| i.signo == sig) {
            Some(at) => self.queue.remove(at),
            None => SigInfo { signo: sig, errno: 0, code: SI_USER, fields: SigFields::None },
        };
        if !self.queue.iter().any(|i| i.signo == sig) {
            self.mask &= !sigmask(sig);
        }
        info
    }

    /// Drops every instance of the signals in `set`.
    fn flush(&mut self, set: SigSet) {
        self.mask &= !set;
        self.queue.retain(|i| sigmask(i.signo) & set == 0);
    }
}

/// The signal to take next from `pending & !blocked`: synchronous (fault) signals first,
/// then the lowest number (Linux's `next_signal`).
fn next_signal(pending: SigSet, blocked: SigSet) -> Option<u32> {
    let ready = pending & !blocked;
    let pick = if ready & SYNCHRONOUS != 0 { ready & SYNCHRONOUS } else { ready };
    if pick == 0 {
        None
    } else {
        Some(pick.trailing_zeros() + 1)
    }
}

/// Whether a post queued the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    /// Queued (or already pending): the target should be woken.
    Queued,
    /// Discarded: ignored by the current action (Linux's `sig_ignored`).
    Ignored,
}

struct ProcessState {
    actions: [SigAction; 64],
    shared: PendingQueue,
    /// Linux's `SIGNAL_UNKILLABLE` (init): signals whose action is `SIG_DFL` are dropped
    /// unless the kernel forces them.
    unkillable: bool,
}

/// Process-wide signal state: the action table and the shared pending queue.
pub struct ProcessSignals {
    inner: Mutex<ProcessState>,
}

impl Default for ProcessSignals {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessSignals {
    /// Every action `SIG_DFL`, nothing pending.
    pub fn new() -> Self {
        ProcessSignals {
            inner: Mutex::new(ProcessState {
                actions: [SigAction::default(); 64],
                shared: PendingQueue::default(),
                unkillable: false,
            }),
        }
    }

    /// The state of a `fork` child: same actions, nothing pending, killable.
    pub fn fork_copy(&self) -> Self {
        let s = self.inner.lock();
        ProcessSignals {
            inner: Mutex::new(ProcessState { actions: s.actions, shared: PendingQueue::default(), unkillable: false }),
        }
    }

    /// Marks the process as init: user signals it has no handler for are discarded
    /// (kernel-forced fault signals still kill it).
    pub fn set_unkillable(&self, on: bool) {
        self.inner.lock().unkillable = on;
    }

    /// The action of `sig` (`SIG_DFL` for an invalid number).
    pub fn action(&self, sig: u32) -> SigAction {
        let idx = usize::try_from(sig.wrapping_sub(1)).unwrap_or(usize::MAX);
        self.inner.lock().actions.get(idx).copied().unwrap_or_default()
    }

    /// `sigaction`: returns the old action and installs `new` when given. `EINVAL` for an
    /// invalid signal or for changing SIGKILL/SIGSTOP. Unknown flag bits are cleared,
    /// SIGKILL/SIGSTOP removed from the mask, and a pending instance of a signal that is
    /// now ignored is discarded from the shared queue and from `thread`'s (Linux flushes
    /// every thread's; kcore may call [`ThreadSignals::flush_ignored`] on the others).
    pub fn sigaction(&self, thread: &ThreadSignals, sig: u32, new: Option<SigAction>) -> KResult<SigAction> {
        if !valid_signal(sig) || (new.is_some() && sigmask(sig) & UNBLOCKABLE != 0) {
            return Err(Errno::EINVAL);
        }
        let idx = usize::try_from(sig - 1).map_err(|_| Errno::EINVAL)?;
        let mut s = self.inner.lock();
        let old = s.actions[idx];
        if let Some(mut new) = new {
            new.flags &= UAPI_SA_FLAGS;
            new.mask &= !UNBLOCKABLE;
            s.actions[idx] = new;
            if new.ignores(sig) {
                s.shared.flush(sigmask(sig));
                thread.inner.lock().pending.flush(sigmask(sig));
            }
        }
        Ok(SigAction { flags: old.flags & UAPI_SA_FLAGS, ..old })
    }

    /// `execve`: caught signals revert to `SIG_DFL` (ignored ones stay ignored), flags,
    /// masks and restorers are cleared (Linux's `flush_signal_handlers(t, 0)`).
    pub fn reset_for_exec(&self) {
        for a in self.inner.lock().actions.iter_mut() {
            let handler = if a.handler == SIG_IGN { SIG_IGN } else { SIG_DFL };
            *a = SigAction { handler, ..SigAction::default() };
        }
    }

    /// Whether exiting children are reaped at once instead of becoming zombies (SIGCHLD
    /// ignored with `SIG_IGN`, or `SA_NOCLDWAIT`): wait4 then returns `ECHILD`.
    pub fn reaps_children(&self) -> bool {
        let a = self.action(SIGCHLD);
        a.handler == SIG_IGN || a.flags & SA_NOCLDWAIT != 0
    }

    /// Signals pending for the whole process.
    pub fn shared_pending(&self) -> SigSet {
        self.inner.lock().shared.mask
    }
}

/// An alternate signal stack (`stack_t` as the thread holds it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    /// Base (lowest address).
    pub sp: u64,
    /// Size in bytes (0 = disabled).
    pub size: u64,
    /// Flags as last set (`SS_DISABLE`, `SS_ONSTACK`, `SS_AUTODISARM`).
    pub flags: u32,
}

impl AltStack {
    /// No alternate stack.
    pub const DISABLED: AltStack = AltStack { sp: 0, size: 0, flags: SS_DISABLE };

    /// Whether `sp` is inside the stack, ignoring `SS_AUTODISARM` (`__on_sig_stack`).
    pub fn contains(&self, sp: u64) -> bool {
        sp > self.sp && sp - self.sp <= self.size
    }

    /// Whether the thread runs on the alternate stack (`on_sig_stack`: never with
    /// `SS_AUTODISARM`).
    pub fn on_stack(&self, sp: u64) -> bool {
        self.flags & SS_AUTODISARM == 0 && self.contains(sp)
    }

    /// The `ss_flags` `sigaltstack` reports for user stack pointer `sp` (`sas_ss_flags`).
    pub fn mode(&self, sp: u64) -> u32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.on_stack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }
}

/// Registers of the last fault, for the signal frame's `trapno`/`err`/`cr2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapInfo {
    /// Exception vector (14 for a page fault).
    pub trapno: u64,
    /// Error code pushed by the CPU.
    pub err: u64,
    /// Faulting address (page faults).
    pub cr2: u64,
}

pub(crate) struct ThreadState {
    pub(crate) blocked: SigSet,
    pending: PendingQueue,
    pub(crate) altstack: AltStack,
    pub(crate) trap: TrapInfo,
    /// The mask to restore after a temporary one (Linux's `saved_sigmask` with
    /// `TIF_RESTORE_SIGMASK`).
    pub(crate) saved: Option<SigSet>,
}

impl ThreadState {
    /// Signals blocked now or by the mask a temporary one replaced (Linux checks both
    /// `blocked` and `real_blocked` before discarding an ignored signal).
    fn blocked_or_saved(&self) -> SigSet {
        self.blocked | self.saved.unwrap_or(0)
    }
}

/// Per-thread signal state.
pub struct ThreadSignals {
    pub(crate) inner: Mutex<ThreadState>,
}

impl Default for ThreadSignals {
    fn default() -> Self {
        Self::new()
    }
}

/// What the thread must do with its next signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Run the handler `action` for `info` (the action as it was before `SA_RESETHAND`).
    Handler {
        /// The signal.
        info: SigInfo,
        /// Its action.
        action: SigAction,
    },
    /// The process dies with this signal.
    Terminate {
        /// The signal.
        sig: u32,
        /// Whether the wait status carries `WCOREDUMP`.
        core: bool,
    },
}

impl ThreadSignals {
    /// The first thread of a new process: nothing blocked or pending, no alternate stack.
    pub fn new() -> Self {
        ThreadSignals {
            inner: Mutex::new(ThreadState {
                blocked: 0,
                pending: PendingQueue::default(),
                altstack: AltStack::DISABLED,
                trap: TrapInfo::default(),
                saved: None,
            }),
        }
    }

    /// A new thread (`CLONE_THREAD`/`CLONE_VM`): the creator's blocked mask, nothing
    /// pending, no alternate stack (Linux clears it for `CLONE_VM` without `CLONE_VFORK`).
    pub fn new_thread(&self) -> Self {
        let blocked = self.inner.lock().blocked;
        let t = ThreadSignals::new();
        t.inner.lock().blocked = blocked;
        t
    }

    /// A `fork` child's thread: same blocked mask and alternate stack, nothing pending.
    pub fn fork_copy(&self) -> Self {
        let (blocked, altstack) = {
            let s = self.inner.lock();
            (s.blocked, s.altstack)
        };
        let t = ThreadSignals::new();
        {
            let mut s = t.inner.lock();
            s.blocked = blocked;
            s.altstack = altstack;
        }
        t
    }

    /// `execve`: the alternate stack is removed; mask and pending signals survive.
    pub fn reset_for_exec(&self) {
        self.inner.lock().altstack = AltStack::DISABLED;
    }

    /// The blocked mask.
    pub fn blocked(&self) -> SigSet {
        self.inner.lock().blocked
    }

    /// Replaces the blocked mask (SIGKILL/SIGSTOP are never blocked); returns the old one.
    pub fn set_blocked(&self, mask: SigSet) -> SigSet {
        let mut s = self.inner.lock();
        core::mem::replace(&mut s.blocked, mask & !UNBLOCKABLE)
    }

    /// Installs a temporary mask until the next return to user mode (`rt_sigsuspend`,
    /// `ppoll`, `pselect6`, `epoll_pwait`): a handler frame built then saves the mask from
    /// before (so the handler's `rt_sigreturn` restores it), and otherwise kcore's
    /// [`ThreadSignals::restore_saved_mask`] puts it back.
    pub fn set_temporary_mask(&self, mask: SigSet) {
        let mut s = self.inner.lock();
        let before = s.saved.unwrap_or(s.blocked);
        s.saved = Some(before);
        s.blocked = mask & !UNBLOCKABLE;
    }

    /// kcore calls this on every return to user mode after `proc::sigframe::deliver`: puts
    /// back a mask saved by [`ThreadSignals::set_temporary_mask`] that no handler frame took.
    pub fn restore_saved_mask(&self) {
        let mut s = self.inner.lock();
        if let Some(m) = s.saved.take() {
            s.blocked = m;
        }
    }

    /// `rt_sigprocmask`'s core: `how` is `SIG_BLOCK` (0), `SIG_UNBLOCK` (1) or `SIG_SETMASK`
    /// (2), else `EINVAL`. Returns the old mask.
    pub fn sigprocmask(&self, how: i32, set: SigSet) -> KResult<SigSet> {
        let mut s = self.inner.lock();
        let old = s.blocked;
        let new = match how {
            0 => old | set,
            1 => old & !set,
            2 => set,
            _ => return Err(Errno::EINVAL),
        };
        s.blocked = new & !UNBLOCKABLE;
        Ok(old)
    }

    /// Pending signals that are blocked (`rt_sigpending`: thread's and process's).
    pub fn pending_blocked(&self, process: &ProcessSignals) -> SigSet {
        let shared = process.inner.lock().shared.mask;
        let s = self.inner.lock();
        (s.pending.mask | shared) & s.blocked
    }

    /// Whether a signal is pending and not blocked: what interrupts sleeps
    /// (`Scheduler::signal_pending`) and makes the return to user mode call `deliver`.
    pub fn has_deliverable(&self, process: &ProcessSignals) -> bool {
        let shared = process.inner.lock().shared.mask;
        let s = self.inner.lock();
        (s.pending.mask | shared) & !s.blocked != 0
    }

    /// Whether this thread accepts `sig` now (not blocked): kcore's choice of the thread
    /// that handles a process-directed signal.
    pub fn accepts(&self, sig: u32) -> bool {
        self.inner.lock().blocked & sigmask(sig) == 0
    }

    /// Posts a thread-directed signal (`tgkill`, `tkill`). Ignored signals that are not
    /// blocked are discarded, as are user signals to an unkillable (init) process without
    /// a handler. Invalid numbers are ignored.
    pub fn post(&self, process: &ProcessSignals, info: SigInfo) -> Posted {
        if !valid_signal(info.signo) {
            return Posted::Ignored;
        }
        let p = process.inner.lock();
        let mut s = self.inner.lock();
        if discard(&p, s.blocked_or_saved(), &info) {
            return Posted::Ignored;
        }
        s.pending.post(info);
        Posted::Queued
    }

    /// Removes pending instances of signals the process now ignores (the part of
    /// `sigaction` that Linux applies to every thread of the process).
    pub fn flush_ignored(&self, process: &ProcessSignals) {
        let p = process.inner.lock();
        let ignored =
            (1..=NSIG).filter(|&sig| p.actions[(sig - 1) as usize].ignores(sig)).fold(0, |m, s| m | sigmask(s));
        self.inner.lock().pending.flush(ignored);
    }

    /// A synchronous fault signal for this thread (Linux's `force_sig_fault`): the signal is
    /// unblocked and, if it was blocked or ignored, its action reset to `SIG_DFL`, so that a
    /// fault can never be ignored. `trap` fills the signal frame's `trapno`/`err`/`cr2`.
    pub fn force_fault(&self, process: &ProcessSignals, info: SigInfo, trap: TrapInfo) {
        self.force(process, info, false);
        self.inner.lock().trap = trap;
    }

    /// Linux's `force_sig_info_to_task`; with `to_default` (Linux's `force_sigsegv`), the
    /// action is reset even when it has a handler.
    pub(crate) fn force(&self, process: &ProcessSignals, info: SigInfo, to_default: bool) {
        let Ok(idx) = usize::try_from(info.signo.wrapping_sub(1)) else {
            return;
        };
        if idx >= 64 {
            return;
        }
        let mut p = process.inner.lock();
        let mut s = self.inner.lock();
        let bit = sigmask(info.signo);
        let blocked = s.blocked & bit != 0;
        if blocked || p.actions[idx].handler == SIG_IGN || to_default {
            p.actions[idx].handler = SIG_DFL;
            s.blocked &= !bit;
        }
        s.pending.post(info);
    }

    /// Dequeues signals until one needs action (Linux's `get_signal` minus job control):
    /// ignored ones are dropped; a handler returns [`Disposition::Handler`] (resetting the
    /// action first for `SA_RESETHAND`); a fatal default returns
    /// [`Disposition::Terminate`]. `None` when nothing deliverable is pending.
    pub fn next_disposition(&self, process: &ProcessSignals) -> Option<Disposition> {
        let mut p = process.inner.lock();
        let mut s = self.inner.lock();
        loop {
            let blocked = s.blocked;
            let (info, sig) = if let Some(sig) = next_signal(s.pending.mask, blocked) {
                (s.pending.take(sig), sig)
            } else if let Some(sig) = next_signal(p.shared.mask, blocked) {
                (p.shared.take(sig), sig)
            } else {
                return None;
            };
            let idx = usize::try_from(sig - 1).ok()?;
            let action = p.actions[idx];
            if action.handler == SIG_IGN {
                continue;
            }
            if action.handler != SIG_DFL {
                if action.flags & SA_RESETHAND != 0 {
                    p.actions[idx].handler = SIG_DFL;
                }
                return Some(Disposition::Handler { info, action });
            }
            match default_action(sig) {
                DefaultAction::Ignore | DefaultAction::Continue | DefaultAction::Stop => continue,
                DefaultAction::Term => return Some(Disposition::Terminate { sig, core: false }),
                DefaultAction::Core => return Some(Disposition::Terminate { sig, core: true }),
            }
        }
    }

    /// Takes the first pending signal of `set` (thread queue first, then the process's;
    /// synchronous signals and low numbers first), whatever the blocked mask: the core of
    /// `rt_sigtimedwait`.
    pub fn dequeue_from(&self, process: &ProcessSignals, set: SigSet) -> Option<SigInfo> {
        let mut p = process.inner.lock();
        let mut s = self.inner.lock();
        if let Some(sig) = next_signal(s.pending.mask, !set) {
            return Some(s.pending.take(sig));
        }
        next_signal(p.shared.mask, !set).map(|sig| p.shared.take(sig))
    }

    /// The alternate stack.
    pub fn altstack(&self) -> AltStack {
        self.inner.lock().altstack
    }

    /// `sigaltstack`'s core (Linux's `do_sigaltstack`) for a thread whose user stack pointer
    /// is `sp`: returns the old stack as reported (`ss_flags` = mode for `sp` plus
    /// `SS_AUTODISARM`), and installs `new` when given: `EPERM` while running on the
    /// alternate stack, `EINVAL` for a mode other than 0, `SS_ONSTACK`, `SS_DISABLE`
    /// (besides `SS_AUTODISARM`), `ENOMEM` for a size below [`MINSIGSTKSZ`].
    pub fn sigaltstack(&self, new: Option<AltStack>, sp: u64) -> KResult<AltStack> {
        let mut s = self.inner.lock();
        let cur = s.altstack;
        let old = AltStack { sp: cur.sp, size: cur.size, flags: cur.mode(sp) | (cur.flags & SS_AUTODISARM) };
        if let Some(new) = new {
            if cur.on_stack(sp) {
                return Err(Errno::EPERM);
            }
            let mode = new.flags & !SS_AUTODISARM;
            if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
                return Err(Errno::EINVAL);
            }
            if new == cur {
                return Ok(old);
            }
            s.altstack = if mode == SS_DISABLE {
                AltStack { sp: 0, size: 0, flags: new.flags }
            } else if new.size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            } else {
                new
            };
        }
        Ok(old)
    }
}

/// Whether a signal posted to a process or thread is dropped at once (Linux's
/// `sig_ignored`/`sig_task_ignored`): never while blocked (the action may change before it
/// is unblocked), except that init drops user signals it has no handler for.
fn discard(p: &ProcessState, blocked: SigSet, info: &SigInfo) -> bool {
    let Some(action) = usize::try_from(info.signo.wrapping_sub(1)).ok().and_then(|i| p.actions.get(i)) else {
        return true;
    };
    if p.unkillable && action.handler == SIG_DFL {
        return true;
    }
    blocked & sigmask(info.signo) == 0 && action.ignores(info.signo)
}

/// Posts a process-directed signal (`kill`, SIGCHLD): queued on the shared queue unless
/// discarded (see [`ThreadSignals::post`]; the first thread's mask decides "blocked", as
/// Linux uses the thread group leader's). Returns the index in `threads` of the thread to
/// wake: the first that does not block the signal (Linux's `complete_signal`), or `None`
/// when discarded or every thread blocks it.
pub fn post_to_process(process: &ProcessSignals, threads: &[&ThreadSignals], info: SigInfo) -> Option<usize> {
    if !valid_signal(info.signo) {
        return None;
    }
    {
        let mut p = process.inner.lock();
        let leader_blocked = threads.first().map_or(0, |t| t.inner.lock().blocked_or_saved());
        if discard(&p, leader_blocked, &info) {
            return None;
        }
        p.shared.post(info);
    }
    threads.iter().position(|t| t.accepts(info.signo))
}

#[cfg(test)]
#[path = "signal_tests.rs"]
mod tests;
