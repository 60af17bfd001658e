//! Directory syscalls: `getdents64`, `mkdirat`/`mkdir`, `mknodat`/`mknod`,
//! `unlinkat`/`unlink`/`rmdir`, `symlinkat`/`symlink`, `linkat`/`link`,
//! `renameat2`/`renameat`/`rename`, `getcwd`, `chdir`, `fchdir` (Linux `fs/namei.c`
//! `do_mkdirat`/`do_mknodat`/`do_rmdir`/`do_unlinkat`/`do_symlinkat`/`do_linkat`/
//! `do_renameat2`, `fs/readdir.c`, `fs/d_path.c` `getcwd`, `fs/open.c` `chdir`).
//!
//! Errors follow Linux's order and choices: the last component `.`/`..`/`/` gives `EEXIST`
//! (mkdir, mknod, symlink, link), `EINVAL`/`ENOTEMPTY`/`EBUSY` (rmdir), `EISDIR` (unlink),
//! `EBUSY` (rename); a trailing slash on a name that does not exist is `ENOENT` except for
//! `mkdir`; `unlink` of a directory is `EISDIR`, `rmdir` of a file `ENOTDIR`; removing or
//! renaming a mount point is `EBUSY`; links and renames across mounts are `EXDEV`; moving a
//! directory below itself is `EINVAL`. `renameat2` supports `RENAME_NOREPLACE`; `RENAME_EXCHANGE`
//! and `RENAME_WHITEOUT` are `EINVAL`.

use alloc::vec;
use alloc::vec::Vec;

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::*;
use crate::fs::context::FsContext;
use crate::fs::fdtable::FdTable;
use crate::fs::inode::FileType;
use crate::fs::stat::makedev;
use crate::fs::tmpfs::as_tmp;
use crate::fs::vfs::{Last, Location, Parent};
use crate::user::UserMem;
use crate::KResult;

/// `RENAME_NOREPLACE`.
pub const RENAME_NOREPLACE: u32 = 1;
/// `S_IFMT`.
const S_IFMT: u32 = 0o170000;

/// `getdents64(fd, dirp, count)`: bytes of `linux_dirent64` records written, 0 at the end.
pub fn sys_getdents64(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, dirp: u64, count: u32) -> KResult<u64> {
    let file = get_file(files, fd)?;
    let len = usize::try_from(count).unwrap_or(usize::MAX).min(64 * 1024);
    let mut buf = vec![0u8; len];
    // The position moves only if the records can be stored: check the buffer first.
    mem.read(dirp, &mut buf)?;
    mem.write(dirp, &buf)?;
    let n = file.ops.getdents(&file, &mut buf)?;
    mem.write(dirp, &buf[..n.min(len)])?;
    Ok(n as u64)
}

/// The child `name` of `dir`, or `None` if there is none (other lookup errors stand).
fn child_if_any(cx: &FsCall<'_>, dir: &Location, name: &[u8]) -> KResult<Option<Location>> {
    match cx.vfs.lookup_child(dir, name) {
        Ok(child) => Ok(Some(child)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The parent and last name of the path at `addr`, for a call that creates that name
/// (Linux `filename_create`): `EEXIST` for `.`, `..`, `/` or a name that exists; a trailing
/// slash on a missing name is `ENOENT` unless `dir` (only `mkdir` accepts one).
fn new_name(cx: &FsCall<'_>, dirfd: i32, addr: u64, dir: bool) -> KResult<(Parent, Vec<u8>)> {
    let (parent, name) = cx.parent_name(dirfd, addr, |_| Errno::EEXIST)?;
    if child_if_any(cx, &parent.dir, &name)?.is_some() {
        return Err(Errno::EEXIST);
    }
    if parent.trailing_slash && !dir {
        return Err(Errno::ENOENT);
    }
    Ok((parent, name))
}

/// `mkdirat(dirfd, path, mode)`.
pub fn sys_mkdirat(cx: &FsCall<'_>, dirfd: i32, path: u64, mode: u32) -> KResult<u64> {
    let (parent, name) = new_name(cx, dirfd, path, true)?;
    parent.dir.inode.create(&name, FileType::Directory, mode & 0o1777 & !cx.umask())?;
    Ok(0)
}

/// `mkdir(path, mode)`.
pub fn sys_mkdir(cx: &FsCall<'_>, path: u64, mode: u32) -> KResult<u64> {
    sys_mkdirat(cx, AT_FDCWD, path, mode)
}

/// `mknodat(dirfd, path, mode, dev)`: regular files, fifos, sockets and device nodes (the
/// device number in the kernel's 32-bit `new_encode_dev` form); `EPERM` for `S_IFDIR`,
/// `EINVAL` for an unknown type.
pub fn sys_mknodat(cx: &FsCall<'_>, dirfd: i32, path: u64, mode: u32, dev: u32) -> KResult<u64> {
    let kind = match mode & S_IFMT {
        0 | 0o100000 => FileType::Regular,
        0o020000 => FileType::CharDevice,
        0o060000 => FileType::BlockDevice,
        0o010000 => FileType::Fifo,
        0o140000 => FileType::Socket,
        0o040000 => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let (parent, name) = new_name(cx, dirfd, path, false)?;
    let perm = mode & 0o7777 & !cx.umask();
    let (major, minor) = ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    match (kind, as_tmp(&*parent.dir.inode)) {
        (FileType::CharDevice | FileType::BlockDevice, Some(t)) => {
            t.create_node(&name, kind, perm, makedev(major, minor))?;
        }
        _ => {
            parent.dir.inode.create(&name, kind, perm)?;
        }
    }
    Ok(0)
}

/// `mknod(path, mode, dev)`.
pub fn sys_mknod(cx: &FsCall<'_>, path: u64, mode: u32, dev: u32) -> KResult<u64> {
    sys_mknodat(cx, AT_FDCWD, path, mode, dev)
}

/// What `rmdir` answers for a last component that is not a name.
fn rmdir_not_a_name(last: &Last) -> Errno {
    match last {
        Last::Dot => Errno::EINVAL,
        Last::DotDot => Errno::ENOTEMPTY,
        _ => Errno::EBUSY,
    }
}

fn do_rmdir(cx: &FsCall<'_>, dirfd: i32, path: u64) -> KResult<u64> {
    let (parent, name) = cx.parent_name(dirfd, path, rmdir_not_a_name)?;
    let child = cx.vfs.lookup_child(&parent.dir, &name)?;
    if !child.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if cx.vfs.is_mount_point(&child.path) {
        return Err(Errno::EBUSY);
    }
    parent.dir.inode.rmdir(&name)?;
    Ok(0)
}

fn do_unlink(cx: &FsCall<'_>, dirfd: i32, path: u64) -> KResult<u64> {
    let (parent, name) = cx.parent_name(dirfd, path, |_| Errno::EISDIR)?;
    let child = cx.vfs.lookup_child(&parent.dir, &name)?;
    if child.is_dir() {
        return Err(Errno::EISDIR);
    }
    if parent.trailing_slash {
        return Err(Errno::ENOTDIR);
    }
    parent.dir.inode.unlink(&name)?;
    Ok(0)
}

/// `unlinkat(dirfd, path, flags)`: `AT_REMOVEDIR` removes an empty directory.
pub fn sys_unlinkat(cx: &FsCall<'_>, dirfd: i32, path: u64, flags: u32) -> KResult<u64> {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & AT_REMOVEDIR != 0 {
        do_rmdir(cx, dirfd, path)
    } else {
        do_unlink(cx, dirfd, path)
    }
}

/// `unlink(path)`.
pub fn sys_unlink(cx: &FsCall<'_>, path: u64) -> KResult<u64> {
    sys_unlinkat(cx, AT_FDCWD, path, 0)
}

/// `rmdir(path)`.
pub fn sys_rmdir(cx: &FsCall<'_>, path: u64) -> KResult<u64> {
    sys_unlinkat(cx, AT_FDCWD, path, AT_REMOVEDIR)
}

/// `symlinkat(target, newdirfd, linkpath)`: `ENOENT` for an empty target.
pub fn sys_symlinkat(cx: &FsCall<'_>, target: u64, newdirfd: i32, linkpath: u64) -> KResult<u64> {
    let target = cx.read_path(target)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let (parent, name) = new_name(cx, newdirfd, linkpath, false)?;
    parent.dir.inode.symlink(&name, &target)?;
    Ok(0)
}

/// `symlink(target, linkpath)`.
pub fn sys_symlink(cx: &FsCall<'_>, target: u64, linkpath: u64) -> KResult<u64> {
    sys_symlinkat(cx, target, AT_FDCWD, linkpath)
}

/// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`: `AT_SYMLINK_FOLLOW` follows a
/// final symlink of `oldpath`, `AT_EMPTY_PATH` links `olddirfd` itself; `EPERM` for a
/// directory, `EXDEV` across mounts.
pub fn sys_linkat(
    cx: &FsCall<'_>,
    olddirfd: i32,
    oldpath: u64,
    newdirfd: i32,
    newpath: u64,
    flags: u32,
) -> KResult<u64> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = cx.lookup_user(olddirfd, oldpath, flags & AT_SYMLINK_FOLLOW != 0, flags & AT_EMPTY_PATH != 0)?;
    let (parent, name) = new_name(cx, newdirfd, newpath, false)?;
    if old.is_dir() {
        return Err(Errno::EPERM);
    }
    if cx.vfs.mount_id(&old.path) != cx.vfs.mount_id(&parent.dir.path) {
        return Err(Errno::EXDEV);
    }
    parent.dir.inode.link(&name, &old.inode)?;
    Ok(0)
}

/// `link(oldpath, newpath)`.
pub fn sys_link(cx: &FsCall<'_>, oldpath: u64, newpath: u64) -> KResult<u64> {
    sys_linkat(cx, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)
}

/// Whether `path` is strictly below `dir` (canonical paths).
fn is_below(path: &[u8], dir: &[u8]) -> bool {
    if dir == b"/" {
        return path != b"/";
    }
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

/// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`.
pub fn sys_renameat2(
    cx: &FsCall<'_>,
    olddirfd: i32,
    oldpath: u64,
    newdirfd: i32,
    newpath: u64,
    flags: u32,
) -> KResult<u64> {
    if flags & !RENAME_NOREPLACE != 0 {
        return Err(Errno::EINVAL);
    }
    let vfs = cx.vfs;
    let (old, old_name) = cx.parent_name(olddirfd, oldpath, |_| Errno::EBUSY)?;
    let (new, new_name) = cx.parent_name(newdirfd, newpath, |_| Errno::EBUSY)?;
    if vfs.mount_id(&old.dir.path) != vfs.mount_id(&new.dir.path) {
        return Err(Errno::EXDEV);
    }
    let source = vfs.lookup_child(&old.dir, &old_name)?;
    if !source.is_dir() && (old.trailing_slash || new.trailing_slash) {
        return Err(Errno::ENOTDIR);
    }
    let new_path = new.dir.child_path(&new_name);
    let target = child_if_any(cx, &new.dir, &new_name)?;
    if target.is_some() && flags & RENAME_NOREPLACE != 0 {
        return Err(Errno::EEXIST);
    }
    if vfs.is_mount_point(&source.path) || vfs.is_mount_point(&new_path) {
        return Err(Errno::EBUSY);
    }
    if is_below(&new_path, &source.path) {
        return Err(Errno::EINVAL);
    }
    if target.is_some() && is_below(&source.path, &new_path) {
        return Err(Errno::ENOTEMPTY);
    }
    old.dir.inode.rename(&old_name, &new.dir.inode, &new_name)?;
    Ok(0)
}

/// `renameat(olddirfd, oldpath, newdirfd, newpath)`.
pub fn sys_renameat(cx: &FsCall<'_>, olddirfd: i32, oldpath: u64, newdirfd: i32, newpath: u64) -> KResult<u64> {
    sys_renameat2(cx, olddirfd, oldpath, newdirfd, newpath, 0)
}

/// `rename(oldpath, newpath)`.
pub fn sys_rename(cx: &FsCall<'_>, oldpath: u64, newpath: u64) -> KResult<u64> {
    sys_renameat2(cx, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)
}

/// `getcwd(buf, size)`: the length including the NUL; `ERANGE` if it does not fit.
pub fn sys_getcwd(mem: &dyn UserMem, fs: &Mutex<FsContext>, buf: u64, size: u64) -> KResult<u64> {
    let mut path = fs.lock().cwd.path.clone();
    path.push(0);
    if path.len() as u64 > size {
        return Err(Errno::ERANGE);
    }
    mem.write(buf, &path)?;
    Ok(path.len() as u64)
}

/// `chdir(path)`.
pub fn sys_chdir(cx: &FsCall<'_>, path: u64) -> KResult<u64> {
    let loc = cx.lookup_user(AT_FDCWD, path, true, false)?;
    if !loc.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    cx.fs.lock().cwd = loc;
    Ok(0)
}

/// `fchdir(fd)`.
pub fn sys_fchdir(files: &Mutex<FdTable>, fs: &Mutex<FsContext>, fd: i32) -> KResult<u64> {
    let file = get_file(files, fd)?;
    let loc = file_location(&file, true)?;
    fs.lock().cwd = loc;
    Ok(0)
}

#[cfg(test)]
#[path = "fs_dir_tests.rs"]
mod tests;
