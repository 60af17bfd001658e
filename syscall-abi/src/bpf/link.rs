//! Link types, link flags and the iterator link info.
//!
//! Reference: `enum bpf_link_type`, `BPF_F_KPROBE_MULTI_RETURN`, `enum bpf_cgroup_iter_order`
//! and `union bpf_iter_link_info` in include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_enum! {
    /// `enum bpf_link_type`: the kind of a link (in `bpf_link_info.type`).
    pub enum LinkType: u32 {
        /// Reserved.
        Unspec = BPF_LINK_TYPE_UNSPEC = 0,
        /// Raw tracepoint.
        RawTracepoint = BPF_LINK_TYPE_RAW_TRACEPOINT = 1,
        /// fentry/fexit/fmod_ret/LSM/ext trampoline.
        Tracing = BPF_LINK_TYPE_TRACING = 2,
        /// cgroup.
        Cgroup = BPF_LINK_TYPE_CGROUP = 3,
        /// Iterator.
        Iter = BPF_LINK_TYPE_ITER = 4,
        /// Network namespace (flow dissector, sk_lookup).
        Netns = BPF_LINK_TYPE_NETNS = 5,
        /// XDP.
        Xdp = BPF_LINK_TYPE_XDP = 6,
        /// perf event (kprobe/uprobe/tracepoint/perf event programs).
        PerfEvent = BPF_LINK_TYPE_PERF_EVENT = 7,
        /// Multi-function kprobe.
        KprobeMulti = BPF_LINK_TYPE_KPROBE_MULTI = 8,
        /// struct_ops map.
        StructOps = BPF_LINK_TYPE_STRUCT_OPS = 9,
    }
}

crate::uapi_consts! { LINK_TYPE_LIMITS: u32;
    /// Number of link types.
    MAX_BPF_LINK_TYPE = 10,
}

crate::uapi_consts! { LINK_CREATE_FLAGS: u32;
    /// `link_create.kprobe_multi.flags`: attach as return probes.
    BPF_F_KPROBE_MULTI_RETURN = 1 << 0,
}

crate::uapi_enum! {
    /// `enum bpf_cgroup_iter_order`: traversal order of a cgroup iterator.
    pub enum CgroupIterOrder: u32 {
        /// Reserved (defaults to self only).
        Unspec = BPF_CGROUP_ITER_ORDER_UNSPEC = 0,
        /// Only the given cgroup.
        SelfOnly = BPF_CGROUP_ITER_SELF_ONLY = 1,
        /// Descendants, pre-order.
        DescendantsPre = BPF_CGROUP_ITER_DESCENDANTS_PRE = 2,
        /// Descendants, post-order.
        DescendantsPost = BPF_CGROUP_ITER_DESCENDANTS_POST = 3,
        /// Ancestors, walking up.
        AncestorsUp = BPF_CGROUP_ITER_ANCESTORS_UP = 4,
    }
}

crate::uapi_struct! {
    #[c = "union bpf_iter_link_info", part]
    /// The `map` arm of `union bpf_iter_link_info`: iterate over one map.
    ///
    /// Reference: `union bpf_iter_link_info` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_iter_link_info")]
    pub struct IterLinkInfoMap {
        /// Map fd.
        pub map_fd: u32 => "map.map_fd",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_iter_link_info", whole]
    /// The `cgroup` arm of `union bpf_iter_link_info` (also its largest arm, so this view has
    /// the size and alignment of the whole union).
    ///
    /// Reference: `union bpf_iter_link_info` in include/uapi/linux/bpf.h.
    pub struct IterLinkInfoCgroup {
        /// `enum bpf_cgroup_iter_order`.
        pub order: u32 => "cgroup.order",
        /// cgroup fd (or 0 with `cgroup_id`).
        pub cgroup_fd: u32 => "cgroup.cgroup_fd",
        /// cgroup id (or 0 with `cgroup_fd`).
        pub cgroup_id: u64 => "cgroup.cgroup_id",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_iter_link_info", part]
    /// The `task` arm of `union bpf_iter_link_info`: restrict a task iterator.
    ///
    /// Reference: `union bpf_iter_link_info` in include/uapi/linux/bpf.h.
    pub struct IterLinkInfoTask {
        /// Only this thread.
        pub tid: u32 => "task.tid",
        /// Only this process.
        pub pid: u32 => "task.pid",
        /// Only the process of this pidfd.
        pub pid_fd: u32 => "task.pid_fd",
    }
}
