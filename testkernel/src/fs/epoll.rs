//! epoll instances (fs/eventpoll.c semantics): an interest list of `(fd, file)` items, each
//! with an event mask and 64-bit user data; [`EpollFile::ctl`] adds/modifies/deletes items,
//! [`EpollFile::wait`] reports ready items.
//!
//! - Level-triggered by default: an item is reported whenever `poll` of its file intersects
//!   its mask (`EPOLLERR | EPOLLHUP` are always in the mask).
//! - `EPOLLET`: reported once per readiness change — when ready and the file's change
//!   counter ([`super::pollwait::generation`]) moved since the last report (files without a
//!   counter fall back to level-triggered: extra events, never lost ones).
//! - `EPOLLONESHOT`: disabled after one report until `EPOLL_CTL_MOD` re-arms it.
//! - Items hold no reference to their file: when the last fd of a description closes, the
//!   item disappears (Linux's `eventpoll_release`); closing one of two dup'ed fds keeps it.
//! - Reporting rotates through the ready items so `maxevents` smaller than the ready count
//!   still serves every item in turn (Linux re-queues level-triggered items at the tail).
//! - An epoll file is itself pollable (`IN` when an item is ready) and may be nested up to
//!   [`EP_MAX_NESTS`] levels; loops are `ELOOP`.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;
use syscall_abi::Errno;

use super::anon_inode::anon_inode_metadata;
use super::file::{FileOps, OpenFile, PollEvents, O_RDWR};
use super::inode::Metadata;
use super::pollwait::{self, WaitSet, POLL_WAKE};
use crate::sync::WaitQueue;
use crate::KResult;

/// `EPOLL_CTL_ADD`.
pub const EPOLL_CTL_ADD: u32 = 1;
/// `EPOLL_CTL_DEL`.
pub const EPOLL_CTL_DEL: u32 = 2;
/// `EPOLL_CTL_MOD`.
pub const EPOLL_CTL_MOD: u32 = 3;
/// `EPOLLIN`.
pub const EPOLLIN: u32 = 0x001;
/// `EPOLLOUT`.
pub const EPOLLOUT: u32 = 0x004;
/// `EPOLLERR`.
pub const EPOLLERR: u32 = 0x008;
/// `EPOLLHUP`.
pub const EPOLLHUP: u32 = 0x010;
/// `EPOLLRDHUP`.
pub const EPOLLRDHUP: u32 = 0x2000;
/// `EPOLLEXCLUSIVE`.
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
/// `EPOLLWAKEUP`.
pub const EPOLLWAKEUP: u32 = 1 << 29;
/// `EPOLLONESHOT`.
pub const EPOLLONESHOT: u32 = 1 << 30;
/// `EPOLLET`.
pub const EPOLLET: u32 = 1 << 31;
/// Bits that survive a one-shot report (Linux `EP_PRIVATE_BITS`).
const EP_PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/// Bits allowed with `EPOLLEXCLUSIVE` (Linux `EPOLLEXCLUSIVE_OK_BITS`).
pub const EPOLLEXCLUSIVE_OK_BITS: u32 =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/// Deepest nesting of epoll instances (Linux `EP_MAX_NESTS`).
pub const EP_MAX_NESTS: usize = 4;
/// The `/proc/self/fd` name of an epoll instance.
pub const EPOLL_PATH: &str = "anon_inode:[eventpoll]";

/// Serialises adding an epoll into an epoll, so that two concurrent adds cannot build a
/// loop that each loop check alone would have refused (Linux's `epmutex`).
static NEST_LOCK: Mutex<()> = Mutex::new(());

struct Item {
    fd: i32,
    key: usize,
    file: Weak<OpenFile>,
    events: u32,
    data: u64,
    /// `EPOLLET`: the file's change counter at the last report (`None`: never reported
    /// since ADD/MOD).
    reported_gen: Option<u64>,
}

struct Interest {
    items: Vec<Item>,
    /// Where the next scan starts (fair rotation).
    cursor: usize,
}

/// An epoll instance.
pub struct EpollFile {
    interest: Mutex<Interest>,
    wq: WaitQueue,
    /// Counts interest-list changes: a waiter rebuilds its set of watched queues after one.
    ctl_changes: AtomicU64,
}

/// One reported event: `(events, data)` as `struct epoll_event` carries them.
pub type EpollEvent = (u32, u64);

/// A snapshot of one item for checking readiness outside the interest lock.
struct Probe {
    fd: i32,
    key: usize,
    file: Weak<OpenFile>,
    events: u32,
    reported_gen: Option<u64>,
}

/// `epoll_ctl` once the fds are resolved: `ep_file` is the epoll description, `fd` and
/// `target` the file to watch, `events`/`data` from `struct epoll_event` (ignored for
/// `DEL`). Errors in the order of Linux's `do_epoll_ctl`: `EPERM` for a target that cannot
/// be polled (no wait queue: regular files, `/dev/null`), `EINVAL` for `EPOLLEXCLUSIVE`
/// misuse, for watching itself or when `ep_file` is not an epoll instance, `ELOOP` for a
/// loop or too deep nesting, `EEXIST` for adding a present item, `ENOENT` for modifying or
/// deleting an absent one, `EINVAL` for an unknown `op`.
pub fn epoll_ctl(
    ep_file: &Arc<OpenFile>,
    op: u32,
    fd: i32,
    target: &Arc<OpenFile>,
    events: u32,
    data: u64,
) -> KResult<()> {
    if target.ops.wait_queue().is_none() {
        return Err(Errno::EPERM);
    }
    let has_event = op != EPOLL_CTL_DEL;
    if has_event && events & EPOLLEXCLUSIVE != 0 {
        if op == EPOLL_CTL_MOD {
            return Err(Errno::EINVAL);
        }
        if op == EPOLL_CTL_ADD && (EpollFile::of(target).is_some() || events & !EPOLLEXCLUSIVE_OK_BITS != 0) {
            return Err(Errno::EINVAL);
        }
    }
    if Arc::ptr_eq(ep_file, target) {
        return Err(Errno::EINVAL);
    }
    EpollFile::of(ep_file).ok_or(Errno::EINVAL)?.ctl(op, fd, target, events, data)
}

/// Creates an epoll instance (`epoll_create1`; `EPOLL_CLOEXEC` is the caller's fd flag).
pub fn new_epoll() -> Arc<OpenFile> {
    let ep = Arc::new(EpollFile {
        interest: Mutex::new(Interest { items: Vec::new(), cursor: 0 }),
        wq: WaitQueue::new(),
        ctl_changes: AtomicU64::new(0),
    });
    OpenFile::new(ep, O_RDWR, String::from(EPOLL_PATH))
}

fn key_of(file: &Arc<OpenFile>) -> usize {
    Arc::as_ptr(file) as usize
}

/// Nested epoll instances are polled through [`EpollFile::ready_at`] with an explicit depth;
/// deeper than this they count as not ready (Linux refuses such nesting with `ELOOP` when
/// it is built downwards; this bounds the recursion however it was built).
const MAX_POLL_DEPTH: usize = EP_MAX_NESTS + 2;

/// `poll` of `file`, recursing into nested epoll instances with a depth bound.
fn poll_bits(file: &OpenFile, depth: usize) -> u32 {
    match EpollFile::of(file) {
        Some(ep) if depth < MAX_POLL_DEPTH && ep.ready_at(depth + 1) => (PollEvents::IN | PollEvents::RDNORM).bits(),
        Some(_) => 0,
        None => file.ops.poll(file).bits(),
    }
}

/// What `item` reports now: `Some((events, gen))` when it should be reported.
fn check(p: &Probe, file: &OpenFile, depth: usize) -> Option<(u32, Option<u64>)> {
    let mask = p.events & !EP_PRIVATE_BITS;
    if mask == 0 {
        return None;
    }
    let gen = pollwait::generation(&*file.ops);
    let ev = poll_bits(file, depth) & mask;
    if ev == 0 {
        return None;
    }
    if p.events & EPOLLET != 0 && gen.is_some() && p.reported_gen.is_some() && gen == p.reported_gen {
        return None;
    }
    Some((ev, gen))
}

impl EpollFile {
    fn of(file: &OpenFile) -> Option<&EpollFile> {
        file.ops.as_any().downcast_ref::<EpollFile>()
    }

    /// Drops items whose file is gone; returns probes in scan order (from the cursor).
    fn probes(&self) -> Vec<Probe> {
        let mut g = self.interest.lock();
        g.items.retain(|it| it.file.strong_count() > 0);
        let n = g.items.len();
        let start = if n == 0 { 0 } else { g.cursor % n };
        (0..n)
            .map(|i| &g.items[(start + i) % n])
            .map(|it| Probe {
                fd: it.fd,
                key: it.key,
                file: it.file.clone(),
                events: it.events,
                reported_gen: it.reported_gen,
            })
            .collect()
    }

    /// Number of items (live or not yet purged).
    pub fn len(&self) -> usize {
        self.interest.lock().items.len()
    }

    /// Whether the interest list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether some item would be reported now (nothing is consumed).
    pub fn any_ready(&self) -> bool {
        self.ready_at(0)
    }

    fn ready_at(&self, depth: usize) -> bool {
        self.probes().iter().any(|p| p.file.upgrade().is_some_and(|f| check(p, &f, depth).is_some()))
    }

    /// Whether every live target wakes [`POLL_WAKE`] (see [`pollwait::is_local`]).
    pub fn all_targets_local(&self) -> bool {
        self.local_at(0)
    }

    fn local_at(&self, depth: usize) -> bool {
        self.probes().iter().all(|p| {
            p.file.upgrade().is_none_or(|f| match Self::of(&f) {
                Some(ep) => depth < MAX_POLL_DEPTH && ep.local_at(depth + 1),
                None => pollwait::is_local(&*f.ops),
            })
        })
    }

    /// Deepest chain of epoll instances below this one (0: no epoll targets), capped.
    fn nest_depth(&self, budget: usize) -> usize {
        if budget == 0 {
            return 0;
        }
        let mut deepest = 0;
        for p in self.probes() {
            if let Some(f) = p.file.upgrade() {
                if let Some(ep) = Self::of(&f) {
                    deepest = deepest.max(1 + ep.nest_depth(budget - 1));
                }
            }
        }
        deepest
    }

    /// Whether `target` is this instance or (transitively) contains it.
    fn reaches(&self, target: &EpollFile, budget: usize) -> bool {
        if core::ptr::eq(self, target) {
            return true;
        }
        if budget == 0 {
            return false;
        }
        self.probes()
            .iter()
            .any(|p| p.file.upgrade().is_some_and(|f| Self::of(&f).is_some_and(|ep| ep.reaches(target, budget - 1))))
    }

    /// `epoll_ctl` once the fds are resolved: see [`epoll_ctl`].
    fn ctl(&self, op: u32, fd: i32, target: &Arc<OpenFile>, events: u32, data: u64) -> KResult<()> {
        // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND and a suspend to matter: dropped, as Linux
        // does without the capability.
        let events = events & !EPOLLWAKEUP;
        let key = key_of(target);
        let _nest = match (op, Self::of(target)) {
            (EPOLL_CTL_ADD, Some(inner)) => {
                let guard = NEST_LOCK.lock();
                // Linux's ep_loop_check: a loop, or an epoll found more than EP_MAX_NESTS
                // levels below the target.
                if inner.reaches(self, MAX_POLL_DEPTH) || inner.nest_depth(MAX_POLL_DEPTH) > EP_MAX_NESTS + 1 {
                    return Err(Errno::ELOOP);
                }
                Some(guard)
            }
            _ => None,
        };
        {
            let mut g = self.interest.lock();
            g.items.retain(|it| it.file.strong_count() > 0);
            let pos = g.items.iter().position(|it| it.fd == fd && it.key == key);
            match (op, pos) {
                (EPOLL_CTL_ADD, Some(_)) => return Err(Errno::EEXIST),
                (EPOLL_CTL_ADD, None) => g.items.push(Item {
                    fd,
                    key,
                    file: Arc::downgrade(target),
                    events: events | EPOLLERR | EPOLLHUP,
                    data,
                    reported_gen: None,
                }),
                (EPOLL_CTL_DEL, Some(i)) => {
                    g.items.remove(i);
                }
                (EPOLL_CTL_MOD, Some(i)) => {
                    let it = &mut g.items[i];
                    if it.events & EPOLLEXCLUSIVE != 0 {
                        return Err(Errno::EINVAL);
                    }
                    it.events = events | EPOLLERR | EPOLLHUP;
                    it.data = data;
                    it.reported_gen = None;
                }
                (EPOLL_CTL_DEL | EPOLL_CTL_MOD, None) => return Err(Errno::ENOENT),
                _ => return Err(Errno::EINVAL),
            }
        }
        self.ctl_changes.fetch_add(1, Ordering::SeqCst);
        pollwait::notify(&self.wq);
        Ok(())
    }

    /// Reports up to `max` ready items now (consuming edge-triggered and one-shot state).
    pub fn collect(&self, max: usize) -> Vec<EpollEvent> {
        let mut out: Vec<EpollEvent> = Vec::new();
        let mut hits: Vec<(i32, usize, Option<u64>)> = Vec::new();
        let mut last_scanned = None;
        for (i, p) in self.probes().iter().enumerate() {
            if out.len() >= max {
                break;
            }
            let Some(file) = p.file.upgrade() else { continue };
            if let Some((ev, gen)) = check(p, &file, 0) {
                hits.push((p.fd, p.key, gen));
                out.push((ev, 0));
                last_scanned = Some(i);
            }
        }
        let mut g = self.interest.lock();
        let n = g.items.len();
        if let Some(i) = last_scanned {
            g.cursor = if n == 0 { 0 } else { (g.cursor % n + i + 1) % n };
        }
        // Fill in data and consume state; an item deleted meanwhile loses its event.
        let mut kept = Vec::with_capacity(out.len());
        for ((fd, key, gen), (ev, _)) in hits.into_iter().zip(out) {
            if let Some(it) = g.items.iter_mut().find(|it| it.fd == fd && it.key == key) {
                kept.push((ev, it.data));
                it.reported_gen = gen;
                if it.events & EPOLLONESHOT != 0 {
                    it.events &= EP_PRIVATE_BITS;
                }
            }
        }
        kept
    }

    /// `epoll_wait`: up to `max` events, waiting until one is ready, `deadline` (monotonic
    /// ns; `None` forever; in the past: just check) passes (an empty list) or a signal
    /// arrives (`EINTR`).
    pub fn wait(&self, max: usize, deadline: Option<u64>) -> KResult<Vec<EpollEvent>> {
        loop {
            let ev = self.collect(max);
            if !ev.is_empty() || deadline.is_some_and(|d| crate::time::monotonic_ns() >= d) {
                return Ok(ev);
            }
            // Watch every live target's queue (their ops only: holding a file would keep it
            // open) and our own (woken by epoll_ctl); after an epoll_ctl the set is rebuilt,
            // as a new target may need a different way of waiting.
            let changes = self.ctl_changes.load(Ordering::SeqCst);
            let ops: Vec<Arc<dyn FileOps>> =
                self.probes().iter().filter_map(|p| p.file.upgrade().map(|f| f.ops.clone())).collect();
            let mut set = WaitSet::new();
            set.add_queue(&self.wq, true);
            for o in &ops {
                set.add(&**o);
            }
            match set.wait(deadline, || self.any_ready() || self.ctl_changes.load(Ordering::SeqCst) != changes) {
                Ok(()) => {}
                Err(Errno::ETIMEDOUT) => return Ok(self.collect(max)),
                Err(e) => return Err(e),
            }
        }
    }
}

impl FileOps for EpollFile {
    fn stat(&self) -> KResult<Metadata> {
        Ok(anon_inode_metadata())
    }

    fn poll(&self, _file: &OpenFile) -> PollEvents {
        if self.any_ready() {
            PollEvents::IN | PollEvents::RDNORM
        } else {
            PollEvents::empty()
        }
    }

    /// Pollers of an epoll file sleep on [`POLL_WAKE`], which its local targets wake.
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&POLL_WAKE)
    }

    fn release(&self) {
        self.interest.lock().items.clear();
    }

    fn fdinfo(&self) -> String {
        let mut s = String::new();
        for p in self.probes() {
            let Some(f) = p.file.upgrade() else { continue };
            let data =
                self.interest.lock().items.iter().find(|it| it.fd == p.fd && it.key == p.key).map_or(0, |it| it.data);
            let (ino, dev) = f.ops.stat().map_or((0, 0), |m| (m.ino, m.dev));
            let pos = *f.pos.lock();
            let _ = writeln!(
                s,
                "tfd: {:8} events: {:8x} data: {:16x}  pos:{} ino:{:x} sdev:{:x}",
                p.fd, p.events, data, pos, ino, dev
            );
        }
        s
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
#[path = "epoll_tests.rs"]
mod tests;
