//! `BPF_ENABLE_STATS` (Linux 6.1 `bpf_enable_stats`). Not implemented yet: the checks Linux
//! makes first are made (`CAP_SYS_ADMIN`: `EPERM`; a type other than `BPF_STATS_RUN_TIME`:
//! `EINVAL`), then `ENOTSUPP`. Program run counters ([`crate::object::RunStats`]) exist; the
//! stats fd that switches their collection on arrives with program execution.

use syscall_abi::bpf::{EnableStatsAttr, StatsType};
use syscall_abi::{err, Errno, Result};

use super::{not_implemented, Sys};
use crate::host::Capability;

/// `BPF_ENABLE_STATS`.
pub(super) fn enable_stats(sys: &Sys<'_>, a: &EnableStatsAttr) -> Result<u32> {
    if !sys.host().capable(Capability::SysAdmin) {
        return err(Errno::EPERM, "ENABLE_STATS needs CAP_SYS_ADMIN");
    }
    if StatsType::try_from(a.type_) != Ok(StatsType::RunTime) {
        return err(Errno::EINVAL, "unknown stats type");
    }
    not_implemented("BPF_ENABLE_STATS: not implemented yet")
}
