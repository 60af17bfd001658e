//! The virtual filesystem: one root directory, a mount table, and path resolution like
//! Linux's `namei`.
//!
//! # Representation
//! There is no dentry cache. A resolved name is a [`Location`]: the inode plus its absolute
//! canonical path (no `.`, `..`, symlinks or repeated slashes; `/` for the root). The
//! canonical path is what `getcwd`, `/proc/self/fd` links and the exe path report, and it is
//! also how `..` and mounts work:
//! - the mount table maps canonical paths to the root inodes mounted there; whenever a walk
//!   reaches a path in the table, the mounted root replaces the inode (so the mount point's
//!   own directory is hidden, as in Linux);
//! - `..` goes to the canonical parent path (never above `/`), so `..` of a mount root is the
//!   mount point's parent. Within one walk the ancestors are remembered; going above the
//!   walk's start re-walks the start's parent path from the root (plain lookups: canonical
//!   paths hold no symlinks).
//!
//! The price of path strings: a directory renamed or removed while it is a process's cwd (or
//! an open dirfd) keeps its old path; `..` from it then re-walks the old parent path (which
//! may fail with `ENOENT`, where Linux would still find the real parent). Lookups relative to
//! it still work (they use the inode). Paths are byte strings: Linux names need not be UTF-8.
//!
//! Symlinks: intermediate ones are always followed, the last one only when asked
//! (`follow`); a trailing slash forces following and requires a directory. At most
//! [`MAXSYMLINKS`] links are followed per resolution (`ELOOP` beyond). Names longer than
//! [`NAME_MAX`] are `ENAMETOOLONG`; path length (`PATH_MAX`) is checked when the path is
//! copied from user memory.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use spin::RwLock;
use syscall_abi::Errno;

use super::inode::{FileType, Inode};
use crate::KResult;

/// `PATH_MAX`: longest path including its NUL.
pub const PATH_MAX: usize = 4096;
/// `NAME_MAX`: longest path component.
pub const NAME_MAX: usize = 255;
/// Linux's `MAXSYMLINKS`: symlinks followed per resolution.
pub const MAXSYMLINKS: u32 = 40;

/// A resolved name: an inode and its absolute canonical path.
#[derive(Clone)]
pub struct Location {
    /// Absolute canonical path (`/`, `/dev/null`, ...).
    pub path: Vec<u8>,
    /// The inode (a mounted root when the path is a mount point).
    pub inode: Arc<dyn Inode>,
}

impl Location {
    /// Whether the inode is a directory.
    pub fn is_dir(&self) -> bool {
        self.inode.file_type() == FileType::Directory
    }

    /// The path as a `String` (lossy for non-UTF-8 names), for `OpenFile::path`.
    pub fn path_string(&self) -> alloc::string::String {
        alloc::string::String::from_utf8_lossy(&self.path).into_owned()
    }

    /// The path of child `name` of this location.
    pub fn child_path(&self, name: &[u8]) -> Vec<u8> {
        join(&self.path, name)
    }
}

/// The last component of a path, as [`Vfs::resolve_parent`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Last {
    /// An ordinary name.
    Name(Vec<u8>),
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// The path is `/` (only slashes).
    Root,
}

/// The directory a path's last component lives in, and that component.
pub struct Parent {
    /// The directory (resolved, symlinks followed).
    pub dir: Location,
    /// The last component.
    pub last: Last,
    /// The path ended in `/`.
    pub trailing_slash: bool,
}

struct Mount {
    id: u64,
    root: Arc<dyn Inode>,
}

/// The filesystem tree: the root filesystem plus mounts.
pub struct Vfs {
    root: Arc<dyn Inode>,
    mounts: RwLock<BTreeMap<Vec<u8>, Mount>>,
    next_mount_id: core::sync::atomic::AtomicU64,
}

/// The mount id of the root filesystem.
pub const ROOT_MOUNT_ID: u64 = 1;

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
    p.extend_from_slice(dir);
    if dir != b"/" {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// The canonical parent of a canonical path (`/` for `/`).
fn parent_path(path: &[u8]) -> Vec<u8> {
    match path.iter().rposition(|&b| b == b'/') {
        Some(0) | None => b"/".to_vec(),
        Some(i) => path[..i].to_vec(),
    }
}

/// One pending component of a walk.
struct Step {
    name: Vec<u8>,
    /// The last component of the whole resolution.
    last: bool,
    /// It was followed by a slash (the result must be a directory).
    slash: bool,
}

/// The components of `path` in reverse order (a stack), the last one marked `last`.
fn push_components(stack: &mut Vec<Step>, path: &[u8], last: bool, slash_if_last: bool) {
    let trailing = path.last() == Some(&b'/');
    let comps: Vec<&[u8]> = path.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect();
    let n = comps.len();
    for (i, c) in comps.into_iter().enumerate().rev() {
        let is_last = last && i + 1 == n;
        stack.push(Step { name: c.to_vec(), last: is_last, slash: is_last && (trailing || slash_if_last) });
    }
}

impl Vfs {
    /// A tree whose root directory is `root`.
    pub fn new(root: Arc<dyn Inode>) -> Vfs {
        Vfs { root, mounts: RwLock::new(BTreeMap::new()), next_mount_id: core::sync::atomic::AtomicU64::new(2) }
    }

    /// The root directory.
    pub fn root(&self) -> Location {
        Location { path: b"/".to_vec(), inode: self.root.clone() }
    }

    /// Mounts the directory `root` (of some filesystem) at `path`, an existing directory
    /// (`ENOENT`, `ENOTDIR`; `EBUSY` if something is mounted there already). Later lookups
    /// of `path` and below go to `root`.
    pub fn mount(&self, path: &[u8], root: Arc<dyn Inode>) -> KResult<()> {
        let at = self.resolve(&self.root(), path, true)?;
        if !at.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if root.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let mut mounts = self.mounts.write();
        if mounts.contains_key(&at.path) || at.path == b"/" {
            return Err(Errno::EBUSY);
        }
        let id = self.next_mount_id.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        mounts.insert(at.path, Mount { id, root });
        Ok(())
    }

    /// Creates every missing directory of the absolute `path` (mode `mode`), like
    /// `mkdir -p`: used at boot to make mount points in the root tmpfs.
    pub fn mkdir_all(&self, path: &[u8], mode: u32) -> KResult<Location> {
        let mut cur = self.root();
        for comp in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            let loc = match self.step_into(&cur, comp) {
                Ok(loc) => loc,
                Err(Errno::ENOENT) => {
                    cur.inode.create(comp, FileType::Directory, mode)?;
                    self.step_into(&cur, comp)?
                }
                Err(e) => return Err(e),
            };
            if !loc.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            cur = loc;
        }
        Ok(cur)
    }

    /// Whether something is mounted at the canonical `path` (or it is `/`).
    pub fn is_mount_point(&self, path: &[u8]) -> bool {
        path == b"/" || self.mounts.read().contains_key(path)
    }

    /// The id of the mount the canonical `path` belongs to (the longest mount point that is
    /// the path or one of its ancestors; [`ROOT_MOUNT_ID`] for the root filesystem).
    pub fn mount_id(&self, path: &[u8]) -> u64 {
        let mounts = self.mounts.read();
        let mut p = path.to_vec();
        loop {
            if let Some(m) = mounts.get(&p) {
                return m.id;
            }
            if p == b"/" {
                return ROOT_MOUNT_ID;
            }
            p = parent_path(&p);
        }
    }

    /// Looks `name` up in the directory `dir`, switching to a mounted root.
    fn step_into(&self, dir: &Location, name: &[u8]) -> KResult<Location> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let inode = dir.inode.lookup(name)?;
        let path = join(&dir.path, name);
        let inode = self.mounts.read().get(&path).map_or(inode, |m| m.root.clone());
        Ok(Location { path, inode })
    }

    /// Re-walks a canonical path from the root (plain lookups).
    fn walk_canonical(&self, path: &[u8]) -> KResult<Location> {
        let mut cur = self.root();
        for comp in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            cur = self.step_into(&cur, comp)?;
        }
        Ok(cur)
    }

    /// Resolves `path` relative to `start` (ignored for absolute paths); the last symlink is
    /// followed when `follow`. An empty path is `ENOENT`.
    pub fn resolve(&self, start: &Location, path: &[u8], follow: bool) -> KResult<Location> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut cur = if path[0] == b'/' { self.root() } else { start.clone() };
        // Ancestors of `cur` reached in this walk, innermost last.
        let mut ancestors: Vec<Location> = Vec::new();
        let mut stack = Vec::new();
        push_components(&mut stack, path, true, false);
        let mut links = 0u32;
        let mut must_be_dir = path.last() == Some(&b'/');
        while let Some(step) = stack.pop() {
            if step.last && step.slash {
                must_be_dir = true;
            }
            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            match &step.name[..] {
                b"." => {}
                b".." => {
                    if cur.path != b"/" {
                        cur = match ancestors.pop() {
                            Some(a) => a,
                            None => self.walk_canonical(&parent_path(&cur.path))?,
                        };
                    }
                }
                name => {
                    let child = self.step_into(&cur, name)?;
                    let follow_this = !step.last || follow || step.slash;
                    if follow_this && child.inode.file_type() == FileType::Symlink {
                        links += 1;
                        if links > MAXSYMLINKS {
                            return Err(Errno::ELOOP);
                        }
                        let target = child.inode.readlink()?;
                        if target.is_empty() {
                            return Err(Errno::ENOENT);
                        }
                        if target[0] == b'/' {
                            cur = self.root();
                            ancestors.clear();
                        }
                        push_components(&mut stack, &target, step.last, step.slash);
                        continue;
                    }
                    ancestors.push(core::mem::replace(&mut cur, child));
                }
            }
        }
        if must_be_dir && !cur.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(cur)
    }

    /// Resolves every component of `path` but the last (following symlinks), for calls that
    /// create, remove or rename the last one. The directory must exist (`ENOENT`) and be a
    /// directory (`ENOTDIR`). An empty path is `ENOENT`; an over-long last name is
    /// `ENAMETOOLONG`.
    pub fn resolve_parent(&self, start: &Location, path: &[u8]) -> KResult<Parent> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let end = path.iter().rposition(|&b| b != b'/');
        let Some(end) = end else {
            return Ok(Parent { dir: self.root(), last: Last::Root, trailing_slash: false });
        };
        let trailing_slash = end + 1 < path.len();
        let trimmed = &path[..=end];
        let (dir_part, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => (&b""[..], trimmed),
        };
        let dir = if dir_part.is_empty() {
            start.clone()
        } else {
            // `dir_part` ends in '/', which makes `resolve` demand a directory.
            self.resolve(start, dir_part, true)?
        };
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let last = match name {
            b"." => Last::Dot,
            b".." => Last::DotDot,
            n if n.len() > NAME_MAX => return Err(Errno::ENAMETOOLONG),
            n => Last::Name(n.to_vec()),
        };
        Ok(Parent { dir, last, trailing_slash })
    }

    /// The child `name` of `dir` (switching to a mounted root), without following a
    /// symlink: what `resolve_parent` callers use to inspect the last component.
    pub fn lookup_child(&self, dir: &Location, name: &[u8]) -> KResult<Location> {
        self.step_into(dir, name)
    }
}

#[cfg(test)]
#[path = "vfs/tests.rs"]
mod tests;
