//! [`Task`]: one thread — its kernel stack, saved kernel context, user FPU state and TLS
//! bases, and the per-thread fields of `clone`/`set_tid_address`/`set_robust_list`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use syscall_abi::Errno;

use super::process::Process;
use crate::arch::context::{self, FpuState};
use crate::arch::trap::TrapFrame;
use crate::proc::signal::ThreadSignals;
use crate::KResult;

/// Kernel stack size per task.
pub const KSTACK_SIZE: usize = 64 * 1024;

/// A kernel stack for a new task (`ENOMEM`, never a panic, when the heap is exhausted:
/// a fork bomb gets an error).
pub struct KernelStack(Box<[u128]>);

impl KernelStack {
    /// Allocates [`KSTACK_SIZE`] bytes.
    pub fn new() -> KResult<KernelStack> {
        let mut v: Vec<u128> = Vec::new();
        v.try_reserve_exact(KSTACK_SIZE / 16).map_err(|_| Errno::ENOMEM)?;
        v.resize(KSTACK_SIZE / 16, 0);
        Ok(KernelStack(v.into_boxed_slice()))
    }
}

/// Scheduling states.
pub mod state {
    /// On the CPU.
    pub const RUNNING: u8 = 0;
    /// In the run queue.
    pub const RUNNABLE: u8 = 1;
    /// Waiting (`Scheduler::block`).
    pub const BLOCKED: u8 = 2;
    /// Exited; never runs again.
    pub const DEAD: u8 = 3;
}

/// One thread.
pub struct Task {
    /// Thread id (the process id for the main thread).
    pub tid: u32,
    /// The process (shared by `CLONE_THREAD` siblings).
    pub process: Arc<Process>,
    kstack: Box<[u128]>,
    saved_rsp: UnsafeCell<u64>,
    fpu: UnsafeCell<FpuState>,
    pub(super) state: AtomicU8,
    pub(super) wake_pending: AtomicBool,
    /// Why the last `block` ended (a `WakeReason` as u8: 0 woken, 1 timeout).
    pub(super) wake_reason: AtomicU8,
    /// User FS base (TLS), loaded when the task runs.
    pub fs_base: AtomicU64,
    /// User GS base.
    pub gs_base: AtomicU64,
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID`: cleared and futex-woken at exit.
    pub clear_child_tid: AtomicU64,
    /// `set_robust_list` head (stored; walked at exit by the futex code when present).
    pub robust_list: AtomicU64,
    /// The length passed with the robust list head.
    pub robust_len: AtomicU64,
    /// Set on the other threads when one thread execs: they end at their next return to
    /// user mode (Linux's `de_thread`).
    pub exec_killed: AtomicBool,
    /// Kernel-only task (idle): never returns to user mode.
    pub kernel_only: bool,
    /// Blocked mask, private pending signals, alternate stack.
    pub signals: ThreadSignals,
}

// SAFETY: the `UnsafeCell` fields (saved stack pointer, FPU area) are only touched by the
// scheduler with interrupts disabled on the one CPU, for the task being switched.
unsafe impl Sync for Task {}
// SAFETY: as above; nothing in a task is tied to a particular thread of execution.
unsafe impl Send for Task {}

impl Task {
    /// A new task of `process` that first runs `entry(arg)` on its own kernel stack, then
    /// returns to user mode with `frame` (kernel-only tasks: `entry` never returns).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kstack: KernelStack,
        tid: u32,
        process: Arc<Process>,
        frame: &TrapFrame,
        entry: extern "C" fn(u64),
        arg: u64,
        fpu: FpuState,
        kernel_only: bool,
        signals: ThreadSignals,
    ) -> Arc<Task> {
        let kstack = kstack.0;
        let top = kstack.as_ptr() as u64 + KSTACK_SIZE as u64;
        // SAFETY: the stack was just allocated for this task and is 64 KiB.
        let rsp = unsafe { context::init_stack(top, frame, entry, arg) };
        Arc::new(Task {
            tid,
            process,
            kstack,
            saved_rsp: UnsafeCell::new(rsp),
            fpu: UnsafeCell::new(fpu),
            state: AtomicU8::new(state::RUNNABLE),
            wake_pending: AtomicBool::new(false),
            wake_reason: AtomicU8::new(0),
            exec_killed: AtomicBool::new(false),
            fs_base: AtomicU64::new(0),
            gs_base: AtomicU64::new(0),
            clear_child_tid: AtomicU64::new(0),
            robust_list: AtomicU64::new(0),
            robust_len: AtomicU64::new(0),
            kernel_only,
            signals,
        })
    }

    /// The task for the boot context itself (it becomes the idle task): no stack of its
    /// own is prepared, the first switch away saves into it.
    pub fn boot(process: Arc<Process>) -> Arc<Task> {
        Arc::new(Task {
            tid: 0,
            process,
            kstack: Box::new([]),
            saved_rsp: UnsafeCell::new(0),
            fpu: UnsafeCell::new(FpuState::initial()),
            state: AtomicU8::new(state::RUNNING),
            wake_pending: AtomicBool::new(false),
            wake_reason: AtomicU8::new(0),
            exec_killed: AtomicBool::new(false),
            fs_base: AtomicU64::new(0),
            gs_base: AtomicU64::new(0),
            clear_child_tid: AtomicU64::new(0),
            robust_list: AtomicU64::new(0),
            robust_len: AtomicU64::new(0),
            kernel_only: true,
            signals: ThreadSignals::new(),
        })
    }

    /// Top of the kernel stack (0 for the boot task).
    pub fn kstack_top(&self) -> u64 {
        if self.kstack.is_empty() {
            0
        } else {
            self.kstack.as_ptr() as u64 + KSTACK_SIZE as u64
        }
    }

    /// The user registers saved at the top of the kernel stack (valid while the task is
    /// in the kernel after entering from user mode).
    pub fn user_frame(&self) -> *mut TrapFrame {
        (self.kstack_top() - core::mem::size_of::<TrapFrame>() as u64) as *mut TrapFrame
    }

    pub(super) fn saved_rsp_ptr(&self) -> *mut u64 {
        self.saved_rsp.get()
    }

    pub(super) fn fpu_ptr(&self) -> *mut FpuState {
        self.fpu.get()
    }

    /// A copy of the task's FPU state (the live registers if it is the running task).
    pub fn fpu_snapshot(&self) -> FpuState {
        // SAFETY: interrupts are off; for the running task the area is refreshed from the
        // CPU first, otherwise it holds the state saved at its last switch.
        unsafe {
            if self.state.load(Ordering::Relaxed) == state::RUNNING {
                (*self.fpu.get()).save();
            }
            (*self.fpu.get()).clone()
        }
    }

    /// Replaces the running task's FPU state (signal return).
    pub fn set_fpu(&self, s: FpuState) {
        s.restore();
        // SAFETY: interrupts off; the running task owns its area.
        unsafe { *self.fpu.get() = s };
    }

    /// Resets the running task's FPU state (execve).
    pub fn reset_fpu(&self) {
        let s = FpuState::initial();
        s.restore();
        // SAFETY: interrupts off; the running task owns its area.
        unsafe { *self.fpu.get() = s };
    }
}
