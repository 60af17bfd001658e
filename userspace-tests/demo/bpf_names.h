/* bpf_names.h — map and program type names as `bpftool map/prog list` prints them
 * (the enum bpf_map_type / bpf_prog_type order of Linux 6.1's <linux/bpf.h>; cgrp_storage and
 * netfilter are Linux 6.2 and 6.4 additions, listed so a newer host prints them by name).
 */
#ifndef DEMO_BPF_NAMES_H
#define DEMO_BPF_NAMES_H

#include <stdint.h>

static const char *map_type_name(uint32_t t)
{
    static const char *const names[] = {
        "unspec",          "hash",           "array",          "prog_array",       "perf_event_array",
        "percpu_hash",     "percpu_array",   "stack_trace",    "cgroup_array",     "lru_hash",
        "lru_percpu_hash", "lpm_trie",       "array_of_maps",  "hash_of_maps",     "devmap",
        "sockmap",         "cpumap",         "xskmap",         "sockhash",         "cgroup_storage",
        "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",          "sk_storage",
        "devmap_hash",     "struct_ops",     "ringbuf",        "inode_storage",    "task_storage",
        "bloom_filter",    "user_ringbuf",   "cgrp_storage",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static const char *prog_type_name(uint32_t t)
{
    static const char *const names[] = {
        "unspec",        "socket_filter",  "kprobe",           "sched_cls",      "sched_act",
        "tracepoint",    "xdp",            "perf_event",       "cgroup_skb",     "cgroup_sock",
        "lwt_in",        "lwt_out",        "lwt_xmit",         "sock_ops",       "sk_skb",
        "cgroup_device", "sk_msg",         "raw_tracepoint",   "cgroup_sock_addr", "lwt_seg6local",
        "lirc_mode2",    "sk_reuseport",   "flow_dissector",   "cgroup_sysctl",  "raw_tracepoint_writable",
        "cgroup_sockopt", "tracing",       "struct_ops",       "ext",            "lsm",
        "sk_lookup",     "syscall",        "netfilter",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

#endif
