/* t_kprobe_events.c — kprobe events created through tracefs (Linux's kprobe_events file).
 *
 * `p:myprobe __x64_sys_getpid` creates events/kprobes/myprobe (id, format with __probe_ip at
 * 8); perf_event_open(PERF_TYPE_TRACEPOINT, id) + a kprobe program counts every call;
 * kprobe_profile shows the hits; `-:myprobe` while attached is EBUSY and removes the event
 * once closed; bad lines are EINVAL / ENOENT. `r:myretprobe __x64_sys_getpid` makes a
 * kretprobe event (__probe_func at 8, __probe_ret_ip at 16) whose program sees getpid()'s
 * return value in ctx->ax.
 *
 * On a Linux without kprobes this fails at its first write (never hangs). */
#include "perf_util.h"

#define N 200

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
    test_kprobe_events();
    test_kretprobe_event();
    DONE();
}
