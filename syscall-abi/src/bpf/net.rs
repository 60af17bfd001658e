//! Constants of the networking program types and helpers: program return codes, XDP
//! actions, sock_ops, TCP, FIB lookup, MTU check, flow dissector and device cgroup values.
//!
//! Reference: the corresponding enums and defines in include/uapi/linux/bpf.h (Linux 6.1).
//! This subsystem runs tracing programs first; these are mirrored so that every constant of
//! the header is available (and checked by the layout test) when network hooks are added.

// Program return codes (`enum bpf_ret_code`) of lwt, tc-like and flow dissector programs.
crate::uapi_consts! { PROG_RET_CODES: u32;
    BPF_OK = 0,
    BPF_DROP = 2,
    BPF_REDIRECT = 7,
    BPF_LWT_REROUTE = 128,
    BPF_FLOW_DISSECTOR_CONTINUE = 129,
}

// XDP program results (`enum xdp_action`) and the XDP headroom.
crate::uapi_consts! { XDP_ACTIONS: u32;
    XDP_PACKET_HEADROOM = 256,
    XDP_ABORTED = 0,
    XDP_DROP = 1,
    XDP_PASS = 2,
    XDP_TX = 3,
    XDP_REDIRECT = 4,
}

// sk_skb/sk_msg/sk_reuseport program results (`enum sk_action`).
crate::uapi_consts! { SK_ACTIONS: u32;
    SK_DROP = 0,
    SK_PASS = 1,
}

// `__sk_buff.tstamp_type` values.
crate::uapi_consts! { SKB_TSTAMP: u32;
    BPF_SKB_TSTAMP_UNSPEC = 0,
    BPF_SKB_TSTAMP_DELIVERY_MONO = 1,
}

// cgroup device program access and device types.
crate::uapi_consts! { DEVCG: u64;
    BPF_DEVCG_ACC_MKNOD = 1 << 0,
    BPF_DEVCG_ACC_READ = 1 << 1,
    BPF_DEVCG_ACC_WRITE = 1 << 2,
    BPF_DEVCG_DEV_BLOCK = 1 << 0,
    BPF_DEVCG_DEV_CHAR = 1 << 1,
}

// `bpf_fib_lookup` flags and results.
crate::uapi_consts! { FIB_LOOKUP: u32;
    BPF_FIB_LOOKUP_DIRECT = 1 << 0,
    BPF_FIB_LOOKUP_OUTPUT = 1 << 1,
    BPF_FIB_LOOKUP_SKIP_NEIGH = 1 << 2,
    BPF_FIB_LOOKUP_TBID = 1 << 3,
    BPF_FIB_LOOKUP_SRC = 1 << 4,
    BPF_FIB_LKUP_RET_SUCCESS = 0,
    BPF_FIB_LKUP_RET_BLACKHOLE = 1,
    BPF_FIB_LKUP_RET_UNREACHABLE = 2,
    BPF_FIB_LKUP_RET_PROHIBIT = 3,
    BPF_FIB_LKUP_RET_NOT_FWDED = 4,
    BPF_FIB_LKUP_RET_FWD_DISABLED = 5,
    BPF_FIB_LKUP_RET_UNSUPP_LWT = 6,
    BPF_FIB_LKUP_RET_NO_NEIGH = 7,
    BPF_FIB_LKUP_RET_FRAG_NEEDED = 8,
    BPF_FIB_LKUP_RET_NO_SRC_ADDR = 9,
}

// `bpf_check_mtu` flags and results.
crate::uapi_consts! { MTU_CHECK: u32;
    BPF_MTU_CHK_SEGS = 1 << 0,
    BPF_MTU_CHK_RET_SUCCESS = 0,
    BPF_MTU_CHK_RET_FRAG_NEEDED = 1,
    BPF_MTU_CHK_RET_SEGS_TOOBIG = 2,
}

// Flow dissector flags.
crate::uapi_consts! { FLOW_DISSECTOR_FLAGS: u32;
    BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG = 1 << 0,
    BPF_FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL = 1 << 1,
    BPF_FLOW_DISSECTOR_F_STOP_AT_ENCAP = 1 << 2,
}

// `bpf_sock_ops_cb_flags_set` flags.
crate::uapi_consts! { SOCK_OPS_CB_FLAGS: u32;
    BPF_SOCK_OPS_RTO_CB_FLAG = 1 << 0,
    BPF_SOCK_OPS_RETRANS_CB_FLAG = 1 << 1,
    BPF_SOCK_OPS_STATE_CB_FLAG = 1 << 2,
    BPF_SOCK_OPS_RTT_CB_FLAG = 1 << 3,
    BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG = 1 << 4,
    BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG = 1 << 5,
    BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG = 1 << 6,
    BPF_SOCK_OPS_ALL_CB_FLAGS = 0x7F,
}

// `bpf_sock_ops.op` values.
crate::uapi_consts! { SOCK_OPS_OPS: u32;
    BPF_SOCK_OPS_VOID = 0,
    BPF_SOCK_OPS_TIMEOUT_INIT = 1,
    BPF_SOCK_OPS_RWND_INIT = 2,
    BPF_SOCK_OPS_TCP_CONNECT_CB = 3,
    BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB = 4,
    BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB = 5,
    BPF_SOCK_OPS_NEEDS_ECN = 6,
    BPF_SOCK_OPS_BASE_RTT = 7,
    BPF_SOCK_OPS_RTO_CB = 8,
    BPF_SOCK_OPS_RETRANS_CB = 9,
    BPF_SOCK_OPS_STATE_CB = 10,
    BPF_SOCK_OPS_TCP_LISTEN_CB = 11,
    BPF_SOCK_OPS_RTT_CB = 12,
    BPF_SOCK_OPS_PARSE_HDR_OPT_CB = 13,
    BPF_SOCK_OPS_HDR_OPT_LEN_CB = 14,
    BPF_SOCK_OPS_WRITE_HDR_OPT_CB = 15,
}

// TCP states as seen by sock_ops programs.
crate::uapi_consts! { TCP_STATES: u32;
    BPF_TCP_ESTABLISHED = 1,
    BPF_TCP_SYN_SENT = 2,
    BPF_TCP_SYN_RECV = 3,
    BPF_TCP_FIN_WAIT1 = 4,
    BPF_TCP_FIN_WAIT2 = 5,
    BPF_TCP_TIME_WAIT = 6,
    BPF_TCP_CLOSE = 7,
    BPF_TCP_CLOSE_WAIT = 8,
    BPF_TCP_LAST_ACK = 9,
    BPF_TCP_LISTEN = 10,
    BPF_TCP_CLOSING = 11,
    BPF_TCP_NEW_SYN_RECV = 12,
    BPF_TCP_MAX_STATES = 13,
}

// `bpf_setsockopt` TCP options reserved for BPF.
crate::uapi_consts! { TCP_SOCKOPTS: u32;
    TCP_BPF_IW = 1001,
    TCP_BPF_SNDCWND_CLAMP = 1002,
    TCP_BPF_DELACK_MAX = 1003,
    TCP_BPF_RTO_MIN = 1004,
    TCP_BPF_SYN = 1005,
    TCP_BPF_SYN_IP = 1006,
    TCP_BPF_SYN_MAC = 1007,
}

// TCP header option helpers' flags.
crate::uapi_consts! { TCP_HDR_OPT: u64;
    BPF_LOAD_HDR_OPT_TCP_SYN = 1 << 0,
    BPF_WRITE_HDR_TCP_CURRENT_MSS = 1,
    BPF_WRITE_HDR_TCP_SYNACK_COOKIE = 2,
}
