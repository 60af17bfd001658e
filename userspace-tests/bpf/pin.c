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
    count_current_tgid(&pin_counts);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
