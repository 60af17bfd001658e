/* Scenario 2: a kretprobe (on __x64_sys_dup) records every return value of the test process
 * into an array, in call order; nret[0] counts the returns. */
#include "common.h"

#include <asm/ptrace.h>
#include <bpf/bpf_tracing.h>

#define MAX_RETS 64

DEFINE_CONFIG_MAP;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, MAX_RETS);
    __type(key, __u32);
    __type(value, __s64);
} rets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} nret SEC(".maps");

SEC("kretprobe")
int BPF_KRETPROBE(dup_ret, long ret)
{
    if (!IS_TARGET_TGID())
        return 0;
    __u32 k = 0;
    __u64 *n = bpf_map_lookup_elem(&nret, &k);
    if (!n)
        return 0;
    __u64 i = __sync_fetch_and_add(n, 1);
    if (i >= MAX_RETS)
        return 0;
    __u32 idx = (__u32)i;
    __s64 *slot = bpf_map_lookup_elem(&rets, &idx);
    if (slot)
        *slot = ret;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
