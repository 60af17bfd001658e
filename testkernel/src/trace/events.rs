//! The kernel's static tracepoints, laid out as Linux 6.1's (include/trace/events/sched.h):
//! `sched/sched_switch`, `sched/sched_process_exec`, `sched/sched_process_exit`.
//!
//! The `trace_*` functions cost one relaxed load and a branch while nothing consumes the
//! event; callers that must compute arguments first check [`enabled`](perf_event::trace::Tracepoint::enabled)
//! on the `static` before.

use perf_event::trace::DataLoc;

/// `prev_state` of a task that yielded while runnable (`R`).
pub const TASK_RUNNING: i64 = 0;
/// `prev_state` of a running task that was preempted (`R+`, Linux's `TASK_REPORT_MAX`).
pub const TASK_REPORT_MAX: i64 = 0x100;
/// `prev_state` of a task that blocked (`S`, `TASK_INTERRUPTIBLE`).
pub const TASK_INTERRUPTIBLE: i64 = 0x1;
/// `prev_state` of a task that exited (`Z`, `EXIT_ZOMBIE`).
pub const EXIT_ZOMBIE: i64 = 0x20;
/// The priority every task has (`SCHED_NORMAL`, nice 0: `MAX_RT_PRIO + 20`).
pub const DEFAULT_PRIO: i32 = 120;

perf_event::tracepoint! {
    /// A context switch from `prev` to `next` (Linux `trace_sched_switch`).
    pub fn trace_sched_switch(sched / sched_switch) -> static SCHED_SWITCH, struct SchedSwitch {
        prev_comm: [u8; 16],
        prev_pid: i32 = "pid_t",
        prev_prio: i32 = "int",
        prev_state: i64 = "long",
        next_comm: [u8; 16],
        next_pid: i32 = "pid_t",
        next_prio: i32 = "int",
    }
    print "\"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x0000 | 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0010 | 0x0020 | 0x0040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x0000 | 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0010 | 0x0020 | 0x0040) + 1) << 1) - 1), \"|\", { 0x0001, \"S\" }, { 0x0002, \"D\" }, { 0x0004, \"T\" }, { 0x0008, \"t\" }, { 0x0010, \"X\" }, { 0x0020, \"Z\" }, { 0x0040, \"P\" }, { 0x0080, \"I\" }) : \"R\", REC->prev_state & (((0x0000 | 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0010 | 0x0020 | 0x0040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio";
}

perf_event::tracepoint! {
    /// A successful `execve` (Linux `trace_sched_process_exec`): `filename` as passed.
    pub fn trace_sched_process_exec(sched / sched_process_exec) -> static SCHED_PROCESS_EXEC, struct SchedProcessExec {
        filename: DataLoc,
        pid: i32 = "pid_t",
        old_pid: i32 = "pid_t",
    }
    print "\"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid";
}

perf_event::tracepoint! {
    /// A thread exits (Linux `trace_sched_process_exit`, from `do_exit`).
    pub fn trace_sched_process_exit(sched / sched_process_exit) -> static SCHED_PROCESS_EXIT, struct SchedProcessExit {
        comm: [u8; 16],
        pid: i32 = "pid_t",
        prio: i32 = "int",
    }
    print "\"comm=%s pid=%d prio=%d\", REC->comm, REC->pid, REC->prio";
}

/// Every static tracepoint of the kernel, for registration at boot.
pub fn all() -> [&'static perf_event::trace::Tracepoint; 3] {
    [&SCHED_SWITCH, &SCHED_PROCESS_EXEC, &SCHED_PROCESS_EXIT]
}

/// A task name as the records store it: NUL-padded to 16 bytes (15 characters at most).
pub fn comm16(name: &str) -> [u8; 16] {
    let mut c = [0u8; 16];
    let b = name.as_bytes();
    let n = b.len().min(15);
    c[..n].copy_from_slice(&b[..n]);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    /// Offsets and sizes as Linux 6.1 x86_64's `format` files give them.
    #[test]
    fn records_have_linux_layouts() {
        assert_eq!(
            [
                offset_of!(SchedSwitch, prev_comm),
                offset_of!(SchedSwitch, prev_pid),
                offset_of!(SchedSwitch, prev_prio),
                offset_of!(SchedSwitch, prev_state),
                offset_of!(SchedSwitch, next_comm),
                offset_of!(SchedSwitch, next_pid),
                offset_of!(SchedSwitch, next_prio),
                size_of::<SchedSwitch>()
            ],
            [8, 24, 28, 32, 40, 56, 60, 64]
        );
        assert_eq!(
            [
                offset_of!(SchedProcessExec, filename),
                offset_of!(SchedProcessExec, pid),
                offset_of!(SchedProcessExec, old_pid),
                size_of::<SchedProcessExec>()
            ],
            [8, 12, 16, 20]
        );
        assert_eq!(
            [
                offset_of!(SchedProcessExit, comm),
                offset_of!(SchedProcessExit, pid),
                offset_of!(SchedProcessExit, prio),
                size_of::<SchedProcessExit>()
            ],
            [8, 24, 28, 32]
        );
        assert_eq!(comm16("a-very-long-name-indeed"), *b"a-very-long-nam\0");
    }
}
