//! `BPF_{PROG,MAP,LINK,BTF}_GET_NEXT_ID` and `BPF_{PROG,MAP,LINK,BTF}_GET_FD_BY_ID` (Linux
//! 6.1 `bpf_obj_get_next_id`, `bpf_prog_get_fd_by_id`, `bpf_map_get_fd_by_id`,
//! `bpf_link_get_fd_by_id`, `bpf_btf_get_fd_by_id`). All need `CAP_SYS_ADMIN` (`EPERM`).

use core::mem::offset_of;

use syscall_abi::bpf::{GetIdAttr, BPF_F_RDONLY, BPF_F_WRONLY};
use syscall_abi::{err, Errno, Result};

use super::Sys;
use crate::host::Capability;
use crate::object::{BpfFile, BpfObject, FileMode, ObjKind};

fn require_sys_admin(sys: &Sys<'_>) -> Result<()> {
    if !sys.host().capable(Capability::SysAdmin) {
        return err(Errno::EPERM, "needs CAP_SYS_ADMIN");
    }
    Ok(())
}

/// `*_GET_NEXT_ID`: writes the smallest id of `kind` above `start_id` to `next_id`. A
/// `start_id` of `INT_MAX` or more is `EINVAL`; no further id is `ENOENT`.
pub(super) fn get_next_id(sys: &Sys<'_>, a: &GetIdAttr, kind: ObjKind) -> Result<u32> {
    if a.start_id >= i32::MAX as u32 {
        return err(Errno::EINVAL, "start_id must be below INT_MAX");
    }
    require_sys_admin(sys)?;
    let Some(next) = sys.host().registry().next_id(kind, a.start_id + 1) else {
        return err(Errno::ENOENT, "no further id");
    };
    sys.put_attr_u32(offset_of!(GetIdAttr, next_id), next)?;
    Ok(0)
}

/// The live object of `kind` with `id` (an id being freed, or 0, is `ENOENT`).
fn by_id(sys: &Sys<'_>, kind: ObjKind, id: u32) -> Result<BpfObject> {
    match sys.host().registry().get(kind, id) {
        Some(obj) if id != 0 => Ok(obj),
        _ => err(Errno::ENOENT, "no object with this id"),
    }
}

/// `BPF_PROG_GET_FD_BY_ID`: a read-write fd.
pub(super) fn prog_get_fd_by_id(sys: &Sys<'_>, a: &GetIdAttr) -> Result<u32> {
    require_sys_admin(sys)?;
    let obj = by_id(sys, ObjKind::Prog, a.id())?;
    sys.host().install_fd(BpfFile::new(obj, FileMode::ReadWrite), true)
}

/// `BPF_MAP_GET_FD_BY_ID`: an fd with the access `open_flags` asks for.
pub(super) fn map_get_fd_by_id(sys: &Sys<'_>, a: &GetIdAttr) -> Result<u32> {
    if a.open_flags & !(BPF_F_RDONLY | BPF_F_WRONLY) != 0 {
        return err(Errno::EINVAL, "open_flags other than BPF_F_RDONLY/BPF_F_WRONLY");
    }
    require_sys_admin(sys)?;
    let mode = FileMode::from_bpf_flags(a.open_flags)?;
    let obj = by_id(sys, ObjKind::Map, a.id())?;
    sys.host().install_fd(BpfFile::new(obj, mode), true)
}

/// `BPF_LINK_GET_FD_BY_ID`: a read-write fd.
pub(super) fn link_get_fd_by_id(sys: &Sys<'_>, a: &GetIdAttr) -> Result<u32> {
    require_sys_admin(sys)?;
    let obj = by_id(sys, ObjKind::Link, a.id())?;
    sys.host().install_fd(BpfFile::new(obj, FileMode::ReadWrite), true)
}

/// `BPF_BTF_GET_FD_BY_ID`: a read-only fd.
pub(super) fn btf_get_fd_by_id(sys: &Sys<'_>, a: &GetIdAttr) -> Result<u32> {
    require_sys_admin(sys)?;
    let obj = by_id(sys, ObjKind::Btf, a.id())?;
    sys.host().install_fd(BpfFile::new(obj, FileMode::ReadOnly), true)
}
