//! `BPF_OBJ_PIN` / `BPF_OBJ_GET` on bpffs: [`pin`] and [`get_pinned`], the kernel side of
//! `BpfHost::pin` / `BpfHost::get_pinned`.
//!
//! Reference: Linux 6.1 kernel/bpf/inode.c `bpf_obj_do_pin` (`user_path_create`: missing
//! parent `ENOENT`, existing name `EEXIST`, trailing slash on a new name `ENOENT`; a parent
//! outside bpffs `EPERM`; mode `S_IFREG | (0600 & ~umask)`) and `bpf_obj_do_get`
//! (`user_path_at` with `LOOKUP_FOLLOW`, then `path_permission(ACC_MODE(flags))` → `EACCES`,
//! then `bpf_inode_type`: not a pinned object → `EACCES`).

use alloc::sync::Arc;

use bpf_subsys::object::{BpfObject, FileMode, UserRef};
use syscall_abi::Errno;

use super::path::{self, Found};
use super::process::{BpfProcess, PathParent};
use crate::fs::bpffs::{permits, BpfDir, BpfObjInode};
use crate::fs::{FileType, Inode};
use crate::KResult;

/// Pins `obj` at `path` for `proc`; `root` is the bpffs root used when the process has no
/// VFS hook. On error `obj` is dropped.
pub fn pin(proc: &dyn BpfProcess, root: &Arc<dyn Inode>, path: &[u8], obj: UserRef) -> KResult<()> {
    let parent = parent_of(proc, root, path)?;
    // user_path_create: "/" and a last component of "." or ".." exist already.
    if parent.name.is_empty() || parent.name == b"." || parent.name == b".." {
        return Err(Errno::EEXIST);
    }
    if parent.name.len() > path::NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    // The VFS looks the name up before anything else: an existing name is EEXIST (even
    // outside bpffs), a missing dotted name in bpffs EPERM, and "name/" for a name that
    // does not exist ENOENT.
    match parent.dir.lookup(&parent.name) {
        Ok(_) => return Err(Errno::EEXIST),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    if parent.trailing_slash {
        return Err(Errno::ENOENT);
    }
    let Some(dir) = parent.dir.as_any().downcast_ref::<BpfDir>() else {
        return Err(Errno::EPERM);
    };
    let (uid, gid) = proc.uid_gid();
    dir.pin(&parent.name, 0o600 & !proc.umask(), uid, gid, obj)
}

/// The object pinned at `path`, if `proc` may open it with `mode`.
pub fn get_pinned(proc: &dyn BpfProcess, root: &Arc<dyn Inode>, path: &[u8], mode: FileMode) -> KResult<BpfObject> {
    let inode = match proc.lookup(path, true) {
        Some(r) => r?,
        None => match path::lookup(root, path, true)? {
            Found::Inode(i) => i,
            // "/", "/sys", "/sys/fs": directories, not pinned objects.
            Found::OutsideDir => return Err(Errno::EACCES),
        },
    };
    let (uid, gid) = proc.uid_gid();
    if !permits(&inode.metadata(), uid, gid, mode.can_read(), mode.can_write()) {
        return Err(Errno::EACCES);
    }
    match inode.as_any().downcast_ref::<BpfObjInode>() {
        Some(o) => Ok(o.object().clone()),
        None => Err(Errno::EACCES),
    }
}

fn parent_of(proc: &dyn BpfProcess, root: &Arc<dyn Inode>, path: &[u8]) -> KResult<PathParent> {
    if let Some(r) = proc.lookup_parent(path) {
        return r;
    }
    let (found, last) = path::lookup_parent(root, path)?;
    match found {
        Found::Inode(dir) if dir.file_type() == FileType::Directory => Ok(last.with_dir(dir)),
        Found::Inode(_) => Err(Errno::ENOTDIR),
        // A directory on the way to the mount point: the next component exists only if it
        // is the mount point's own (then EEXIST); anything else cannot be created there.
        Found::OutsideDir => Err(outside_create_errno(&last.name)),
    }
}

/// Creating `name` in one of the directories on the way to the mount point: the name
/// that exists there is `EEXIST`, anything else `EPERM` (not a bpffs directory).
fn outside_create_errno(name: &[u8]) -> Errno {
    if name.is_empty() || name == b"." || name == b".." || matches!(name, b"sys" | b"fs" | b"bpf") {
        Errno::EEXIST
    } else {
        Errno::EPERM
    }
}
