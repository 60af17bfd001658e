//! Ring buffer records: the record header, record types and `misc` bits, and the records'
//! fixed-size parts.
//!
//! Reference: `struct perf_event_header`, `PERF_RECORD_MISC_*`, `enum perf_event_type`,
//! `enum perf_record_ksymbol_type`, `enum perf_bpf_event_type`, `enum perf_callchain_context`,
//! `PERF_AUX_FLAG_*`, the namespace indices, `struct perf_ns_link_info`,
//! `struct perf_branch_entry` and `union perf_mem_data_src` in
//! include/uapi/linux/perf_event.h (Linux 6.1).

crate::uapi_enum! {
    /// `enum perf_event_type`: `perf_event_header.type` of a ring buffer record.
    pub enum PerfRecordType: u32 {
        /// An executable mapping.
        Mmap = PERF_RECORD_MMAP = 1,
        /// Records were lost (ring buffer full).
        Lost = PERF_RECORD_LOST = 2,
        /// A task changed its name.
        Comm = PERF_RECORD_COMM = 3,
        /// A task exited.
        Exit = PERF_RECORD_EXIT = 4,
        /// The event was throttled.
        Throttle = PERF_RECORD_THROTTLE = 5,
        /// The event was unthrottled.
        Unthrottle = PERF_RECORD_UNTHROTTLE = 6,
        /// A task was created.
        Fork = PERF_RECORD_FORK = 7,
        /// Counter values (inherited events).
        Read = PERF_RECORD_READ = 8,
        /// A sample, laid out by `sample_type`.
        Sample = PERF_RECORD_SAMPLE = 9,
        /// A mapping, with inode data.
        Mmap2 = PERF_RECORD_MMAP2 = 10,
        /// New data in the AUX area.
        Aux = PERF_RECORD_AUX = 11,
        /// Instruction tracing started.
        ItraceStart = PERF_RECORD_ITRACE_START = 12,
        /// Samples were lost.
        LostSamples = PERF_RECORD_LOST_SAMPLES = 13,
        /// A context switch.
        Switch = PERF_RECORD_SWITCH = 14,
        /// A context switch (CPU-wide events).
        SwitchCpuWide = PERF_RECORD_SWITCH_CPU_WIDE = 15,
        /// Namespaces of a task.
        Namespaces = PERF_RECORD_NAMESPACES = 16,
        /// A kernel symbol (e.g. a JITed BPF program) was registered or unregistered.
        Ksymbol = PERF_RECORD_KSYMBOL = 17,
        /// A BPF program was loaded or unloaded.
        BpfEvent = PERF_RECORD_BPF_EVENT = 18,
        /// A cgroup was created.
        Cgroup = PERF_RECORD_CGROUP = 19,
        /// Kernel text was modified.
        TextPoke = PERF_RECORD_TEXT_POKE = 20,
        /// Hardware id of AUX output.
        AuxOutputHwId = PERF_RECORD_AUX_OUTPUT_HW_ID = 21,
    }
}

crate::uapi_consts! { RECORD_LIMITS: u32;
    /// Number of record types (not ABI).
    PERF_RECORD_MAX = 22,
}

crate::uapi_consts! { RECORD_MISC: u16;
    PERF_RECORD_MISC_CPUMODE_MASK = 7,
    PERF_RECORD_MISC_CPUMODE_UNKNOWN = 0,
    PERF_RECORD_MISC_KERNEL = 1,
    PERF_RECORD_MISC_USER = 2,
    PERF_RECORD_MISC_HYPERVISOR = 3,
    PERF_RECORD_MISC_GUEST_KERNEL = 4,
    PERF_RECORD_MISC_GUEST_USER = 5,
    PERF_RECORD_MISC_PROC_MAP_PARSE_TIMEOUT = 1 << 12,
    PERF_RECORD_MISC_MMAP_DATA = 1 << 13,
    PERF_RECORD_MISC_COMM_EXEC = 1 << 13,
    PERF_RECORD_MISC_FORK_EXEC = 1 << 13,
    PERF_RECORD_MISC_SWITCH_OUT = 1 << 13,
    PERF_RECORD_MISC_EXACT_IP = 1 << 14,
    PERF_RECORD_MISC_SWITCH_OUT_PREEMPT = 1 << 14,
    PERF_RECORD_MISC_MMAP_BUILD_ID = 1 << 14,
    PERF_RECORD_MISC_EXT_RESERVED = 1 << 15,
}

crate::uapi_enum! {
    /// `enum perf_record_ksymbol_type`: kind of symbol in a `PERF_RECORD_KSYMBOL`.
    pub enum PerfKsymbolType: u16 {
        /// Unknown.
        Unknown = PERF_RECORD_KSYMBOL_TYPE_UNKNOWN = 0,
        /// A BPF program.
        Bpf = PERF_RECORD_KSYMBOL_TYPE_BPF = 1,
        /// Out-of-line code (trampolines, static calls).
        Ool = PERF_RECORD_KSYMBOL_TYPE_OOL = 2,
    }
}

crate::uapi_consts! { KSYMBOL_CONSTS: u16;
    /// Number of values (not ABI: grows with new kernels).
    PERF_RECORD_KSYMBOL_TYPE_MAX = 3,
    PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER = 1,
}

crate::uapi_enum! {
    /// `enum perf_bpf_event_type`: kind of a `PERF_RECORD_BPF_EVENT`.
    pub enum PerfBpfEventType: u16 {
        /// Unknown.
        Unknown = PERF_BPF_EVENT_UNKNOWN = 0,
        /// Program loaded.
        ProgLoad = PERF_BPF_EVENT_PROG_LOAD = 1,
        /// Program unloaded.
        ProgUnload = PERF_BPF_EVENT_PROG_UNLOAD = 2,
    }
}

crate::uapi_consts! { BPF_EVENT_LIMITS: u16;
    /// Number of values (not ABI: grows with new kernels).
    PERF_BPF_EVENT_MAX = 3,
}

crate::uapi_consts! { CALLCHAIN: u64;
    PERF_MAX_STACK_DEPTH = 127,
    PERF_MAX_CONTEXTS_PER_STACK = 8,
    PERF_CONTEXT_HV = 0u64.wrapping_sub(32),
    PERF_CONTEXT_KERNEL = 0u64.wrapping_sub(128),
    PERF_CONTEXT_USER = 0u64.wrapping_sub(512),
    PERF_CONTEXT_GUEST = 0u64.wrapping_sub(2048),
    PERF_CONTEXT_GUEST_KERNEL = 0u64.wrapping_sub(2176),
    PERF_CONTEXT_GUEST_USER = 0u64.wrapping_sub(2560),
    PERF_CONTEXT_MAX = 0u64.wrapping_sub(4095),
}

crate::uapi_consts! { AUX_FLAGS: u64;
    /// Record was truncated to fit
    PERF_AUX_FLAG_TRUNCATED = 0x01,
    /// Snapshot from overwrite mode
    PERF_AUX_FLAG_OVERWRITE = 0x02,
    /// Record contains gaps
    PERF_AUX_FLAG_PARTIAL = 0x04,
    /// Sample collided with another
    PERF_AUX_FLAG_COLLISION = 0x08,
    /// PMU specific trace format type
    PERF_AUX_FLAG_PMU_FORMAT_TYPE_MASK = 0xff00,
    /// Default for backward compatibility
    PERF_AUX_FLAG_CORESIGHT_FORMAT_CORESIGHT = 0x0000,
    /// Raw format of the source
    PERF_AUX_FLAG_CORESIGHT_FORMAT_RAW = 0x0100,
}

crate::uapi_consts! { NAMESPACE_INDICES: u32;
    NET_NS_INDEX = 0,
    UTS_NS_INDEX = 1,
    IPC_NS_INDEX = 2,
    PID_NS_INDEX = 3,
    USER_NS_INDEX = 4,
    MNT_NS_INDEX = 5,
    CGROUP_NS_INDEX = 6,
    /// Number of available namespaces
    NR_NAMESPACES = 7,
}

crate::uapi_struct! {
    #[c = "struct perf_event_header", whole]
    /// Header of every record in a perf ring buffer.
    ///
    /// Reference: `struct perf_event_header` in include/uapi/linux/perf_event.h.
    #[doc(alias = "perf_event_header")]
    pub struct PerfEventHeader {
        /// `enum perf_event_type` (C member `type`).
        #[doc(alias = "type")]
        pub type_: u32 => "type",
        /// `PERF_RECORD_MISC_*` bits.
        pub misc: u16 => "misc",
        /// Size of the record including this header.
        pub size: u16 => "size",
    }
}

crate::uapi_struct! {
    #[c = "struct perf_ns_link_info", whole]
    /// One namespace of a `PERF_RECORD_NAMESPACES` record.
    ///
    /// Reference: `struct perf_ns_link_info` in include/uapi/linux/perf_event.h.
    #[doc(alias = "perf_ns_link_info")]
    pub struct PerfNsLinkInfo {
        /// Device of the nsfs.
        pub dev: u64 => "dev",
        /// Inode of the namespace.
        pub ino: u64 => "ino",
    }
}

crate::uapi_struct! {
    #[c = "struct perf_branch_entry", whole]
    /// One entry of a sampled branch stack (also `bpf_read_branch_records`).
    ///
    /// Reference: `struct perf_branch_entry` in include/uapi/linux/perf_event.h; its `__u64`
    /// Bitfields are stored in [`PerfBranchEntry::flags`].
    #[doc(alias = "perf_branch_entry")]
    pub struct PerfBranchEntry {
        /// Branch source address.
        pub from: u64 => "from",
        /// Branch target address.
        pub to: u64 => "to",
        /// Storage of the flag bitfields.
        pub flags: u64 => "" bits {
            /// Mispredicted.
            mispred / set_mispred: 0, 1;
            /// Predicted.
            predicted / set_predicted: 1, 1;
            /// In a transaction.
            in_tx / set_in_tx: 2, 1;
            /// Transaction abort.
            abort / set_abort: 3, 1;
            /// Cycles since the previous branch.
            cycles / set_cycles: 4, 16;
            /// `PERF_BR_*` branch type.
            type_ = "type" / set_type: 20, 4;
            /// `PERF_BR_SPEC_*` speculation info.
            spec / set_spec: 24, 2;
            /// `PERF_BR_NEW_*` extended branch type.
            new_type / set_new_type: 26, 4;
            /// `PERF_BR_PRIV_*` privilege level.
            priv_ = "priv" / set_priv: 30, 3;
            /// Reserved.
            reserved / set_reserved: 33, 31;
        },
    }
}

crate::uapi_struct! {
    #[c = "union perf_mem_data_src", whole]
    /// Data source of a sampled memory access (`PERF_SAMPLE_DATA_SRC`).
    ///
    /// Reference: `union perf_mem_data_src` in include/uapi/linux/perf_event.h
    /// (little-endian bitfield layout); the bitfields are stored in `val`.
    #[doc(alias = "perf_mem_data_src")]
    pub struct PerfMemDataSrc {
        /// The whole encoding.
        pub val: u64 => "val" bits {
            /// `PERF_MEM_OP_*`.
            mem_op / set_mem_op: 0, 5;
            /// `PERF_MEM_LVL_*`.
            mem_lvl / set_mem_lvl: 5, 14;
            /// `PERF_MEM_SNOOP_*`.
            mem_snoop / set_mem_snoop: 19, 5;
            /// `PERF_MEM_LOCK_*`.
            mem_lock / set_mem_lock: 24, 2;
            /// `PERF_MEM_TLB_*`.
            mem_dtlb / set_mem_dtlb: 26, 7;
            /// `PERF_MEM_LVLNUM_*`.
            mem_lvl_num / set_mem_lvl_num: 33, 4;
            /// `PERF_MEM_REMOTE_*`.
            mem_remote / set_mem_remote: 37, 1;
            /// `PERF_MEM_SNOOPX_*`.
            mem_snoopx / set_mem_snoopx: 38, 2;
            /// `PERF_MEM_BLK_*`.
            mem_blk / set_mem_blk: 40, 3;
            /// `PERF_MEM_HOPS_*`.
            mem_hops / set_mem_hops: 43, 3;
            /// Reserved.
            mem_rsvd / set_mem_rsvd: 46, 18;
        },
    }
}
