//! `BPF_OBJ_PIN` and `BPF_OBJ_GET` (Linux 6.1 `bpf_obj_pin`/`bpf_obj_get` in
//! kernel/bpf/syscall.c, `bpf_obj_pin_user`/`bpf_obj_get_user` in kernel/bpf/inode.c).
//!
//! The kernel owns bpffs: the path is copied in here (Linux `getname`: `EFAULT`,
//! `ENAMETOOLONG`, `ENOENT` for an empty path) and handed to [`crate::BpfHost::pin`] /
//! [`crate::BpfHost::get_pinned`], which resolve it and answer `ENOENT`/`EEXIST`/`EPERM`/
//! `EACCES` like Linux's VFS.

use syscall_abi::bpf::{ObjAttr, BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::{err, Errno, Result};

use super::Sys;
use crate::object::{BpfFile, BpfObject, FdTarget, FileMode, UserRef};

/// `BPF_OBJ_PIN`: pins the map, program or link behind `bpf_fd` at `pathname`.
pub(super) fn obj_pin(sys: &Sys<'_>, a: &ObjAttr) -> Result<u32> {
    if a.file_flags != 0 {
        return err(Errno::EINVAL, "BPF_OBJ_PIN takes no file_flags");
    }
    // bpf_fd_probe_obj: a map, a program or a link; anything else — including a closed fd
    // and a BTF object — is EINVAL.
    let obj = match sys.host().resolve_fd(a.bpf_fd) {
        Ok(FdTarget::Bpf(obj @ (BpfObject::Map(_) | BpfObject::Prog(_) | BpfObject::Link(_)), _)) => obj,
        _ => return err(Errno::EINVAL, "bpf_fd is not a map, program or link"),
    };
    let path = sys.user().read_path(a.pathname)?;
    sys.host().pin(&path, UserRef::new(obj))?;
    Ok(0)
}

/// `BPF_OBJ_GET`: a new fd for the object pinned at `pathname`, opened with the access
/// `file_flags` asks for (maps; programs are always read-write, links must be).
pub(super) fn obj_get(sys: &Sys<'_>, a: &ObjAttr) -> Result<u32> {
    if a.bpf_fd != 0 || a.file_flags & !(BPF_F_RDONLY | BPF_F_WRONLY) != 0 {
        return err(Errno::EINVAL, "BPF_OBJ_GET takes no bpf_fd and only BPF_F_RDONLY/BPF_F_WRONLY");
    }
    let mode = FileMode::from_bpf_flags(a.file_flags)?;
    let path = sys.user().read_path(a.pathname)?;
    let obj = sys.host().get_pinned(&path, mode)?;
    let mode = match &obj {
        BpfObject::Map(_) => mode,
        BpfObject::Prog(_) => FileMode::ReadWrite,
        BpfObject::Link(_) if mode != FileMode::ReadWrite => {
            return err(Errno::EINVAL, "links can only be opened read-write");
        }
        BpfObject::Link(_) => mode,
        BpfObject::Btf(_) => return err(Errno::ENOENT, "BTF objects cannot be pinned"),
        BpfObject::Stats(_) => return err(Errno::ENOENT, "stats fds cannot be pinned"),
    };
    sys.host().install_fd(BpfFile::new(obj, mode), true)
}
