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
use crate::fs::fdtable::FdTable;
use crate::fs::file::OpenFile;
use crate::fs::inode::{FileType, Metadata};
use crate::fs::stat::{Stat, Statx};
use crate::fs::vfs::Location;
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

/// Resolves `(dirfd, path)` for the stat family, after checking `flags` against the
/// call's `allowed` set (`EINVAL`): `AT_EMPTY_PATH` + empty path is `dirfd` itself (its open
/// file when it is not `AT_FDCWD`).
fn target(cx: &FsCall<'_>, dirfd: i32, path: u64, flags: u32, allowed: u32) -> KResult<Target> {
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    let path = cx.read_path(path)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd != AT_FDCWD {
        return Ok(Target::File(cx.file(dirfd)?));
    }
    Ok(Target::Loc(cx.lookup_at(dirfd, &path, flags)?))
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
pub fn sys_newfstatat(cx: &FsCall<'_>, dirfd: i32, path: u64, buf: u64, flags: u32) -> KResult<u64> {
    let t = target(cx, dirfd, path, flags, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)?;
    put_stat(cx.mem, buf, &t.metadata()?)
}

/// `stat(path, statbuf)`.
pub fn sys_stat(cx: &FsCall<'_>, path: u64, buf: u64) -> KResult<u64> {
    sys_newfstatat(cx, AT_FDCWD, path, buf, 0)
}

/// `lstat(path, statbuf)`.
pub fn sys_lstat(cx: &FsCall<'_>, path: u64, buf: u64) -> KResult<u64> {
    sys_newfstatat(cx, AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW)
}

/// `statx(dirfd, path, flags, mask, statxbuf)`.
pub fn sys_statx(cx: &FsCall<'_>, dirfd: i32, path: u64, flags: u32, mask: u32, buf: u64) -> KResult<u64> {
    if flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE || mask & STATX_RESERVED != 0 {
        return Err(Errno::EINVAL);
    }
    let allowed = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE;
    let t = target(cx, dirfd, path, flags, allowed)?;
    let m = t.metadata()?;
    write_val(cx.mem, buf, &Statx::from_metadata(&m, cx.vfs.mount_id(t.path())))?;
    Ok(0)
}

/// `readlinkat(dirfd, path, buf, bufsiz)`: the target's length (no NUL added, truncated to
/// `bufsiz`); `EINVAL` for `bufsiz <= 0` or a non-symlink, `ENOENT` for an empty path that
/// names a non-symlink (Linux 6.1).
pub fn sys_readlinkat(cx: &FsCall<'_>, dirfd: i32, path: u64, buf: u64, bufsiz: i32) -> KResult<u64> {
    let size = usize::try_from(bufsiz).ok().filter(|&s| s > 0).ok_or(Errno::EINVAL)?;
    let path = cx.read_path(path)?;
    let loc = cx.lookup(dirfd, &path, false, true)?;
    if loc.inode.file_type() != FileType::Symlink {
        return Err(if path.is_empty() { Errno::ENOENT } else { Errno::EINVAL });
    }
    let target = loc.inode.readlink()?;
    let n = target.len().min(size);
    cx.mem.write(buf, &target[..n])?;
    Ok(n as u64)
}

/// `readlink(path, buf, bufsiz)`.
pub fn sys_readlink(cx: &FsCall<'_>, path: u64, buf: u64, bufsiz: i32) -> KResult<u64> {
    sys_readlinkat(cx, AT_FDCWD, path, buf, bufsiz)
}

/// `faccessat2(dirfd, path, mode, flags)`.
pub fn sys_faccessat2(cx: &FsCall<'_>, dirfd: i32, path: u64, mode: u32, flags: u32) -> KResult<u64> {
    if mode & !0o7 != 0 {
        return Err(Errno::EINVAL);
    }
    let t = target(cx, dirfd, path, flags, AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let m = t.metadata()?;
    let is_dir = m.mode & 0o170000 == FileType::Directory.mode_bits();
    if mode & 1 != 0 && !is_dir && m.mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

/// `faccessat(dirfd, path, mode)`.
pub fn sys_faccessat(cx: &FsCall<'_>, dirfd: i32, path: u64, mode: u32) -> KResult<u64> {
    sys_faccessat2(cx, dirfd, path, mode, 0)
}

/// `access(path, mode)`.
pub fn sys_access(cx: &FsCall<'_>, path: u64, mode: u32) -> KResult<u64> {
    sys_faccessat2(cx, AT_FDCWD, path, mode, 0)
}

#[cfg(test)]
#[path = "fs_stat_tests.rs"]
mod tests;
