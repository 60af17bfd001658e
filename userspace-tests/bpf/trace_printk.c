/* Scenario 9: bpf_trace_printk from a tracepoint program, read back from trace_pipe. */
#include "common.h"

DEFINE_CONFIG_MAP;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} seq SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int printk_getpid(struct syscall_enter_ctx *ctx)
{
    if (!IS_TARGET_TGID())
        return 0;
    __u32 k = 0;
    __u64 *n = bpf_map_lookup_elem(&seq, &k);
    if (!n)
        return 0;
    __u64 i = __sync_fetch_and_add(n, 1) + 1;
    bpf_printk("aya_printk: tgid %u call %llu nr %d", (__u32)(bpf_get_current_pid_tgid() >> 32), i,
               ctx->syscall_nr);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
