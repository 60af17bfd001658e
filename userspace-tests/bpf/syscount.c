/* The `make run` demo (aya syscount): raw tracepoints sys_enter/sys_exit measure every system
 * call (count and total latency per syscall number) of every process except the tool itself;
 * a kprobe and a kretprobe on vfs_read count reads and bytes read. */
#include "common.h"

#include <asm/ptrace.h>
#include <bpf/bpf_tracing.h>

DEFINE_CONFIG_MAP; /* config[0]: the tool's own tgid, ignored */

struct start {
    __u64 ts;
    __u64 id;
};

struct stat {
    __u64 count;
    __u64 total_ns;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 1024);
    __type(key, __u64);
    __type(value, struct start);
} inflight SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 512);
    __type(key, __u32);
    __type(value, struct stat);
} stats SEC(".maps");

/* [0] vfs_read calls, [1] bytes returned by vfs_read */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} io SEC(".maps");

static __always_inline int is_self(void)
{
    __u32 k = 0;
    __u32 *self = bpf_map_lookup_elem(&config, &k);
    return self && *self == (__u32)(bpf_get_current_pid_tgid() >> 32);
}

SEC("raw_tracepoint/sys_enter")
int sc_enter(struct bpf_raw_tracepoint_args *ctx)
{
    if (is_self())
        return 0;
    __u64 key = bpf_get_current_pid_tgid();
    struct start s = {.ts = bpf_ktime_get_ns(), .id = ctx->args[1]};
    bpf_map_update_elem(&inflight, &key, &s, BPF_ANY);
    return 0;
}

SEC("raw_tracepoint/sys_exit")
int sc_exit(struct bpf_raw_tracepoint_args *ctx)
{
    __u64 key = bpf_get_current_pid_tgid();
    struct start *s = bpf_map_lookup_elem(&inflight, &key);
    if (!s)
        return 0;
    __u64 dt = bpf_ktime_get_ns() - s->ts;
    __u32 id = (__u32)s->id;
    bpf_map_delete_elem(&inflight, &key);
    struct stat *st = bpf_map_lookup_elem(&stats, &id);
    if (st) {
        __sync_fetch_and_add(&st->count, 1);
        __sync_fetch_and_add(&st->total_ns, dt);
    } else {
        struct stat n = {1, dt};
        bpf_map_update_elem(&stats, &id, &n, BPF_NOEXIST);
    }
    return 0;
}

SEC("kprobe")
int BPF_KPROBE(vfs_read_enter)
{
    if (is_self())
        return 0;
    __u32 k = 0;
    __u64 *v = bpf_map_lookup_elem(&io, &k);
    if (v)
        __sync_fetch_and_add(v, 1);
    return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(vfs_read_exit, long ret)
{
    if (is_self() || ret <= 0)
        return 0;
    __u32 k = 1;
    __u64 *v = bpf_map_lookup_elem(&io, &k);
    if (v)
        __sync_fetch_and_add(v, (__u64)ret);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
