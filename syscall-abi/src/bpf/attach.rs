//! Attach types and the flags of `BPF_PROG_ATTACH`/`BPF_PROG_QUERY`.
//!
//! Reference: `enum bpf_attach_type`, `BPF_F_ALLOW_OVERRIDE` & co. and
//! `BPF_F_QUERY_EFFECTIVE` in include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_enum! {
    /// `enum bpf_attach_type`: where exactly a program is attached.
    pub enum AttachType: u32 {
        /// cgroup skb ingress.
        CgroupInetIngress = BPF_CGROUP_INET_INGRESS = 0,
        /// cgroup skb egress.
        CgroupInetEgress = BPF_CGROUP_INET_EGRESS = 1,
        /// cgroup socket creation.
        CgroupInetSockCreate = BPF_CGROUP_INET_SOCK_CREATE = 2,
        /// cgroup socket operations.
        CgroupSockOps = BPF_CGROUP_SOCK_OPS = 3,
        /// sockmap stream parser.
        SkSkbStreamParser = BPF_SK_SKB_STREAM_PARSER = 4,
        /// sockmap stream verdict.
        SkSkbStreamVerdict = BPF_SK_SKB_STREAM_VERDICT = 5,
        /// cgroup device access.
        CgroupDevice = BPF_CGROUP_DEVICE = 6,
        /// sockmap message verdict.
        SkMsgVerdict = BPF_SK_MSG_VERDICT = 7,
        /// IPv4 bind.
        CgroupInet4Bind = BPF_CGROUP_INET4_BIND = 8,
        /// IPv6 bind.
        CgroupInet6Bind = BPF_CGROUP_INET6_BIND = 9,
        /// IPv4 connect.
        CgroupInet4Connect = BPF_CGROUP_INET4_CONNECT = 10,
        /// IPv6 connect.
        CgroupInet6Connect = BPF_CGROUP_INET6_CONNECT = 11,
        /// After IPv4 bind.
        CgroupInet4PostBind = BPF_CGROUP_INET4_POST_BIND = 12,
        /// After IPv6 bind.
        CgroupInet6PostBind = BPF_CGROUP_INET6_POST_BIND = 13,
        /// UDPv4 sendmsg.
        CgroupUdp4Sendmsg = BPF_CGROUP_UDP4_SENDMSG = 14,
        /// UDPv6 sendmsg.
        CgroupUdp6Sendmsg = BPF_CGROUP_UDP6_SENDMSG = 15,
        /// IR decoder.
        LircMode2 = BPF_LIRC_MODE2 = 16,
        /// Flow dissector.
        FlowDissector = BPF_FLOW_DISSECTOR = 17,
        /// cgroup sysctl.
        CgroupSysctl = BPF_CGROUP_SYSCTL = 18,
        /// UDPv4 recvmsg.
        CgroupUdp4Recvmsg = BPF_CGROUP_UDP4_RECVMSG = 19,
        /// UDPv6 recvmsg.
        CgroupUdp6Recvmsg = BPF_CGROUP_UDP6_RECVMSG = 20,
        /// cgroup getsockopt.
        CgroupGetsockopt = BPF_CGROUP_GETSOCKOPT = 21,
        /// cgroup setsockopt.
        CgroupSetsockopt = BPF_CGROUP_SETSOCKOPT = 22,
        /// BTF-typed raw tracepoint.
        TraceRawTp = BPF_TRACE_RAW_TP = 23,
        /// Function entry (fentry).
        TraceFentry = BPF_TRACE_FENTRY = 24,
        /// Function exit (fexit).
        TraceFexit = BPF_TRACE_FEXIT = 25,
        /// Function return override (fmod_ret).
        ModifyReturn = BPF_MODIFY_RETURN = 26,
        /// LSM hook.
        LsmMac = BPF_LSM_MAC = 27,
        /// Iterator.
        TraceIter = BPF_TRACE_ITER = 28,
        /// IPv4 getpeername.
        CgroupInet4Getpeername = BPF_CGROUP_INET4_GETPEERNAME = 29,
        /// IPv6 getpeername.
        CgroupInet6Getpeername = BPF_CGROUP_INET6_GETPEERNAME = 30,
        /// IPv4 getsockname.
        CgroupInet4Getsockname = BPF_CGROUP_INET4_GETSOCKNAME = 31,
        /// IPv6 getsockname.
        CgroupInet6Getsockname = BPF_CGROUP_INET6_GETSOCKNAME = 32,
        /// XDP program of a devmap entry.
        XdpDevmap = BPF_XDP_DEVMAP = 33,
        /// cgroup socket release.
        CgroupInetSockRelease = BPF_CGROUP_INET_SOCK_RELEASE = 34,
        /// XDP program of a cpumap entry.
        XdpCpumap = BPF_XDP_CPUMAP = 35,
        /// Socket lookup.
        SkLookup = BPF_SK_LOOKUP = 36,
        /// XDP (links).
        Xdp = BPF_XDP = 37,
        /// sockmap skb verdict.
        SkSkbVerdict = BPF_SK_SKB_VERDICT = 38,
        /// SO_REUSEPORT select.
        SkReuseportSelect = BPF_SK_REUSEPORT_SELECT = 39,
        /// SO_REUSEPORT select or migrate.
        SkReuseportSelectOrMigrate = BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40,
        /// perf event (kprobe, uprobe, tracepoint, perf event programs via `BPF_LINK_CREATE`).
        PerfEvent = BPF_PERF_EVENT = 41,
        /// Multi-function kprobe.
        TraceKprobeMulti = BPF_TRACE_KPROBE_MULTI = 42,
        /// LSM hook scoped to a cgroup.
        LsmCgroup = BPF_LSM_CGROUP = 43,
    }
}

crate::uapi_consts! { ATTACH_TYPE_LIMITS: u32;
    /// Number of attach types (`__MAX_BPF_ATTACH_TYPE`).
    __MAX_BPF_ATTACH_TYPE = 44,
    /// Number of attach types.
    MAX_BPF_ATTACH_TYPE = 44,
}

crate::uapi_consts! { ATTACH_FLAGS: u32;
    /// cgroup: a descendant cgroup may override this program.
    BPF_F_ALLOW_OVERRIDE = 1 << 0,
    /// cgroup: several programs may be attached and all run.
    BPF_F_ALLOW_MULTI = 1 << 1,
    /// Replace the program given by `replace_bpf_fd` (attach) / `old_prog_fd` (link update).
    BPF_F_REPLACE = 1 << 2,
}

crate::uapi_consts! { QUERY_FLAGS: u32;
    /// `BPF_PROG_QUERY`: report the effective programs (including inherited ones).
    BPF_F_QUERY_EFFECTIVE = 1 << 0,
}
