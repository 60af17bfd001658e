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

/// One `timespec` of `utimensat`'s `times`, as copied from user memory (unchecked).
#[derive(Clone, Copy)]
struct TimeArg {
    sec: i64,
    nsec: i64,
}

/// Copies both entries of `times` (`EFAULT`), like Linux's two `get_timespec64` calls.
fn read_times(mem: &dyn UserMem, times: u64) -> KResult<[TimeArg; 2]> {
    let mut out = [TimeArg { sec: 0, nsec: 0 }; 2];
    for (i, t) in out.iter_mut().enumerate() {
        let at = times.checked_add(16 * i as u64).ok_or(Errno::EFAULT)?;
        t.sec = read_val(mem, at)?;
        t.nsec = read_val(mem, at.checked_add(8).ok_or(Errno::EFAULT)?)?;
    }
    Ok(out)
}

/// Linux's `nsec_valid`: `UTIME_NOW`, `UTIME_OMIT` or `0..=999_999_999`.
fn nsec_valid(nsec: i64) -> bool {
    matches!(nsec, UTIME_NOW | UTIME_OMIT | 0..=999_999_999)
}

/// The new value of one time (`UTIME_NOW`: now; `UTIME_OMIT`: `current`); `nsec` was
/// checked by [`nsec_valid`].
fn time_value(t: TimeArg, current: Timespec) -> Timespec {
    match t.nsec {
        UTIME_NOW => now(),
        UTIME_OMIT => current,
        n => Timespec { sec: t.sec, nsec: u32::try_from(n).unwrap_or(0) },
    }
}

/// The path target of `utimensat`/`fchownat`, after their common flag check (only
/// `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH`, else `EINVAL`); an empty path with
/// `AT_EMPTY_PATH` names `dirfd`, a NULL one is `EFAULT`.
fn attr_target(cx: &FsCall<'_>, dirfd: i32, path: u64, flags: u32) -> KResult<Location> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    cx.lookup_at(dirfd, &cx.read_path(path)?, flags)
}

/// `utimensat(dirfd, path, times, flags)`: `times` NULL sets both to now. Linux 6.1's order
/// (`fs/utimes.c`: the `utimensat` syscall, `do_utimes`, `do_utimes_fd`, `do_utimes_path`,
/// `vfs_utimes`): `times` is copied first (`EFAULT`); both `UTIME_OMIT` is 0 without looking
/// at `flags` or the path; a NULL `path` with a `dirfd` other than `AT_FDCWD` names that
/// descriptor (`flags` must be 0, else `EINVAL`; `EBADF` for a bad or `O_PATH` descriptor);
/// otherwise `flags` other than `AT_SYMLINK_NOFOLLOW`/`AT_EMPTY_PATH` are `EINVAL`, then
/// the path is looked up (a NULL one is `EFAULT`); bad nanoseconds are `EINVAL` only after.
pub fn sys_utimensat(cx: &FsCall<'_>, dirfd: i32, path: u64, times: u64, flags: u32) -> KResult<u64> {
    let times = if times == 0 { None } else { Some(read_times(cx.mem, times)?) };
    if let Some([a, m]) = times {
        if a.nsec == UTIME_OMIT && m.nsec == UTIME_OMIT {
            return Ok(0);
        }
    }
    let loc = if path == 0 && dirfd != AT_FDCWD {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        file_location(&*get_io_file(cx.files, dirfd)?, false)?
    } else {
        attr_target(cx, dirfd, path, flags)?
    };
    let (atime, mtime) = match times {
        None => (now(), now()),
        Some([a, m]) => {
            if !nsec_valid(a.nsec) || !nsec_valid(m.nsec) {
                return Err(Errno::EINVAL);
            }
            let md = loc.inode.metadata();
            (time_value(a, md.atime), time_value(m, md.mtime))
        }
    };
    if let Some(t) = as_tmp(&*loc.inode) {
        t.set_times(atime, mtime);
    }
    Ok(0)
}

/// `fchownat(dirfd, path, uid, gid, flags)`: `-1` keeps an id.
pub fn sys_fchownat(cx: &FsCall<'_>, dirfd: i32, path: u64, uid: u32, gid: u32, flags: u32) -> KResult<u64> {
    let loc = attr_target(cx, dirfd, path, flags)?;
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

    fn times(e: &Env, a: (i64, i64), m: (i64, i64)) -> u64 {
        e.data(&[a.0.to_le_bytes(), a.1.to_le_bytes(), m.0.to_le_bytes(), m.1.to_le_bytes()].concat())
    }

    /// Errno order of `utimensat` against Linux 6.1 `fs/utimes.c` (the syscall,
    /// `do_utimes`, `do_utimes_fd`, `do_utimes_path`, `vfs_utimes`).
    #[test]
    fn utimensat_errno_order() {
        let e = Env::new();
        e.put("/f", b"");
        let fd = e.open("/f", 0).unwrap();
        let opath = e.open("/f", crate::fs::generic::O_PATH).unwrap();
        let (f, missing, relative, empty) = (e.s("/f"), e.s("/missing"), e.s("f"), e.s(""));
        let omit = times(&e, (1, UTIME_OMIT), (2, UTIME_OMIT));
        let now_both = times(&e, (1, UTIME_NOW), (2, UTIME_NOW));
        let good = times(&e, (7, 8), (9, 10));
        let bad_nsec = times(&e, (1, 1_000_000_000), (2, UTIME_OMIT));
        let neg_nsec = times(&e, (1, UTIME_OMIT), (2, -1));
        let (bad_fd, bad_flags, nofollow) = (50, 0x2, AT_SYMLINK_NOFOLLOW);
        let cx = e.cx();
        let u = |dirfd, path, times, flags| sys_utimensat(&cx, dirfd, path, times, flags);
        let rows: [(&str, KResult<u64>, KResult<u64>); 23] = [
            // `times` is copied first.
            ("unreadable times, bad everything", u(bad_fd, 0x8, 0x8, bad_flags), Err(Errno::EFAULT)),
            ("unreadable times, good path", u(AT_FDCWD, f, 0x8, 0), Err(Errno::EFAULT)),
            // Both UTIME_OMIT: 0 before flags, descriptor or path are looked at.
            ("omit, bad fd", u(bad_fd, 0, omit, 0), Ok(0)),
            ("omit, bad flags", u(AT_FDCWD, f, omit, bad_flags), Ok(0)),
            ("omit, missing path", u(AT_FDCWD, missing, omit, 0), Ok(0)),
            ("omit, unreadable path", u(AT_FDCWD, 0x8, omit, 0), Ok(0)),
            ("omit, NULL path at AT_FDCWD", u(AT_FDCWD, 0, omit, 0), Ok(0)),
            // A NULL path with a descriptor: flags must be 0, then the descriptor, then nsec.
            ("fd, nofollow", u(fd, 0, good, nofollow), Err(Errno::EINVAL)),
            ("fd, AT_EMPTY_PATH", u(fd, 0, 0, AT_EMPTY_PATH), Err(Errno::EINVAL)),
            ("bad fd, nofollow", u(bad_fd, 0, bad_nsec, nofollow), Err(Errno::EINVAL)),
            ("bad fd, bad nsec", u(bad_fd, 0, bad_nsec, 0), Err(Errno::EBADF)),
            ("O_PATH fd, NULL path", u(opath, 0, good, 0), Err(Errno::EBADF)),
            ("fd, bad nsec", u(fd, 0, bad_nsec, 0), Err(Errno::EINVAL)),
            ("fd, negative nsec", u(fd, 0, neg_nsec, 0), Err(Errno::EINVAL)),
            // A path: flags, then the lookup, then nsec.
            ("bad flags, missing path", u(AT_FDCWD, missing, good, bad_flags), Err(Errno::EINVAL)),
            ("NULL path at AT_FDCWD", u(AT_FDCWD, 0, good, 0), Err(Errno::EFAULT)),
            ("NULL path at AT_FDCWD, bad flags", u(AT_FDCWD, 0, good, bad_flags), Err(Errno::EINVAL)),
            ("missing path, bad nsec", u(AT_FDCWD, missing, bad_nsec, 0), Err(Errno::ENOENT)),
            ("bad dirfd, relative path, bad nsec", u(bad_fd, relative, bad_nsec, 0), Err(Errno::EBADF)),
            ("bad dirfd, absolute path, bad nsec", u(bad_fd, missing, bad_nsec, 0), Err(Errno::ENOENT)),
            ("empty path without AT_EMPTY_PATH", u(fd, empty, bad_nsec, 0), Err(Errno::ENOENT)),
            ("path, bad nsec", u(AT_FDCWD, f, bad_nsec, nofollow), Err(Errno::EINVAL)),
            ("O_PATH fd, empty path, AT_EMPTY_PATH", u(opath, empty, now_both, AT_EMPTY_PATH), Ok(0)),
        ];
        for (name, got, want) in rows {
            assert_eq!(got, want, "{name}");
        }
        // Only the last row changed anything (to now); then set explicit times.
        let md = |e: &Env| e.vfs.resolve(&e.vfs.root(), b"/f", true).unwrap().inode.metadata();
        assert!(md(&e).mtime.sec > 100);
        assert_eq!(u(fd, 0, good, 0), Ok(0));
        assert_eq!((md(&e).atime, md(&e).mtime), (Timespec { sec: 7, nsec: 8 }, Timespec { sec: 9, nsec: 10 }));
    }
}
