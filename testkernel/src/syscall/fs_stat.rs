//! `fstat`, `newfstatat`, `stat`, `lstat`, `statx`, `readlinkat`, `readlink`, `faccessat`,
//! `faccessat2`, `access` (Linux `fs/stat.c`, `fs/open.c` `do_faccessat`).
//!
//! `AT_EMPTY_PATH` with an empty path names `dirfd` itself (any open file: a pipe's `fstat`
//! data too); without it an empty path is `ENOENT`. Unknown `AT_*` flags are `EINVAL`;
//! `statx` also refuses both `AT_STATX_*_SYNC` bits together and the reserved mask bit, and
//! fills every basic field plus the mount id whatever mask was asked for (as Linux does).
//! Access checks are those of root: read and write are always allowed, execute needs an
//! `x` bit on anything but a directory (`EACCES`).

use alloc::sync::Arc;

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::*;
use crate::fs::context::FsContext;
use crate::fs::fdtable::FdTable;
use crate::fs::file::OpenFile;
use crate::fs::inode::{FileType, Metadata};
use crate::fs::stat::{Stat, Statx};
use crate::fs::vfs::{Location, Vfs};
use crate::user::{write_val, UserMem};
use crate::KResult;

/// `STATX__RESERVED`.
const STATX_RESERVED: u32 = 0x8000_0000;

/// What a `*stat*` call looks at: a resolved name, or an open file without one.
enum Target {
    Loc(Location),
    File(Arc<OpenFile>),
}

impl Target {
    fn metadata(&self) -> KResult<Metadata> {
        match self {
            Target::Loc(l) => Ok(l.inode.metadata()),
            Target::File(f) => f.ops.stat(),
        }
    }

    fn path(&self) -> &[u8] {
        match self {
            Target::Loc(l) => &l.path,
            Target::File(f) => f.path.as_bytes(),
        }
    }
}

/// Resolves `(dirfd, path)` for the stat family: `AT_EMPTY_PATH` + empty path is `dirfd`
/// itself (its open file when it is not `AT_FDCWD`).
fn target(p: &PathCtx<'_>, dirfd: i32, path: u64, flags: u32) -> KResult<Target> {
    let path = read_path(p.mem, path)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd != AT_FDCWD {
        return Ok(Target::File(get_file(p.files, dirfd)?));
    }
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    Ok(Target::Loc(p.lookup(dirfd, &path, follow, flags & AT_EMPTY_PATH != 0)?))
}

fn put_stat(mem: &dyn UserMem, buf: u64, m: &Metadata) -> KResult<u64> {
    write_val(mem, buf, &Stat::from_metadata(m))?;
    Ok(0)
}

/// `fstat(fd, statbuf)`.
pub fn sys_fstat(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, buf: u64) -> KResult<u64> {
    let file = get_file(files, fd)?;
    put_stat(mem, buf, &file.ops.stat()?)
}

/// `newfstatat(dirfd, path, statbuf, flags)`.
#[allow(clippy::too_many_arguments)]
pub fn sys_newfstatat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    buf: u64,
    flags: u32,
) -> KResult<u64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = PathCtx { mem, files, fs, vfs };
    let t = target(&p, dirfd, path, flags)?;
    put_stat(mem, buf, &t.metadata()?)
}

/// `stat(path, statbuf)`.
pub fn sys_stat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
    buf: u64,
) -> KResult<u64> {
    sys_newfstatat(mem, files, fs, vfs, AT_FDCWD, path, buf, 0)
}

/// `lstat(path, statbuf)`.
pub fn sys_lstat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
    buf: u64,
) -> KResult<u64> {
    sys_newfstatat(mem, files, fs, vfs, AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW)
}

/// `statx(dirfd, path, flags, mask, statxbuf)`.
#[allow(clippy::too_many_arguments)]
pub fn sys_statx(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    flags: u32,
    mask: u32,
    buf: u64,
) -> KResult<u64> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE) != 0
        || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE
        || mask & STATX_RESERVED != 0
    {
        return Err(Errno::EINVAL);
    }
    let p = PathCtx { mem, files, fs, vfs };
    let t = target(&p, dirfd, path, flags)?;
    let m = t.metadata()?;
    write_val(mem, buf, &Statx::from_metadata(&m, vfs.mount_id(t.path())))?;
    Ok(0)
}

/// `readlinkat(dirfd, path, buf, bufsiz)`: the target's length (no NUL added, truncated to
/// `bufsiz`); `EINVAL` for `bufsiz <= 0` or a non-symlink, `ENOENT` for an empty path that
/// names a non-symlink (Linux 6.1).
#[allow(clippy::too_many_arguments)]
pub fn sys_readlinkat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    buf: u64,
    bufsiz: i32,
) -> KResult<u64> {
    let size = usize::try_from(bufsiz).ok().filter(|&s| s > 0).ok_or(Errno::EINVAL)?;
    let p = PathCtx { mem, files, fs, vfs };
    let path = read_path(mem, path)?;
    let loc = p.lookup(dirfd, &path, false, true)?;
    if loc.inode.file_type() != FileType::Symlink {
        return Err(if path.is_empty() { Errno::ENOENT } else { Errno::EINVAL });
    }
    let target = loc.inode.readlink()?;
    let n = target.len().min(size);
    mem.write(buf, &target[..n])?;
    Ok(n as u64)
}

/// `readlink(path, buf, bufsiz)`.
pub fn sys_readlink(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
    buf: u64,
    bufsiz: i32,
) -> KResult<u64> {
    sys_readlinkat(mem, files, fs, vfs, AT_FDCWD, path, buf, bufsiz)
}

/// `faccessat2(dirfd, path, mode, flags)`.
#[allow(clippy::too_many_arguments)]
pub fn sys_faccessat2(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    mode: u32,
    flags: u32,
) -> KResult<u64> {
    if mode & !0o7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = PathCtx { mem, files, fs, vfs };
    let t = target(&p, dirfd, path, flags)?;
    let m = t.metadata()?;
    let is_dir = m.mode & 0o170000 == FileType::Directory.mode_bits();
    if mode & 1 != 0 && !is_dir && m.mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

/// `faccessat(dirfd, path, mode)`.
pub fn sys_faccessat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    mode: u32,
) -> KResult<u64> {
    sys_faccessat2(mem, files, fs, vfs, dirfd, path, mode, 0)
}

/// `access(path, mode)`.
pub fn sys_access(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
    mode: u32,
) -> KResult<u64> {
    sys_faccessat2(mem, files, fs, vfs, AT_FDCWD, path, mode, 0)
}

#[cfg(test)]
#[path = "fs_stat_tests.rs"]
mod tests;
