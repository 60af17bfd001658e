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

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::*;
use crate::fs::context::FsContext;
use crate::fs::fdtable::FdTable;
use crate::fs::inode::FileType;
use crate::fs::stat::makedev;
use crate::fs::tmpfs::as_tmp;
use crate::fs::vfs::{Last, Location, Parent, Vfs};
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

/// Resolves the parent of the path at `addr` and requires an ordinary last name, with
/// `dot_err` for `.`/`..`/`/`.
fn parent_of(p: &PathCtx<'_>, dirfd: i32, addr: u64, dot_err: Errno) -> KResult<(Parent, alloc::vec::Vec<u8>)> {
    let path = read_path(p.mem, addr)?;
    let start = start_for(p.files, p.fs, dirfd, &path)?;
    let parent = p.vfs.resolve_parent(&start, &path)?;
    match parent.last.clone() {
        Last::Name(n) => Ok((parent, n)),
        _ => Err(dot_err),
    }
}

/// For calls that create a non-directory name: `EEXIST` if it exists, `ENOENT` for a
/// trailing slash on a missing name.
fn check_new_name(p: &PathCtx<'_>, parent: &Parent, name: &[u8]) -> KResult<()> {
    match p.vfs.lookup_child(&parent.dir, name) {
        Ok(_) => Err(Errno::EEXIST),
        Err(Errno::ENOENT) if parent.trailing_slash => Err(Errno::ENOENT),
        Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `mkdirat(dirfd, path, mode)`.
pub fn sys_mkdirat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    mode: u32,
) -> KResult<u64> {
    let p = PathCtx { mem, files, fs, vfs };
    let (parent, name) = parent_of(&p, dirfd, path, Errno::EEXIST)?;
    match vfs.lookup_child(&parent.dir, &name) {
        Ok(_) => return Err(Errno::EEXIST),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let umask = fs.lock().umask;
    parent.dir.inode.create(&name, FileType::Directory, mode & 0o1777 & !umask)?;
    Ok(0)
}

/// `mkdir(path, mode)`.
pub fn sys_mkdir(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
    mode: u32,
) -> KResult<u64> {
    sys_mkdirat(mem, files, fs, vfs, AT_FDCWD, path, mode)
}

/// `mknodat(dirfd, path, mode, dev)`: regular files, fifos, sockets and device nodes (the
/// device number in the kernel's 32-bit `new_encode_dev` form); `EPERM` for `S_IFDIR`,
/// `EINVAL` for an unknown type.
#[allow(clippy::too_many_arguments)]
pub fn sys_mknodat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    mode: u32,
    dev: u32,
) -> KResult<u64> {
    let kind = match mode & S_IFMT {
        0 | 0o100000 => FileType::Regular,
        0o020000 => FileType::CharDevice,
        0o060000 => FileType::BlockDevice,
        0o010000 => FileType::Fifo,
        0o140000 => FileType::Socket,
        0o040000 => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let p = PathCtx { mem, files, fs, vfs };
    let (parent, name) = parent_of(&p, dirfd, path, Errno::EEXIST)?;
    check_new_name(&p, &parent, &name)?;
    let perm = mode & 0o7777 & !fs.lock().umask;
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
pub fn sys_mknod(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
    mode: u32,
    dev: u32,
) -> KResult<u64> {
    sys_mknodat(mem, files, fs, vfs, AT_FDCWD, path, mode, dev)
}

fn do_rmdir(p: &PathCtx<'_>, dirfd: i32, path: u64) -> KResult<u64> {
    let path = read_path(p.mem, path)?;
    let start = start_for(p.files, p.fs, dirfd, &path)?;
    let parent = p.vfs.resolve_parent(&start, &path)?;
    let name = match parent.last {
        Last::Name(n) => n,
        Last::Dot => return Err(Errno::EINVAL),
        Last::DotDot => return Err(Errno::ENOTEMPTY),
        Last::Root => return Err(Errno::EBUSY),
    };
    let child = p.vfs.lookup_child(&parent.dir, &name)?;
    if !child.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if p.vfs.is_mount_point(&child.path) {
        return Err(Errno::EBUSY);
    }
    parent.dir.inode.rmdir(&name)?;
    Ok(0)
}

fn do_unlink(p: &PathCtx<'_>, dirfd: i32, path: u64) -> KResult<u64> {
    let (parent, name) = parent_of(p, dirfd, path, Errno::EISDIR)?;
    let child = p.vfs.lookup_child(&parent.dir, &name)?;
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
pub fn sys_unlinkat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    dirfd: i32,
    path: u64,
    flags: u32,
) -> KResult<u64> {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let p = PathCtx { mem, files, fs, vfs };
    if flags & AT_REMOVEDIR != 0 {
        do_rmdir(&p, dirfd, path)
    } else {
        do_unlink(&p, dirfd, path)
    }
}

/// `unlink(path)`.
pub fn sys_unlink(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
) -> KResult<u64> {
    sys_unlinkat(mem, files, fs, vfs, AT_FDCWD, path, 0)
}

/// `rmdir(path)`.
pub fn sys_rmdir(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
) -> KResult<u64> {
    sys_unlinkat(mem, files, fs, vfs, AT_FDCWD, path, AT_REMOVEDIR)
}

/// `symlinkat(target, newdirfd, linkpath)`: `ENOENT` for an empty target.
pub fn sys_symlinkat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    target: u64,
    newdirfd: i32,
    linkpath: u64,
) -> KResult<u64> {
    let target = read_path(mem, target)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let p = PathCtx { mem, files, fs, vfs };
    let (parent, name) = parent_of(&p, newdirfd, linkpath, Errno::EEXIST)?;
    check_new_name(&p, &parent, &name)?;
    parent.dir.inode.symlink(&name, &target)?;
    Ok(0)
}

/// `symlink(target, linkpath)`.
pub fn sys_symlink(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    target: u64,
    linkpath: u64,
) -> KResult<u64> {
    sys_symlinkat(mem, files, fs, vfs, target, AT_FDCWD, linkpath)
}

/// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`: `AT_SYMLINK_FOLLOW` follows a
/// final symlink of `oldpath`, `AT_EMPTY_PATH` links `olddirfd` itself; `EPERM` for a
/// directory, `EXDEV` across mounts.
#[allow(clippy::too_many_arguments)]
pub fn sys_linkat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    olddirfd: i32,
    oldpath: u64,
    newdirfd: i32,
    newpath: u64,
    flags: u32,
) -> KResult<u64> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = PathCtx { mem, files, fs, vfs };
    let old = p.lookup_user(olddirfd, oldpath, flags & AT_SYMLINK_FOLLOW != 0, flags & AT_EMPTY_PATH != 0)?;
    let (parent, name) = parent_of(&p, newdirfd, newpath, Errno::EEXIST)?;
    check_new_name(&p, &parent, &name)?;
    if old.is_dir() {
        return Err(Errno::EPERM);
    }
    if vfs.mount_id(&old.path) != vfs.mount_id(&parent.dir.path) {
        return Err(Errno::EXDEV);
    }
    parent.dir.inode.link(&name, &old.inode)?;
    Ok(0)
}

/// `link(oldpath, newpath)`.
pub fn sys_link(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    oldpath: u64,
    newpath: u64,
) -> KResult<u64> {
    sys_linkat(mem, files, fs, vfs, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)
}

/// Whether `path` is strictly below `dir` (canonical paths).
fn is_below(path: &[u8], dir: &[u8]) -> bool {
    if dir == b"/" {
        return path != b"/";
    }
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

/// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`.
#[allow(clippy::too_many_arguments)]
pub fn sys_renameat2(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    olddirfd: i32,
    oldpath: u64,
    newdirfd: i32,
    newpath: u64,
    flags: u32,
) -> KResult<u64> {
    if flags & !RENAME_NOREPLACE != 0 {
        return Err(Errno::EINVAL);
    }
    let p = PathCtx { mem, files, fs, vfs };
    let (old, old_name) = parent_of(&p, olddirfd, oldpath, Errno::EBUSY)?;
    let (new, new_name) = parent_of(&p, newdirfd, newpath, Errno::EBUSY)?;
    if vfs.mount_id(&old.dir.path) != vfs.mount_id(&new.dir.path) {
        return Err(Errno::EXDEV);
    }
    let source = vfs.lookup_child(&old.dir, &old_name)?;
    if !source.is_dir() && (old.trailing_slash || new.trailing_slash) {
        return Err(Errno::ENOTDIR);
    }
    let new_path = new.dir.child_path(&new_name);
    let target: Option<Location> = match vfs.lookup_child(&new.dir, &new_name) {
        Ok(t) => Some(t),
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(e),
    };
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
#[allow(clippy::too_many_arguments)]
pub fn sys_renameat(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    olddirfd: i32,
    oldpath: u64,
    newdirfd: i32,
    newpath: u64,
) -> KResult<u64> {
    sys_renameat2(mem, files, fs, vfs, olddirfd, oldpath, newdirfd, newpath, 0)
}

/// `rename(oldpath, newpath)`.
pub fn sys_rename(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    oldpath: u64,
    newpath: u64,
) -> KResult<u64> {
    sys_renameat2(mem, files, fs, vfs, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)
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
pub fn sys_chdir(
    mem: &dyn UserMem,
    files: &Mutex<FdTable>,
    fs: &Mutex<FsContext>,
    vfs: &Vfs,
    path: u64,
) -> KResult<u64> {
    let p = PathCtx { mem, files, fs, vfs };
    let loc = p.lookup_user(AT_FDCWD, path, true, false)?;
    if !loc.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    fs.lock().cwd = loc;
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
