/* Scenario 4: bpf_perf_event_output from a tracepoint program into a PerfEventArray (the
 * current CPU's buffer); each record carries a sequence number. */
#include "common.h"

DEFINE_CONFIG_MAP;

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} seq SEC(".maps");

struct perf_record {
    __u64 seq;
    __u32 tgid;
    __u32 cpu;
    __u64 magic;
};

SEC("tracepoint/syscalls/sys_enter_getpid")
int perf_getpid(void *ctx)
{
    if (!IS_TARGET_TGID())
        return 0;
    __u32 k = 0;
    __u64 *n = bpf_map_lookup_elem(&seq, &k);
    if (!n)
        return 0;
    struct perf_record r = {
        .seq = __sync_fetch_and_add(n, 1) + 1,
        .tgid = bpf_get_current_pid_tgid() >> 32,
        .cpu = bpf_get_smp_processor_id(),
        .magic = 0xfeedfacecafebeefULL,
    };
    bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &r, sizeof r);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
