//! The link commands (Linux 6.1 `link_create`, `link_update`, `link_detach`,
//! `bpf_raw_tracepoint_open`): programs attach to perf events and raw tracepoints through
//! [`crate::attach::TracingHost`]; each attachment is wrapped in a [`LinkObj`] whose fd user
//! space holds (closing the last holder detaches).
//!
//! As in Linux 6.1, perf event and raw tracepoint links have neither `update_prog`
//! (`BPF_LINK_UPDATE` → `EINVAL`) nor `detach` (`BPF_LINK_DETACH` → `EOPNOTSUPP`); a perf
//! event link reports only the common header in its info (its `fill_link_info` came in 6.6).
//!
//! Difference: Linux reserves the link id before attaching (`bpf_link_prime`), so a failed
//! attach still consumes an id; here the id is taken after a successful attach.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use maps::FdObject;
use syscall_abi::abi::Pod;
use syscall_abi::bpf::{
    AttachType, BpfLinkInfo, BpfLinkInfoRawTracepoint, LinkCreateAttr, LinkCreatePerfEventAttr, LinkDetachAttr,
    LinkType, LinkUpdateAttr, ProgType, RawTracepointAttr, BPF_F_REPLACE,
};
use syscall_abi::{err, Errno, Result};

use super::{not_implemented, Sys};
use crate::attach::Attachment;
use crate::host::BpfHost;
use crate::object::{link_from_fd, prog_from_fd, BpfFile, BpfObject, FdTarget, FileMode, LinkObj, LinkOps, ProgObj};

/// Longest raw tracepoint name, NUL included (Linux's `char buf[128]`).
const TP_NAME_BUF: usize = 128;

/// `BPF_LINK_CREATE`.
pub(super) fn link_create(sys: &Sys<'_>, a: &LinkCreateAttr, pe: &LinkCreatePerfEventAttr) -> Result<u32> {
    let prog = prog_from_fd(sys.host(), a.prog_fd)?;
    check_attach_type(&prog, a.attach_type)?;
    let attach = AttachType::try_from(a.attach_type).ok();
    // link_create's first switch: perf-event-capable types take only their attach types.
    match prog.prog_type() {
        ProgType::Ext => {}
        ProgType::PerfEvent | ProgType::Tracepoint if attach != Some(AttachType::PerfEvent) => {
            return err(Errno::EINVAL, "perf_event/tracepoint programs attach with BPF_PERF_EVENT");
        }
        ProgType::Kprobe if !matches!(attach, Some(AttachType::PerfEvent | AttachType::TraceKprobeMulti)) => {
            return err(Errno::EINVAL, "kprobe programs attach with BPF_PERF_EVENT or BPF_TRACE_KPROBE_MULTI");
        }
        ProgType::PerfEvent | ProgType::Tracepoint | ProgType::Kprobe => {}
        other => {
            if attach.and_then(attach_type_to_prog_type) != Some(other) {
                return err(Errno::EINVAL, "attach type does not match the program type");
            }
        }
    }
    match prog.prog_type() {
        ProgType::PerfEvent | ProgType::Tracepoint => perf_link_attach(sys, pe, prog),
        ProgType::Kprobe if attach == Some(AttachType::PerfEvent) => perf_link_attach(sys, pe, prog),
        // Linux without CONFIG_FPROBE: bpf_kprobe_multi_link_attach is EOPNOTSUPP.
        ProgType::Kprobe => err(Errno::EOPNOTSUPP, "kprobe_multi links are not supported"),
        ProgType::Tracing | ProgType::Lsm if a.attach_type != prog.expected_attach_type() => {
            err(Errno::EINVAL, "tracing programs attach with their expected_attach_type")
        }
        // The attach point of these comes from BTF ids given at load time (not kept yet).
        ProgType::Tracing | ProgType::Lsm | ProgType::Ext => {
            not_implemented("BPF_LINK_CREATE: BTF-based tracing links not implemented yet")
        }
        // cgroup, netns, XDP, ... links: attach points this subsystem does not have yet.
        ProgType::CgroupSkb
        | ProgType::CgroupSock
        | ProgType::CgroupSockAddr
        | ProgType::SockOps
        | ProgType::CgroupDevice
        | ProgType::CgroupSysctl
        | ProgType::CgroupSockopt
        | ProgType::FlowDissector
        | ProgType::SkLookup
        | ProgType::Xdp => not_implemented("BPF_LINK_CREATE: this attach point is not implemented yet"),
        _ => err(Errno::EINVAL, "program type cannot be linked"),
    }
}

/// Linux 6.1 `bpf_prog_attach_check_attach_type`.
fn check_attach_type(prog: &ProgObj, attach_type: u32) -> Result<()> {
    let expected = prog.expected_attach_type();
    match prog.prog_type() {
        ProgType::CgroupSock | ProgType::CgroupSockAddr | ProgType::CgroupSockopt | ProgType::SkLookup
            if attach_type != expected =>
        {
            err(Errno::EINVAL, "attach type differs from the program's expected_attach_type")
        }
        ProgType::Kprobe
            if expected == u32::from(AttachType::TraceKprobeMulti)
                && attach_type != u32::from(AttachType::TraceKprobeMulti) =>
        {
            err(Errno::EINVAL, "a kprobe_multi program attaches only with BPF_TRACE_KPROBE_MULTI")
        }
        _ => Ok(()),
    }
}

/// Linux 6.1 `attach_type_to_prog_type` (the attach types that map to one program type).
fn attach_type_to_prog_type(a: AttachType) -> Option<ProgType> {
    use AttachType as A;
    Some(match a {
        A::CgroupInetIngress | A::CgroupInetEgress => ProgType::CgroupSkb,
        A::CgroupInetSockCreate | A::CgroupInetSockRelease | A::CgroupInet4PostBind | A::CgroupInet6PostBind => {
            ProgType::CgroupSock
        }
        A::CgroupInet4Bind
        | A::CgroupInet6Bind
        | A::CgroupInet4Connect
        | A::CgroupInet6Connect
        | A::CgroupInet4Getpeername
        | A::CgroupInet6Getpeername
        | A::CgroupInet4Getsockname
        | A::CgroupInet6Getsockname
        | A::CgroupUdp4Sendmsg
        | A::CgroupUdp6Sendmsg
        | A::CgroupUdp4Recvmsg
        | A::CgroupUdp6Recvmsg => ProgType::CgroupSockAddr,
        A::CgroupSockOps => ProgType::SockOps,
        A::CgroupDevice => ProgType::CgroupDevice,
        A::SkMsgVerdict => ProgType::SkMsg,
        A::SkSkbStreamParser | A::SkSkbStreamVerdict | A::SkSkbVerdict => ProgType::SkSkb,
        A::LircMode2 => ProgType::LircMode2,
        A::FlowDissector => ProgType::FlowDissector,
        A::CgroupSysctl => ProgType::CgroupSysctl,
        A::CgroupGetsockopt | A::CgroupSetsockopt => ProgType::CgroupSockopt,
        A::TraceIter | A::TraceRawTp | A::TraceFentry | A::TraceFexit | A::ModifyReturn => ProgType::Tracing,
        A::LsmMac => ProgType::Lsm,
        A::SkLookup => ProgType::SkLookup,
        A::Xdp => ProgType::Xdp,
        A::LsmCgroup => ProgType::Lsm,
        _ => return None,
    })
}

/// Linux 6.1 `bpf_perf_link_attach`: flags must be zero, `target_fd` must be a perf event
/// (`EBADF` otherwise, `perf_event_get`), then the tracing layer attaches.
fn perf_link_attach(sys: &Sys<'_>, pe: &LinkCreatePerfEventAttr, prog: Arc<ProgObj>) -> Result<u32> {
    if pe.flags != 0 {
        return err(Errno::EINVAL, "BPF_PERF_EVENT links take no flags");
    }
    let event = match sys.host().resolve_fd(pe.target_fd)? {
        FdTarget::PerfEvent(e) => e,
        _ => return err(Errno::EBADF, "target_fd is not a perf event"),
    };
    let Some(tracing) = sys.host().tracing() else {
        return err(Errno::EBADF, "this kernel has no perf events");
    };
    let attachment = tracing.attach_perf_event(&event, prog.clone(), pe.bpf_cookie)?;
    let ops = PerfLink { _attachment: attachment, _event: event };
    install_link(sys.host(), LinkType::PerfEvent, prog, Box::new(ops))
}

/// Publishes a link and installs an fd for it.
fn install_link(host: &dyn BpfHost, ty: LinkType, prog: Arc<ProgObj>, ops: Box<dyn LinkOps>) -> Result<u32> {
    let link = LinkObj::new(host.registry(), ty, prog, ops)?;
    host.install_fd(BpfFile::new(BpfObject::Link(link), FileMode::ReadWrite), true)
}

/// A perf event link (Linux `bpf_perf_link`): holds the event (its file) and the attachment.
struct PerfLink {
    /// Declared first: detaches before the event reference goes.
    _attachment: Box<dyn Attachment>,
    _event: Arc<dyn FdObject>,
}

impl LinkOps for PerfLink {}

/// A raw tracepoint link (Linux `bpf_raw_tp_link`).
struct RawTpLink {
    _attachment: Box<dyn Attachment>,
    /// The tracepoint's name, without NUL.
    name: Vec<u8>,
}

impl LinkOps for RawTpLink {
    /// Linux `bpf_raw_tp_link_fill_link_info`: `tp_name` and `tp_name_len` both set or both
    /// zero (`EINVAL`); `tp_name_len` becomes the name's length with its NUL; a buffer too
    /// short gets a truncated NUL-terminated name and `ENOSPC` (the info is then not written).
    fn fill_info(&self, host: &dyn BpfHost, info: &mut BpfLinkInfo) -> Result<()> {
        let mut rt: BpfLinkInfoRawTracepoint = info.cast();
        let ubuf = rt.tp_name;
        let ulen = usize::try_from(rt.tp_name_len).map_err(|_| Errno::EINVAL)?;
        if (ulen == 0) != (ubuf == 0) {
            return err(Errno::EINVAL, "tp_name and tp_name_len must be given together");
        }
        let full = self.name.len() + 1;
        rt.tp_name_len = u32::try_from(full).map_err(|_| Errno::EINVAL)?;
        *info = rt.cast();
        if ubuf == 0 {
            return Ok(());
        }
        let mut bytes = self.name.clone();
        bytes.push(0);
        if ulen >= full {
            return host.copy_to_user(ubuf, &bytes);
        }
        bytes.truncate(ulen);
        if let Some(last) = bytes.last_mut() {
            *last = 0;
        }
        host.copy_to_user(ubuf, &bytes)?;
        err(Errno::ENOSPC, "tp_name buffer too short")
    }
}

/// `BPF_LINK_UPDATE` (Linux 6.1 `link_update`): flags other than `BPF_F_REPLACE` → `EINVAL`;
/// the link, the new program and (with `BPF_F_REPLACE`) the old program are resolved
/// (`EBADF`/`EINVAL`); `old_prog_fd` without the flag → `EINVAL`; then the link's
/// `update_prog` (none of this subsystem's links has one: `EINVAL`).
pub(super) fn link_update(sys: &Sys<'_>, a: &LinkUpdateAttr) -> Result<u32> {
    if a.flags & !BPF_F_REPLACE != 0 {
        return err(Errno::EINVAL, "link_update.flags other than BPF_F_REPLACE");
    }
    let link = link_from_fd(sys.host(), a.link_fd)?;
    let new_prog = prog_from_fd(sys.host(), a.new_prog_fd)?;
    let old_prog = if a.flags & BPF_F_REPLACE != 0 {
        Some(prog_from_fd(sys.host(), a.old_prog_fd)?)
    } else if a.old_prog_fd != 0 {
        return err(Errno::EINVAL, "old_prog_fd without BPF_F_REPLACE");
    } else {
        None
    };
    link.ops().update_prog(&link, new_prog, old_prog.as_ref())?;
    Ok(0)
}

/// `BPF_LINK_DETACH`: the link fd is resolved (`EBADF`/`EINVAL`), then the link detaches
/// itself ([`crate::object::LinkOps::detach`]; perf event and raw tracepoint links cannot:
/// `EOPNOTSUPP`, as in Linux 6.1).
pub(super) fn link_detach(sys: &Sys<'_>, a: &LinkDetachAttr) -> Result<u32> {
    let link = link_from_fd(sys.host(), a.link_fd)?;
    link.ops().detach()?;
    Ok(0)
}

/// `BPF_RAW_TRACEPOINT_OPEN` (Linux 6.1 `bpf_raw_tracepoint_open` → `bpf_raw_tp_link_attach`):
/// the program (`EBADF`/`EINVAL`) must be a raw tracepoint program (`EINVAL`; BTF-typed
/// tracing programs are not supported yet: `ENOTSUPP`, and `EINVAL` if they pass a name);
/// the name is copied from user memory (`EFAULT`, at most 127 bytes); an unknown tracepoint
/// is `ENOENT`. Returns a `BPF_LINK_TYPE_RAW_TRACEPOINT` link fd.
pub(super) fn raw_tracepoint_open(sys: &Sys<'_>, a: &RawTracepointAttr) -> Result<u32> {
    let prog = prog_from_fd(sys.host(), a.prog_fd)?;
    match prog.prog_type() {
        ProgType::Tracing | ProgType::Ext | ProgType::Lsm if a.name != 0 => {
            return err(Errno::EINVAL, "BTF-typed programs take their attach point from load time");
        }
        ProgType::Tracing | ProgType::Ext | ProgType::Lsm => {
            return not_implemented("BPF_RAW_TRACEPOINT_OPEN: BTF-typed programs not implemented yet");
        }
        ProgType::RawTracepoint | ProgType::RawTracepointWritable => {}
        _ => return err(Errno::EINVAL, "not a raw tracepoint program"),
    }
    let mut buf = [0u8; TP_NAME_BUF];
    let n = sys.host().strncpy_from_user(&mut buf[..TP_NAME_BUF - 1], a.name)?;
    let name = buf.get(..n).ok_or(Errno::EFAULT)?.to_vec();
    let Some(tracing) = sys.host().tracing() else {
        return err(Errno::ENOENT, "this kernel has no raw tracepoints");
    };
    let attachment = tracing.raw_tracepoint_open(&name, prog.clone())?;
    let ops = RawTpLink { _attachment: attachment, name };
    install_link(sys.host(), LinkType::RawTracepoint, prog, Box::new(ops))
}
