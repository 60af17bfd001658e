/* Scenario 1: a kprobe on a syscall handler counts calls per tgid in a hash map. */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

SEC("kprobe")
int count_getpid(void *ctx)
{
    count_current_tgid(&counts);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
