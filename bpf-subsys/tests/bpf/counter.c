// Counting programs: a kprobe and a raw tracepoint that count hits into an array map
// (slot 0: every hit; slot 1: the sum of the first argument).
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void bump(__u32 slot, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, by);
}

SEC("kprobe/do_sys_open")
int count_kprobe(struct pt_regs *ctx)
{
	bump(0, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int count_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	bump(0, 1);
	bump(1, ctx->args[0]);
	return 7;
}

char _license[] SEC("license") = "GPL";
