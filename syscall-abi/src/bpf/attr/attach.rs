//! The attach commands' parts of `union bpf_attr`: attach/detach, query, raw tracepoint.
//!
//! Reference: the anonymous `BPF_PROG_ATTACH/DETACH` member, `query` and `raw_tracepoint` of
//! `union bpf_attr` in include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_PROG_ATTACH` and `BPF_PROG_DETACH` attributes.
    ///
    /// Reference: the anonymous `BPF_PROG_ATTACH/DETACH` member of `union bpf_attr`
    /// (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_PROG_ATTACH")]
    #[doc(alias = "BPF_PROG_DETACH")]
    pub struct ProgAttachAttr {
        /// Container object to attach to (cgroup fd, map fd, ...).
        pub target_fd: u32 => "target_fd",
        /// Program fd.
        pub attach_bpf_fd: u32 => "attach_bpf_fd",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "attach_type",
        /// `BPF_F_ALLOW_OVERRIDE`/`BPF_F_ALLOW_MULTI`/`BPF_F_REPLACE`.
        pub attach_flags: u32 => "attach_flags",
        /// With `BPF_F_REPLACE`: fd of the program to replace.
        pub replace_bpf_fd: u32 => "replace_bpf_fd",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_PROG_QUERY` attributes.
    ///
    /// Reference: the `query` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_PROG_QUERY")]
    pub struct QueryAttr {
        /// Container object to query.
        pub target_fd: u32 => "query.target_fd",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "query.attach_type",
        /// `BPF_F_QUERY_EFFECTIVE`.
        pub query_flags: u32 => "query.query_flags",
        /// Out: the attach flags of the hook.
        pub attach_flags: u32 => "query.attach_flags",
        /// User pointer to the output array of program ids.
        pub prog_ids: u64 => "query.prog_ids",
        /// In: capacity of `prog_ids`; out: number of programs.
        pub prog_cnt: u32 => "query.prog_cnt",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// User pointer to the output array of per-program attach flags.
        pub prog_attach_flags: u64 => "query.prog_attach_flags",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_RAW_TRACEPOINT_OPEN` attributes.
    ///
    /// Reference: the `raw_tracepoint` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_RAW_TRACEPOINT_OPEN")]
    pub struct RawTracepointAttr {
        /// User pointer to the NUL-terminated tracepoint name (0 for BTF-typed programs).
        pub name: u64 => "raw_tracepoint.name",
        /// Program fd.
        pub prog_fd: u32 => "raw_tracepoint.prog_fd",
        /// Implicit C padding to the 8-byte alignment of the struct.
        pub pad0: u32 => "",
    }
}
