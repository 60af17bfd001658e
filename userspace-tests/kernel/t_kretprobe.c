/* t_kretprobe.c — kretprobes through the kprobe PMU (the config bit named by
 * format/retprobe) and kprobes inside a function.
 *
 * 1. A kretprobe on __x64_sys_dup (attached with BPF_LINK_CREATE) stores PT_REGS_RC
 *    (pt_regs->ax) of every return of this process: the count, the last value and the sum
 *    must match what dup() returned, an error return (-EBADF) included.
 * 2. A kprobe on __x64_sys_dup+0 (ioctl SET_BPF + ENABLE) reads the syscall's first argument
 *    the way Linux programs do: rdi holds the user pt_regs pointer (Linux's syscall wrappers),
 *    whose ->di is the argument, read with bpf_probe_read_kernel.
 * 3. A kprobe on an instruction boundary inside the function: offsets 1, 2, ... are tried;
 *    offsets inside an instruction must be refused with EILSEQ (Linux 6.1 passes
 *    register_kprobe's EILSEQ through create_local_trace_kprobe), boundaries accepted. The first
 *    boundary after a refused offset (still in the prologue) is probed and must count every
 *    call.
 *
 * On a Linux without the kprobe PMU it fails at the PMU lookup, after loading the programs. */
#include "perf_util.h"

#define SYM "__x64_sys_dup"
#define N 50
#define BAD_FD 99999

/* array[0]: {count, last ax, sum of ax}. */
static int load_ret_prog(int map, int tgid)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_MOV64_REG(6, 1));
    emit_filter_tgid(&a, tgid);
    emit_value_ptr(&a, 9, map, 0);
    emit_count(&a, 9, 0);
    emit(&a, BPF_LDX_MEM(BPF_DW, 1, 6, PTREGS_AX));
    emit(&a, BPF_STX_MEM(BPF_DW, 9, 1, 8));
    emit(&a, BPF_ATOMIC_ADD(BPF_DW, 9, 1, 16));
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_KPROBE, &a, "kret_ax");
}

/* array[1]: {count, user regs->di read through ctx->di, probe_read_kernel's result}. */
static int load_entry_prog(int map, int tgid)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_MOV64_REG(6, 1));
    emit_filter_tgid(&a, tgid);
    emit_value_ptr(&a, 9, map, 1);
    emit_count(&a, 9, 0);
    emit(&a, BPF_MOV64_REG(1, 10));
    emit(&a, BPF_ADD64_IMM(1, -16));
    emit(&a, BPF_MOV64_IMM(2, 8));
    emit(&a, BPF_LDX_MEM(BPF_DW, 3, 6, PTREGS_DI));
    emit(&a, BPF_ADD64_IMM(3, PTREGS_DI));
    emit(&a, BPF_CALL_HELPER(BPF_FUNC_probe_read_kernel));
    emit(&a, BPF_STX_MEM(BPF_DW, 9, 0, 16));
    emit(&a, BPF_LDX_MEM(BPF_DW, 1, 10, -16));
    emit(&a, BPF_STX_MEM(BPF_DW, 9, 1, 8));
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_KPROBE, &a, "kp_entry_di");
}

/* array[2].count += 1 */
static int load_count_prog(int map, int tgid)
{
    struct basm a;
    basm_init(&a);
    emit_filter_tgid(&a, tgid);
    emit_value_ptr(&a, 9, map, 2);
    emit_count(&a, 9, 0);
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_KPROBE, &a, "kp_offset");
}

static int attach(int fd, int prog)
{
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "PERF_EVENT_IOC_SET_BPF");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "PERF_EVENT_IOC_ENABLE");
    return fd;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    guard(30, "program load");
    int tgid = (int)raw_getpid();
    int map = map_create(BPF_MAP_TYPE_ARRAY, 4, 64, 4, "kret_out");
    int ret_prog = load_ret_prog(map, tgid);
    int entry_prog = load_entry_prog(map, tgid);
    int count_prog = load_count_prog(map, tgid);

    guard(30, "kprobe PMU lookup");
    int retbit;
    int type = kprobe_pmu(&retbit);
    CHECK(kallsyms_addr(SYM) != 0, "/proc/kallsyms has %s", SYM);

    /* 1 + 2: kretprobe and entry probe. */
    guard(60, "kretprobe on " SYM);
    /* the kretprobe as Aya attaches it when perf links exist: an enabled event + BPF_LINK_CREATE */
    int rfd = (int)CHECK_SYS(kprobe_open(type, 1ULL << retbit, SYM, 0, -1, 0, 0), "kretprobe (config bit %d) on %s",
                             retbit, SYM);
    int rlink = (int)CHECK_SYS(perf_link_create(ret_prog, rfd), "BPF_LINK_CREATE(BPF_PERF_EVENT) on the kretprobe");
    int efd = (int)CHECK_SYS(kprobe_open(type, 0, SYM, 0, -1, 0, 1), "kprobe on %s+0", SYM);
    attach(efd, entry_prog);
    int fds[N];
    int64_t sum = 0;
    for (int i = 0; i < N; i++) {
        fds[i] = dup(0);
        if (fds[i] < 0)
            CHECK(0, "dup(0) #%d", i);
        sum += fds[i];
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    CHECK_ERRNO(dup(BAD_FD), EBADF);
    sum += -EBADF;
    CHECK_EQ(array_u64(map, 0, 0), N + 1, "kretprobe ran on each of the %d returns", N + 1);
    CHECK_EQ((int64_t)array_u64(map, 0, 8), -EBADF, "PT_REGS_RC of dup(%d) is -EBADF", BAD_FD);
    CHECK_EQ((int64_t)array_u64(map, 0, 16), sum, "sum of PT_REGS_RC equals the sum of dup()'s results");
    CHECK_EQ(array_u64(map, 1, 0), N + 1, "entry kprobe ran on each of the %d calls", N + 1);
    CHECK_EQ((int64_t)array_u64(map, 1, 16), 0, "bpf_probe_read_kernel(&((struct pt_regs *)ctx->di)->di) succeeded");
    CHECK_EQ(array_u64(map, 1, 8), BAD_FD, "the syscall argument read through ctx->di is dup()'s oldfd");
    close(rlink);
    close(rfd);
    close(efd);
    int fd = dup(0);
    CHECK(fd >= 0, "dup(0) after close");
    close(fd);
    CHECK_EQ(array_u64(map, 0, 0), N + 1, "closed kretprobe: no more runs");
    CHECK_EQ(array_u64(map, 1, 0), N + 1, "closed kprobe: no more runs");

    /* 3: the first instruction boundary after the entry. */
    guard(60, "kprobe inside " SYM);
    /* Offsets 1, 2, ...: the first ones that are instruction boundaries are accepted (and
     * closed again); the first accepted offset after a refused one is probed. */
    int off = 0, refused = 0, accepted = 0;
    for (int o = 1; o < 16 && !off; o++) {
        fd = kprobe_open(type, 0, SYM, (uint64_t)o, -1, 0, 1);
        if (fd >= 0) {
            accepted++;
            if (refused)
                off = o;
            else
                close(fd);
            continue;
        }
        if (errno != EILSEQ)
            CHECK(0, "%s+%d: refused with EILSEQ (not an instruction boundary), got %d (%s)", SYM, o, errno,
                  strerror(errno));
        refused++;
    }
    CHECK(refused > 0 && off > 0,
          "%s+1..15: %d offsets inside instructions refused with EILSEQ, %d boundaries accepted; probing +%d", SYM,
          refused, accepted, off);
    attach(fd, count_prog);
    for (int i = 0; i < N; i++) {
        int d = dup(0);
        if (d < 0)
            CHECK(0, "dup(0) #%d with the probe at +%d", i, off);
        close(d);
    }
    CHECK_EQ(array_u64(map, 2, 0), N, "the probe at %s+%d counted %d calls", SYM, off, N);
    close(fd);
    DONE();
}
