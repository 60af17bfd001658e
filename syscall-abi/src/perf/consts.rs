//! Event types and the ids of the generic hardware, cache and software events, and the
//! `perf_event_open` flags.
//!
//! Reference: `enum perf_type_id`, `enum perf_hw_id`, `enum perf_hw_cache_id`,
//! `enum perf_hw_cache_op_id`, `enum perf_hw_cache_op_result_id`, `enum perf_sw_ids` and
//! `PERF_FLAG_*` in include/uapi/linux/perf_event.h (Linux 6.1). Dynamic PMUs (kprobe, uprobe)
//! have types read from sysfs, so `perf_event_attr.type` is only decoded into [`PerfTypeId`]
//! for the built-in values.

crate::uapi_enum! {
    /// `enum perf_type_id`: `perf_event_attr.type` of the built-in PMUs (others are dynamic PMU types).
    pub enum PerfTypeId: u32 {
        /// Generalised hardware event (`PerfHwId`).
        Hardware = PERF_TYPE_HARDWARE = 0,
        /// Software event (`PerfSwId`).
        Software = PERF_TYPE_SOFTWARE = 1,
        /// Tracepoint; `config` is the tracepoint id from tracefs.
        Tracepoint = PERF_TYPE_TRACEPOINT = 2,
        /// Hardware cache event (`config` = cache | op << 8 | result << 16).
        HwCache = PERF_TYPE_HW_CACHE = 3,
        /// Raw PMU event.
        Raw = PERF_TYPE_RAW = 4,
        /// Hardware breakpoint.
        Breakpoint = PERF_TYPE_BREAKPOINT = 5,
    }
}

crate::uapi_consts! { PERF_TYPE_LIMITS: u32;
    /// Number of built-in types (not ABI).
    PERF_TYPE_MAX = 6,
}

crate::uapi_consts! { PERF_CONFIG_MASKS: u64;
    /// Extended `config` of hardware events: PMU type in the high 32 bits.
    PERF_PMU_TYPE_SHIFT = 32,
    /// Extended `config` of hardware events: the event id bits.
    PERF_HW_EVENT_MASK = 0xffffffff,
}

crate::uapi_enum! {
    /// `enum perf_hw_id`: generalised hardware events (`config` of `PERF_TYPE_HARDWARE`).
    pub enum PerfHwId: u64 {
        /// CPU cycles.
        CpuCycles = PERF_COUNT_HW_CPU_CYCLES = 0,
        /// Instructions.
        Instructions = PERF_COUNT_HW_INSTRUCTIONS = 1,
        /// Cache references.
        CacheReferences = PERF_COUNT_HW_CACHE_REFERENCES = 2,
        /// Cache misses.
        CacheMisses = PERF_COUNT_HW_CACHE_MISSES = 3,
        /// Branch instructions.
        BranchInstructions = PERF_COUNT_HW_BRANCH_INSTRUCTIONS = 4,
        /// Branch misses.
        BranchMisses = PERF_COUNT_HW_BRANCH_MISSES = 5,
        /// Bus cycles.
        BusCycles = PERF_COUNT_HW_BUS_CYCLES = 6,
        /// Cycles stalled in the frontend.
        StalledCyclesFrontend = PERF_COUNT_HW_STALLED_CYCLES_FRONTEND = 7,
        /// Cycles stalled in the backend.
        StalledCyclesBackend = PERF_COUNT_HW_STALLED_CYCLES_BACKEND = 8,
        /// CPU cycles at a constant reference frequency.
        RefCpuCycles = PERF_COUNT_HW_REF_CPU_CYCLES = 9,
    }
}

crate::uapi_enum! {
    /// `enum perf_hw_cache_id`: cache of a `PERF_TYPE_HW_CACHE` event (bits 0..8 of `config`).
    pub enum PerfHwCacheId: u64 {
        /// Level 1 data cache.
        L1d = PERF_COUNT_HW_CACHE_L1D = 0,
        /// Level 1 instruction cache.
        L1i = PERF_COUNT_HW_CACHE_L1I = 1,
        /// Last-level cache.
        Ll = PERF_COUNT_HW_CACHE_LL = 2,
        /// Data TLB.
        Dtlb = PERF_COUNT_HW_CACHE_DTLB = 3,
        /// Instruction TLB.
        Itlb = PERF_COUNT_HW_CACHE_ITLB = 4,
        /// Branch prediction unit.
        Bpu = PERF_COUNT_HW_CACHE_BPU = 5,
        /// Local memory accesses.
        Node = PERF_COUNT_HW_CACHE_NODE = 6,
    }
}

crate::uapi_enum! {
    /// `enum perf_hw_cache_op_id`: operation of a `PERF_TYPE_HW_CACHE` event (bits 8..16 of `config`).
    pub enum PerfHwCacheOpId: u64 {
        /// Read.
        Read = PERF_COUNT_HW_CACHE_OP_READ = 0,
        /// Write.
        Write = PERF_COUNT_HW_CACHE_OP_WRITE = 1,
        /// Prefetch.
        Prefetch = PERF_COUNT_HW_CACHE_OP_PREFETCH = 2,
    }
}

crate::uapi_enum! {
    /// `enum perf_hw_cache_op_result_id`: result of a `PERF_TYPE_HW_CACHE` event (bits 16..24 of `config`).
    pub enum PerfHwCacheOpResultId: u64 {
        /// Access.
        Access = PERF_COUNT_HW_CACHE_RESULT_ACCESS = 0,
        /// Miss.
        Miss = PERF_COUNT_HW_CACHE_RESULT_MISS = 1,
    }
}

crate::uapi_consts! { PERF_HW_LIMITS: u64;
    /// Number of values (not ABI: grows with new kernels).
    PERF_COUNT_HW_MAX = 10,
    /// Number of values (not ABI: grows with new kernels).
    PERF_COUNT_HW_CACHE_MAX = 7,
    /// Number of values (not ABI: grows with new kernels).
    PERF_COUNT_HW_CACHE_OP_MAX = 3,
    /// Number of values (not ABI: grows with new kernels).
    PERF_COUNT_HW_CACHE_RESULT_MAX = 2,
}

crate::uapi_enum! {
    /// `enum perf_sw_ids`: software events (`config` of `PERF_TYPE_SOFTWARE`).
    pub enum PerfSwId: u64 {
        /// CPU clock (per-CPU high-resolution timer).
        CpuClock = PERF_COUNT_SW_CPU_CLOCK = 0,
        /// Task clock (time the task ran).
        TaskClock = PERF_COUNT_SW_TASK_CLOCK = 1,
        /// Page faults.
        PageFaults = PERF_COUNT_SW_PAGE_FAULTS = 2,
        /// Context switches.
        ContextSwitches = PERF_COUNT_SW_CONTEXT_SWITCHES = 3,
        /// CPU migrations.
        CpuMigrations = PERF_COUNT_SW_CPU_MIGRATIONS = 4,
        /// Minor page faults.
        PageFaultsMin = PERF_COUNT_SW_PAGE_FAULTS_MIN = 5,
        /// Major page faults.
        PageFaultsMaj = PERF_COUNT_SW_PAGE_FAULTS_MAJ = 6,
        /// Alignment faults.
        AlignmentFaults = PERF_COUNT_SW_ALIGNMENT_FAULTS = 7,
        /// Emulation faults.
        EmulationFaults = PERF_COUNT_SW_EMULATION_FAULTS = 8,
        /// Placeholder event (records only side-band events).
        Dummy = PERF_COUNT_SW_DUMMY = 9,
        /// Output of `bpf_perf_event_output` (the event of `BPF_MAP_TYPE_PERF_EVENT_ARRAY`).
        BpfOutput = PERF_COUNT_SW_BPF_OUTPUT = 10,
        /// Cgroup switches.
        CgroupSwitches = PERF_COUNT_SW_CGROUP_SWITCHES = 11,
    }
}

crate::uapi_consts! { PERF_SW_LIMITS: u64;
    /// Number of values (not ABI: grows with new kernels).
    PERF_COUNT_SW_MAX = 12,
}

crate::uapi_consts! { OPEN_FLAGS: u64;
    /// `perf_event_open` flag: ignore `group_fd` for grouping (only for output redirection).
    PERF_FLAG_FD_NO_GROUP = 1 << 0,
    /// `perf_event_open` flag: redirect output to `group_fd`'s buffer.
    PERF_FLAG_FD_OUTPUT = 1 << 1,
    /// `perf_event_open` flag: `pid` is a cgroup fd.
    PERF_FLAG_PID_CGROUP = 1 << 2,
    /// `perf_event_open` flag: close-on-exec.
    PERF_FLAG_FD_CLOEXEC = 1 << 3,
}
