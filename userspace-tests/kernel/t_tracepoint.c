/* t_tracepoint.c — tracepoint programs reading records at Linux's offsets.
 *
 * 1. syscalls/sys_enter_close (ioctl SET_BPF) and sys_exit_close (BPF_LINK_CREATE), ids from
 *    tracefs: the program reads __syscall_nr at 8, fd at 16 (enter) and ret at 16 (exit); each
 *    fires exactly once per close() of this process.
 * 2. sched/sched_process_exec and sched/sched_process_exit (pid offset from the format file)
 *    fire once for a forked child that execs and exits.
 * 3. A raw tracepoint (BPF_RAW_TRACEPOINT_OPEN "sys_enter") counts getpid() calls by id
 *    (args[1]).
 * 4. PERF_EVENT_IOC_QUERY_BPF lists the attached program's id; a program of the wrong type is
 *    EINVAL, one reading past the record EACCES. */
#include "perf_util.h"

#include <sys/wait.h>

#define N 100
#define MAGIC_FD 7777

/* sys_enter_close → array[0] = {count, __syscall_nr, fd}; sys_exit_close → array[1] = {count, ret}. */
static int load_close_prog(int map, int tgid, int key)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_MOV64_REG(6, 1));
    emit_filter_tgid(&a, tgid);
    emit_value_ptr(&a, 9, map, key);
    emit_count(&a, 9, 0);
    if (key == 0) {
        emit(&a, BPF_LDX_MEM(BPF_W, 1, 6, 8)); /* __syscall_nr */
        emit(&a, BPF_STX_MEM(BPF_DW, 9, 1, 8));
        emit(&a, BPF_LDX_MEM(BPF_DW, 1, 6, 16)); /* fd */
        emit(&a, BPF_STX_MEM(BPF_DW, 9, 1, 16));
    } else {
        emit(&a, BPF_LDX_MEM(BPF_DW, 1, 6, 16)); /* ret */
        emit(&a, BPF_STX_MEM(BPF_DW, 9, 1, 8));
    }
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_TRACEPOINT, &a, key == 0 ? "tp_enter_close" : "tp_exit_close");
}

/* hash[u32 at ctx+off] += 1 */
static int load_field_counter(int map, int off, const char *name)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_LDX_MEM(BPF_W, 0, 1, (int16_t)off));
    emit_hash_count(&a, map);
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_TRACEPOINT, &a, name);
}

/* raw tracepoint sys_enter(regs, id): array[2].count += 1 for getpid of this process. */
static int load_raw_prog(int map, int tgid)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_LDX_MEM(BPF_DW, 1, 1, 8)); /* args[1]: the syscall id */
    emit_goto_out(&a, U_JMP_IMM(BPF_JNE, 1, SYS_getpid, 0));
    emit_filter_tgid(&a, tgid);
    emit_value_ptr(&a, 9, map, 2);
    emit_count(&a, 9, 0);
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, &a, "raw_sys_enter");
}

/* A tracepoint program reading ctx+1000: loads, but cannot attach to a small record. */
static int load_far_reader(void)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_LDX_MEM(BPF_DW, 0, 1, 1000));
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_TRACEPOINT, &a, "tp_far_read");
}

static void test_syscall_tracepoints(int map, int tgid)
{
    guard(60, "syscall tracepoints");
    int enter_prog = load_close_prog(map, tgid, 0);
    int exit_prog = load_close_prog(map, tgid, 1);
    /* Both ids first: reading an id file closes a file (the enter program would count it). */
    int enter_id = tp_id("syscalls", "sys_enter_close"), exit_id = tp_id("syscalls", "sys_exit_close");
    int enter = (int)CHECK_SYS(tracepoint_open(enter_id, -1, 0, 1),
                               "perf_event_open(syscalls:sys_enter_close, pid -1, cpu 0)");
    CHECK_SYS(ioctl(enter, PERF_EVENT_IOC_SET_BPF, enter_prog), "SET_BPF sys_enter_close");
    CHECK_SYS(ioctl(enter, PERF_EVENT_IOC_ENABLE, 0), "ENABLE sys_enter_close");
    int exitfd = (int)CHECK_SYS(tracepoint_open(exit_id, -1, 0, 0),
                                "perf_event_open(syscalls:sys_exit_close)");
    int link = (int)CHECK_SYS(perf_link_create(exit_prog, exitfd), "BPF_LINK_CREATE sys_exit_close");

    for (int i = 0; i < N; i++)
        if (close(MAGIC_FD) != -1 || errno != EBADF)
            CHECK(0, "close(%d) #%d fails with EBADF", MAGIC_FD, i);
    CHECK_EQ(array_u64(map, 0, 0), N, "sys_enter_close fired once per close() (%d)", N);
    CHECK_EQ(array_u64(map, 0, 8), SYS_close, "__syscall_nr at offset 8 is __NR_close");
    CHECK_EQ(array_u64(map, 0, 16), MAGIC_FD, "fd at offset 16");
    CHECK_EQ(array_u64(map, 1, 0), N, "sys_exit_close fired once per close() (%d)", N);
    CHECK_EQ((int64_t)array_u64(map, 1, 8), -EBADF, "ret at offset 16 is -EBADF");
    int fd = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0, "open /dev/null");
    CHECK_SYS(close(fd), "close(%d)", fd);
    CHECK_EQ(array_u64(map, 0, 16), fd, "fd of a successful close()");
    CHECK_EQ((int64_t)array_u64(map, 1, 8), 0, "ret of a successful close() is 0");
    CHECK_EQ(array_u64(map, 1, 0), N + 1, "sys_exit_close count");

    /* PERF_EVENT_IOC_QUERY_BPF */
    struct {
        struct perf_event_query_bpf q;
        uint32_t ids[16];
    } q;
    memset(&q, 0, sizeof q);
    CHECK_SYS(ioctl(enter, PERF_EVENT_IOC_QUERY_BPF, &q), "QUERY_BPF with ids_len 0");
    CHECK(q.q.prog_cnt >= 1, "QUERY_BPF prog_cnt %u >= 1", q.q.prog_cnt);
    memset(&q, 0, sizeof q);
    q.q.ids_len = 16;
    CHECK_SYS(ioctl(enter, PERF_EVENT_IOC_QUERY_BPF, &q), "QUERY_BPF with ids_len 16");
    uint32_t want = prog_id(enter_prog);
    int found = 0;
    for (uint32_t i = 0; i < q.q.prog_cnt && i < 16; i++)
        found |= q.ids[i] == want;
    CHECK(found, "QUERY_BPF lists program id %u (prog_cnt %u, ids[0] %u)", want, q.q.prog_cnt, q.ids[0]);

    /* (these close() calls may themselves still be seen: Linux releases files at the return
     * to user space, after sys_exit) */
    close(enter);
    close(link);
    close(exitfd);
    uint64_t c0 = array_u64(map, 0, 0), c1 = array_u64(map, 1, 0);
    for (int i = 0; i < 5; i++)
        close(MAGIC_FD);
    CHECK_EQ(array_u64(map, 0, 0), c0, "detached: sys_enter_close program no longer runs");
    CHECK_EQ(array_u64(map, 1, 0), c1, "detached: sys_exit_close program no longer runs");
    close(enter_prog);
    close(exit_prog);
}

static void test_attach_errors(int raw_prog)
{
    guard(60, "attach errors");
    int far = load_far_reader();
    int fd = (int)CHECK_SYS(tracepoint_open(tp_id("syscalls", "sys_enter_getpid"), -1, 0, 1),
                            "perf_event_open(syscalls:sys_enter_getpid)");
    CHECK_ERRNO(ioctl(fd, PERF_EVENT_IOC_SET_BPF, raw_prog), EINVAL);
    CHECK_ERRNO(ioctl(fd, PERF_EVENT_IOC_SET_BPF, far), EACCES);
    CHECK_ERRNO(ioctl(fd, PERF_EVENT_IOC_SET_BPF, 0 /* stdin: not a program */), EINVAL);
    CHECK_ERRNO(ioctl(fd, PERF_EVENT_IOC_SET_BPF, 9999 /* not open */), EBADF);
    close(fd);
    close(far);
}

static void test_sched(void)
{
    guard(60, "sched tracepoints");
    int exec_map = map_create(BPF_MAP_TYPE_HASH, 4, 8, 256, "tp_exec");
    int exit_map = map_create(BPF_MAP_TYPE_HASH, 4, 8, 256, "tp_exit");
    int exec_off = tp_field_offset("sched", "sched_process_exec", "pid");
    int exit_off = tp_field_offset("sched", "sched_process_exit", "pid");
    printf("# sched_process_exec pid at %d, sched_process_exit pid at %d\n", exec_off, exit_off);
    int exec_prog = load_field_counter(exec_map, exec_off, "tp_exec_pid");
    int exit_prog = load_field_counter(exit_map, exit_off, "tp_exit_pid");
    int exec_fd = (int)CHECK_SYS(tracepoint_open(tp_id("sched", "sched_process_exec"), -1, 0, 0),
                                 "perf_event_open(sched:sched_process_exec)");
    int exit_fd = (int)CHECK_SYS(tracepoint_open(tp_id("sched", "sched_process_exit"), -1, 0, 0),
                                 "perf_event_open(sched:sched_process_exit)");
    int l1 = (int)CHECK_SYS(perf_link_create(exec_prog, exec_fd), "link sched_process_exec");
    int l2 = (int)CHECK_SYS(perf_link_create(exit_prog, exit_fd), "link sched_process_exit");

    char self[512];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(sl > 0, "readlink /proc/self/exe");
    self[sl] = 0;
    pid_t child = fork();
    if (child == 0) {
        char *argv[] = {"t_tracepoint", "--exit", NULL};
        execve(self, argv, environ);
        _exit(126);
    }
    CHECK(child > 0, "fork");
    int status = 0;
    CHECK_EQ(waitpid(child, &status, 0), child, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child exec'd and exited 0 (status %#x)", status);
    CHECK_EQ(tgid_count(exec_map, (uint32_t)child), 1, "sched_process_exec fired once for the child (pid %d)", child);
    CHECK_EQ(tgid_count(exit_map, (uint32_t)child), 1, "sched_process_exit fired once for the child (pid %d)", child);
    close(l1);
    close(l2);
    close(exec_fd);
    close(exit_fd);
}

static void test_raw_tracepoint(int map, int raw_prog, int tgid)
{
    guard(60, "raw tracepoint");
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.raw_tracepoint.name = uptr("u_no_such_raw_tracepoint");
    a.raw_tracepoint.prog_fd = (uint32_t)raw_prog;
    CHECK_ERRNO(sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a), ENOENT);
    memset(&a, 0, sizeof a);
    a.raw_tracepoint.name = uptr("sys_enter");
    a.raw_tracepoint.prog_fd = (uint32_t)raw_prog;
    int fd = (int)CHECK_SYS(sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a), "BPF_RAW_TRACEPOINT_OPEN(\"sys_enter\")");
    getpid_n(N, tgid);
    CHECK_EQ(array_u64(map, 2, 0), N, "raw sys_enter counted %d getpid() calls", N);
    close(fd);
    getpid_n(10, tgid);
    CHECK_EQ(array_u64(map, 2, 0), N, "closed raw tracepoint: no more runs");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--exit") == 0)
        return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    guard(30, "setup");
    int tgid = (int)raw_getpid();
    int map = map_create(BPF_MAP_TYPE_ARRAY, 4, 32, 4, "tp_out");
    int raw_prog = load_raw_prog(map, tgid);
    test_syscall_tracepoints(map, tgid);
    test_attach_errors(raw_prog);
    test_raw_tracepoint(map, raw_prog, tgid);
    test_sched();
    DONE();
}
