//! Blocking: wait queues over the scheduler the kernel registers at boot.

mod wait;

pub use wait::{set_scheduler, Scheduler, TaskId, WaitQueue, WakeReason};
