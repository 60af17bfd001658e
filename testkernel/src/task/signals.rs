//! Wiring of the signal code (`proc::signal`, `proc::sigframe`) into tasks: sending to a
//! process or thread (and waking it), delivery at the return to user mode, and the
//! [`SignalHost`] the kill syscalls use.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::process::{self, Process};
use super::task::Task;
use super::{exit, sched};
use crate::arch::trap::TrapFrame;
use crate::mm::UserSpace;
use crate::proc::sigframe::{self, Delivery};
use crate::proc::signal::SIGCHLD;
use crate::proc::signal::{post_to_process, wait_status_for_signal, SigInfo, ThreadSignals, CLD_EXITED, CLD_KILLED};
use crate::syscall::ids::{JobHost, JobIds, JobTarget};
use crate::syscall::signal::SignalHost;

/// The live threads of `p`, main thread first.
pub fn threads_of(p: &Arc<Process>) -> Vec<Arc<Task>> {
    let mut ts: Vec<Arc<Task>> = sched::all_tasks().into_iter().filter(|t| Arc::ptr_eq(&t.process, p)).collect();
    ts.sort_by_key(|t| u32::from(t.tid != p.pid));
    ts
}

/// Posts a process-directed signal and wakes the thread chosen to take it.
pub fn send_to_process(p: &Arc<Process>, info: SigInfo) {
    let ts = threads_of(p);
    let sigs: Vec<&ThreadSignals> = ts.iter().map(|t| &t.signals).collect();
    if let Some(i) = post_to_process(&p.signals, &sigs, info) {
        if let Some(t) = ts.get(i) {
            sched::wake_task(t);
        }
    }
}

/// Posts a thread-directed signal and wakes the thread.
pub fn send_to_thread(t: &Arc<Task>, info: SigInfo) {
    t.signals.post(&t.process.signals, info);
    sched::wake_task(t);
}

/// SIGCHLD to `parent` for child `pid` that ended with wait status `status`.
pub fn notify_parent(parent: &Arc<Process>, pid: u32, status: i32) {
    let code = if status & 0x7f == 0 { CLD_EXITED } else { CLD_KILLED };
    send_to_process(parent, SigInfo::kill(SIGCHLD, code, pid));
}

/// Delivers pending signals before a return to user mode: builds handler frames in `f`,
/// or ends the process for a fatal one.
pub fn deliver_pending(f: &mut TrapFrame) {
    let me = sched::current();
    if me.kernel_only || !me.signals.has_deliverable(&me.process.signals) {
        return;
    }
    let Some(mm) = me.process.mm() else { return };
    let fpu = me.fpu_snapshot();
    match sigframe::deliver(&me.process.signals, &me.signals, f, &UserSpace(&mm), Some(fpu.bytes())) {
        Delivery::None | Delivery::Handler => {}
        Delivery::Terminate { sig, core } => {
            let status = wait_status_for_signal(sig, core) as i32;
            drop(mm);
            drop(me);
            exit::exit_group(status);
        }
    }
}

/// `rt_sigreturn` for the running task: restores the registers (and FPU state) saved in
/// the signal frame; returns the value for `rax`.
pub fn sigreturn(f: &mut TrapFrame) -> u64 {
    let me = sched::current();
    let Some(mm) = me.process.mm() else { return 0 };
    let mut fpu = me.fpu_snapshot();
    let (rax, restored) =
        sigframe::rt_sigreturn(&me.process.signals, &me.signals, f, &UserSpace(&mm), Some(fpu.bytes_mut()));
    if restored {
        me.set_fpu(fpu);
    }
    rax
}

/// Every process with a live thread, by pid (the kernel's own excluded).
pub fn live_processes() -> Vec<Arc<Process>> {
    let mut v: Vec<Arc<Process>> = Vec::new();
    for t in sched::all_tasks() {
        if t.process.pid != 0 && !v.iter().any(|p| Arc::ptr_eq(p, &t.process)) {
            v.push(t.process.clone());
        }
    }
    v.sort_by_key(|p| p.pid);
    v
}

/// Process groups and sessions as `setpgid`/`getpgid`/`setsid` see them.
pub struct KernelJobHost {
    /// The caller's pid.
    pub caller: u32,
}

impl JobHost for KernelJobHost {
    fn caller_pid(&self) -> u32 {
        self.caller
    }

    fn with_process(&self, pid: u32, f: &mut dyn FnMut(&JobIds, JobTarget)) -> bool {
        let Some(p) = process::by_pid(pid).filter(|p| p.pid != 0 && p.exit.lock().zombie.is_none()) else {
            return false;
        };
        let parent = p.parent().map_or(0, |pp| pp.pid);
        f(&p.job, JobTarget { parent, execed: p.execed.load(core::sync::atomic::Ordering::Relaxed) });
        true
    }

    fn group_in_session(&self, pgid: u32, sid: u32) -> bool {
        live_processes().iter().any(|p| p.job.pgid() == pgid && p.job.sid() == sid)
    }

    fn group_exists(&self, pgid: u32) -> bool {
        live_processes().iter().any(|p| p.job.pgid() == pgid)
    }
}

/// The process table as the kill syscalls see it.
pub struct KernelSignalHost {
    /// The caller's pid.
    pub caller: u32,
}

impl SignalHost for KernelSignalHost {
    fn caller_pid(&self) -> u32 {
        self.caller
    }

    fn caller_pgid(&self) -> u32 {
        process::by_pid(self.caller).map_or(0, |p| p.job.pgid())
    }

    fn process_exists(&self, pid: u32) -> bool {
        pid != 0 && process::by_pid(pid).is_some()
    }

    fn thread_group_of(&self, tid: u32) -> Option<u32> {
        sched::task_by_tid(tid).map(|t| t.process.pid)
    }

    fn processes_in_group(&self, pgid: u32) -> Vec<u32> {
        live_processes().into_iter().filter(|p| p.job.pgid() == pgid).map(|p| p.pid).collect()
    }

    fn all_processes(&self) -> Vec<u32> {
        live_processes().iter().map(|p| p.pid).collect()
    }

    fn send_to_process(&self, pid: u32, info: SigInfo) {
        if let Some(p) = process::by_pid(pid) {
            send_to_process(&p, info);
        }
    }

    fn send_to_thread(&self, tid: u32, info: SigInfo) {
        if let Some(t) = sched::task_by_tid(tid) {
            send_to_thread(&t, info);
        }
    }
}
