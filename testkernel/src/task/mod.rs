//! Tasks and processes: [`Task`] (a thread), [`Process`], the scheduler, `clone`,
//! `execve`, exit and `wait4`, and the paths every return to user mode and every
//! user-mode exception take.

pub mod bpf_glue;
pub mod exec;
pub mod exit;
pub mod fork;
pub mod process;
pub mod procsource;
pub mod sched;
pub mod signals;
pub mod task;
pub mod wait;

pub use process::Process;
pub use task::Task;

use crate::arch::trap::{vector, TrapFrame, UserFault};
use crate::mm::Fault;
use crate::proc::signal::{SigInfo, TrapInfo, SEGV_ACCERR, SEGV_MAPERR};

/// `SIGILL`.
pub const SIGILL: i32 = 4;
/// `SIGTRAP`.
pub const SIGTRAP: i32 = 5;
/// `SIGBUS`.
pub const SIGBUS: i32 = 7;
/// `SIGFPE`.
pub const SIGFPE: i32 = 8;
/// `SIGKILL`.
pub const SIGKILL: i32 = 9;
/// `SIGSEGV`.
pub const SIGSEGV: i32 = 11;

/// Called before every return to user mode (after a syscall or an interrupt from user
/// mode): runs other tasks when the time slice ended, ends the thread when its process is
/// exiting, and delivers pending signals.
pub fn return_to_user(f: &mut TrapFrame) {
    if sched::need_resched() {
        sched::schedule();
    }
    let me = sched::current();
    if me.exec_killed.load(core::sync::atomic::Ordering::Relaxed) {
        drop(me);
        exit::exit_thread(0);
    }
    let group = me.process.exit.lock().group_exit;
    if let Some(status) = group {
        drop(me);
        exit::exit_thread(status);
    }
    drop(me);
    signals::deliver_pending(f);
}

/// A user-mode exception (interrupts enabled): page faults go to the address space;
/// what it cannot resolve, and every other exception, becomes the signal Linux sends
/// (forced: a blocked or ignored fault signal still kills), delivered on the way back to
/// user mode. An unhandled one is reported like Linux's `show_unhandled_signals`.
pub fn user_fault(f: &mut TrapFrame, fault: UserFault) {
    let me = sched::current();
    let p = me.process.clone();
    let (sig, code, addr) = if fault.vector == vector::PF {
        let write = fault.error_code & 2 != 0;
        let exec = fault.error_code & 0x10 != 0;
        let res = match p.mm() {
            Some(mm) => mm.lock().handle_fault(fault.cr2, write, exec),
            None => Err(Fault::Unmapped),
        };
        match res {
            Ok(()) => return,
            Err(Fault::Bus) => (SIGBUS, 2, fault.cr2),
            Err(Fault::OutOfMemory) => {
                log::warn!("Out of memory: Killed process {} ({})", p.pid, p.comm.lock());
                (SIGKILL, 0x80, 0)
            }
            Err(Fault::Protection) => (SIGSEGV, SEGV_ACCERR, fault.cr2),
            Err(Fault::Unmapped) => (SIGSEGV, SEGV_MAPERR, fault.cr2),
        }
    } else {
        match fault.vector {
            // FPE_INTDIV, TRAP_BRKPT, ILL_ILLOPN, BUS_ADRALN, SI_KERNEL.
            vector::DE => (SIGFPE, 1, f.rip),
            vector::MF | vector::XM | vector::NM => (SIGFPE, 0x80, f.rip),
            vector::DB | vector::BP => (SIGTRAP, 1, f.rip),
            vector::UD => (SIGILL, 2, f.rip),
            vector::AC => (SIGBUS, 1, f.rip),
            _ => (SIGSEGV, 0x80, 0),
        }
    };
    let unhandled = p.signals.action(sig as u32).handler == 0;
    if unhandled {
        let comm = p.comm.lock().clone();
        let place = p.mm().and_then(|mm| mm.lock().ip_location(f.rip)).unwrap_or_default();
        let place = if place.is_empty() { alloc::string::String::new() } else { alloc::format!(" in {place}") };
        if fault.vector == vector::PF {
            log::warn!(
                "{comm}[{}]: segfault at {:x} ip {:016x} sp {:016x} error {:x}{place}",
                me.tid,
                fault.cr2,
                f.rip,
                f.rsp,
                fault.error_code
            );
        } else {
            log::warn!(
                "traps: {comm}[{}] trap {} ip:{:x} sp:{:x} error:{:x}{place}",
                me.tid,
                crate::arch::trap::exception_name(fault.vector),
                f.rip,
                f.rsp,
                fault.error_code
            );
        }
    }
    let info = SigInfo::fault(sig as u32, code, addr);
    me.signals.force_fault(&p.signals, info, TrapInfo { trapno: fault.vector, err: fault.error_code, cr2: fault.cr2 });
}

/// Whether the running task has a signal pending that interrupts sleeps (or its process
/// is exiting).
pub fn signal_pending_current() -> bool {
    let me = sched::current();
    let exiting = me.process.exit.lock().group_exit.is_some();
    exiting
        || me.exec_killed.load(core::sync::atomic::Ordering::Relaxed)
        || (!me.kernel_only && me.signals.has_deliverable(&me.process.signals))
}
