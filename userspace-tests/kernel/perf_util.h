/* perf_util.h — shared helpers of the perf_event / tracepoint / kprobe tests (issue 5).
 *
 * Raw system calls only (perf_event_open(2), bpf(2)), no libbpf: the same static binaries run
 * on Linux and in the demo kernel. BPF programs are hand-assembled with the builders of
 * ../demo/bpf_insn.h plus the ones below, through a tiny assembler (`struct basm`) whose
 * `goto out` jumps are patched to the program's common exit.
 *
 * Everything the tests need from the running kernel is looked up, never hard-coded:
 * tracepoint ids from tracefs, symbols from /proc/kallsyms, the kprobe PMU type and its
 * retprobe bit from /sys/bus/event_source/devices/kprobe.
 *
 * A hang guard (`guard`) turns a blocked test into a `not ok` line after a timeout: a missing
 * kernel feature must fail cleanly, never hang.
 */
#ifndef PERF_UTIL_H
#define PERF_UTIL_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "../demo/bpf_insn.h"
#include "check.h"

/* ---- more instruction builders ----------------------------------------------------------- */

/* dst op= imm (64-bit) */
#define U_ALU64_IMM(op, d, i) BPF_INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
/* dst op= src (64-bit) */
#define U_ALU64_REG(op, d, s) BPF_INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
/* if dst op imm goto pc + 1 + off */
#define U_JMP_IMM(op, d, i, o) BPF_INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
/* if dst op src goto pc + 1 + off */
#define U_JMP_REG(op, d, s, o) BPF_INSN(BPF_JMP | (op) | BPF_X, d, s, o, 0)
/* *(size *)(dst + off) = imm */
#define U_ST_MEM(size, d, o, i) BPF_INSN(BPF_ST | BPF_MEM | (size), d, 0, o, i)
/* goto pc + 1 + off */
#define U_JA(o) BPF_INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)

/* pt_regs (x86_64) byte offsets: what a kprobe program's context is. */
#define PTREGS_BX 40
#define PTREGS_AX 80
#define PTREGS_SI 104
#define PTREGS_DI 112
#define PTREGS_ORIG_AX 120
#define PTREGS_IP 128
#define PTREGS_SP 152

/* ---- a tiny assembler -------------------------------------------------------------------- */

#define BASM_MAX 512
struct basm {
    struct bpf_insn insn[BASM_MAX];
    int n;
    int fix[64]; /* indices of `goto out` jumps */
    int nfix;
};

static inline void basm_init(struct basm *a) { memset(a, 0, sizeof *a); }

static inline void emit(struct basm *a, struct bpf_insn i)
{
    if (a->n >= BASM_MAX)
        CHECK(0, "BPF program fits in %d instructions", BASM_MAX);
    a->insn[a->n++] = i;
}

/* A jump whose target is the common exit (its `off` is patched by basm_finish). */
static inline void emit_goto_out(struct basm *a, struct bpf_insn jmp)
{
    if (a->nfix >= 64)
        CHECK(0, "BPF program has at most 64 exits");
    a->fix[a->nfix++] = a->n;
    emit(a, jmp);
}

static inline void emit_ld_map(struct basm *a, int reg, int map_fd)
{
    emit(a, BPF_INSN(BPF_LD | BPF_DW | BPF_IMM, reg, BPF_PSEUDO_MAP_FD, 0, map_fd));
    emit(a, BPF_INSN(0, 0, 0, 0, 0));
}

static inline void emit_ld_imm64(struct basm *a, int reg, uint64_t v)
{
    emit(a, BPF_INSN(BPF_LD | BPF_DW | BPF_IMM, reg, 0, 0, (int32_t)(uint32_t)v));
    emit(a, BPF_INSN(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

/* Leaves the program unless the current process (tgid) is `tgid`. Clobbers r0-r5. */
static inline void emit_filter_tgid(struct basm *a, int tgid)
{
    emit(a, BPF_CALL_HELPER(BPF_FUNC_get_current_pid_tgid));
    emit(a, U_ALU64_IMM(BPF_RSH, 0, 32));
    emit_goto_out(a, U_JMP_IMM(BPF_JNE, 0, tgid, 0));
}

/* reg = &array_map[key] (leaves the program when the lookup fails). Clobbers r0-r5, fp-4. */
static inline void emit_value_ptr(struct basm *a, int reg, int map_fd, int key)
{
    emit(a, U_ST_MEM(BPF_W, 10, -4, key));
    emit_ld_map(a, 1, map_fd);
    emit(a, BPF_MOV64_REG(2, 10));
    emit(a, BPF_ADD64_IMM(2, -4));
    emit(a, BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem));
    emit_goto_out(a, U_JMP_IMM(BPF_JEQ, 0, 0, 0));
    emit(a, BPF_MOV64_REG(reg, 0));
}

/* lock *(u64 *)(reg + off) += 1. Clobbers r1. */
static inline void emit_count(struct basm *a, int reg, int off)
{
    emit(a, BPF_MOV64_IMM(1, 1));
    emit(a, BPF_ATOMIC_ADD(BPF_DW, reg, 1, off));
}

/* The common exit: r0 = ret; exit. Patches every `goto out`. Returns the length. */
static inline int basm_finish(struct basm *a, int ret)
{
    int out = a->n;
    emit(a, BPF_MOV64_IMM(0, ret));
    emit(a, BPF_EXIT_INSN());
    for (int i = 0; i < a->nfix; i++)
        a->insn[a->fix[i]].off = (int16_t)(out - (a->fix[i] + 1));
    return a->n;
}

/* ---- system calls ------------------------------------------------------------------------ */

static inline uint64_t uptr(const void *p) { return (uint64_t)(uintptr_t)p; }

static inline long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static inline long sys_perf_event_open(const void *attr, int pid, int cpu, int group_fd, unsigned long flags)
{
    return syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);
}

static inline long raw_getpid(void) { return syscall(SYS_getpid); }
static inline long raw_gettid(void) { return syscall(SYS_gettid); }

static inline int64_t now_ns(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- hang guard -------------------------------------------------------------------------- */

/* A watchdog child (forked at the first guard() call) holds the current step and deadline,
 * sent over a pipe; past the deadline it prints `not ok - <step>: timed out` and SIGKILLs the
 * test. It exits when the pipe reports EOF (the test ended). Only fork, pipe, poll, read,
 * write, kill and clock_gettime: no alarm() (which a hobby kernel may lack). */
struct guard_msg {
    int64_t deadline_ns;
    char step[120];
};

__attribute__((unused)) static int guard_wfd = -1;

__attribute__((unused, noreturn)) static void guard_watch(int rfd, pid_t test)
{
    struct guard_msg cur;
    memset(&cur, 0, sizeof cur);
    for (;;) {
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            struct guard_msg m;
            ssize_t n = read(rfd, &m, sizeof m);
            if (n <= 0 && !(n < 0 && errno == EINTR))
                _exit(0); /* the test closed the pipe: it ended */
            if (n == (ssize_t)sizeof m)
                cur = m;
            continue;
        }
        if (cur.deadline_ns && now_ns() > cur.deadline_ns) {
            char buf[200];
            int len = snprintf(buf, sizeof buf, "not ok - %.120s: timed out (the kernel did not answer)\n", cur.step);
            if (len > 0)
                (void)!write(1, buf, (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1);
            kill(test, SIGKILL);
            _exit(0);
        }
    }
}

/* The next step must end within `seconds` (replaces the previous deadline). */
static inline void guard(int seconds, const char *step)
{
    if (guard_wfd < 0) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            CHECK(0, "pipe2 for the hang guard");
        pid_t test = getpid();
        fflush(stdout);
        pid_t c = fork();
        if (c < 0)
            CHECK(0, "fork of the hang guard");
        if (c == 0) {
            close(p[1]);
            guard_watch(p[0], test);
        }
        close(p[0]);
        guard_wfd = p[1];
    }
    struct guard_msg m;
    memset(&m, 0, sizeof m);
    m.deadline_ns = now_ns() + (int64_t)seconds * 1000000000LL;
    snprintf(m.step, sizeof m.step, "%s", step);
    if (write(guard_wfd, &m, sizeof m) != (ssize_t)sizeof m)
        CHECK(0, "hang guard pipe write");
}

/* ---- files ------------------------------------------------------------------------------- */

/* Reads a whole (small) file into buf (NUL-terminated); length, or -errno. */
static inline long read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t r = read(fd, buf + len, size - 1 - len);
        if (r < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = 0;
    close(fd);
    return (long)len;
}

/* Writes `text` to `path` (open flags O_WRONLY | extra); 0, or the errno of open/write. */
static inline int write_file(const char *path, const char *text, int extra)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | extra);
    if (fd < 0)
        return errno;
    size_t len = strlen(text);
    ssize_t r = write(fd, text, len);
    int e = r < 0 ? errno : 0;
    close(fd);
    if (!e && (size_t)r != len)
        e = EIO;
    return e;
}

static inline long read_long_file(const char *path)
{
    char buf[64];
    long r = read_file(path, buf, sizeof buf);
    if (r <= 0) {
        errno = r < 0 ? (int)-r : ENODATA;
        CHECK(0, "%.200s is readable", path);
    }
    return strtol(buf, NULL, 0);
}

/* ---- tracefs ----------------------------------------------------------------------------- */

__attribute__((unused)) static char tracefs_dir[64];

/* The tracefs root: /sys/kernel/tracing (mounted there as root if need be), else
 * /sys/kernel/debug/tracing. */
static inline const char *tracefs(void)
{
    if (tracefs_dir[0])
        return tracefs_dir;
    struct stat st;
    if (stat("/sys/kernel/tracing/available_events", &st) != 0)
        mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL); /* best effort */
    if (stat("/sys/kernel/tracing/available_events", &st) == 0)
        snprintf(tracefs_dir, sizeof tracefs_dir, "/sys/kernel/tracing");
    else if (stat("/sys/kernel/debug/tracing/available_events", &st) == 0)
        snprintf(tracefs_dir, sizeof tracefs_dir, "/sys/kernel/debug/tracing");
    else
        CHECK(0, "tracefs is mounted (/sys/kernel/tracing/available_events exists)");
    return tracefs_dir;
}

static inline void tracefs_path(char *out, size_t size, const char *rel)
{
    int n = snprintf(out, size, "%s/", tracefs());
    if (n > 0 && (size_t)n < size)
        strncat(out, rel, size - (size_t)n - 1);
}

/* The id of trace event sys/name (tracefs events/<sys>/<name>/id). */
static inline int tp_id(const char *sys, const char *name)
{
    char path[256], rel[200];
    snprintf(rel, sizeof rel, "events/%s/%s/id", sys, name);
    tracefs_path(path, sizeof path, rel);
    long id = read_long_file(path);
    CHECK(id > 0, "%.40s:%.60s has id %ld (from %.100s)", sys, name, id, path);
    return (int)id;
}

/* The offset of field `field` in the format file of sys/name, e.g. "pid" → 24. */
static inline int tp_field_offset(const char *sys, const char *name, const char *field)
{
    char path[256], rel[200], buf[8192], pat[80];
    snprintf(rel, sizeof rel, "events/%s/%s/format", sys, name);
    tracefs_path(path, sizeof path, rel);
    long r = read_file(path, buf, sizeof buf);
    if (r <= 0) {
        errno = r < 0 ? (int)-r : ENODATA;
        CHECK(0, "%.200s is readable", path);
    }
    snprintf(pat, sizeof pat, " %s;\toffset:", field);
    char *p = strstr(buf, pat);
    CHECK(p != NULL, "%.150s has a field `%.60s`", path, field);
    return atoi(p + strlen(pat));
}

/* ---- symbols, PMUs, CPUs ----------------------------------------------------------------- */

/* The address of the text symbol `name` in /proc/kallsyms, or 0. */
static inline uint64_t kallsyms_addr(const char *name)
{
    FILE *f = fopen("/proc/kallsyms", "r");
    if (!f)
        return 0;
    char line[512];
    uint64_t found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long addr;
        char type, sym[400];
        if (sscanf(line, "%llx %c %399s", &addr, &type, sym) == 3 && strcmp(sym, name) == 0 &&
            (type == 'T' || type == 't')) {
            found = addr;
            break;
        }
    }
    fclose(f);
    return found;
}

/* The kprobe PMU: its dynamic type and the config bit of format/retprobe ("config:N"). */
static inline int kprobe_pmu(int *retbit)
{
    const char *tpath = "/sys/bus/event_source/devices/kprobe/type";
    long type = read_long_file(tpath);
    CHECK(type >= PERF_TYPE_MAX, "kprobe PMU type %ld is a dynamic PMU type (>= PERF_TYPE_MAX)", type);
    char buf[64];
    const char *fpath = "/sys/bus/event_source/devices/kprobe/format/retprobe";
    long r = read_file(fpath, buf, sizeof buf);
    if (r <= 0) {
        errno = r < 0 ? (int)-r : ENODATA;
        CHECK(0, "%.200s is readable", fpath);
    }
    CHECK(strncmp(buf, "config:", 7) == 0, "%.100s reads \"config:<bit>\" (got \"%.40s\")", fpath, buf);
    *retbit = atoi(buf + 7);
    CHECK(*retbit >= 0 && *retbit < 64, "retprobe bit %d", *retbit);
    return (int)type;
}

/* perf_event_open of a kprobe PMU event the way Aya opens it (config1 = symbol pointer,
 * config2 = offset; or config1 = 0, config2 = address when sym is NULL). Returns the fd or -1
 * with errno. */
static inline int kprobe_open(int type, uint64_t config, const char *sym, uint64_t off_or_addr, int pid, int cpu,
                              int disabled)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = (uint32_t)type;
    attr.config = config;
    attr.config1 = sym ? uptr(sym) : 0; /* kprobe_func */
    attr.config2 = off_or_addr;         /* probe_offset, or kprobe_addr */
    attr.disabled = disabled ? 1 : 0;
    return (int)sys_perf_event_open(&attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* A tracepoint event the way Aya opens it (pid -1, cpu 0). */
static inline int tracepoint_open(int id, int pid, int cpu, int disabled)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = (uint64_t)id;
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    attr.disabled = disabled ? 1 : 0;
    return (int)sys_perf_event_open(&attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Number of possible CPUs (/sys/devices/system/cpu/possible, "0-N" or "0"). */
static inline int possible_cpus(void)
{
    char buf[64];
    if (read_file("/sys/devices/system/cpu/possible", buf, sizeof buf) <= 0)
        return 1;
    char *dash = strchr(buf, '-');
    return dash ? atoi(dash + 1) + 1 : 1;
}

/* ---- bpf(2) ------------------------------------------------------------------------------ */

static inline int map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t entries, const char *name)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = type;
    a.key_size = key_size;
    a.value_size = value_size;
    a.max_entries = entries;
    strncpy(a.map_name, name, sizeof a.map_name - 1);
    return (int)CHECK_SYS(sys_bpf(BPF_MAP_CREATE, &a), "BPF_MAP_CREATE %s (type %u)", name, type);
}

/* 0, or -1 with errno. */
static inline int map_lookup(int fd, const void *key, void *value)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_fd = (uint32_t)fd;
    a.key = uptr(key);
    a.value = uptr(value);
    return (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

static inline int map_update(int fd, const void *key, const void *value, uint64_t flags)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_fd = (uint32_t)fd;
    a.key = uptr(key);
    a.value = uptr(value);
    a.flags = flags;
    return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

/* A u64 at byte `off` of array_map[key] (the test fails if the lookup does). */
static inline uint64_t array_u64(int fd, uint32_t key, int off)
{
    uint8_t v[256];
    memset(v, 0, sizeof v);
    CHECK_SYS(map_lookup(fd, &key, v), "lookup of array element %u", key);
    uint64_t x;
    memcpy(&x, v + off, 8);
    return x;
}

/* Zeroes array_map[key] (value_size bytes). */
static inline void array_zero(int fd, uint32_t key, uint32_t value_size)
{
    uint8_t v[256];
    memset(v, 0, sizeof v);
    CHECK_SYS(map_update(fd, &key, v, BPF_ANY), "zeroing array element %u (%u bytes)", key, value_size);
}

/* The per-tgid counter (hash u32 → u64) of `tgid`; 0 when absent. */
static inline uint64_t tgid_count(int fd, uint32_t tgid)
{
    uint64_t v = 0;
    if (map_lookup(fd, &tgid, &v) != 0) {
        if (errno != ENOENT)
            CHECK(0, "lookup of tgid %u in the counter map", tgid);
        return 0;
    }
    return v;
}

__attribute__((unused)) static char prog_log[65536];

/* Loads a program; on failure prints the verifier log and fails the test. */
static inline int prog_load(uint32_t type, const struct basm *a, const char *name)
{
    union bpf_attr at;
    memset(&at, 0, sizeof at);
    at.prog_type = type;
    at.insn_cnt = (uint32_t)a->n;
    at.insns = uptr(a->insn);
    at.license = uptr("GPL");
    strncpy(at.prog_name, name, sizeof at.prog_name - 1);
    long fd = sys_bpf(BPF_PROG_LOAD, &at);
    if (fd >= 0) {
        char what[128];
        snprintf(what, sizeof what, "BPF_PROG_LOAD %s (type %u, %d insns)", name, type, a->n);
        check_ok(what);
        return (int)fd;
    }
    int e = errno;
    at.log_level = 1;
    at.log_size = sizeof prog_log;
    at.log_buf = uptr(prog_log);
    prog_log[0] = 0;
    sys_bpf(BPF_PROG_LOAD, &at);
    printf("# verifier log of %s:\n%s\n", name, prog_log);
    errno = e;
    CHECK(0, "BPF_PROG_LOAD %s (type %u, %d insns)", name, type, a->n);
    return -1;
}

static inline uint32_t prog_id(int prog_fd)
{
    struct bpf_prog_info info;
    memset(&info, 0, sizeof info);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.info.bpf_fd = (uint32_t)prog_fd;
    a.info.info_len = sizeof info;
    a.info.info = uptr(&info);
    CHECK_SYS(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a), "BPF_OBJ_GET_INFO_BY_FD (program)");
    return info.id;
}

/* BPF_LINK_CREATE with BPF_PERF_EVENT: fd, or -1 with errno. */
static inline int perf_link_create(int prog_fd, int perf_fd)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.link_create.prog_fd = (uint32_t)prog_fd;
    a.link_create.target_fd = (uint32_t)perf_fd;
    a.link_create.attach_type = BPF_PERF_EVENT;
    return (int)sys_bpf(BPF_LINK_CREATE, &a);
}

/* hash[(u32)r0] += 1 in `map_fd` (a u32 → u64 hash), inserting 1 when absent; the key is kept
 * at fp-4, fp-16 is scratch. Ends by jumping to the program's exit (`basm_finish`). */
static inline void emit_hash_count(struct basm *a, int map_fd)
{
    emit(a, BPF_STX_MEM(BPF_W, 10, 0, -4));
    emit_ld_map(a, 1, map_fd);
    emit(a, BPF_MOV64_REG(2, 10));
    emit(a, BPF_ADD64_IMM(2, -4));
    emit(a, BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem));
    emit(a, U_JMP_IMM(BPF_JEQ, 0, 0, 3));
    emit(a, BPF_MOV64_IMM(1, 1));
    emit(a, BPF_ATOMIC_ADD(BPF_DW, 0, 1, 0));
    emit_goto_out(a, U_JA(0));
    emit(a, U_ST_MEM(BPF_DW, 10, -16, 1));
    emit_ld_map(a, 1, map_fd);
    emit(a, BPF_MOV64_REG(2, 10));
    emit(a, BPF_ADD64_IMM(2, -4));
    emit(a, BPF_MOV64_REG(3, 10));
    emit(a, BPF_ADD64_IMM(3, -16));
    emit(a, BPF_MOV64_IMM(4, BPF_NOEXIST));
    emit(a, BPF_CALL_HELPER(BPF_FUNC_map_update_elem));
}

/* The usual counting program: hash[tgid] += 1 (inserted with 1 when absent). */
static inline int load_tgid_counter(uint32_t prog_type, int map_fd, const char *name)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_CALL_HELPER(BPF_FUNC_get_current_pid_tgid));
    emit(&a, U_ALU64_IMM(BPF_RSH, 0, 32));
    emit_hash_count(&a, map_fd);
    basm_finish(&a, 0);
    return prog_load(prog_type, &a, name);
}

/* `n` raw getpid() calls (no libc caching), each checked against `pid`. */
static inline void getpid_n(long n, long pid)
{
    for (long i = 0; i < n; i++) {
        long r = raw_getpid();
        if (r != pid)
            CHECK_EQ(r, pid, "getpid() #%ld while probed", i);
    }
}

#endif
