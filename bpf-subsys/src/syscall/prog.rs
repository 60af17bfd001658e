//! `BPF_PROG_LOAD` (Linux 6.1 `bpf_prog_load`) and `BPF_PROG_TEST_RUN` ([`test_run`]).
//!
//! `PROG_LOAD`, in Linux's order, each step with Linux's errno:
//! 1. `prog_flags` outside `BPF_F_STRICT_ALIGNMENT | ANY_ALIGNMENT | TEST_RND_HI32 |
//!    TEST_STATE_FREQ | SLEEPABLE | XDP_HAS_FRAGS` → `EINVAL`.
//! 2. `insn_cnt` 0 or above 4096 (1,000,000 with `CAP_BPF`/`CAP_SYS_ADMIN`) → `E2BIG`.
//! 3. Capabilities: anything but socket_filter/cgroup_skb needs `bpf_capable`; networking
//!    types `CAP_NET_ADMIN`/`CAP_SYS_ADMIN`; tracing types `perfmon_capable` → `EPERM`.
//! 4. `attach_prog_fd`/`attach_btf_obj_fd`, `attach_btf_id` (this kernel has no vmlinux BTF
//!    and no program types that attach to programs): a program fd → `EINVAL`, an fd that is
//!    neither a program nor BTF → `EINVAL`, a (user) BTF fd → `ENOTSUPP`, `attach_btf_id`
//!    alone → `EINVAL`.
//! 5. Instructions copied (`EFAULT`), license copied (`strncpy`, 127 bytes + NUL; `EFAULT`),
//!    GPL compatibility from [`crate::loader::license_is_gpl_compatible`].
//! 6. `prog_ifindex` (offload) → `EINVAL`; program type not supported here → `EINVAL`
//!    (supported: socket_filter, kprobe, tracepoint, perf_event, raw_tracepoint).
//! 7. `prog_name` ([`crate::object::obj_name_cpy`]) → `EINVAL`.
//! 8. `bpf_check`: log attributes (`EINVAL`), `BPF_F_SLEEPABLE` outside kprobe (`EINVAL`,
//!    logged), the verifier with map references resolved at Linux's point
//!    ([`crate::loader::LoadOps`]: `EBADF`/`EINVAL` for bad fds, `EPROTO` for
//!    `BPF_PSEUDO_MAP_IDX*` without `fd_array`, `E2BIG` past 64 maps), then `func_info` /
//!    `line_info` (checked after the verifier here: it needs the subprogram layout; Linux
//!    checks them just after its subprogram pass), the log copied to `log_buf` whatever the
//!    result (`ENOSPC` when it filled up, `EFAULT` if the copy faults).
//! 9. Relocation, the program object (tag, xlated instructions, used maps, load time, uid),
//!    and an fd (close-on-exec).
//!
//! `expected_attach_type` is stored as given: Linux 6.1 checks it only for the
//! cgroup/socket/tracing-BTF types, none of which load here. `kern_version` is ignored as
//! Linux ≥ 5.0 does. `prog_btf_fd` is looked at only with func/line info, as Linux; BTF type
//! ids in `func_info` are not checked against it (no BTF parser yet).

mod btf_info;
pub(crate) mod test_run;

#[cfg(test)]
mod tests;

use alloc::vec::Vec;

use syscall_abi::bpf::{
    ProgLoadAttr, ProgType, BPF_F_ANY_ALIGNMENT, BPF_F_SLEEPABLE, BPF_F_STRICT_ALIGNMENT, BPF_F_TEST_RND_HI32,
    BPF_F_TEST_STATE_FREQ, BPF_F_XDP_HAS_FRAGS,
};
use syscall_abi::{err, Errno, Result};

use super::user::{bytes_of, zeroed};
use super::Sys;
use crate::helpers::helper_ops;
use crate::host::{bpf_capable, perfmon_capable, BpfHost, Capability};
use crate::loader::{calc_tag, license_is_gpl_compatible, LoadOps};
use crate::object::{btf_from_fd, obj_name_cpy, prog_from_fd, BpfFile, BpfObject, FileMode, ProgObj, ProgSpec};
use crate::verifier::{check_insn_cnt, verify, VerifierInput, VerifierLog};
use crate::vm::insn::RawInsn;

/// The `prog_flags` Linux 6.1 accepts.
const PROG_FLAGS: u32 = BPF_F_STRICT_ALIGNMENT
    | BPF_F_ANY_ALIGNMENT
    | BPF_F_TEST_RND_HI32
    | BPF_F_TEST_STATE_FREQ
    | BPF_F_SLEEPABLE
    | BPF_F_XDP_HAS_FRAGS;

/// Size of the kernel's license buffer (`char license[128]`).
const LICENSE_LEN: usize = 128;

/// Linux `is_net_admin_prog_type` (6.1).
fn is_net_admin_prog_type(t: u32) -> bool {
    use ProgType::*;
    matches!(
        ProgType::try_from(t),
        Ok(SchedCls
            | SchedAct
            | Xdp
            | LwtIn
            | LwtOut
            | LwtXmit
            | LwtSeg6local
            | SkSkb
            | SkMsg
            | LircMode2
            | FlowDissector
            | CgroupDevice
            | CgroupSock
            | CgroupSockAddr
            | CgroupSockopt
            | CgroupSysctl
            | SockOps
            | Ext)
    )
}

/// Linux `is_perfmon_prog_type` (6.1).
fn is_perfmon_prog_type(t: u32) -> bool {
    use ProgType::*;
    matches!(
        ProgType::try_from(t),
        Ok(Kprobe | Tracepoint | PerfEvent | RawTracepoint | RawTracepointWritable | Tracing | Lsm | StructOps | Ext)
    )
}

/// The program types this subsystem loads (Linux's `find_prog_type` for a kernel built
/// with only these).
fn supported(t: u32) -> Option<ProgType> {
    use ProgType::*;
    match ProgType::try_from(t) {
        Ok(ty @ (SocketFilter | Kprobe | Tracepoint | PerfEvent | RawTracepoint)) => Some(ty),
        _ => None,
    }
}

/// Linux's capability checks of `bpf_prog_load`.
fn check_caps(host: &dyn BpfHost, t: u32) -> Result<()> {
    let socket_filter = u32::from(ProgType::SocketFilter);
    let cgroup_skb = u32::from(ProgType::CgroupSkb);
    if t != socket_filter && t != cgroup_skb && !bpf_capable(host) {
        return err(Errno::EPERM, "program type needs CAP_BPF");
    }
    if is_net_admin_prog_type(t) && !host.capable(Capability::NetAdmin) && !host.capable(Capability::SysAdmin) {
        return err(Errno::EPERM, "program type needs CAP_NET_ADMIN");
    }
    if is_perfmon_prog_type(t) && !perfmon_capable(host) {
        return err(Errno::EPERM, "program type needs CAP_PERFMON");
    }
    Ok(())
}

/// `attach_prog_fd` / `attach_btf_obj_fd` / `attach_btf_id` for the types loaded here
/// (`bpf_prog_load` and `bpf_prog_load_check_attach`).
fn check_attach_target(host: &dyn BpfHost, a: &ProgLoadAttr) -> Result<()> {
    if a.attach_prog_fd != 0 {
        if prog_from_fd(host, a.attach_prog_fd).is_ok() {
            return err(Errno::EINVAL, "attach_prog_fd is only for tracing and extension programs");
        }
        let btf = btf_from_fd(host, a.attach_btf_obj_fd()).map_err(|_| Errno::EINVAL)?;
        if !btf.kernel_btf() {
            return err(Errno::ENOTSUPP, "attach_btf_obj_fd is not a kernel BTF");
        }
        return err(Errno::EINVAL, "attach BTF given for a program type that does not attach by BTF");
    }
    if a.attach_btf_id != 0 {
        return err(Errno::EINVAL, "attach_btf_id needs vmlinux BTF, which this kernel does not have");
    }
    Ok(())
}

/// The instructions from user memory.
fn copy_insns(sys: &Sys<'_>, a: &ProgLoadAttr) -> Result<Vec<RawInsn>> {
    let n = a.insn_cnt as usize;
    let bytes = sys.user().read_vec(a.insns, bytes_of(n, 8)?)?;
    let mut insns = Vec::new();
    insns.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    for chunk in bytes.chunks_exact(8) {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(chunk);
        insns.push(raw);
    }
    Ok(insns)
}

/// The license string (Linux: `strncpy_from_user` of 127 bytes, then a NUL at 127).
fn copy_license(sys: &Sys<'_>, addr: u64) -> Result<Vec<u8>> {
    let mut buf = zeroed(LICENSE_LEN - 1)?;
    let len = sys.host().strncpy_from_user(&mut buf, addr)?;
    buf.truncate(len);
    Ok(buf)
}

/// `BPF_PROG_LOAD`: the new program's fd.
pub(super) fn prog_load(sys: &Sys<'_>, a: &ProgLoadAttr) -> Result<u32> {
    let host = sys.host();
    if a.prog_flags & !PROG_FLAGS != 0 {
        return err(Errno::EINVAL, "unknown prog_flags");
    }
    let privileged = bpf_capable(host);
    check_insn_cnt(a.insn_cnt as usize, privileged)?;
    check_caps(host, a.prog_type)?;
    check_attach_target(host, a)?;

    let insns = copy_insns(sys, a)?;
    let license = copy_license(sys, a.license)?;
    let gpl_compatible = license_is_gpl_compatible(&license);
    if a.prog_ifindex != 0 {
        return err(Errno::EINVAL, "device offload is not supported");
    }
    let Some(prog_type) = supported(a.prog_type) else {
        return err(Errno::EINVAL, "program type not supported");
    };
    let load_time = host.boot_ns();
    let name = obj_name_cpy(&a.prog_name)?;

    // bpf_check.
    let mut log = VerifierLog::new(a.log_level, a.log_buf != 0, a.log_size)?;
    let sleepable = a.prog_flags & BPF_F_SLEEPABLE != 0;
    let checked = check(sys, a, &insns, prog_type, gpl_compatible, sleepable, &mut log);
    // Linux: a fault while writing the log makes the load EFAULT, whatever the verdict.
    sys.user().write(a.log_buf, log.user_bytes())?;
    let (ops, verified, btf_info) = checked?;

    let tag = calc_tag(&insns);
    let relocated = ops.relocate(&insns, &verified)?;
    let xlated = ops.xlated(&insns)?;
    let spec = ProgSpec {
        prog_type,
        expected_attach_type: a.expected_attach_type,
        name,
        tag,
        insns: relocated,
        xlated,
        used_maps: ops.into_used_maps(),
        btf: btf_info.btf,
        func_info: btf_info.func_info,
        line_info: btf_info.line_info,
        gpl_compatible,
        load_time,
        created_by_uid: host.current_uid_gid().0,
        verified_insns: verified.insns_processed,
        max_ctx_offset: verified.max_ctx_offset,
    };
    // bpf_check_tail_call: a prog_array the program uses gets the program's type as owner,
    // or must have it already.
    let is_prog_array = |t| t == syscall_abi::bpf::MapType::ProgArray;
    if spec.used_maps.iter().any(|m| is_prog_array(m.map().def().map_type) && !m.prog_compatible(prog_type)) {
        return err(Errno::EINVAL, "a prog_array used by the program belongs to another program type");
    }
    let prog = ProgObj::new(host.registry(), spec)?;
    host.install_fd(BpfFile::new(BpfObject::Prog(prog), FileMode::ReadWrite), true)
}

/// What `bpf_check` produces.
type Checked<'a> = (LoadOps<'a>, crate::verifier::VerifiedProgram, btf_info::BtfInfo);

/// Linux `bpf_check` from after the log setup: sleepable check, verifier, BTF info.
fn check<'a>(
    sys: &'a Sys<'_>,
    a: &ProgLoadAttr,
    insns: &[RawInsn],
    prog_type: ProgType,
    gpl_compatible: bool,
    sleepable: bool,
    log: &mut VerifierLog,
) -> Result<Checked<'a>> {
    let host = sys.host();
    if sleepable && prog_type != ProgType::Kprobe {
        log.write_str("Only fentry/fexit/fmod_ret, lsm, and kprobe/uprobe programs can be sleepable\n");
        return err(Errno::EINVAL, "program type cannot be sleepable");
    }
    let privileged = bpf_capable(host) && perfmon_capable(host);
    let input = VerifierInput {
        insns,
        prog_type,
        gpl_compatible,
        privileged,
        has_func_info: a.func_info_cnt != 0,
        isa_v4: true,
    };
    let mut ops = LoadOps::new(helper_ops(prog_type, privileged, gpl_compatible), host, a.fd_array, sleepable);
    let verified = verify(&input, &mut ops, log)?;
    let info = btf_info::check_btf_info(sys, a, insns, &verified, log)?;
    Ok((ops, verified, info))
}
