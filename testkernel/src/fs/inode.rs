//! [`Inode`]: a file, directory, symlink or device node of some filesystem.
//!
//! Names are byte strings (Linux paths need not be UTF-8), one path component each, never
//! empty, never containing `/`; `.` and `..` are handled by path resolution, not here.
//! Every method has a default answering like Linux does for an inode that lacks the
//! operation, so a filesystem implements only what it has.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use syscall_abi::Errno;

use super::file::OpenFile;
use crate::KResult;

/// The kind of an inode (the `S_IFMT` part of its mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// `S_IFREG`
    Regular,
    /// `S_IFDIR`
    Directory,
    /// `S_IFLNK`
    Symlink,
    /// `S_IFCHR`
    CharDevice,
    /// `S_IFBLK`
    BlockDevice,
    /// `S_IFIFO`
    Fifo,
    /// `S_IFSOCK`
    Socket,
}

impl FileType {
    /// The `S_IFMT` bits (octal 0170000 mask) of this type.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => 0o100000,
            FileType::Directory => 0o040000,
            FileType::Symlink => 0o120000,
            FileType::CharDevice => 0o020000,
            FileType::BlockDevice => 0o060000,
            FileType::Fifo => 0o010000,
            FileType::Socket => 0o140000,
        }
    }

    /// The `d_type` value `getdents64` reports (`DT_REG`, `DT_DIR`, ...).
    pub const fn dirent_type(self) -> u8 {
        match self {
            FileType::Regular => 8,
            FileType::Directory => 4,
            FileType::Symlink => 10,
            FileType::CharDevice => 2,
            FileType::BlockDevice => 6,
            FileType::Fifo => 1,
            FileType::Socket => 12,
        }
    }
}

/// A point in time (seconds and nanoseconds since the epoch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: u32,
}

/// What `stat` reports about an inode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Device id of the filesystem.
    pub dev: u64,
    /// Inode number, unique within `dev`.
    pub ino: u64,
    /// Type bits and permission bits (`st_mode`).
    pub mode: u32,
    /// Hard links.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device id for device nodes.
    pub rdev: u64,
    /// Size in bytes (symlinks: target length).
    pub size: u64,
    /// Preferred I/O size.
    pub blksize: u32,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
}

/// One directory entry as `readdir` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// Entry type.
    pub kind: FileType,
    /// Name (one component).
    pub name: Vec<u8>,
}

/// An inode of some filesystem.
pub trait Inode: Send + Sync + Any {
    /// Its `stat` data.
    fn metadata(&self) -> Metadata;

    /// The type, from [`Inode::metadata`].
    fn file_type(&self) -> FileType {
        match self.metadata().mode & 0o170000 {
            0o040000 => FileType::Directory,
            0o120000 => FileType::Symlink,
            0o020000 => FileType::CharDevice,
            0o060000 => FileType::BlockDevice,
            0o010000 => FileType::Fifo,
            0o140000 => FileType::Socket,
            _ => FileType::Regular,
        }
    }

    /// Directories: the child called `name` (`ENOENT` if none).
    fn lookup(&self, _name: &[u8]) -> KResult<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }

    /// Directories: creates a child (`EEXIST` if the name exists). `mode` holds the
    /// permission bits after the umask; `kind` is Regular, Directory, Fifo or a device.
    fn create(&self, _name: &[u8], _kind: FileType, _mode: u32) -> KResult<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }

    /// Directories: creates a symbolic link `name` → `target`.
    fn symlink(&self, _name: &[u8], _target: &[u8]) -> KResult<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }

    /// Directories: adds a hard link `name` to `inode` (`EXDEV` across filesystems).
    fn link(&self, _name: &[u8], _inode: &Arc<dyn Inode>) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Directories: removes a non-directory child (`EISDIR` for a directory).
    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Directories: removes an empty child directory (`ENOTEMPTY`, `ENOTDIR`).
    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Directories: moves child `old` to `new_dir`/`new` (same filesystem, else `EXDEV`).
    fn rename(&self, _old: &[u8], _new_dir: &Arc<dyn Inode>, _new: &[u8]) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Directories: every entry except `.` and `..`, in a stable order.
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Err(Errno::ENOTDIR)
    }

    /// Symlinks: the target.
    fn readlink(&self) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }

    /// Regular files: reads at `offset`; returns the bytes read (0 at end of file).
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    /// Regular files: writes at `offset`, extending the file; returns the bytes written.
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    /// Regular files: sets the size (zero-filling growth).
    fn truncate(&self, _size: u64) -> KResult<()> {
        Err(Errno::EINVAL)
    }

    /// Sets the permission bits (`chmod`).
    fn set_mode(&self, _mode: u32) -> KResult<()> {
        Err(Errno::EPERM)
    }

    /// Opens this inode: the open-file description `open(2)` installs. Filesystems whose
    /// inodes are plain files/directories return `None` and get the generic inode-backed
    /// file (read/write/seek/getdents through the methods above); device nodes, procfs
    /// generators, pipes and the bpf/tracefs files return their own [`OpenFile`].
    /// `flags` are the `open` flags.
    fn open(self: Arc<Self>, _flags: u32) -> Option<KResult<Arc<OpenFile>>> {
        None
    }

    /// Downcasting (a filesystem recognising its own inodes, e.g. for `link`/`rename`).
    fn as_any(&self) -> &dyn Any;
}
