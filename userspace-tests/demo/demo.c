/* demo.c — /bin/demo: a terminal tour of bpf(2) on the running kernel.
 *
 * The same static binary runs on Linux (as root) and inside the demo kernel, where bpf(2) is
 * served by the ext-ebpf subsystem. It uses the raw system call with <linux/bpf.h>, no libbpf.
 *
 *   1. the kernel      uname, /proc/version, online CPUs, /proc/meminfo
 *   2. maps            a hash and an array: update/lookup/delete, GET_NEXT_KEY, OBJ_GET_INFO_BY_FD
 *   3. a program       a socket filter that bumps a counter in the array, run with
 *                      BPF_PROG_TEST_RUN; the verifier's log, and a program it rejects
 *   4. pinning         BPF_OBJ_PIN in /sys/fs/bpf, BPF_OBJ_GET, unlink
 *   5. introspection   BPF_PROG_GET_NEXT_ID / BPF_MAP_GET_NEXT_ID, like `bpftool prog/map list`
 *
 * Every result is checked; the first unexpected one prints the step, the call and the errno
 * name, and the demo exits 1. Exit 0 means every step worked. Colour only on a terminal
 * (and not with NO_COLOR set).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bpf_insn.h"
#include "bpf_names.h"

#define PIN_PATH "/sys/fs/bpf/demo_hash"
#define HASH_NAME "demo_hash"
#define ARRAY_NAME "demo_counter"
#define PROG_NAME "demo_count"
#define BAD_PROG_NAME "demo_bad"
#define KEY_LEN 16           /* demo_hash keys: NUL-padded names */
#define ARRAY_ENTRIES 4
#define PACKET_LEN 64        /* the test packet; the program returns skb->len = 64 - ETH_HLEN */
#define ETH_HLEN 14
#define OTHERS_SHOWN 8       /* step 5 lists this many ids of other owners, then counts the rest */
#define LOG_SIZE (64 * 1024)

/* ---- output ------------------------------------------------------------------------------ */

static int g_color;
static int g_step;
static const char *g_step_name = "start";

static const char *bold(void) { return g_color ? "\033[1m" : ""; }
static const char *dim(void) { return g_color ? "\033[2m" : ""; }
static const char *green(void) { return g_color ? "\033[32m" : ""; }
static const char *red(void) { return g_color ? "\033[1;31m" : ""; }
static const char *cyan(void) { return g_color ? "\033[36m" : ""; }
static const char *reset(void) { return g_color ? "\033[0m" : ""; }

static const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

/* The first unexpected result: name the step and the call, exit 1. */
static void failv(int err, const char *fmt, va_list ap)
{
    char what[512];
    vsnprintf(what, sizeof what, fmt, ap);
    fflush(stdout);
    if (err)
        printf("\n%sFAILED%s in step %d (%s): %s: %s (%s)\n", red(), reset(), g_step, g_step_name, what,
               errname(err), strerror(err));
    else
        printf("\n%sFAILED%s in step %d (%s): %s\n", red(), reset(), g_step, g_step_name, what);
    fflush(stdout);
    exit(1);
}

__attribute__((format(printf, 2, 3), noreturn)) static void fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(err, fmt, ap);
    va_end(ap);
    exit(1);
}

static void banner(void)
{
    static const char *const lines[] = {
        "",
        "ext-ebpf  --  a tour of bpf(2)",
        "",
        "maps, a verified program, pinning and introspection,",
        "all through the Linux system call ABI",
        "",
    };
    const int width = 64;
    printf("%s+", cyan());
    for (int i = 0; i < width; i++)
        putchar('-');
    printf("+%s\n", reset());
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        int len = (int)strlen(lines[i]);
        int left = (width - len) / 2;
        printf("%s|%s%*s%s%s%s%*s%s|%s\n", cyan(), reset(), left, "", i == 1 ? bold() : "", lines[i], reset(),
               width - len - left, "", cyan(), reset());
    }
    printf("%s+", cyan());
    for (int i = 0; i < width; i++)
        putchar('-');
    printf("+%s\n", reset());
}

static void section(int n, const char *title)
{
    g_step = n;
    g_step_name = title;
    int len = (int)strlen(title);
    printf("\n%s%d. %s%s %s", bold(), n, title, reset(), cyan());
    for (int i = len + 4; i < 66; i++)
        putchar('=');
    printf("%s\n\n", reset());
}

/* "  label         text" */
__attribute__((format(printf, 2, 3))) static void row(const char *label, const char *fmt, ...)
{
    va_list ap;
    printf("  %s%-12s%s ", dim(), label, reset());
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* One operation and its outcome: "  op             outcome" (outcome green for success). */
__attribute__((format(printf, 3, 4))) static void op(const char *outcome, int good, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("  %-48s %s%s%s\n", text, good ? green() : cyan(), outcome, reset());
}

/* Prints a verifier log, each line as "    | line"; at most `max` lines (0: all). */
static void print_log(const char *log, int max)
{
    int total = 0;
    for (const char *p = log; *p; p++)
        total += *p == '\n' || (p[1] == '\0');
    int shown = 0;
    const char *p = log;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (max == 0 || shown < max - 1 || shown == total - 1) {
            printf("    %s|%s %.*s\n", dim(), reset(), len, p);
        } else if (shown == max - 1) {
            printf("    %s|%s %s... (%d more lines)%s\n", dim(), reset(), dim(), total - max, reset());
        }
        shown++;
        p = nl ? nl + 1 : p + len;
    }
}

/* ---- bpf(2) ---------------------------------------------------------------------------- */

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static uint64_t ptr(const void *p) { return (uint64_t)(uintptr_t)p; }

static int map_create(const char *name, uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t entries)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = type;
    a.key_size = key_size;
    a.value_size = value_size;
    a.max_entries = entries;
    strncpy(a.map_name, name, sizeof a.map_name - 1);
    long fd = sys_bpf(BPF_MAP_CREATE, &a);
    if (fd < 0)
        fail(errno, "bpf(BPF_MAP_CREATE, type %u, key %u, value %u, max_entries %u, name \"%s\")", type, key_size,
             value_size, entries, name);
    return (int)fd;
}

/* The element call `cmd` on `fd`; returns 0 or the errno. */
static int map_elem(int cmd, int fd, const void *key, void *value, uint64_t flags)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_fd = (uint32_t)fd;
    a.key = ptr(key);
    a.value = ptr(value);
    a.flags = flags;
    return sys_bpf(cmd, &a) < 0 ? errno : 0;
}

static const char *cmd_name(int cmd)
{
    switch (cmd) {
    case BPF_MAP_LOOKUP_ELEM: return "BPF_MAP_LOOKUP_ELEM";
    case BPF_MAP_UPDATE_ELEM: return "BPF_MAP_UPDATE_ELEM";
    case BPF_MAP_DELETE_ELEM: return "BPF_MAP_DELETE_ELEM";
    case BPF_MAP_GET_NEXT_KEY: return "BPF_MAP_GET_NEXT_KEY";
    default: return "bpf";
    }
}

/* The element call must succeed. */
static void map_elem_ok(int cmd, int fd, const void *key, void *value, uint64_t flags, const char *what)
{
    int e = map_elem(cmd, fd, key, value, flags);
    if (e)
        fail(e, "bpf(%s, %s)", cmd_name(cmd), what);
}

/* The element call must fail with `want`. */
static void map_elem_err(int cmd, int fd, const void *key, void *value, uint64_t flags, int want, const char *what)
{
    int e = map_elem(cmd, fd, key, value, flags);
    if (e != want)
        fail(0, "bpf(%s, %s): expected %s, got %s", cmd_name(cmd), what, errname(want), e ? errname(e) : "success");
}

static void obj_info(int fd, void *info, uint32_t len, const char *what)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    memset(info, 0, len);
    a.info.bpf_fd = (uint32_t)fd;
    a.info.info_len = len;
    a.info.info = ptr(info);
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
        fail(errno, "bpf(BPF_OBJ_GET_INFO_BY_FD, %s)", what);
}

/* ---- 1. the kernel ----------------------------------------------------------------------- */

/* The first line of a text file, without its newline; 0 or the errno. */
static int read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno;
    int e = 0;
    if (!fgets(buf, (int)size, f))
        e = ferror(f) ? errno : ENODATA;
    fclose(f);
    if (!e)
        buf[strcspn(buf, "\n")] = '\0';
    return e;
}

/* Counts the CPUs in a cpulist such as "0", "0-3" or "0-1,4". */
static int cpulist_count(const char *s)
{
    int n = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10);
        if (end == s)
            return -1;
        long b = a;
        if (*end == '-') {
            s = end + 1;
            b = strtol(s, &end, 10);
            if (end == s || b < a)
                return -1;
        }
        n += (int)(b - a + 1);
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return n;
}

/* A /proc/meminfo value in KiB, or -1. */
static long meminfo_kib(const char *text, const char *field)
{
    size_t len = strlen(field);
    const char *p = text;
    while (*p) {
        if (strncmp(p, field, len) == 0 && p[len] == ':')
            return strtol(p + len + 1, NULL, 10);
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return -1;
}

static void step_kernel(void)
{
    section(1, "The kernel");
    struct utsname u;
    if (uname(&u) != 0)
        fail(errno, "uname");
    row("system", "%s %s %s", u.sysname, u.release, u.machine);

    char line[512];
    int e = read_line("/proc/version", line, sizeof line);
    if (e)
        fail(e, "read /proc/version");
    row("version", "%s", line);

    e = read_line("/sys/devices/system/cpu/online", line, sizeof line);
    if (e)
        fail(e, "read /sys/devices/system/cpu/online");
    int ncpu = cpulist_count(line);
    if (ncpu <= 0)
        fail(0, "/sys/devices/system/cpu/online: cannot parse \"%s\"", line);
    row("cpus", "%d online (%s)", ncpu, line);

    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char text[8192];
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        long total = meminfo_kib(text, "MemTotal"), avail = meminfo_kib(text, "MemAvailable");
        if (avail < 0)
            avail = meminfo_kib(text, "MemFree");
        if (total >= 0 && avail >= 0)
            row("memory", "%ld MiB total, %ld MiB available", total / 1024, avail / 1024);
        else
            row("memory", "(no MemTotal in /proc/meminfo)");
    } else {
        row("memory", "(no /proc/meminfo: %s)", errname(errno));
    }
}

/* ---- 2. maps ----------------------------------------------------------------------------- */

struct demo {
    int hash_fd, array_fd, prog_fd;
    uint32_t hash_id, array_id, prog_id;
};

static void hash_key(char key[KEY_LEN], const char *name)
{
    memset(key, 0, KEY_LEN);
    strncpy(key, name, KEY_LEN - 1);
}

static void map_info_row(int fd, const char *what, uint32_t *id)
{
    struct bpf_map_info info;
    obj_info(fd, &info, sizeof info, what);
    printf("  %4u  %-14s %-6s %5u %6u %8u %6u\n", info.id, info.name, map_type_name(info.type), info.key_size,
           info.value_size, info.max_entries, info.map_flags);
    *id = info.id;
}

static void step_maps(struct demo *d)
{
    section(2, "eBPF maps");
    d->hash_fd = map_create(HASH_NAME, BPF_MAP_TYPE_HASH, KEY_LEN, sizeof(uint64_t), 16);
    d->array_fd = map_create(ARRAY_NAME, BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(uint64_t), ARRAY_ENTRIES);
    printf("  BPF_MAP_CREATE x2, then BPF_OBJ_GET_INFO_BY_FD on each fd:\n\n");
    printf("  %s%4s  %-14s %-6s %5s %6s %8s %6s%s\n", bold(), "id", "name", "type", "key", "value", "entries",
           "flags", reset());
    map_info_row(d->hash_fd, "the hash map's fd", &d->hash_id);
    map_info_row(d->array_fd, "the array map's fd", &d->array_id);
    printf("\n");

    static const struct {
        const char *name;
        uint64_t value;
    } init[] = {{"openat", 3}, {"read", 42}, {"write", 17}, {"close", 3}, {"mmap", 8}};
    char key[KEY_LEN], what[96];
    uint64_t v;
    for (size_t i = 0; i < sizeof init / sizeof init[0]; i++) {
        hash_key(key, init[i].name);
        v = init[i].value;
        snprintf(what, sizeof what, "%s[\"%s\"] = %llu", HASH_NAME, init[i].name, (unsigned long long)v);
        map_elem_ok(BPF_MAP_UPDATE_ELEM, d->hash_fd, key, &v, BPF_ANY, what);
        op("ok", 1, "update  %s", what);
    }
    hash_key(key, "read");
    v = 1;
    snprintf(what, sizeof what, "%s[\"read\"] = 1, BPF_NOEXIST", HASH_NAME);
    map_elem_err(BPF_MAP_UPDATE_ELEM, d->hash_fd, key, &v, BPF_NOEXIST, EEXIST, what);
    op("EEXIST (the key is there)", 0, "update  %s", what);
    v = 43;
    snprintf(what, sizeof what, "%s[\"read\"] = 43, BPF_EXIST", HASH_NAME);
    map_elem_ok(BPF_MAP_UPDATE_ELEM, d->hash_fd, key, &v, BPF_EXIST, what);
    op("ok", 1, "update  %s", what);
    v = 0;
    snprintf(what, sizeof what, "%s[\"read\"]", HASH_NAME);
    map_elem_ok(BPF_MAP_LOOKUP_ELEM, d->hash_fd, key, &v, 0, what);
    if (v != 43)
        fail(0, "lookup %s returned %llu, expected 43", what, (unsigned long long)v);
    op("43", 1, "lookup  %s", what);
    hash_key(key, "close");
    snprintf(what, sizeof what, "%s[\"close\"]", HASH_NAME);
    map_elem_ok(BPF_MAP_DELETE_ELEM, d->hash_fd, key, NULL, 0, what);
    op("ok", 1, "delete  %s", what);
    map_elem_err(BPF_MAP_LOOKUP_ELEM, d->hash_fd, key, &v, 0, ENOENT, what);
    op("ENOENT (deleted)", 0, "lookup  %s", what);

    uint32_t idx = 2;
    v = 7;
    snprintf(what, sizeof what, "%s[2] = 7", ARRAY_NAME);
    map_elem_ok(BPF_MAP_UPDATE_ELEM, d->array_fd, &idx, &v, BPF_ANY, what);
    op("ok", 1, "update  %s", what);
    snprintf(what, sizeof what, "%s[2]", ARRAY_NAME);
    map_elem_err(BPF_MAP_DELETE_ELEM, d->array_fd, &idx, NULL, 0, EINVAL, what);
    op("EINVAL (arrays have no holes)", 0, "delete  %s", what);
    idx = ARRAY_ENTRIES;
    snprintf(what, sizeof what, "%s[%d]", ARRAY_NAME, ARRAY_ENTRIES);
    map_elem_err(BPF_MAP_LOOKUP_ELEM, d->array_fd, &idx, &v, 0, ENOENT, what);
    op("ENOENT (past max_entries)", 0, "lookup  %s", what);

    /* Walk the hash with GET_NEXT_KEY from a NULL key; expect exactly the four survivors. */
    static const struct {
        const char *name;
        uint64_t value;
    } want[] = {{"openat", 3}, {"read", 43}, {"write", 17}, {"mmap", 8}};
    int seen[4] = {0};
    printf("\n  BPF_MAP_GET_NEXT_KEY walk of %s (the map's own order):\n\n", HASH_NAME);
    printf("    %s%-16s %8s%s\n", bold(), "key", "value", reset());
    char cur[KEY_LEN], next[KEY_LEN];
    const void *prev = NULL;
    int n = 0, e;
    while ((e = map_elem(BPF_MAP_GET_NEXT_KEY, d->hash_fd, prev, next, 0)) == 0) {
        if (++n > 16)
            fail(0, "GET_NEXT_KEY walk of %s did not end after 16 keys", HASH_NAME);
        memcpy(cur, next, KEY_LEN);
        prev = cur;
        if (cur[KEY_LEN - 1] != '\0')
            fail(0, "GET_NEXT_KEY returned a key that is not one of ours");
        map_elem_ok(BPF_MAP_LOOKUP_ELEM, d->hash_fd, cur, &v, 0, "a key from GET_NEXT_KEY");
        printf("    %-16s %8llu\n", cur, (unsigned long long)v);
        size_t i;
        for (i = 0; i < 4; i++)
            if (strcmp(cur, want[i].name) == 0)
                break;
        if (i == 4 || seen[i] || v != want[i].value)
            fail(0, "GET_NEXT_KEY walk: unexpected or repeated key \"%s\" = %llu", cur, (unsigned long long)v);
        seen[i] = 1;
    }
    if (e != ENOENT)
        fail(e, "bpf(BPF_MAP_GET_NEXT_KEY) at the end of %s: expected ENOENT", HASH_NAME);
    if (n != 4)
        fail(0, "GET_NEXT_KEY walk of %s gave %d keys, expected 4", HASH_NAME, n);
    printf("    %s(%d keys, then ENOENT)%s\n", dim(), n, reset());

    printf("\n  GET_NEXT_KEY walk of %s:  ", ARRAY_NAME);
    uint32_t ai, an;
    const void *ap = NULL;
    n = 0;
    while ((e = map_elem(BPF_MAP_GET_NEXT_KEY, d->array_fd, ap, &an, 0)) == 0) {
        if (an != (uint32_t)n || n >= ARRAY_ENTRIES)
            fail(0, "GET_NEXT_KEY on %s returned index %u after %d keys", ARRAY_NAME, an, n);
        ai = an;
        ap = &ai;
        map_elem_ok(BPF_MAP_LOOKUP_ELEM, d->array_fd, &ai, &v, 0, "an array index from GET_NEXT_KEY");
        if (v != (ai == 2 ? 7u : 0u))
            fail(0, "%s[%u] = %llu, expected %u", ARRAY_NAME, ai, (unsigned long long)v, ai == 2 ? 7 : 0);
        printf("[%u]=%llu ", ai, (unsigned long long)v);
        n++;
    }
    if (e != ENOENT || n != ARRAY_ENTRIES)
        fail(e == ENOENT ? 0 : e, "GET_NEXT_KEY walk of %s ended after %d keys, expected ENOENT after %d", ARRAY_NAME,
             n, ARRAY_ENTRIES);
    printf("\n");
}

/* ---- 3. a program ------------------------------------------------------------------------ */

/* Loads `insns`; returns the fd or -errno. The log (if `log`) is always NUL-terminated. */
static int prog_load(const char *name, const struct bpf_insn *insns, uint32_t cnt, char *log, uint32_t log_size)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insns = ptr(insns);
    a.insn_cnt = cnt;
    a.license = ptr("GPL");
    strncpy(a.prog_name, name, sizeof a.prog_name - 1);
    if (log) {
        log[0] = '\0';
        a.log_buf = ptr(log);
        a.log_size = log_size;
        a.log_level = 1;
    }
    long fd = sys_bpf(BPF_PROG_LOAD, &a);
    return fd < 0 ? -errno : (int)fd;
}

static void step_program(struct demo *d, char *log)
{
    section(3, "A program, verified and run");
    /* r0 = skb->len, after `lock demo_counter[0] += 1`. */
    const struct bpf_insn insns[] = {
        BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),                   /* r6 = ctx (struct __sk_buff *) */
        BPF_MOV64_IMM(BPF_REG_1, 0),                           /* key = 0 on the stack */
        BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, -4),
        BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),                  /* r2 = &key */
        BPF_ADD64_IMM(BPF_REG_2, -4),
        BPF_LD_MAP_FD(BPF_REG_1, d->array_fd),                 /* r1 = demo_counter */
        BPF_CALL_HELPER(BPF_FUNC_map_lookup_elem),             /* r0 = &demo_counter[0] or NULL */
        BPF_JEQ_IMM(BPF_REG_0, 0, 2),                          /* NULL: skip the add */
        BPF_MOV64_IMM(BPF_REG_1, 1),
        BPF_ATOMIC_ADD(BPF_DW, BPF_REG_0, BPF_REG_1, 0),       /* lock *(u64 *)r0 += 1 */
        BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_6, 0),           /* r0 = skb->len */
        BPF_EXIT_INSN(),
    };
    const uint32_t cnt = sizeof insns / sizeof insns[0];
    /* cnt - 1: the 64-bit map load takes two slots. */
    printf("  %s: a socket filter of %u instructions: look up %s[0], atomically add 1,\n", PROG_NAME, cnt - 1,
           ARRAY_NAME);
    printf("  return skb->len. BPF_PROG_LOAD with log_level 1; the verifier says:\n\n");
    int fd = prog_load(PROG_NAME, insns, cnt, log, LOG_SIZE);
    if (fd < 0) {
        print_log(log, 0);
        fail(-fd, "bpf(BPF_PROG_LOAD, socket_filter \"%s\", %u insns, log_level 1)", PROG_NAME, cnt);
    }
    d->prog_fd = fd;
    print_log(log, 24);
    printf("    %s(log_level 1 keeps only the statistics of a program that passes)%s\n", dim(), reset());

    struct bpf_prog_info info;
    obj_info(fd, &info, sizeof info, "the program's fd");
    d->prog_id = info.id;
    char tag[2 * BPF_TAG_SIZE + 1];
    for (int i = 0; i < BPF_TAG_SIZE; i++)
        snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
    printf("\n");
    row("loaded", "id %u, type %s, name %s, tag %s", info.id, prog_type_name(info.type), info.name, tag);
    if (info.jited_prog_len)
        row("size", "%u bytes translated, %u bytes JIT-compiled", info.xlated_prog_len, info.jited_prog_len);
    else
        row("size", "%u bytes translated, interpreted (no JIT)", info.xlated_prog_len);
    if (info.nr_map_ids != 1)
        fail(0, "the program uses %u maps, expected 1 (%s)", info.nr_map_ids, ARRAY_NAME);

    /* Four BPF_PROG_TEST_RUN calls: 1 + 10 + 100 + 1000 runs. */
    unsigned char packet[PACKET_LEN];
    memset(packet, 0, sizeof packet);
    memset(packet, 0xff, 6);                        /* broadcast destination */
    memcpy(packet + 6, "\x02\x00\x00\x00\x00\x01", 6); /* a locally administered source */
    packet[12] = 0x08;                              /* ETH_P_IP */
    printf("\n  BPF_PROG_TEST_RUN with a %d-byte packet, then a lookup of %s[0]:\n\n", PACKET_LEN, ARRAY_NAME);
    printf("    %s%4s %8s %8s %10s %16s%s\n", bold(), "call", "repeat", "retval", "ns/run", "demo_counter[0]",
           reset());
    uint64_t expected = 0;
    for (int call = 1, repeat = 1; call <= 4; call++, repeat *= 10) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.test.prog_fd = (uint32_t)fd;
        a.test.data_in = ptr(packet);
        a.test.data_size_in = sizeof packet;
        a.test.repeat = (uint32_t)repeat;
        if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0)
            fail(errno, "bpf(BPF_PROG_TEST_RUN, %s, %d-byte packet, repeat %d)", PROG_NAME, PACKET_LEN, repeat);
        expected += (uint64_t)repeat;
        uint32_t key = 0;
        uint64_t count = 0;
        map_elem_ok(BPF_MAP_LOOKUP_ELEM, d->array_fd, &key, &count, 0, ARRAY_NAME "[0]");
        printf("    %4d %8d %8u %10u %16llu\n", call, repeat, a.test.retval, a.test.duration,
               (unsigned long long)count);
        if (a.test.retval != PACKET_LEN - ETH_HLEN)
            fail(0, "BPF_PROG_TEST_RUN retval %u, expected skb->len = %d", a.test.retval, PACKET_LEN - ETH_HLEN);
        if (count != expected)
            fail(0, "%s[0] = %llu after %llu runs", ARRAY_NAME, (unsigned long long)count,
                 (unsigned long long)expected);
    }
    printf("    %s(retval = skb->len = %d - ETH_HLEN; every run added 1 to the counter)%s\n", dim(), PACKET_LEN,
           reset());

    /* A program the verifier must refuse: it reads r2, which nothing wrote. */
    const struct bpf_insn bad[] = {
        BPF_MOV64_REG(BPF_REG_0, BPF_REG_2), /* r0 = r2: r2 is not an argument of a socket filter */
        BPF_EXIT_INSN(),
    };
    printf("\n  %s: `r0 = r2; exit` reads a register nothing wrote. The verifier:\n\n", BAD_PROG_NAME);
    int bfd = prog_load(BAD_PROG_NAME, bad, 2, log, LOG_SIZE);
    if (bfd >= 0)
        fail(0, "bpf(BPF_PROG_LOAD, \"%s\") accepted a program that reads the uninitialised r2", BAD_PROG_NAME);
    print_log(log, 0);
    if (-bfd != EACCES)
        fail(0, "bpf(BPF_PROG_LOAD, \"%s\"): expected EACCES, got %s", BAD_PROG_NAME, errname(-bfd));
    if (!strstr(log, "R2 !read_ok"))
        fail(0, "the verifier log for \"%s\" does not say \"R2 !read_ok\"", BAD_PROG_NAME);
    printf("\n");
    op("EACCES (rejected)", 0, "BPF_PROG_LOAD %s", BAD_PROG_NAME);
}

/* ---- 4. pinning -------------------------------------------------------------------------- */

static void step_pinning(struct demo *d)
{
    section(4, "Pinning in the BPF filesystem");
    /* A pin left behind by an interrupted run would make BPF_OBJ_PIN fail with EEXIST. */
    if (unlink(PIN_PATH) != 0 && errno != ENOENT)
        fail(errno, "unlink stale %s", PIN_PATH);

    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.pathname = ptr(PIN_PATH);
    a.bpf_fd = (uint32_t)d->hash_fd;
    if (sys_bpf(BPF_OBJ_PIN, &a) < 0)
        fail(errno, "bpf(BPF_OBJ_PIN, %s fd %d, \"%s\")", HASH_NAME, d->hash_fd, PIN_PATH);
    op("ok", 1, "BPF_OBJ_PIN   %s -> %s", HASH_NAME, PIN_PATH);

    struct stat st;
    if (stat(PIN_PATH, &st) != 0)
        fail(errno, "stat %s", PIN_PATH);
    if (!S_ISREG(st.st_mode))
        fail(0, "%s has mode %o, expected a regular file", PIN_PATH, st.st_mode);
    char desc[64];
    snprintf(desc, sizeof desc, "regular file, mode %04o", st.st_mode & 07777);
    op(desc, 1, "stat          %s", PIN_PATH);

    memset(&a, 0, sizeof a);
    a.pathname = ptr(PIN_PATH);
    long fd = sys_bpf(BPF_OBJ_GET, &a);
    if (fd < 0)
        fail(errno, "bpf(BPF_OBJ_GET, \"%s\")", PIN_PATH);
    struct bpf_map_info info;
    obj_info((int)fd, &info, sizeof info, "the fd from BPF_OBJ_GET");
    if (info.id != d->hash_id)
        fail(0, "BPF_OBJ_GET gave map id %u, expected %u (%s)", info.id, d->hash_id, HASH_NAME);
    snprintf(desc, sizeof desc, "fd %ld: map id %u, \"%s\" again", fd, info.id, info.name);
    op(desc, 1, "BPF_OBJ_GET   %s", PIN_PATH);

    char key[KEY_LEN];
    uint64_t v = 0;
    hash_key(key, "write");
    map_elem_ok(BPF_MAP_LOOKUP_ELEM, (int)fd, key, &v, 0, "[\"write\"] through the BPF_OBJ_GET fd");
    if (v != 17)
        fail(0, "[\"write\"] through the BPF_OBJ_GET fd is %llu, expected 17", (unsigned long long)v);
    snprintf(desc, sizeof desc, "%llu (same data)", (unsigned long long)v);
    op(desc, 1, "lookup        fd %ld[\"write\"]", fd);

    if (unlink(PIN_PATH) != 0)
        fail(errno, "unlink %s", PIN_PATH);
    op("ok", 1, "unlink        %s", PIN_PATH);
    memset(&a, 0, sizeof a);
    a.pathname = ptr(PIN_PATH);
    long gone = sys_bpf(BPF_OBJ_GET, &a);
    if (gone >= 0 || errno != ENOENT)
        fail(0, "bpf(BPF_OBJ_GET, \"%s\") after unlink: expected ENOENT, got %s", PIN_PATH,
             gone >= 0 ? "an fd" : errname(errno));
    op("ENOENT (the pin is gone)", 0, "BPF_OBJ_GET   %s", PIN_PATH);
    v = 0;
    map_elem_ok(BPF_MAP_LOOKUP_ELEM, (int)fd, key, &v, 0, "[\"write\"] after unlinking the pin");
    if (v != 17)
        fail(0, "[\"write\"] after unlinking the pin is %llu, expected 17", (unsigned long long)v);
    op("17 (fds keep the map alive)", 1, "lookup        fd %ld[\"write\"]", fd);
    close((int)fd);
}

/* ---- 5. introspection -------------------------------------------------------------------- */

/* Walks the ids with `next_cmd`, prints a row per object via `get_cmd` + OBJ_GET_INFO_BY_FD;
 * returns how many of `ours` (n_ours ids) were seen. */
static int list_objects(int is_prog, const uint32_t *ours, int n_ours)
{
    int next_cmd = is_prog ? BPF_PROG_GET_NEXT_ID : BPF_MAP_GET_NEXT_ID;
    int get_cmd = is_prog ? BPF_PROG_GET_FD_BY_ID : BPF_MAP_GET_FD_BY_ID;
    const char *kind = is_prog ? "program" : "map";
    uint32_t id = 0;
    int total = 0, shown = 0, found = 0, gone = 0;
    for (;;) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.start_id = id;
        if (sys_bpf(next_cmd, &a) < 0) {
            if (errno == ENOENT)
                break;
            fail(errno, "bpf(BPF_%s_GET_NEXT_ID, start_id %u)", is_prog ? "PROG" : "MAP", id);
        }
        if (a.next_id <= id)
            fail(0, "BPF_%s_GET_NEXT_ID after %u returned %u", is_prog ? "PROG" : "MAP", id, a.next_id);
        id = a.next_id;
        total++;
        int mine = 0;
        for (int i = 0; i < n_ours; i++)
            mine |= ours[i] == id;
        found += mine;
        if (!mine && shown >= OTHERS_SHOWN)
            continue;
        memset(&a, 0, sizeof a);
        if (is_prog)
            a.prog_id = id;
        else
            a.map_id = id;
        long fd = sys_bpf(get_cmd, &a);
        if (fd < 0) {
            if (errno == ENOENT && !mine) { /* freed since GET_NEXT_ID: Linux allows that race */
                gone++;
                continue;
            }
            fail(errno, "bpf(BPF_%s_GET_FD_BY_ID, %u)", is_prog ? "PROG" : "MAP", id);
        }
        const char *mark = mine ? "  <- this demo" : "";
        if (is_prog) {
            struct bpf_prog_info info;
            obj_info((int)fd, &info, sizeof info, "a program fd from GET_FD_BY_ID");
            char tag[2 * BPF_TAG_SIZE + 1];
            for (int i = 0; i < BPF_TAG_SIZE; i++)
                snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
            printf("    %5u  %-16s %-16s %s%s%s%s\n", info.id, prog_type_name(info.type),
                   info.name[0] ? info.name : "-", tag, green(), mark, reset());
        } else {
            struct bpf_map_info info;
            obj_info((int)fd, &info, sizeof info, "a map fd from GET_FD_BY_ID");
            char kve[48];
            snprintf(kve, sizeof kve, "%u/%u/%u", info.key_size, info.value_size, info.max_entries);
            printf("    %5u  %-16s %-16s %-17s%s%s%s\n", info.id, map_type_name(info.type),
                   info.name[0] ? info.name : "-", kve, green(), mark, reset());
        }
        close((int)fd);
        shown++;
    }
    if (total - shown - gone > 0)
        printf("    %s... and %d more %ss%s\n", dim(), total - shown - gone, kind, reset());
    return found;
}

static void step_introspection(struct demo *d)
{
    section(5, "Introspection (what `bpftool prog/map list` does)");
    printf("  BPF_PROG_GET_NEXT_ID + BPF_PROG_GET_FD_BY_ID + BPF_OBJ_GET_INFO_BY_FD:\n\n");
    printf("    %s%5s  %-16s %-16s %s%s\n", bold(), "id", "type", "name", "tag", reset());
    if (list_objects(1, &d->prog_id, 1) != 1)
        fail(0, "BPF_PROG_GET_NEXT_ID never returned %s's id %u", PROG_NAME, d->prog_id);
    printf("\n  BPF_MAP_GET_NEXT_ID + BPF_MAP_GET_FD_BY_ID + BPF_OBJ_GET_INFO_BY_FD:\n\n");
    printf("    %s%5s  %-16s %-16s %s%s\n", bold(), "id", "type", "name", "key/value/entries", reset());
    uint32_t maps[2] = {d->hash_id, d->array_id};
    if (list_objects(0, maps, 2) != 2)
        fail(0, "BPF_MAP_GET_NEXT_ID did not return both map ids %u and %u", d->hash_id, d->array_id);
}

int main(void)
{
    const char *term = getenv("TERM");
    g_color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    static char log[LOG_SIZE];
    struct demo d = {.hash_fd = -1, .array_fd = -1, .prog_fd = -1};

    banner();
    step_kernel();
    step_maps(&d);
    step_program(&d, log);
    step_pinning(&d);
    step_introspection(&d);

    close(d.prog_fd);
    close(d.array_fd);
    close(d.hash_fd);
    printf("\n%sAll 5 steps passed.%s Next: programs attached to kprobes and syscall tracepoints "
           "(perf_event_open and kprobes, issues 5 and 6).\n",
           green(), reset());
    return 0;
}
