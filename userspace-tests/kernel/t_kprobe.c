/* t_kprobe.c — a kprobe on a syscall handler attached the way Aya attaches one: the kprobe
 * PMU's dynamic type from /sys/bus/event_source/devices/kprobe/type, perf_event_open with
 * config1 = pointer to "__x64_sys_getpid" and config2 = 0, a kprobe program counting calls per
 * tgid in a hash map (bpf_get_current_pid_tgid), attached with ioctl SET_BPF + ENABLE and, on
 * a second event, with BPF_LINK_CREATE(BPF_PERF_EVENT). N getpid() → exactly N counted;
 * closing the event or the link stops the counting. Also: the probe by address (config1 = 0,
 * config2 = address from /proc/kallsyms), the event's own count without a program, and
 * Aya's feature probe for perf links, and Linux-named targets with Linux's argument registers
 * (do_sys_openat2's dfd in rdi and user filename in rsi; vfs_read counting reads).
 *
 * On a Linux without the kprobe PMU it fails at the first check (the type file is missing). */
#include "perf_util.h"

#define SYM "__x64_sys_getpid"
#define N 1000

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    guard(30, "program load");
    /* The program first: on a Linux host without kprobes this still runs it past the verifier. */
    long pid = raw_getpid();
    int map = map_create(BPF_MAP_TYPE_HASH, 4, 8, 64, "kp_count");
    int prog = load_tgid_counter(BPF_PROG_TYPE_KPROBE, map, "kp_count");
    uint32_t id = prog_id(prog);

    /* Aya's is_perf_link_supported: a link on an fd that is not a perf event → EBADF. */
    CHECK_ERRNO(perf_link_create(prog, prog), EBADF);

    guard(30, "kprobe PMU lookup");
    int retbit;
    int type = kprobe_pmu(&retbit);
    uint64_t addr = kallsyms_addr(SYM);
    CHECK(addr != 0, "/proc/kallsyms has %s (%#llx)", SYM, (unsigned long long)addr);

    guard(30, "kprobe_open errors");
    CHECK_ERRNO(kprobe_open(type, 0, "u_no_such_function_here", 0, -1, 0, 0), ENOENT);

    /* 1. ioctl path (Aya without perf links): SET_BPF + ENABLE. */
    guard(60, "kprobe via SET_BPF");
    int fd = (int)CHECK_SYS(kprobe_open(type, 0, SYM, 0, -1, 0, 1), "perf_event_open(kprobe PMU, %s+0, pid -1, cpu 0)", SYM);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "the kprobe fd is close-on-exec");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "PERF_EVENT_IOC_SET_BPF");
    CHECK_ERRNO(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), EEXIST);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "PERF_EVENT_IOC_ENABLE");
    uint64_t before = tgid_count(map, (uint32_t)pid);
    getpid_n(N, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid) - before, N, "%d getpid() calls counted by the kprobe program", N);
    close(fd);
    before = tgid_count(map, (uint32_t)pid);
    getpid_n(100, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid), before, "after close(event): nothing counted");

    /* 2. bpf_link path (Aya with perf links): an enabled event and BPF_LINK_CREATE. */
    guard(60, "kprobe via BPF_LINK_CREATE");
    fd = (int)CHECK_SYS(kprobe_open(type, 0, SYM, 0, -1, 0, 0), "second kprobe event on %s", SYM);
    int link = (int)CHECK_SYS(perf_link_create(prog, fd), "BPF_LINK_CREATE(BPF_PERF_EVENT)");
    struct bpf_link_info li;
    memset(&li, 0, sizeof li);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.info.bpf_fd = (uint32_t)link;
    a.info.info_len = sizeof li;
    a.info.info = uptr(&li);
    CHECK_SYS(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a), "BPF_OBJ_GET_INFO_BY_FD(link)");
    CHECK_EQ(li.type, BPF_LINK_TYPE_PERF_EVENT, "link type BPF_LINK_TYPE_PERF_EVENT");
    CHECK_EQ(li.prog_id, id, "link's prog_id");
    CHECK_ERRNO(perf_link_create(prog, fd), EEXIST);
    before = tgid_count(map, (uint32_t)pid);
    getpid_n(N, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid) - before, N, "%d getpid() calls counted through the link", N);
    memset(&a, 0, sizeof a);
    a.link_detach.link_fd = (uint32_t)link;
    CHECK_ERRNO(sys_bpf(BPF_LINK_DETACH, &a), EOPNOTSUPP); /* Linux 6.1: perf links cannot detach */
    close(link);
    before = tgid_count(map, (uint32_t)pid);
    getpid_n(100, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid), before, "after close(link), event still open: nothing counted");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "SET_BPF on the event after its link closed");
    getpid_n(10, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid) - before, 10, "attached again with SET_BPF: counting");
    close(fd);

    /* 3. by address: config1 = 0, config2 = the address from /proc/kallsyms. */
    guard(60, "kprobe by address");
    fd = (int)CHECK_SYS(kprobe_open(type, 0, NULL, addr, -1, 0, 1), "kprobe at address %#llx", (unsigned long long)addr);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog), "SET_BPF");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    before = tgid_count(map, (uint32_t)pid);
    getpid_n(N, pid);
    CHECK_EQ(tgid_count(map, (uint32_t)pid) - before, N, "%d calls counted by the address probe", N);
    close(fd);

    /* 4. the event's own count (no program), this task only. */
    guard(60, "kprobe event count");
    fd = (int)CHECK_SYS(kprobe_open(type, 0, SYM, 0, 0, -1, 1), "kprobe counter (pid 0, cpu -1)");
    uint64_t v = ~0ULL;
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    getpid_n(N, pid);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_DISABLE, 0), "DISABLE");
    CHECK_EQ(read(fd, &v, 8), 8, "read()");
    CHECK_EQ(v, N, "the kprobe event counted %d hits", N);
    getpid_n(10, pid);
    CHECK_EQ(read(fd, &v, 8), 8, "read()");
    CHECK_EQ(v, N, "disabled: no more hits counted");
    close(fd);

    /* 5. Linux-named targets with Linux's argument registers: an opensnoop-style probe on
     * do_sys_openat2(dfd, filename, how) and a read counter on vfs_read. */
    guard(60, "do_sys_openat2 / vfs_read");
    CHECK(kallsyms_addr("do_sys_openat2") != 0 && kallsyms_addr("vfs_read") != 0,
          "/proc/kallsyms has do_sys_openat2 and vfs_read");
    int open_map = map_create(BPF_MAP_TYPE_ARRAY, 4, 80, 1, "kp_open");
    struct basm as;
    basm_init(&as);
    emit(&as, BPF_MOV64_REG(6, 1));
    emit_filter_tgid(&as, (int)pid);
    emit_value_ptr(&as, 9, open_map, 0);
    emit_count(&as, 9, 0);
    emit(&as, BPF_LDX_MEM(BPF_DW, 1, 6, PTREGS_DI));
    emit(&as, BPF_STX_MEM(BPF_DW, 9, 1, 8));
    emit(&as, BPF_MOV64_REG(1, 9));
    emit(&as, BPF_ADD64_IMM(1, 16));
    emit(&as, BPF_MOV64_IMM(2, 64));
    emit(&as, BPF_LDX_MEM(BPF_DW, 3, 6, PTREGS_SI));
    emit(&as, BPF_CALL_HELPER(BPF_FUNC_probe_read_user_str));
    basm_finish(&as, 0);
    int open_prog = prog_load(BPF_PROG_TYPE_KPROBE, &as, "kp_opensnoop");
    int read_map = map_create(BPF_MAP_TYPE_HASH, 4, 8, 64, "kp_reads");
    int read_prog = load_tgid_counter(BPF_PROG_TYPE_KPROBE, read_map, "kp_vfs_read");
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    CHECK(zero >= 0, "open /dev/zero");
    int ofd = (int)CHECK_SYS(kprobe_open(type, 0, "do_sys_openat2", 0, -1, 0, 0), "kprobe on do_sys_openat2");
    int olink = (int)CHECK_SYS(perf_link_create(open_prog, ofd), "link on do_sys_openat2");
    int rfd = (int)CHECK_SYS(kprobe_open(type, 0, "vfs_read", 0, -1, 0, 0), "kprobe on vfs_read");
    int rlink = (int)CHECK_SYS(perf_link_create(read_prog, rfd), "link on vfs_read");
    int nul = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
    char zbuf[16];
    for (int i = 0; i < 25; i++)
        if (read(zero, zbuf, sizeof zbuf) != (ssize_t)sizeof zbuf)
            CHECK(0, "read(/dev/zero) #%d", i);
    close(olink);
    close(rlink);
    close(ofd);
    close(rfd);
    CHECK(nul >= 0, "openat(AT_FDCWD, \"/dev/null\")");
    close(nul);
    close(zero);
    uint8_t ov[80];
    uint32_t k0 = 0;
    CHECK_SYS(map_lookup(open_map, &k0, ov), "lookup kp_open");
    uint64_t ocount, odfd;
    memcpy(&ocount, ov, 8);
    memcpy(&odfd, ov + 8, 8);
    ov[79] = 0;
    CHECK_EQ(ocount, 1, "do_sys_openat2 probe ran once for one openat()");
    CHECK_EQ((int32_t)odfd, AT_FDCWD, "do_sys_openat2's dfd (rdi) is AT_FDCWD");
    CHECK_STR((const char *)ov + 16, "/dev/null", "do_sys_openat2's filename (rsi) read with bpf_probe_read_user_str");
    CHECK_EQ(tgid_count(read_map, (uint32_t)pid), 25, "vfs_read probe counted 25 read() calls");
    close(open_prog);
    close(read_prog);

    close(prog);
    close(map);
    DONE();
}
