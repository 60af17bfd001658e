//! The round-robin scheduler: a run queue, blocking with deadlines, wake-ups (also from
//! interrupts), the timer's time slices, and the idle loop. Implements
//! [`crate::sync::Scheduler`] for wait queues.
//!
//! The kernel is not preemptible: the timer only sets [`need_resched`], acted upon when a
//! task returns to user mode. All scheduler state is touched with interrupts disabled.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use spin::Mutex;

use super::task::{state, Task};
use crate::arch::cpu;
use crate::arch::{context, gdt, syscall_entry};
use crate::sync::{Scheduler, TaskId, WakeReason};

struct State {
    run: VecDeque<Arc<Task>>,
    sleepers: Vec<(u64, Arc<Task>)>,
    current: Option<Arc<Task>>,
    idle: Option<Arc<Task>>,
    /// A task that exited and switched away: dropped by the next task to run (its stack
    /// was still in use during the switch).
    dead: Option<Arc<Task>>,
    tasks: BTreeMap<u32, Weak<Task>>,
}

static STATE: Mutex<State> = Mutex::new(State {
    run: VecDeque::new(),
    sleepers: Vec::new(),
    current: None,
    idle: None,
    dead: None,
    tasks: BTreeMap::new(),
});

static NEED_RESCHED: AtomicBool = AtomicBool::new(false);
/// How long a task runs before another runnable task gets the CPU (measured on the
/// monotonic clock, not in ticks: virtualised timers may deliver ticks in bursts).
const SLICE_NS: u64 = 12_000_000;
/// The monotonic time at which the running task's time slice started.
static SLICE_START: AtomicU64 = AtomicU64::new(0);

const REASON_WOKEN: u8 = 0;
const REASON_TIMEOUT: u8 = 1;

/// Makes the boot context the idle task and registers the scheduler.
pub fn init(idle: Arc<Task>) {
    let mut s = STATE.lock();
    set_current(&idle);
    s.current = Some(idle.clone());
    s.idle = Some(idle);
    drop(s);
    crate::sync::set_scheduler(&KScheduler);
}

/// The running task, readable without the scheduler lock (probe and tracepoint handlers
/// may run while the lock is held, e.g. in a function `schedule` calls): always the task of
/// `State::current` (set together with it), kept alive by it (or by `State::dead` until the
/// next task has switched away).
static CURRENT: AtomicPtr<Task> = AtomicPtr::new(core::ptr::null_mut());

fn set_current(t: &Arc<Task>) {
    CURRENT.store(Arc::as_ptr(t).cast_mut(), Ordering::Release);
}

/// The running task. Takes no lock.
pub fn current() -> Arc<Task> {
    let p = CURRENT.load(Ordering::Acquire);
    if p.is_null() {
        panic!("no current task");
    }
    // SAFETY: `p` is the running task (see `CURRENT`), whose `Arc` the scheduler state keeps
    // while it runs; with one CPU and interrupts off in the kernel it cannot be freed while
    // this code, which runs on its behalf, takes another reference.
    unsafe {
        Arc::increment_strong_count(p);
        Arc::from_raw(p)
    }
}

/// A live task by thread id.
pub fn task_by_tid(tid: u32) -> Option<Arc<Task>> {
    STATE.lock().tasks.get(&tid).and_then(Weak::upgrade)
}

/// Every live task (for signals to a whole process, `/proc`).
pub fn all_tasks() -> Vec<Arc<Task>> {
    STATE.lock().tasks.values().filter_map(Weak::upgrade).collect()
}

/// Adds a new task to the run queue.
pub fn spawn(t: Arc<Task>) {
    let mut s = STATE.lock();
    s.tasks.insert(t.tid, Arc::downgrade(&t));
    t.state.store(state::RUNNABLE, Ordering::SeqCst);
    s.run.push_back(t);
}

/// Whether the running task should give up the CPU at its next return to user mode.
pub fn need_resched() -> bool {
    NEED_RESCHED.load(Ordering::Relaxed)
}

/// The timer interrupt: wakes sleepers whose deadline passed; a time slice ends at every
/// tick when another task is runnable.
pub fn timer_tick(now: u64) {
    let mut s = STATE.lock();
    let mut i = 0;
    while i < s.sleepers.len() {
        if s.sleepers[i].0 <= now {
            let (_, t) = s.sleepers.swap_remove(i);
            if t.state.load(Ordering::SeqCst) == state::BLOCKED {
                t.wake_reason.store(REASON_TIMEOUT, Ordering::SeqCst);
                t.state.store(state::RUNNABLE, Ordering::SeqCst);
                s.run.push_back(t);
            }
        } else {
            i += 1;
        }
    }
    let ran = now.saturating_sub(SLICE_START.load(Ordering::Relaxed));
    if !s.run.is_empty() && ran >= SLICE_NS {
        NEED_RESCHED.store(true, Ordering::Relaxed);
    }
}

/// Switches to the next runnable task (or idle) through the Linux-named probe target
/// `schedule` ([`__schedule`] does the work).
#[inline(always)]
pub fn schedule() {
    crate::probe::targets_task::schedule()
}

/// Switches to the next runnable task (or idle). The running task goes to the back of
/// the run queue if it is still runnable. Returns when this task runs again.
pub fn __schedule() {
    // Set by the timer: the running task is preempted (sched_switch's "R+").
    let preempted = NEED_RESCHED.swap(false, Ordering::Relaxed);
    let mut s = STATE.lock();
    let Some(prev) = s.current.take() else { return };
    let idle = s.idle.clone();
    let prev_is_idle = idle.as_ref().is_some_and(|i| Arc::ptr_eq(i, &prev));
    let prev_state = prev.state.load(Ordering::SeqCst);
    if prev_state == state::RUNNING && !prev_is_idle {
        prev.state.store(state::RUNNABLE, Ordering::SeqCst);
        s.run.push_back(prev.clone());
    }
    let next = match s.run.pop_front() {
        Some(n) => n,
        None if prev_state == state::RUNNING && prev_is_idle => prev.clone(),
        None => match idle {
            Some(i) => i,
            None => panic!("no idle task"),
        },
    };
    if !Arc::ptr_eq(&prev, &next) && crate::trace::events::SCHED_SWITCH.enabled() {
        // With `prev` still current (as on Linux; `CURRENT` is `prev` until `next` is
        // chosen) and without the lock: the consumers' programs may ask who runs.
        let traced_state = match prev_state {
            state::BLOCKED => crate::trace::events::TASK_INTERRUPTIBLE,
            state::DEAD => crate::trace::events::EXIT_ZOMBIE,
            _ if preempted => crate::trace::events::TASK_REPORT_MAX,
            _ => crate::trace::events::TASK_RUNNING,
        };
        drop(s);
        crate::trace::sched_switch(&prev, traced_state, &next);
        s = STATE.lock();
    }
    next.state.store(state::RUNNING, Ordering::SeqCst);
    set_current(&next);
    s.current = Some(next.clone());
    restart_slice();
    if Arc::ptr_eq(&prev, &next) {
        return;
    }
    if prev_state == state::DEAD {
        s.dead = Some(prev.clone());
    }
    let save = prev.saved_rsp_ptr();
    // SAFETY: interrupts are off; `next` is not running, so its saved stack pointer is
    // the one its last switch (or `init_stack`) stored.
    let next_rsp = unsafe { *next.saved_rsp_ptr() };
    // SAFETY: interrupts off: `prev` is the running task, its FPU area is ours to write.
    unsafe { (*prev.fpu_ptr()).save() };
    prev.fs_base.store(context::fs_base(), Ordering::Relaxed);
    prev.gs_base.store(context::gs_base(), Ordering::Relaxed);
    // SAFETY: `next`'s area holds a state saved by `save` or built by `FpuState::initial`.
    unsafe { (*next.fpu_ptr()).restore() };
    if !next.kernel_only {
        context::set_fs_base(next.fs_base.load(Ordering::Relaxed));
        context::set_gs_base(next.gs_base.load(Ordering::Relaxed));
        let top = next.kstack_top();
        gdt::set_kernel_stack(top);
        syscall_entry::set_kernel_stack(top);
    }
    let cr3 = next.process.cr3();
    if cr3 != 0 && cr3 != cpu::cr3() {
        // SAFETY: every address space's PML4 shares the kernel half.
        unsafe { cpu::set_cr3(cr3) };
    }
    drop(next);
    drop(prev);
    drop(s);
    // SAFETY: interrupts are off; `save` lives in the task (kept alive by the run queue,
    // `current`, or `dead` until the next task has switched away from its stack).
    unsafe { context::switch(save, next_rsp) };
    finish_switch();
}

/// Gives the running task a fresh time slice (also after `fork`, so that the parent
/// usually goes on running before its child, as on Linux).
pub fn restart_slice() {
    SLICE_START.store(crate::time::monotonic_ns(), Ordering::Relaxed);
    NEED_RESCHED.store(false, Ordering::Relaxed);
}

/// Runs on the new task right after every switch: frees the task that exited.
pub fn finish_switch() {
    let dead = { STATE.lock().dead.take() };
    drop(dead);
}

/// The running task leaves the CPU for good (its process code already did the exit
/// bookkeeping).
pub fn exit_current() -> ! {
    {
        let mut s = STATE.lock();
        if let Some(c) = s.current.as_ref() {
            c.state.store(state::DEAD, Ordering::SeqCst);
            let tid = c.tid;
            s.tasks.remove(&tid);
        }
    }
    cpu::cli();
    schedule();
    panic!("a dead task was scheduled again")
}

/// Gives up the CPU to other runnable tasks (`sched_yield`, preemption).
pub fn yield_now() {
    schedule();
}

/// The idle loop (the boot context after boot): runs whatever is runnable, halts otherwise.
pub fn idle_loop() -> ! {
    loop {
        let runnable = !STATE.lock().run.is_empty();
        if runnable {
            schedule();
        } else {
            crate::trace::irq_work_run();
            // The only place the kernel takes interrupts: the timer (or any IRQ) ends the
            // halt; its handler may have made tasks runnable.
            cpu::sti_hlt();
            cpu::cli();
        }
    }
}

fn block_current(deadline: Option<u64>) -> WakeReason {
    let me = current();
    if me.wake_pending.swap(false, Ordering::SeqCst) {
        return WakeReason::Woken;
    }
    if super::signal_pending_current() {
        return WakeReason::Signal;
    }
    if deadline.is_some_and(|d| crate::time::monotonic_ns() >= d) {
        return WakeReason::Timeout;
    }
    me.wake_reason.store(REASON_WOKEN, Ordering::SeqCst);
    me.state.store(state::BLOCKED, Ordering::SeqCst);
    if let Some(d) = deadline {
        STATE.lock().sleepers.push((d, me.clone()));
    }
    schedule();
    {
        let mut s = STATE.lock();
        s.sleepers.retain(|(_, t)| !Arc::ptr_eq(t, &me));
    }
    me.wake_pending.store(false, Ordering::SeqCst);
    if me.wake_reason.load(Ordering::SeqCst) == REASON_TIMEOUT {
        WakeReason::Timeout
    } else if super::signal_pending_current() {
        WakeReason::Signal
    } else {
        WakeReason::Woken
    }
}

/// Wakes `t` if blocked, or records the wake-up for its next `block`.
pub fn wake_task(t: &Arc<Task>) {
    let mut s = STATE.lock();
    if t.state.load(Ordering::SeqCst) == state::BLOCKED {
        t.wake_reason.store(REASON_WOKEN, Ordering::SeqCst);
        t.state.store(state::RUNNABLE, Ordering::SeqCst);
        s.run.push_back(t.clone());
    } else {
        t.wake_pending.store(true, Ordering::SeqCst);
    }
}

struct KScheduler;

impl Scheduler for KScheduler {
    fn current(&self) -> TaskId {
        TaskId(u64::from(current().tid))
    }

    fn block(&self, deadline: Option<u64>) -> WakeReason {
        block_current(deadline)
    }

    fn wake(&self, task: TaskId) {
        let Ok(tid) = u32::try_from(task.0) else { return };
        if let Some(t) = task_by_tid(tid) {
            wake_task(&t);
        }
    }

    fn signal_pending(&self) -> bool {
        super::signal_pending_current()
    }
}
