//! Program types and program load flags.
//!
//! Reference: `enum bpf_prog_type`, the `BPF_F_*` flags for `BPF_PROG_LOAD` and
//! `BPF_TAG_SIZE` in include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_enum! {
    /// `enum bpf_prog_type`: what a program attaches to and which context it gets.
    pub enum ProgType: u32 {
        /// Reserved.
        Unspec = BPF_PROG_TYPE_UNSPEC = 0,
        /// Socket filter (`SO_ATTACH_BPF`).
        SocketFilter = BPF_PROG_TYPE_SOCKET_FILTER = 1,
        /// kprobe/uprobe (context: `pt_regs`).
        Kprobe = BPF_PROG_TYPE_KPROBE = 2,
        /// tc classifier.
        SchedCls = BPF_PROG_TYPE_SCHED_CLS = 3,
        /// tc action.
        SchedAct = BPF_PROG_TYPE_SCHED_ACT = 4,
        /// Tracepoint (context: the tracepoint's record).
        Tracepoint = BPF_PROG_TYPE_TRACEPOINT = 5,
        /// XDP.
        Xdp = BPF_PROG_TYPE_XDP = 6,
        /// perf event (context: `bpf_perf_event_data`).
        PerfEvent = BPF_PROG_TYPE_PERF_EVENT = 7,
        /// cgroup skb.
        CgroupSkb = BPF_PROG_TYPE_CGROUP_SKB = 8,
        /// cgroup socket.
        CgroupSock = BPF_PROG_TYPE_CGROUP_SOCK = 9,
        /// Lightweight tunnel input.
        LwtIn = BPF_PROG_TYPE_LWT_IN = 10,
        /// Lightweight tunnel output.
        LwtOut = BPF_PROG_TYPE_LWT_OUT = 11,
        /// Lightweight tunnel transmit.
        LwtXmit = BPF_PROG_TYPE_LWT_XMIT = 12,
        /// Socket operations.
        SockOps = BPF_PROG_TYPE_SOCK_OPS = 13,
        /// sockmap skb parser/verdict.
        SkSkb = BPF_PROG_TYPE_SK_SKB = 14,
        /// cgroup device access.
        CgroupDevice = BPF_PROG_TYPE_CGROUP_DEVICE = 15,
        /// sockmap message verdict.
        SkMsg = BPF_PROG_TYPE_SK_MSG = 16,
        /// Raw tracepoint (context: the tracepoint's arguments as `u64`s).
        RawTracepoint = BPF_PROG_TYPE_RAW_TRACEPOINT = 17,
        /// cgroup socket address hooks.
        CgroupSockAddr = BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18,
        /// seg6local lightweight tunnel.
        LwtSeg6local = BPF_PROG_TYPE_LWT_SEG6LOCAL = 19,
        /// IR remote control decoder.
        LircMode2 = BPF_PROG_TYPE_LIRC_MODE2 = 20,
        /// SO_REUSEPORT socket selection.
        SkReuseport = BPF_PROG_TYPE_SK_REUSEPORT = 21,
        /// Flow dissector.
        FlowDissector = BPF_PROG_TYPE_FLOW_DISSECTOR = 22,
        /// cgroup sysctl access.
        CgroupSysctl = BPF_PROG_TYPE_CGROUP_SYSCTL = 23,
        /// Raw tracepoint that may write its arguments.
        RawTracepointWritable = BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24,
        /// cgroup get/setsockopt.
        CgroupSockopt = BPF_PROG_TYPE_CGROUP_SOCKOPT = 25,
        /// BTF-typed tracing (fentry/fexit/fmod_ret/iterators/BTF raw tracepoints).
        Tracing = BPF_PROG_TYPE_TRACING = 26,
        /// Implementation of a kernel struct of function pointers.
        StructOps = BPF_PROG_TYPE_STRUCT_OPS = 27,
        /// Replacement of a global function of another program.
        Ext = BPF_PROG_TYPE_EXT = 28,
        /// LSM hook.
        Lsm = BPF_PROG_TYPE_LSM = 29,
        /// Socket lookup.
        SkLookup = BPF_PROG_TYPE_SK_LOOKUP = 30,
        /// Program that may call `bpf()` itself (light skeletons).
        Syscall = BPF_PROG_TYPE_SYSCALL = 31,
    }
}

crate::uapi_consts! { PROG_LOAD_FLAGS: u32;
    /// Verify with strict alignment even where the CPU does not need it.
    BPF_F_STRICT_ALIGNMENT = 1 << 0,
    /// Do not check alignment at all (testing only).
    BPF_F_ANY_ALIGNMENT = 1 << 1,
    /// Randomise the upper 32 bits of 32-bit results (verifier testing).
    BPF_F_TEST_RND_HI32 = 1 << 2,
    /// Verifier testing: record states more often.
    BPF_F_TEST_STATE_FREQ = 1 << 3,
    /// The program may sleep (tracing, LSM, struct_ops, iterators).
    BPF_F_SLEEPABLE = 1 << 4,
    /// XDP program understands multi-buffer frames.
    BPF_F_XDP_HAS_FRAGS = 1 << 5,
}

crate::uapi_consts! { PROG_TAG: usize;
    /// Size of a program tag (truncated SHA-1 of the instructions).
    BPF_TAG_SIZE = 8,
}
