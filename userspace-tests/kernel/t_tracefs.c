/* t_tracefs.c — the tracefs files tools rely on.
 *
 * 1. available_events lists syscalls:sys_enter_openat; its format file has Linux's layout
 *    (`field:int __syscall_nr;\toffset:8;...`, arguments as 8-byte fields from 16) and its ID
 *    line matches the id file.
 * 2. trace_pipe: enabling events/syscalls/sys_enter_getpid/enable makes getpid() appear as a
 *    `sys_getpid()` line of this pid; bpf_trace_printk output appears as a
 *    `bpf_trace_printk: <message>` line.
 * 3. kprobe_events: `p:myprobe __x64_sys_getpid` creates events/kprobes/myprobe (id, format
 *    with __probe_ip at 8); perf_event_open(PERF_TYPE_TRACEPOINT, id) + a kprobe program counts
 *    every call; kprobe_profile shows the hits; `-:myprobe` while attached is EBUSY and removes
 *    the event once closed; bad lines are EINVAL / ENOENT. `r:myretprobe __x64_sys_getpid`
 *    makes a kretprobe event (__probe_func at 8, __probe_ret_ip at 16) whose program sees
 *    getpid()'s return value in ctx->ax.
 *
 * On a Linux without kprobes, parts 1 and 2 pass and part 3 fails at its first write. */
#include "perf_util.h"

#define N 200

static int pipe_fd = -1;

/* Reads trace_pipe (non-blocking, polling) until a line contains both needles. */
static void pipe_expect(const char *n1, const char *n2, const char *what)
{
    char path[256];
    if (pipe_fd < 0) {
        tracefs_path(path, sizeof path, "trace_pipe");
        pipe_fd = (int)CHECK_SYS(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), "open %.200s", path);
    }
    static char buf[65536];
    size_t len = 0;
    long total = 0;
    int64_t deadline = now_ns() + 5000000000LL;
    while (now_ns() < deadline && total < (64L << 20)) {
        ssize_t r = read(pipe_fd, buf + len, sizeof buf - 1 - len);
        if (r < 0 && errno != EAGAIN)
            CHECK(0, "read(trace_pipe)");
        if (r <= 0) {
            sleep_ms(20);
            continue;
        }
        total += r;
        len += (size_t)r;
        buf[len] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            if (strstr(line, n1) && strstr(line, n2)) {
                printf("# trace_pipe: %s\n", line);
                CHECK(1, "%s", what);
                return;
            }
            line = nl + 1;
        }
        len = strlen(line);
        memmove(buf, line, len);
        if (len > sizeof buf / 2)
            len = 0; /* an absurdly long line: drop it */
    }
    CHECK(0, "%s (no line with \"%s\" and \"%s\" within 5 s, %ld bytes read)", what, n1, n2, total);
}

static void test_events_files(void)
{
    guard(30, "available_events / format");
    static char buf[1 << 20];
    char path[256];
    tracefs_path(path, sizeof path, "available_events");
    long r = read_file(path, buf, sizeof buf);
    CHECK(r > 0, "available_events is readable (%ld bytes)", r);
    CHECK(strstr(buf, "\nsyscalls:sys_enter_openat\n") != NULL || strncmp(buf, "syscalls:sys_enter_openat\n", 26) == 0,
          "available_events lists syscalls:sys_enter_openat");
    CHECK(strstr(buf, "sched:sched_process_exit\n") != NULL, "available_events lists sched:sched_process_exit");

    int id = tp_id("syscalls", "sys_enter_openat");
    tracefs_path(path, sizeof path, "events/syscalls/sys_enter_openat/format");
    r = read_file(path, buf, sizeof buf);
    CHECK(r > 0, "format is readable");
    CHECK(strncmp(buf, "name: sys_enter_openat\nID: ", 27) == 0 && atoi(buf + 27) == id,
          "format starts with name and ID %d", id);
    CHECK(strstr(buf, "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n") != NULL,
          "format: common_type at 0");
    CHECK(strstr(buf, "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n") != NULL, "format: common_pid at 4");
    CHECK(strstr(buf, "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n") != NULL,
          "format: `field:int __syscall_nr;\\toffset:8;`");
    CHECK(strstr(buf, "\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n") != NULL, "format: dfd at 16, 8 bytes");
    CHECK(strstr(buf, " filename;\toffset:24;\tsize:8;") != NULL, "format: filename at 24");
    CHECK(strstr(buf, "\nprint fmt: ") != NULL, "format: print fmt line");
}

static void test_trace_pipe(void)
{
    guard(30, "trace_pipe");
    char path[256], pidstr[32];
    tracefs_path(path, sizeof path, "tracing_on");
    char on[8];
    CHECK(read_file(path, on, sizeof on) > 0 && on[0] == '1', "tracing_on is 1");
    tracefs_path(path, sizeof path, "events/syscalls/sys_enter_getpid/enable");
    int e = write_file(path, "1", 0);
    errno = e;
    CHECK(e == 0, "enable syscalls:sys_enter_getpid");
    long pid = raw_getpid();
    getpid_n(3, pid);
    snprintf(pidstr, sizeof pidstr, "-%ld ", pid);
    pipe_expect(pidstr, "sys_getpid(", "trace_pipe shows this process's sys_getpid() line");
    e = write_file(path, "0", 0);
    errno = e;
    CHECK(e == 0, "disable syscalls:sys_enter_getpid");
    char en[8];
    CHECK(read_file(path, en, sizeof en) > 0 && en[0] == '0', "enable reads 0 again");
}

static void test_trace_printk(void)
{
    guard(30, "bpf_trace_printk");
    long pid = raw_getpid();
    /* "u-printk %d\n" on the stack, then bpf_trace_printk(fmt, 16, 4242). */
    static const char fmt[16] = "u-printk %d\n";
    uint64_t w0, w1;
    memcpy(&w0, fmt, 8);
    memcpy(&w1, fmt + 8, 8);
    struct basm a;
    basm_init(&a);
    emit_filter_tgid(&a, (int)pid);
    emit_ld_imm64(&a, 1, w0);
    emit(&a, BPF_STX_MEM(BPF_DW, 10, 1, -16));
    emit_ld_imm64(&a, 1, w1);
    emit(&a, BPF_STX_MEM(BPF_DW, 10, 1, -8));
    emit(&a, BPF_MOV64_REG(1, 10));
    emit(&a, BPF_ADD64_IMM(1, -16));
    emit(&a, BPF_MOV64_IMM(2, 16));
    emit(&a, BPF_MOV64_IMM(3, 4242));
    emit(&a, BPF_CALL_HELPER(BPF_FUNC_trace_printk));
    basm_finish(&a, 0);
    int prog = prog_load(BPF_PROG_TYPE_TRACEPOINT, &a, "u_printk");
    int fd = (int)CHECK_SYS(tracepoint_open(tp_id("syscalls", "sys_enter_getpid"), -1, 0, 1), "sys_enter_getpid event");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "SET_BPF");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    getpid_n(1, pid);
    pipe_expect("bpf_trace_printk: ", "u-printk 4242", "bpf_trace_printk's message appears in trace_pipe");
    close(fd);
    close(prog);
}

static int kprobe_events_write(const char *line)
{
    char path[256];
    tracefs_path(path, sizeof path, "kprobe_events");
    return write_file(path, line, O_APPEND);
}

static void test_kprobe_events(void)
{
    guard(30, "kprobe_events");
    char path[256];
    static char buf[1 << 16];
    long pid = raw_getpid();
    int map = map_create(BPF_MAP_TYPE_HASH, 4, 8, 64, "kpev_count");
    int prog = load_tgid_counter(BPF_PROG_TYPE_KPROBE, map, "kpev_count");

    int e = kprobe_events_write("p:myprobe __x64_sys_getpid\n");
    errno = e;
    CHECK(e == 0, "write \"p:myprobe __x64_sys_getpid\" to kprobe_events");
    tracefs_path(path, sizeof path, "kprobe_events");
    CHECK(read_file(path, buf, sizeof buf) > 0 && strstr(buf, "p:kprobes/myprobe __x64_sys_getpid\n"),
          "kprobe_events lists \"p:kprobes/myprobe __x64_sys_getpid\"");
    int id = tp_id("kprobes", "myprobe");
    tracefs_path(path, sizeof path, "events/kprobes/myprobe/format");
    CHECK(read_file(path, buf, sizeof buf) > 0 && strstr(buf, "\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;"),
          "kprobes/myprobe/format has __probe_ip at 8");
    tracefs_path(path, sizeof path, "available_events");
    static char ev[1 << 20];
    CHECK(read_file(path, ev, sizeof ev) > 0 && strstr(ev, "kprobes:myprobe\n"), "available_events lists kprobes:myprobe");

    CHECK_EQ(kprobe_events_write("x:bad __x64_sys_getpid\n"), EINVAL, "kprobe_events: an unknown command is EINVAL");
    CHECK_EQ(kprobe_events_write("p:u_badprobe u_no_such_symbol_here\n"), ENOENT,
             "kprobe_events: an unknown symbol is ENOENT");
    CHECK_EQ(kprobe_events_write("-:u_never_created\n"), ENOENT, "kprobe_events: removing an unknown probe is ENOENT");

    guard(60, "kprobe_events probe counting");
    int fd = (int)CHECK_SYS(tracepoint_open(id, -1, 0, 1), "perf_event_open(PERF_TYPE_TRACEPOINT, kprobes:myprobe %d)", id);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "SET_BPF (kprobe program on a kprobe event)");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    getpid_n(N, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid), N, "%d getpid() counted through kprobes:myprobe", N);

    tracefs_path(path, sizeof path, "kprobe_profile");
    CHECK(read_file(path, buf, sizeof buf) > 0, "kprobe_profile is readable");
    char *line = strstr(buf, "myprobe");
    unsigned long long hits = 0, misses = ~0ULL;
    CHECK(line && sscanf(line, "myprobe %llu %llu", &hits, &misses) == 2, "kprobe_profile has a myprobe line");
    CHECK(hits >= N && misses == 0, "kprobe_profile: myprobe hits %llu >= %d, misses %llu = 0", hits, N, misses);

    CHECK_EQ(kprobe_events_write("-:myprobe\n"), EBUSY, "-:myprobe while the event is open is EBUSY");
    close(fd);
    CHECK_EQ(kprobe_events_write("-:myprobe\n"), 0, "-:myprobe after close removes it");
    tracefs_path(path, sizeof path, "events/kprobes/myprobe/id");
    CHECK_EQ(read_file(path, buf, sizeof buf), -ENOENT, "events/kprobes/myprobe/id is gone");
    uint64_t before = tgid_count(map, (uint32_t)pid);
    getpid_n(10, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid), before, "removed probe: nothing counted");
    close(prog);
    close(map);
}

/* `r:myretprobe __x64_sys_getpid`: a kretprobe event; its program sees the return value in ax. */
static void test_kretprobe_event(void)
{
    guard(60, "kprobe_events r: line");
    char path[256];
    static char buf[1 << 16];
    long pid = raw_getpid();
    int map = map_create(BPF_MAP_TYPE_ARRAY, 4, 16, 1, "kretev_out");
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_MOV64_REG(6, 1));
    emit_filter_tgid(&a, (int)pid);
    emit_value_ptr(&a, 9, map, 0);
    emit_count(&a, 9, 0);
    emit(&a, BPF_LDX_MEM(BPF_DW, 1, 6, PTREGS_AX));
    emit(&a, BPF_STX_MEM(BPF_DW, 9, 1, 8));
    basm_finish(&a, 0);
    int prog = prog_load(BPF_PROG_TYPE_KPROBE, &a, "kretev_ax");

    int e = kprobe_events_write("r:myretprobe __x64_sys_getpid\n");
    errno = e;
    CHECK(e == 0, "write \"r:myretprobe __x64_sys_getpid\" to kprobe_events");
    tracefs_path(path, sizeof path, "kprobe_events");
    CHECK(read_file(path, buf, sizeof buf) > 0 && strstr(buf, "r:kprobes/myretprobe __x64_sys_getpid\n"),
          "kprobe_events lists \"r:kprobes/myretprobe __x64_sys_getpid\"");
    tracefs_path(path, sizeof path, "events/kprobes/myretprobe/format");
    CHECK(read_file(path, buf, sizeof buf) > 0 && strstr(buf, "\tfield:unsigned long __probe_func;\toffset:8;\tsize:8;") &&
              strstr(buf, "\tfield:unsigned long __probe_ret_ip;\toffset:16;\tsize:8;"),
          "kprobes/myretprobe/format has __probe_func at 8 and __probe_ret_ip at 16");
    int fd = (int)CHECK_SYS(tracepoint_open(tp_id("kprobes", "myretprobe"), -1, 0, 1), "kprobes:myretprobe event");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "SET_BPF");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    getpid_n(N, pid);
    CHECK_EQ(array_u64(map, 0, 0), N, "the kretprobe event's program ran on %d returns", N);
    CHECK_EQ(array_u64(map, 0, 8), pid, "its ctx->ax is getpid()'s return value");
    close(fd);
    CHECK_EQ(kprobe_events_write("-:myretprobe\n"), 0, "-:myretprobe");
    close(prog);
    close(map);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    tracefs();
    test_events_files();
    test_trace_pipe();
    test_trace_printk();
    test_kprobe_events();
    test_kretprobe_event();
    DONE();
}
