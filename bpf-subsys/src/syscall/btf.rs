//! `BPF_BTF_LOAD` (Linux 6.1 `bpf_btf_load`). Not implemented yet: after the capability check
//! it answers `ENOTSUPP`, which loaders such as libbpf and aya take as "no kernel BTF support"
//! and retry without BTF. The object it will create is [`crate::object::BtfObj`].

use syscall_abi::bpf::BtfLoadAttr;
use syscall_abi::{err, Errno, Result};

use super::{not_implemented, Sys};
use crate::host::bpf_capable;

/// `BPF_BTF_LOAD`: `EPERM` without `CAP_BPF`/`CAP_SYS_ADMIN`, then not implemented.
pub(super) fn btf_load(sys: &Sys<'_>, _attr: &BtfLoadAttr) -> Result<u32> {
    if !bpf_capable(sys.host()) {
        return err(Errno::EPERM, "BTF_LOAD needs CAP_BPF or CAP_SYS_ADMIN");
    }
    not_implemented("BPF_BTF_LOAD: not implemented yet")
}
