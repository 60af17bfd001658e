//! `BPF_PROG_BIND_MAP` (Linux 6.1 `bpf_prog_bind_map`): adds a map to a program's used maps,
//! so the map lives as long as the program (how loaders keep a `.rodata` or metadata map
//! alive without the program referencing it).

use syscall_abi::bpf::ProgBindMapAttr;
use syscall_abi::{err, Errno, Result};

use super::Sys;
use crate::object::{map_from_fd, prog_from_fd};

/// `BPF_PROG_BIND_MAP`: flags must be 0 (`EINVAL`); the program fd, then the map fd, are
/// resolved (`EBADF`/`EINVAL`); binding a map that is already used succeeds.
pub(super) fn prog_bind_map(sys: &Sys<'_>, a: &ProgBindMapAttr) -> Result<u32> {
    if a.flags != 0 {
        return err(Errno::EINVAL, "prog_bind_map.flags must be 0");
    }
    let prog = prog_from_fd(sys.host(), a.prog_fd)?;
    let (map, _) = map_from_fd(sys.host(), a.map_fd)?;
    prog.bind_map(map);
    Ok(0)
}
