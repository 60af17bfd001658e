//! The perf ring buffer (Linux `kernel/events/ring_buffer.c`): a `perf_event_mmap_page`
//! followed by 2^n data pages, shared with user space.
//!
//! Protocol (the uapi contract): the kernel writes records at `data_head` and publishes the
//! new head with a release store after the record bytes; user space reads up to `data_head`
//! (acquire) and writes `data_tail` when it has consumed records; the kernel reads
//! `data_tail` with acquire before reusing space. Records wrap byte-wise around the data
//! area (user space copies with wrap). A record that does not fit is dropped and counted;
//! the count goes out as a `PERF_RECORD_LOST` in front of the next record that fits.
//! A mapping without `PROT_WRITE` is an overwrite ring (Linux `RING_BUFFER_WRITABLE`
//! unset): the tail is ignored and old data overwritten.
//!
//! Wake-ups: after `wakeup_events` samples, or each time the head passes another
//! `watermark` bytes (`wakeup_watermark` with `attr.watermark`, else half the data area).

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::mem::offset_of;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use maps::SharedPages;
use spin::Mutex;
use syscall_abi::perf::PerfEventMmapPage;
use syscall_abi::{err, Errno, Result};

use crate::event::EventCore;

/// Producer state (kernel private).
struct Writer {
    /// Next byte to write (free-running).
    head: u64,
    /// Records dropped since the last `PERF_RECORD_LOST`.
    lost: u64,
    /// Head position of the last watermark wake-up.
    wakeup_at: u64,
    /// Samples since the last `wakeup_events` wake-up.
    events: u32,
}

/// The ring buffer of one or more events (shared by `PERF_EVENT_IOC_SET_OUTPUT`).
pub(crate) struct RingBuffer {
    pages: Box<dyn SharedPages>,
    page_size: usize,
    data_size: usize,
    overwrite: bool,
    watermark: u64,
    wakeup_events: u32,
    writer: Mutex<Writer>,
    /// `EPOLLIN` pending (Linux `rb->poll`): set by a wake-up, cleared when poll sees the
    /// consumer caught up.
    poll: AtomicBool,
    /// A wake-up waits for `irq_work_run`.
    wake_pending: AtomicBool,
    /// `PERF_EVENT_IOC_PAUSE_OUTPUT`.
    paused: AtomicBool,
    /// Live user mappings (Linux `rb->mmap_count`).
    mmap_count: AtomicUsize,
    /// Events writing into this ring (syscall side only).
    events: Mutex<Vec<Weak<EventCore>>>,
    /// Id of the event whose mmap made the ring.
    owner: u32,
}

/// Why a record was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputError {
    /// No room (counted as lost).
    NoSpace,
    /// The ring has no data pages, output is paused or the writer is busy.
    Unavailable,
}

/// Writes bytes into the data area at a free-running position, wrapping.
pub(crate) struct Cursor {
    base: *mut u8,
    mask: u64,
    pos: u64,
}

impl Cursor {
    /// Appends `bytes`.
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let mut done = 0;
        while done < bytes.len() {
            // The mask keeps the offset inside the data area (a power of two in size).
            let off = (self.pos & self.mask) as usize;
            let room = (self.mask as usize + 1) - off;
            let n = room.min(bytes.len() - done);
            // SAFETY: `base` is the start of the data area of `mask + 1` bytes, which lives
            // as long as the ring (the cursor never outlives `RingBuffer::output`);
            // `off + n <= mask + 1`. User space may read the bytes concurrently: the
            // mapping is shared memory, and the head is published only afterwards.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr().add(done), self.base.add(off), n) };
            done += n;
            self.pos = self.pos.wrapping_add(n as u64);
        }
    }

    /// Appends a `u64` (native byte order).
    pub(crate) fn u64(&mut self, v: u64) {
        self.put(&v.to_ne_bytes());
    }

    /// Appends two `u32`s.
    pub(crate) fn u32x2(&mut self, a: u32, b: u32) {
        self.put(&a.to_ne_bytes());
        self.put(&b.to_ne_bytes());
    }
}

impl RingBuffer {
    /// A ring of `1 + data_pages` pages (`data_pages` 0 or a power of two).
    pub(crate) fn new(
        host: &dyn bpf_subsys::BpfHost,
        data_pages: usize,
        writable: bool,
        watermark: u32,
        wakeup_events: u32,
        owner: u32,
    ) -> Result<Arc<RingBuffer>> {
        let page_size = host.page_size();
        let total = data_pages.checked_add(1).ok_or(Errno::EINVAL)?;
        let data_size = data_pages.checked_mul(page_size).ok_or(Errno::ENOMEM)?;
        let pages = host.alloc_shared(total, 0)?;
        if pages.pages() < total {
            return err(Errno::ENOMEM, "short shared page allocation");
        }
        let size = data_size as u64;
        let mut mark = u64::from(watermark).min(size);
        if mark == 0 {
            mark = size / 2;
        }
        let rb = RingBuffer {
            pages,
            page_size,
            data_size,
            overwrite: !writable,
            watermark: mark,
            wakeup_events,
            writer: Mutex::new(Writer { head: 0, lost: 0, wakeup_at: 0, events: 0 }),
            poll: AtomicBool::new(false),
            wake_pending: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            mmap_count: AtomicUsize::new(0),
            events: Mutex::new(Vec::new()),
            owner,
        };
        rb.init_user_page();
        Ok(Arc::new(rb))
    }

    fn base(&self) -> *mut u8 {
        self.pages.as_ptr().as_ptr()
    }

    /// The `u64` of the metadata page at `off`.
    fn page_u64(&self, off: usize) -> &AtomicU64 {
        debug_assert!(off % 8 == 0 && off + 8 <= self.page_size);
        // SAFETY: the metadata page is the first page of the mapping (page aligned, so `off`
        // being a multiple of 8 keeps the atomic aligned) and lives as long as `self`.
        unsafe { &*(self.base().add(off) as *const AtomicU64) }
    }

    fn page_u32(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off % 4 == 0 && off + 4 <= self.page_size);
        // SAFETY: as `page_u64`, with 4-byte alignment.
        unsafe { &*(self.base().add(off) as *const AtomicU32) }
    }

    /// Linux `perf_event_init_userpage`.
    fn init_user_page(&self) {
        type P = PerfEventMmapPage;
        self.page_u32(offset_of!(P, version)).store(0, Ordering::Relaxed);
        self.page_u32(offset_of!(P, compat_version)).store(0, Ordering::Relaxed);
        // cap_bit0_is_deprecated = 1; no user time / rdpmc capabilities.
        self.page_u64(offset_of!(P, capabilities)).store(1 << 1, Ordering::Relaxed);
        self.page_u32(offset_of!(P, size)).store(offset_of!(P, reserved) as u32, Ordering::Relaxed);
        self.page_u64(offset_of!(P, data_offset)).store(self.page_size as u64, Ordering::Relaxed);
        self.page_u64(offset_of!(P, data_size)).store(self.data_size as u64, Ordering::Release);
    }

    /// Linux `perf_event_update_userpage`: the self-monitoring fields under the seqlock.
    pub(crate) fn update_user_page(&self, offset: u64, enabled: u64, running: u64) {
        type P = PerfEventMmapPage;
        let lock = self.page_u32(offset_of!(P, lock));
        lock.fetch_add(1, Ordering::AcqRel);
        self.page_u32(offset_of!(P, index)).store(0, Ordering::Relaxed);
        self.page_u64(offset_of!(P, offset)).store(offset, Ordering::Relaxed);
        self.page_u64(offset_of!(P, time_enabled)).store(enabled, Ordering::Relaxed);
        self.page_u64(offset_of!(P, time_running)).store(running, Ordering::Relaxed);
        lock.fetch_add(1, Ordering::Release);
    }

    /// Number of data pages.
    pub(crate) fn data_pages(&self) -> usize {
        self.data_size / self.page_size
    }

    /// The shared pages (metadata page + data).
    pub(crate) fn pages(&self) -> &dyn SharedPages {
        &*self.pages
    }

    /// Writes one record of `size` bytes (a multiple of 8) through `fill`, preceded by a
    /// `PERF_RECORD_LOST` (of `lost_size` bytes, written by `lost`) when records were
    /// dropped before. Returns whether a wake-up became due. `sample`: counts toward
    /// `wakeup_events`.
    pub(crate) fn output(
        &self,
        size: usize,
        sample: bool,
        lost_size: usize,
        lost: &dyn Fn(&mut Cursor, u64),
        fill: &mut dyn FnMut(&mut Cursor),
    ) -> core::result::Result<bool, OutputError> {
        if self.data_size == 0 || self.paused.load(Ordering::Relaxed) {
            return Err(OutputError::Unavailable);
        }
        let Some(mut w) = self.writer.try_lock() else {
            return Err(OutputError::Unavailable);
        };
        let have_lost = w.lost != 0;
        let total = size as u64 + if have_lost { lost_size as u64 } else { 0 };
        if !self.overwrite {
            let tail = self.page_u64(offset_of!(PerfEventMmapPage, data_tail)).load(Ordering::Acquire);
            let used = w.head.wrapping_sub(tail);
            let free = (self.data_size as u64).saturating_sub(used);
            if total > free || used > self.data_size as u64 {
                w.lost += 1;
                return Err(OutputError::NoSpace);
            }
        } else if total > self.data_size as u64 {
            w.lost += 1;
            return Err(OutputError::NoSpace);
        }
        let mut cur = Cursor { base: self.data_base(), mask: self.data_size as u64 - 1, pos: w.head };
        if have_lost {
            lost(&mut cur, w.lost);
            w.lost = 0;
        }
        fill(&mut cur);
        debug_assert_eq!(cur.pos, w.head.wrapping_add(total));
        w.head = w.head.wrapping_add(total);
        self.page_u64(offset_of!(PerfEventMmapPage, data_head)).store(w.head, Ordering::Release);
        let mut wake = false;
        if w.head.wrapping_sub(w.wakeup_at) > self.watermark {
            w.wakeup_at = w.wakeup_at.wrapping_add(self.watermark.max(1));
            wake = true;
        }
        if sample && self.wakeup_events != 0 {
            w.events += 1;
            if w.events >= self.wakeup_events {
                w.events = 0;
                wake = true;
            }
        }
        if wake {
            self.poll.store(true, Ordering::Release);
            self.wake_pending.store(true, Ordering::Release);
        }
        Ok(wake)
    }

    fn data_base(&self) -> *mut u8 {
        // SAFETY: the data area starts one page into the mapping of `1 + data_pages` pages.
        unsafe { self.base().add(self.page_size) }
    }

    /// Takes the pending wake-up, if any.
    pub(crate) fn take_wake(&self) -> bool {
        self.wake_pending.swap(false, Ordering::AcqRel)
    }

    /// Ids of the live events writing here.
    pub(crate) fn event_ids(&self) -> Vec<u32> {
        self.events.lock().iter().filter_map(|e| e.upgrade()).map(|e| e.id).collect()
    }

    /// Registers `event` as a writer of this ring.
    pub(crate) fn attach(&self, event: &Arc<EventCore>) {
        let mut evs = self.events.lock();
        evs.retain(|e| e.strong_count() > 0);
        evs.push(Arc::downgrade(event));
    }

    /// Removes `event` from the writers.
    pub(crate) fn detach(&self, event: &EventCore) {
        self.events.lock().retain(|e| e.strong_count() > 0 && !core::ptr::eq(e.as_ptr(), event));
    }

    /// `PERF_EVENT_IOC_PAUSE_OUTPUT`.
    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    /// Poll readiness: a wake-up happened and the consumer has not caught up since.
    pub(crate) fn poll_readable(&self) -> bool {
        if !self.poll.load(Ordering::Acquire) {
            return false;
        }
        let head = self.page_u64(offset_of!(PerfEventMmapPage, data_head)).load(Ordering::Acquire);
        let tail = self.page_u64(offset_of!(PerfEventMmapPage, data_tail)).load(Ordering::Acquire);
        if head == tail && !self.overwrite {
            self.poll.store(false, Ordering::Release);
            return false;
        }
        true
    }

    /// Id of the event whose mmap made the ring.
    pub(crate) fn owner(&self) -> u32 {
        self.owner
    }

    /// Whether a user mapping of the ring exists.
    pub(crate) fn mapped(&self) -> bool {
        self.mmap_count.load(Ordering::Acquire) != 0
    }
}

/// One user mapping of an event's ring buffer (what `mmap` of a perf fd returns). The
/// kernel maps [`PerfRing::pages`] (page `i` of the VMA = page `i` of the pages) and keeps
/// the value as long as the mapping exists (sharing it on fork). When the last mapping of a
/// ring goes, the ring is detached from its events and freed (Linux `perf_mmap_close`).
pub struct PerfRing {
    rb: Arc<RingBuffer>,
}

impl PerfRing {
    /// Registers one more mapping of `rb`.
    pub(crate) fn new(rb: Arc<RingBuffer>) -> PerfRing {
        rb.mmap_count.fetch_add(1, Ordering::AcqRel);
        PerfRing { rb }
    }

    /// The pages to map: the metadata page, then the data pages.
    pub fn pages(&self) -> &dyn SharedPages {
        self.rb.pages()
    }

    /// Number of pages of the mapping (`1 + 2^n`).
    pub fn page_count(&self) -> usize {
        1 + self.rb.data_pages()
    }
}

impl Drop for PerfRing {
    fn drop(&mut self) {
        if self.rb.mmap_count.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let events: Vec<Arc<EventCore>> = self.rb.events.lock().iter().filter_map(|e| e.upgrade()).collect();
        for e in events {
            e.detach_ring(&self.rb);
        }
    }
}
