// Programs for the verifier's path-sensitive and pointer checks (verifier/tests_paths.rs):
// the patterns clang emits for map values, bounded indexes, loops and ring buffers, and
// sections named "bad_*" that Linux rejects.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct slots {
	__u64 slot[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct slots);
} table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("kprobe/count")
int count(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	if (!v)
		return 0;
	__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("kprobe/indexed")
int indexed(void *ctx)
{
	__u32 key = 0;
	struct slots *s = bpf_map_lookup_elem(&table, &key);
	__u32 i = bpf_get_prandom_u32();

	if (!s)
		return 0;
	if (i < 4)
		s->slot[i] += 1;
	return 0;
}

SEC("kprobe/sum")
int sum(void *ctx)
{
	__u32 key = 0;
	struct slots *s = bpf_map_lookup_elem(&table, &key);
	__u64 total = 0;

	if (!s)
		return 0;
	for (int i = 0; i < 4; i++)
		total += s->slot[i];
	return total & 1;
}

SEC("kprobe/event")
int event(void *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	*e = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/bad_unchecked")
int bad_unchecked(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	return *v;
}

SEC("kprobe/bad_index")
int bad_index(void *ctx)
{
	__u32 key = 0;
	struct slots *s = bpf_map_lookup_elem(&table, &key);
	__u32 i = bpf_get_prandom_u32();

	if (!s)
		return 0;
	if (i <= 4)
		s->slot[i] += 1;
	return 0;
}

char _license[] SEC("license") = "GPL";
