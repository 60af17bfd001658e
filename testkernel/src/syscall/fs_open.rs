//! `openat`, `open`, `creat`, `close` (Linux `fs/open.c` `build_open_flags`/`do_sys_openat2`,
//! `fs/namei.c` `open_last_lookups`/`do_open`, `fs/file.c` `close_fd`).
//!
//! Semantics kept from Linux: `O_PATH` keeps only `O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC`;
//! `O_CREAT|O_DIRECTORY` is `EINVAL` (Linux ≥ 6.4; 6.1 created a file and failed);
//! `O_CREAT|O_EXCL` never follows a final symlink (`EEXIST`); `O_CREAT` on `.`, `..`, `/`, a
//! directory or a name with a trailing slash is `EISDIR`; a final symlink with `O_NOFOLLOW`
//! is `ELOOP` (unless `O_PATH`); `O_DIRECTORY` on a non-directory is `ENOTDIR`; opening a
//! directory for writing or with `O_TRUNC` is `EISDIR`; `O_TRUNC` truncates a regular file
//! whatever the access mode; the new file's mode is `mode & 07777 & ~umask`. The file status
//! flags (`F_GETFL`) drop `O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_CLOEXEC` and gain `O_LARGEFILE`
//! (not for `O_PATH`).
//! `O_CREAT` through a dangling symlink creates its target. Not done: `O_TMPFILE`
//! (`EOPNOTSUPP`), permission checks (everything runs as root).

use alloc::sync::Arc;

use spin::Mutex;
use syscall_abi::Errno;

use super::fs_path::*;
use crate::fs::fdtable::FdTable;
use crate::fs::file::{OpenFile, O_ACCMODE, O_RDWR, O_WRONLY};
use crate::fs::generic::{open_location, O_PATH};
use crate::fs::inode::FileType;
use crate::fs::vfs::{Last, Location, Vfs, MAXSYMLINKS};
use crate::KResult;

/// Opens `path` (kernel bytes) relative to `dirfd` and returns the description, without
/// installing it: `openat`'s work, also usable by the kernel (e.g. opening `/dev/console`
/// for PID 1's stdin/stdout/stderr with
/// `open_path(&FsCall::kernel(files, fs, vfs), AT_FDCWD, b"/dev/console", O_RDWR, 0)`).
pub fn open_path(cx: &FsCall<'_>, dirfd: i32, path: &[u8], flags: u32, mode: u32) -> KResult<Arc<OpenFile>> {
    if flags & O_TMPFILE_BIT != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let flags = if flags & O_PATH != 0 { flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } else { flags };
    if flags & O_CREAT != 0 && flags & O_DIRECTORY != 0 {
        return Err(Errno::EINVAL);
    }
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let start = cx.start(dirfd, path)?;
    let (loc, created) = if flags & O_CREAT != 0 {
        open_create(cx.vfs, &start, path, flags, mode & 0o7777 & !cx.umask(), 0)?
    } else {
        (cx.vfs.resolve(&start, path, flags & O_NOFOLLOW == 0)?, false)
    };
    let kind = loc.inode.file_type();
    let is_path = flags & O_PATH != 0;
    if kind == FileType::Symlink && !is_path {
        return Err(Errno::ELOOP);
    }
    if flags & O_DIRECTORY != 0 && kind != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if kind == FileType::Directory && !is_path {
        let acc = flags & O_ACCMODE;
        if flags & O_CREAT != 0 || acc == O_WRONLY || acc == O_RDWR || flags & O_TRUNC != 0 {
            return Err(Errno::EISDIR);
        }
    }
    if flags & O_TRUNC != 0 && kind == FileType::Regular && !is_path && !created {
        loc.inode.truncate(0)?;
    }
    let ctx_parent = if kind == FileType::Directory { parent_ino(cx.vfs, &loc) } else { 0 };
    // `O_PATH` keeps only its own flags (Linux masks `O_LARGEFILE` away with the rest).
    let largefile = if is_path { 0 } else { O_LARGEFILE };
    let status = (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | largefile;
    crate::probe::targets::call_vfs_open(&loc, status, || open_location(&loc, ctx_parent, status))
}

fn parent_ino(vfs: &Vfs, loc: &Location) -> u64 {
    if loc.path == b"/" {
        return loc.inode.metadata().ino;
    }
    vfs.resolve(loc, b"..", true).map_or_else(|_| loc.inode.metadata().ino, |p| p.inode.metadata().ino)
}

/// The `O_CREAT` path: the existing file (following a final symlink unless `O_EXCL` or
/// `O_NOFOLLOW`; a dangling one gets its target created, as in Linux) or a new regular file;
/// returns whether it was created. `links` counts the symlinks followed so far.
fn open_create(
    vfs: &Vfs,
    start: &Location,
    path: &[u8],
    flags: u32,
    mode: u32,
    links: u32,
) -> KResult<(Location, bool)> {
    let parent = vfs.resolve_parent(start, path)?;
    let Last::Name(name) = parent.last else { return Err(Errno::EISDIR) };
    if parent.trailing_slash {
        return Err(Errno::EISDIR);
    }
    match vfs.lookup_child(&parent.dir, &name) {
        Ok(existing) => {
            if flags & O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            match existing.inode.file_type() {
                FileType::Directory => Err(Errno::EISDIR),
                FileType::Symlink if flags & O_NOFOLLOW != 0 => Err(Errno::ELOOP),
                FileType::Symlink if links >= MAXSYMLINKS => Err(Errno::ELOOP),
                FileType::Symlink => {
                    let target = existing.inode.readlink()?;
                    if target.is_empty() {
                        return Err(Errno::ENOENT);
                    }
                    open_create(vfs, &parent.dir, &target, flags, mode, links + 1)
                }
                _ => Ok((existing, false)),
            }
        }
        Err(Errno::ENOENT) => {
            let inode = parent.dir.inode.create(&name, FileType::Regular, mode)?;
            Ok((Location { path: parent.dir.child_path(&name), inode }, true))
        }
        Err(e) => Err(e),
    }
}

/// `openat(dirfd, path, flags, mode)`: the new fd.
pub fn sys_openat(cx: &FsCall<'_>, dirfd: i32, path: u64, flags: u32, mode: u32) -> KResult<u64> {
    crate::probe::targets::call_do_sys_openat2(dirfd, path, flags, mode, || {
        let path = cx.read_path(path)?;
        let file = crate::probe::targets::call_do_filp_open(dirfd, &path, flags, mode, || {
            open_path(cx, dirfd, &path, flags, mode)
        })?;
        let fd = cx.files.lock().install(file, flags & O_CLOEXEC != 0)?;
        Ok(fd as u64)
    })
}

/// `open(path, flags, mode)` = `openat(AT_FDCWD, ...)`.
pub fn sys_open(cx: &FsCall<'_>, path: u64, flags: u32, mode: u32) -> KResult<u64> {
    sys_openat(cx, AT_FDCWD, path, flags, mode)
}

/// `creat(path, mode)` = `open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)`.
pub fn sys_creat(cx: &FsCall<'_>, path: u64, mode: u32) -> KResult<u64> {
    sys_openat(cx, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode)
}

/// `close(fd)`. The description is dropped after the table lock is released (its last
/// close may run `release`).
pub fn sys_close(files: &Mutex<FdTable>, fd: i32) -> KResult<u64> {
    let file = files.lock().remove(fd)?;
    drop(file);
    Ok(0)
}

#[cfg(test)]
#[path = "fs_open_tests.rs"]
mod tests;
