//! Open-file descriptions: [`OpenFile`] (what an fd points at, shared by `dup` and `fork`)
//! and [`FileOps`], the operations of one kind of open file (regular file, directory,
//! device, pipe end, eventfd, epoll, bpf object, perf event, tracefs file...).

use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};

use bitflags::bitflags;
use spin::Mutex;
use syscall_abi::Errno;

use super::inode::{Inode, Metadata};
use crate::sync::WaitQueue;
use crate::user::UserMem;
use crate::KResult;

bitflags! {
    /// `poll` event bits (Linux `POLLIN`...; same values in `epoll`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PollEvents: u32 {
        /// Readable.
        const IN = 0x001;
        /// Urgent data.
        const PRI = 0x002;
        /// Writable.
        const OUT = 0x004;
        /// Error.
        const ERR = 0x008;
        /// Hang-up (the other end closed).
        const HUP = 0x010;
        /// Invalid fd (poll only).
        const NVAL = 0x020;
        /// Normal data readable.
        const RDNORM = 0x040;
        /// Normal data writable.
        const WRNORM = 0x100;
        /// Peer closed its writing half.
        const RDHUP = 0x2000;
    }
}

/// What a `mmap` of a file maps.
pub enum MmapBacking {
    /// Copy the file's bytes (from the mapping offset) into private anonymous pages
    /// (regular files, `MAP_PRIVATE`); the mm code reads them with [`FileOps::read_at`].
    PrivateCopy,
    /// Map these physical frames directly (device memory: bpf array/ring buffer maps, perf
    /// ring buffers). The frames stay owned by the source, which lives while mapped.
    Frames(Arc<dyn FrameSource>),
}

/// Physical frames a device lends to a mapping.
pub trait FrameSource: Send + Sync {
    /// The physical address of page `index` of the mapping (counted from the mapping's file
    /// offset / 4096), or `None` past the end (then the mapping is refused with `EINVAL`).
    fn frame(&self, index: u64) -> Option<u64>;
    /// Whether page `index` may be mapped writable (e.g. a ring buffer's data pages are
    /// read-only to the consumer); `mmap` with `PROT_WRITE` over a read-only page is `EPERM`.
    fn writable(&self, index: u64) -> bool {
        let _ = index;
        true
    }
}

/// The operations of one kind of open file. Defaults answer like Linux for a file that
/// lacks the operation.
pub trait FileOps: Send + Sync + Any {
    /// `read(2)` at the file position (`file.pos`), advancing it; blocking files wait (or
    /// `EAGAIN` when `file.nonblocking()`).
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        let _ = (file, buf);
        Err(Errno::EINVAL)
    }
    /// `write(2)` at the file position (or the end with `O_APPEND`), advancing it.
    fn write(&self, file: &OpenFile, buf: &[u8]) -> KResult<usize> {
        let _ = (file, buf);
        Err(Errno::EINVAL)
    }
    /// A sink that never reads what is written (`/dev/null`, `/dev/zero`): `write` returns
    /// the count without copying the buffer in, so a bad pointer is not `EFAULT` (only a
    /// kernel or non-canonical one is), as in Linux.
    fn discards_writes(&self) -> bool {
        false
    }
    /// `pread64` at `offset` (position unchanged); `ESPIPE` for pipes and the like.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let _ = (offset, buf);
        Err(Errno::ESPIPE)
    }
    /// `pwrite64` at `offset`.
    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        let _ = (offset, buf);
        Err(Errno::ESPIPE)
    }
    /// `lseek`: the new position (`whence` is `SEEK_SET`/`CUR`/`END`); `ESPIPE` if unseekable.
    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> KResult<u64> {
        let _ = (file, offset, whence);
        Err(Errno::ESPIPE)
    }
    /// `fstat`.
    fn stat(&self) -> KResult<Metadata>;
    /// `getdents64`: fills `buf` with `linux_dirent64` records from the file position on,
    /// advancing it; 0 at the end; `EINVAL` if not even one record fits; `ENOTDIR`.
    fn getdents(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        let _ = (file, buf);
        Err(Errno::ENOTDIR)
    }
    /// `ioctl` (`ENOTTY` by default). `arg` is the raw argument; user memory for pointer
    /// arguments goes through `mem`.
    fn ioctl(&self, file: &OpenFile, cmd: u32, arg: u64, mem: &dyn UserMem) -> KResult<u64> {
        let _ = (file, cmd, arg, mem);
        Err(Errno::ENOTTY)
    }
    /// `mmap` of this file (`ENODEV` if it cannot be mapped). `offset` is in bytes
    /// (page-aligned), `len` rounded up to pages, `prot`/`flags` as passed to `mmap`.
    fn mmap(&self, file: &OpenFile, offset: u64, len: u64, prot: u32, flags: u32) -> KResult<MmapBacking> {
        let _ = (file, offset, len, prot, flags);
        Err(Errno::ENODEV)
    }
    /// Current readiness (regular files: always `IN | OUT`).
    fn poll(&self, file: &OpenFile) -> PollEvents {
        let _ = file;
        PollEvents::IN | PollEvents::OUT | PollEvents::RDNORM | PollEvents::WRNORM
    }
    /// The queue woken whenever [`FileOps::poll`]'s answer may have changed (`None`: never
    /// changes). `poll`, `epoll` and blocking reads wait on it.
    fn wait_queue(&self) -> Option<&WaitQueue> {
        None
    }
    /// The inode behind the file, if any (`/proc/self/fd` links, `fchdir`, `*at` calls).
    fn inode(&self) -> Option<Arc<dyn Inode>> {
        None
    }
    /// Called when the last fd of the description closes (the description is dropped right
    /// after); pipe ends wake the other side here.
    fn release(&self) {}
    /// Extra `/proc/self/fdinfo/N` lines (bpf objects add `map_type:`..., perf events
    /// nothing); each line ends in `\n`.
    fn fdinfo(&self) -> String {
        String::new()
    }
    /// Downcasting (the bpf subsystem resolving an fd to its object).
    fn as_any(&self) -> &dyn Any;
}

/// An open-file description: the ops, the position and the status flags. Shared by every
/// fd `dup`ed from it and inherited over `fork`.
pub struct OpenFile {
    /// The file's operations.
    pub ops: Arc<dyn FileOps>,
    /// The file position.
    pub pos: Mutex<u64>,
    /// Status flags: access mode (`O_RDONLY`/`O_WRONLY`/`O_RDWR`) and `O_APPEND`,
    /// `O_NONBLOCK`, ... (what `F_GETFL` returns).
    flags: AtomicU32,
    /// The path it was opened by (`/proc/self/fd` links, `fchdir`, dirfd-relative lookups);
    /// anonymous files use Linux's names, e.g. `pipe:[ino]`, `anon_inode:bpf-map`.
    pub path: String,
}

/// `O_ACCMODE`.
pub const O_ACCMODE: u32 = 0o3;
/// `O_WRONLY`.
pub const O_WRONLY: u32 = 0o1;
/// `O_RDWR`.
pub const O_RDWR: u32 = 0o2;
/// `O_APPEND`.
pub const O_APPEND: u32 = 0o2000;
/// `O_NONBLOCK`.
pub const O_NONBLOCK: u32 = 0o4000;
/// Flags `F_SETFL` may change (Linux `SETFL_MASK` minus the ones we lack: `O_APPEND`,
/// `O_NONBLOCK`, `O_DIRECT`, `O_NOATIME`, `O_ASYNC`).
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | 0o40000 | 0o1000000 | 0o20000;

impl OpenFile {
    /// A new description at position 0.
    pub fn new(ops: Arc<dyn FileOps>, flags: u32, path: String) -> Arc<OpenFile> {
        Arc::new(OpenFile { ops, pos: Mutex::new(0), flags: AtomicU32::new(flags), path })
    }

    /// Status flags (`F_GETFL`).
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// `F_SETFL`: replaces the changeable flags.
    pub fn set_flags(&self, flags: u32) {
        let keep = self.flags() & !SETFL_MASK;
        self.flags.store(keep | (flags & SETFL_MASK), Ordering::Relaxed);
    }

    /// Opened for reading (`O_RDONLY` or `O_RDWR`).
    pub fn readable(&self) -> bool {
        self.flags() & O_ACCMODE != O_WRONLY
    }

    /// Opened for writing (`O_WRONLY` or `O_RDWR`).
    pub fn writable(&self) -> bool {
        matches!(self.flags() & O_ACCMODE, O_WRONLY | O_RDWR)
    }

    /// `O_NONBLOCK` is set.
    pub fn nonblocking(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        self.ops.release();
    }
}
