//! Path resolution for pinning while the kernel has no VFS hook
//! ([`BpfProcess::lookup`](super::BpfProcess::lookup) answers `None`): absolute paths under
//! the bpffs mount point [`BPFFS_MOUNT`], with `.`, `..` and symlinks inside bpffs. The
//! directories on the way to the mount point (`/`, `/sys`, `/sys/fs`) are known to exist but
//! are not bpffs; any other path outside is `ENOENT`. Relative paths are taken from `/`.
//!
//! Reference: Linux `path_lookupat`/`filename_parentat` (fs/namei.c): `ENOTDIR` for a
//! non-directory in the middle, `ELOOP` after 40 symlinks, `ENAMETOOLONG` for a component
//! over 255 bytes.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use syscall_abi::Errno;

use super::process::PathParent;
use crate::fs::{FileType, Inode};
use crate::KResult;

/// Where the kernel mounts bpffs.
pub const BPFFS_MOUNT: &[u8] = b"/sys/fs/bpf";
/// The mount point's components.
const MOUNT: [&[u8]; 3] = [b"sys", b"fs", b"bpf"];
/// Linux `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;
/// Linux `NAME_MAX`.
pub const NAME_MAX: usize = 255;

/// Where a path leads.
pub enum Found {
    /// An inode inside bpffs.
    Inode(Arc<dyn Inode>),
    /// One of the directories on the way to the mount point (`/`, `/sys`, `/sys/fs`).
    OutsideDir,
}

/// The walk state: the absolute components so far and, inside bpffs, their inodes.
struct Walk<'a> {
    root: &'a Arc<dyn Inode>,
    names: Vec<Vec<u8>>,
    /// `inodes[i]` is the inode of `names[i + 3]` (components below the mount point).
    inodes: Vec<Arc<dyn Inode>>,
    links: usize,
}

impl Walk<'_> {
    fn current(&self) -> Found {
        if self.names.len() < MOUNT.len() {
            Found::OutsideDir
        } else {
            Found::Inode(self.inodes.last().cloned().unwrap_or_else(|| self.root.clone()))
        }
    }

    fn up(&mut self) {
        if self.names.len() > MOUNT.len() {
            self.inodes.pop();
        }
        self.names.pop();
    }

    /// Steps into `name` (not `.`/`..`); `follow`: a symlink found there is expanded into
    /// `rest` instead of being stepped onto.
    fn step(&mut self, name: Vec<u8>, follow: bool, rest: &mut VecDeque<Vec<u8>>) -> KResult<()> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let depth = self.names.len();
        if depth < MOUNT.len() {
            // Outside bpffs only the mount point's own directories are known.
            if MOUNT.get(depth).is_some_and(|m| *m == name.as_slice()) {
                self.names.push(name);
                return Ok(());
            }
            return Err(Errno::ENOENT);
        }
        let Found::Inode(dir) = self.current() else {
            return Err(Errno::ENOENT);
        };
        if dir.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let inode = dir.lookup(&name)?;
        if follow && inode.file_type() == FileType::Symlink {
            self.links += 1;
            if self.links > MAX_SYMLINKS {
                return Err(Errno::ELOOP);
            }
            let target = inode.readlink()?;
            if target.is_empty() {
                return Err(Errno::ENOENT);
            }
            if target.first() == Some(&b'/') {
                self.names.clear();
                self.inodes.clear();
            }
            for comp in components(&target).rev() {
                rest.push_front(comp.to_vec());
            }
            return Ok(());
        }
        self.names.push(name);
        self.inodes.push(inode);
        Ok(())
    }

    /// Walks `comps` from the current position; symlinks are followed except on the very
    /// last component when `follow_last` is false.
    fn walk(&mut self, comps: VecDeque<Vec<u8>>, follow_last: bool) -> KResult<()> {
        let mut rest = comps;
        while let Some(c) = rest.pop_front() {
            match c.as_slice() {
                b"." => {}
                b".." => self.up(),
                _ => {
                    let last = rest.is_empty();
                    self.step(c, !last || follow_last, &mut rest)?;
                }
            }
        }
        Ok(())
    }
}

/// The non-empty components of `path`.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

fn walker(root: &Arc<dyn Inode>) -> Walk<'_> {
    Walk { root, names: Vec::new(), inodes: Vec::new(), links: 0 }
}

/// Resolves `path` (see the module documentation); `follow`: a symlink as the last
/// component is followed.
pub fn lookup(root: &Arc<dyn Inode>, path: &[u8], follow: bool) -> KResult<Found> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let mut w = walker(root);
    w.walk(components(path).map(<[u8]>::to_vec).collect(), follow)?;
    // "dir/" must be a directory.
    if path.last() == Some(&b'/') {
        if let Found::Inode(i) = w.current() {
            if i.file_type() != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
        }
    }
    Ok(w.current())
}

/// Resolves all but the last component of `path`, which is returned verbatim.
pub fn lookup_parent(root: &Arc<dyn Inode>, path: &[u8]) -> KResult<(Found, PathParentName)> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let trimmed_len = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let trimmed = &path[..trimmed_len];
    let split = trimmed.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    let (dir, name) = trimmed.split_at(split);
    let mut w = walker(root);
    w.walk(components(dir).map(<[u8]>::to_vec).collect(), true)?;
    if let Found::Inode(i) = w.current() {
        if i.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
    }
    Ok((w.current(), PathParentName { name: name.to_vec(), trailing_slash: trimmed_len < path.len() }))
}

/// The last component of a path (see [`PathParent`]).
pub struct PathParentName {
    /// The component (empty for `/`).
    pub name: Vec<u8>,
    /// Slashes followed it.
    pub trailing_slash: bool,
}

impl PathParentName {
    /// Combines it with a directory inode.
    pub fn with_dir(self, dir: Arc<dyn Inode>) -> PathParent {
        PathParent { dir, name: self.name, trailing_slash: self.trailing_slash }
    }
}
