//! Map types and map flags.
//!
//! Reference: `enum bpf_map_type`, the map-creation flag enum and the update flag enum in
//! include/uapi/linux/bpf.h.

crate::uapi_enum! {
    /// `enum bpf_map_type`.
    pub enum MapType: u32 {
        /// Reserved.
        Unspec = BPF_MAP_TYPE_UNSPEC = 0,
        /// Hash table.
        Hash = BPF_MAP_TYPE_HASH = 1,
        /// Array.
        Array = BPF_MAP_TYPE_ARRAY = 2,
        /// Array of program fds (tail calls).
        ProgArray = BPF_MAP_TYPE_PROG_ARRAY = 3,
        /// Array of perf event fds (`bpf_perf_event_output`).
        PerfEventArray = BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
        /// Hash with one value per possible CPU.
        PercpuHash = BPF_MAP_TYPE_PERCPU_HASH = 5,
        /// Array with one value per possible CPU.
        PercpuArray = BPF_MAP_TYPE_PERCPU_ARRAY = 6,
        /// Stack traces (`bpf_get_stackid`).
        StackTrace = BPF_MAP_TYPE_STACK_TRACE = 7,
        /// Array of cgroup fds.
        CgroupArray = BPF_MAP_TYPE_CGROUP_ARRAY = 8,
        /// Hash with LRU eviction.
        LruHash = BPF_MAP_TYPE_LRU_HASH = 9,
        /// Per-CPU hash with LRU eviction.
        LruPercpuHash = BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
        /// Longest-prefix-match trie.
        LpmTrie = BPF_MAP_TYPE_LPM_TRIE = 11,
        /// Array of map fds.
        ArrayOfMaps = BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
        /// Hash of map fds.
        HashOfMaps = BPF_MAP_TYPE_HASH_OF_MAPS = 13,
        /// Device map.
        Devmap = BPF_MAP_TYPE_DEVMAP = 14,
        /// Socket map.
        Sockmap = BPF_MAP_TYPE_SOCKMAP = 15,
        /// CPU map.
        Cpumap = BPF_MAP_TYPE_CPUMAP = 16,
        /// AF_XDP socket map.
        Xskmap = BPF_MAP_TYPE_XSKMAP = 17,
        /// Socket hash.
        Sockhash = BPF_MAP_TYPE_SOCKHASH = 18,
        /// Cgroup storage.
        CgroupStorage = BPF_MAP_TYPE_CGROUP_STORAGE = 19,
        /// Reuseport socket array.
        ReuseportSockarray = BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
        /// Per-CPU cgroup storage.
        PercpuCgroupStorage = BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
        /// FIFO queue.
        Queue = BPF_MAP_TYPE_QUEUE = 22,
        /// LIFO stack.
        Stack = BPF_MAP_TYPE_STACK = 23,
        /// Socket local storage.
        SkStorage = BPF_MAP_TYPE_SK_STORAGE = 24,
        /// Device hash map.
        DevmapHash = BPF_MAP_TYPE_DEVMAP_HASH = 25,
        /// struct_ops.
        StructOps = BPF_MAP_TYPE_STRUCT_OPS = 26,
        /// BPF ring buffer.
        Ringbuf = BPF_MAP_TYPE_RINGBUF = 27,
        /// Inode storage.
        InodeStorage = BPF_MAP_TYPE_INODE_STORAGE = 28,
        /// Task storage.
        TaskStorage = BPF_MAP_TYPE_TASK_STORAGE = 29,
        /// Bloom filter.
        BloomFilter = BPF_MAP_TYPE_BLOOM_FILTER = 30,
        /// User-space-produced ring buffer.
        UserRingbuf = BPF_MAP_TYPE_USER_RINGBUF = 31,
    }
}

crate::uapi_consts! { UPDATE_FLAGS: u64;
    /// Create a new element or update an existing one.
    BPF_ANY = 0,
    /// Create a new element only if it did not exist.
    BPF_NOEXIST = 1,
    /// Update an existing element only.
    BPF_EXIST = 2,
    /// Take the value's `bpf_spin_lock` while copying it.
    BPF_F_LOCK = 4,
}

crate::uapi_consts! { MAP_CREATE_FLAGS: u32;
    /// Do not preallocate hash elements.
    BPF_F_NO_PREALLOC = 1 << 0,
    /// LRU maps: per-CPU LRU lists instead of one common list.
    BPF_F_NO_COMMON_LRU = 1 << 1,
    /// `numa_node` is valid.
    BPF_F_NUMA_NODE = 1 << 2,
    /// Syscall side may only read.
    BPF_F_RDONLY = 1 << 3,
    /// Syscall side may only write.
    BPF_F_WRONLY = 1 << 4,
    /// Stack trace maps store build ids.
    BPF_F_STACK_BUILD_ID = 1 << 5,
    /// Zero hash seed (tests only).
    BPF_F_ZERO_SEED = 1 << 6,
    /// Programs may only read.
    BPF_F_RDONLY_PROG = 1 << 7,
    /// Programs may only write.
    BPF_F_WRONLY_PROG = 1 << 8,
    /// Clone local storage on fork.
    BPF_F_CLONE = 1 << 9,
    /// Array can be mmap'ed.
    BPF_F_MMAPABLE = 1 << 10,
    /// perf_event_array: keep elements when the map fd is closed.
    BPF_F_PRESERVE_ELEMS = 1 << 11,
    /// Inner maps of map-in-map may have different max_entries.
    BPF_F_INNER_MAP = 1 << 12,
}

crate::uapi_consts! { RINGBUF_FLAGS: u64;
    /// `bpf_ringbuf_*`: do not wake up the consumer.
    BPF_RB_NO_WAKEUP = 1 << 0,
    /// `bpf_ringbuf_*`: always wake up the consumer.
    BPF_RB_FORCE_WAKEUP = 1 << 1,
}

crate::uapi_consts! { RINGBUF_QUERY: u64;
    /// `bpf_ringbuf_query`: bytes not yet consumed.
    BPF_RB_AVAIL_DATA = 0,
    /// `bpf_ringbuf_query`: size of the data area.
    BPF_RB_RING_SIZE = 1,
    /// `bpf_ringbuf_query`: consumer position.
    BPF_RB_CONS_POS = 2,
    /// `bpf_ringbuf_query`: producer position.
    BPF_RB_PROD_POS = 3,
}

crate::uapi_consts! { RINGBUF_HDR: u32;
    /// Record header bit: the record is still being written.
    BPF_RINGBUF_BUSY_BIT = 1 << 31,
    /// Record header bit: the record was discarded.
    BPF_RINGBUF_DISCARD_BIT = 1 << 30,
    /// Size of the 8-byte record header.
    BPF_RINGBUF_HDR_SZ = 8,
}

crate::uapi_consts! { PERF_OUTPUT_FLAGS: u64;
    /// `bpf_perf_event_output`: index mask.
    BPF_F_INDEX_MASK = 0xffff_ffff,
    /// `bpf_perf_event_output`: use the current CPU as index.
    BPF_F_CURRENT_CPU = 0xffff_ffff,
    /// `bpf_skb/xdp_output`: length of the packet data to append (mask, bits 32..52).
    BPF_F_CTXLEN_MASK = 0xfffff << 32,
}

crate::uapi_consts! { OBJ_NAME: usize;
    /// Maximum length of an object name including the NUL.
    BPF_OBJ_NAME_LEN = 16,
}
