//! The remaining commands' parts of `union bpf_attr`: BTF load, task fd query, stats.
//!
//! Reference: the anonymous `BPF_BTF_LOAD` member, `task_fd_query` and `enable_stats` of
//! `union bpf_attr` in include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_BTF_LOAD` attributes.
    ///
    /// Reference: the anonymous `BPF_BTF_LOAD` member of `union bpf_attr`
    /// (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_BTF_LOAD")]
    pub struct BtfLoadAttr {
        /// User pointer to the raw BTF blob.
        pub btf: u64 => "btf",
        /// User pointer to the log buffer.
        pub btf_log_buf: u64 => "btf_log_buf",
        /// Size of the BTF blob.
        pub btf_size: u32 => "btf_size",
        /// Size of the log buffer.
        pub btf_log_size: u32 => "btf_log_size",
        /// Log verbosity.
        pub btf_log_level: u32 => "btf_log_level",
        /// Implicit C padding to the 8-byte alignment of the struct.
        pub pad0: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_TASK_FD_QUERY` attributes.
    ///
    /// Reference: the `task_fd_query` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_TASK_FD_QUERY")]
    pub struct TaskFdQueryAttr {
        /// Process id holding `fd`.
        pub pid: u32 => "task_fd_query.pid",
        /// Fd in that process (perf event or raw tracepoint link).
        pub fd: u32 => "task_fd_query.fd",
        /// Flags (none defined; must be zero).
        pub flags: u32 => "task_fd_query.flags",
        /// In: size of `buf`; out: length of the name.
        pub buf_len: u32 => "task_fd_query.buf_len",
        /// User pointer to the buffer receiving the tracepoint/function/file name.
        pub buf: u64 => "task_fd_query.buf",
        /// Out: id of the attached program.
        pub prog_id: u32 => "task_fd_query.prog_id",
        /// Out: `enum bpf_task_fd_type`.
        pub fd_type: u32 => "task_fd_query.fd_type",
        /// Out: probe offset (kprobe/uprobe).
        pub probe_offset: u64 => "task_fd_query.probe_offset",
        /// Out: probe address (kprobe).
        pub probe_addr: u64 => "task_fd_query.probe_addr",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_ENABLE_STATS` attributes.
    ///
    /// Reference: the `enable_stats` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_ENABLE_STATS")]
    pub struct EnableStatsAttr {
        /// `enum bpf_stats_type` (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "enable_stats.type",
    }
}
