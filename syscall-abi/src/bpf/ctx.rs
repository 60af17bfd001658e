//! Structs that programs and helpers share with the kernel: map value/key layouts and helper
//! output records. (The perf event program context is per architecture, in `ptregs`.)
//!
//! Reference: include/uapi/linux/bpf.h (Linux 6.1): `struct bpf_stack_build_id`,
//! `struct bpf_lpm_trie_key`, `struct bpf_spin_lock`, `struct bpf_timer`, `struct bpf_dynptr`,
//! `struct bpf_perf_event_value`, `struct bpf_pidns_info`, `struct bpf_cgroup_storage_key`,
//! `struct bpf_raw_tracepoint_args`.

crate::uapi_consts! { BUILD_ID: usize;
    /// Size of an ELF build id in `struct bpf_stack_build_id`.
    BPF_BUILD_ID_SIZE = 20,
}

crate::uapi_enum! {
    /// `enum bpf_stack_build_id_status`: validity of a `bpf_stack_build_id` entry.
    pub enum StackBuildIdStatus: i32 {
        /// No entry (user stack shorter than requested).
        Empty = BPF_STACK_BUILD_ID_EMPTY = 0,
        /// `build_id` and `offset` are valid.
        Valid = BPF_STACK_BUILD_ID_VALID = 1,
        /// Only `ip` is valid (no build id found).
        Ip = BPF_STACK_BUILD_ID_IP = 2,
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_stack_build_id", whole]
    /// One frame of a build-id stack trace (`BPF_F_STACK_BUILD_ID` stack maps,
    /// `bpf_get_stack` with `BPF_F_USER_BUILD_ID`).
    ///
    /// Reference: `struct bpf_stack_build_id` in include/uapi/linux/bpf.h. `offset` and `ip`
    /// are one C union.
    #[doc(alias = "bpf_stack_build_id")]
    pub struct BpfStackBuildId {
        /// `enum bpf_stack_build_id_status`.
        pub status: i32 => "status",
        /// ELF build id of the mapping.
        pub build_id: [u8; 20] => "build_id",
        /// Offset in the object (`Valid`) or the instruction pointer (`Ip`).
        pub offset: u64 => "offset" | "ip",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_lpm_trie_key", whole]
    /// Key header of an LPM trie map: the prefix length in bits, followed (not part of this
    /// struct) by the address bytes.
    ///
    /// Reference: `struct bpf_lpm_trie_key` in include/uapi/linux/bpf.h; its `data[0]` is a
    /// zero-length array, mirrored as [`BpfLpmTrieKey::data`] of length 0.
    #[doc(alias = "bpf_lpm_trie_key")]
    pub struct BpfLpmTrieKey {
        /// Prefix length in bits.
        pub prefixlen: u32 => "prefixlen",
        /// Start of the key data (zero-length; the data follows the struct).
        pub data: [u8; 0] => "data" [flex],
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_spin_lock", whole]
    /// A spin lock inside a map value (`bpf_spin_lock`/`bpf_spin_unlock`, `BPF_F_LOCK`).
    ///
    /// Reference: `struct bpf_spin_lock` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_spin_lock")]
    pub struct BpfSpinLock {
        /// Lock word.
        pub val: u32 => "val",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_timer", whole]
    /// An opaque timer inside a map value.
    ///
    /// Reference: `struct bpf_timer` in include/uapi/linux/bpf.h (two unnamed `__u64 :64`
    /// bitfields, 8-byte aligned).
    #[doc(alias = "bpf_timer")]
    pub struct BpfTimer {
        /// Opaque kernel state.
        pub opaque: [u64; 2] => "",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_dynptr", whole]
    /// An opaque dynamic pointer on the program stack.
    ///
    /// Reference: `struct bpf_dynptr` in include/uapi/linux/bpf.h (two unnamed `__u64 :64`
    /// bitfields, 8-byte aligned).
    #[doc(alias = "bpf_dynptr")]
    pub struct BpfDynptr {
        /// Opaque kernel state.
        pub opaque: [u64; 2] => "",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_perf_event_value", whole]
    /// Output of `bpf_perf_event_read_value` and `bpf_perf_prog_read_value`.
    ///
    /// Reference: `struct bpf_perf_event_value` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_perf_event_value")]
    pub struct BpfPerfEventValue {
        /// Counter value.
        pub counter: u64 => "counter",
        /// Time enabled (ns).
        pub enabled: u64 => "enabled",
        /// Time running (ns).
        pub running: u64 => "running",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_pidns_info", whole]
    /// Output of `bpf_get_ns_current_pid_tgid`.
    ///
    /// Reference: `struct bpf_pidns_info` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_pidns_info")]
    pub struct BpfPidnsInfo {
        /// Thread id in the namespace.
        pub pid: u32 => "pid",
        /// Process id in the namespace.
        pub tgid: u32 => "tgid",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_cgroup_storage_key", whole]
    /// Key of a cgroup storage map.
    ///
    /// Reference: `struct bpf_cgroup_storage_key` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_cgroup_storage_key")]
    pub struct BpfCgroupStorageKey {
        /// cgroup inode id.
        pub cgroup_inode_id: u64 => "cgroup_inode_id",
        /// `enum bpf_attach_type`.
        pub attach_type: u32 => "attach_type",
        /// Implicit C padding to the 8-byte alignment of the struct.
        pub pad0: u32 => "",
    }
}

crate::uapi_struct! {
    #[c = "struct bpf_raw_tracepoint_args", whole]
    /// Context of raw tracepoint programs: the tracepoint's arguments as `u64`s (a
    /// zero-length array; the arguments follow).
    ///
    /// Reference: `struct bpf_raw_tracepoint_args` in include/uapi/linux/bpf.h.
    #[doc(alias = "bpf_raw_tracepoint_args")]
    pub struct BpfRawTracepointArgs {
        /// Start of the arguments (zero-length).
        pub args: [u64; 0] => "args" [flex],
    }
}
