/* Scenario 12b: a map value dereferenced without the NULL check: the verifier must reject it
 * (R0 is map_value_or_null). */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH); /* an array lookup with a constant key is never NULL on new kernels */
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} vals SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int bad_mapval(void *ctx)
{
    __u32 k = 0;
    __u64 *v = bpf_map_lookup_elem(&vals, &k);
    asm volatile("" : "+r"(v)); /* hide the pointer from the optimiser: no check is added */
    return (int)*v;
}

char LICENSE[] SEC("license") = "GPL";
