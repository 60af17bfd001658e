/* Scenario 7: tail calls. tc_entry (attached to syscalls/sys_enter_getpid) tail-calls
 * jump_table[0] = tc_second, which tail-calls jump_table[1] = tc_third. Each stage appends its
 * digit to chain[0] (chain = chain * 10 + stage) and counts its runs; tc_third's result is the
 * chain value 123 per call. Without the table entries the tail call falls through. */
#include "common.h"

DEFINE_CONFIG_MAP;

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} jump_table SEC(".maps");

/* [0] = last chain value, [1..3] = runs of stage 1..3, [4] = fall-throughs of stage 1 */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} chain SEC(".maps");

static __always_inline void stage(__u32 n)
{
    __u32 k0 = 0;
    __u64 *c = bpf_map_lookup_elem(&chain, &k0);
    __u64 *runs = bpf_map_lookup_elem(&chain, &n);
    if (!c || !runs)
        return;
    *c = n == 1 ? 1 : *c * 10 + n;
    __sync_fetch_and_add(runs, 1);
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tc_entry(void *ctx)
{
    if (!IS_TARGET_TGID())
        return 0;
    stage(1);
    bpf_tail_call(ctx, &jump_table, 0);
    __u32 k = 4; /* only reached when jump_table[0] is empty */
    __u64 *ft = bpf_map_lookup_elem(&chain, &k);
    if (ft)
        __sync_fetch_and_add(ft, 1);
    return 0;
}

SEC("tracepoint")
int tc_second(void *ctx)
{
    stage(2);
    bpf_tail_call(ctx, &jump_table, 1);
    return 0;
}

SEC("tracepoint")
int tc_third(void *ctx)
{
    stage(3);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
