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
use super::state::MapInfo;
use super::PseudoLoad;

/// What a helper returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperRet {
    /// A scalar in `R0` (`RET_INTEGER`).
    Value,
    /// Nothing: `R0` is unreadable after the call (`RET_VOID`, e.g. `bpf_tail_call`,
    /// `bpf_ringbuf_submit`).
    Void,
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL`: a value of the map in the first argument, or null.
    MapValueOrNull,
    /// `RET_PTR_TO_ALLOC_MEM_OR_NULL`: ring buffer memory of the size in the second
    /// argument, or null; a reference to release (submit or discard).
    AllocMemOrNull,
}

/// What a helper argument must be (Linux `enum bpf_arg_type`, the ones used here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `ARG_DONTCARE`: not an argument.
    No,
    /// `ARG_ANYTHING`: any written register.
    Anything,
    /// `ARG_CONST_MAP_PTR`.
    MapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: `key_size` readable bytes.
    MapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: `value_size` readable bytes.
    MapValue,
    /// `ARG_PTR_TO_MAP_VALUE | MEM_UNINIT`: `value_size` writable bytes.
    UninitMapValue,
    /// `ARG_PTR_TO_CTX`.
    Ctx,
    /// `ARG_PTR_TO_MEM | MEM_RDONLY`: readable memory, its size in the next argument.
    Mem,
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL` (or read-only): memory or null, sized by the next
    /// argument.
    MemOrNull,
    /// `ARG_PTR_TO_UNINIT_MEM`: memory the helper writes, sized by the next argument.
    UninitMem,
    /// `ARG_CONST_SIZE`: a bounded size, not zero.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`.
    ConstSizeOrZero,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`: a constant size of memory to allocate.
    AllocSize,
    /// `ARG_PTR_TO_ALLOC_MEM | OBJ_RELEASE`: ring buffer memory, released by the call.
    AllocMem,
    /// `ARG_PTR_TO_FUNC`: a callback.
    Func,
    /// `ARG_PTR_TO_STACK_OR_NULL`.
    StackOrNull,
    /// `ARG_PTR_TO_CONST_STR`: a string in read-only memory.
    ConstStr,
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
    /// What each of `R1`..`R5` must be.
    pub args: [Arg; 5],
}

/// What the verifier asks of the rest of the subsystem (Linux `struct bpf_verifier_ops` and
/// the map/BTF lookups of `resolve_pseudo_ldimm64`).
pub trait VerifierOps {
    /// The prototype of helper `id` if this program may call it (`get_func_proto`);
    /// `None` rejects the call with "unknown func".
    fn helper_proto(&self, id: u32) -> Option<HelperProto>;

    /// The attributes of the map an `ld_imm64` map reference (already resolved by
    /// [`VerifierOps::resolve_pseudo_load`]) names, for the checks of map values, keys and
    /// map-typed helper arguments. The default knows none: those sizes are then left to the
    /// engine's run-time checks.
    fn map_info(&self, load: &PseudoLoad) -> Option<MapInfo> {
        let _ = load;
        None
    }

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

const fn p(id: HelperId, gpl_only: bool, args: [Arg; 5], ret: HelperRet, set: Set) -> (HelperProto, Set) {
    let mut nargs = 0;
    while nargs < 5 && !matches!(args[nargs], Arg::No) {
        nargs += 1;
    }
    (HelperProto { id: id as u32, gpl_only, nargs: nargs as u8, ret, args }, set)
}

use Arg::{
    AllocMem, AllocSize, Anything as Any, ConstSize, ConstSizeOrZero as SizeOr0, ConstStr, Ctx, Func, MapKey, MapPtr,
    MapValue, Mem, MemOrNull, No, StackOrNull, UninitMapValue, UninitMem,
};
use HelperRet::{AllocMemOrNull, MapValueOrNull, Value as V, Void};
use Set::*;

/// The table: prototype and where Linux 6.1 offers it (argument types from the `*_proto`
/// structs of `kernel/bpf/helpers.c`, `kernel/trace/bpf_trace.c`, `kernel/bpf/ringbuf.c`,
/// `kernel/bpf/stackmap.c`, `kernel/bpf/core.c`).
const TABLE: &[(HelperProto, Set)] = &[
    p(HelperId::MapLookupElem, false, [MapPtr, MapKey, No, No, No], MapValueOrNull, Base),
    p(HelperId::MapUpdateElem, false, [MapPtr, MapKey, MapValue, Any, No], V, Base),
    p(HelperId::MapDeleteElem, false, [MapPtr, MapKey, No, No, No], V, Base),
    p(HelperId::MapPushElem, false, [MapPtr, MapValue, Any, No, No], V, Base),
    p(HelperId::MapPopElem, false, [MapPtr, UninitMapValue, No, No, No], V, Base),
    p(HelperId::MapPeekElem, false, [MapPtr, UninitMapValue, No, No, No], V, Base),
    p(HelperId::GetPrandomU32, false, [No; 5], V, Base),
    p(HelperId::GetSmpProcessorId, false, [No; 5], V, Base),
    p(HelperId::GetNumaNodeId, false, [No; 5], V, Base),
    p(HelperId::TailCall, false, [Ctx, MapPtr, Any, No, No], Void, Base),
    p(HelperId::KtimeGetNs, false, [No; 5], V, Base),
    p(HelperId::KtimeGetBootNs, false, [No; 5], V, Base),
    p(HelperId::RingbufOutput, false, [MapPtr, Mem, SizeOr0, Any, No], V, Base),
    p(HelperId::RingbufReserve, false, [MapPtr, AllocSize, Any, No, No], AllocMemOrNull, Base),
    p(HelperId::RingbufSubmit, false, [AllocMem, Any, No, No, No], Void, Base),
    p(HelperId::RingbufDiscard, false, [AllocMem, Any, No, No, No], Void, Base),
    p(HelperId::RingbufQuery, false, [MapPtr, Any, No, No, No], V, Base),
    p(HelperId::Strncmp, false, [Mem, ConstSize, ConstStr, No, No], V, Base),
    p(HelperId::Jiffies64, false, [No; 5], V, TracingOrPrivileged),
    p(HelperId::Loop, false, [Any, Func, StackOrNull, Any, No], V, TracingOrPrivileged),
    p(HelperId::ForEachMapElem, false, [MapPtr, Func, StackOrNull, Any, No], V, TracingOrPrivileged),
    p(HelperId::TracePrintk, true, [Mem, ConstSize, No, No, No], V, TracingOrPrivileged),
    p(HelperId::GetCurrentTask, true, [No; 5], V, TracingOrPrivileged),
    p(HelperId::ProbeReadUser, true, [UninitMem, SizeOr0, Any, No, No], V, TracingOrPrivileged),
    p(HelperId::ProbeReadKernel, true, [UninitMem, SizeOr0, Any, No, No], V, TracingOrPrivileged),
    p(HelperId::ProbeReadUserStr, true, [UninitMem, SizeOr0, Any, No, No], V, TracingOrPrivileged),
    p(HelperId::ProbeReadKernelStr, true, [UninitMem, SizeOr0, Any, No, No], V, TracingOrPrivileged),
    p(HelperId::Snprintf, true, [MemOrNull, SizeOr0, ConstStr, MemOrNull, SizeOr0], V, TracingOrPrivileged),
    p(HelperId::ProbeRead, true, [UninitMem, SizeOr0, Any, No, No], V, Tracing),
    p(HelperId::ProbeReadStr, true, [UninitMem, SizeOr0, Any, No, No], V, Tracing),
    p(HelperId::GetCurrentPidTgid, false, [No; 5], V, Tracing),
    p(HelperId::GetCurrentUidGid, false, [No; 5], V, Tracing),
    p(HelperId::GetCurrentComm, false, [UninitMem, ConstSize, No, No, No], V, Tracing),
    p(HelperId::SendSignal, false, [Any, No, No, No, No], V, Tracing),
    p(HelperId::KtimeGetCoarseNs, false, [No; 5], V, SocketFilter),
    p(HelperId::PerfEventOutput, true, [Ctx, MapPtr, Any, Mem, SizeOr0], V, Event),
    p(HelperId::GetStackid, true, [Ctx, MapPtr, Any, No, No], V, Event),
    p(HelperId::GetAttachCookie, false, [Ctx, No, No, No, No], V, Cookie),
    p(HelperId::GetFuncIp, true, [Ctx, No, No, No, No], V, Kprobe),
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
