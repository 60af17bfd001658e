//! Linux-named probe targets of the task code: `schedule`, `do_exit`, `kernel_clone`,
//! `wake_up_new_task` (see [`super::targets`] for the conventions).
//!
//! The task code keeps its Rust names as thin inline forwards to these functions, and the
//! real work under a `__` name (`sched::__schedule`, `exit::__exit_thread`,
//! `fork::__clone`), so every caller passes through the probe target.

use alloc::sync::Arc;
use core::hint::black_box;

use super::targets::{from_ret, to_ret};
use crate::arch::trap::TrapFrame;
use crate::task::Task;
use crate::KResult;

/// Linux `struct kernel_clone_args`, its leading fields (`kernel_clone`'s argument).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelCloneArgs {
    /// `CLONE_*` flags without the exit signal.
    pub flags: u64,
    /// `int __user *pidfd` (0: no `CLONE_PIDFD` here).
    pub pidfd: u64,
    /// `int __user *child_tid`.
    pub child_tid: u64,
    /// `int __user *parent_tid`.
    pub parent_tid: u64,
    /// The signal the parent gets at the child's exit (`flags & CSIGNAL`).
    pub exit_signal: i32,
    /// The child's stack pointer (0: the parent's).
    pub stack: u64,
    /// Stack size (`clone3` only; 0).
    pub stack_size: u64,
    /// The child's TLS (`CLONE_SETTLS`).
    pub tls: u64,
}

// Linux 6.1's offsets of these fields.
const _: () = {
    use core::mem::offset_of;
    assert!(offset_of!(KernelCloneArgs, child_tid) == 16 && offset_of!(KernelCloneArgs, exit_signal) == 32);
    assert!(offset_of!(KernelCloneArgs, stack) == 40 && offset_of!(KernelCloneArgs, tls) == 56);
};

const CSIGNAL: u64 = 0xff;

/// `void schedule(void)`: switches to the next runnable task; returns when this one runs
/// again.
#[no_mangle]
#[inline(never)]
pub extern "C" fn schedule() {
    crate::task::sched::__schedule();
    black_box(());
}

/// `void do_exit(long code)`: ends the running thread with wait status `code` (the process
/// with its last thread). Never returns.
#[no_mangle]
#[inline(never)]
pub extern "C" fn do_exit(code: i64) -> ! {
    crate::task::exit::__exit_thread(black_box(code) as i32)
}

/// `pid_t kernel_clone(struct kernel_clone_args *args)`: `fork`, `vfork`, `clone`; the
/// child's tid or `-errno`. `frame` (rsi) is the parent's saved user registers.
#[no_mangle]
#[inline(never)]
pub extern "C" fn kernel_clone(args: *const KernelCloneArgs, frame: *const TrapFrame) -> i64 {
    // SAFETY: `call_kernel_clone` passes references valid for the call.
    let (a, f) = unsafe { (&*args, &*frame) };
    let flags = a.flags | (a.exit_signal as u64 & CSIGNAL);
    black_box(to_ret(crate::task::fork::__clone(f, flags, a.stack, a.parent_tid, a.child_tid, a.tls)))
}

/// `clone(flags, newsp, parent_tid, child_tid, tls)` from the task with user registers
/// `frame`, through `kernel_clone`.
pub fn call_kernel_clone(
    frame: &TrapFrame,
    flags: u64,
    newsp: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
) -> KResult<u64> {
    let args = KernelCloneArgs {
        flags: flags & !CSIGNAL,
        child_tid,
        parent_tid,
        exit_signal: (flags & CSIGNAL) as i32,
        stack: newsp,
        tls,
        ..KernelCloneArgs::default()
    };
    from_ret(kernel_clone(&args, frame))
}

/// `void wake_up_new_task(struct task_struct *p)`: puts a new task on the run queue. `p`
/// (rdi) points to the [`Task`]; the function takes over the reference `Arc::into_raw` made.
#[no_mangle]
#[inline(never)]
pub extern "C" fn wake_up_new_task(p: *const Task) {
    // SAFETY: `call_wake_up_new_task` passes a pointer from `Arc::into_raw`, used once.
    let t = unsafe { Arc::from_raw(p) };
    crate::task::sched::spawn(t);
    black_box(());
}

/// Makes the new task `t` runnable through `wake_up_new_task`.
pub fn call_wake_up_new_task(t: Arc<Task>) {
    wake_up_new_task(Arc::into_raw(t));
}
