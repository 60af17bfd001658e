//! Inode attributes and syncing: `utimensat`, `fchownat`/`chown`/`lchown`/`fchown`,
//! `fsync`/`fdatasync`/`syncfs`/`sync` (Linux `fs/utimes.c`, `fs/open.c` `chown_common`,
//! `fs/sync.c`).
//!
//! Times and owners are stored by tmpfs; other filesystems accept and ignore them. Every
//! filesystem is in memory, so syncing only checks the descriptor: `EINVAL` for files
//! without an inode (pipes, eventfds), as Linux answers for files without `fsync`.

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::*;
use crate::fs::fdtable::FdTable;
use crate::fs::inode::Timespec;
use crate::fs::tmpfs::{as_tmp, now};
use crate::fs::vfs::Location;
use crate::user::{read_val, UserMem};
use crate::KResult;

/// `UTIME_NOW`.
pub const UTIME_NOW: i64 = (1 << 30) - 1;
/// `UTIME_OMIT`.
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

/// A `timespec` argument (`UTIME_NOW`: now; `UTIME_OMIT`: `current`); `EINVAL` for bad
/// nanoseconds.
fn time_arg(mem: &dyn UserMem, addr: u64, current: Timespec) -> KResult<Timespec> {
    let sec: i64 = read_val(mem, addr)?;
    let nsec: i64 = read_val(mem, addr.checked_add(8).ok_or(Errno::EFAULT)?)?;
    match nsec {
        UTIME_NOW => Ok(now()),
        UTIME_OMIT => Ok(current),
        0..=999_999_999 => Ok(Timespec { sec, nsec: nsec as u32 }),
        _ => Err(Errno::EINVAL),
    }
}

/// The target of `utimensat`/`fchownat`, after their common flag check (only
/// `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH`, else `EINVAL`): a NULL `path` (utimensat only,
/// `null_ok`) or an empty one with `AT_EMPTY_PATH` names `dirfd`.
fn attr_target(cx: &FsCall<'_>, dirfd: i32, path: u64, flags: u32, null_ok: bool) -> KResult<Location> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    if path == 0 && null_ok {
        if dirfd == AT_FDCWD {
            return Err(Errno::EFAULT);
        }
        return file_location(&*cx.file(dirfd)?, false);
    }
    cx.lookup_at(dirfd, &cx.read_path(path)?, flags)
}

/// `utimensat(dirfd, path, times, flags)`: `times` NULL sets both to now.
pub fn sys_utimensat(cx: &FsCall<'_>, dirfd: i32, path: u64, times: u64, flags: u32) -> KResult<u64> {
    let loc = attr_target(cx, dirfd, path, flags, true)?;
    let m = loc.inode.metadata();
    let (atime, mtime) = if times == 0 {
        (now(), now())
    } else {
        (time_arg(cx.mem, times, m.atime)?, time_arg(cx.mem, times.checked_add(16).ok_or(Errno::EFAULT)?, m.mtime)?)
    };
    if let Some(t) = as_tmp(&*loc.inode) {
        t.set_times(atime, mtime);
    }
    Ok(0)
}

/// `fchownat(dirfd, path, uid, gid, flags)`: `-1` keeps an id.
pub fn sys_fchownat(cx: &FsCall<'_>, dirfd: i32, path: u64, uid: u32, gid: u32, flags: u32) -> KResult<u64> {
    let loc = attr_target(cx, dirfd, path, flags, false)?;
    chown_location(&loc, uid, gid);
    Ok(0)
}

fn chown_location(loc: &Location, uid: u32, gid: u32) {
    let m = loc.inode.metadata();
    if let Some(t) = as_tmp(&*loc.inode) {
        t.set_owner(if uid == u32::MAX { m.uid } else { uid }, if gid == u32::MAX { m.gid } else { gid });
    }
}

/// `chown(path, uid, gid)`.
pub fn sys_chown(cx: &FsCall<'_>, path: u64, uid: u32, gid: u32) -> KResult<u64> {
    sys_fchownat(cx, AT_FDCWD, path, uid, gid, 0)
}

/// `lchown(path, uid, gid)`.
pub fn sys_lchown(cx: &FsCall<'_>, path: u64, uid: u32, gid: u32) -> KResult<u64> {
    sys_fchownat(cx, AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW)
}

/// `fchown(fd, uid, gid)`: `EBADF` for `O_PATH` descriptors.
pub fn sys_fchown(files: &Mutex<FdTable>, fd: i32, uid: u32, gid: u32) -> KResult<u64> {
    chown_location(&file_location(&*get_io_file(files, fd)?, false)?, uid, gid);
    Ok(0)
}

/// `fsync(fd)` (also `fdatasync` and `syncfs`): nothing to write back.
pub fn sys_fsync(files: &Mutex<FdTable>, fd: i32) -> KResult<u64> {
    get_io_file(files, fd)?.ops.inode().map(|_| 0).ok_or(Errno::EINVAL)
}

/// `sync()`.
pub fn sys_sync() -> KResult<u64> {
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::fs_testutil::Env;

    #[test]
    fn times_owners_sync() {
        let e = Env::new();
        e.put("/f", b"");
        let md = |e: &Env| e.vfs.resolve(&e.vfs.root(), b"/f", true).unwrap().inode.metadata();
        let mut ts = alloc::vec::Vec::new();
        for v in [100i64, 5, 200, UTIME_OMIT] {
            ts.extend_from_slice(&v.to_le_bytes());
        }
        let (p, t) = (e.s("/f"), e.data(&ts));
        let before = md(&e).mtime;
        assert_eq!(sys_utimensat(&e.cx(), AT_FDCWD, p, t, 0), Ok(0));
        assert_eq!((md(&e).atime, md(&e).mtime), (Timespec { sec: 100, nsec: 5 }, before));
        let bad = e.data(&[1i64.to_le_bytes(), 1_000_000_000i64.to_le_bytes()].concat());
        assert_eq!(sys_utimensat(&e.cx(), AT_FDCWD, p, bad, 0), Err(Errno::EINVAL));
        assert_eq!(sys_utimensat(&e.cx(), AT_FDCWD, p, 0, 0x2), Err(Errno::EINVAL));
        assert_eq!(sys_utimensat(&e.cx(), AT_FDCWD, 0, 0, 0), Err(Errno::EFAULT));
        let fd = e.open("/f", 0).unwrap();
        assert_eq!(sys_utimensat(&e.cx(), fd, 0, 0, 0), Ok(0));
        assert!(md(&e).atime.sec > 100);
        assert_eq!(sys_chown(&e.cx(), p, 7, u32::MAX), Ok(0));
        assert_eq!((md(&e).uid, md(&e).gid), (7, 0));
        assert_eq!(sys_fchown(&e.files, fd, u32::MAX, 9), Ok(0));
        assert_eq!((md(&e).uid, md(&e).gid), (7, 9));
        assert_eq!(sys_fsync(&e.files, fd), Ok(0));
        assert_eq!(sys_fsync(&e.files, 40), Err(Errno::EBADF));
    }
}
