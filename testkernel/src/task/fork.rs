//! `clone`/`fork`/`vfork`: new threads and processes.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use spin::Mutex;
use syscall_abi::Errno;

use super::process::{alloc_id, Process};
use super::sched;
use super::task::{KernelStack, Task};
use crate::arch::trap::TrapFrame;
use crate::mm::frame::FRAMES;
use crate::mm::paging::X86PageTable;
use crate::mm::UserSpace;
use crate::user::write_val;
use crate::KResult;

/// `CLONE_VM`.
pub const CLONE_VM: u64 = 0x100;
/// `CLONE_FS`.
pub const CLONE_FS: u64 = 0x200;
/// `CLONE_FILES`.
pub const CLONE_FILES: u64 = 0x400;
/// `CLONE_SIGHAND`.
pub const CLONE_SIGHAND: u64 = 0x800;
/// `CLONE_PIDFD`.
pub const CLONE_PIDFD: u64 = 0x1000;
/// `CLONE_VFORK`.
pub const CLONE_VFORK: u64 = 0x4000;
/// `CLONE_PARENT`.
pub const CLONE_PARENT: u64 = 0x8000;
/// `CLONE_THREAD`.
pub const CLONE_THREAD: u64 = 0x1_0000;
/// `CLONE_SYSVSEM`.
pub const CLONE_SYSVSEM: u64 = 0x4_0000;
/// `CLONE_SETTLS`.
pub const CLONE_SETTLS: u64 = 0x8_0000;
/// `CLONE_PARENT_SETTID`.
pub const CLONE_PARENT_SETTID: u64 = 0x10_0000;
/// `CLONE_CHILD_CLEARTID`.
pub const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
/// `CLONE_CHILD_SETTID`.
pub const CLONE_CHILD_SETTID: u64 = 0x100_0000;

/// Flags this kernel implements or may ignore (namespaces, ptrace and pidfds are refused).
const SUPPORTED: u64 = 0xff
    | CLONE_VM
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_VFORK
    | CLONE_PARENT
    | CLONE_THREAD
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | 0x80_0000 // CLONE_DETACHED (ignored, as in Linux)
    | CLONE_CHILD_SETTID;

extern "C" fn user_task_start(_arg: u64) {
    sched::finish_switch();
}

/// Linux `TASK_SIZE_MAX`: FS bases at or above it are refused (`EPERM`, as
/// `do_set_thread_area_64`).
const TASK_SIZE_MAX: u64 = 0x7fff_ffff_f000;

/// `clone(flags, newsp, parent_tid, child_tid, tls)` through the Linux-named probe target
/// `kernel_clone` ([`__clone`] does the work).
#[inline(always)]
pub fn clone(frame: &TrapFrame, flags: u64, newsp: u64, parent_tid: u64, child_tid: u64, tls: u64) -> KResult<u64> {
    crate::probe::targets_task::call_kernel_clone(frame, flags, newsp, parent_tid, child_tid, tls)
}

/// `clone(flags, newsp, parent_tid, child_tid, tls)` from the calling task with user
/// registers `frame`; returns the child's tid.
pub fn __clone(frame: &TrapFrame, flags: u64, newsp: u64, parent_tid: u64, child_tid: u64, tls: u64) -> KResult<u64> {
    // Linux copy_process checks.
    if flags & !SUPPORTED != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SETTLS != 0 && tls >= TASK_SIZE_MAX {
        return Err(Errno::EPERM);
    }
    let kstack = KernelStack::new()?;
    let me = sched::current();
    let parent = me.process.clone();
    let parent_mm = parent.mm().ok_or(Errno::ESRCH)?;
    let tid = alloc_id();

    let process = if flags & CLONE_THREAD != 0 {
        parent.exit.lock().live_threads += 1;
        parent.clone()
    } else {
        let (mm, cr3) = if flags & CLONE_VM != 0 {
            (parent_mm.clone(), parent.cr3())
        } else {
            let pt = X86PageTable::new()?;
            let cr3 = pt.root();
            let copy = parent_mm.lock().fork_copy(Box::new(pt))?;
            (Arc::new(Mutex::new(copy)), cr3)
        };
        let files = if flags & CLONE_FILES != 0 {
            parent.files.clone()
        } else {
            Arc::new(Mutex::new(parent.files.lock().clone()))
        };
        let fs = if flags & CLONE_FS != 0 { parent.fs.clone() } else { Arc::new(Mutex::new(parent.fs.lock().clone())) };
        let real_parent = if flags & CLONE_PARENT != 0 { parent.parent() } else { Some(parent.clone()) };
        let exe = parent.exe.lock().clone();
        let child = Process::new(
            tid,
            real_parent.as_ref().map(Arc::downgrade).unwrap_or_default(),
            Some(mm),
            cr3,
            files,
            fs,
            exe,
            parent.signals.fork_copy(),
            parent.rlimits.fork_copy(),
            parent.job.fork_copy(),
        );
        *child.cmdline.lock() = parent.cmdline.lock().clone();
        *child.comm.lock() = parent.comm.lock().clone();
        child.exit.lock().live_threads = 1;
        if let Some(rp) = real_parent {
            rp.children.lock().push(child.clone());
        }
        child
    };

    let mut f = *frame;
    f.rax = 0;
    if newsp != 0 {
        f.rsp = newsp;
    }
    let signals = if flags & CLONE_THREAD != 0 { me.signals.new_thread() } else { me.signals.fork_copy() };
    let t = Task::new(kstack, tid, process.clone(), &f, user_task_start, 0, me.fpu_snapshot(), false, signals);
    let fs_base = if flags & CLONE_SETTLS != 0 { tls } else { crate::arch::context::fs_base() };
    t.fs_base.store(fs_base, Ordering::Relaxed);
    t.gs_base.store(crate::arch::context::gs_base(), Ordering::Relaxed);
    if flags & CLONE_CHILD_CLEARTID != 0 {
        t.clear_child_tid.store(child_tid, Ordering::Relaxed);
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        // Linux writes it before the child runs; a bad pointer is ignored there too.
        let _ = write_val(&UserSpace(&parent_mm), parent_tid, &tid);
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        if let Some(cmm) = process.mm() {
            let _ = write_val(&UserSpace(&cmm), child_tid, &tid);
        }
    }
    crate::probe::targets_task::call_wake_up_new_task(t);
    sched::restart_slice();
    if flags & CLONE_VFORK != 0 && !Arc::ptr_eq(&process, &parent) {
        // The parent sleeps until the child execs or exits (its memory is shared).
        let _ = process.vfork_wait.wait_until(None, || process.vfork_done.load(Ordering::SeqCst));
    }
    Ok(u64::from(tid))
}

/// The frame allocator as the address-space code takes it.
pub fn frames() -> &'static dyn crate::mm::FrameAllocator {
    &FRAMES
}
