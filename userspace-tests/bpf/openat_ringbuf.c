/* Scenario 3: syscalls/sys_enter_openat copies the filename (bpf_probe_read_user_str) into a
 * ring buffer record. */
#include "common.h"

#define FNAME_LEN 128

DEFINE_CONFIG_MAP;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct open_event {
    __u32 tgid;
    __s32 len; /* bpf_probe_read_user_str's result (bytes with the NUL, or -errno) */
    __s64 dfd;
    char filename[FNAME_LEN];
};

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct syscall_enter_ctx *ctx)
{
    if (!IS_TARGET_TGID())
        return 0;
    struct open_event *e = bpf_ringbuf_reserve(&events, sizeof *e, 0);
    if (!e)
        return 0;
    e->tgid = bpf_get_current_pid_tgid() >> 32;
    e->dfd = (__s64)(__s32)ctx->args[0];
    e->len = bpf_probe_read_user_str(e->filename, sizeof e->filename, (const void *)ctx->args[1]);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
