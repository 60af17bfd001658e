//! [`BpfFileOps`]: a bpf object fd as an open file (Linux `bpf_map_fops`, `bpf_prog_fops`,
//! `bpf_link_fops`, `btf_fops`, `bpf_stats_fops` in kernel/bpf/syscall.c and btf.c, 6.1).
//!
//! - `read`/`write`: `EINVAL` (`bpf_dummy_read`/`bpf_dummy_write`); `pread`/`lseek`: `ESPIPE`
//!   (anonymous files have no `FMODE_PREAD`/`llseek`).
//! - `fstat`: the anonymous inode (mode `0600` without a type, like every `anon_inode:` file).
//! - `mmap` (maps only, see [`super::mmap`]).
//! - `poll`: ring buffers are readable while records are available (`ringbuf_map_poll`); any
//!   other map answers `EPOLLERR` (`bpf_map_poll` without `map_poll`); programs, links and
//!   BTF have no `poll` (always ready, `DEFAULT_POLLMASK`).
//! - `/proc/self/fdinfo` lines ([`super::fdinfo`]).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicBool, Ordering};

use bpf_subsys::object::{BpfFile, BpfObject};
use maps::RingBuf;
use spin::Mutex;

use super::{fdinfo, mmap};
use crate::fs::anon_inode::anon_inode_metadata;
use crate::fs::{FileOps, Metadata, MmapBacking, OpenFile, PollEvents};
use crate::sync::WaitQueue;
use crate::KResult;

/// An open bpf object fd.
pub struct BpfFileOps {
    file: BpfFile,
    /// Ring buffer maps: the queue poll waits on, woken by the ring buffer's notify hook.
    ring_queue: Option<Arc<WaitQueue>>,
}

impl BpfFileOps {
    /// The file for `file`; a ring buffer map gets its wake-up queue here.
    pub fn new(file: BpfFile) -> BpfFileOps {
        let ring_queue = ringbuf_of(file.object()).map(|(map_addr, rb)| ring_queue(map_addr, rb));
        BpfFileOps { file, ring_queue }
    }

    /// The subsystem's file (object and access mode).
    pub fn bpf_file(&self) -> &BpfFile {
        &self.file
    }
}

/// The ring buffer behind a map object, with the map object's address (its identity).
fn ringbuf_of(obj: &BpfObject) -> Option<(usize, &RingBuf)> {
    match obj {
        BpfObject::Map(m) => {
            let rb = m.map().as_any().downcast_ref::<RingBuf>()?;
            Some((Arc::as_ptr(m).addr(), rb))
        }
        _ => None,
    }
}

/// One wait queue per ring buffer map, shared by all its fds, keyed by the map object's
/// address, with the flag the ring buffer's notify hook sets. The hook holds only the flag;
/// fds hold the queue (and the map) strongly, so a live entry always belongs to a live map
/// and an address reused by a later map finds a dead one.
static RING_QUEUES: Mutex<BTreeMap<usize, RingWaiters>> = Mutex::new(BTreeMap::new());

struct RingWaiters {
    queue: Weak<WaitQueue>,
    /// Set by the notify hook (program context), taken by [`ring_wakeups`].
    pending: Arc<AtomicBool>,
}

fn ring_queue(map_addr: usize, rb: &RingBuf) -> Arc<WaitQueue> {
    let mut queues = RING_QUEUES.lock();
    if let Some(q) = queues.get(&map_addr).and_then(|w| w.queue.upgrade()) {
        return q;
    }
    queues.retain(|_, w| w.queue.strong_count() > 0);
    let q = Arc::new(WaitQueue::new());
    let pending = Arc::new(AtomicBool::new(false));
    let flag = pending.clone();
    // Runs in program context, possibly inside code that holds this queue's lock (a kprobe
    // or tracepoint program): only marks the ring and queues irq_work; `ring_wakeups` wakes.
    rb.set_notify(Some(Arc::new(move || {
        flag.store(true, Ordering::Release);
        crate::sync::irq_work::queue();
    })));
    queues.insert(map_addr, RingWaiters { queue: Arc::downgrade(&q), pending });
    q
}

/// Wakes the waiters of every ring buffer whose notify hook fired since the last call. Runs
/// from the kernel's irq_work ([`crate::sync::irq_work`]), where no kernel lock is held.
pub fn ring_wakeups() {
    let woken: Vec<Arc<WaitQueue>> = RING_QUEUES
        .lock()
        .values()
        .filter(|w| w.pending.swap(false, Ordering::AcqRel))
        .filter_map(|w| w.queue.upgrade())
        .collect();
    for q in woken {
        q.wake_all();
    }
}

impl FileOps for BpfFileOps {
    fn stat(&self) -> KResult<Metadata> {
        Ok(anon_inode_metadata())
    }

    fn mmap(&self, file: &OpenFile, offset: u64, len: u64, prot: u32, flags: u32) -> KResult<MmapBacking> {
        match self.file.object() {
            BpfObject::Map(m) => mmap::mmap_map(m, file, offset, len, prot, flags),
            // No `mmap` in bpf_prog_fops, bpf_link_fops, btf_fops, bpf_stats_fops.
            _ => Err(syscall_abi::Errno::ENODEV),
        }
    }

    fn poll(&self, _file: &OpenFile) -> PollEvents {
        match (self.file.object(), &self.ring_queue) {
            (BpfObject::Map(m), Some(_)) => match m.map().as_any().downcast_ref::<RingBuf>() {
                Some(rb) if rb.poll_ready() => PollEvents::IN | PollEvents::RDNORM,
                _ => PollEvents::empty(),
            },
            (BpfObject::Map(_), None) => PollEvents::ERR,
            _ => PollEvents::IN | PollEvents::OUT | PollEvents::RDNORM | PollEvents::WRNORM,
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        self.ring_queue.as_deref()
    }

    fn fdinfo(&self) -> String {
        fdinfo::fdinfo(self.file.object())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
