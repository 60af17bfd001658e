//! The link commands: `BPF_LINK_CREATE`, `BPF_LINK_UPDATE`, `BPF_LINK_DETACH`,
//! `BPF_RAW_TRACEPOINT_OPEN`. Not implemented yet (links arrive with the perf-event work,
//! through [`crate::object::LinkOps`]); each resolves what Linux resolves first where that is
//! already possible, then answers `ENOTSUPP`.

use syscall_abi::bpf::{LinkDetachAttr, LinkUpdateAttr, BPF_F_REPLACE};
use syscall_abi::{err, Errno, Result};

use super::{not_implemented, Sys};
use crate::object::link_from_fd;

/// `BPF_LINK_CREATE`: not implemented yet.
pub(super) fn link_create() -> Result<u32> {
    not_implemented("BPF_LINK_CREATE: not implemented yet")
}

/// `BPF_LINK_UPDATE`: flags other than `BPF_F_REPLACE` are `EINVAL`, the link fd is
/// resolved (`EBADF`/`EINVAL`), then not implemented yet.
pub(super) fn link_update(sys: &Sys<'_>, a: &LinkUpdateAttr) -> Result<u32> {
    if a.flags & !BPF_F_REPLACE != 0 {
        return err(Errno::EINVAL, "link_update.flags other than BPF_F_REPLACE");
    }
    link_from_fd(sys.host(), a.link_fd)?;
    not_implemented("BPF_LINK_UPDATE: not implemented yet")
}

/// `BPF_LINK_DETACH`: the link fd is resolved (`EBADF`/`EINVAL`), then the link detaches
/// itself ([`crate::object::LinkOps::detach`]).
pub(super) fn link_detach(sys: &Sys<'_>, a: &LinkDetachAttr) -> Result<u32> {
    let link = link_from_fd(sys.host(), a.link_fd)?;
    link.ops().detach()?;
    Ok(0)
}

/// `BPF_RAW_TRACEPOINT_OPEN`: not implemented yet.
pub(super) fn raw_tracepoint_open() -> Result<u32> {
    not_implemented("BPF_RAW_TRACEPOINT_OPEN: not implemented yet")
}
