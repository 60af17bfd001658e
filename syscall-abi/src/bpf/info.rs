//! `BPF_OBJ_GET_INFO_BY_FD` records of programs, maps and BTF objects (links: `link_info.rs`).
//!
//! Reference: `struct bpf_prog_info`, `struct bpf_map_info` and `struct bpf_btf_info` in
//! include/uapi/linux/bpf.h (Linux 6.1); filled by `bpf_prog_get_info_by_fd`,
//! `bpf_map_get_info_by_fd` and `btf_get_info_by_fd` (kernel/bpf/syscall.c, kernel/bpf/btf.c),
//! which copy in and out `min(info_len, sizeof)` bytes (`uarg::copy_in`/`uarg::copy_out`).

crate::uapi_struct! {
    #[c = "struct bpf_prog_info", whole]
    /// Program information.
    ///
    /// Reference: `struct bpf_prog_info` in include/uapi/linux/bpf.h. The C bitfield
    /// `gpl_compatible:1` and the unnamed `:31` after it share the 32-bit word
    /// [`BpfProgInfo::bitfields`]; the trailing unnamed `__u32 :32` is `pad0`.
    #[doc(alias = "bpf_prog_info")]
    pub struct BpfProgInfo {
        /// `enum bpf_prog_type` (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// Program id.
        pub id: u32 => "id",
        /// Program tag.
        pub tag: [u8; 8] => "tag",
        /// Size of the JITed image.
        pub jited_prog_len: u32 => "jited_prog_len",
        /// Size of the translated instructions.
        pub xlated_prog_len: u32 => "xlated_prog_len",
        /// User pointer receiving the JITed image.
        pub jited_prog_insns: u64 => "jited_prog_insns",
        /// User pointer receiving the translated instructions.
        pub xlated_prog_insns: u64 => "xlated_prog_insns",
        /// Load time (ns since boot).
        pub load_time: u64 => "load_time",
        /// Uid of the loader.
        pub created_by_uid: u32 => "created_by_uid",
        /// In: capacity of `map_ids`; out: number of used maps.
        pub nr_map_ids: u32 => "nr_map_ids",
        /// User pointer receiving the used map ids.
        pub map_ids: u64 => "map_ids",
        /// Object name.
        pub name: [u8; 16] => "name",
        /// Offload device ifindex.
        pub ifindex: u32 => "ifindex",
        /// Storage of the `gpl_compatible:1` bitfield (the other 31 bits are unnamed).
        pub bitfields: u32 => "" bits {
            /// The program's license is GPL compatible.
            gpl_compatible / set_gpl_compatible: 0, 1;
        },
        /// Offload device's netns dev.
        pub netns_dev: u64 => "netns_dev",
        /// Offload device's netns inode.
        pub netns_ino: u64 => "netns_ino",
        /// In: capacity of `jited_ksyms`; out: number of functions.
        pub nr_jited_ksyms: u32 => "nr_jited_ksyms",
        /// In: capacity of `jited_func_lens`; out: number of functions.
        pub nr_jited_func_lens: u32 => "nr_jited_func_lens",
        /// User pointer receiving the functions' addresses.
        pub jited_ksyms: u64 => "jited_ksyms",
        /// User pointer receiving the functions' JITed lengths.
        pub jited_func_lens: u64 => "jited_func_lens",
        /// BTF object id.
        pub btf_id: u32 => "btf_id",
        /// `sizeof(struct bpf_func_info)`.
        pub func_info_rec_size: u32 => "func_info_rec_size",
        /// User pointer receiving the func info records.
        pub func_info: u64 => "func_info",
        /// In: capacity; out: number of func info records.
        pub nr_func_info: u32 => "nr_func_info",
        /// In: capacity; out: number of line info records.
        pub nr_line_info: u32 => "nr_line_info",
        /// User pointer receiving the line info records.
        pub line_info: u64 => "line_info",
        /// User pointer receiving the JITed line addresses.
        pub jited_line_info: u64 => "jited_line_info",
        /// In: capacity; out: number of JITed line records.
        pub nr_jited_line_info: u32 => "nr_jited_line_info",
        /// `sizeof(struct bpf_line_info)`.
        pub line_info_rec_size: u32 => "line_info_rec_size",
        /// `sizeof(__u64)`.
        pub jited_line_info_rec_size: u32 => "jited_line_info_rec_size",
        /// In: capacity; out: number of tags.
        pub nr_prog_tags: u32 => "nr_prog_tags",
        /// User pointer receiving the per-function tags.
        pub prog_tags: u64 => "prog_tags",
        /// Total run time (ns) with stats enabled.
        pub run_time_ns: u64 => "run_time_ns",
        /// Number of runs with stats enabled.
        pub run_cnt: u64 => "run_cnt",
        /// Runs skipped because of recursion.
        pub recursion_misses: u64 => "recursion_misses",
        /// Instructions processed by the verifier.
        pub verified_insns: u32 => "verified_insns",
        /// BTF object id of the attach target.
        pub attach_btf_obj_id: u32 => "attach_btf_obj_id",
        /// BTF type id of the attach target.
        pub attach_btf_id: u32 => "attach_btf_id",
        /// Unnamed `__u32 :32` padding.
        pub pad0: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_map_info", whole]
    /// Map information.
    ///
    /// Reference: `struct bpf_map_info` in include/uapi/linux/bpf.h. The unnamed
    /// `__u32 :32` before `map_extra` is `pad0`.
    #[doc(alias = "bpf_map_info")]
    pub struct BpfMapInfo {
        /// `enum bpf_map_type` (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// Map id.
        pub id: u32 => "id",
        /// Key size.
        pub key_size: u32 => "key_size",
        /// Value size.
        pub value_size: u32 => "value_size",
        /// Maximum number of entries.
        pub max_entries: u32 => "max_entries",
        /// Map flags (without `BPF_F_RDONLY`/`BPF_F_WRONLY`).
        pub map_flags: u32 => "map_flags",
        /// Object name.
        pub name: [u8; 16] => "name",
        /// Offload device ifindex.
        pub ifindex: u32 => "ifindex",
        /// vmlinux BTF type id (struct_ops maps).
        pub btf_vmlinux_value_type_id: u32 => "btf_vmlinux_value_type_id",
        /// Offload device's netns dev.
        pub netns_dev: u64 => "netns_dev",
        /// Offload device's netns inode.
        pub netns_ino: u64 => "netns_ino",
        /// BTF object id.
        pub btf_id: u32 => "btf_id",
        /// BTF type id of the key.
        pub btf_key_type_id: u32 => "btf_key_type_id",
        /// BTF type id of the value.
        pub btf_value_type_id: u32 => "btf_value_type_id",
        /// Unnamed `__u32 :32` padding.
        pub pad0: u32 => "",
        /// Type-specific extra.
        pub map_extra: u64 => "map_extra",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_btf_info", whole]
    /// BTF object information.
    ///
    /// Reference: `struct bpf_btf_info` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_btf_info")]
    pub struct BpfBtfInfo {
        /// User pointer receiving the raw BTF.
        pub btf: u64 => "btf",
        /// In: buffer size; out: BTF size.
        pub btf_size: u32 => "btf_size",
        /// BTF object id.
        pub id: u32 => "id",
        /// User pointer receiving the name.
        pub name: u64 => "name",
        /// In: buffer size; out: name length including the NUL.
        pub name_len: u32 => "name_len",
        /// Whether this is kernel (vmlinux or module) BTF.
        pub kernel_btf: u32 => "kernel_btf",
    }
}
