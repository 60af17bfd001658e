//! The link commands' parts of `union bpf_attr`: create (one view per arm of its union),
//! update, detach, iterator create.
//!
//! Reference: `link_create`, `link_update`, `link_detach` and `iter_create` of
//! `union bpf_attr` in include/uapi/linux/bpf.h (Linux 6.1).
//!
//! `link_create` ends with a C union whose arm depends on the attach type. Each arm is its
//! own view over the same bytes, every view starting with the same four common fields:
//! [`LinkCreateAttr`] (`target_btf_id`), [`LinkCreateIterAttr`], [`LinkCreatePerfEventAttr`],
//! [`LinkCreateKprobeMultiAttr`] and [`LinkCreateTracingAttr`]. Take the header view first,
//! then the arm the attach type selects (`BpfAttr::part`).

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_LINK_CREATE` attributes: the common fields and the `target_btf_id` arm (cgroup,
    /// netns, XDP, BPF_PROG_TYPE_EXT targets).
    ///
    /// Reference: the `link_create` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    /// `target_fd` and `target_ifindex` are one C union.
    #[doc(alias = "BPF_LINK_CREATE")]
    pub struct LinkCreateAttr {
        /// Program fd.
        pub prog_fd: u32 => "link_create.prog_fd",
        /// Target object fd (cgroup, netns, perf event, ...) or ifindex (XDP).
        pub target_fd: u32 => "link_create.target_fd" | "link_create.target_ifindex",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "link_create.attach_type",
        /// Attach flags.
        pub flags: u32 => "link_create.flags",
        /// BTF id of the target (BPF_PROG_TYPE_EXT, or 0).
        pub target_btf_id: u32 => "link_create.target_btf_id",
    }
}

impl LinkCreateAttr {
    /// The `target_ifindex` member of the C union (same bytes as `target_fd`).
    pub const fn target_ifindex(&self) -> u32 {
        self.target_fd
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_LINK_CREATE` for `BPF_TRACE_ITER`: the iterator arm.
    ///
    /// Reference: the anonymous `iter_info` struct in `link_create` of `union bpf_attr`
    /// (include/uapi/linux/bpf.h).
    pub struct LinkCreateIterAttr {
        /// Program fd.
        pub prog_fd: u32 => "link_create.prog_fd",
        /// Target fd (unused for iterators).
        pub target_fd: u32 => "link_create.target_fd",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "link_create.attach_type",
        /// Attach flags.
        pub flags: u32 => "link_create.flags",
        /// User pointer to `union bpf_iter_link_info`.
        pub iter_info: u64 => "link_create.iter_info",
        /// Size of the user's `union bpf_iter_link_info`.
        pub iter_info_len: u32 => "link_create.iter_info_len",
        /// Implicit C padding.
        pub pad0: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_LINK_CREATE` for `BPF_PERF_EVENT`: the perf event arm.
    ///
    /// Reference: `link_create.perf_event` of `union bpf_attr` (include/uapi/linux/bpf.h).
    pub struct LinkCreatePerfEventAttr {
        /// Program fd.
        pub prog_fd: u32 => "link_create.prog_fd",
        /// Perf event fd.
        pub target_fd: u32 => "link_create.target_fd",
        /// `BPF_PERF_EVENT`.
        pub attach_type: u32 => "link_create.attach_type",
        /// Attach flags (must be zero).
        pub flags: u32 => "link_create.flags",
        /// Value returned by `bpf_get_attach_cookie()`.
        pub bpf_cookie: u64 => "link_create.perf_event.bpf_cookie",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_LINK_CREATE` for `BPF_TRACE_KPROBE_MULTI`: the kprobe-multi arm.
    ///
    /// Reference: `link_create.kprobe_multi` of `union bpf_attr` (include/uapi/linux/bpf.h).
    pub struct LinkCreateKprobeMultiAttr {
        /// Program fd.
        pub prog_fd: u32 => "link_create.prog_fd",
        /// Target fd (unused).
        pub target_fd: u32 => "link_create.target_fd",
        /// `BPF_TRACE_KPROBE_MULTI`.
        pub attach_type: u32 => "link_create.attach_type",
        /// Attach flags.
        pub flags: u32 => "link_create.flags",
        /// `BPF_F_KPROBE_MULTI_RETURN` (C member `kprobe_multi.flags`).
        #[doc(alias = "flags")]
        pub kprobe_multi_flags: u32 => "link_create.kprobe_multi.flags",
        /// Number of entries in `syms`/`addrs`/`cookies`.
        pub cnt: u32 => "link_create.kprobe_multi.cnt",
        /// User pointer to an array of symbol name pointers.
        pub syms: u64 => "link_create.kprobe_multi.syms",
        /// User pointer to an array of addresses.
        pub addrs: u64 => "link_create.kprobe_multi.addrs",
        /// User pointer to an array of cookies.
        pub cookies: u64 => "link_create.kprobe_multi.cookies",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_LINK_CREATE` for fentry/fexit/fmod_ret/LSM: the tracing arm.
    ///
    /// Reference: `link_create.tracing` of `union bpf_attr` (include/uapi/linux/bpf.h).
    pub struct LinkCreateTracingAttr {
        /// Program fd.
        pub prog_fd: u32 => "link_create.prog_fd",
        /// Target program fd (0: kernel function).
        pub target_fd: u32 => "link_create.target_fd",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "link_create.attach_type",
        /// Attach flags.
        pub flags: u32 => "link_create.flags",
        /// BTF id of the target function.
        pub target_btf_id: u32 => "link_create.tracing.target_btf_id",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// Value returned by `bpf_get_attach_cookie()`.
        pub cookie: u64 => "link_create.tracing.cookie",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_LINK_UPDATE` attributes.
    ///
    /// Reference: the `link_update` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_LINK_UPDATE")]
    pub struct LinkUpdateAttr {
        /// Link fd.
        pub link_fd: u32 => "link_update.link_fd",
        /// New program fd.
        pub new_prog_fd: u32 => "link_update.new_prog_fd",
        /// `BPF_F_REPLACE`.
        pub flags: u32 => "link_update.flags",
        /// With `BPF_F_REPLACE`: the program expected to be attached now.
        pub old_prog_fd: u32 => "link_update.old_prog_fd",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_LINK_DETACH` attributes.
    ///
    /// Reference: the `link_detach` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_LINK_DETACH")]
    pub struct LinkDetachAttr {
        /// Link fd.
        pub link_fd: u32 => "link_detach.link_fd",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_ITER_CREATE` attributes.
    ///
    /// Reference: the `iter_create` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_ITER_CREATE")]
    pub struct IterCreateAttr {
        /// Iterator link fd.
        pub link_fd: u32 => "iter_create.link_fd",
        /// Flags (none defined; must be zero).
        pub flags: u32 => "iter_create.flags",
    }
}
