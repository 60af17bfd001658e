//! Anonymous pipes (`pipe2`), with Linux's semantics (fs/pipe.c):
//!
//! - 64 KiB of buffer ([`PIPE_DEFAULT_CAPACITY`], `F_SETPIPE_SZ` changes it: [`pipe_fcntl`]);
//! - a write of at most [`PIPE_BUF`] bytes is atomic: it waits until it fits whole and is
//!   never interleaved with another writer's bytes; a longer write may be split;
//! - a read returns what is buffered (at most the request) without waiting for more; an
//!   empty pipe blocks, or `EAGAIN` with `O_NONBLOCK`, or 0 (end of file) once every write
//!   end is closed;
//! - writing when every read end is closed is `EPIPE`. **The caller sends `SIGPIPE`**: the
//!   kernel's write path (sys_write/writev/pwrite) sends `SIGPIPE` to the writing thread
//!   whenever [`FileOps::write`] of a pipe returns `Err(EPIPE)`, as Linux's pipe_write does.
//!   (Linux also sends it when a blocked write loses its last reader after a partial write
//!   and returns the partial count; here that count is returned without the signal.)
//! - `poll`: the read end is `IN` with data, `HUP` with no writer left; the write end is
//!   `OUT` while `PIPE_BUF` bytes fit, `ERR` with no reader left;
//! - `O_DIRECT` on the write end (`pipe2(O_DIRECT)` or `F_SETFL`) is packet mode: each
//!   write of up to a page is one packet (longer writes are split into pages), a packet
//!   occupies a page of the capacity, and a read returns at most one packet, discarding
//!   what the buffer could not hold (Linux's `PIPE_BUF_FLAG_PACKET`);
//! - `FIONREAD` gives the buffered byte count; `fstat` shows a FIFO (`0600`) of pipefs and
//!   `/proc/self/fd` shows `pipe:[ino]`.
//!
//! The buffer is a byte ring rather than Linux's ring of pages, so a small write always
//! merges with the previous one (Linux merges only within one page); the observable
//! capacity for a stream of small writes is 64 KiB in both.
//!
//! A blocked reader or writer interrupted by a signal returns `EINTR` (or the partial count);
//! the kernel may turn `EINTR` into a restart for `SA_RESTART` handlers.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::Mutex;
use syscall_abi::Errno;

use super::anon_inode::now;
use super::file::{FileOps, OpenFile, PollEvents, O_NONBLOCK, O_WRONLY};
use super::inode::{Metadata, Timespec};
use super::pollwait::ChangeCounter;
use crate::sync::WaitQueue;
use crate::user::{write_val, UserMem};
use crate::KResult;

/// Default pipe capacity (Linux: 16 pages).
pub const PIPE_DEFAULT_CAPACITY: usize = 65536;
/// Writes of at most this many bytes are atomic (`PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;
/// Largest `F_SETPIPE_SZ` (Linux's default `/proc/sys/fs/pipe-max-size`).
pub const PIPE_MAX_SIZE: usize = 1 << 20;
/// Device number of pipefs (`0:12`, an unnamed device).
pub const PIPEFS_DEV: u64 = 12;
/// `FIONREAD` ioctl.
pub const FIONREAD: u32 = 0x541b;
/// `fcntl` `F_SETPIPE_SZ`.
pub const F_SETPIPE_SZ: u32 = 1031;
/// `fcntl` `F_GETPIPE_SZ`.
pub const F_GETPIPE_SZ: u32 = 1032;

/// `O_RDONLY` (access mode 0).
const O_RDONLY: u32 = 0;
/// `O_DIRECT`: on a pipe's write end, packet mode (each write of up to a page is one
/// packet; a read returns at most one packet).
pub const O_DIRECT: u32 = 0o40000;
/// One page: the unit of Linux's pipe buffers, and the largest packet.
const PAGE_SIZE: usize = 4096;

/// First pipe inode number (pipefs numbers its inodes from a counter).
static NEXT_INO: AtomicU64 = AtomicU64::new(4096);

/// A run of buffered bytes: stream data, or one `O_DIRECT` packet.
#[derive(Clone, Copy)]
struct Chunk {
    len: usize,
    packet: bool,
}

struct PipeState {
    buf: VecDeque<u8>,
    /// How `buf` divides into stream runs and packets, front first.
    chunks: VecDeque<Chunk>,
    /// Capacity the packets take beyond their bytes: each packet fills a page slot.
    packet_slack: usize,
    capacity: usize,
    readers: usize,
    writers: usize,
}

impl PipeState {
    fn free(&self) -> usize {
        self.capacity.saturating_sub(self.buf.len() + self.packet_slack)
    }

    fn push(&mut self, data: &[u8], packet: bool) {
        self.buf.extend(data);
        match self.chunks.back_mut() {
            Some(last) if !packet && !last.packet => last.len += data.len(),
            _ => self.chunks.push_back(Chunk { len: data.len(), packet }),
        }
        if packet {
            self.packet_slack += PAGE_SIZE - data.len();
        }
    }

    /// Moves buffered bytes to `out`: stream bytes up to its length, but at most one packet
    /// (whose unread rest is discarded, Linux's packet-mode read).
    fn take(&mut self, out: &mut [u8]) -> usize {
        let mut n = 0;
        while n < out.len() {
            let Some(&Chunk { len, packet }) = self.chunks.front() else { break };
            let k = len.min(out.len() - n);
            for (dst, src) in out[n..n + k].iter_mut().zip(self.buf.drain(..k)) {
                *dst = src;
            }
            n += k;
            if packet {
                self.buf.drain(..len - k);
                self.packet_slack -= PAGE_SIZE - len;
                self.chunks.pop_front();
                break;
            }
            match self.chunks.front_mut() {
                Some(c) if c.len > k => c.len -= k,
                _ => {
                    self.chunks.pop_front();
                }
            }
        }
        n
    }
}

/// The shared buffer of one pipe.
pub struct Pipe {
    state: Mutex<PipeState>,
    wq: WaitQueue,
    changes: ChangeCounter,
    ino: u64,
    created: Timespec,
}

impl Pipe {
    fn changed(&self) {
        self.changes.notify(&self.wq);
    }

    /// The pipefs inode number (`pipe:[ino]`).
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// Bytes buffered.
    pub fn len(&self) -> usize {
        self.state.lock().buf.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity in bytes (`F_GETPIPE_SZ`).
    pub fn capacity(&self) -> usize {
        self.state.lock().capacity
    }

    /// `F_SETPIPE_SZ`: rounds `size` up to a power-of-two number of pages (at least one);
    /// `EINVAL` for 0 or an overflowing size, `EPERM` above [`PIPE_MAX_SIZE`] (Linux lets
    /// `CAP_SYS_RESOURCE` go beyond; this kernel does not), `EBUSY` if the buffered data
    /// would not fit. Returns the new capacity.
    pub fn set_capacity(&self, size: u64) -> KResult<usize> {
        let size = usize::try_from(size).map_err(|_| Errno::EINVAL)?;
        if size == 0 {
            return Err(Errno::EINVAL);
        }
        let pages = size.div_ceil(4096).checked_next_power_of_two().ok_or(Errno::EINVAL)?;
        let cap = pages.checked_mul(4096).ok_or(Errno::EINVAL)?;
        if cap > PIPE_MAX_SIZE {
            return Err(Errno::EPERM);
        }
        {
            let mut st = self.state.lock();
            if st.buf.len() + st.packet_slack > cap {
                return Err(Errno::EBUSY);
            }
            st.capacity = cap;
        }
        self.changed();
        Ok(cap)
    }
}

/// One end of a pipe: the [`FileOps`] of the read end, the write end, or both.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
    released: AtomicBool,
}

impl PipeEnd {
    fn new(pipe: &Arc<Pipe>, read: bool, write: bool) -> Arc<PipeEnd> {
        {
            let mut st = pipe.state.lock();
            st.readers += usize::from(read);
            st.writers += usize::from(write);
        }
        Arc::new(PipeEnd { pipe: pipe.clone(), read, write, released: AtomicBool::new(false) })
    }

    /// The pipe this end belongs to.
    pub fn pipe(&self) -> &Arc<Pipe> {
        &self.pipe
    }

    /// The readiness-change counter (edge-triggered epoll).
    pub fn generation(&self) -> u64 {
        self.pipe.changes.get()
    }
}

/// Creates a pipe: `(read end, write end)` open-file descriptions. `flags` may hold
/// `O_NONBLOCK` (both ends) and `O_DIRECT` (the write end: packet mode) — other bits are
/// ignored here; `sys_pipe2` validates them.
pub fn new_pipe(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
    let pipe = Arc::new(Pipe {
        state: Mutex::new(PipeState {
            buf: VecDeque::new(),
            chunks: VecDeque::new(),
            packet_slack: 0,
            capacity: PIPE_DEFAULT_CAPACITY,
            readers: 0,
            writers: 0,
        }),
        wq: WaitQueue::new(),
        changes: ChangeCounter::new(),
        ino,
        created: now(),
    });
    let path = format!("pipe:[{ino}]");
    let nb = flags & O_NONBLOCK;
    let r = OpenFile::new(PipeEnd::new(&pipe, true, false), O_RDONLY | nb, path.clone());
    let w = OpenFile::new(PipeEnd::new(&pipe, false, true), O_WRONLY | nb | (flags & O_DIRECT), path);
    (r, w)
}

/// `fcntl(F_GETPIPE_SZ / F_SETPIPE_SZ)` for the fcntl syscall: `EBADF` if `file` is not a
/// pipe (Linux), `EINVAL` for another `cmd`.
pub fn pipe_fcntl(file: &OpenFile, cmd: u32, arg: u64) -> KResult<u64> {
    let end = file.ops.as_any().downcast_ref::<PipeEnd>().ok_or(Errno::EBADF)?;
    let n = match cmd {
        F_GETPIPE_SZ => end.pipe.capacity(),
        F_SETPIPE_SZ => end.pipe.set_capacity(arg)?,
        _ => return Err(Errno::EINVAL),
    };
    u64::try_from(n).map_err(|_| Errno::EINVAL)
}

impl FileOps for PipeEnd {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        if !self.read {
            return Err(Errno::EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut st = self.pipe.state.lock();
                if !st.buf.is_empty() {
                    let n = st.take(buf);
                    drop(st);
                    self.pipe.changed();
                    return Ok(n);
                }
                if st.writers == 0 {
                    return Ok(0);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            self.pipe.wq.wait_until(None, || {
                let st = self.pipe.state.lock();
                !st.buf.is_empty() || st.writers == 0
            })?;
        }
    }

    fn write(&self, file: &OpenFile, data: &[u8]) -> KResult<usize> {
        if !self.write {
            return Err(Errno::EBADF);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let atomic = data.len() <= PIPE_BUF;
        // Packet mode is the writer's O_DIRECT, which F_SETFL may change at any time.
        let packet = file.flags() & O_DIRECT != 0;
        let mut done = 0;
        loop {
            {
                let mut st = self.pipe.state.lock();
                if st.readers == 0 {
                    return if done > 0 { Ok(done) } else { Err(Errno::EPIPE) };
                }
                let left = data.len() - done;
                let free = st.free();
                // A packet takes a whole page slot; an atomic write must fit whole.
                let fits = if packet {
                    free >= PAGE_SIZE
                } else if atomic {
                    free >= left
                } else {
                    free > 0
                };
                if fits {
                    let n = if packet { left.min(PAGE_SIZE) } else { left.min(free) };
                    st.push(&data[done..done + n], packet);
                    done += n;
                    drop(st);
                    self.pipe.changed();
                    if done == data.len() {
                        return Ok(done);
                    }
                    continue;
                }
            }
            if file.nonblocking() {
                return if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) };
            }
            let need = if packet {
                PAGE_SIZE
            } else if atomic {
                data.len()
            } else {
                1
            };
            let r = self.pipe.wq.wait_until(None, || {
                let st = self.pipe.state.lock();
                st.readers == 0 || st.free() >= need
            });
            if let Err(e) = r {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
    }

    fn stat(&self) -> KResult<Metadata> {
        Ok(Metadata {
            dev: PIPEFS_DEV,
            ino: self.pipe.ino,
            mode: 0o010600,
            nlink: 1,
            blksize: 4096,
            atime: self.pipe.created,
            mtime: self.pipe.created,
            ctime: self.pipe.created,
            ..Metadata::default()
        })
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64, mem: &dyn UserMem) -> KResult<u64> {
        match cmd {
            FIONREAD => {
                let n = i32::try_from(self.pipe.len()).unwrap_or(i32::MAX);
                write_val(mem, arg, &n)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll(&self, _file: &OpenFile) -> PollEvents {
        let st = self.pipe.state.lock();
        let mut ev = PollEvents::empty();
        if self.read {
            if !st.buf.is_empty() {
                ev |= PollEvents::IN | PollEvents::RDNORM;
            }
            if st.writers == 0 {
                ev |= PollEvents::HUP;
            }
        }
        if self.write {
            if st.free() >= PIPE_BUF.min(st.capacity) {
                ev |= PollEvents::OUT | PollEvents::WRNORM;
            }
            if st.readers == 0 {
                ev |= PollEvents::ERR;
            }
        }
        ev
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.pipe.wq)
    }

    fn release(&self) {
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        {
            let mut st = self.pipe.state.lock();
            st.readers -= usize::from(self.read && st.readers > 0);
            st.writers -= usize::from(self.write && st.writers > 0);
        }
        self.pipe.changed();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
#[path = "pipe_tests.rs"]
mod tests;
