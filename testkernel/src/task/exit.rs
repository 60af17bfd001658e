//! Thread and process exit: `CLONE_CHILD_CLEARTID`, the robust list, closing files,
//! releasing the address space, reparenting children to init, the zombie and the parent's
//! wake-up, and `init exited with status N` when PID 1 ends.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::process::Process;
use super::sched;
use crate::arch::qemu;
use crate::mm::UserSpace;
use crate::proc::futex::FUTEXES;

/// Wait status of a normal exit with `code`.
pub fn exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Wait status of a death by signal `sig`.
pub fn killed(sig: i32) -> i32 {
    sig & 0x7f
}

/// Ends the whole process (`exit_group`, fatal signals): every thread exits with `status`.
pub fn exit_group(status: i32) -> ! {
    let me = sched::current();
    {
        let mut e = me.process.exit.lock();
        if e.group_exit.is_none() {
            e.group_exit = Some(status);
        }
    }
    // Wake the other threads so that they notice (a pending "signal" ends their sleeps).
    for t in sched::all_tasks() {
        if Arc::ptr_eq(&t.process, &me.process) && t.tid != me.tid {
            sched::wake_task(&t);
        }
    }
    drop(me);
    exit_thread(status)
}

/// Ends the running thread (`exit`) through the Linux-named probe target `do_exit`
/// ([`__exit_thread`] does the work).
#[inline(always)]
pub fn exit_thread(status: i32) -> ! {
    crate::probe::targets_task::do_exit(i64::from(status))
}

/// Ends the running thread (`exit`); the process ends with the last thread.
pub fn __exit_thread(status: i32) -> ! {
    let me = sched::current();
    let p = me.process.clone();
    // CLONE_CHILD_CLEARTID / set_tid_address, and the robust futex list.
    if let Some(mm) = p.mm() {
        let space = Arc::as_ptr(&mm) as u64;
        let robust = me.robust_list.load(Ordering::Relaxed);
        if robust != 0 {
            FUTEXES.exit_robust_list(space, &UserSpace(&mm), robust, me.tid);
        }
        let ctid = me.clear_child_tid.load(Ordering::Relaxed);
        if ctid != 0 {
            FUTEXES.clear_child_tid(space, &UserSpace(&mm), ctid);
        }
    }
    crate::trace::process_exit(&me);
    let last = {
        let mut e = p.exit.lock();
        e.live_threads = e.live_threads.saturating_sub(1);
        e.live_threads == 0
    };
    if last {
        let status = p.exit.lock().group_exit.unwrap_or(status);
        exit_process(&p, status);
    }
    drop(p);
    drop(me);
    sched::exit_current()
}

fn exit_process(p: &Arc<Process>, status: i32) {
    let files: Vec<_> = p.files.lock().clear();
    drop(files);
    let old = p.set_mm(None, crate::mm::paging::kernel_pml4());
    // SAFETY: the kernel PML4 maps the whole kernel half; the old space is released next.
    unsafe { crate::arch::cpu::set_cr3(crate::mm::paging::kernel_pml4()) };
    drop(old);
    p.vfork_done.store(true, Ordering::SeqCst);
    p.vfork_wait.wake_all();

    if p.pid == 1 {
        let code = if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) };
        crate::arch::serial::write_bytes(alloc::format!("init exited with status {code}\n").as_bytes());
        qemu::exit(if code == 0 { qemu::EXIT_SUCCESS } else { qemu::EXIT_FAILURE });
    }

    // Orphans go to init.
    let orphans: Vec<_> = core::mem::take(&mut *p.children.lock());
    if !orphans.is_empty() {
        if let Some(init) = super::process::by_pid(1) {
            for c in &orphans {
                c.set_parent(Arc::downgrade(&init));
            }
            init.children.lock().extend(orphans);
            init.child_wait.wake_all();
        }
    }
    p.exit.lock().zombie = Some(status);
    match p.parent() {
        Some(parent) if parent.signals.reaps_children() => {
            // SIGCHLD ignored or SA_NOCLDWAIT: no zombie (Linux's autoreap).
            parent.children.lock().retain(|c| !Arc::ptr_eq(c, p));
            p.unregister();
            parent.child_wait.wake_all();
        }
        Some(parent) => {
            super::signals::notify_parent(&parent, p.pid, status);
            parent.child_wait.wake_all();
        }
        None => p.unregister(),
    }
}
