// Global data: .rodata (frozen, read-only to the program), .data and .bss, reached through
// BPF_PSEUDO_MAP_VALUE loads; and a bpf-to-bpf call to a function in .text.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

volatile const __u64 factor = 3;
__u64 calls = 5;
__u64 total;

static __attribute__((noinline)) __u64 scale(__u64 x)
{
	return x * factor;
}

SEC("raw_tp/sys_enter")
int accumulate(struct bpf_raw_tracepoint_args *ctx)
{
	total += scale(ctx->args[0]);
	calls++;
	return total;
}

char _license[] SEC("license") = "Dual BSD/GPL";
