//! The object commands' parts of `union bpf_attr`: pin/get, ids, info.
//!
//! Reference: the anonymous `BPF_OBJ_*` member, the anonymous `*_GET_NEXT_ID`/`*_GET_FD_BY_ID`
//! member and `info` of `union bpf_attr` in include/uapi/linux/bpf.h (Linux 6.1).

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_OBJ_PIN` and `BPF_OBJ_GET` attributes.
    ///
    /// Reference: the anonymous `BPF_OBJ_*` member of `union bpf_attr`
    /// (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_OBJ_PIN")]
    #[doc(alias = "BPF_OBJ_GET")]
    pub struct ObjAttr {
        /// User pointer to the NUL-terminated bpffs path.
        pub pathname: u64 => "pathname",
        /// `BPF_OBJ_PIN`: fd of the object to pin (must be 0 for `BPF_OBJ_GET`).
        pub bpf_fd: u32 => "bpf_fd",
        /// `BPF_OBJ_GET`: `BPF_F_RDONLY`/`BPF_F_WRONLY` (must be 0 for `BPF_OBJ_PIN`).
        pub file_flags: u32 => "file_flags",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_{PROG,MAP,BTF,LINK}_GET_NEXT_ID` and `BPF_{PROG,MAP,BTF,LINK}_GET_FD_BY_ID`
    /// attributes.
    ///
    /// Reference: the anonymous `*_GET_*_ID` member of `union bpf_attr`
    /// (include/uapi/linux/bpf.h). `start_id`, `prog_id`, `map_id`, `btf_id` and `link_id`
    /// are one C union.
    #[doc(alias = "BPF_PROG_GET_NEXT_ID")]
    #[doc(alias = "BPF_MAP_GET_FD_BY_ID")]
    pub struct GetIdAttr {
        /// `*_GET_NEXT_ID`: the id to start after; `*_GET_FD_BY_ID`: the id to open.
        pub start_id: u32 => "start_id" | "prog_id" | "map_id" | "btf_id" | "link_id",
        /// Out (`*_GET_NEXT_ID`): the next id.
        pub next_id: u32 => "next_id",
        /// `BPF_MAP_GET_FD_BY_ID`: `BPF_F_RDONLY`/`BPF_F_WRONLY`.
        pub open_flags: u32 => "open_flags",
    }
}

impl GetIdAttr {
    /// The id to open (`prog_id`/`map_id`/`btf_id`/`link_id`, same bytes as `start_id`).
    pub const fn id(&self) -> u32 {
        self.start_id
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_OBJ_GET_INFO_BY_FD` attributes.
    ///
    /// Reference: the `info` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_OBJ_GET_INFO_BY_FD")]
    pub struct InfoAttr {
        /// Fd of a program, map, BTF object or link.
        pub bpf_fd: u32 => "info.bpf_fd",
        /// In: size of the user's info struct; out: bytes written.
        pub info_len: u32 => "info.info_len",
        /// User pointer to `struct bpf_{prog,map,btf,link}_info`.
        pub info: u64 => "info.info",
    }
}
