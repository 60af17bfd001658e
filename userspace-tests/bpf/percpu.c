/* Scenario 5: per-CPU maps. Each getpid() of the test process adds 1 to its CPU's slot of
 * pcpu_array[0] and of pcpu_hash[tgid]. */
#include "common.h"

DEFINE_CONFIG_MAP;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} pcpu_array SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} pcpu_hash SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int percpu_getpid(void *ctx)
{
    if (!IS_TARGET_TGID())
        return 0;
    __u32 k = 0;
    __u64 *v = bpf_map_lookup_elem(&pcpu_array, &k);
    if (v)
        *v += 1; /* this CPU's slot: no atomics needed */
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    __u64 *h = bpf_map_lookup_elem(&pcpu_hash, &tgid);
    if (h) {
        *h += 1;
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&pcpu_hash, &tgid, &one, BPF_NOEXIST);
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
