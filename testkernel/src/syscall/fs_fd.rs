//! Descriptor and inode-attribute syscalls: `dup`, `dup2`, `dup3`, `fcntl`, `ioctl`,
//! `umask`, `truncate`, `ftruncate`, `chmod`, `fchmod`, `fchmodat` (Linux `fs/file.c`,
//! `fs/fcntl.c`, `fs/ioctl.c`, `fs/open.c`).
//!
//! `fcntl` implements `F_DUPFD`, `F_DUPFD_CLOEXEC`, `F_GETFD`, `F_SETFD`, `F_GETFL`,
//! `F_SETFL` (only `O_APPEND`, `O_NONBLOCK`, `O_DIRECT`, `O_NOATIME`, `O_ASYNC` change),
//! and `F_GETPIPE_SZ`/`F_SETPIPE_SZ` through the pipe code (`EBADF` for a non-pipe); every
//! other command (record locks, leases, pipe sizes, seals...) is `EINVAL`. An `O_PATH`
//! descriptor allows only the dup and flag-reading commands (`EBADF` otherwise), as in Linux.
//! `ioctl` handles `FIOCLEX`, `FIONCLEX`, `FIONBIO`, `FIOASYNC` and, for regular files,
//! `FIONREAD` itself, and passes everything else to the file (`ENOTTY` by default).

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::*;
use crate::fs::context::FsContext;
use crate::fs::fdtable::FdTable;
use crate::fs::file::O_NONBLOCK;
use crate::fs::generic::is_path_file;
use crate::fs::inode::FileType;
use crate::user::{read_val, write_val, UserMem};
use crate::KResult;

/// `F_DUPFD`.
pub const F_DUPFD: u32 = 0;
/// `F_GETFD`.
pub const F_GETFD: u32 = 1;
/// `F_SETFD`.
pub const F_SETFD: u32 = 2;
/// `F_GETFL`.
pub const F_GETFL: u32 = 3;
/// `F_SETFL`.
pub const F_SETFL: u32 = 4;
/// `F_DUPFD_CLOEXEC`.
pub const F_DUPFD_CLOEXEC: u32 = 1030;
/// `F_SETPIPE_SZ`.
pub const F_SETPIPE_SZ: u32 = 1031;
/// `F_GETPIPE_SZ`.
pub const F_GETPIPE_SZ: u32 = 1032;
/// `FD_CLOEXEC`.
pub const FD_CLOEXEC: u64 = 1;

const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;
const FIOASYNC: u32 = 0x5452;
const FIONBIO: u32 = 0x5421;
const FIONREAD: u32 = 0x541b;
const O_ASYNC: u32 = 0o20000;

/// `dup(fd)`: the lowest free fd, close-on-exec clear.
pub fn sys_dup(files: &Mutex<FdTable>, fd: i32) -> KResult<u64> {
    let mut t = files.lock();
    let file = t.get(fd)?;
    Ok(t.install(file, false)? as u64)
}

/// `dup3(oldfd, newfd, flags)`: `EINVAL` for flags other than `O_CLOEXEC` or equal fds.
pub fn sys_dup3(files: &Mutex<FdTable>, oldfd: i32, newfd: i32, flags: u32) -> KResult<u64> {
    if flags & !O_CLOEXEC != 0 || oldfd == newfd {
        return Err(Errno::EINVAL);
    }
    let replaced = {
        let mut t = files.lock();
        let file = t.get(oldfd)?;
        t.install_at(newfd, file, flags & O_CLOEXEC != 0)?
    };
    drop(replaced);
    Ok(newfd as u64)
}

/// `dup2(oldfd, newfd)`: like `dup3` without flags, but equal fds return `newfd` if valid.
pub fn sys_dup2(files: &Mutex<FdTable>, oldfd: i32, newfd: i32) -> KResult<u64> {
    if oldfd == newfd {
        files.lock().get(oldfd)?;
        return Ok(newfd as u64);
    }
    sys_dup3(files, oldfd, newfd, 0)
}

/// `fcntl(fd, cmd, arg)`.
pub fn sys_fcntl(files: &Mutex<FdTable>, fd: i32, cmd: u32, arg: u64) -> KResult<u64> {
    let file = get_file(files, fd)?;
    if is_path_file(&file) && !matches!(cmd, F_DUPFD | F_DUPFD_CLOEXEC | F_GETFD | F_SETFD | F_GETFL) {
        return Err(Errno::EBADF);
    }
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = usize::try_from(arg).unwrap_or(usize::MAX);
            Ok(files.lock().install_from(min, file, cmd == F_DUPFD_CLOEXEC)? as u64)
        }
        F_GETFD => Ok(if files.lock().cloexec(fd)? { FD_CLOEXEC } else { 0 }),
        F_SETFD => {
            files.lock().set_cloexec(fd, arg & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(u64::from(file.flags())),
        F_SETFL => {
            file.set_flags(arg as u32);
            Ok(0)
        }
        F_SETPIPE_SZ | F_GETPIPE_SZ => crate::fs::pipe::pipe_fcntl(&file, cmd, arg),
        _ => Err(Errno::EINVAL),
    }
}

/// `ioctl(fd, cmd, arg)`.
pub fn sys_ioctl(mem: &dyn UserMem, files: &Mutex<FdTable>, fd: i32, cmd: u32, arg: u64) -> KResult<u64> {
    let file = get_io_file(files, fd)?;
    match cmd {
        FIOCLEX | FIONCLEX => {
            files.lock().set_cloexec(fd, cmd == FIOCLEX)?;
            Ok(0)
        }
        FIONBIO | FIOASYNC => {
            let on: i32 = read_val(mem, arg)?;
            let bit = if cmd == FIONBIO { O_NONBLOCK } else { O_ASYNC };
            let flags = file.flags();
            file.set_flags(if on != 0 { flags | bit } else { flags & !bit });
            Ok(0)
        }
        FIONREAD if file.ops.inode().is_some_and(|i| i.file_type() == FileType::Regular) => {
            let size = file.ops.stat()?.size;
            let left = size.saturating_sub(*file.pos.lock());
            write_val(mem, arg, &i32::try_from(left).unwrap_or(i32::MAX))?;
            Ok(0)
        }
        _ => file.ops.ioctl(&file, cmd, arg, mem),
    }
}

/// `umask(mask)`: the previous mask.
pub fn sys_umask(fs: &Mutex<FsContext>, mask: u32) -> KResult<u64> {
    let mut f = fs.lock();
    let old = f.umask;
    f.umask = mask & 0o777;
    Ok(u64::from(old))
}

/// `truncate(path, length)`: `EINVAL` for a negative length or a non-regular file,
/// `EISDIR` for a directory.
pub fn sys_truncate(cx: &FsCall<'_>, path: u64, length: i64) -> KResult<u64> {
    let len = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    let loc = cx.lookup_user(AT_FDCWD, path, true, false)?;
    match loc.inode.file_type() {
        FileType::Directory => Err(Errno::EISDIR),
        FileType::Regular => loc.inode.truncate(len).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

/// `ftruncate(fd, length)`: `EINVAL` unless a regular file open for writing.
pub fn sys_ftruncate(files: &Mutex<FdTable>, fd: i32, length: i64) -> KResult<u64> {
    let len = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    let file = get_io_file(files, fd)?;
    let inode = file.ops.inode().ok_or(Errno::EINVAL)?;
    if inode.file_type() != FileType::Regular || !file.writable() {
        return Err(Errno::EINVAL);
    }
    inode.truncate(len)?;
    Ok(0)
}

/// `fchmodat(dirfd, path, mode)` (follows symlinks, as Linux's has no flags).
pub fn sys_fchmodat(cx: &FsCall<'_>, dirfd: i32, path: u64, mode: u32) -> KResult<u64> {
    let loc = cx.lookup_user(dirfd, path, true, false)?;
    loc.inode.set_mode(mode & 0o7777)?;
    Ok(0)
}

/// `chmod(path, mode)`.
pub fn sys_chmod(cx: &FsCall<'_>, path: u64, mode: u32) -> KResult<u64> {
    sys_fchmodat(cx, AT_FDCWD, path, mode)
}

/// `fchmod(fd, mode)`: `EBADF` for `O_PATH` descriptors.
pub fn sys_fchmod(files: &Mutex<FdTable>, fd: i32, mode: u32) -> KResult<u64> {
    let inode = get_io_file(files, fd)?.ops.inode().ok_or(Errno::EPERM)?;
    inode.set_mode(mode & 0o7777)?;
    Ok(0)
}

#[cfg(test)]
#[path = "fs_fd_tests.rs"]
mod tests;
