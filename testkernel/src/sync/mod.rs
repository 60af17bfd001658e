//! Blocking: wait queues over the scheduler the kernel registers at boot.

pub mod irq_work;
mod wait;

pub use wait::{set_scheduler, Scheduler, TaskId, WaitQueue, WakeReason};
