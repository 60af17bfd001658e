// A tail-call chain through a prog_array: stage0 -> stage1 -> stage2; each stage records
// that it ran in .bss; stage2 returns 42. A missing slot falls through (returns 1).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

__u64 ran[3];

SEC("raw_tp/a")
int stage0(void *ctx)
{
	ran[0]++;
	bpf_tail_call(ctx, &jmp, 1);
	return 1;
}

SEC("raw_tp/b")
int stage1(void *ctx)
{
	ran[1]++;
	bpf_tail_call(ctx, &jmp, 2);
	return 1;
}

SEC("raw_tp/c")
int stage2(void *ctx)
{
	ran[2]++;
	return 42;
}

char _license[] SEC("license") = "GPL";
