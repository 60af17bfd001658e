//! What user space holds: [`UserRef`] (a pin's or an fd's reference), [`BpfFile`] (an open
//! bpf fd: a user reference plus the fd's access mode), and how an fd number is turned back
//! into an object of the expected kind ([`map_from_fd`], [`prog_from_fd`], ...), with Linux's
//! errnos.

use alloc::sync::Arc;

use maps::FdObject;
use syscall_abi::bpf::{BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::{err, Errno, Result};

use super::{BpfObject, BtfObj, LinkObj, MapObj, ProgObj};
use crate::host::BpfHost;

/// The access mode of a bpf fd (Linux `f_mode` `FMODE_CAN_READ`/`FMODE_CAN_WRITE`), chosen at
/// open time from `BPF_F_RDONLY`/`BPF_F_WRONLY` (`bpf_get_file_flag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// `O_RDWR`.
    ReadWrite,
    /// `O_RDONLY`: map updates and deletes are `EPERM`.
    ReadOnly,
    /// `O_WRONLY`: map lookups are `EPERM`.
    WriteOnly,
}

impl FileMode {
    /// Linux `bpf_get_file_flag`: both flags → `EINVAL`; other bits are ignored here (each
    /// command checks its own flag mask).
    pub fn from_bpf_flags(flags: u32) -> Result<FileMode> {
        match (flags & BPF_F_RDONLY != 0, flags & BPF_F_WRONLY != 0) {
            (true, true) => err(Errno::EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY together"),
            (true, false) => Ok(FileMode::ReadOnly),
            (false, true) => Ok(FileMode::WriteOnly),
            (false, false) => Ok(FileMode::ReadWrite),
        }
    }

    /// Whether the fd may read (`FMODE_CAN_READ`).
    pub fn can_read(self) -> bool {
        self != FileMode::WriteOnly
    }

    /// Whether the fd may write (`FMODE_CAN_WRITE`).
    pub fn can_write(self) -> bool {
        self != FileMode::ReadOnly
    }

    /// The `O_ACCMODE` bits of the file (`O_RDONLY` 0, `O_WRONLY` 1, `O_RDWR` 2), e.g. for
    /// `fcntl(F_GETFL)`.
    pub fn o_accmode(self) -> u32 {
        match self {
            FileMode::ReadOnly => 0,
            FileMode::WriteOnly => 1,
            FileMode::ReadWrite => 2,
        }
    }
}

/// A user-space reference to an object: what an fd or a bpffs pin holds. For maps it counts
/// in the map's user reference count (Linux `bpf_map_inc_with_uref`); dropping the last one
/// runs the map's `release_uref`.
pub struct UserRef {
    obj: BpfObject,
}

impl UserRef {
    /// Takes a user reference on `obj`.
    pub fn new(obj: BpfObject) -> UserRef {
        if let BpfObject::Map(m) = &obj {
            m.uref_inc();
        }
        UserRef { obj }
    }

    /// The object.
    pub fn object(&self) -> &BpfObject {
        &self.obj
    }
}

impl Drop for UserRef {
    fn drop(&mut self) {
        if let BpfObject::Map(m) = &self.obj {
            m.uref_dec();
        }
    }
}

impl core::fmt::Debug for UserRef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "UserRef({:?})", self.obj)
    }
}

/// An open bpf fd's file: the object (with a user reference) and the access mode it was
/// opened with. The kernel stores it in its fd table; `dup()` shares it, `close()` of the
/// last fd sharing it drops it.
#[derive(Debug)]
pub struct BpfFile {
    uref: UserRef,
    mode: FileMode,
}

impl BpfFile {
    /// A new file for `obj`, opened with `mode`.
    pub fn new(obj: BpfObject, mode: FileMode) -> BpfFile {
        BpfFile { uref: UserRef::new(obj), mode }
    }

    /// The object.
    pub fn object(&self) -> &BpfObject {
        self.uref.object()
    }

    /// The access mode.
    pub fn mode(&self) -> FileMode {
        self.mode
    }

    /// What [`BpfHost::resolve_fd`] answers for an fd holding this file.
    pub fn target(&self) -> FdTarget {
        FdTarget::Bpf(self.object().clone(), self.mode)
    }
}

/// What an fd refers to, as [`BpfHost::resolve_fd`] reports it.
#[derive(Clone)]
pub enum FdTarget {
    /// A bpf object, opened with this mode.
    Bpf(BpfObject, FileMode),
    /// A perf event (made by the perf-event layer; stored in `perf_event_array`s).
    PerfEvent(Arc<dyn FdObject>),
    /// Any other file (regular file, socket, ...).
    Other,
}

impl core::fmt::Debug for FdTarget {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FdTarget::Bpf(o, m) => write!(f, "Bpf({o:?}, {m:?})"),
            FdTarget::PerfEvent(e) => write!(f, "PerfEvent(#{})", e.id()),
            FdTarget::Other => f.write_str("Other"),
        }
    }
}

/// The map behind `fd` and the fd's mode (Linux `__bpf_map_get`): not open → `EBADF`, not a
/// map → `EINVAL`.
pub fn map_from_fd(host: &dyn BpfHost, fd: u32) -> Result<(Arc<MapObj>, FileMode)> {
    match host.resolve_fd(fd)? {
        FdTarget::Bpf(BpfObject::Map(m), mode) => Ok((m, mode)),
        _ => err(Errno::EINVAL, "fd is not a map"),
    }
}

/// The program behind `fd` (Linux `bpf_prog_get`): not open → `EBADF`, not a program →
/// `EINVAL`.
pub fn prog_from_fd(host: &dyn BpfHost, fd: u32) -> Result<Arc<ProgObj>> {
    match host.resolve_fd(fd)? {
        FdTarget::Bpf(BpfObject::Prog(p), _) => Ok(p),
        _ => err(Errno::EINVAL, "fd is not a program"),
    }
}

/// The link behind `fd` (Linux `bpf_link_get_from_fd`): not open → `EBADF`, not a link →
/// `EINVAL`.
pub fn link_from_fd(host: &dyn BpfHost, fd: u32) -> Result<Arc<LinkObj>> {
    match host.resolve_fd(fd)? {
        FdTarget::Bpf(BpfObject::Link(l), _) => Ok(l),
        _ => err(Errno::EINVAL, "fd is not a link"),
    }
}

/// The BTF object behind `fd` (Linux `btf_get_by_fd`): not open → `EBADF`, not BTF →
/// `EINVAL`.
pub fn btf_from_fd(host: &dyn BpfHost, fd: u32) -> Result<Arc<BtfObj>> {
    match host.resolve_fd(fd)? {
        FdTarget::Bpf(BpfObject::Btf(b), _) => Ok(b),
        _ => err(Errno::EINVAL, "fd is not a BTF object"),
    }
}
