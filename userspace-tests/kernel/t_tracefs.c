/* t_tracefs.c — the tracefs files tools rely on.
 *
 * 1. available_events lists syscalls:sys_enter_openat; its format file has Linux's layout
 *    (`field:int __syscall_nr;\toffset:8;...`, arguments as 8-byte fields from 16) and its ID
 *    line matches the id file.
 * 2. trace_pipe: enabling events/syscalls/sys_enter_getpid/enable makes getpid() appear as a
 *    `sys_getpid()` line of this pid; bpf_trace_printk output appears as a
 *    `bpf_trace_printk: <message>` line.
 *
 * kprobe_events is tested by t_kprobe_events. */
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

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    tracefs();
    test_events_files();
    test_trace_pipe();
    test_trace_printk();
    DONE();
}
