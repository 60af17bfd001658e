/* Scenario 8: a map and a program to pin. The program counts getpid() calls per tgid. */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} pin_counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int pin_getpid(void *ctx)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    __u64 one = 1;
    __u64 *v = bpf_map_lookup_elem(&pin_counts, &tgid);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&pin_counts, &tgid, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
