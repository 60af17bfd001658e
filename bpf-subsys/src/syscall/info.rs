//! `BPF_OBJ_GET_INFO_BY_FD` (Linux 6.1 `bpf_obj_get_info_by_fd` and the per-kind
//! `*_get_info_by_fd`): the fd picks the record (`struct bpf_map_info`, `bpf_btf_info`,
//! `bpf_link_info`, or `bpf_prog_info` in `prog_info`); an fd that is not open is `EBADFD`
//! (sic, Linux), any other file `EINVAL`.
//!
//! Size rules (`bpf_check_uarg_tail_zero`): `info_len` above a page is `E2BIG`; a user struct
//! longer than the kernel's must be zero past it (`E2BIG`); `min(info_len, sizeof)` bytes are
//! written back and that length is stored in `info.info_len`.

use core::mem::offset_of;

use syscall_abi::bpf::{BpfBtfInfo, BpfLinkInfo, BpfMapInfo, InfoAttr};
use syscall_abi::uarg::check_uarg_tail_zero;
use syscall_abi::{err, Errno, Result};

use super::user::offset;
use super::{prog_info, Sys};
use crate::object::{BpfObject, BtfObj, FdTarget, LinkObj, MapObj};

/// `BPF_OBJ_GET_INFO_BY_FD`.
pub(super) fn obj_get_info_by_fd(sys: &Sys<'_>, a: &InfoAttr) -> Result<u32> {
    let target = match sys.host().resolve_fd(a.bpf_fd) {
        Ok(t) => t,
        Err(e) if e.errno == Errno::EBADF => return err(Errno::EBADFD, "info of an fd that is not open"),
        Err(e) => return Err(e),
    };
    match target {
        FdTarget::Bpf(BpfObject::Prog(p), _) => prog_info::prog_info(sys, &p, a),
        FdTarget::Bpf(BpfObject::Map(m), _) => map_info(sys, &m, a),
        FdTarget::Bpf(BpfObject::Btf(b), _) => btf_info(sys, &b, a),
        FdTarget::Bpf(BpfObject::Link(l), _) => link_info(sys, &l, a),
        _ => err(Errno::EINVAL, "fd has no bpf info"),
    }
}

/// The user's `info_len` checked against the kernel struct of `ksize` bytes; returns
/// `min(info_len, ksize)`.
pub(super) fn checked_info_len(sys: &Sys<'_>, a: &InfoAttr, ksize: usize) -> Result<usize> {
    let len = usize::try_from(a.info_len).map_err(|_| Errno::E2BIG)?;
    check_uarg_tail_zero(&mut sys.user().source(a.info), ksize, len, sys.host().page_size())?;
    Ok(len.min(ksize))
}

/// Writes the first `len` bytes of `info` to the user and `len` to `info.info_len`.
pub(super) fn finish<T: syscall_abi::abi::Pod>(sys: &Sys<'_>, a: &InfoAttr, info: &T, len: usize) -> Result<u32> {
    sys.user().write_prefix(a.info, info, len)?;
    let len = u32::try_from(len).map_err(|_| Errno::EFAULT)?;
    sys.user().write_u32(offset(sys.uattr, offset_of!(InfoAttr, info_len))?, len)?;
    Ok(0)
}

/// `bpf_map_get_info_by_fd`: nothing is read from the user's struct.
fn map_info(sys: &Sys<'_>, map: &MapObj, a: &InfoAttr) -> Result<u32> {
    let len = checked_info_len(sys, a, core::mem::size_of::<BpfMapInfo>())?;
    let def = map.map().def();
    let mut info = BpfMapInfo::ZERO;
    info.type_ = u32::from(def.map_type);
    info.id = map.id();
    info.key_size = def.key_size;
    info.value_size = def.value_size;
    info.max_entries = def.max_entries;
    info.map_flags = map.map_flags();
    info.map_extra = def.map_extra;
    info.name = *map.name();
    if let Some(btf) = map.btf() {
        info.btf_id = btf.btf.id();
        info.btf_key_type_id = btf.key_type_id;
        info.btf_value_type_id = btf.value_type_id;
        info.btf_vmlinux_value_type_id = btf.vmlinux_value_type_id;
    }
    finish(sys, a, &info, len)
}

/// `btf_get_info_by_fd`: the blob is copied to `info.btf` (up to `info.btf_size`, which
/// becomes the blob's size), the name to `info.name` (`name_len` becomes its length; a
/// buffer too short gets a truncated, NUL-terminated name and the command fails with
/// `ENOSPC` after writing the info). `name` and `name_len` must be both set or both zero.
fn btf_info(sys: &Sys<'_>, btf: &BtfObj, a: &InfoAttr) -> Result<u32> {
    let len = checked_info_len(sys, a, core::mem::size_of::<BpfBtfInfo>())?;
    let user = sys.user();
    let mut info: BpfBtfInfo = user.read_prefix(a.info, len)?;
    info.id = btf.id();
    let data = btf.data();
    let copy = data.len().min(info.btf_size as usize);
    user.write(info.btf, &data[..copy])?;
    info.btf_size = u32::try_from(data.len()).map_err(|_| Errno::E2BIG)?;
    info.kernel_btf = u32::from(btf.kernel_btf());
    if (info.name == 0) != (info.name_len == 0) {
        return err(Errno::EINVAL, "name and name_len must be given together");
    }
    let name = btf.name();
    let ubuf_len = info.name_len as usize;
    info.name_len = u32::try_from(name.len()).map_err(|_| Errno::E2BIG)?;
    let mut result = Ok(0);
    if info.name != 0 {
        if ubuf_len > name.len() {
            user.write(info.name, name)?;
            user.write(offset(info.name, name.len())?, &[0])?;
        } else {
            user.write(info.name, &name[..ubuf_len - 1])?;
            user.write(offset(info.name, ubuf_len - 1)?, &[0])?;
            result = err(Errno::ENOSPC, "BTF name buffer too short");
        }
    }
    finish(sys, a, &info, len)?;
    result
}

/// `bpf_link_get_info_by_fd`: the user's struct is read first (the type-specific part may
/// carry buffers), then the header is set and the link fills its part.
fn link_info(sys: &Sys<'_>, link: &LinkObj, a: &InfoAttr) -> Result<u32> {
    let len = checked_info_len(sys, a, core::mem::size_of::<BpfLinkInfo>())?;
    let mut info: BpfLinkInfo = sys.user().read_prefix(a.info, len)?;
    info.type_ = u32::from(link.link_type());
    info.id = link.id();
    info.prog_id = link.prog().id();
    link.ops().fill_info(sys.host(), &mut info)?;
    finish(sys, a, &info, len)
}
