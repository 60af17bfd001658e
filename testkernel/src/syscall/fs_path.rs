//! What the file syscalls share: the `AT_*`/`O_*` constants, looking up descriptors
//! (Linux `fs/file.c` `fdget_raw`/`fdget`), and [`FsCall`], the process state a path syscall
//! works on, with the steps every `*at` call repeats: copying the path in (`getname`), where a
//! walk starts (`path_init`), the walk itself, and the parent directory plus last name of a
//! name to create or remove (`filename_parentat`).
//!
//! # The signature rule of the `fs_*` syscalls
//! A `sys_*` that resolves a path name (each `*at` call and its non-`at` forms, `chdir`,
//! `truncate`, `chmod`, ...) takes `cx: &FsCall<'_>` and then only its own arguments, in
//! Linux's order. A `sys_*` that works on descriptors or the fs context alone takes exactly
//! the references it uses, in the order `mem`, `files`, `fs` (e.g. `sys_read(mem, files, fd,
//! buf, count)`, `sys_fchdir(files, fs, fd)`, `sys_umask(fs, mask)`). A non-`at` form is its
//! `*at` call with `AT_FDCWD` and fixed flags, nothing more. The kernel's own lookups
//! ([`resolve_exec`], `fs_open::open_path`) take an `FsCall` too, built with
//! [`FsCall::kernel`].
//!
//! Locks: the fs context and the fd table are each locked only long enough to clone a
//! location, a file or the umask, never across a path walk or an inode call.

use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::Mutex;
use syscall_abi::Errno;

use crate::fs::context::FsContext;
use crate::fs::fdtable::FdTable;
use crate::fs::file::OpenFile;
use crate::fs::generic::is_path_file;
use crate::fs::inode::FileType;
use crate::fs::vfs::{Last, Location, Parent, Vfs, PATH_MAX};
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

/// The file at `fd`, `O_PATH` descriptors included (Linux `fdget_raw`): `EBADF`.
pub fn get_file(files: &Mutex<FdTable>, fd: i32) -> KResult<Arc<OpenFile>> {
    files.lock().get(fd)
}

/// The file at `fd` for a call that uses the file itself, not only its name (Linux `fdget`,
/// which does not see `O_PATH` descriptors): `EBADF` for a bad fd or an `O_PATH` one.
pub fn get_io_file(files: &Mutex<FdTable>, fd: i32) -> KResult<Arc<OpenFile>> {
    let file = get_file(files, fd)?;
    if is_path_file(&file) {
        return Err(Errno::EBADF);
    }
    Ok(file)
}

/// The process state a path syscall works on (see the module doc for which syscalls take
/// it). The dispatcher builds one per call; tests build one from their fixture.
#[derive(Clone, Copy)]
pub struct FsCall<'a> {
    /// The caller's memory (paths and results are copied through it).
    pub mem: &'a dyn UserMem,
    /// The caller's fd table (`dirfd` arguments, new descriptors).
    pub files: &'a Mutex<FdTable>,
    /// The caller's fs context (cwd, root, umask).
    pub fs: &'a Mutex<FsContext>,
    /// The tree.
    pub vfs: &'a Vfs,
}

impl<'a> FsCall<'a> {
    /// A context for paths the kernel supplies itself (no user memory: copying from it is
    /// `EFAULT`).
    pub fn kernel(files: &'a Mutex<FdTable>, fs: &'a Mutex<FsContext>, vfs: &'a Vfs) -> FsCall<'a> {
        FsCall { mem: &NoMem, files, fs, vfs }
    }

    /// The file at `fd` ([`get_file`]).
    pub fn file(&self, fd: i32) -> KResult<Arc<OpenFile>> {
        get_file(self.files, fd)
    }

    /// The file-creation mask.
    pub fn umask(&self) -> u32 {
        self.fs.lock().umask
    }

    /// Copies the path at `addr` ([`read_path`]).
    pub fn read_path(&self, addr: u64) -> KResult<Vec<u8>> {
        read_path(self.mem, addr)
    }

    /// Where a relative path given with `dirfd` starts: the working directory for
    /// `AT_FDCWD`, else the directory open at `dirfd` (`EBADF`, `ENOTDIR`).
    fn dir_start(&self, dirfd: i32) -> KResult<Location> {
        if dirfd == AT_FDCWD {
            return Ok(self.fs.lock().cwd.clone());
        }
        file_location(&*self.file(dirfd)?, true)
    }

    /// The start of a walk of `path`: the root for absolute paths (`dirfd` ignored, as in
    /// Linux), else the working directory (`AT_FDCWD`) or the directory open at `dirfd`
    /// (`EBADF`, `ENOTDIR`).
    pub fn start(&self, dirfd: i32, path: &[u8]) -> KResult<Location> {
        if path.first() == Some(&b'/') {
            Ok(self.fs.lock().root.clone())
        } else {
            self.dir_start(dirfd)
        }
    }

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
            return file_location(&*self.file(dirfd)?, false);
        }
        let start = self.start(dirfd, path)?;
        self.vfs.resolve(&start, path, follow)
    }

    /// [`FsCall::lookup`] with the usual `AT_*` flags: `AT_SYMLINK_NOFOLLOW` keeps a final
    /// symlink, `AT_EMPTY_PATH` lets an empty path name `dirfd` (other bits are ignored here:
    /// each call checks its own set first).
    pub fn lookup_at(&self, dirfd: i32, path: &[u8], flags: u32) -> KResult<Location> {
        self.lookup(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)
    }

    /// Copies the path at `addr` and resolves it like [`FsCall::lookup`].
    pub fn lookup_user(&self, dirfd: i32, addr: u64, follow: bool, empty_ok: bool) -> KResult<Location> {
        let path = self.read_path(addr)?;
        self.lookup(dirfd, &path, follow, empty_ok)
    }

    /// Copies the path at `addr` and resolves all of it but the last component, which must
    /// be an ordinary name: `.`, `..` and `/` are the error `not_a_name` picks for them (each
    /// call has its own). Returns the parent and that name.
    pub fn parent_name(
        &self,
        dirfd: i32,
        addr: u64,
        not_a_name: impl FnOnce(&Last) -> Errno,
    ) -> KResult<(Parent, Vec<u8>)> {
        let path = self.read_path(addr)?;
        let start = self.start(dirfd, &path)?;
        let parent = self.vfs.resolve_parent(&start, &path)?;
        match &parent.last {
            Last::Name(n) => {
                let name = n.clone();
                Ok((parent, name))
            }
            other => Err(not_a_name(other)),
        }
    }
}

/// Resolves the program of `execve`/`execveat` (Linux `do_open_execat`): follows the last
/// symlink unless `AT_SYMLINK_NOFOLLOW` (then a symlink is `ELOOP`); `AT_EMPTY_PATH` with an
/// empty path names `dirfd`; anything but a regular file with an `x` bit is `EACCES`;
/// unknown flags are `EINVAL`. `path` is kernel bytes (already copied in).
pub fn resolve_exec(cx: &FsCall<'_>, dirfd: i32, path: &[u8], flags: u32) -> KResult<Location> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let loc = cx.lookup_at(dirfd, path, flags)?;
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
        let x = |p: &str, flags: u32| resolve_exec(&e.cx(), AT_FDCWD, p.as_bytes(), flags);
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
        let got = resolve_exec(&e.cx(), fd, b"", AT_EMPTY_PATH).map(|l| l.path);
        assert_eq!(got.ok(), Some(b"/prog".to_vec()));
    }

    #[test]
    fn kernel_context_reads_no_user_memory() {
        let e = Env::new();
        let k = FsCall::kernel(&e.files, &e.fs, &e.vfs);
        assert_eq!(k.read_path(e.s("/dev/null")), Err(Errno::EFAULT));
        assert_eq!(k.lookup(AT_FDCWD, b"/dev/null", true, false).map(|l| l.path).ok(), Some(b"/dev/null".to_vec()));
        let file = crate::syscall::fs_open::open_path(&k, AT_FDCWD, b"/dev/null", 0, 0).map(|f| f.path.clone());
        assert_eq!(file.ok().as_deref(), Some("/dev/null"));
    }
}
