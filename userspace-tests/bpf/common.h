/* common.h — shared by the C eBPF objects the Aya tests load (userspace-tests/aya).
 *
 * Plain libbpf-style programs: <linux/bpf.h> and libbpf-dev's <bpf/bpf_helpers.h>, BTF-defined
 * maps in ".maps", compiled with `clang -O2 -g -target bpf` (BTF included). No vmlinux.h:
 * tracepoint records are declared with Linux's offsets (tracefs format files). */
#ifndef AYA_BPF_COMMON_H
#define AYA_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

/* Configuration user space writes before attaching: key 0 = the test's tgid. Programs ignore
 * every other process (the host runs other programs that hit the same probes). */
#define DEFINE_CONFIG_MAP                                                                          \
    struct {                                                                                       \
        __uint(type, BPF_MAP_TYPE_ARRAY);                                                          \
        __uint(max_entries, 1);                                                                    \
        __type(key, __u32);                                                                        \
        __type(value, __u32);                                                                      \
    } config SEC(".maps")

/* 1 when the current process is the one named in config[0]. */
#define IS_TARGET_TGID()                                                                           \
    ({                                                                                             \
        __u32 k_ = 0;                                                                              \
        __u32 *want_ = bpf_map_lookup_elem(&config, &k_);                                          \
        want_ && *want_ == (__u32)(bpf_get_current_pid_tgid() >> 32);                              \
    })

/* counts[tgid of the current process] += 1 in a hash map of __u32 → __u64. */
static __always_inline void count_current_tgid(void *counts)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    __u64 one = 1;
    __u64 *v = bpf_map_lookup_elem(counts, &tgid);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(counts, &tgid, &one, BPF_NOEXIST);
}

/* syscalls/sys_enter_* record (tracefs format: __syscall_nr at 8, args at 16). */
struct syscall_enter_ctx {
    __u16 common_type;
    __u8 common_flags;
    __u8 common_preempt_count;
    __s32 common_pid;
    __s32 syscall_nr;
    __u32 pad;
    __u64 args[6];
};

#endif
