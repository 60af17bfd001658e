//! Tasks and processes: [`Task`] (a thread), [`Process`], the scheduler, and the paths
//! every return to user mode and every user-mode exception take.

pub mod process;
pub mod sched;
pub mod task;

pub use process::Process;
pub use task::Task;

use crate::arch::trap::{TrapFrame, UserFault};

/// Called before every return to user mode (after a syscall or an interrupt from user
/// mode): runs other tasks when the time slice ended.
pub fn return_to_user(_f: &mut TrapFrame) {
    if sched::need_resched() {
        sched::schedule();
    }
}

/// A user-mode exception (interrupts enabled).
pub fn user_fault(f: &mut TrapFrame, fault: UserFault) {
    log::warn!(
        "{}: user {} at ip {:#x} sp {:#x} error {:#x} cr2 {:#x}",
        sched::current().process.pid,
        crate::arch::trap::exception_name(fault.vector),
        f.rip,
        f.rsp,
        fault.error_code,
        fault.cr2
    );
    crate::arch::trap::dump(&mut crate::arch::serial::SerialWriter, f, fault.cr2);
    sched::exit_current();
}

/// Whether the running task has a signal pending that interrupts sleeps.
pub fn signal_pending_current() -> bool {
    false
}
