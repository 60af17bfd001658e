/* Scenario 12a: an out-of-bounds stack read (fp-520, below the 512-byte frame): the verifier
 * must reject it. */
#include "common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int bad_stack(void *ctx)
{
    long v;
    asm volatile("%0 = *(u64 *)(r10 - 520)" : "=r"(v));
    return (int)v;
}

char LICENSE[] SEC("license") = "GPL";
