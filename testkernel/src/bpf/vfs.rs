//! [`BpfProcess::lookup`](super::BpfProcess::lookup) and
//! [`lookup_parent`](super::BpfProcess::lookup_parent) over the kernel's VFS: what a
//! `BpfProcess` implementation calls with its process's [`FsContext`], so pins resolve like
//! every other path of the process (cwd for relative paths, mounts, symlinks).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::process::PathParent;
use crate::fs::context::FsContext;
use crate::fs::vfs::{Last, Vfs};
use crate::fs::Inode;
use crate::KResult;

/// `path` resolved from `fs`'s working directory (`follow`: a final symlink is followed).
pub fn lookup(vfs: &Vfs, fs: &FsContext, path: &[u8], follow: bool) -> KResult<Arc<dyn Inode>> {
    Ok(vfs.resolve(&fs.cwd, path, follow)?.inode)
}

/// The directory holding `path`'s last component, and that component.
pub fn lookup_parent(vfs: &Vfs, fs: &FsContext, path: &[u8]) -> KResult<PathParent> {
    let p = vfs.resolve_parent(&fs.cwd, path)?;
    let name = match p.last {
        Last::Name(n) => n,
        Last::Dot => b".".to_vec(),
        Last::DotDot => b"..".to_vec(),
        Last::Root => Vec::new(),
    };
    Ok(PathParent { dir: p.dir.inode, name, trailing_slash: p.trailing_slash })
}
