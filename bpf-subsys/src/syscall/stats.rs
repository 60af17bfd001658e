//! `BPF_ENABLE_STATS` (Linux 6.1 `bpf_enable_stats` → `bpf_enable_runtime_stats`):
//! `CAP_SYS_ADMIN` (`EPERM`), then the type must be `BPF_STATS_RUN_TIME` (`EINVAL`); returns
//! an fd (`anon_inode:bpf-stats`) holding a [`StatsObj`]: program run statistics
//! ([`crate::object::RunStats`]) are kept while any such fd is open.
//!
//! Not done: Linux's `EBUSY` once more than `INT_MAX / 2` stats fds are open.

use syscall_abi::bpf::{EnableStatsAttr, StatsType};
use syscall_abi::{err, Errno, Result};

use super::Sys;
use crate::host::Capability;
use crate::object::{BpfFile, BpfObject, FileMode, StatsObj};

/// `BPF_ENABLE_STATS`.
pub(super) fn enable_stats(sys: &Sys<'_>, a: &EnableStatsAttr) -> Result<u32> {
    if !sys.host().capable(Capability::SysAdmin) {
        return err(Errno::EPERM, "ENABLE_STATS needs CAP_SYS_ADMIN");
    }
    if StatsType::try_from(a.type_) != Ok(StatsType::RunTime) {
        return err(Errno::EINVAL, "unknown stats type");
    }
    // Stats go on only once the fd exists (a failed install drops the object: off again).
    let file = BpfFile::new(BpfObject::Stats(StatsObj::new()), FileMode::ReadOnly);
    sys.host().install_fd(file, true)
}
