/* Scenario 10: global data. .rodata constants (set by user space with EbpfLoader::set_global
 * before the load, frozen afterwards), .data and .bss variables the program updates and user
 * space reads (and writes) through the maps aya creates for those sections. */
#include "common.h"

volatile const __u64 target_tgid = 0; /* .rodata, set_global */
volatile const __u64 magic = 0;       /* .rodata, set_global */

__u64 data_counter = 7; /* .data: starts at 7 */
__u64 data_step = 1;    /* .data: user space changes it */

__u64 bss_calls;      /* .bss */
__u64 bss_magic_seen; /* .bss */

SEC("tracepoint/syscalls/sys_enter_getpid")
int globals_getpid(void *ctx)
{
    if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
        return 0;
    __sync_fetch_and_add(&data_counter, data_step);
    __sync_fetch_and_add(&bss_calls, 1);
    bss_magic_seen = magic;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
