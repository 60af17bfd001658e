/* Scenario 11: named maps of several types and a named program, for loaded_programs() and
 * loaded_maps(). */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} intro_hash SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} intro_array SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} intro_ring SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int intro_prog(void *ctx)
{
    __u32 k = 0;
    __u64 one = 1;
    __u32 *a = bpf_map_lookup_elem(&intro_array, &k);
    if (a)
        *a += 1;
    bpf_map_update_elem(&intro_hash, &k, &one, BPF_ANY);
    bpf_ringbuf_output(&intro_ring, &one, sizeof one, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
