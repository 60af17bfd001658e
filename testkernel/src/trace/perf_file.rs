//! [`PerfFileOps`]: a perf event fd as an open file (Linux `perf_fops`, kernel/events/core.c
//! 6.1): `read` (the counter in the event's `read_format`), `ioctl` (`PERF_EVENT_IOC_*`),
//! `mmap` of the ring buffer, `poll` with wake-ups, and release on the last close.
//!
//! - `read`/`ioctl`/`mmap`/`poll` are the event's own ([`perf_event::PerfEvent`]); this file
//!   adds what the VFS side decides: `write` is `EINVAL` (no `write` in `perf_fops`),
//!   `pread`/`lseek` `ESPIPE` (`no_llseek`, no `FMODE_PREAD`), `fstat` the anonymous inode.
//! - `mmap` (Linux `perf_mmap`): only `MAP_SHARED` (`EINVAL` otherwise), at offset 0 with
//!   `1 + 2^n` pages (the event checks that); the frames are the ring's pages, which this
//!   kernel's `BpfHost::alloc_shared` made ([`KernelShared`]); the mapping holds the ring.
//! - Wake-ups: one [`WaitQueue`] per event, found by event id ([`wake_event`]), woken only
//!   from the perf irq_work run (never from event context).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use perf_event::{PerfEvent, PerfRing};
use spin::Mutex;
use syscall_abi::Errno;

use crate::bpf::shared::KernelShared;
use crate::fs::anon_inode::anon_inode_metadata;
use crate::fs::file::FrameSource;
use crate::fs::{FileOps, Metadata, MmapBacking, OpenFile, PollEvents};
use crate::mm::PAGE_SIZE;
use crate::sync::WaitQueue;
use crate::user::UserMem;
use crate::KResult;

/// The `/proc/self/fd` name of a perf event fd.
pub const PERF_EVENT_PATH: &str = "anon_inode:[perf_event]";

/// `PROT_WRITE`.
const PROT_WRITE: u32 = 0x2;
/// `MAP_TYPE`.
const MAP_TYPE: u32 = 0x0f;
/// `MAP_SHARED`.
const MAP_SHARED: u32 = 0x01;
/// `MAP_SHARED_VALIDATE`.
const MAP_SHARED_VALIDATE: u32 = 0x03;

/// An open perf event.
pub struct PerfFileOps {
    event: Arc<PerfEvent>,
    queue: Arc<WaitQueue>,
}

/// The wait queue of each live event fd, by event id (held weakly: the fd owns it).
static QUEUES: Mutex<BTreeMap<u32, Weak<WaitQueue>>> = Mutex::new(BTreeMap::new());

impl PerfFileOps {
    /// The file for `event` (registers its wake-up queue).
    pub fn new(event: Arc<PerfEvent>) -> PerfFileOps {
        let queue = Arc::new(WaitQueue::new());
        let mut q = QUEUES.lock();
        q.retain(|_, w| w.strong_count() > 0);
        q.insert(event.id(), Arc::downgrade(&queue));
        PerfFileOps { event, queue }
    }

    /// The event.
    pub fn event(&self) -> &Arc<PerfEvent> {
        &self.event
    }
}

/// Wakes the pollers and readers of event `id`'s fd. Takes locks: only from a safe point
/// (the perf irq_work run), never from event context.
pub fn wake_event(id: u32) {
    let q = QUEUES.lock().get(&id).and_then(Weak::upgrade);
    if let Some(q) = q {
        crate::fs::pollwait::notify(&q);
    }
}

/// The ring's frames as one mapping shows them.
struct PerfFrames {
    frames: Vec<u64>,
    writable: bool,
    _ring: Arc<PerfRing>,
}

impl FrameSource for PerfFrames {
    fn frame(&self, index: u64) -> Option<u64> {
        self.frames.get(usize::try_from(index).ok()?).copied()
    }

    fn writable(&self, index: u64) -> bool {
        self.writable && self.frame(index).is_some()
    }
}

impl FileOps for PerfFileOps {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        self.event.read(buf).map_err(|e| e.errno)
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> KResult<Metadata> {
        Ok(anon_inode_metadata())
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64, _mem: &dyn UserMem) -> KResult<u64> {
        self.event.ioctl(cmd, arg).map_err(|e| e.errno)
    }

    fn mmap(&self, file: &OpenFile, offset: u64, len: u64, prot: u32, flags: u32) -> KResult<MmapBacking> {
        let shared = matches!(flags & MAP_TYPE, MAP_SHARED | MAP_SHARED_VALIDATE);
        let writable = prot & PROT_WRITE != 0;
        // do_mmap's access checks, then perf_mmap's VM_SHARED requirement.
        if (shared && writable && !file.writable()) || !file.readable() {
            return Err(Errno::EACCES);
        }
        if !shared {
            return Err(Errno::EINVAL);
        }
        let npages = usize::try_from(len / PAGE_SIZE).map_err(|_| Errno::EINVAL)?;
        let ring = self.event.mmap(offset / PAGE_SIZE, npages, writable).map_err(|e| e.errno)?;
        let Some(pages) = ring.pages().as_any().downcast_ref::<KernelShared>() else {
            log::error!("perf: event {} has ring pages not made by this kernel", self.event.id());
            return Err(Errno::ENODEV);
        };
        let frames = (0..npages).map(|i| pages.frame(i)).collect::<Option<Vec<u64>>>().ok_or(Errno::EINVAL)?;
        Ok(MmapBacking::Frames(Arc::new(PerfFrames { frames, writable, _ring: ring })))
    }

    fn poll(&self, _file: &OpenFile) -> PollEvents {
        let st = self.event.poll_ready();
        let mut ev = PollEvents::empty();
        if st.readable {
            ev |= PollEvents::IN | PollEvents::RDNORM;
        }
        if st.hup {
            ev |= PollEvents::HUP;
        }
        ev
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn fdinfo(&self) -> String {
        String::new()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
