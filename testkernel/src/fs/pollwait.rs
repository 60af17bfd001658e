//! Waiting for any of several files to become ready (`poll`, `select`, `epoll_wait`).
//!
//! [`WaitQueue::wait_until`] sleeps on one queue; a poller needs to sleep on many. Until
//! `sync/wait.rs` offers a multi-queue wait (requested: `wait_any`), this module uses one
//! global queue, [`POLL_WAKE`], that every pipe, eventfd and epoll instance wakes together
//! with its own queue ([`notify`]). A [`WaitSet`] of only such "local" files sleeps on
//! [`POLL_WAKE`] and loses no wake-up (the condition is re-checked after registering, see
//! `sync/wait.rs`). Files of other subsystems (bpf ring buffers, perf events, the console)
//! only wake their own queue: a set with one of them among several files re-checks every
//! [`FOREIGN_SLICE_NS`], so such a wake-up is delayed, never lost. A set of exactly one
//! file sleeps on that file's own queue, exactly.
//!
//! Edge-triggered epoll needs to know whether a file was woken since it was last reported:
//! [`generation`] gives a counter for the local files (`None` for others, which epoll then
//! treats as level-triggered — spurious events, never lost ones).

use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

use syscall_abi::Errno;

use super::epoll::EpollFile;
use super::eventfd::EventFd;
use super::file::FileOps;
use super::pipe::PipeEnd;
use crate::sync::WaitQueue;
use crate::KResult;

/// Woken (with the file's own queue) by every readiness change of a pipe, eventfd or epoll
/// instance; pollers watching several files sleep here.
pub static POLL_WAKE: WaitQueue = WaitQueue::new();

/// Nobody wakes this queue: `poll` with no files sleeps here until its deadline or a signal.
static NEVER: WaitQueue = WaitQueue::new();

/// Longest sleep between re-checks when a watched file does not wake [`POLL_WAKE`].
pub const FOREIGN_SLICE_NS: u64 = 10_000_000;

/// A readiness-change counter for the files that notify through this module.
pub struct ChangeCounter(AtomicU64);

impl Default for ChangeCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeCounter {
    /// Starts at 0.
    pub const fn new() -> Self {
        ChangeCounter(AtomicU64::new(0))
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Counts one change and wakes `q` and every poller ([`POLL_WAKE`]).
    pub fn notify(&self, q: &WaitQueue) {
        self.0.fetch_add(1, Ordering::SeqCst);
        notify(q);
    }
}

/// Wakes the waiters of `q` and every poller sleeping on [`POLL_WAKE`].
pub fn notify(q: &WaitQueue) {
    q.wake_all();
    if !ptr::eq(q, &POLL_WAKE) {
        POLL_WAKE.wake_all();
    }
}

/// Whether `ops` wakes [`POLL_WAKE`] on every readiness change (pipes, eventfds, and epoll
/// instances all of whose targets are local).
pub fn is_local(ops: &dyn FileOps) -> bool {
    let any = ops.as_any();
    if any.is::<PipeEnd>() || any.is::<EventFd>() {
        return true;
    }
    any.downcast_ref::<EpollFile>().is_some_and(EpollFile::all_targets_local)
}

/// The readiness-change counter of a local file (`None`: unknown, see the module docs).
pub fn generation(ops: &dyn FileOps) -> Option<u64> {
    let any = ops.as_any();
    if let Some(p) = any.downcast_ref::<PipeEnd>() {
        return Some(p.generation());
    }
    any.downcast_ref::<EventFd>().map(|e| e.generation())
}

/// The queues a poller sleeps on, built with [`WaitSet::add`].
#[derive(Default)]
pub struct WaitSet<'a> {
    first: Option<&'a WaitQueue>,
    count: usize,
    foreign: bool,
}

impl<'a> WaitSet<'a> {
    /// An empty set.
    pub fn new() -> Self {
        WaitSet { first: None, count: 0, foreign: false }
    }

    /// Watches `ops` (a file without a wait queue never changes and is skipped).
    pub fn add(&mut self, ops: &'a dyn FileOps) {
        if let Some(q) = ops.wait_queue() {
            self.add_queue(q, is_local(ops));
        }
    }

    /// Watches a queue directly; `local`: it is woken through [`notify`].
    pub fn add_queue(&mut self, q: &'a WaitQueue, local: bool) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(q);
        }
        if !local {
            self.foreign = true;
        }
    }

    /// How [`WaitSet::wait`] sleeps.
    pub fn plan(&self) -> Plan<'a> {
        match self.first {
            None => Plan::Never,
            Some(q) if self.count == 1 && !ptr::eq(q, &POLL_WAKE) => Plan::Single(q),
            _ => Plan::PollWake { slice: self.foreign },
        }
    }

    /// Sleeps until `cond()` holds (`Ok`), `deadline` passes (`ETIMEDOUT`) or a signal is
    /// pending (`EINTR`). `cond` must re-check every watched file.
    pub fn wait(&self, deadline: Option<u64>, mut cond: impl FnMut() -> bool) -> KResult<()> {
        match self.plan() {
            Plan::Never => NEVER.wait_until(deadline, cond),
            Plan::Single(q) => q.wait_until(deadline, cond),
            Plan::PollWake { slice: false } => POLL_WAKE.wait_until(deadline, cond),
            Plan::PollWake { slice: true } => loop {
                let slice_end = crate::time::monotonic_ns().saturating_add(FOREIGN_SLICE_NS);
                let d = match deadline {
                    Some(d) if d <= slice_end => d,
                    _ => slice_end,
                };
                match POLL_WAKE.wait_until(Some(d), &mut cond) {
                    Err(Errno::ETIMEDOUT) if deadline != Some(d) => continue,
                    r => return r,
                }
            },
        }
    }
}

/// How a [`WaitSet`] sleeps.
pub enum Plan<'a> {
    /// Nothing to watch: only the deadline or a signal ends the sleep.
    Never,
    /// One file: its own queue, exactly.
    Single(&'a WaitQueue),
    /// Several files: [`POLL_WAKE`], re-checking every [`FOREIGN_SLICE_NS`] when `slice`
    /// (some file does not wake it).
    PollWake {
        /// Re-check periodically.
        slice: bool,
    },
}

/// Plans are equal when they sleep on the same queue the same way (queues by identity).
impl PartialEq for Plan<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Plan::Never, Plan::Never) => true,
            (Plan::Single(a), Plan::Single(b)) => ptr::eq(*a, *b),
            (Plan::PollWake { slice: a }, Plan::PollWake { slice: b }) => a == b,
            _ => false,
        }
    }
}

impl core::fmt::Debug for Plan<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Plan::Never => write!(f, "Never"),
            Plan::Single(q) => write!(f, "Single({:p})", *q),
            Plan::PollWake { slice } => write!(f, "PollWake {{ slice: {slice} }}"),
        }
    }
}

/// Converts a relative timeout in nanoseconds into a monotonic deadline.
pub fn deadline_after(ns: u64) -> u64 {
    crate::time::monotonic_ns().saturating_add(ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::epoll::{epoll_ctl, new_epoll, EPOLLIN, EPOLL_CTL_ADD};
    use crate::fs::eventfd::new_eventfd;
    use crate::fs::file::OpenFile;
    use crate::fs::inode::Metadata;
    use crate::fs::pipe::new_pipe;
    use alloc::string::String;
    use alloc::sync::Arc;
    use core::any::Any;

    struct Foreign(WaitQueue);
    impl FileOps for Foreign {
        fn stat(&self) -> KResult<Metadata> {
            Ok(Metadata::default())
        }
        fn wait_queue(&self) -> Option<&WaitQueue> {
            Some(&self.0)
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    struct Plain;
    impl FileOps for Plain {
        fn stat(&self) -> KResult<Metadata> {
            Ok(Metadata::default())
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    #[test]
    fn plans() {
        let (r, w) = new_pipe(0);
        let efd = new_eventfd(0, 0).unwrap();
        let foreign = OpenFile::new(Arc::new(Foreign(WaitQueue::new())), 0, String::new());
        let plain = OpenFile::new(Arc::new(Plain), 0, String::new());
        assert_eq!(WaitSet::new().plan(), Plan::Never);
        let mut s = WaitSet::new();
        s.add(&*plain.ops);
        assert_eq!(s.plan(), Plan::Never, "a file without a queue never changes");
        s.add(&*r.ops);
        assert!(matches!(s.plan(), Plan::Single(q) if ptr::eq(q, r.ops.wait_queue().unwrap())));
        s.add(&*efd.ops);
        assert_eq!(s.plan(), Plan::PollWake { slice: false });
        s.add(&*foreign.ops);
        assert_eq!(s.plan(), Plan::PollWake { slice: true });
        let mut s = WaitSet::new();
        s.add(&*foreign.ops);
        assert!(matches!(s.plan(), Plan::Single(_)), "one foreign file: its own queue, exactly");
        // An epoll file alone: POLL_WAKE, sliced only if it watches a foreign file.
        let ep = new_epoll();
        epoll_ctl(&ep, EPOLL_CTL_ADD, 3, &r, EPOLLIN, 0).unwrap();
        let mut s = WaitSet::new();
        s.add(&*ep.ops);
        assert_eq!(s.plan(), Plan::PollWake { slice: false });
        epoll_ctl(&ep, EPOLL_CTL_ADD, 4, &foreign, EPOLLIN, 0).unwrap();
        assert_eq!(s.plan(), Plan::PollWake { slice: false }, "a plan is fixed when built");
        let mut s = WaitSet::new();
        s.add(&*ep.ops);
        assert_eq!(s.plan(), Plan::PollWake { slice: true });
        assert!(is_local(&*w.ops) && is_local(&*efd.ops) && !is_local(&*foreign.ops) && !is_local(&*ep.ops));
    }

    #[test]
    fn generations_move_on_changes() {
        let (r, w) = new_pipe(0);
        let g = generation(&*r.ops).unwrap();
        assert_eq!(w.ops.write(&w, b"x"), Ok(1));
        assert!(generation(&*r.ops).unwrap() > g);
        let efd = new_eventfd(0, 0).unwrap();
        let g = generation(&*efd.ops).unwrap();
        assert_eq!(efd.ops.write(&efd, &1u64.to_ne_bytes()), Ok(8));
        assert!(generation(&*efd.ops).unwrap() > g);
        let foreign = OpenFile::new(Arc::new(Foreign(WaitQueue::new())), 0, String::new());
        assert_eq!(generation(&*foreign.ops), None);
    }

    #[test]
    fn sliced_wait_honours_the_real_deadline() {
        let foreign = OpenFile::new(Arc::new(Foreign(WaitQueue::new())), 0, String::new());
        let (r, _w) = new_pipe(0);
        let mut s = WaitSet::new();
        s.add(&*foreign.ops);
        s.add(&*r.ops);
        let t0 = crate::time::monotonic_ns();
        let d = t0 + 3 * FOREIGN_SLICE_NS / 2;
        assert_eq!(s.wait(Some(d), || false), Err(Errno::ETIMEDOUT));
        assert!(crate::time::monotonic_ns() >= d);
    }
}

#[cfg(test)]
#[path = "pollwait_sched_tests.rs"]
mod sched_tests;
