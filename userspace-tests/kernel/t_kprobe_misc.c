/* t_kprobe_misc.c — what a kprobe does to kernel text, several probes on one function, and
 * recursion.
 *
 * 1. Removing a probe restores the original bytes: the first 8 bytes of __x64_sys_getpid are
 *    read with a BPF_PROG_TYPE_RAW_TRACEPOINT program (bpf_probe_read_kernel, run with
 *    BPF_PROG_TEST_RUN, the address passed as args[0]): no int3 before, int3 (0xcc) at byte 0
 *    with a probe and the other bytes unchanged, the original bytes after close.
 * 2. Two kprobes on one function: both programs count every call; closing one leaves the other
 *    (and the int3) in place.
 * 3. kretprobe maxactive: `r1:u_rdret __x64_sys_read` with two processes blocked in read()
 *    at once: the second entry finds no free instance and counts as missed in kprobe_profile.
 * 4. Recursion: a kprobe_events probe on ktime_get_mono_fast_ns with a counting program, and a
 *    kprobe on __x64_sys_getpid whose program calls bpf_ktime_get_ns (which reaches
 *    ktime_get_mono_fast_ns inside the probe handler): N getpid() calls never hang, the getpid
 *    program runs N times and kprobe_profile shows >= N more misses for the inner probe.
 *
 * On a Linux host part 1's "before" read runs; the rest needs the kprobe PMU and fails
 * cleanly there. */
#include "perf_util.h"

#include <sys/wait.h>

#define SYM "__x64_sys_getpid"
#define INNER "ktime_get_mono_fast_ns"
#define N 100

static int text_map, text_prog;

/* array[0] = {8 bytes read, bpf_probe_read_kernel's result} for args[0] = address. */
static int load_text_reader(int map)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_LDX_MEM(BPF_DW, 6, 1, 0)); /* args[0] */
    emit(&a, U_ST_MEM(BPF_DW, 10, -16, 0));
    emit(&a, BPF_MOV64_REG(1, 10));
    emit(&a, BPF_ADD64_IMM(1, -16));
    emit(&a, BPF_MOV64_IMM(2, 8));
    emit(&a, BPF_MOV64_REG(3, 6));
    emit(&a, BPF_CALL_HELPER(BPF_FUNC_probe_read_kernel));
    emit(&a, BPF_MOV64_REG(8, 0));
    emit_value_ptr(&a, 9, map, 0);
    emit(&a, BPF_LDX_MEM(BPF_DW, 1, 10, -16));
    emit(&a, BPF_STX_MEM(BPF_DW, 9, 1, 0));
    emit(&a, BPF_STX_MEM(BPF_DW, 9, 8, 8));
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, &a, "read_text");
}

static void read_text(uint64_t addr, uint8_t out[8], const char *when)
{
    uint64_t args[1] = {addr};
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.test.prog_fd = (uint32_t)text_prog;
    a.test.ctx_in = uptr(args);
    a.test.ctx_size_in = sizeof args;
    CHECK_SYS(sys_bpf(BPF_PROG_TEST_RUN, &a), "BPF_PROG_TEST_RUN read_text (%s)", when);
    int64_t r = (int64_t)array_u64(text_map, 0, 8);
    CHECK_EQ(r, 0, "bpf_probe_read_kernel of %s's first bytes (%s)", SYM, when);
    uint64_t v = array_u64(text_map, 0, 0);
    memcpy(out, &v, 8);
    printf("# %s+0 %s: %02x %02x %02x %02x %02x %02x %02x %02x\n", SYM, when, out[0], out[1], out[2], out[3], out[4],
           out[5], out[6], out[7]);
}

/* array[key].count += 1 (optionally calling bpf_ktime_get_ns first), for this process or all. */
static int load_counter(int map, int key, int tgid, int call_ktime, const char *name)
{
    struct basm a;
    basm_init(&a);
    if (tgid)
        emit_filter_tgid(&a, tgid);
    if (call_ktime) {
        emit(&a, BPF_CALL_HELPER(BPF_FUNC_ktime_get_ns));
        emit(&a, BPF_MOV64_REG(7, 0));
    }
    emit_value_ptr(&a, 9, map, key);
    emit_count(&a, 9, 0);
    if (call_ktime)
        emit(&a, BPF_STX_MEM(BPF_DW, 9, 7, 8));
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_KPROBE, &a, name);
}

static int probe(int type, int prog)
{
    int fd = (int)CHECK_SYS(kprobe_open(type, 0, SYM, 0, -1, 0, 1), "kprobe on %s", SYM);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "SET_BPF");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    return fd;
}

/* hits and misses of `name` in kprobe_profile. */
static void profile(const char *name, unsigned long long *hits, unsigned long long *misses)
{
    char path[256];
    static char buf[1 << 16];
    tracefs_path(path, sizeof path, "kprobe_profile");
    CHECK(read_file(path, buf, sizeof buf) > 0, "kprobe_profile is readable");
    char *line = strstr(buf, name);
    CHECK(line && sscanf(line + strlen(name), " %llu %llu", hits, misses) == 2, "kprobe_profile has a %s line", name);
}

static int kprobe_events_write(const char *line)
{
    char path[256];
    tracefs_path(path, sizeof path, "kprobe_events");
    return write_file(path, line, O_APPEND);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    guard(30, "setup");
    int tgid = (int)raw_getpid();
    text_map = map_create(BPF_MAP_TYPE_ARRAY, 4, 16, 1, "text_bytes");
    text_prog = load_text_reader(text_map);
    int map = map_create(BPF_MAP_TYPE_ARRAY, 4, 16, 8, "kpm_count");
    int prog_a = load_counter(map, 1, tgid, 0, "kpm_a");
    int prog_b = load_counter(map, 2, tgid, 0, "kpm_b");
    int prog_outer = load_counter(map, 3, tgid, 1, "kpm_outer");
    int prog_inner = load_counter(map, 4, 0, 0, "kpm_inner");
    int prog_ret = load_counter(map, 5, 0, 0, "kpm_ret");

    uint64_t addr = kallsyms_addr(SYM);
    CHECK(addr != 0, "/proc/kallsyms has %s", SYM);
    uint8_t orig[8], with[8], after[8];
    read_text(addr, orig, "unprobed");
    CHECK(orig[0] != 0xcc, "no int3 at %s before probing", SYM);

    int retbit;
    int type = kprobe_pmu(&retbit);

    /* 1 + 2: bytes, and two probes on one function. */
    guard(60, "two probes on " SYM);
    int fa = probe(type, prog_a);
    read_text(addr, with, "probed");
    CHECK(with[0] == 0xcc, "int3 (0xcc) at byte 0 while probed");
    CHECK(memcmp(with + 1, orig + 1, 7) == 0, "bytes 1..7 unchanged while probed");
    int fb = probe(type, prog_b);
    getpid_n(N, tgid);
    CHECK_EQ(array_u64(map, 1, 0), N, "first probe counted %d calls", N);
    CHECK_EQ(array_u64(map, 2, 0), N, "second probe on the same function counted %d calls", N);
    close(fa);
    getpid_n(N, tgid);
    CHECK_EQ(array_u64(map, 1, 0), N, "first probe closed: stopped");
    CHECK_EQ(array_u64(map, 2, 0), 2 * N, "second probe still counts");
    read_text(addr, with, "one probe left");
    CHECK(with[0] == 0xcc, "int3 stays while a probe is left");
    close(fb);
    read_text(addr, after, "after close");
    CHECK(memcmp(after, orig, 8) == 0, "closing the last probe restored the original 8 bytes");
    getpid_n(N, tgid);
    CHECK_EQ(array_u64(map, 2, 0), 2 * N, "no probe: nothing counted");

    /* 3: a kretprobe with maxactive 1 and two tasks inside the function at once. */
    guard(60, "kretprobe maxactive");
    int e = kprobe_events_write("r1:u_rdret __x64_sys_read\n");
    errno = e;
    CHECK(e == 0, "kprobe_events: r1:u_rdret __x64_sys_read (maxactive 1)");
    static char kev[1 << 16];
    char kpath[256];
    tracefs_path(kpath, sizeof kpath, "kprobe_events");
    CHECK(read_file(kpath, kev, sizeof kev) > 0 && strstr(kev, "r1:kprobes/u_rdret __x64_sys_read\n"),
          "kprobe_events lists \"r1:kprobes/u_rdret __x64_sys_read\"");
    int rdret = (int)CHECK_SYS(tracepoint_open(tp_id("kprobes", "u_rdret"), -1, 0, 1), "kprobes:u_rdret event");
    CHECK_SYS(ioctl(rdret, PERF_EVENT_IOC_SET_BPF, prog_ret), "SET_BPF u_rdret");
    CHECK_SYS(ioctl(rdret, PERF_EVENT_IOC_ENABLE, 0), "ENABLE u_rdret");
    unsigned long long rh0, rm0, rh1, rm1;
    profile("u_rdret", &rh0, &rm0);
    int pa[2], pb[2];
    CHECK(pipe(pa) == 0 && pipe(pb) == 0, "two pipes");
    pid_t ca = fork();
    if (ca == 0) {
        char c;
        _exit(read(pa[0], &c, 1) == 1 ? 0 : 1);
    }
    pid_t cb = fork();
    if (cb == 0) {
        char c;
        _exit(read(pb[0], &c, 1) == 1 ? 0 : 1);
    }
    CHECK(ca > 0 && cb > 0, "fork two readers");
    sleep_ms(300); /* both block inside __x64_sys_read */
    CHECK(write(pa[1], "a", 1) == 1 && write(pb[1], "b", 1) == 1, "wake both readers");
    int sa = -1, sb = -1;
    CHECK(waitpid(ca, &sa, 0) == ca && waitpid(cb, &sb, 0) == cb, "both readers exit");
    CHECK(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0,
          "both reads returned their byte (status %#x %#x)", sa, sb);
    profile("u_rdret", &rh1, &rm1);
    printf("# u_rdret: hits %llu -> %llu, misses %llu -> %llu; program runs %llu\n", rh0, rh1, rm0, rm1,
           (unsigned long long)array_u64(map, 5, 0));
    CHECK(rm1 > rm0, "maxactive 1 with two readers inside read(): the kretprobe missed one (%llu)", rm1 - rm0);
    CHECK(array_u64(map, 5, 0) >= 1, "the kretprobe program ran for the returns it caught");
    close(rdret);
    CHECK_EQ(kprobe_events_write("-:u_rdret\n"), 0, "-:u_rdret");

    /* 4: recursion. */
    guard(60, "recursion through " INNER);
    CHECK(kallsyms_addr(INNER) != 0, "/proc/kallsyms has %s", INNER);
    e = kprobe_events_write("p:u_ktime " INNER "\n");
    errno = e;
    CHECK(e == 0, "kprobe_events: p:u_ktime %s", INNER);
    int inner = (int)CHECK_SYS(tracepoint_open(tp_id("kprobes", "u_ktime"), -1, 0, 1), "kprobes:u_ktime event");
    CHECK_SYS(ioctl(inner, PERF_EVENT_IOC_SET_BPF, prog_inner), "SET_BPF inner");
    CHECK_SYS(ioctl(inner, PERF_EVENT_IOC_ENABLE, 0), "ENABLE inner");
    unsigned long long hits0, misses0, hits1, misses1;
    profile("u_ktime", &hits0, &misses0);
    int outer = probe(type, prog_outer);
    getpid_n(N, tgid);
    close(outer);
    profile("u_ktime", &hits1, &misses1);
    printf("# u_ktime: hits %llu -> %llu, misses %llu -> %llu; inner program runs %llu\n", hits0, hits1, misses0,
           misses1, (unsigned long long)array_u64(map, 4, 0));
    CHECK_EQ(array_u64(map, 3, 0), N, "the getpid probe's program (calling bpf_ktime_get_ns) ran %d times", N);
    CHECK(array_u64(map, 3, 8) != 0, "bpf_ktime_get_ns returned a time inside the handler");
    CHECK(misses1 - misses0 >= N, "kprobe_profile: >= %d misses for the inner probe (%llu)", N, misses1 - misses0);
    close(inner);
    CHECK_EQ(kprobe_events_write("-:u_ktime\n"), 0, "-:u_ktime");
    read_text(addr, after, "after recursion test");
    CHECK(memcmp(after, orig, 8) == 0, "original bytes after the recursion test");
    DONE();
}
