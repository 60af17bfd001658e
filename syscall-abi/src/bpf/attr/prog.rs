//! The program commands' parts of `union bpf_attr`: load, test run, bind map.
//!
//! Reference: the anonymous `BPF_PROG_LOAD` member, `test` and `prog_bind_map` of
//! `union bpf_attr` in include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_PROG_LOAD` attributes.
    ///
    /// Reference: the anonymous `BPF_PROG_LOAD` member of `union bpf_attr`
    /// (include/uapi/linux/bpf.h). `attach_prog_fd` and `attach_btf_obj_fd` are one C union.
    #[doc(alias = "BPF_PROG_LOAD")]
    pub struct ProgLoadAttr {
        /// `enum bpf_prog_type`, decode with `ProgType::try_from`.
        pub prog_type: u32 => "prog_type",
        /// Number of instructions.
        pub insn_cnt: u32 => "insn_cnt",
        /// User pointer to the `struct bpf_insn` array.
        pub insns: u64 => "insns",
        /// User pointer to the NUL-terminated license string.
        pub license: u64 => "license",
        /// Verifier log verbosity (0: no log).
        pub log_level: u32 => "log_level",
        /// Size of the user log buffer.
        pub log_size: u32 => "log_size",
        /// User pointer to the log buffer.
        pub log_buf: u64 => "log_buf",
        /// Ignored since Linux 5.0 (was `LINUX_VERSION_CODE` for kprobes).
        pub kern_version: u32 => "kern_version",
        /// `BPF_F_*` program load flags.
        pub prog_flags: u32 => "prog_flags",
        /// Object name, NUL-padded.
        pub prog_name: [u8; 16] => "prog_name",
        /// Offload device ifindex (0: host).
        pub prog_ifindex: u32 => "prog_ifindex",
        /// `enum bpf_attach_type` the program will be attached with.
        pub expected_attach_type: u32 => "expected_attach_type",
        /// BTF object fd with the program's types.
        pub prog_btf_fd: u32 => "prog_btf_fd",
        /// User's `sizeof(struct bpf_func_info)`.
        pub func_info_rec_size: u32 => "func_info_rec_size",
        /// User pointer to the func info records.
        pub func_info: u64 => "func_info",
        /// Number of func info records.
        pub func_info_cnt: u32 => "func_info_cnt",
        /// User's `sizeof(struct bpf_line_info)`.
        pub line_info_rec_size: u32 => "line_info_rec_size",
        /// User pointer to the line info records.
        pub line_info: u64 => "line_info",
        /// Number of line info records.
        pub line_info_cnt: u32 => "line_info_cnt",
        /// BTF id of the attach target (tracing, LSM, struct_ops, ext programs).
        pub attach_btf_id: u32 => "attach_btf_id",
        /// Target program fd (ext/fentry on a program) or BTF object fd of the target's
        /// module (C union `attach_prog_fd`/`attach_btf_obj_fd`).
        pub attach_prog_fd: u32 => "attach_prog_fd" | "attach_btf_obj_fd",
        /// Number of CO-RE relocation records.
        pub core_relo_cnt: u32 => "core_relo_cnt",
        /// User pointer to an array of fds referenced by `BPF_PSEUDO_MAP_IDX*`.
        pub fd_array: u64 => "fd_array",
        /// User pointer to the `struct bpf_core_relo` records.
        pub core_relos: u64 => "core_relos",
        /// User's `sizeof(struct bpf_core_relo)`.
        pub core_relo_rec_size: u32 => "core_relo_rec_size",
        /// Implicit C padding to the 8-byte alignment of the struct.
        pub pad0: u32 => "",
    }
}

impl ProgLoadAttr {
    /// The `attach_btf_obj_fd` member of the C union (same bytes as `attach_prog_fd`).
    pub const fn attach_btf_obj_fd(&self) -> u32 {
        self.attach_prog_fd
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_PROG_TEST_RUN` (`BPF_PROG_RUN`) attributes.
    ///
    /// Reference: the `test` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_PROG_TEST_RUN")]
    #[doc(alias = "BPF_PROG_RUN")]
    pub struct TestRunAttr {
        /// Program fd.
        pub prog_fd: u32 => "test.prog_fd",
        /// Out: the program's return value.
        pub retval: u32 => "test.retval",
        /// Size of the input data.
        pub data_size_in: u32 => "test.data_size_in",
        /// In: size of the output buffer; out: size of the output data.
        pub data_size_out: u32 => "test.data_size_out",
        /// User pointer to the input data.
        pub data_in: u64 => "test.data_in",
        /// User pointer to the output buffer.
        pub data_out: u64 => "test.data_out",
        /// Number of runs.
        pub repeat: u32 => "test.repeat",
        /// Out: average run time in ns.
        pub duration: u32 => "test.duration",
        /// Size of the input context.
        pub ctx_size_in: u32 => "test.ctx_size_in",
        /// In: size of the context output buffer; out: size written.
        pub ctx_size_out: u32 => "test.ctx_size_out",
        /// User pointer to the input context.
        pub ctx_in: u64 => "test.ctx_in",
        /// User pointer to the context output buffer.
        pub ctx_out: u64 => "test.ctx_out",
        /// `BPF_F_TEST_*` flags.
        pub flags: u32 => "test.flags",
        /// CPU to run on (with `BPF_F_TEST_RUN_ON_CPU`).
        pub cpu: u32 => "test.cpu",
        /// XDP live-frames batch size.
        pub batch_size: u32 => "test.batch_size",
        /// Implicit C padding to the 8-byte alignment of the struct.
        pub pad0: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_PROG_BIND_MAP` attributes.
    ///
    /// Reference: the `prog_bind_map` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_PROG_BIND_MAP")]
    pub struct ProgBindMapAttr {
        /// Program fd.
        pub prog_fd: u32 => "prog_bind_map.prog_fd",
        /// Map fd to add to the program's used maps.
        pub map_fd: u32 => "prog_bind_map.map_fd",
        /// Flags (none defined; must be zero).
        pub flags: u32 => "prog_bind_map.flags",
    }
}
