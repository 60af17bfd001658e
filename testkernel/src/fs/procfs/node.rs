//! Building blocks of generated filesystems (procfs, sysfs): a directory of fixed entries
//! ([`StaticDir`]), a file whose content a closure generates ([`GenFile`]; opening it takes
//! a snapshot that reads and seeks then serve, [`SnapshotFile`]) and a symlink whose target
//! a closure gives ([`GenLink`], optionally a "magic" link to an open file).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use spin::RwLock;
use syscall_abi::Errno;

use crate::fs::anon_inode::now;
use crate::fs::file::{FileOps, OpenFile, O_ACCMODE};
use crate::fs::inode::{DirEntry, FileType, Inode, Metadata};
use crate::KResult;

/// Produces a generated file's bytes (`ESRCH` once its process is gone, for instance).
pub type Generator = Arc<dyn Fn() -> KResult<Vec<u8>> + Send + Sync>;

/// A stable inode number for a generated path (FNV-1a, never 0 or 1).
pub fn path_ino(path: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 1).max(2)
}

/// Joins a directory path and a name.
pub fn join(dir: &str, name: &str) -> String {
    let mut p = String::from(dir);
    if !p.ends_with('/') {
        p.push('/');
    }
    p.push_str(name);
    p
}

/// Common metadata of a generated inode.
pub fn meta(dev: u64, path: &str, kind: FileType, perm: u32, owner: (u32, u32), size: u64) -> Metadata {
    let t = now();
    Metadata {
        dev,
        ino: path_ino(path),
        mode: kind.mode_bits() | perm,
        nlink: if kind == FileType::Directory { 2 } else { 1 },
        uid: owner.0,
        gid: owner.1,
        size,
        blksize: 4096,
        atime: t,
        mtime: t,
        ctime: t,
        ..Metadata::default()
    }
}

/// A directory with a fixed (but extendable) set of entries.
pub struct StaticDir {
    dev: u64,
    path: String,
    perm: u32,
    entries: RwLock<BTreeMap<Vec<u8>, Entry>>,
}

/// A directory entry: our own subdirectories stay typed so that files can be added below.
#[derive(Clone)]
enum Entry {
    Dir(Arc<StaticDir>),
    Other(Arc<dyn Inode>),
}

impl Entry {
    fn inode(&self) -> Arc<dyn Inode> {
        match self {
            Entry::Dir(d) => d.clone(),
            Entry::Other(i) => i.clone(),
        }
    }
}

impl StaticDir {
    /// An empty directory at `path` (for `stat` and the paths of files below it).
    pub fn new(dev: u64, path: &str, perm: u32) -> Arc<StaticDir> {
        Arc::new(StaticDir { dev, path: String::from(path), perm, entries: RwLock::new(BTreeMap::new()) })
    }

    /// Its absolute path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Its device number.
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// Adds entry `name` (`EEXIST` if present).
    pub fn insert(&self, name: &str, inode: Arc<dyn Inode>) -> KResult<()> {
        let mut e = self.entries.write();
        if e.contains_key(name.as_bytes()) {
            return Err(Errno::EEXIST);
        }
        e.insert(name.as_bytes().to_vec(), Entry::Other(inode));
        Ok(())
    }

    /// The subdirectory `name`, created (mode 0555 like its parent's) if missing; `ENOTDIR`
    /// if `name` is something else.
    pub fn subdir(&self, name: &str) -> KResult<Arc<StaticDir>> {
        let mut e = self.entries.write();
        match e.get(name.as_bytes()) {
            Some(Entry::Dir(d)) => return Ok(d.clone()),
            Some(Entry::Other(_)) => return Err(Errno::ENOTDIR),
            None => {}
        }
        let d = StaticDir::new(self.dev, &join(&self.path, name), self.perm);
        e.insert(name.as_bytes().to_vec(), Entry::Dir(d.clone()));
        Ok(d)
    }

    /// The directory at relative `path` (`a/b/c`), creating missing ones.
    pub fn dir_at(self: &Arc<Self>, path: &str) -> KResult<Arc<StaticDir>> {
        let mut cur = self.clone();
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            cur = cur.subdir(comp)?;
        }
        Ok(cur)
    }

    /// Adds a generated read-only file at relative `path` (`a/b/name`), creating the
    /// directories on the way; `size` is what `stat` reports (0 for procfs, 4096 for
    /// sysfs attributes, like Linux). `EEXIST` if present, `EINVAL` for an empty name.
    pub fn add_file(self: &Arc<Self>, path: &str, perm: u32, size: u64, gen: Generator) -> KResult<()> {
        let (dir, name) = split_last(path)?;
        let d = self.dir_at(dir)?;
        let f = GenFile::new(d.dev, &join(&d.path, name), perm, size, (0, 0), gen);
        d.insert(name, f)
    }

    /// Adds a fixed-content read-only file (see [`StaticDir::add_file`]).
    pub fn add_text(self: &Arc<Self>, path: &str, perm: u32, size: u64, text: &str) -> KResult<()> {
        let bytes = text.as_bytes().to_vec();
        self.add_file(path, perm, size, Arc::new(move || Ok(bytes.clone())))
    }

    /// Adds any inode at relative `path`, creating the directories on the way.
    pub fn add_inode(self: &Arc<Self>, path: &str, inode: Arc<dyn Inode>) -> KResult<()> {
        let (dir, name) = split_last(path)?;
        self.dir_at(dir)?.insert(name, inode)
    }

    /// Every entry as `readdir` lists it.
    pub fn entries(&self) -> Vec<DirEntry> {
        self.entries
            .read()
            .iter()
            .map(|(n, e)| {
                let i = e.inode();
                DirEntry { ino: i.metadata().ino, kind: i.file_type(), name: n.clone() }
            })
            .collect()
    }
}

/// `a/b/c` → (`a/b`, `c`); `EINVAL` for an empty last component.
fn split_last(path: &str) -> KResult<(&str, &str)> {
    let path = path.trim_matches('/');
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    if name.is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok((dir, name))
}

impl Inode for StaticDir {
    fn metadata(&self) -> Metadata {
        let subdirs = self.entries.read().values().filter(|e| matches!(e, Entry::Dir(_))).count();
        let mut m = meta(self.dev, &self.path, FileType::Directory, self.perm, (0, 0), 0);
        m.nlink = 2 + u32::try_from(subdirs).unwrap_or(0);
        m
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        self.entries.read().get(name).map(Entry::inode).ok_or(Errno::ENOENT)
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(self.entries())
    }

    fn create(&self, _name: &[u8], _kind: FileType, _mode: u32) -> KResult<Arc<dyn Inode>> {
        Err(Errno::EACCES)
    }

    fn symlink(&self, _name: &[u8], _target: &[u8]) -> KResult<Arc<dyn Inode>> {
        Err(Errno::EACCES)
    }

    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EPERM)
    }

    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EPERM)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A read-only file whose content is generated when opened (and on each `read_at` of the
/// inode itself).
pub struct GenFile {
    meta: Metadata,
    path: String,
    gen: Generator,
}

impl GenFile {
    /// A generated file at absolute `path`.
    pub fn new(dev: u64, path: &str, perm: u32, size: u64, owner: (u32, u32), gen: Generator) -> Arc<GenFile> {
        Arc::new(GenFile { meta: meta(dev, path, FileType::Regular, perm, owner, size), path: String::from(path), gen })
    }
}

/// Copies `data[offset..]` into `buf`.
fn copy_at(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Ok(off) = usize::try_from(offset) else { return 0 };
    let Some(src) = data.get(off..) else { return 0 };
    let n = src.len().min(buf.len());
    buf[..n].copy_from_slice(&src[..n]);
    n
}

impl Inode for GenFile {
    fn metadata(&self) -> Metadata {
        self.meta
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        Ok(copy_at(&(self.gen)()?, offset, buf))
    }

    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EACCES)
    }

    fn truncate(&self, _size: u64) -> KResult<()> {
        Err(Errno::EACCES)
    }

    /// Opening for writing is `EACCES` (these files are read-only); otherwise the content
    /// is generated now and the open file reads that snapshot.
    fn open(self: Arc<Self>, flags: u32) -> Option<KResult<Arc<OpenFile>>> {
        if flags & O_ACCMODE != 0 {
            return Some(Err(Errno::EACCES));
        }
        let data = match (self.gen)() {
            Ok(d) => d,
            Err(e) => return Some(Err(e)),
        };
        let path = self.path.clone();
        let snap = SnapshotFile { data, meta: self.meta, inode: self };
        Some(Ok(OpenFile::new(Arc::new(snap), flags, path)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An open generated file: the bytes generated at open.
pub struct SnapshotFile {
    data: Vec<u8>,
    meta: Metadata,
    inode: Arc<dyn Inode>,
}

impl SnapshotFile {
    /// The snapshot.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

impl FileOps for SnapshotFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> KResult<usize> {
        let mut pos = file.pos.lock();
        let n = copy_at(&self.data, *pos, buf);
        *pos += n as u64;
        Ok(n)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        Ok(copy_at(&self.data, offset, buf))
    }

    /// `SEEK_SET`, `SEEK_CUR`, `SEEK_END` (from the snapshot's length); `EINVAL` for a
    /// negative result or another `whence`.
    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> KResult<u64> {
        crate::fs::generic::seek_snapshot(&mut file.pos.lock(), self.data.len(), offset, whence)
    }

    fn stat(&self) -> KResult<Metadata> {
        Ok(self.meta)
    }

    fn inode(&self) -> Option<Arc<dyn Inode>> {
        Some(self.inode.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A symlink whose target is generated at `readlink` time; a "magic" link (`/proc/<pid>/fd/N`)
/// also carries the open file it stands for ([`GenLink::magic_file`]).
pub struct GenLink {
    meta: Metadata,
    target: Generator,
    file: Option<Arc<OpenFile>>,
}

impl GenLink {
    /// A symlink at absolute `path`.
    pub fn new(dev: u64, path: &str, perm: u32, owner: (u32, u32), target: Generator) -> Arc<GenLink> {
        Arc::new(GenLink { meta: meta(dev, path, FileType::Symlink, perm, owner, 0), target, file: None })
    }

    /// A magic link to `file` (its target text is `file.path`).
    pub fn magic(dev: u64, path: &str, perm: u32, owner: (u32, u32), file: Arc<OpenFile>) -> Arc<GenLink> {
        let p = file.path.clone().into_bytes();
        Arc::new(GenLink {
            meta: meta(dev, path, FileType::Symlink, perm, owner, 0),
            target: Arc::new(move || Ok(p.clone())),
            file: Some(file),
        })
    }

    /// The open file a magic link stands for.
    pub fn magic_file(&self) -> Option<&Arc<OpenFile>> {
        self.file.as_ref()
    }
}

impl Inode for GenLink {
    fn metadata(&self) -> Metadata {
        self.meta
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        (self.target)()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
