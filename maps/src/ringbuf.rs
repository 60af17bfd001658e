//! `BPF_MAP_TYPE_RINGBUF`: one multi-producer, single-consumer ring shared by all CPUs;
//! programs write records into it, user space reads them through `mmap`.
//!
//! Reference: Linux 6.1 `kernel/bpf/ringbuf.c` (allocation checks, reservation, commit,
//! wake-up rule, query), `include/uapi/linux/bpf.h` (`BPF_RINGBUF_*`, `BPF_RB_*`) and
//! libbpf's `tools/lib/bpf/ringbuf.c` (the consumer user space runs).
//!
//! # Memory layout
//!
//! The pages come from [`MapHost::alloc_shared`]`(2 + n, n)` with `n = max_entries /
//! page_size`, so the kernel mapping is `2 + 2n` pages. An mmap of the map fd at page
//! offset `p` shows kernel page `p` (pages `2 + n ..` are the repeated data pages):
//!
//! | page (= mmap page offset) | content                                        | user access |
//! |---------------------------|------------------------------------------------|-------------|
//! | 0                         | consumer page: `consumer_pos` at offset 0      | read-write  |
//! | 1                         | producer page: `producer_pos` at offset 0      | read-only   |
//! | 2 .. 2 + n                | data area (`max_entries` bytes)                | read-only   |
//! | 2 + n .. 2 + 2n           | the same data pages again                      | read-only   |
//!
//! libbpf maps page 0 read-write (one page) and `page_size + 2 * max_entries` bytes at
//! offset `page_size` read-only; [`RingBuf::check_mmap`] applies Linux's rules for both.
//! Positions are `unsigned long` in Linux and `usize` here: free-running byte counters,
//! the offset in the data area is `pos & (max_entries - 1)`.
//!
//! Linux has one more page before the consumer page (the kernel-only part of `struct
//! bpf_ringbuf`, `RINGBUF_PGOFF`). User space never sees it, except that the `pg_off` of a
//! record header counts it; `pg_off` is computed here exactly as Linux computes it.
//!
//! # Records
//!
//! Each record starts with an 8-byte header `{ u32 len, u32 pg_off }` at an 8-byte aligned
//! position; `len` is the sample size with [`BPF_RINGBUF_BUSY_BIT`] while the producer
//! writes it and [`BPF_RINGBUF_DISCARD_BIT`] if it was discarded. The record occupies
//! `round_up(len + 8, 8)` bytes. Because the data pages are mapped twice, a record that
//! runs past the end of the data area is still contiguous, in the kernel and in user space.
//!
//! # Wake-ups
//!
//! Linux queues an `irq_work` that wakes the poll wait queue. Here the host installs a
//! callback with [`RingBuf::set_notify`]; it is called from [`RingBuf::submit`],
//! [`RingBuf::discard`] and [`RingBuf::output`] — i.e. from program context, possibly a
//! probe that interrupted arbitrary kernel code — so it must only queue deferred work or
//! wake waiters without sleeping or taking locks the interrupted code may hold. The host's
//! poll: register the waiter, then test [`RingBuf::poll_ready`] (`EPOLLIN | EPOLLRDNORM`).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;
use core::ptr::{self, NonNull};
use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use syscall_abi::bpf::{
    BPF_F_LOCK, BPF_F_NUMA_NODE, BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP,
    BPF_RB_PROD_POS, BPF_RB_RING_SIZE, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ,
};
use syscall_abi::{err, Errno, Result};

use crate::host::SharedPages;
use crate::lock::CpuLock;
use crate::{reclaim, round_up_8, BpfMap, MapAttr, MapDef, MapHost};

#[cfg(test)]
mod tests;

/// Creation flags a ring buffer accepts (Linux `RINGBUF_CREATE_FLAG_MASK`).
const CREATE_FLAG_MASK: u32 = BPF_F_NUMA_NODE;
/// Largest sample (Linux `RINGBUF_MAX_RECORD_SZ`): the top two bits of `len` are flags.
const MAX_RECORD_SZ: u64 = (u32::MAX / 4) as u64;
/// Kernel-only pages Linux has before the consumer page (`RINGBUF_PGOFF`); counted in
/// `pg_off` only.
const LINUX_PGOFF: usize = 1;
/// Consumer and producer pages (`RINGBUF_POS_PAGES`).
const POS_PAGES: usize = 2;
/// Header size as a `usize`.
const HDR_SZ: usize = BPF_RINGBUF_HDR_SZ as usize;
/// Both header flag bits.
const FLAG_BITS: u32 = BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT;

/// The wake-up hook the host installs (see the module documentation).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// The record header, as it lies in the data area.
#[repr(C)]
struct RecordHeader {
    len: AtomicU32,
    pg_off: AtomicU32,
}

/// A BPF ring buffer. Programs reach it through `map.as_any().downcast_ref::<RingBuf>()`.
pub struct RingBuf {
    def: MapDef,
    host: Arc<dyn MapHost>,
    pages: Box<dyn SharedPages>,
    page_size: usize,
    /// Data area size (`max_entries`), a power of two.
    size: usize,
    /// Producer spin lock (Linux `rb->spinlock`); re-entry on the same CPU fails like
    /// Linux's trylock in NMI context.
    lock: CpuLock<()>,
    /// Position of the oldest record that may still be busy; written under `lock`.
    /// Reservations never reach `size` bytes past it, so a consumer position moved by
    /// user space cannot make a producer overwrite a record still being written.
    pending_pos: AtomicUsize,
    /// `Box<Notify>` from `Box::into_raw`, or null. Replaced ones are retired.
    notify: AtomicPtr<Notify>,
    /// An in-kernel [`RingBuf::consume`] is running.
    consuming: AtomicBool,
}

/// Linux `ringbuf_map_alloc`'s checks, before anything is allocated. Returns the data
/// area size.
fn check(attr: &MapAttr, page_size: usize) -> Result<usize> {
    if attr.map_flags & !CREATE_FLAG_MASK != 0 {
        return err(Errno::EINVAL, "ringbuf: invalid map flags");
    }
    if page_size == 0 || !page_size.is_power_of_two() {
        return err(Errno::EINVAL, "ringbuf: host page size is not a power of two");
    }
    let Ok(size) = usize::try_from(attr.max_entries) else {
        return err(Errno::E2BIG, "ringbuf: max_entries too large");
    };
    if attr.key_size != 0 || attr.value_size != 0 || !size.is_power_of_two() || size % page_size != 0 {
        return err(Errno::EINVAL, "ringbuf: key/value size must be 0, max_entries a page-aligned power of 2");
    }
    // Linux RINGBUF_MAX_DATA_SZ: pg_off must fit in 24 bits of pages.
    let max_pages = (1u64 << 24) - (POS_PAGES + LINUX_PGOFF) as u64;
    let too_big = match u64::try_from(page_size).ok().and_then(|p| max_pages.checked_mul(p)) {
        Some(max) => u64::from(attr.max_entries) > max,
        None => false,
    };
    if too_big {
        return err(Errno::E2BIG, "ringbuf: max_entries too large");
    }
    Ok(size)
}

pub(crate) fn create(attr: &MapAttr, host: &Arc<dyn MapHost>) -> Result<Arc<dyn BpfMap>> {
    let page_size = host.page_size();
    let size = check(attr, page_size)?;
    let data_pages = size / page_size;
    let pages = host.alloc_shared(POS_PAGES + data_pages, data_pages)?;
    if pages.pages() != POS_PAGES + data_pages {
        return err(Errno::ENOMEM, "ringbuf: host returned the wrong number of pages");
    }
    Ok(Arc::new(RingBuf {
        def: MapDef::from_attr(attr),
        host: host.clone(),
        pages,
        page_size,
        size,
        lock: CpuLock::new(()),
        pending_pos: AtomicUsize::new(0),
        notify: AtomicPtr::new(ptr::null_mut()),
        consuming: AtomicBool::new(false),
    }))
}

impl RingBuf {
    // ---- the shared memory ----

    fn base(&self) -> *mut u8 {
        self.pages.as_ptr().as_ptr()
    }

    /// `consumer_pos`, written by the consumer (user space) only.
    fn consumer_pos(&self) -> &AtomicUsize {
        // SAFETY: page 0 of the mapping is page aligned, zero-initialised and lives as long
        // as `self.pages`; it is only ever accessed atomically by the kernel.
        unsafe { &*(self.base() as *const AtomicUsize) }
    }

    /// `producer_pos`, written by producers under `lock` only.
    fn producer_pos(&self) -> &AtomicUsize {
        // SAFETY: page 1 of the mapping (there are at least 2 + 1 pages), as above.
        unsafe { &*(self.base().add(self.page_size) as *const AtomicUsize) }
    }

    /// Start of the data area; `2 * size` bytes are mapped from here.
    fn data(&self) -> *mut u8 {
        // SAFETY: the data area starts after the two position pages, inside the mapping.
        unsafe { self.base().add(POS_PAGES * self.page_size) }
    }

    fn mask(&self) -> usize {
        self.size - 1
    }

    /// The header at data offset `off`; the caller guarantees `off < size`, `off % 8 == 0`.
    fn header(&self, off: usize) -> &RecordHeader {
        debug_assert!(off < self.size && off % 8 == 0);
        // SAFETY: `off + 8 <= size` (both multiples of 8), the data area is page aligned,
        // so the header is in bounds and 4-byte aligned; headers are only accessed
        // atomically by the kernel.
        unsafe { &*(self.data().add(off) as *const RecordHeader) }
    }

    /// `pg_off` of a header at data offset `off`, exactly as Linux stores it: pages from
    /// the start of `struct bpf_ringbuf` (one page before the consumer page).
    fn pg_off(&self, off: usize) -> u32 {
        let pages = LINUX_PGOFF + POS_PAGES + off / self.page_size;
        // Cannot fail: `check` bounds the data area to 2^24 pages.
        u32::try_from(pages).unwrap_or(u32::MAX)
    }

    // ---- program side ----

    /// `bpf_ringbuf_reserve`: room for a `size`-byte sample, or `None` if `flags` is not 0,
    /// the sample is too large, the ring is full, or the producer lock is held by this CPU
    /// (a probe interrupted a producer). The pointer (to the sample, after the header)
    /// stays valid until passed to [`submit`](Self::submit) or [`discard`](Self::discard).
    pub fn reserve(&self, size: u64, flags: u64) -> Option<NonNull<u8>> {
        if flags != 0 {
            return None;
        }
        self.reserve_record(size)
    }

    /// Linux `__bpf_ringbuf_reserve`.
    fn reserve_record(&self, size: u64) -> Option<NonNull<u8>> {
        if size > MAX_RECORD_SZ {
            return None;
        }
        // `size < 2^30`, so this neither truncates nor overflows.
        let len = round_up_8(usize::try_from(size).ok()? + HDR_SZ);
        if len > self.size {
            return None;
        }
        let mask = self.mask();
        let cons_pos = self.consumer_pos().load(Ordering::Acquire);
        let _guard = self.lock.lock(self.host.current_cpu()).ok()?;
        let prod_pos = self.producer_pos().load(Ordering::Relaxed);

        // Move pending_pos past the records committed since the last reservation.
        let mut pend_pos = self.pending_pos.load(Ordering::Relaxed);
        while pend_pos < prod_pos {
            let hdr_len = self.header(pend_pos & mask).len.load(Ordering::Acquire);
            if hdr_len & BPF_RINGBUF_BUSY_BIT != 0 {
                break;
            }
            pend_pos = pend_pos.wrapping_add(record_len(hdr_len));
        }
        self.pending_pos.store(pend_pos, Ordering::Release);

        // Out of space: the producer may not get more than size - 1 bytes ahead of the
        // consumer, nor of the oldest record still being written.
        let new_prod_pos = prod_pos.wrapping_add(len);
        if new_prod_pos.wrapping_sub(cons_pos) > mask || new_prod_pos.wrapping_sub(pend_pos) > mask {
            return None;
        }
        let off = prod_pos & mask;
        let hdr = self.header(off);
        // `size < 2^30`: fits in the low 30 bits.
        hdr.len.store(u32::try_from(size).ok()? | BPF_RINGBUF_BUSY_BIT, Ordering::Relaxed);
        hdr.pg_off.store(self.pg_off(off), Ordering::Relaxed);
        // Pairs with the consumer's acquire load of producer_pos.
        self.producer_pos().store(new_prod_pos, Ordering::Release);
        // SAFETY: `off + 8 <= size`, within the data area.
        NonNull::new(unsafe { self.data().add(off + HDR_SZ) })
    }

    /// `bpf_ringbuf_submit`: publishes a reserved sample. Flags: [`BPF_RB_NO_WAKEUP`],
    /// [`BPF_RB_FORCE_WAKEUP`]; other bits are ignored, as in Linux. A pointer that is not
    /// an outstanding reservation of this ring → `EINVAL`, nothing changed.
    ///
    /// The pointer check (in the data area, 8-byte aligned header with the busy bit and
    /// the right `pg_off`, inside the region reserved since the oldest pending record) keeps
    /// a bad pointer from corrupting the ring, but cannot tell a real header from one a
    /// program forged inside its own not-yet-passed sample; the verifier only lets programs
    /// pass pointers `reserve` returned.
    pub fn submit(&self, sample: NonNull<u8>, flags: u64) -> Result<()> {
        self.commit(sample, flags, false)
    }

    /// `bpf_ringbuf_discard`: releases a reserved sample; the consumer skips it. Flags and
    /// errors as for [`submit`](Self::submit).
    pub fn discard(&self, sample: NonNull<u8>, flags: u64) -> Result<()> {
        self.commit(sample, flags, true)
    }

    /// `bpf_ringbuf_output`: reserve, copy `data`, submit. Flags other than
    /// [`BPF_RB_NO_WAKEUP`] / [`BPF_RB_FORCE_WAKEUP`] → `EINVAL`; no room → `EAGAIN`.
    pub fn output(&self, data: &[u8], flags: u64) -> Result<()> {
        if flags & !(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP) != 0 {
            return err(Errno::EINVAL, "bpf_ringbuf_output: invalid flags");
        }
        let size = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let Some(rec) = self.reserve_record(size) else {
            return err(Errno::EAGAIN, "bpf_ringbuf_output: no room");
        };
        // SAFETY: the reservation holds `data.len()` bytes (contiguous thanks to the double
        // mapping) owned by this producer until the commit below.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), rec.as_ptr(), data.len()) };
        self.commit(rec, flags, false)
    }

    /// `bpf_ringbuf_query`: [`BPF_RB_AVAIL_DATA`], [`BPF_RB_RING_SIZE`],
    /// [`BPF_RB_CONS_POS`], [`BPF_RB_PROD_POS`]; anything else → 0.
    pub fn query(&self, flag: u64) -> u64 {
        let v = match flag {
            BPF_RB_AVAIL_DATA => self.avail_data(),
            BPF_RB_RING_SIZE => self.size,
            BPF_RB_CONS_POS => self.consumer_pos().load(Ordering::Acquire),
            BPF_RB_PROD_POS => self.producer_pos().load(Ordering::Acquire),
            _ => 0,
        };
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    fn avail_data(&self) -> usize {
        let cons_pos = self.consumer_pos().load(Ordering::Acquire);
        let prod_pos = self.producer_pos().load(Ordering::Acquire);
        prod_pos.wrapping_sub(cons_pos)
    }

    /// Linux `bpf_ringbuf_commit`, with the sample pointer validated instead of trusted.
    fn commit(&self, sample: NonNull<u8>, flags: u64, discard: bool) -> Result<()> {
        let mask = self.mask();
        // Headers always lie in the first mapping of the data area.
        let off = (sample.as_ptr() as usize).wrapping_sub(self.data() as usize).wrapping_sub(HDR_SZ);
        if off >= self.size || off % 8 != 0 {
            return err(Errno::EINVAL, "ringbuf: not a sample of this ring buffer");
        }
        let hdr = self.header(off);
        let len = hdr.len.load(Ordering::Acquire);
        if len & BPF_RINGBUF_BUSY_BIT == 0 || hdr.pg_off.load(Ordering::Relaxed) != self.pg_off(off) {
            return err(Errno::EINVAL, "ringbuf: sample not reserved (or already committed)");
        }
        // The record must lie between the oldest pending record and producer_pos.
        let prod_pos = self.producer_pos().load(Ordering::Acquire);
        let pend_pos = self.pending_pos.load(Ordering::Acquire);
        let rec_pos = pend_pos.wrapping_add(off.wrapping_sub(pend_pos & mask) & mask);
        if prod_pos.wrapping_sub(pend_pos) < rec_pos.wrapping_sub(pend_pos)
            || prod_pos.wrapping_sub(rec_pos) < record_len(len)
        {
            return err(Errno::EINVAL, "ringbuf: sample outside the reserved region");
        }
        let mut new_len = len ^ BPF_RINGBUF_BUSY_BIT;
        if discard {
            new_len |= BPF_RINGBUF_DISCARD_BIT;
        }
        // A lost race means a double commit.
        if hdr.len.compare_exchange(len, new_len, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return err(Errno::EINVAL, "ringbuf: sample committed concurrently");
        }
        // Full barrier, like Linux's xchg: our producer_pos and header stores are ordered
        // before the consumer_pos load. Pairs with the fence in `poll_ready`: either the
        // consumer sees this record, or we see its position and wake it (no lost wake-up).
        fence(Ordering::SeqCst);
        // Wake the consumer only if it caught up and waits for this very record.
        let cons_off = self.consumer_pos().load(Ordering::Acquire) & mask;
        if flags & BPF_RB_FORCE_WAKEUP != 0 || (cons_off == off && flags & BPF_RB_NO_WAKEUP == 0) {
            self.wake();
        }
        Ok(())
    }

    // ---- host side ----

    /// Installs (or with `None` removes) the wake-up hook; see the module documentation
    /// for the context it is called in. A replaced hook is dropped after a grace period.
    pub fn set_notify(&self, f: Option<Notify>) {
        let new = f.map_or(ptr::null_mut(), |f| Box::into_raw(Box::new(f)));
        let old = self.notify.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: `old` came from `Box::into_raw` above and was unpublished by the swap;
            // concurrent `wake`s hold a reclaim guard, so it is only freed after them.
            reclaim::retire(unsafe { Box::from_raw(old) });
        }
    }

    fn wake(&self) {
        let _guard = reclaim::read_lock();
        let p = self.notify.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a live `Box<Notify>`: replaced ones are retired,
        // and freed only after every guard taken before the replacement is dropped.
        if let Some(f) = unsafe { p.as_ref() } {
            f();
        }
    }

    /// Data is available (`producer_pos != consumer_pos`): poll reports `EPOLLIN`.
    /// Call it after registering the waiter; it begins with a full barrier (pairing with
    /// the one in `commit`), so a consumer that stored its position and then finds no data
    /// is woken by the producer of the next record.
    pub fn poll_ready(&self) -> bool {
        fence(Ordering::SeqCst);
        self.avail_data() != 0
    }

    /// Linux's mmap rules (`ringbuf_map_mmap_kern` + `remap_vmalloc_range`) for a mapping of
    /// `len` bytes at page offset `pgoff`: a writable mapping must be exactly the consumer
    /// page (else `EPERM`); any mapping must end within the `2 + 2n` pages (else `EINVAL`).
    /// A read-only mapping must also never become writable later (Linux clears
    /// `VM_MAYWRITE`). The host maps kernel page `pgoff + i` of [`BpfMap::shared_pages`]
    /// at user page `i`.
    pub fn check_mmap(&self, pgoff: u64, len: u64, writable: bool) -> Result<()> {
        let page = u64::try_from(self.page_size).unwrap_or(u64::MAX);
        if writable && (pgoff != 0 || len != page) {
            return err(Errno::EPERM, "ringbuf: only the consumer page may be mapped writable");
        }
        let total = u64::try_from(POS_PAGES * self.page_size + 2 * self.size).unwrap_or(u64::MAX);
        let end = pgoff.checked_mul(page).and_then(|off| off.checked_add(len));
        match end {
            Some(end) if end <= total => Ok(()),
            _ => err(Errno::EINVAL, "ringbuf: mapping beyond the ring buffer"),
        }
    }

    // ---- in-kernel consumer ----

    /// Consumes the available records like libbpf's `ring_buffer__consume`: calls `f` with
    /// each submitted sample in order, skips discarded ones, stops at the first record still
    /// being written, and publishes the new `consumer_pos` (release) after each record.
    /// Returns the number of samples passed to `f`, or `f`'s first error (the record that
    /// failed counts as consumed, as in libbpf).
    ///
    /// For tests and kernel-internal readers; user space normally consumes through mmap.
    /// While it runs it owns `consumer_pos`: another `consume` at the same time → `EBUSY`.
    /// A consumer position user space moved to the middle of a record → `EINVAL` (header
    /// not aligned or record longer than the data available) or `E2BIG` (record longer
    /// than the ring), checked before anything is read.
    pub fn consume(&self, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        if self.consuming.swap(true, Ordering::Acquire) {
            return err(Errno::EBUSY, "ringbuf: another consumer is running");
        }
        let result = self.consume_records(&mut f);
        self.consuming.store(false, Ordering::Release);
        result
    }

    fn consume_records(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        let mask = self.mask();
        let mut count = 0u64;
        let mut cons_pos = self.consumer_pos().load(Ordering::Acquire);
        loop {
            let mut got_new_data = false;
            let prod_pos = self.producer_pos().load(Ordering::Acquire);
            while cons_pos < prod_pos {
                if cons_pos % 8 != 0 {
                    return err(Errno::EINVAL, "ringbuf: consumer position not aligned");
                }
                let off = cons_pos & mask;
                let len = self.header(off).len.load(Ordering::Acquire);
                if len & BPF_RINGBUF_BUSY_BIT != 0 {
                    return Ok(count);
                }
                let rec_len = record_len(len);
                if rec_len > self.size {
                    return err(Errno::E2BIG, "ringbuf: record larger than the ring");
                }
                if rec_len > prod_pos - cons_pos {
                    return err(Errno::EINVAL, "ringbuf: record beyond producer position");
                }
                got_new_data = true;
                cons_pos = cons_pos.wrapping_add(rec_len);
                if len & BPF_RINGBUF_DISCARD_BIT == 0 {
                    let sample_len = sample_len(len);
                    // SAFETY: `off < size` and `off + 8 + sample_len <= off + rec_len <= 2 * size`:
                    // inside the double mapping. The record is committed, so producers do not
                    // write it until consumer_pos moves past it (after `f` returns).
                    let sample = unsafe { core::slice::from_raw_parts(self.data().add(off + HDR_SZ), sample_len) };
                    if let Err(e) = f(sample) {
                        self.consumer_pos().store(cons_pos, Ordering::Release);
                        return Err(e);
                    }
                    count += 1;
                }
                self.consumer_pos().store(cons_pos, Ordering::Release);
            }
            if !got_new_data {
                return Ok(count);
            }
        }
    }
}

/// Sample length stored in a header's `len` (flag bits cleared).
fn sample_len(hdr_len: u32) -> usize {
    // 30 bits always fit in a usize on the supported (32/64-bit) targets.
    usize::try_from(hdr_len & !FLAG_BITS).unwrap_or(usize::MAX)
}

/// Bytes a record with header `len` occupies (libbpf `roundup_len`).
fn record_len(hdr_len: u32) -> usize {
    round_up_8(sample_len(hdr_len).saturating_add(HDR_SZ))
}

impl Drop for RingBuf {
    fn drop(&mut self) {
        let p = *self.notify.get_mut();
        if !p.is_null() {
            // SAFETY: from `Box::into_raw` in `set_notify`; no program or host can call
            // `wake` any more (we are being dropped).
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl BpfMap for RingBuf {
    fn def(&self) -> &MapDef {
        &self.def
    }

    fn lookup(&self, _key: &[u8], _value: &mut [u8], flags: u64) -> Result<()> {
        // map_lookup_elem: unknown flags, or BPF_F_LOCK without a bpf_spin_lock → EINVAL.
        if flags != 0 {
            return err(Errno::EINVAL, "ringbuf: invalid lookup flags");
        }
        err(Errno::ENOTSUPP, "ringbuf: lookup not supported")
    }

    fn update(&self, _key: &[u8], _value: &[u8], flags: u64) -> Result<()> {
        if flags & BPF_F_LOCK != 0 {
            return err(Errno::EINVAL, "ringbuf: BPF_F_LOCK without bpf_spin_lock");
        }
        err(Errno::ENOTSUPP, "ringbuf: update not supported")
    }

    fn delete(&self, _key: &[u8]) -> Result<()> {
        err(Errno::ENOTSUPP, "ringbuf: delete not supported")
    }

    fn get_next_key(&self, _key: Option<&[u8]>, _next_key: &mut [u8]) -> Result<()> {
        err(Errno::ENOTSUPP, "ringbuf: get_next_key not supported")
    }

    fn lookup_and_delete(&self, _key: Option<&[u8]>, _value: &mut [u8], flags: u64) -> Result<()> {
        if flags != 0 {
            return err(Errno::EINVAL, "ringbuf: invalid lookup_and_delete flags");
        }
        err(Errno::ENOTSUPP, "ringbuf: lookup_and_delete not supported")
    }

    fn memory_usage(&self) -> usize {
        core::mem::size_of::<Self>() + self.pages.pages() * self.page_size
    }

    fn shared_pages(&self) -> Option<&dyn SharedPages> {
        Some(&*self.pages)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
