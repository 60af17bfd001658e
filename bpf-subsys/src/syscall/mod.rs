//! The `bpf(2)` entry point, [`sys_bpf`], and one module per command group.
//!
//! Shape (Linux `__sys_bpf`, 6.1): with `kernel.unprivileged_bpf_disabled` at Linux's default
//! (2), `BPF_MAP_CREATE` and `BPF_PROG_LOAD` need `CAP_BPF` or `CAP_SYS_ADMIN` before anything
//! else is looked at (`EPERM`); then the attribute size and zero tail are checked
//! (`E2BIG`, `EFAULT`), `min(size, 144)` bytes are copied into a zeroed `union bpf_attr`, an
//! unknown command is `EINVAL`, non-zero bytes past the command's last field are `EINVAL`
//! (`CHECK_ATTR`), and a flat `match` calls the command's function. Errors become `-errno`
//! here and only here (and are logged with their reason at debug level).
//!
//! | command | module |
//! |---|---|
//! | `MAP_CREATE` | `map_create` |
//! | `MAP_{LOOKUP,UPDATE,DELETE}_ELEM`, `MAP_GET_NEXT_KEY`, `MAP_LOOKUP_AND_DELETE_ELEM`, `MAP_FREEZE` | `map` |
//! | `MAP_*_BATCH` | `batch` |
//! | `OBJ_PIN`, `OBJ_GET` | `obj` |
//! | `*_GET_NEXT_ID`, `*_GET_FD_BY_ID` | `id` |
//! | `OBJ_GET_INFO_BY_FD` | `info` (maps, BTF, links), `prog_info` (programs) |
//! | `PROG_BIND_MAP` | `bind_map` |
//! | `BTF_LOAD` | `btf` (validation in `crate::btf`) |
//! | `LINK_CREATE`, `LINK_UPDATE`, `LINK_DETACH`, `RAW_TRACEPOINT_OPEN` | `link` |
//! | `ENABLE_STATS` | `stats` |
//! | `PROG_ATTACH`, `PROG_DETACH`, `PROG_QUERY`, `TASK_FD_QUERY`, `ITER_CREATE` | `attach` (not implemented yet) |
//! | `PROG_LOAD`, `PROG_TEST_RUN` | `prog` (being written; `ENOTSUPP` until then) |
//!
//! "Not implemented yet" is `ENOTSUPP` (524), never `EINVAL`: the command exists in Linux.

mod attach;
mod batch;
mod bind_map;
mod btf;
mod id;
mod info;
mod link;
mod map;
mod map_create;
mod obj;
mod prog;
mod prog_info;
mod stats;
mod user;

#[cfg(test)]
mod tests;

use alloc::sync::Arc;

use syscall_abi::bpf::{BpfAttr, Cmd};
use syscall_abi::{err, Errno, Result};

use crate::host::{bpf_capable, BpfHost};
use crate::object::ObjKind;
use user::User;

/// `bpf(cmd, uattr, size)` for the current task of `host`: the value to return to user space
/// (an fd or 0 on success, `-errno` on failure). `uattr` is the user address of the
/// attributes, `size` their size as the caller passed it.
pub fn sys_bpf(host: &Arc<dyn BpfHost>, cmd: u32, uattr: u64, size: u32) -> isize {
    match bpf(host, cmd, uattr, size) {
        Ok(v) => isize::try_from(v).unwrap_or(isize::MAX),
        Err(e) => {
            log::debug!("bpf(cmd {cmd}): {e}");
            e.errno.to_syscall_ret()
        }
    }
}

/// What every command function gets: the host and the user address of the attributes (for
/// the commands that write results back into them).
pub(crate) struct Sys<'a> {
    /// The host.
    pub(crate) host: &'a Arc<dyn BpfHost>,
    /// User address of `union bpf_attr`.
    pub(crate) uattr: u64,
}

impl Sys<'_> {
    /// The host as a plain trait object.
    pub(crate) fn host(&self) -> &dyn BpfHost {
        &**self.host
    }

    /// The current task's memory.
    pub(crate) fn user(&self) -> User<'_> {
        User::new(self.host())
    }

    /// Writes `v` into the caller's `union bpf_attr` at `offset` (Linux
    /// `put_user(v, &uattr->field)`, whatever `size` the caller passed).
    pub(crate) fn put_attr_u32(&self, offset: usize, v: u32) -> Result<()> {
        self.user().write_u32(user::offset(self.uattr, offset)?, v)
    }
}

fn bpf(host: &Arc<dyn BpfHost>, cmd: u32, uattr: u64, size: u32) -> Result<u32> {
    let cmd = Cmd::try_from(cmd).ok();
    // Linux 6.1 with unprivileged_bpf_disabled = 2 (its default): object creation needs
    // bpf_capable(), checked before the attributes are even read.
    if matches!(cmd, Some(Cmd::MapCreate | Cmd::ProgLoad)) && !bpf_capable(&**host) {
        return err(Errno::EPERM, "creating maps and programs needs CAP_BPF or CAP_SYS_ADMIN");
    }
    let size = usize::try_from(size).map_err(|_| Errno::E2BIG)?;
    let user = User::new(&**host);
    let attr = BpfAttr::copy_in(&mut user.source(uattr), size, host.page_size())?;
    let Some(cmd) = cmd else {
        return err(Errno::EINVAL, "unknown bpf command");
    };
    attr.check_unused(cmd)?;
    let sys = Sys { host, uattr };
    match cmd {
        Cmd::MapCreate => map_create::map_create(&sys, &attr.part()),
        Cmd::MapLookupElem => map::map_lookup_elem(&sys, &attr.part()),
        Cmd::MapUpdateElem => map::map_update_elem(&sys, &attr.part()),
        Cmd::MapDeleteElem => map::map_delete_elem(&sys, &attr.part()),
        Cmd::MapGetNextKey => map::map_get_next_key(&sys, &attr.part()),
        Cmd::MapLookupAndDeleteElem => map::map_lookup_and_delete_elem(&sys, &attr.part()),
        Cmd::MapFreeze => map::map_freeze(&sys, &attr.part()),
        Cmd::MapLookupBatch => batch::map_lookup_batch(&sys, &attr.part(), false),
        Cmd::MapLookupAndDeleteBatch => batch::map_lookup_batch(&sys, &attr.part(), true),
        Cmd::MapUpdateBatch => batch::map_update_batch(&sys, &attr.part()),
        Cmd::MapDeleteBatch => batch::map_delete_batch(&sys, &attr.part()),
        Cmd::ProgLoad => prog::prog_load(&sys, &attr.part()),
        Cmd::ProgTestRun => prog::test_run::prog_test_run(&sys, &attr.part()),
        Cmd::ObjPin => obj::obj_pin(&sys, &attr.part()),
        Cmd::ObjGet => obj::obj_get(&sys, &attr.part()),
        Cmd::ProgGetNextId => id::get_next_id(&sys, &attr.part(), ObjKind::Prog),
        Cmd::MapGetNextId => id::get_next_id(&sys, &attr.part(), ObjKind::Map),
        Cmd::LinkGetNextId => id::get_next_id(&sys, &attr.part(), ObjKind::Link),
        Cmd::BtfGetNextId => id::get_next_id(&sys, &attr.part(), ObjKind::Btf),
        Cmd::ProgGetFdById => id::prog_get_fd_by_id(&sys, &attr.part()),
        Cmd::MapGetFdById => id::map_get_fd_by_id(&sys, &attr.part()),
        Cmd::LinkGetFdById => id::link_get_fd_by_id(&sys, &attr.part()),
        Cmd::BtfGetFdById => id::btf_get_fd_by_id(&sys, &attr.part()),
        Cmd::ObjGetInfoByFd => info::obj_get_info_by_fd(&sys, &attr.part()),
        Cmd::ProgBindMap => bind_map::prog_bind_map(&sys, &attr.part()),
        Cmd::BtfLoad => btf::btf_load(&sys, &attr.part()),
        Cmd::LinkCreate => link::link_create(&sys, &attr.part(), &attr.part()),
        Cmd::LinkUpdate => link::link_update(&sys, &attr.part()),
        Cmd::LinkDetach => link::link_detach(&sys, &attr.part()),
        Cmd::RawTracepointOpen => link::raw_tracepoint_open(&sys, &attr.part()),
        Cmd::EnableStats => stats::enable_stats(&sys, &attr.part()),
        Cmd::ProgAttach => attach::prog_attach(),
        Cmd::ProgDetach => attach::prog_detach(),
        Cmd::ProgQuery => attach::prog_query(),
        Cmd::TaskFdQuery => attach::task_fd_query(),
        Cmd::IterCreate => attach::iter_create(),
    }
}

/// A Linux command this subsystem does not implement yet: `ENOTSUPP`, never `EINVAL` (which
/// would tell user space the command does not exist or its attributes are wrong).
pub(crate) fn not_implemented(what: &'static str) -> Result<u32> {
    err(Errno::ENOTSUPP, what)
}
