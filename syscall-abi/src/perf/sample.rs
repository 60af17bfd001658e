//! What a sample records: `sample_type` bits, `read_format` bits, branch sampling, register
//! ABI, transaction flags and the memory data source encoding.
//!
//! Reference: `enum perf_event_sample_format`, `enum perf_event_read_format`,
//! `enum perf_branch_sample_type(_shift)`, the `PERF_BR_*` enums, `enum perf_sample_regs_abi`,
//! the `PERF_TXN_*` enum and the `PERF_MEM_*` defines in include/uapi/linux/perf_event.h
//! (Linux 6.1).

crate::uapi_consts! { SAMPLE_TYPE: u64;
    /// Sample: instruction pointer.
    PERF_SAMPLE_IP = 1 << 0,
    /// Sample: pid and tid.
    PERF_SAMPLE_TID = 1 << 1,
    /// Sample: timestamp.
    PERF_SAMPLE_TIME = 1 << 2,
    /// Sample: data address.
    PERF_SAMPLE_ADDR = 1 << 3,
    /// Sample: counter values (in `read_format` layout).
    PERF_SAMPLE_READ = 1 << 4,
    /// Sample: call chain.
    PERF_SAMPLE_CALLCHAIN = 1 << 5,
    /// Sample: event id (of the group leader).
    PERF_SAMPLE_ID = 1 << 6,
    /// Sample: CPU number.
    PERF_SAMPLE_CPU = 1 << 7,
    /// Sample: current period.
    PERF_SAMPLE_PERIOD = 1 << 8,
    /// Sample: event id (of this event).
    PERF_SAMPLE_STREAM_ID = 1 << 9,
    /// Sample: raw data (tracepoint record, `bpf_perf_event_output` data).
    PERF_SAMPLE_RAW = 1 << 10,
    /// Branch stack (`branch_sample_type` selects which branches).
    PERF_SAMPLE_BRANCH_STACK = 1 << 11,
    /// Sample: user registers selected by `sample_regs_user`.
    PERF_SAMPLE_REGS_USER = 1 << 12,
    /// Sample: `sample_stack_user` bytes of user stack.
    PERF_SAMPLE_STACK_USER = 1 << 13,
    /// Sample: weight (cost) of the event.
    PERF_SAMPLE_WEIGHT = 1 << 14,
    /// Sample: data source (`perf_mem_data_src`).
    PERF_SAMPLE_DATA_SRC = 1 << 15,
    /// Sample: event id at a fixed position.
    PERF_SAMPLE_IDENTIFIER = 1 << 16,
    /// Sample: transaction flags (`PERF_TXN_*`).
    PERF_SAMPLE_TRANSACTION = 1 << 17,
    /// Sample: interrupted registers selected by `sample_regs_intr`.
    PERF_SAMPLE_REGS_INTR = 1 << 18,
    /// Sample: physical data address.
    PERF_SAMPLE_PHYS_ADDR = 1 << 19,
    /// Sample: AUX area snapshot.
    PERF_SAMPLE_AUX = 1 << 20,
    /// Sample: cgroup id.
    PERF_SAMPLE_CGROUP = 1 << 21,
    /// Sample: page size of the data address.
    PERF_SAMPLE_DATA_PAGE_SIZE = 1 << 22,
    /// Sample: page size of the instruction address.
    PERF_SAMPLE_CODE_PAGE_SIZE = 1 << 23,
    /// Sample: structured weight (`perf_sample_weight`).
    PERF_SAMPLE_WEIGHT_STRUCT = 1 << 24,
    /// One past the highest `sample_type` bit (not ABI: grows with new kernels).
    PERF_SAMPLE_MAX = 1 << 25,
    /// Either weight format.
    PERF_SAMPLE_WEIGHT_TYPE = PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT,
}

crate::uapi_consts! { READ_FORMAT: u64;
    /// `read()`: time enabled.
    PERF_FORMAT_TOTAL_TIME_ENABLED = 1 << 0,
    /// `read()`: time running.
    PERF_FORMAT_TOTAL_TIME_RUNNING = 1 << 1,
    /// `read()`: event id.
    PERF_FORMAT_ID = 1 << 2,
    /// `read()`: the whole group.
    PERF_FORMAT_GROUP = 1 << 3,
    /// `read()`: number of lost samples.
    PERF_FORMAT_LOST = 1 << 4,
    /// One past the highest `read_format` bit (not ABI).
    PERF_FORMAT_MAX = 1 << 5,
}

crate::uapi_consts! { BRANCH_SAMPLE_SHIFTS: u64;
    /// User branches
    PERF_SAMPLE_BRANCH_USER_SHIFT = 0,
    /// Kernel branches
    PERF_SAMPLE_BRANCH_KERNEL_SHIFT = 1,
    /// Hypervisor branches
    PERF_SAMPLE_BRANCH_HV_SHIFT = 2,
    /// Any branch types
    PERF_SAMPLE_BRANCH_ANY_SHIFT = 3,
    /// Any call branch
    PERF_SAMPLE_BRANCH_ANY_CALL_SHIFT = 4,
    /// Any return branch
    PERF_SAMPLE_BRANCH_ANY_RETURN_SHIFT = 5,
    /// Indirect calls
    PERF_SAMPLE_BRANCH_IND_CALL_SHIFT = 6,
    /// Transaction aborts
    PERF_SAMPLE_BRANCH_ABORT_TX_SHIFT = 7,
    /// In transaction
    PERF_SAMPLE_BRANCH_IN_TX_SHIFT = 8,
    /// Not in transaction
    PERF_SAMPLE_BRANCH_NO_TX_SHIFT = 9,
    /// Conditional branches
    PERF_SAMPLE_BRANCH_COND_SHIFT = 10,
    /// Call/ret stack
    PERF_SAMPLE_BRANCH_CALL_STACK_SHIFT = 11,
    /// Indirect jumps
    PERF_SAMPLE_BRANCH_IND_JUMP_SHIFT = 12,
    /// Direct call
    PERF_SAMPLE_BRANCH_CALL_SHIFT = 13,
    /// No flags
    PERF_SAMPLE_BRANCH_NO_FLAGS_SHIFT = 14,
    /// No cycles
    PERF_SAMPLE_BRANCH_NO_CYCLES_SHIFT = 15,
    /// Save branch type
    PERF_SAMPLE_BRANCH_TYPE_SAVE_SHIFT = 16,
    /// Save low level index of raw branch records
    PERF_SAMPLE_BRANCH_HW_INDEX_SHIFT = 17,
    /// Save privilege mode
    PERF_SAMPLE_BRANCH_PRIV_SAVE_SHIFT = 18,
    /// Number of values (not ABI: grows with new kernels).
    PERF_SAMPLE_BRANCH_MAX_SHIFT = 19,
}

crate::uapi_consts! { BRANCH_SAMPLE_TYPE: u64;
    PERF_SAMPLE_BRANCH_USER = 1 << PERF_SAMPLE_BRANCH_USER_SHIFT,
    PERF_SAMPLE_BRANCH_KERNEL = 1 << PERF_SAMPLE_BRANCH_KERNEL_SHIFT,
    PERF_SAMPLE_BRANCH_HV = 1 << PERF_SAMPLE_BRANCH_HV_SHIFT,
    PERF_SAMPLE_BRANCH_ANY = 1 << PERF_SAMPLE_BRANCH_ANY_SHIFT,
    PERF_SAMPLE_BRANCH_ANY_CALL = 1 << PERF_SAMPLE_BRANCH_ANY_CALL_SHIFT,
    PERF_SAMPLE_BRANCH_ANY_RETURN = 1 << PERF_SAMPLE_BRANCH_ANY_RETURN_SHIFT,
    PERF_SAMPLE_BRANCH_IND_CALL = 1 << PERF_SAMPLE_BRANCH_IND_CALL_SHIFT,
    PERF_SAMPLE_BRANCH_ABORT_TX = 1 << PERF_SAMPLE_BRANCH_ABORT_TX_SHIFT,
    PERF_SAMPLE_BRANCH_IN_TX = 1 << PERF_SAMPLE_BRANCH_IN_TX_SHIFT,
    PERF_SAMPLE_BRANCH_NO_TX = 1 << PERF_SAMPLE_BRANCH_NO_TX_SHIFT,
    PERF_SAMPLE_BRANCH_COND = 1 << PERF_SAMPLE_BRANCH_COND_SHIFT,
    PERF_SAMPLE_BRANCH_CALL_STACK = 1 << PERF_SAMPLE_BRANCH_CALL_STACK_SHIFT,
    PERF_SAMPLE_BRANCH_IND_JUMP = 1 << PERF_SAMPLE_BRANCH_IND_JUMP_SHIFT,
    PERF_SAMPLE_BRANCH_CALL = 1 << PERF_SAMPLE_BRANCH_CALL_SHIFT,
    PERF_SAMPLE_BRANCH_NO_FLAGS = 1 << PERF_SAMPLE_BRANCH_NO_FLAGS_SHIFT,
    PERF_SAMPLE_BRANCH_NO_CYCLES = 1 << PERF_SAMPLE_BRANCH_NO_CYCLES_SHIFT,
    PERF_SAMPLE_BRANCH_TYPE_SAVE = 1 << PERF_SAMPLE_BRANCH_TYPE_SAVE_SHIFT,
    PERF_SAMPLE_BRANCH_HW_INDEX = 1 << PERF_SAMPLE_BRANCH_HW_INDEX_SHIFT,
    PERF_SAMPLE_BRANCH_PRIV_SAVE = 1 << PERF_SAMPLE_BRANCH_PRIV_SAVE_SHIFT,
    PERF_SAMPLE_BRANCH_MAX = 1 << PERF_SAMPLE_BRANCH_MAX_SHIFT,
    /// Every privilege-level bit.
    PERF_SAMPLE_BRANCH_PLM_ALL = PERF_SAMPLE_BRANCH_USER | PERF_SAMPLE_BRANCH_KERNEL | PERF_SAMPLE_BRANCH_HV,
}

crate::uapi_consts! { BRANCH_TYPES: u32;
    /// Unknown
    PERF_BR_UNKNOWN = 0,
    /// Conditional
    PERF_BR_COND = 1,
    /// Unconditional
    PERF_BR_UNCOND = 2,
    /// Indirect
    PERF_BR_IND = 3,
    /// Function call
    PERF_BR_CALL = 4,
    /// Indirect function call
    PERF_BR_IND_CALL = 5,
    /// Function return
    PERF_BR_RET = 6,
    /// Syscall
    PERF_BR_SYSCALL = 7,
    /// Syscall return
    PERF_BR_SYSRET = 8,
    /// Conditional function call
    PERF_BR_COND_CALL = 9,
    /// Conditional function return
    PERF_BR_COND_RET = 10,
    /// Exception return
    PERF_BR_ERET = 11,
    /// Irq
    PERF_BR_IRQ = 12,
    /// System error
    PERF_BR_SERROR = 13,
    /// Not in transaction
    PERF_BR_NO_TX = 14,
    /// Extend ABI
    PERF_BR_EXTEND_ABI = 15,
    PERF_BR_MAX = 16,
}

crate::uapi_consts! { BRANCH_SPEC: u32;
    /// Not available
    PERF_BR_SPEC_NA = 0,
    /// Speculative but on wrong path
    PERF_BR_SPEC_WRONG_PATH = 1,
    /// Non-speculative but on correct path
    PERF_BR_NON_SPEC_CORRECT_PATH = 2,
    /// Speculative and on correct path
    PERF_BR_SPEC_CORRECT_PATH = 3,
    PERF_BR_SPEC_MAX = 4,
}

crate::uapi_consts! { BRANCH_NEW_TYPES: u32;
    /// Alignment fault
    PERF_BR_NEW_FAULT_ALGN = 0,
    /// Data fault
    PERF_BR_NEW_FAULT_DATA = 1,
    /// Inst fault
    PERF_BR_NEW_FAULT_INST = 2,
    /// Architecture specific
    PERF_BR_NEW_ARCH_1 = 3,
    /// Architecture specific
    PERF_BR_NEW_ARCH_2 = 4,
    /// Architecture specific
    PERF_BR_NEW_ARCH_3 = 5,
    /// Architecture specific
    PERF_BR_NEW_ARCH_4 = 6,
    /// Architecture specific
    PERF_BR_NEW_ARCH_5 = 7,
    PERF_BR_NEW_MAX = 8,
    PERF_BR_ARM64_FIQ = PERF_BR_NEW_ARCH_1,
    PERF_BR_ARM64_DEBUG_HALT = PERF_BR_NEW_ARCH_2,
    PERF_BR_ARM64_DEBUG_EXIT = PERF_BR_NEW_ARCH_3,
    PERF_BR_ARM64_DEBUG_INST = PERF_BR_NEW_ARCH_4,
    PERF_BR_ARM64_DEBUG_DATA = PERF_BR_NEW_ARCH_5,
}

crate::uapi_consts! { BRANCH_PRIV: u32;
    PERF_BR_PRIV_UNKNOWN = 0,
    PERF_BR_PRIV_USER = 1,
    PERF_BR_PRIV_KERNEL = 2,
    PERF_BR_PRIV_HV = 3,
}

crate::uapi_enum! {
    /// `enum perf_sample_regs_abi`: ABI of the sampled user/interrupt registers.
    pub enum PerfSampleRegsAbi: u64 {
        /// No registers.
        None = PERF_SAMPLE_REGS_ABI_NONE = 0,
        /// 32-bit registers.
        N32 = PERF_SAMPLE_REGS_ABI_32 = 1,
        /// 64-bit registers.
        N64 = PERF_SAMPLE_REGS_ABI_64 = 2,
    }
}

crate::uapi_consts! { TXN_FLAGS: u64;
    /// From elision
    PERF_TXN_ELISION = 1 << 0,
    /// From transaction
    PERF_TXN_TRANSACTION = 1 << 1,
    /// Instruction is related
    PERF_TXN_SYNC = 1 << 2,
    /// Instruction not related
    PERF_TXN_ASYNC = 1 << 3,
    /// Retry possible
    PERF_TXN_RETRY = 1 << 4,
    /// Conflict abort
    PERF_TXN_CONFLICT = 1 << 5,
    /// Capacity write abort
    PERF_TXN_CAPACITY_WRITE = 1 << 6,
    /// Capacity read abort
    PERF_TXN_CAPACITY_READ = 1 << 7,
    /// Number of values (not ABI: grows with new kernels).
    PERF_TXN_MAX = 1 << 8,
    PERF_TXN_ABORT_MASK = 0xffffffff << 32,
    PERF_TXN_ABORT_SHIFT = 32,
}

crate::uapi_consts! { MEM_DATA_SRC: u64;
    /// Not available
    PERF_MEM_OP_NA = 0x01,
    /// Load instruction
    PERF_MEM_OP_LOAD = 0x02,
    /// Store instruction
    PERF_MEM_OP_STORE = 0x04,
    /// Prefetch
    PERF_MEM_OP_PFETCH = 0x08,
    /// Code (execution)
    PERF_MEM_OP_EXEC = 0x10,
    PERF_MEM_OP_SHIFT = 0,
    /// Not available
    PERF_MEM_LVL_NA = 0x01,
    /// Hit level
    PERF_MEM_LVL_HIT = 0x02,
    /// Miss level
    PERF_MEM_LVL_MISS = 0x04,
    /// L1
    PERF_MEM_LVL_L1 = 0x08,
    /// Line Fill Buffer
    PERF_MEM_LVL_LFB = 0x10,
    /// L2
    PERF_MEM_LVL_L2 = 0x20,
    /// L3
    PERF_MEM_LVL_L3 = 0x40,
    /// Local DRAM
    PERF_MEM_LVL_LOC_RAM = 0x80,
    /// Remote DRAM (1 hop)
    PERF_MEM_LVL_REM_RAM1 = 0x100,
    /// Remote DRAM (2 hops)
    PERF_MEM_LVL_REM_RAM2 = 0x200,
    /// Remote Cache (1 hop)
    PERF_MEM_LVL_REM_CCE1 = 0x400,
    /// Remote Cache (2 hops)
    PERF_MEM_LVL_REM_CCE2 = 0x800,
    /// I/O memory
    PERF_MEM_LVL_IO = 0x1000,
    /// Uncached memory
    PERF_MEM_LVL_UNC = 0x2000,
    PERF_MEM_LVL_SHIFT = 5,
    /// Remote
    PERF_MEM_REMOTE_REMOTE = 0x01,
    PERF_MEM_REMOTE_SHIFT = 37,
    /// L1
    PERF_MEM_LVLNUM_L1 = 0x01,
    /// L2
    PERF_MEM_LVLNUM_L2 = 0x02,
    /// L3
    PERF_MEM_LVLNUM_L3 = 0x03,
    /// L4
    PERF_MEM_LVLNUM_L4 = 0x04,
    /// CXL
    PERF_MEM_LVLNUM_CXL = 0x09,
    /// I/O
    PERF_MEM_LVLNUM_IO = 0x0a,
    /// Any cache
    PERF_MEM_LVLNUM_ANY_CACHE = 0x0b,
    /// LFB
    PERF_MEM_LVLNUM_LFB = 0x0c,
    /// RAM
    PERF_MEM_LVLNUM_RAM = 0x0d,
    /// PMEM
    PERF_MEM_LVLNUM_PMEM = 0x0e,
    /// N/A
    PERF_MEM_LVLNUM_NA = 0x0f,
    PERF_MEM_LVLNUM_SHIFT = 33,
    /// Not available
    PERF_MEM_SNOOP_NA = 0x01,
    /// No snoop
    PERF_MEM_SNOOP_NONE = 0x02,
    /// Snoop hit
    PERF_MEM_SNOOP_HIT = 0x04,
    /// Snoop miss
    PERF_MEM_SNOOP_MISS = 0x08,
    /// Snoop hit modified
    PERF_MEM_SNOOP_HITM = 0x10,
    PERF_MEM_SNOOP_SHIFT = 19,
    /// Forward
    PERF_MEM_SNOOPX_FWD = 0x01,
    /// Xfer from peer
    PERF_MEM_SNOOPX_PEER = 0x02,
    PERF_MEM_SNOOPX_SHIFT = 38,
    /// Not available
    PERF_MEM_LOCK_NA = 0x01,
    /// Locked transaction
    PERF_MEM_LOCK_LOCKED = 0x02,
    PERF_MEM_LOCK_SHIFT = 24,
    /// Not available
    PERF_MEM_TLB_NA = 0x01,
    /// Hit level
    PERF_MEM_TLB_HIT = 0x02,
    /// Miss level
    PERF_MEM_TLB_MISS = 0x04,
    /// L1
    PERF_MEM_TLB_L1 = 0x08,
    /// L2
    PERF_MEM_TLB_L2 = 0x10,
    /// Hardware Walker
    PERF_MEM_TLB_WK = 0x20,
    /// OS fault handler
    PERF_MEM_TLB_OS = 0x40,
    PERF_MEM_TLB_SHIFT = 26,
    /// Not available
    PERF_MEM_BLK_NA = 0x01,
    /// Data could not be forwarded
    PERF_MEM_BLK_DATA = 0x02,
    /// Address conflict
    PERF_MEM_BLK_ADDR = 0x04,
    PERF_MEM_BLK_SHIFT = 40,
    /// Remote core, same node
    PERF_MEM_HOPS_0 = 0x01,
    /// Remote node, same socket
    PERF_MEM_HOPS_1 = 0x02,
    /// Remote socket, same board
    PERF_MEM_HOPS_2 = 0x03,
    /// Remote board
    PERF_MEM_HOPS_3 = 0x04,
    PERF_MEM_HOPS_SHIFT = 43,
}
