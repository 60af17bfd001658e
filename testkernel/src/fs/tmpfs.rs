//! tmpfs: an in-memory filesystem (the root filesystem the initramfs is unpacked into, and
//! the base of `/dev`).
//!
//! Every inode is a [`TmpInode`]: a regular file (its bytes in one `Vec<u8>`), a directory (a
//! name-ordered map of children), a symlink (its target) or a device/fifo/socket node (just
//! metadata: opening a node gives the generic file, see `fs/devfs.rs` for real devices).
//! Directories hold `Arc<dyn Inode>` children, so a foreign inode (a device of `devfs`) can be
//! [`TmpInode::insert`]ed; hard links and renames only move [`TmpInode`]s of the same
//! filesystem instance (`EXDEV` otherwise).
//!
//! Link counts follow Linux: a file starts at 1 and counts its names; a directory has 2 plus
//! one per child directory. Sizes: files their length, symlinks their target length,
//! directories 20 bytes per entry plus 40 (Linux's `BOGO_DIRENT_SIZE`). Growth that the heap
//! cannot hold is `ENOSPC` (never an allocation failure). There are no permission checks here
//! (the kernel runs everything as root); modes are stored and reported.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::{Mutex, RwLock};
use syscall_abi::Errno;

use super::inode::{DirEntry, FileType, Inode, Metadata, Timespec};
use super::stat::alloc_anon_dev;
use crate::KResult;

/// Linux's `BOGO_DIRENT_SIZE`: what tmpfs adds to a directory's size per entry.
const BOGO_DIRENT_SIZE: u64 = 20;

/// One tmpfs instance: its device number and inode-number counter.
pub struct TmpFs {
    dev: u64,
    next_ino: AtomicU64,
}

impl TmpFs {
    /// A new, empty filesystem; returns its root directory (mode `0755`).
    pub fn new_root() -> Arc<dyn Inode> {
        Self::new_root_with_mode(0o755)
    }

    /// A new, empty filesystem whose root directory has permission bits `mode`.
    pub fn new_root_with_mode(mode: u32) -> Arc<dyn Inode> {
        let fs = Arc::new(TmpFs { dev: alloc_anon_dev(), next_ino: AtomicU64::new(1) });
        TmpInode::new_inode(&fs, FileType::Directory, mode, 0)
    }

    fn ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }
}

#[derive(Clone, Copy)]
struct Attrs {
    perm: u32,
    nlink: u32,
    uid: u32,
    gid: u32,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
}

enum Body {
    /// A regular file's bytes: borrowed from the initramfs until first written (the
    /// boot image stays in memory, so unpacking it copies nothing).
    File(Cow<'static, [u8]>),
    Dir(BTreeMap<Vec<u8>, Arc<dyn Inode>>),
    Symlink(Vec<u8>),
    Node,
}

/// An inode of a [`TmpFs`].
pub struct TmpInode {
    fs: Arc<TmpFs>,
    ino: u64,
    kind: FileType,
    attrs: Mutex<Attrs>,
    body: RwLock<Body>,
}

/// The current wall-clock time.
pub fn now() -> Timespec {
    let ns = crate::time::realtime_ns();
    Timespec { sec: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX), nsec: (ns % 1_000_000_000) as u32 }
}

/// `inode` as a [`TmpInode`], if it is one.
pub fn as_tmp(inode: &dyn Inode) -> Option<&TmpInode> {
    inode.as_any().downcast_ref::<TmpInode>()
}

impl TmpInode {
    /// Makes a regular file's content `data` without copying it (the initramfs, which
    /// stays in memory for the kernel's lifetime); the first write copies it. `EINVAL` for
    /// anything but a regular file.
    pub fn set_static(&self, data: &'static [u8]) -> KResult<()> {
        match &mut *self.body.write() {
            Body::File(d) => *d = Cow::Borrowed(data),
            _ => return Err(Errno::EINVAL),
        }
        self.touch_dir();
        Ok(())
    }

    fn new_inode(fs: &Arc<TmpFs>, kind: FileType, perm: u32, rdev: u64) -> Arc<dyn Inode> {
        let t = now();
        let body = match kind {
            FileType::Regular => Body::File(Cow::Owned(Vec::new())),
            FileType::Directory => Body::Dir(BTreeMap::new()),
            FileType::Symlink => Body::Symlink(Vec::new()),
            _ => Body::Node,
        };
        Arc::new(TmpInode {
            fs: fs.clone(),
            ino: fs.ino(),
            kind,
            attrs: Mutex::new(Attrs {
                perm: perm & 0o7777,
                nlink: if kind == FileType::Directory { 2 } else { 1 },
                uid: 0,
                gid: 0,
                rdev,
                atime: t,
                mtime: t,
                ctime: t,
            }),
            body: RwLock::new(body),
        })
    }

    /// Creates a child of any type, with device number `rdev` for device nodes (`mknod`);
    /// `EEXIST` if the name exists, `ENOTDIR` if this is not a directory.
    pub fn create_node(&self, name: &[u8], kind: FileType, mode: u32, rdev: u64) -> KResult<Arc<dyn Inode>> {
        let child = TmpInode::new_inode(&self.fs, kind, mode, rdev);
        self.add_child(name, child.clone())?;
        if kind == FileType::Directory {
            self.adjust_nlink(1);
        }
        Ok(child)
    }

    /// Adds `inode` (of any filesystem) under `name`, e.g. a `devfs` device; `EEXIST`.
    pub fn insert(&self, name: &[u8], inode: Arc<dyn Inode>) -> KResult<()> {
        self.add_child(name, inode)
    }

    /// Sets owner and group (`chown`, cpio unpacking).
    pub fn set_owner(&self, uid: u32, gid: u32) {
        let mut a = self.attrs.lock();
        a.uid = uid;
        a.gid = gid;
    }

    /// Sets the modification and access times (cpio unpacking, `utimensat`).
    pub fn set_times(&self, atime: Timespec, mtime: Timespec) {
        let mut a = self.attrs.lock();
        a.atime = atime;
        a.mtime = mtime;
    }

    /// Whether `other` belongs to the same tmpfs instance.
    pub fn same_fs(&self, other: &TmpInode) -> bool {
        Arc::ptr_eq(&self.fs, &other.fs)
    }

    fn add_child(&self, name: &[u8], child: Arc<dyn Inode>) -> KResult<()> {
        check_name(name)?;
        let mut body = self.body.write();
        let Body::Dir(map) = &mut *body else { return Err(Errno::ENOTDIR) };
        if map.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        map.insert(name.to_vec(), child);
        drop(body);
        self.touch_dir();
        Ok(())
    }

    fn adjust_nlink(&self, delta: i32) {
        let mut a = self.attrs.lock();
        a.nlink = a.nlink.saturating_add_signed(delta);
    }

    fn touch_dir(&self) {
        let t = now();
        let mut a = self.attrs.lock();
        a.mtime = t;
        a.ctime = t;
    }

    fn touch_ctime(&self) {
        self.attrs.lock().ctime = now();
    }

    fn size(&self) -> u64 {
        match &*self.body.read() {
            Body::File(d) => d.len() as u64,
            Body::Symlink(t) => t.len() as u64,
            Body::Dir(m) => (m.len() as u64 + 2) * BOGO_DIRENT_SIZE,
            Body::Node => 0,
        }
    }
}

/// Rejects names path resolution never passes down (empty, `.`, `..`, containing `/` or NUL,
/// longer than `NAME_MAX`).
fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > super::vfs::NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&b| b == b'/' || b == 0) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

fn is_dir(inode: &Arc<dyn Inode>) -> bool {
    inode.file_type() == FileType::Directory
}

fn dir_is_empty(inode: &Arc<dyn Inode>) -> bool {
    inode.readdir().map(|e| e.is_empty()).unwrap_or(false)
}

/// Grows or shrinks `data` to `len`, zero-filling; `ENOSPC` when the heap cannot hold it.
fn resize(data: &mut Vec<u8>, len: u64) -> KResult<()> {
    let len = usize::try_from(len).map_err(|_| Errno::EFBIG)?;
    if len > data.len() {
        data.try_reserve(len - data.len()).map_err(|_| Errno::ENOSPC)?;
    }
    data.resize(len, 0);
    Ok(())
}

impl Inode for TmpInode {
    fn metadata(&self) -> Metadata {
        let a = *self.attrs.lock();
        let size = self.size();
        Metadata {
            dev: self.fs.dev,
            ino: self.ino,
            mode: self.kind.mode_bits() | a.perm,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            rdev: a.rdev,
            size,
            blksize: 4096,
            blocks: if self.kind == FileType::Regular { size.div_ceil(4096) * 8 } else { 0 },
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
        }
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        match &*self.body.read() {
            Body::Dir(map) => map.get(name).cloned().ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn create(&self, name: &[u8], kind: FileType, mode: u32) -> KResult<Arc<dyn Inode>> {
        if kind == FileType::Symlink {
            return Err(Errno::EINVAL);
        }
        self.create_node(name, kind, mode, 0)
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> KResult<Arc<dyn Inode>> {
        let child = TmpInode::new_inode(&self.fs, FileType::Symlink, 0o777, 0);
        if let Some(t) = as_tmp(&*child) {
            *t.body.write() = Body::Symlink(target.to_vec());
        }
        self.add_child(name, child.clone())?;
        Ok(child)
    }

    fn link(&self, name: &[u8], inode: &Arc<dyn Inode>) -> KResult<()> {
        let other = as_tmp(&**inode).ok_or(Errno::EXDEV)?;
        if !self.same_fs(other) {
            return Err(Errno::EXDEV);
        }
        if other.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        self.add_child(name, inode.clone())?;
        other.adjust_nlink(1);
        other.touch_ctime();
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        let mut body = self.body.write();
        let Body::Dir(map) = &mut *body else { return Err(Errno::ENOTDIR) };
        let child = map.get(name).ok_or(Errno::ENOENT)?;
        if is_dir(child) {
            return Err(Errno::EISDIR);
        }
        let child = map.remove(name).ok_or(Errno::ENOENT)?;
        drop(body);
        if let Some(t) = as_tmp(&*child) {
            t.adjust_nlink(-1);
            t.touch_ctime();
        }
        self.touch_dir();
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        let mut body = self.body.write();
        let Body::Dir(map) = &mut *body else { return Err(Errno::ENOTDIR) };
        let child = map.get(name).ok_or(Errno::ENOENT)?;
        if !is_dir(child) {
            return Err(Errno::ENOTDIR);
        }
        if !dir_is_empty(child) {
            return Err(Errno::ENOTEMPTY);
        }
        let child = map.remove(name).ok_or(Errno::ENOENT)?;
        drop(body);
        if let Some(t) = as_tmp(&*child) {
            t.attrs.lock().nlink = 0;
        }
        self.adjust_nlink(-1);
        self.touch_dir();
        Ok(())
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8]) -> KResult<()> {
        check_name(new)?;
        let dst = as_tmp(&**new_dir).ok_or(Errno::EXDEV)?;
        if !self.same_fs(dst) {
            return Err(Errno::EXDEV);
        }
        let same_dir = core::ptr::eq(self, dst);
        // Lock order: lower inode number first (or once for the same directory); the pair
        // is always (this directory's guard, the target directory's guard).
        let (mut first, mut second) = if same_dir {
            (self.body.write(), None)
        } else if self.ino < dst.ino {
            let a = self.body.write();
            (a, Some(dst.body.write()))
        } else {
            let b = dst.body.write();
            (self.body.write(), Some(b))
        };
        let src_body: &mut Body = &mut first;
        let dst_body: Option<&mut Body> = second.as_deref_mut();
        let Body::Dir(src_map) = src_body else { return Err(Errno::ENOTDIR) };
        let source = src_map.get(old).cloned().ok_or(Errno::ENOENT)?;
        let target = match &dst_body {
            None => src_map.get(new).cloned(),
            Some(Body::Dir(m)) => m.get(new).cloned(),
            Some(_) => return Err(Errno::ENOTDIR),
        };
        let src_is_dir = is_dir(&source);
        let is = |a: &Arc<dyn Inode>, b: &TmpInode| as_tmp(&**a).is_some_and(|t| core::ptr::eq(t, b));
        // A directory moved into itself (the VFS checks deeper descendants by path).
        if is(&source, dst) {
            return Err(Errno::EINVAL);
        }
        if let Some(target) = &target {
            if Arc::ptr_eq(&source, target) {
                return Ok(());
            }
            // Replacing one of the two locked directories (an ancestor of the source): it
            // is not empty, and reading it here would deadlock.
            if is(target, self) || is(target, dst) {
                return Err(Errno::ENOTEMPTY);
            }
            match (src_is_dir, is_dir(target)) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !dir_is_empty(target) => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        src_map.remove(old);
        match dst_body {
            None => src_map.insert(new.to_vec(), source.clone()),
            Some(Body::Dir(m)) => m.insert(new.to_vec(), source.clone()),
            Some(_) => None,
        };
        drop(first);
        drop(second);
        if let Some(target) = &target {
            if let Some(t) = as_tmp(&**target) {
                if is_dir(target) {
                    t.attrs.lock().nlink = 0;
                    dst.adjust_nlink(-1);
                } else {
                    t.adjust_nlink(-1);
                }
                t.touch_ctime();
            }
        }
        if src_is_dir && !same_dir {
            self.adjust_nlink(-1);
            dst.adjust_nlink(1);
        }
        if let Some(s) = as_tmp(&*source) {
            s.touch_ctime();
        }
        self.touch_dir();
        if !same_dir {
            dst.touch_dir();
        }
        Ok(())
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        match &*self.body.read() {
            Body::Dir(map) => Ok(map
                .iter()
                .map(|(name, inode)| {
                    let m = inode.metadata();
                    DirEntry { ino: m.ino, kind: inode.file_type(), name: name.clone() }
                })
                .collect()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        match &*self.body.read() {
            Body::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let n = match &*self.body.read() {
            Body::File(data) => {
                let Ok(start) = usize::try_from(offset) else { return Ok(0) };
                if start >= data.len() {
                    return Ok(0);
                }
                let n = buf.len().min(data.len() - start);
                buf[..n].copy_from_slice(&data[start..start + n]);
                n
            }
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        self.attrs.lock().atime = now();
        Ok(n)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        let mut body = self.body.write();
        let data = match &mut *body {
            Body::File(data) => data,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        let end = offset.checked_add(buf.len() as u64).filter(|&e| e <= i64::MAX as u64).ok_or(Errno::EFBIG)?;
        let data = data.to_mut();
        if end > data.len() as u64 {
            resize(data, end)?;
        }
        let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
        data[start..start + buf.len()].copy_from_slice(buf);
        drop(body);
        self.touch_dir();
        Ok(buf.len())
    }

    fn truncate(&self, size: u64) -> KResult<()> {
        let mut body = self.body.write();
        match &mut *body {
            Body::File(data) => resize(data.to_mut(), size)?,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        drop(body);
        self.touch_dir();
        Ok(())
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        let mut a = self.attrs.lock();
        a.perm = mode & 0o7777;
        a.ctime = now();
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
#[path = "tmpfs/tests.rs"]
mod tests;
