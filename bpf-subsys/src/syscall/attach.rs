//! Commands for attach points this subsystem does not have yet: `BPF_PROG_ATTACH`,
//! `BPF_PROG_DETACH`, `BPF_PROG_QUERY` (cgroups, sockmaps, flow dissector, lirc),
//! `BPF_TASK_FD_QUERY` (perf events and raw tracepoint links, with the perf-event work) and
//! `BPF_ITER_CREATE` (iterators). All answer `ENOTSUPP`.

use syscall_abi::Result;

use super::not_implemented;

/// `BPF_PROG_ATTACH`: not implemented yet.
pub(super) fn prog_attach() -> Result<u32> {
    not_implemented("BPF_PROG_ATTACH: not implemented yet")
}

/// `BPF_PROG_DETACH`: not implemented yet.
pub(super) fn prog_detach() -> Result<u32> {
    not_implemented("BPF_PROG_DETACH: not implemented yet")
}

/// `BPF_PROG_QUERY`: not implemented yet.
pub(super) fn prog_query() -> Result<u32> {
    not_implemented("BPF_PROG_QUERY: not implemented yet")
}

/// `BPF_TASK_FD_QUERY`: not implemented yet.
pub(super) fn task_fd_query() -> Result<u32> {
    not_implemented("BPF_TASK_FD_QUERY: not implemented yet")
}

/// `BPF_ITER_CREATE`: not implemented yet.
pub(super) fn iter_create() -> Result<u32> {
    not_implemented("BPF_ITER_CREATE: not implemented yet")
}
