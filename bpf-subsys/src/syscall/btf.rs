//! `BPF_BTF_LOAD` (Linux 6.1 `bpf_btf_load`, `btf_new_fd`, `btf_parse`).
//!
//! Order, as Linux: `CAP_BPF` (`EPERM`); `btf_size` above 16 MiB (`E2BIG`); the log
//! attributes (`btf_log_level`/`btf_log_buf`/`btf_log_size`: all zero, or all sane with the
//! program verifier's rules, else `EINVAL`); the copy of the blob (`EFAULT`); validation
//! ([`crate::btf::Btf::parse`]: Linux's errno and log text); on success a log that filled
//! its buffer is `ENOSPC`. The log is copied to `btf_log_buf` whatever the outcome (Linux
//! writes it as it goes; a fault while writing it only stops the log, as there). The new
//! object gets an id and a read-only, close-on-exec fd.

use alloc::vec::Vec;

use syscall_abi::bpf::BtfLoadAttr;
use syscall_abi::{err, Errno, Result};

use super::Sys;
use crate::btf::{Btf, BTF_MAX_SIZE};
use crate::host::bpf_capable;
use crate::object::{BpfFile, BpfObject, BtfObj, FileMode};
use crate::verifier::VerifierLog;

/// `BPF_BTF_LOAD`: returns the new BTF object's fd.
pub(super) fn btf_load(sys: &Sys<'_>, a: &BtfLoadAttr) -> Result<u32> {
    let host = sys.host();
    if !bpf_capable(host) {
        return err(Errno::EPERM, "BTF_LOAD needs CAP_BPF or CAP_SYS_ADMIN");
    }
    if a.btf_size > BTF_MAX_SIZE {
        return err(Errno::E2BIG, "BTF blob larger than BTF_MAX_SIZE");
    }
    let mut log = VerifierLog::new(a.btf_log_level, a.btf_log_buf != 0, a.btf_log_size)?;
    let size = a.btf_size as usize;
    let data = sys.user().read_vec(a.btf, size)?;
    let parsed = Btf::parse(&data, &mut log);
    if !log.user_bytes().is_empty() {
        // Linux: a fault while writing the log silently stops it.
        let _ = sys.user().write(a.btf_log_buf, log.user_bytes());
    }
    parsed?;
    if log.level() != 0 && log.is_full() {
        return err(Errno::ENOSPC, "BTF log buffer too small");
    }
    let obj = BtfObj::new(host.registry(), data, Vec::new(), false)?;
    host.install_fd(BpfFile::new(BpfObject::Btf(obj), FileMode::ReadOnly), true)
}
