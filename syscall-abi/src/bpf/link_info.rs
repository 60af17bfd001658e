//! `BPF_OBJ_GET_INFO_BY_FD` record of links: the whole record and one view per arm of its
//! union.
//!
//! Reference: `struct bpf_link_info` in include/uapi/linux/bpf.h (Linux 6.1). In 6.1 the
//! union has the arms `raw_tracepoint`, `tracing`, `cgroup`, `iter` (whose second union has
//! the arms `cgroup` and `task`), `netns` and `xdp`; every member of each is mirrored by one
//! of the views below. A view starts with the common header (`type`, `id`, `prog_id`) and the
//! 4 bytes of C padding before the 8-byte aligned union; convert between a view and the
//! whole record with [`Pod::cast`](crate::abi::Pod::cast).

crate::uapi_struct! {
    #[c = "struct bpf_link_info", whole]
    /// Link information: the common header and the union as raw words.
    ///
    /// Reference: `struct bpf_link_info` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_link_info")]
    pub struct BpfLinkInfo {
        /// `enum bpf_link_type` (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Id of the linked program.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding before the 8-byte aligned union.
        pub pad0: u32 => "",
        /// The type-specific union; read it through one of the `BpfLinkInfo*` views.
        pub info: [u64; 4] => "raw_tracepoint" | "tracing" | "cgroup" | "iter" | "netns" | "xdp" [union],
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_link_info", part]
    /// Link information of a raw tracepoint link.
    ///
    /// Reference: `bpf_link_info.raw_tracepoint` in include/uapi/linux/bpf.h.
    pub struct BpfLinkInfoRawTracepoint {
        /// `BPF_LINK_TYPE_RAW_TRACEPOINT`.
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Program id.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// User pointer receiving the tracepoint name.
        pub tp_name: u64 => "raw_tracepoint.tp_name",
        /// In: buffer size; out: name length including the NUL.
        pub tp_name_len: u32 => "raw_tracepoint.tp_name_len",
        /// Implicit C padding.
        pub pad1: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_link_info", part]
    /// Link information of a tracing (trampoline) link.
    ///
    /// Reference: `bpf_link_info.tracing` in include/uapi/linux/bpf.h.
    pub struct BpfLinkInfoTracing {
        /// `BPF_LINK_TYPE_TRACING`.
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Program id.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "tracing.attach_type",
        /// Target program id or BTF object id.
        pub target_obj_id: u32 => "tracing.target_obj_id",
        /// Target BTF type id.
        pub target_btf_id: u32 => "tracing.target_btf_id",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_link_info", part]
    /// Link information of a cgroup link.
    ///
    /// Reference: `bpf_link_info.cgroup` in include/uapi/linux/bpf.h.
    pub struct BpfLinkInfoCgroup {
        /// `BPF_LINK_TYPE_CGROUP`.
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Program id.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// cgroup id.
        pub cgroup_id: u64 => "cgroup.cgroup_id",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "cgroup.attach_type",
        /// Implicit C padding.
        pub pad1: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_link_info", part]
    /// Link information of an iterator link over cgroups (or maps, or with no target).
    ///
    /// Reference: `bpf_link_info.iter` (with its `map` and `cgroup` arms) in
    /// include/uapi/linux/bpf.h.
    pub struct BpfLinkInfoIterCgroup {
        /// `BPF_LINK_TYPE_ITER`.
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Program id.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// User pointer receiving the iterator target name.
        pub target_name: u64 => "iter.target_name",
        /// In: buffer size; out: name length including the NUL.
        pub target_name_len: u32 => "iter.target_name_len",
        /// Map iterators: the map id.
        pub map_id: u32 => "iter.map.map_id",
        /// cgroup iterators: the cgroup id.
        pub cgroup_id: u64 => "iter.cgroup.cgroup_id",
        /// cgroup iterators: `enum bpf_cgroup_iter_order`.
        pub order: u32 => "iter.cgroup.order",
        /// Implicit C padding.
        pub pad1: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_link_info", part]
    /// Link information of a task iterator link.
    ///
    /// Reference: `bpf_link_info.iter` (with its `task` arm) in include/uapi/linux/bpf.h.
    pub struct BpfLinkInfoIterTask {
        /// `BPF_LINK_TYPE_ITER`.
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Program id.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// User pointer receiving the iterator target name.
        pub target_name: u64 => "iter.target_name",
        /// In: buffer size; out: name length including the NUL.
        pub target_name_len: u32 => "iter.target_name_len",
        /// Map iterators: the map id (0 here).
        pub map_id: u32 => "iter.map.map_id",
        /// Restricting thread id.
        pub tid: u32 => "iter.task.tid",
        /// Restricting process id.
        pub pid: u32 => "iter.task.pid",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_link_info", part]
    /// Link information of a network namespace link.
    ///
    /// Reference: `bpf_link_info.netns` in include/uapi/linux/bpf.h.
    pub struct BpfLinkInfoNetns {
        /// `BPF_LINK_TYPE_NETNS`.
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Program id.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// Namespace inode number.
        pub netns_ino: u32 => "netns.netns_ino",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "netns.attach_type",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_link_info", part]
    /// Link information of an XDP link.
    ///
    /// Reference: `bpf_link_info.xdp` in include/uapi/linux/bpf.h.
    pub struct BpfLinkInfoXdp {
        /// `BPF_LINK_TYPE_XDP`.
        pub type_: u32 => "type",
        /// Link id.
        pub id: u32 => "id",
        /// Program id.
        pub prog_id: u32 => "prog_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// Interface index.
        pub ifindex: u32 => "xdp.ifindex",
    }
}
