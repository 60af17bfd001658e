/* Scenario 6: LRU hash, queue, stack, bloom filter and LPM trie used from a program. User space
 * sets ctl[0] = operation, ctl[1] = argument and calls getpid(); the program (syscalls/
 * sys_enter_getpid, test process only) runs the operation and writes out[0..3]. */
#include "common.h"

DEFINE_CONFIG_MAP;

enum { OP_NONE, OP_PUSH, OP_POP, OP_BLOOM_PEEK, OP_LPM_LOOKUP, OP_LRU_LOOKUP };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} ctl SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __s64);
} out SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 8);
    __type(value, __u64);
} queue SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 8);
    __type(value, __u64);
} stack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 64);
    __type(value, __u64);
} bloom SEC(".maps");

struct lpm_key {
    __u32 prefixlen;
    __u8 addr[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key);
    __type(value, __u32);
} lpm SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} lru SEC(".maps");

static __always_inline void put(__u32 i, __s64 v)
{
    __s64 *p = bpf_map_lookup_elem(&out, &i);
    if (p)
        *p = v;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int maps_getpid(void *ctx)
{
    if (!IS_TARGET_TGID())
        return 0;
    __u32 k0 = 0, k1 = 1;
    __u64 *op = bpf_map_lookup_elem(&ctl, &k0);
    __u64 *argp = bpf_map_lookup_elem(&ctl, &k1);
    if (!op || !argp)
        return 0;
    __u64 arg = *argp;
    __u64 v = 0, w = 0;
    long r;
    switch (*op) {
    case OP_PUSH:
        put(0, bpf_map_push_elem(&queue, &arg, 0));
        put(1, bpf_map_push_elem(&stack, &arg, 0));
        break;
    case OP_POP:
        r = bpf_map_pop_elem(&queue, &v);
        put(0, r ? r : (__s64)v);
        r = bpf_map_pop_elem(&stack, &w);
        put(1, r ? r : (__s64)w);
        break;
    case OP_BLOOM_PEEK:
        put(0, bpf_map_peek_elem(&bloom, &arg));
        break;
    case OP_LPM_LOOKUP: {
        struct lpm_key key = {.prefixlen = 32};
        __builtin_memcpy(key.addr, &arg, 4);
        __u32 *val = bpf_map_lookup_elem(&lpm, &key);
        put(0, val ? (__s64)*val : -1);
        break;
    }
    case OP_LRU_LOOKUP: {
        __u32 key = (__u32)arg;
        __u64 *val = bpf_map_lookup_elem(&lru, &key); /* marks the element as used */
        put(0, val ? (__s64)*val : -1);
        break;
    }
    }
    *op = OP_NONE;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
