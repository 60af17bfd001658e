//! [`WaitQueue`]: sleep until a condition holds, a deadline passes or a signal arrives.
//!
//! The portable code (pipes, eventfd, epoll, futex, trace_pipe, the bpf ring buffer's poll)
//! only uses [`WaitQueue`]; the arch/task code implements [`Scheduler`] once and registers it
//! with [`set_scheduler`] at boot. Host tests run without a scheduler: waiting then spins
//! (yielding the host thread) until the condition or the deadline.

use alloc::vec::Vec;

use spin::{Mutex, Once};
use syscall_abi::Errno;

use crate::KResult;

/// A task (thread) as the scheduler names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u64);

/// Why [`Scheduler::block`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeReason {
    /// [`Scheduler::wake`] was called for this task (or had been, since its last block).
    Woken,
    /// The deadline passed.
    Timeout,
    /// A signal is pending for the task.
    Signal,
}

/// What the kernel's scheduler provides to wait queues.
pub trait Scheduler: Sync {
    /// The running task.
    fn current(&self) -> TaskId;
    /// Blocks the running task until [`Scheduler::wake`] is called for it, the monotonic
    /// clock ([`crate::time::monotonic_ns`]) reaches `deadline`, or a signal is pending.
    /// A wake that arrives while the task is still running (between registering on a queue
    /// and calling `block`) must not be lost: `block` then returns `Woken` at once.
    fn block(&self, deadline: Option<u64>) -> WakeReason;
    /// Makes `task` runnable if it is blocked, or records the wake-up for its next `block`.
    /// Callable from interrupt context.
    fn wake(&self, task: TaskId);
    /// Whether the running task has a signal pending that interrupts sleeps.
    fn signal_pending(&self) -> bool;
}

static SCHEDULER: Once<&'static dyn Scheduler> = Once::new();

/// Registers the kernel's scheduler (once, at boot; later calls are ignored).
pub fn set_scheduler(s: &'static dyn Scheduler) {
    SCHEDULER.call_once(|| s);
}

/// A set of tasks waiting for one condition.
pub struct WaitQueue {
    waiters: Mutex<Vec<TaskId>>,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        WaitQueue { waiters: Mutex::new(Vec::new()) }
    }

    /// Wakes every waiting task (each re-checks its condition).
    pub fn wake_all(&self) {
        let waiters = core::mem::take(&mut *self.waiters.lock());
        if let Some(s) = SCHEDULER.get() {
            for t in waiters {
                s.wake(t);
            }
        }
    }

    /// Wakes one waiting task (FIFO); returns whether there was one.
    pub fn wake_one(&self) -> bool {
        let t = {
            let mut w = self.waiters.lock();
            if w.is_empty() {
                return false;
            }
            w.remove(0)
        };
        if let Some(s) = SCHEDULER.get() {
            s.wake(t);
        }
        true
    }

    /// Number of tasks waiting.
    pub fn len(&self) -> usize {
        self.waiters.lock().len()
    }

    /// Whether no task is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sleeps until `cond()` is true (`Ok`), the monotonic clock reaches `deadline`
    /// (`ETIMEDOUT`, unless `cond()` became true) or a signal is pending (`EINTR`).
    /// `cond` is called without any lock of the queue held and may take the caller's locks.
    pub fn wait_until(&self, deadline: Option<u64>, mut cond: impl FnMut() -> bool) -> KResult<()> {
        let Some(s) = SCHEDULER.get() else {
            return spin_until(deadline, cond);
        };
        let me = s.current();
        loop {
            if cond() {
                return Ok(());
            }
            self.waiters.lock().push(me);
            // Re-check after registering: a wake between the first check and the push
            // would otherwise be lost.
            if cond() {
                self.remove(me);
                return Ok(());
            }
            let why = s.block(deadline);
            self.remove(me);
            match why {
                WakeReason::Woken => {}
                WakeReason::Timeout => return if cond() { Ok(()) } else { Err(Errno::ETIMEDOUT) },
                WakeReason::Signal => return if cond() { Ok(()) } else { Err(Errno::EINTR) },
            }
        }
    }

    fn remove(&self, t: TaskId) {
        let mut w = self.waiters.lock();
        if let Some(i) = w.iter().position(|&x| x == t) {
            w.remove(i);
        }
    }
}

/// Without a scheduler (host tests): poll the condition until the deadline.
#[cfg(test)]
fn spin_until(deadline: Option<u64>, mut cond: impl FnMut() -> bool) -> KResult<()> {
    loop {
        if cond() {
            return Ok(());
        }
        if deadline.is_some_and(|d| crate::time::monotonic_ns() >= d) {
            return Err(Errno::ETIMEDOUT);
        }
        std::thread::yield_now();
    }
}

/// Without a scheduler in a kernel build nothing can wake us: fail rather than hang.
#[cfg(not(test))]
fn spin_until(_deadline: Option<u64>, mut cond: impl FnMut() -> bool) -> KResult<()> {
    if cond() {
        Ok(())
    } else {
        Err(Errno::EAGAIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn host_wait_sees_condition_from_another_thread_and_times_out() {
        let q = Arc::new(WaitQueue::new());
        let flag = Arc::new(AtomicBool::new(false));
        let (q2, f2) = (q.clone(), flag.clone());
        let h = std::thread::spawn(move || {
            f2.store(true, Ordering::SeqCst);
            q2.wake_all();
        });
        q.wait_until(None, || flag.load(Ordering::SeqCst)).unwrap();
        h.join().unwrap();
        let deadline = crate::time::monotonic_ns() + 1_000_000;
        assert_eq!(q.wait_until(Some(deadline), || false), Err(Errno::ETIMEDOUT));
    }
}
