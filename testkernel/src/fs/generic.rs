//! The generic open file of an inode: [`InodeFile`] (regular files and directories of any
//! filesystem whose [`Inode::open`] returns `None`), [`PathFile`] (`O_PATH` descriptors), and
//! [`open_location`], which `openat` and the kernel (`execve`, boot) use to open a resolved
//! name.
//!
//! Regular files: `read`/`write` at the file position (`O_APPEND` writes at the end),
//! `pread`/`pwrite`, `lseek` with `SEEK_SET`/`CUR`/`END` and `SEEK_DATA`/`SEEK_HOLE` (no
//! holes: data up to the size, one hole at the end), private `mmap` (the mm code copies via
//! `read_at`).
//!
//! Directories: `read` is `EISDIR`; `getdents64` writes `struct linux_dirent64` records
//! (`d_ino` u64, `d_off` i64, `d_reclen` u16, `d_type` u8, the name NUL-terminated and padded
//! to 8 bytes), `.` and `..` first. The position is a cookie: 0 is the start, `.` is 1, `..`
//! is 2 and every other entry has `3 + FNV-1a(name) / 4`; a call returns the entries whose
//! cookie is above the position, in cookie order, and each record's `d_off` is its own cookie
//! (so `seekdir(telldir())` resumes right after it). Unlike index positions, cookies do not
//! skip entries when earlier ones are removed between calls (`rm -r` reading and unlinking
//! in turns). Two names with the same 62-bit hash would lose one of them at a call boundary.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use syscall_abi::Errno;

use super::file::{FileOps, MmapBacking, OpenFile, O_APPEND};
use super::inode::{FileType, Inode, Metadata};
use super::vfs::Location;
use crate::KResult;

/// `SEEK_SET`.
pub const SEEK_SET: u32 = 0;
/// `SEEK_CUR`.
pub const SEEK_CUR: u32 = 1;
/// `SEEK_END`.
pub const SEEK_END: u32 = 2;
/// `SEEK_DATA`.
pub const SEEK_DATA: u32 = 3;
/// `SEEK_HOLE`.
pub const SEEK_HOLE: u32 = 4;
/// `O_PATH`.
pub const O_PATH: u32 = 0o10000000;

/// The open file of a regular file or directory.
pub struct InodeFile {
    inode: Arc<dyn Inode>,
    parent_ino: u64,
}

impl InodeFile {
    /// A file over `inode`; `parent_ino` is what `..` reports in `getdents64`.
    pub fn new(inode: Arc<dyn Inode>, parent_ino: u64) -> InodeFile {
        InodeFile { inode, parent_ino }
    }

    fn is_dir(&self) -> bool {
        self.inode.file_type() == FileType::Directory
    }
}

/// Adds a signed offset to a base position: `EINVAL` if the result is negative or
/// overflows (Linux's `vfs_setpos` checks).
fn offset_from(base: u64, offset: i64) -> KResult<u64> {
    let base = i64::try_from(base).map_err(|_| Errno::EINVAL)?;
    let new = base.checked_add(offset).ok_or(Errno::EINVAL)?;
    u64::try_from(new).map_err(|_| Errno::EINVAL)
}

/// `lseek` in a file whose content is a snapshot of `len` bytes taken at open (procfs,
/// tracefs): `SEEK_SET`, `SEEK_CUR`, `SEEK_END` move `*pos`; a negative result or another
/// `whence` is `EINVAL`.
pub fn seek_snapshot(pos: &mut u64, len: usize, offset: i64, whence: u32) -> KResult<u64> {
    let new = match whence {
        SEEK_SET => u64::try_from(offset).map_err(|_| Errno::EINVAL)?,
        SEEK_CUR => offset_from(*pos, offset)?,
        SEEK_END => offset_from(u64::try_from(len).map_err(|_| Errno::EINVAL)?, offset)?,
        _ => return Err(Errno::EINVAL),
    };
    *pos = new;
    Ok(new)
}

/// The directory cookie of a name (see the module docs).
pub fn dir_cookie(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    3 + (h >> 2)
}

/// Appends one `linux_dirent64` record to `out` if it fits in `room` bytes; returns whether
/// it did.
pub fn put_dirent(out: &mut Vec<u8>, room: usize, ino: u64, off: u64, kind: u8, name: &[u8]) -> bool {
    let reclen = (19 + name.len() + 1).next_multiple_of(8);
    if out.len() + reclen > room {
        return false;
    }
    let Ok(reclen16) = u16::try_from(reclen) else { return false };
    out.extend_from_slice(&ino.to_le_bytes());
    out.extend_from_slice(&off.to_le_bytes());
    out.extend_from_slice(&reclen16.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(name);
    out.resize(out.len() + reclen - 19 - name.len(), 0);
    true
}

impl FileOps for InodeFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        if self.is_dir() {
            return Err(Errno::EISDIR);
        }
        let mut pos = file.pos.lock();
        let n = self.inode.read_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> KResult<usize> {
        if self.is_dir() {
            return Err(Errno::EISDIR);
        }
        let mut pos = file.pos.lock();
        if file.flags() & O_APPEND != 0 {
            *pos = self.inode.metadata().size;
        }
        let n = self.inode.write_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        if self.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.inode.read_at(offset, buf)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        if self.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.inode.write_at(offset, buf)
    }

    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> KResult<u64> {
        let mut pos = file.pos.lock();
        let new = if self.is_dir() {
            match whence {
                SEEK_SET => u64::try_from(offset).map_err(|_| Errno::EINVAL)?,
                SEEK_CUR => offset_from(*pos, offset)?,
                _ => return Err(Errno::EINVAL),
            }
        } else {
            let size = self.inode.metadata().size;
            match whence {
                SEEK_SET => u64::try_from(offset).map_err(|_| Errno::EINVAL)?,
                SEEK_CUR => offset_from(*pos, offset)?,
                SEEK_END => offset_from(size, offset)?,
                SEEK_DATA | SEEK_HOLE => {
                    let off = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
                    if off >= size {
                        return Err(Errno::ENXIO);
                    }
                    if whence == SEEK_DATA {
                        off
                    } else {
                        size
                    }
                }
                _ => return Err(Errno::EINVAL),
            }
        };
        *pos = new;
        Ok(new)
    }

    fn stat(&self) -> KResult<Metadata> {
        Ok(self.inode.metadata())
    }

    fn getdents(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let me = self.inode.metadata().ino;
        let mut entries: Vec<(u64, u64, u8, Vec<u8>)> =
            alloc::vec![(1, me, FileType::Directory.dirent_type(), b".".to_vec())];
        entries.push((2, self.parent_ino, FileType::Directory.dirent_type(), b"..".to_vec()));
        for e in self.inode.readdir()? {
            entries.push((dir_cookie(&e.name), e.ino, e.kind.dirent_type(), e.name));
        }
        entries.sort_by(|a, b| (a.0, &a.3).cmp(&(b.0, &b.3)));
        let mut pos = file.pos.lock();
        let mut out = Vec::new();
        let mut last = *pos;
        for (cookie, ino, kind, name) in entries.iter().filter(|e| e.0 > *pos) {
            if !put_dirent(&mut out, buf.len(), *ino, *cookie, *kind, name) {
                if out.is_empty() {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            last = *cookie;
        }
        buf[..out.len()].copy_from_slice(&out);
        *pos = last;
        Ok(out.len())
    }

    fn mmap(&self, _file: &OpenFile, _offset: u64, _len: u64, _prot: u32, _flags: u32) -> KResult<MmapBacking> {
        if self.is_dir() {
            return Err(Errno::ENODEV);
        }
        Ok(MmapBacking::PrivateCopy)
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An `O_PATH` descriptor: names a file for `*at` calls, `fstat` and `fchdir`; every I/O
/// operation is `EBADF`.
pub struct PathFile {
    inode: Arc<dyn Inode>,
}

impl FileOps for PathFile {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn seek(&self, _file: &OpenFile, _offset: i64, _whence: u32) -> KResult<u64> {
        Err(Errno::EBADF)
    }
    fn stat(&self) -> KResult<Metadata> {
        Ok(self.inode.metadata())
    }
    fn getdents(&self, _file: &OpenFile, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn ioctl(&self, _file: &OpenFile, _cmd: u32, _arg: u64, _mem: &dyn crate::user::UserMem) -> KResult<u64> {
        Err(Errno::EBADF)
    }
    fn mmap(&self, _file: &OpenFile, _offset: u64, _len: u64, _prot: u32, _flags: u32) -> KResult<MmapBacking> {
        Err(Errno::EBADF)
    }
    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Whether `file` is an `O_PATH` descriptor.
pub fn is_path_file(file: &OpenFile) -> bool {
    file.ops.as_any().is::<PathFile>()
}

/// Opens the resolved `loc` with open flags `flags` (no creation, truncation or type checks:
/// `openat` does those): `O_PATH` gives a [`PathFile`]; otherwise the inode's own
/// [`Inode::open`] or, when it has none, an [`InodeFile`]. `parent_ino` is reported for `..`
/// by `getdents64`. The description's path is `loc`'s canonical path.
pub fn open_location(loc: &Location, parent_ino: u64, flags: u32) -> KResult<Arc<OpenFile>> {
    let path = loc.path_string();
    if flags & O_PATH != 0 {
        return Ok(OpenFile::new(Arc::new(PathFile { inode: loc.inode.clone() }), flags, path));
    }
    match loc.inode.clone().open(flags) {
        Some(file) => Ok(with_path(file?, path)),
        None => Ok(OpenFile::new(Arc::new(InodeFile::new(loc.inode.clone(), parent_ino)), flags, path)),
    }
}

/// Gives a freshly opened description without a path (devices do not know where they are
/// mounted) the path it was opened by.
fn with_path(file: Arc<OpenFile>, path: String) -> Arc<OpenFile> {
    if !file.path.is_empty() {
        return file;
    }
    match Arc::try_unwrap(file) {
        Ok(mut f) => {
            f.path = path;
            Arc::new(f)
        }
        Err(shared) => shared,
    }
}

#[cfg(test)]
#[path = "generic/tests.rs"]
mod tests;
