//! Deferred work queued from event context (Linux `irq_work`): probe handlers, tracepoints
//! and BPF programs run inside arbitrary kernel code, possibly while it holds a wait
//! queue's lock, so they never wake anybody themselves. They set a flag here (one atomic
//! store, no lock); the kernel runs the queued work at its safe points — the end of a system
//! call, the timer interrupt and the idle loop — where no kernel lock is held.

use core::sync::atomic::{AtomicBool, Ordering};

static PENDING: AtomicBool = AtomicBool::new(false);

/// Asks for the deferred work to run at the next safe point. Callable from any context.
#[inline]
pub fn queue() {
    PENDING.store(true, Ordering::Release);
}

/// Whether work is queued (the cheap test of the hot paths).
#[inline]
pub fn pending() -> bool {
    PENDING.load(Ordering::Relaxed)
}

/// Takes the queued flag: `true` when the caller must run the deferred work now.
pub fn take() -> bool {
    PENDING.swap(false, Ordering::AcqRel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_then_take_once() {
        queue();
        assert!(pending());
        assert!(take());
        assert!(!take());
    }
}
