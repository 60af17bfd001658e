//! What the file syscalls share: the `AT_*`/`O_*` constants, copying a path in from user
//! memory, and resolving `(dirfd, path)` pairs (Linux `fs/namei.c` `path_init`, `getname`).
//!
//! Locks: the fs context and the fd table are each locked only long enough to clone a
//! location or a file, never across a path walk or an inode call.

use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::context::FsContext;
use crate::fs::fdtable::FdTable;
use crate::fs::file::OpenFile;
use crate::fs::inode::FileType;
use crate::fs::vfs::{Location, Vfs, PATH_MAX};
use crate::user::UserMem;
use crate::KResult;

/// `AT_FDCWD`: relative paths start at the working directory.
pub const AT_FDCWD: i32 = -100;
/// `AT_SYMLINK_NOFOLLOW`.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `AT_EACCESS` (`faccessat2`).
pub const AT_EACCESS: u32 = 0x200;
/// `AT_REMOVEDIR` (`unlinkat`).
pub const AT_REMOVEDIR: u32 = 0x200;
/// `AT_SYMLINK_FOLLOW` (`linkat`).
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
/// `AT_NO_AUTOMOUNT`.
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
/// `AT_EMPTY_PATH`.
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// `AT_STATX_SYNC_TYPE` (both bits set is invalid).
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;

/// `O_CREAT`.
pub const O_CREAT: u32 = 0o100;
/// `O_EXCL`.
pub const O_EXCL: u32 = 0o200;
/// `O_NOCTTY`.
pub const O_NOCTTY: u32 = 0o400;
/// `O_TRUNC`.
pub const O_TRUNC: u32 = 0o1000;
/// `O_LARGEFILE` (always set on 64-bit, as `F_GETFL` shows).
pub const O_LARGEFILE: u32 = 0o100000;
/// `O_DIRECTORY`.
pub const O_DIRECTORY: u32 = 0o200000;
/// `O_NOFOLLOW`.
pub const O_NOFOLLOW: u32 = 0o400000;
/// `O_CLOEXEC`.
pub const O_CLOEXEC: u32 = 0o2000000;
/// `__O_TMPFILE`.
pub const O_TMPFILE_BIT: u32 = 0o20000000;

/// Copies a path from user memory: `EFAULT`, `ENAMETOOLONG` (no NUL within `PATH_MAX`).
pub fn read_path(mem: &dyn UserMem, addr: u64) -> KResult<Vec<u8>> {
    mem.read_cstr(addr, PATH_MAX)
}

/// The location an open file names (its inode and the path it was opened by). Files
/// without an inode (pipes, eventfds, ...) cannot be named: `ENOTDIR` when a directory is
/// wanted (`want_dir`, which also rejects non-directories), else `ENOENT`.
pub fn file_location(file: &OpenFile, want_dir: bool) -> KResult<Location> {
    let Some(inode) = file.ops.inode() else {
        return Err(if want_dir { Errno::ENOTDIR } else { Errno::ENOENT });
    };
    if want_dir && inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(Location { path: file.path.as_bytes().to_vec(), inode })
}

/// The file at `fd` (`EBADF`).
pub fn get_file(files: &Mutex<FdTable>, fd: i32) -> KResult<Arc<OpenFile>> {
    files.lock().get(fd)
}

/// Where a relative path given with `dirfd` starts: the working directory for `AT_FDCWD`,
/// else the directory open at `dirfd` (`EBADF`, `ENOTDIR`).
pub fn dir_start(files: &Mutex<FdTable>, fs: &Mutex<FsContext>, dirfd: i32) -> KResult<Location> {
    if dirfd == AT_FDCWD {
        return Ok(fs.lock().cwd.clone());
    }
    file_location(&*get_file(files, dirfd)?, true)
}

/// The start of a walk of `path`: the root for absolute paths (`dirfd` ignored, as in
/// Linux), else [`dir_start`].
pub fn start_for(files: &Mutex<FdTable>, fs: &Mutex<FsContext>, dirfd: i32, path: &[u8]) -> KResult<Location> {
    if path.first() == Some(&b'/') {
        Ok(fs.lock().root.clone())
    } else {
        dir_start(files, fs, dirfd)
    }
}

/// The per-call state every path syscall needs.
pub struct PathCtx<'a> {
    /// The caller's memory.
    pub mem: &'a dyn UserMem,
    /// The caller's fd table.
    pub files: &'a Mutex<FdTable>,
    /// The caller's fs context.
    pub fs: &'a Mutex<FsContext>,
    /// The tree.
    pub vfs: &'a Vfs,
}

impl PathCtx<'_> {
    /// Resolves `(dirfd, path)`: the last symlink followed when `follow`; an empty path is
    /// `ENOENT` unless `empty_ok` (`AT_EMPTY_PATH`), when it names `dirfd` itself (any kind
    /// of file with an inode; the working directory for `AT_FDCWD`).
    pub fn lookup(&self, dirfd: i32, path: &[u8], follow: bool, empty_ok: bool) -> KResult<Location> {
        if path.is_empty() {
            if !empty_ok {
                return Err(Errno::ENOENT);
            }
            if dirfd == AT_FDCWD {
                return Ok(self.fs.lock().cwd.clone());
            }
            return file_location(&*get_file(self.files, dirfd)?, false);
        }
        let start = start_for(self.files, self.fs, dirfd, path)?;
        self.vfs.resolve(&start, path, follow)
    }

    /// Copies the path at `addr` and resolves it like [`PathCtx::lookup`].
    pub fn lookup_user(&self, dirfd: i32, addr: u64, follow: bool, empty_ok: bool) -> KResult<Location> {
        let path = read_path(self.mem, addr)?;
        self.lookup(dirfd, &path, follow, empty_ok)
    }
}

/// Resolves the program of `execve`/`execveat` (Linux `do_open_execat`): follows the last
/// symlink unless `AT_SYMLINK_NOFOLLOW` (then a symlink is `ELOOP`); `AT_EMPTY_PATH` with an
/// empty path names `dirfd`; anything but a regular file with an `x` bit is `EACCES`;
/// unknown flags are `EINVAL`.
pub fn resolve_exec(
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: &[u8],
    flags: u32,
) -> KResult<Location> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let ctx = PathCtx { mem: &NoMem, files, fs, vfs };
    let loc = ctx.lookup(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?;
    match loc.inode.file_type() {
        FileType::Symlink => Err(Errno::ELOOP),
        FileType::Regular if loc.inode.metadata().mode & 0o111 != 0 => Ok(loc),
        _ => Err(Errno::EACCES),
    }
}

/// A user memory with nothing mapped, for lookups of kernel-supplied paths.
struct NoMem;

impl UserMem for NoMem {
    fn read(&self, _addr: u64, _buf: &mut [u8]) -> KResult<()> {
        Err(Errno::EFAULT)
    }
    fn write(&self, _addr: u64, _buf: &[u8]) -> KResult<()> {
        Err(Errno::EFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::fs_testutil::Env;

    #[test]
    fn exec_resolution() {
        let e = Env::new();
        e.openat(AT_FDCWD, "/prog", O_CREAT | 1, 0o755).unwrap();
        e.put("/data", b"");
        e.vfs.root().inode.symlink(b"link", b"prog").unwrap();
        let x = |p: &str, flags: u32| resolve_exec(&e.files, &e.fs, &e.vfs, AT_FDCWD, p.as_bytes(), flags);
        assert_eq!(x("/prog", 0).map(|l| l.path).ok(), Some(b"/prog".to_vec()));
        assert_eq!(x("/link", 0).map(|l| l.path).ok(), Some(b"/prog".to_vec()));
        assert_eq!(x("/link", AT_SYMLINK_NOFOLLOW).err(), Some(Errno::ELOOP));
        assert_eq!(x("/data", 0).err(), Some(Errno::EACCES));
        assert_eq!(x("/dev", 0).err(), Some(Errno::EACCES));
        assert_eq!(x("/dev/null", 0).err(), Some(Errno::EACCES));
        assert_eq!(x("/nope", 0).err(), Some(Errno::ENOENT));
        assert_eq!(x("", 0).err(), Some(Errno::ENOENT));
        assert_eq!(x("/prog", 0x4).err(), Some(Errno::EINVAL));
        let fd = e.open("/prog", 0).unwrap();
        let got = resolve_exec(&e.files, &e.fs, &e.vfs, fd, b"", AT_EMPTY_PATH).map(|l| l.path);
        assert_eq!(got.ok(), Some(b"/prog".to_vec()));
    }
}
