//! Flag constants of helpers and commands that have no better home, and small enums of
//! helper arguments and results.
//!
//! Reference: the anonymous flag enums after `enum bpf_func_id`, `BPF_F_TEST_*`,
//! `enum bpf_stats_type`, `enum bpf_stack_build_id_status` and `enum bpf_task_fd_type` in
//! include/uapi/linux/bpf.h (Linux 6.1). Map flags, update flags, ring buffer flags and
//! `bpf_perf_event_output` flags are in `map.rs`; program load flags in `prog.rs`; attach and
//! query flags in `attach.rs`.

crate::uapi_consts! { TEST_RUN_FLAGS: u32;
    /// `BPF_PROG_TEST_RUN`: run on `test.cpu`.
    BPF_F_TEST_RUN_ON_CPU = 1 << 0,
    /// `BPF_PROG_TEST_RUN` (XDP): run on live frames and transmit them.
    BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1,
    /// `BPF_PROG_TEST_RUN` (skb): report `CHECKSUM_COMPLETE`.
    BPF_F_TEST_SKB_CHECKSUM_COMPLETE = 1 << 2,
}

crate::uapi_consts! { CSUM_FLAGS: u64;
    /// `bpf_skb_store_bytes`: recompute the checksum.
    BPF_F_RECOMPUTE_CSUM = 1 << 0,
    /// `bpf_skb_store_bytes`: invalidate the skb hash.
    BPF_F_INVALIDATE_HASH = 1 << 1,
    /// `bpf_l3/l4_csum_replace`: mask of the field size.
    BPF_F_HDR_FIELD_MASK = 0xf,
    /// `bpf_l4_csum_replace`: the field is part of the pseudo header.
    BPF_F_PSEUDO_HDR = 1 << 4,
    /// `bpf_l4_csum_replace`: mark a zero checksum as mangled.
    BPF_F_MARK_MANGLED_0 = 1 << 5,
    /// `bpf_l4_csum_replace`: enforce the mangled mark.
    BPF_F_MARK_ENFORCE = 1 << 6,
    /// `bpf_l4_csum_replace`: IPv6.
    BPF_F_IPV6 = 1 << 7,
}

crate::uapi_consts! { TUNNEL_FLAGS: u64;
    /// `bpf_skb_{get,set}_tunnel_key`: IPv6 tunnel.
    BPF_F_TUNINFO_IPV6 = 1 << 0,
    /// `bpf_skb_set_tunnel_key`: zero UDP checksum on transmit.
    BPF_F_ZERO_CSUM_TX = 1 << 1,
    /// `bpf_skb_set_tunnel_key`: set don't-fragment.
    BPF_F_DONT_FRAGMENT = 1 << 2,
    /// `bpf_skb_set_tunnel_key`: add a sequence number.
    BPF_F_SEQ_NUMBER = 1 << 3,
    /// `bpf_skb_get_tunnel_key`: report tunnel flags.
    BPF_F_TUNINFO_FLAGS = 1 << 4,
}

crate::uapi_consts! { STACK_FLAGS: u64;
    /// `bpf_get_stack{,id}`: number of frames to skip (mask).
    BPF_F_SKIP_FIELD_MASK = 0xff,
    /// `bpf_get_stack{,id}`: the user stack.
    BPF_F_USER_STACK = 1 << 8,
    /// `bpf_get_stackid`: compare only the hash of the stack.
    BPF_F_FAST_STACK_CMP = 1 << 9,
    /// `bpf_get_stackid`: replace an existing stack with the same hash.
    BPF_F_REUSE_STACKID = 1 << 10,
    /// `bpf_get_stack`: build ids instead of addresses.
    BPF_F_USER_BUILD_ID = 1 << 11,
}

crate::uapi_consts! { NETNS_FLAGS: i64;
    /// `bpf_sk_lookup_*`: the current network namespace.
    BPF_F_CURRENT_NETNS = -1,
}

crate::uapi_consts! { CSUM_LEVEL: u32;
    /// `bpf_csum_level`: query the level.
    BPF_CSUM_LEVEL_QUERY = 0,
    /// `bpf_csum_level`: increment.
    BPF_CSUM_LEVEL_INC = 1,
    /// `bpf_csum_level`: decrement.
    BPF_CSUM_LEVEL_DEC = 2,
    /// `bpf_csum_level`: reset.
    BPF_CSUM_LEVEL_RESET = 3,
}

crate::uapi_consts! { ADJ_ROOM_FLAGS: u64;
    /// `bpf_skb_adjust_room`: keep the GSO size.
    BPF_F_ADJ_ROOM_FIXED_GSO = 1 << 0,
    /// `bpf_skb_adjust_room`: IPv4 encapsulation.
    BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 = 1 << 1,
    /// `bpf_skb_adjust_room`: IPv6 encapsulation.
    BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 = 1 << 2,
    /// `bpf_skb_adjust_room`: GRE encapsulation.
    BPF_F_ADJ_ROOM_ENCAP_L4_GRE = 1 << 3,
    /// `bpf_skb_adjust_room`: UDP encapsulation.
    BPF_F_ADJ_ROOM_ENCAP_L4_UDP = 1 << 4,
    /// `bpf_skb_adjust_room`: do not reset the checksum.
    BPF_F_ADJ_ROOM_NO_CSUM_RESET = 1 << 5,
    /// `bpf_skb_adjust_room`: Ethernet inner header.
    BPF_F_ADJ_ROOM_ENCAP_L2_ETH = 1 << 6,
    /// Mask of the inner L2 header length (`BPF_F_ADJ_ROOM_ENCAP_L2(len)`).
    BPF_ADJ_ROOM_ENCAP_L2_MASK = 0xff,
    /// Shift of the inner L2 header length.
    BPF_ADJ_ROOM_ENCAP_L2_SHIFT = 56,
}

/// `BPF_F_ADJ_ROOM_ENCAP_L2(len)`: the inner L2 header length as an adjust-room flag.
pub const fn bpf_f_adj_room_encap_l2(len: u64) -> u64 {
    (len & BPF_ADJ_ROOM_ENCAP_L2_MASK) << BPF_ADJ_ROOM_ENCAP_L2_SHIFT
}

crate::uapi_consts! { ADJ_ROOM_MODES: u32;
    /// `enum bpf_adj_room_mode`: adjust at the network header.
    BPF_ADJ_ROOM_NET = 0,
    /// `enum bpf_adj_room_mode`: adjust at the MAC header.
    BPF_ADJ_ROOM_MAC = 1,
    /// `enum bpf_hdr_start_off`: from the MAC header.
    BPF_HDR_START_MAC = 0,
    /// `enum bpf_hdr_start_off`: from the network header.
    BPF_HDR_START_NET = 1,
    /// `enum bpf_lwt_encap_mode`: SRv6.
    BPF_LWT_ENCAP_SEG6 = 0,
    /// `enum bpf_lwt_encap_mode`: SRv6 inline.
    BPF_LWT_ENCAP_SEG6_INLINE = 1,
    /// `enum bpf_lwt_encap_mode`: IP.
    BPF_LWT_ENCAP_IP = 2,
}

crate::uapi_consts! { MISC_HELPER_FLAGS: u64;
    /// `bpf_sysctl_get_name`: only the base name.
    BPF_F_SYSCTL_BASE_NAME = 1 << 0,
    /// `bpf_*_storage_get`: create the element if missing.
    BPF_LOCAL_STORAGE_GET_F_CREATE = 1 << 0,
    /// Old name of `BPF_LOCAL_STORAGE_GET_F_CREATE`.
    BPF_SK_STORAGE_GET_F_CREATE = 1 << 0,
    /// `bpf_read_branch_records`: return the size needed.
    BPF_F_GET_BRANCH_RECORDS_SIZE = 1 << 0,
    /// `bpf_sk_assign` (sk_lookup): replace an already selected socket.
    BPF_SK_LOOKUP_F_REPLACE = 1 << 0,
    /// `bpf_sk_assign` (sk_lookup): skip SO_REUSEPORT selection.
    BPF_SK_LOOKUP_F_NO_REUSEPORT = 1 << 1,
    /// `bpf_bprm_opts_set`: set `AT_SECURE`.
    BPF_F_BPRM_SECUREEXEC = 1 << 0,
    /// `bpf_redirect*`: redirect to ingress.
    BPF_F_INGRESS = 1 << 0,
    /// `bpf_redirect_map`: broadcast to every map entry.
    BPF_F_BROADCAST = 1 << 3,
    /// `bpf_redirect_map` broadcast: skip the ingress interface.
    BPF_F_EXCLUDE_INGRESS = 1 << 4,
    /// Every `bpf_redirect_map` flag.
    BPF_F_REDIRECT_FLAGS = BPF_F_INGRESS | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS,
}

crate::uapi_enum! {
    /// `enum bpf_stats_type`: `BPF_ENABLE_STATS` argument.
    pub enum StatsType: u32 {
        /// Program run time and run count.
        RunTime = BPF_STATS_RUN_TIME = 0,
    }
}

crate::uapi_enum! {
    /// `enum bpf_task_fd_type`: `BPF_TASK_FD_QUERY` result kind.
    pub enum TaskFdType: u32 {
        /// Raw tracepoint.
        RawTracepoint = BPF_FD_TYPE_RAW_TRACEPOINT = 0,
        /// Tracepoint.
        Tracepoint = BPF_FD_TYPE_TRACEPOINT = 1,
        /// kprobe.
        Kprobe = BPF_FD_TYPE_KPROBE = 2,
        /// kretprobe.
        Kretprobe = BPF_FD_TYPE_KRETPROBE = 3,
        /// uprobe.
        Uprobe = BPF_FD_TYPE_UPROBE = 4,
        /// uretprobe.
        Uretprobe = BPF_FD_TYPE_URETPROBE = 5,
    }
}
