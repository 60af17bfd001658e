//! bpffs: the filesystem `BPF_OBJ_PIN` puts maps, programs and links in (mounted at
//! `/sys/fs/bpf`).
//!
//! Reference: Linux 6.1 kernel/bpf/inode.c. Directories can be made and removed, objects are
//! pinned only through `bpf(BPF_OBJ_PIN)` (an `open(O_CREAT)` is `EACCES`, `mknod` `EPERM`:
//! bpffs has neither `create` nor `mknod`), symlinks and hard links work, `unlink` drops the
//! pin. A pinned object is a regular-file-like inode (`S_IFREG`, mode `0600 & ~umask`, size 0)
//! holding a [`UserRef`]; opening it is `EIO` (`bpffs_obj_open`; Linux's debug dump of maps
//! with BTF, `bpffs_map_fops`, is not provided). Looking up a missing name containing a dot
//! is `EPERM` (`bpf_lookup`: dotted names are reserved). The root is `drwxrwxrwt` (`S_ISVTX |
//! 0777`).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use bpf_subsys::object::{BpfObject, UserRef};
use spin::Mutex;
use syscall_abi::Errno;

use super::anon_inode::now;
use super::file::OpenFile;
use super::inode::{DirEntry, FileType, Inode, Metadata, Timespec};
use crate::KResult;

#[cfg(test)]
mod tests;

/// `BPF_FS_MAGIC` (what `statfs` reports as `f_type`).
pub const BPF_FS_MAGIC: u64 = 0xcafe_4a11;
/// Permission bits and the sticky/setid bits (`S_IALLUGO`).
const S_IALLUGO: u32 = 0o7777;
/// Mode of the root directory (`S_ISVTX | S_IRWXUGO`).
const ROOT_MODE: u32 = 0o1777;

/// State shared by every inode of one bpffs instance.
struct FsShared {
    dev: u64,
    next_ino: AtomicU64,
    /// Serialises renames (which lock two directories one after the other).
    rename_lock: Mutex<()>,
}

impl FsShared {
    fn ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }
}

/// Owner, permissions and times of an inode.
#[derive(Clone, Copy)]
struct Attr {
    mode: u32,
    uid: u32,
    gid: u32,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
}

impl Attr {
    fn new(mode: u32, uid: u32, gid: u32) -> Attr {
        let t = now();
        Attr { mode: mode & S_IALLUGO, uid, gid, atime: t, mtime: t, ctime: t }
    }
}

fn make_meta(dev: u64, ino: u64, kind: FileType, a: &Attr, nlink: u32, size: u64) -> Metadata {
    Metadata {
        dev,
        ino,
        mode: kind.mode_bits() | a.mode,
        nlink,
        uid: a.uid,
        gid: a.gid,
        rdev: 0,
        size,
        blksize: 4096,
        blocks: 0,
        atime: a.atime,
        mtime: a.mtime,
        ctime: a.ctime,
    }
}

/// One bpffs instance.
pub struct BpfFs {
    shared: Arc<FsShared>,
    root: Arc<BpfDir>,
}

impl BpfFs {
    /// A new, empty bpffs whose inodes report device `dev`.
    pub fn new(dev: u64) -> Arc<BpfFs> {
        let shared = Arc::new(FsShared { dev, next_ino: AtomicU64::new(1), rename_lock: Mutex::new(()) });
        let root = BpfDir::new(&shared, Weak::new(), Attr::new(ROOT_MODE, 0, 0));
        Arc::new(BpfFs { shared, root })
    }

    /// The root directory (what the kernel mounts at `/sys/fs/bpf`).
    pub fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    /// The root directory as its concrete type.
    pub fn root_dir(&self) -> &Arc<BpfDir> {
        &self.root
    }

    /// The device id of this instance.
    pub fn dev(&self) -> u64 {
        self.shared.dev
    }
}

/// A bpffs directory.
pub struct BpfDir {
    fs: Arc<FsShared>,
    ino: u64,
    this: Weak<BpfDir>,
    parent: Mutex<Weak<BpfDir>>,
    attr: Mutex<Attr>,
    entries: Mutex<BTreeMap<Vec<u8>, Arc<dyn Inode>>>,
}

impl BpfDir {
    fn new(fs: &Arc<FsShared>, parent: Weak<BpfDir>, attr: Attr) -> Arc<BpfDir> {
        Arc::new_cyclic(|this| BpfDir {
            fs: fs.clone(),
            ino: fs.ino(),
            this: this.clone(),
            parent: Mutex::new(parent),
            attr: Mutex::new(attr),
            entries: Mutex::new(BTreeMap::new()),
        })
    }

    /// Whether `inode` belongs to the same bpffs instance as this directory.
    fn same_fs(&self, inode: &dyn Inode) -> bool {
        inode.metadata().dev == self.fs.dev && is_bpffs_inode(inode)
    }

    fn touch(&self) {
        let t = now();
        let mut a = self.attr.lock();
        a.mtime = t;
        a.ctime = t;
    }

    /// Inserts `make()` under `name` unless the name exists (`EEXIST`) or is reserved
    /// (`EPERM`, see [`check_new_name`]).
    fn insert_new(&self, name: &[u8], make: impl FnOnce() -> Arc<dyn Inode>) -> KResult<Arc<dyn Inode>> {
        check_name(name)?;
        let inode = {
            let mut entries = self.entries.lock();
            if entries.contains_key(name) {
                return Err(Errno::EEXIST);
            }
            check_new_name(name)?;
            let inode = make();
            entries.insert(name.to_vec(), inode.clone());
            inode
        };
        self.touch();
        Ok(inode)
    }

    /// Pins `obj` as `name` (Linux `bpf_obj_do_pin` → `vfs_mkobj`): `mode` holds the
    /// permission bits (already masked by the umask), `uid`/`gid` the owner. `EEXIST` if the
    /// name exists, `EPERM` for a name with a dot.
    pub fn pin(&self, name: &[u8], mode: u32, uid: u32, gid: u32, obj: UserRef) -> KResult<()> {
        let fs = &self.fs;
        self.insert_new(name, || {
            Arc::new(BpfObjInode {
                dev: fs.dev,
                ino: fs.ino(),
                attr: Mutex::new(Attr::new(mode, uid, gid)),
                nlink: AtomicU32::new(1),
                pin: obj,
            })
        })
        .map(drop)
    }

    /// Whether `dir` is this directory or one below it.
    fn is_ancestor_of(&self, dir: &Arc<BpfDir>) -> bool {
        let mut cur = Some(dir.clone());
        while let Some(d) = cur {
            if d.ino == self.ino {
                return true;
            }
            cur = d.parent.lock().upgrade();
        }
        false
    }
}

/// Names must be one path component.
fn check_name(name: &[u8]) -> KResult<()> {
    if name.is_empty() || name.contains(&b'/') || name == b"." || name == b".." {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Linux `bpf_lookup`: a name that does not exist yet and contains a dot is `EPERM` (dotted
/// names are reserved for files the kernel itself may populate).
fn check_new_name(name: &[u8]) -> KResult<()> {
    if name.contains(&b'.') {
        return Err(Errno::EPERM);
    }
    Ok(())
}

fn is_bpffs_inode(inode: &dyn Inode) -> bool {
    let any = inode.as_any();
    any.is::<BpfDir>() || any.is::<BpfObjInode>() || any.is::<BpfSymlink>()
}

/// Link count of a non-directory inode of this filesystem.
fn nlink_of(inode: &dyn Inode) -> Option<&AtomicU32> {
    let any = inode.as_any();
    if let Some(o) = any.downcast_ref::<BpfObjInode>() {
        return Some(&o.nlink);
    }
    any.downcast_ref::<BpfSymlink>().map(|s| &s.nlink)
}

fn is_dir(inode: &Arc<dyn Inode>) -> bool {
    inode.as_any().is::<BpfDir>()
}

impl Inode for BpfDir {
    fn metadata(&self) -> Metadata {
        let subdirs = self.entries.lock().values().filter(|i| is_dir(i)).count();
        let nlink = u32::try_from(subdirs).unwrap_or(u32::MAX - 2).saturating_add(2);
        make_meta(self.fs.dev, self.ino, FileType::Directory, &self.attr.lock(), nlink, 0)
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if let Some(i) = self.entries.lock().get(name) {
            return Ok(i.clone());
        }
        check_new_name(name)?;
        Err(Errno::ENOENT)
    }

    fn create(&self, name: &[u8], kind: FileType, mode: u32) -> KResult<Arc<dyn Inode>> {
        match kind {
            FileType::Directory => {
                let (uid, gid) = {
                    let a = self.attr.lock();
                    (0, if a.mode & 0o2000 != 0 { a.gid } else { 0 })
                };
                let (fs, parent) = (&self.fs, self.this.clone());
                self.insert_new(name, || BpfDir::new(fs, parent, Attr::new(mode & 0o1777, uid, gid)))
            }
            // The VFS looks the name up first (EEXIST, or EPERM for a dotted name); then
            // bpffs has no `create` (open(O_CREAT): EACCES) and no `mknod` (EPERM).
            _ => match self.lookup(name) {
                Ok(_) => Err(Errno::EEXIST),
                Err(Errno::ENOENT) if kind == FileType::Regular => Err(Errno::EACCES),
                Err(Errno::ENOENT) => Err(Errno::EPERM),
                Err(e) => Err(e),
            },
        }
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> KResult<Arc<dyn Inode>> {
        let fs = &self.fs;
        self.insert_new(name, || {
            Arc::new(BpfSymlink {
                dev: fs.dev,
                ino: fs.ino(),
                attr: Mutex::new(Attr::new(0o777, 0, 0)),
                nlink: AtomicU32::new(1),
                target: target.to_vec(),
            })
        })
    }

    fn link(&self, name: &[u8], inode: &Arc<dyn Inode>) -> KResult<()> {
        if !self.same_fs(&**inode) {
            return Err(Errno::EXDEV);
        }
        let Some(nlink) = nlink_of(&**inode) else {
            return Err(Errno::EPERM); // directories cannot be hard-linked
        };
        self.insert_new(name, || inode.clone())?;
        nlink.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        let removed = {
            let mut entries = self.entries.lock();
            match entries.get(name) {
                None => return Err(Errno::ENOENT),
                Some(i) if is_dir(i) => return Err(Errno::EISDIR),
                Some(_) => entries.remove(name),
            }
        };
        if let Some(n) = removed.as_deref().and_then(nlink_of) {
            n.fetch_sub(1, Ordering::Relaxed);
        }
        self.touch();
        // Dropped here, outside the lock: the last reference drops the pin's UserRef.
        drop(removed);
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        let removed = {
            let mut entries = self.entries.lock();
            let Some(i) = entries.get(name) else {
                return Err(Errno::ENOENT);
            };
            let Some(dir) = i.as_any().downcast_ref::<BpfDir>() else {
                return Err(Errno::ENOTDIR);
            };
            if !dir.entries.lock().is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            entries.remove(name)
        };
        self.touch();
        drop(removed);
        Ok(())
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8]) -> KResult<()> {
        let Some(target_dir) = new_dir.as_any().downcast_ref::<BpfDir>() else {
            return Err(Errno::EXDEV);
        };
        if target_dir.fs.dev != self.fs.dev || !Arc::ptr_eq(&target_dir.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        check_name(new)?;
        let Some(target_arc) = target_dir.this.upgrade() else {
            return Err(Errno::ENOENT);
        };
        let _serial = self.fs.rename_lock.lock();
        let src = self.entries.lock().get(old).cloned().ok_or(Errno::ENOENT)?;
        let src_dir = src.as_any().downcast_ref::<BpfDir>();
        if let Some(d) = src_dir {
            if d.is_ancestor_of(&target_arc) {
                return Err(Errno::EINVAL);
            }
        }
        let replaced = {
            let existing = target_dir.entries.lock().get(new).cloned();
            match existing {
                Some(dst) if Arc::ptr_eq(&dst, &src) => return Ok(()),
                Some(dst) => {
                    match (src_dir.is_some(), dst.as_any().downcast_ref::<BpfDir>()) {
                        (true, None) => return Err(Errno::ENOTDIR),
                        (false, Some(_)) => return Err(Errno::EISDIR),
                        (true, Some(d)) if !d.entries.lock().is_empty() => return Err(Errno::ENOTEMPTY),
                        _ => {}
                    }
                    Some(dst)
                }
                None => {
                    check_new_name(new)?;
                    None
                }
            }
        };
        self.entries.lock().remove(old);
        let old_entry = target_dir.entries.lock().insert(new.to_vec(), src.clone());
        if let Some(d) = src_dir {
            *d.parent.lock() = target_dir.this.clone();
        }
        if let Some(n) = replaced.as_deref().and_then(nlink_of) {
            n.fetch_sub(1, Ordering::Relaxed);
        }
        self.touch();
        target_dir.touch();
        drop((replaced, old_entry));
        Ok(())
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        let entries = self.entries.lock();
        Ok(entries
            .iter()
            .map(|(name, i)| {
                let m = i.metadata();
                DirEntry { ino: m.ino, kind: i.file_type(), name: name.clone() }
            })
            .collect())
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        let mut a = self.attr.lock();
        a.mode = mode & S_IALLUGO;
        a.ctime = now();
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A pinned object.
pub struct BpfObjInode {
    dev: u64,
    ino: u64,
    attr: Mutex<Attr>,
    nlink: AtomicU32,
    pin: UserRef,
}

impl BpfObjInode {
    /// The pinned object.
    pub fn object(&self) -> &BpfObject {
        self.pin.object()
    }
}

impl Inode for BpfObjInode {
    fn metadata(&self) -> Metadata {
        make_meta(self.dev, self.ino, FileType::Regular, &self.attr.lock(), self.nlink.load(Ordering::Relaxed), 0)
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        let mut a = self.attr.lock();
        a.mode = mode & S_IALLUGO;
        a.ctime = now();
        Ok(())
    }

    /// Linux `bpffs_obj_open`: pinned objects cannot be opened (`EIO`); user space gets an
    /// fd with `bpf(BPF_OBJ_GET)`.
    fn open(self: Arc<Self>, _flags: u32) -> Option<KResult<Arc<OpenFile>>> {
        Some(Err(Errno::EIO))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A symbolic link in bpffs.
pub struct BpfSymlink {
    dev: u64,
    ino: u64,
    attr: Mutex<Attr>,
    nlink: AtomicU32,
    target: Vec<u8>,
}

impl Inode for BpfSymlink {
    fn metadata(&self) -> Metadata {
        let size = u64::try_from(self.target.len()).unwrap_or(u64::MAX);
        make_meta(self.dev, self.ino, FileType::Symlink, &self.attr.lock(), self.nlink.load(Ordering::Relaxed), size)
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        Ok(self.target.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Linux `generic_permission` for `want_read`/`want_write` on `meta` by `uid`/`gid`; uid 0
/// (`CAP_DAC_OVERRIDE`) may always read and write.
pub fn permits(meta: &Metadata, uid: u32, gid: u32, want_read: bool, want_write: bool) -> bool {
    if uid == 0 {
        return true;
    }
    let bits = if meta.uid == uid {
        meta.mode >> 6
    } else if meta.gid == gid {
        meta.mode >> 3
    } else {
        meta.mode
    };
    (!want_read || bits & 0o4 != 0) && (!want_write || bits & 0o2 != 0)
}
