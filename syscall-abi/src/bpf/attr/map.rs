//! The map commands' parts of `union bpf_attr`.
//!
//! Reference: the first three members of `union bpf_attr` in include/uapi/linux/bpf.h
//! (Linux 6.1): the anonymous `BPF_MAP_CREATE` struct, the anonymous `BPF_MAP_*_ELEM` struct
//! and `batch`.

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_MAP_CREATE` attributes.
    ///
    /// Reference: the anonymous `BPF_MAP_CREATE` member of `union bpf_attr`
    /// (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_MAP_CREATE")]
    pub struct MapCreateAttr {
        /// `enum bpf_map_type`, decode with `MapType::try_from`.
        pub map_type: u32 => "map_type",
        /// Key size in bytes.
        pub key_size: u32 => "key_size",
        /// Value size in bytes.
        pub value_size: u32 => "value_size",
        /// Maximum number of entries.
        pub max_entries: u32 => "max_entries",
        /// `BPF_F_*` map creation flags.
        pub map_flags: u32 => "map_flags",
        /// Template map fd for map-in-map types.
        pub inner_map_fd: u32 => "inner_map_fd",
        /// NUMA node (valid with `BPF_F_NUMA_NODE`).
        pub numa_node: u32 => "numa_node",
        /// Object name, NUL-padded.
        pub map_name: [u8; 16] => "map_name",
        /// Offload device ifindex (0: host).
        pub map_ifindex: u32 => "map_ifindex",
        /// BTF object fd describing key/value.
        pub btf_fd: u32 => "btf_fd",
        /// BTF type id of the key.
        pub btf_key_type_id: u32 => "btf_key_type_id",
        /// BTF type id of the value.
        pub btf_value_type_id: u32 => "btf_value_type_id",
        /// BTF type id of a vmlinux struct (struct_ops maps).
        pub btf_vmlinux_value_type_id: u32 => "btf_vmlinux_value_type_id",
        /// Type-specific extra (bloom filter: number of hash functions).
        pub map_extra: u64 => "map_extra",
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_MAP_LOOKUP_ELEM`, `BPF_MAP_UPDATE_ELEM`, `BPF_MAP_DELETE_ELEM`,
    /// `BPF_MAP_GET_NEXT_KEY`, `BPF_MAP_LOOKUP_AND_DELETE_ELEM` and `BPF_MAP_FREEZE` attributes.
    ///
    /// Reference: the anonymous `BPF_MAP_*_ELEM` member of `union bpf_attr`
    /// (include/uapi/linux/bpf.h). `value` and `next_key` are one C union.
    #[doc(alias = "BPF_MAP_LOOKUP_ELEM")]
    #[doc(alias = "BPF_MAP_UPDATE_ELEM")]
    pub struct MapElemAttr {
        /// Map fd.
        pub map_fd: u32 => "map_fd",
        /// Implicit C padding.
        pub pad0: u32 => "",
        /// User pointer to the key.
        pub key: u64 => "key",
        /// User pointer to the value (`BPF_MAP_GET_NEXT_KEY`: to the next key, C `next_key`).
        pub value: u64 => "value" | "next_key",
        /// `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`, `BPF_F_LOCK`.
        pub flags: u64 => "flags",
    }
}

impl MapElemAttr {
    /// The `next_key` member of the C union (same bytes as `value`).
    pub const fn next_key(&self) -> u64 {
        self.value
    }
}

crate::uapi_struct! {
    #[c = "union bpf_attr", part]
    /// `BPF_MAP_LOOKUP_BATCH`, `BPF_MAP_LOOKUP_AND_DELETE_BATCH`, `BPF_MAP_UPDATE_BATCH` and
    /// `BPF_MAP_DELETE_BATCH` attributes.
    ///
    /// Reference: the `batch` member of `union bpf_attr` (include/uapi/linux/bpf.h).
    #[doc(alias = "BPF_MAP_LOOKUP_BATCH")]
    pub struct MapBatchAttr {
        /// User pointer to the start key (0: from the beginning).
        pub in_batch: u64 => "batch.in_batch",
        /// User pointer where the next start key is written.
        pub out_batch: u64 => "batch.out_batch",
        /// User pointer to the keys array.
        pub keys: u64 => "batch.keys",
        /// User pointer to the values array.
        pub values: u64 => "batch.values",
        /// In: number of elements the arrays hold; out: number processed.
        pub count: u32 => "batch.count",
        /// Map fd.
        pub map_fd: u32 => "batch.map_fd",
        /// Per-element flags (`BPF_F_LOCK`, update flags).
        pub elem_flags: u64 => "batch.elem_flags",
        /// Command flags (none defined; must be zero).
        pub flags: u64 => "batch.flags",
    }
}
