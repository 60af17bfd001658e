//! Helper prototypes as the verifier sees them (Linux `struct bpf_func_proto`, reduced to what
//! a first pass checks), the [`VerifierOps`] trait through which it finds them (Linux
//! `bpf_verifier_ops::get_func_proto`), and a default table for the tracing program types.
//!
//! Reference: Linux 6.1 `kernel/trace/bpf_trace.c` (`bpf_tracing_func_proto`,
//! `kprobe_prog_func_proto`, `tp_prog_func_proto`, `pe_prog_func_proto`,
//! `raw_tp_prog_func_proto` and the `*_proto` structs' `gpl_only`), `kernel/bpf/helpers.c`
//! (`bpf_base_func_proto`), `net/core/filter.c` (`sk_filter_func_proto`,
//! `bpf_sk_base_func_proto`), `kernel/bpf/disasm.c` (`func_id_name`).

use core::fmt;

use syscall_abi::bpf::{HelperId, ProgType, __BPF_FUNC_MAX_ID};
use syscall_abi::Errno;

use super::log::VerifierLog;
use super::PseudoLoad;

/// What a helper returns, as far as register initialisation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperRet {
    /// A value in `R0` (`RET_INTEGER` and every pointer return type).
    Value,
    /// Nothing: `R0` is unreadable after the call (`RET_VOID`, e.g. `bpf_tail_call`,
    /// `bpf_ringbuf_submit`).
    Void,
}

/// One helper as the verifier checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelperProto {
    /// `enum bpf_func_id`.
    pub id: u32,
    /// Callable only from programs with a GPL-compatible license (`gpl_only`).
    pub gpl_only: bool,
    /// Arguments it reads: `R1`..`R<nargs>` must be initialised (the others are
    /// `ARG_DONTCARE`).
    pub nargs: u8,
    /// What it leaves in `R0`.
    pub ret: HelperRet,
}

/// What the verifier asks of the rest of the subsystem (Linux `struct bpf_verifier_ops` and
/// the map/BTF lookups of `resolve_pseudo_ldimm64`).
pub trait VerifierOps {
    /// The prototype of helper `id` if this program may call it (`get_func_proto`);
    /// `None` rejects the call with "unknown func".
    fn helper_proto(&self, id: u32) -> Option<HelperProto>;

    /// Called for each `ld_imm64` with a pseudo source, in program order, at the point
    /// where Linux resolves them (after the subprogram checks, before the control-flow
    /// checks), so that a bad map fd is reported first as on Linux. An implementation
    /// that resolves fds here writes Linux's message to `log` (e.g. "fd %d is not pointing
    /// to valid bpf_map") and returns the errno. The default accepts map references
    /// (the loader relocates them after verification) and rejects `BPF_PSEUDO_BTF_ID`,
    /// as a Linux without kernel BTF does.
    fn resolve_pseudo_load(&mut self, load: &PseudoLoad, log: &mut VerifierLog) -> Result<(), Errno> {
        if load.kind == super::PseudoKind::BtfId {
            if load.aux_imm == 0 {
                log.write_str("kernel is missing BTF, make sure CONFIG_DEBUG_INFO_BTF=y is specified in Kconfig.\n");
            } else {
                log.write_str("invalid module BTF object FD specified.\n");
            }
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// Linux's name of a helper id for log lines (`func_id_name`): `bpf_map_lookup_elem`, or
/// `unknown` outside `enum bpf_func_id`.
#[derive(Clone, Copy, Debug)]
pub struct FuncName(pub i64);

impl fmt::Display for FuncName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = u32::try_from(self.0).ok().and_then(|id| HelperId::try_from(id).ok());
        match known {
            Some(h) => write!(f, "bpf_{}", h.c_name().trim_start_matches("BPF_FUNC_")),
            None => f.write_str("unknown"),
        }
    }
}

/// Whether `id` is below `__BPF_FUNC_MAX_ID`.
pub fn helper_id_in_range(id: i32) -> bool {
    u32::try_from(id).is_ok_and(|id| id < __BPF_FUNC_MAX_ID)
}

/// The default [`VerifierOps`]: the helpers issue 3 implements, offered to each program
/// type as Linux 6.1 offers them, with Linux's `gpl_only` flags.
///
/// - kprobe: the tracing set plus `perf_event_output`, `get_stackid`, `get_func_ip`,
///   `get_attach_cookie`; tracepoint and perf_event: the tracing set plus
///   `perf_event_output`, `get_stackid`, `get_attach_cookie`; raw_tracepoint (and the
///   writable variant): the tracing set plus `perf_event_output`, `get_stackid`.
/// - The tracing set (`bpf_tracing_func_proto` plus what it inherits from
///   `bpf_base_func_proto`): map lookup/update/delete/push/pop/peek, `probe_read`,
///   `probe_read_str`, `probe_read_{user,kernel}{,_str}`, `ktime_get_ns`,
///   `ktime_get_boot_ns`, `trace_printk`, `get_smp_processor_id`, `get_numa_node_id`,
///   `get_current_{pid_tgid,uid_gid,comm,task}`, `tail_call`, `ringbuf_*`,
///   `get_prandom_u32`, `snprintf`, `loop`, `for_each_map_elem`, `strncmp`, `jiffies64`,
///   `send_signal`. Not `ktime_get_coarse_ns`: Linux keeps it from tracing programs (it is
///   not NMI-safe).
/// - socket_filter (`bpf_sk_base_func_proto`/`bpf_base_func_proto`): map helpers,
///   `get_prandom_u32`, `get_smp_processor_id`, `get_numa_node_id`, `tail_call`,
///   `ktime_get_ns`, `ktime_get_boot_ns`, `ktime_get_coarse_ns`, `ringbuf_*`, `strncmp`;
///   with `privileged` also `jiffies64`, `loop`, `for_each_map_elem`, `trace_printk`,
///   `get_current_task`, `probe_read_{user,kernel}{,_str}`, `snprintf`. The skb helpers
///   (`skb_load_bytes`, `get_socket_cookie`, ...) are not in the table: the subsystem does
///   not implement them.
/// - Any other program type: no helpers.
#[derive(Clone, Copy, Debug)]
pub struct TracingHelpers {
    /// The program type.
    pub prog_type: ProgType,
    /// `CAP_BPF` and `CAP_PERFMON` (gates part of the socket filter set, as in Linux).
    pub privileged: bool,
}

/// Which table a helper belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    /// All tracing types and socket filters.
    Base,
    /// All tracing types; socket filters when privileged.
    TracingOrPrivileged,
    /// Tracing types only.
    Tracing,
    /// Socket filters only.
    SocketFilter,
    /// kprobe, tracepoint, perf_event, raw_tracepoint.
    Event,
    /// kprobe, tracepoint, perf_event.
    Cookie,
    /// kprobe only.
    Kprobe,
}

const fn p(id: HelperId, gpl_only: bool, nargs: u8, ret: HelperRet, set: Set) -> (HelperProto, Set) {
    (HelperProto { id: id as u32, gpl_only, nargs, ret }, set)
}

use HelperRet::{Value as V, Void};
use Set::*;

/// The table: prototype and where Linux 6.1 offers it.
const TABLE: &[(HelperProto, Set)] = &[
    p(HelperId::MapLookupElem, false, 2, V, Base),
    p(HelperId::MapUpdateElem, false, 4, V, Base),
    p(HelperId::MapDeleteElem, false, 2, V, Base),
    p(HelperId::MapPushElem, false, 3, V, Base),
    p(HelperId::MapPopElem, false, 2, V, Base),
    p(HelperId::MapPeekElem, false, 2, V, Base),
    p(HelperId::GetPrandomU32, false, 0, V, Base),
    p(HelperId::GetSmpProcessorId, false, 0, V, Base),
    p(HelperId::GetNumaNodeId, false, 0, V, Base),
    p(HelperId::TailCall, false, 3, Void, Base),
    p(HelperId::KtimeGetNs, false, 0, V, Base),
    p(HelperId::KtimeGetBootNs, false, 0, V, Base),
    p(HelperId::RingbufOutput, false, 4, V, Base),
    p(HelperId::RingbufReserve, false, 3, V, Base),
    p(HelperId::RingbufSubmit, false, 2, Void, Base),
    p(HelperId::RingbufDiscard, false, 2, Void, Base),
    p(HelperId::RingbufQuery, false, 2, V, Base),
    p(HelperId::Strncmp, false, 3, V, Base),
    p(HelperId::Jiffies64, false, 0, V, TracingOrPrivileged),
    p(HelperId::Loop, false, 4, V, TracingOrPrivileged),
    p(HelperId::ForEachMapElem, false, 4, V, TracingOrPrivileged),
    p(HelperId::TracePrintk, true, 2, V, TracingOrPrivileged),
    p(HelperId::GetCurrentTask, true, 0, V, TracingOrPrivileged),
    p(HelperId::ProbeReadUser, true, 3, V, TracingOrPrivileged),
    p(HelperId::ProbeReadKernel, true, 3, V, TracingOrPrivileged),
    p(HelperId::ProbeReadUserStr, true, 3, V, TracingOrPrivileged),
    p(HelperId::ProbeReadKernelStr, true, 3, V, TracingOrPrivileged),
    p(HelperId::Snprintf, true, 5, V, TracingOrPrivileged),
    p(HelperId::ProbeRead, true, 3, V, Tracing),
    p(HelperId::ProbeReadStr, true, 3, V, Tracing),
    p(HelperId::GetCurrentPidTgid, false, 0, V, Tracing),
    p(HelperId::GetCurrentUidGid, false, 0, V, Tracing),
    p(HelperId::GetCurrentComm, false, 2, V, Tracing),
    p(HelperId::SendSignal, false, 1, V, Tracing),
    p(HelperId::KtimeGetCoarseNs, false, 0, V, SocketFilter),
    p(HelperId::PerfEventOutput, true, 5, V, Event),
    p(HelperId::GetStackid, true, 3, V, Event),
    p(HelperId::GetAttachCookie, false, 1, V, Cookie),
    p(HelperId::GetFuncIp, true, 1, V, Kprobe),
];

impl TracingHelpers {
    /// Whether `set` is offered to this program.
    fn offers(&self, set: Set) -> bool {
        use ProgType as T;
        let t = self.prog_type;
        let tracing =
            matches!(t, T::Kprobe | T::Tracepoint | T::PerfEvent | T::RawTracepoint | T::RawTracepointWritable);
        let socket = t == T::SocketFilter;
        match set {
            Base => tracing || socket,
            TracingOrPrivileged => tracing || (socket && self.privileged),
            Tracing | Event => tracing,
            SocketFilter => socket,
            Cookie => matches!(t, T::Kprobe | T::Tracepoint | T::PerfEvent),
            Kprobe => t == T::Kprobe,
        }
    }
}

impl VerifierOps for TracingHelpers {
    fn helper_proto(&self, id: u32) -> Option<HelperProto> {
        TABLE.iter().find(|(proto, set)| proto.id == id && self.offers(*set)).map(|(proto, _)| *proto)
    }
}
