/* t_badptr.c — bad user pointers: every syscall that takes one fails with EFAULT (or does
 * exactly what Linux does) and the process lives on.
 *
 * Bad addresses: NULL, an unmapped page (mapped then munmapped), the first non-canonical
 * address 0x0000800000000000, the kernel half (0xffff800000000000 = the direct map,
 * 0xffffffff80000000 = the kernel image), a PROT_NONE page, and for output arguments also a
 * PROT_READ page. Every call is made with syscall() so libc cannot intercept it (no vDSO).
 * NULL is skipped where Linux takes it as "no argument".
 *
 * Linux subtleties asserted here (all checked on Linux):
 *  - read/write check the whole range is user space first (access_ok): a kernel or
 *    non-canonical buffer is EFAULT even when the count is 0 or the driver would not touch it
 *    (/dev/null), and a valid buffer with a count reaching past user space is EFAULT.
 *  - a failed copy consumes nothing: pipe data stays, the file offset does not move.
 *  - a copy that starts valid and runs into an unmapped page returns the bytes done.
 *  - nanosleep writes `rem` only when interrupted: a bad `rem` is not an error.
 *  - wait4 reaps the child before storing the status: EFAULT, then ECHILD.
 *  - epoll_wait with a bad events buffer keeps the event: the next call still gets it.
 *  - pipe2 with a bad array installs no fds; execve checks argv/envp before the format.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define PAGE 4096UL

/* FAILS(err, call, what...): call returns -1 with errno == err. */
#define FAILS(err, call, ...)                                                                      \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long fails_r_ = (long)(call);                                                              \
        expect_result(fails_r_, errno, -1, (err), __VA_ARGS__);                                    \
    } while (0)

/* RETURNS(val, call, what...): call returns val (and not -1). */
#define RETURNS(val, call, ...)                                                                    \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long returns_r_ = (long)(call);                                                            \
        expect_result(returns_r_, errno, (long)(val), 0, __VA_ARGS__);                             \
    } while (0)

static void expect_result(long r, int e, long want_r, int want_e, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void expect_result(long r, int e, long want_r, int want_e, const char *fmt, ...)
{
    char what[256], detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (want_e) {
        size_t n = strlen(what);
        snprintf(what + n, sizeof what - n, " -> %s", strerrorname_np(want_e));
        if (r != -1) {
            snprintf(detail, sizeof detail, "returned %ld, expected -1 with errno %d", r, want_e);
            check_fail(what, detail, 0);
        }
        if (e != want_e) {
            snprintf(detail, sizeof detail, "wrong errno, expected %s (%d)", strerrorname_np(want_e), want_e);
            check_fail(what, detail, e);
        }
    } else {
        size_t n = strlen(what);
        snprintf(what + n, sizeof what - n, " -> %ld", want_r);
        if (r != want_r) {
            snprintf(detail, sizeof detail, "returned %ld, expected %ld", r, want_r);
            check_fail(what, detail, r == -1 ? e : 0);
        }
    }
    check_ok(what);
}

struct bad {
    const char *name;
    uintptr_t addr;
};

/* Filled in by setup(); [0] is NULL, the last entry (read-only page) only for outputs. */
static struct bad bad[7];
enum { N_IN = 6, N_OUT = 7 };

static char *valid;  /* one RW page; the page after it is the unmapped hole */
static char *hole;   /* unmapped */
static char *ro;     /* PROT_READ, zero-filled */
static char *none;   /* PROT_NONE */
static char dir[64]; /* scratch directory */

#define P(i) ((void *)bad[i].addr)
#define N(i) (bad[i].name)
/* Loops over the bad pointers for an input argument / an output argument; `from` is 1 to skip
 * NULL where it is a legal "no argument" value. */
#define FOR_IN(i, from) for (int i = (from); i < N_IN; i++)
#define FOR_OUT(i, from) for (int i = (from); i < N_OUT; i++)

static void setup(void)
{
    /* [valid][hole][ro][none], one mapping carved up so the layout is fixed */
    char *base = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(base != MAP_FAILED, "mmap 4 pages");
    valid = base;
    hole = base + PAGE;
    ro = base + 2 * PAGE;
    none = base + 3 * PAGE;
    memset(valid, 'v', PAGE);
    CHECK_SYS(munmap(hole, PAGE), "munmap the second page (the hole)");
    CHECK_SYS(mprotect(ro, PAGE, PROT_READ), "mprotect the third page PROT_READ");
    CHECK_SYS(mprotect(none, PAGE, PROT_NONE), "mprotect the fourth page PROT_NONE");
    struct bad b[7] = {
        {"NULL", 0},
        {"unmapped page", (uintptr_t)hole},
        {"non-canonical 0x800000000000", 0x0000800000000000UL},
        {"kernel 0xffff800000000000", 0xffff800000000000UL},
        {"kernel 0xffffffff80000000", 0xffffffff80000000UL},
        {"PROT_NONE page", (uintptr_t)none},
        {"read-only page", (uintptr_t)ro},
    };
    memcpy(bad, b, sizeof b);
}

static int make_file(const char *name, const char *content, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = CHECK_SYS(open(path, O_CREAT | O_TRUNC | O_RDWR, 0755), "create %s", path);
    CHECK_EQ(write(fd, content, len), (long)len, "write %zu bytes to %s", len, name);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "rewind %s", name);
    return fd;
}

static long file_size(int fd)
{
    struct stat st;
    CHECK_SYS(fstat(fd, &st), "fstat");
    return (long)st.st_size;
}

static void test_read_write(void)
{
    char buf[64];
    int p[2];
    CHECK_SYS(pipe2(p, O_NONBLOCK), "pipe2");
    CHECK_EQ(write(p[1], "0123456789abcdef", 16), 16, "fill the pipe with 16 bytes");
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_read, p[0], P(i), 8), "read(pipe) into %s", N(i));
    CHECK_EQ(read(p[0], buf, sizeof buf), 16, "the failed reads consumed nothing: 16 bytes left");
    CHECK(memcmp(buf, "0123456789abcdef", 16) == 0, "pipe data intact");
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_write, p[1], P(i), 8), "write(pipe) from %s", N(i));
    FAILS(EAGAIN, read(p[0], buf, 1), "the failed writes wrote nothing: empty pipe");
    RETURNS(8, syscall(SYS_write, p[1], ro, 8), "write(pipe) from the read-only page");
    CHECK_EQ(read(p[0], buf, 8), 8, "read the 8 bytes back");
    CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0, "they are the read-only page's zeros");

    /* a buffer reaching past the end of user space, and count 0 */
    RETURNS(0, syscall(SYS_read, p[0], NULL, 0), "read(pipe, NULL, 0)");
    RETURNS(0, syscall(SYS_write, p[1], NULL, 0), "write(pipe, NULL, 0)");
    FAILS(EFAULT, syscall(SYS_read, p[0], P(3), 0), "read(pipe, %s, 0)", N(3));
    FAILS(EFAULT, syscall(SYS_write, p[1], P(4), 0), "write(pipe, %s, 0)", N(4));
    FAILS(EFAULT, syscall(SYS_write, p[1], valid, 1UL << 47), "write(pipe) of a valid buffer with count 2^47");
    FAILS(EAGAIN, read(p[0], buf, 1), "still an empty pipe");

    /* regular file */
    int fd = make_file("f", "0123456789", 10);
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_read, fd, P(i), 8), "read(file) into %s", N(i));
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0, "the failed reads left the file offset at 0");
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_write, fd, P(i), 8), "write(file) from %s", N(i));
    CHECK_EQ(file_size(fd), 10, "the failed writes left the file at 10 bytes");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0, "and the offset at 0");
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_pread64, fd, P(i), 4, 2), "pread64 into %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_pwrite64, fd, P(i), 4, 2), "pwrite64 from %s", N(i));
    CHECK_EQ(pread(fd, buf, 10, 0), 10, "pread the file");
    CHECK(memcmp(buf, "0123456789", 10) == 0, "file content unchanged");

    /* devices: /dev/zero writes zeros to the buffer, /dev/null never reads it */
    int z = CHECK_SYS(open("/dev/zero", O_RDONLY), "open /dev/zero");
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_read, z, P(i), 8), "read(/dev/zero) into %s", N(i));
    /* (the valid page: a kernel that wrongly copies up to the first fault stops at the hole) */
    FAILS(EFAULT, syscall(SYS_read, z, valid, 1UL << 47), "read(/dev/zero) into a valid buffer with count 2^47");
    close(z);
    int n = CHECK_SYS(open("/dev/null", O_WRONLY), "open /dev/null");
    RETURNS(8, syscall(SYS_write, n, NULL, 8), "write(/dev/null) from NULL (never read)");
    RETURNS(8, syscall(SYS_write, n, hole, 8), "write(/dev/null) from the unmapped page (never read)");
    FAILS(EFAULT, syscall(SYS_write, n, P(2), 8), "write(/dev/null) from %s (not user space)", N(2));
    FAILS(EFAULT, syscall(SYS_write, n, P(3), 8), "write(/dev/null) from %s (not user space)", N(3));
    close(n);
    close(p[0]);
    close(p[1]);
    close(fd);
}

static void test_vectors(void)
{
    int fd = make_file("v", "abcdefgh", 8);
    char buf[8];
    struct iovec iov[2];
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_readv, fd, P(i), 1), "readv with the iovec array at %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_writev, fd, P(i), 1), "writev with the iovec array at %s", N(i));
    FOR_OUT(i, 0) {
        iov[0] = (struct iovec){P(i), 4};
        FAILS(EFAULT, syscall(SYS_readv, fd, iov, 1), "readv into iov_base %s", N(i));
    }
    FOR_IN(i, 0) {
        iov[0] = (struct iovec){P(i), 4};
        FAILS(EFAULT, syscall(SYS_writev, fd, iov, 1), "writev from iov_base %s", N(i));
    }
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0, "offset still 0");
    CHECK_EQ(file_size(fd), 8, "size still 8");
    RETURNS(0, syscall(SYS_readv, fd, NULL, 0), "readv(NULL, 0 iovecs)");
    RETURNS(0, syscall(SYS_writev, fd, NULL, 0), "writev(NULL, 0 iovecs)");
    iov[0] = (struct iovec){buf, 3};
    iov[1] = (struct iovec){P(1), 0};
    RETURNS(3, syscall(SYS_readv, fd, iov, 2), "readv with a zero-length iovec at the unmapped page");
    CHECK(memcmp(buf, "abc", 3) == 0, "readv content");
    close(fd);
}

/* Buffers that start valid and run into the unmapped page. */
static void test_crossing(void)
{
    char *end = valid + PAGE;
    int fd = make_file("x", "", 0);
    memset(valid, 'w', PAGE);
    RETURNS(100, syscall(SYS_write, fd, end - 100, 200), "write(file) of 200 bytes, the last 100 unmapped");
    CHECK_EQ(file_size(fd), 100, "the file got the 100 valid bytes");
    CHECK_EQ(pwrite(fd, "0123456789", 10, 100), 10, "extend the file to 110 bytes");
    memset(valid, 0, PAGE);
    RETURNS(100, syscall(SYS_pread64, fd, end - 100, 110, 0), "pread64 of 110 bytes into 100 valid + unmapped");
    CHECK(end[-100] == 'w' && end[-1] == 'w', "the 100 bytes arrived");
    RETURNS(0, lseek(fd, 0, SEEK_SET), "rewind");
    RETURNS(100, syscall(SYS_read, fd, end - 100, 110), "read of 110 bytes into 100 valid + unmapped");
    RETURNS(100, lseek(fd, 0, SEEK_CUR), "the offset moved by the 100 bytes read");
    close(fd);

    /* a pipe takes whole pages: a page-aligned buffer whose second page is unmapped */
    int p[2];
    CHECK_SYS(pipe2(p, O_NONBLOCK), "pipe2");
    RETURNS(PAGE, syscall(SYS_write, p[1], valid, 2 * PAGE), "write(pipe) of 2 pages, the second unmapped");
    close(p[0]);
    close(p[1]);

    /* a path without its NUL before the unmapped page; and one whose NUL is the last byte */
    memcpy(end - 4, "/tmp", 4);
    FAILS(EFAULT, syscall(SYS_openat, AT_FDCWD, end - 4, O_RDONLY), "openat of a path running into the unmapped page");
    memcpy(end - 9, "/missing", 9);
    FAILS(ENOENT, syscall(SYS_openat, AT_FDCWD, end - 9, O_RDONLY), "openat of a path ending at the page end");

    /* memory mapped but never touched yet is valid (the kernel faults it in) */
    char *fresh = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fresh != MAP_FAILED, "mmap 2 untouched pages");
    int z = CHECK_SYS(open("/dev/zero", O_RDONLY), "open /dev/zero");
    RETURNS(16, syscall(SYS_read, z, fresh + PAGE - 8, 16), "read into two untouched pages");
    close(z);
    RETURNS(0, syscall(SYS_fstat, 1, fresh + 2 * PAGE - 100), "fstat into an untouched page");
    munmap(fresh, 2 * PAGE);
}

static void test_paths(void)
{
    char path[128], buf[256];
    struct stat st;
    struct statx sx;
    snprintf(path, sizeof path, "%s/f", dir);
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_openat, AT_FDCWD, P(i), O_RDONLY), "openat path %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_newfstatat, AT_FDCWD, P(i), &st, 0), "newfstatat path %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_newfstatat, AT_FDCWD, path, P(i), 0), "newfstatat into %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_fstat, 1, P(i)), "fstat into %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_statx, AT_FDCWD, P(i), 0, STATX_BASIC_STATS, &sx), "statx path %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS, P(i)), "statx into %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_faccessat, AT_FDCWD, P(i), F_OK), "faccessat path %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_mkdirat, AT_FDCWD, P(i), 0755), "mkdirat path %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_unlinkat, AT_FDCWD, P(i), 0), "unlinkat path %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_unlinkat, AT_FDCWD, P(i), AT_REMOVEDIR), "unlinkat(AT_REMOVEDIR) path %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_readlinkat, AT_FDCWD, P(i), buf, sizeof buf), "readlinkat path %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", P(i), 64), "readlinkat(/proc/self/exe) "
              "into %s", N(i));
    char before[256], after[256];
    CHECK(getcwd(before, sizeof before) != NULL, "getcwd");
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_chdir, P(i)), "chdir path %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_getcwd, P(i), 4096), "getcwd into %s", N(i));
    CHECK(getcwd(after, sizeof after) != NULL, "getcwd again");
    CHECK_STR(after, before, "cwd unchanged");
    CHECK_SYS(stat(path, &st), "the file is still there");

    int dfd = CHECK_SYS(open(dir, O_RDONLY | O_DIRECTORY), "open the scratch dir");
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_getdents64, dfd, P(i), 4096), "getdents64 into %s", N(i));
    close(dfd);
}

static void test_fds(void)
{
    int probe = CHECK_SYS(dup(0), "dup(0) to find the lowest free fd");
    close(probe);
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_pipe2, P(i), 0), "pipe2 into %s", N(i));
    int again = CHECK_SYS(dup(0), "dup(0) again");
    close(again);
    CHECK_EQ(again, probe, "the failed pipe2 calls left no fds behind");

    int p[2];
    CHECK_SYS(pipe2(p, 0), "pipe2");
    CHECK_EQ(write(p[1], "r", 1), 1, "make the read end ready");
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_poll, P(i), 1, 0), "poll with fds at %s", N(i));
    RETURNS(0, syscall(SYS_poll, NULL, 0, 0), "poll(NULL, 0, 0)");
    FAILS(EFAULT, syscall(SYS_poll, ro, 1, 0), "poll with fds in the read-only page (revents not writable)");
    struct pollfd pf = {p[0], POLLIN, 0};
    struct timespec ts0 = {0, 0};
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_ppoll, P(i), 1, &ts0, NULL, 8), "ppoll with fds at %s", N(i));
    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_ppoll, &pf, 1, P(i), NULL, 8), "ppoll with the timeout at %s", N(i));
    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_ppoll, &pf, 1, &ts0, P(i), 8), "ppoll with the sigmask at %s", N(i));
    RETURNS(1, syscall(SYS_ppoll, &pf, 1, &ts0, NULL, 8), "ppoll with good pointers");

    int ep = CHECK_SYS(epoll_create1(0), "epoll_create1");
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], P(i)), "epoll_ctl ADD with the event at %s",
              N(i));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
    CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "epoll_ctl ADD the ready read end");
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_epoll_wait, ep, P(i), 4, 0), "epoll_wait into %s (one event ready)", N(i));
    struct epoll_event out[4];
    memset(out, 0, sizeof out);
    RETURNS(1, syscall(SYS_epoll_wait, ep, out, 4, 0), "epoll_wait after the failures still reports the event");
    CHECK_EQ(out[0].data.u64, 77, "the event's data");
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void test_time_info(void)
{
    struct timespec one_ns = {0, 1};
    struct timeval tv;
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_clock_gettime, CLOCK_MONOTONIC, P(i)), "clock_gettime(MONOTONIC) into %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_clock_gettime, CLOCK_REALTIME, P(i)), "clock_gettime(REALTIME) into %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_nanosleep, P(i), NULL), "nanosleep with the request at %s", N(i));
    FOR_OUT(i, 1)
        RETURNS(0, syscall(SYS_nanosleep, &one_ns, P(i)), "nanosleep(1 ns) with rem at %s (written only on EINTR)",
                N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, P(i), NULL), "clock_nanosleep with the "
              "request at %s", N(i));
    FOR_OUT(i, 1)
        FAILS(EFAULT, syscall(SYS_gettimeofday, P(i), NULL), "gettimeofday into %s", N(i));
    FOR_OUT(i, 1)
        FAILS(EFAULT, syscall(SYS_gettimeofday, &tv, P(i)), "gettimeofday with the timezone at %s", N(i));
    RETURNS(0, syscall(SYS_gettimeofday, NULL, NULL), "gettimeofday(NULL, NULL)");
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_uname, P(i)), "uname into %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_sysinfo, P(i)), "sysinfo into %s", N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_getrandom, P(i), 16, 0), "getrandom into %s", N(i));
    unsigned long mask[16];
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_sched_getaffinity, 0, sizeof mask, P(i)), "sched_getaffinity into %s", N(i));
    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, P(i), NULL), "prlimit64 with the new limit at %s",
              N(i));
    FOR_OUT(i, 1)
        FAILS(EFAULT, syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, P(i)), "prlimit64 with the old limit at %s",
              N(i));
    FOR_OUT(i, 0)
        FAILS(EFAULT, syscall(SYS_arch_prctl, ARCH_GET_FS, P(i)), "arch_prctl(ARCH_GET_FS) into %s", N(i));
}

static void test_signals(void)
{
    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_rt_sigaction, SIGUSR1, P(i), NULL, 8), "rt_sigaction with the action at %s",
              N(i));
    FOR_OUT(i, 1)
        FAILS(EFAULT, syscall(SYS_rt_sigaction, SIGUSR1, NULL, P(i), 8), "rt_sigaction with the old action at %s",
              N(i));
    struct sigaction sa;
    CHECK_SYS(sigaction(SIGUSR1, NULL, &sa), "query SIGUSR1");
    CHECK(sa.sa_handler == SIG_DFL, "SIGUSR1 is still SIG_DFL");

    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_rt_sigprocmask, SIG_BLOCK, P(i), NULL, 8), "rt_sigprocmask with the set at %s",
              N(i));
    FOR_OUT(i, 1)
        FAILS(EFAULT, syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, P(i), 8), "rt_sigprocmask with the old set at %s",
              N(i));
    sigset_t cur;
    CHECK_SYS(sigprocmask(SIG_BLOCK, NULL, &cur), "query the signal mask");
    CHECK(!sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGTERM), "mask unchanged");

    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_sigaltstack, P(i), NULL), "sigaltstack with the new stack at %s", N(i));
    FOR_OUT(i, 1)
        FAILS(EFAULT, syscall(SYS_sigaltstack, NULL, P(i)), "sigaltstack with the old stack at %s", N(i));
    stack_t ss;
    CHECK_SYS(sigaltstack(NULL, &ss), "query the alternate stack");
    CHECK(ss.ss_flags & SS_DISABLE, "still no alternate stack");
}

static void test_futex(void)
{
    static uint32_t word;
    struct timespec ts = {0, 1000000};
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_futex, P(i), FUTEX_WAIT, 0, &ts, NULL, 0), "futex WAIT on %s", N(i));
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_futex, P(i), FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0), "futex WAIT_PRIVATE on %s",
              N(i));
    /* FUTEX_WAIT only reads the word: a private futex on the read-only page compares 0 != 1.
     * A shared futex is keyed by the page, and Linux refuses a read-only anonymous page (it can
     * never change, see get_futex_key in kernel/futex/core.c). */
    FAILS(EAGAIN, syscall(SYS_futex, ro, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0),
          "futex WAIT_PRIVATE on the read-only page (0 != 1: only read)");
    FAILS(EFAULT, syscall(SYS_futex, ro, FUTEX_WAIT, 1, &ts, NULL, 0),
          "futex WAIT (shared) on the read-only anonymous page");
    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, P(i), NULL, 0), "futex WAIT with the timeout "
              "at %s", N(i));
    /* A private FUTEX_WAKE only hashes the address (user space may wake a word it has just
     * unmapped): 0 woken. An address outside user space is still EFAULT. */
    RETURNS(0, syscall(SYS_futex, hole, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), "futex WAKE_PRIVATE on the unmapped "
            "page");
    for (int i = 2; i <= 4; i++)
        FAILS(EFAULT, syscall(SYS_futex, P(i), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), "futex WAKE_PRIVATE on %s",
              N(i));
}

static void test_wait4(void)
{
    FOR_OUT(i, 1) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0)
            _exit(3);
        FAILS(EFAULT, syscall(SYS_wait4, pid, P(i), 0, NULL), "wait4 with the status at %s", N(i));
        FAILS(ECHILD, syscall(SYS_wait4, pid, NULL, 0, NULL), "the child was reaped anyway (status %s)", N(i));
    }
    FOR_OUT(i, 1) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0)
            _exit(3);
        int st;
        FAILS(EFAULT, syscall(SYS_wait4, pid, &st, 0, P(i)), "wait4 with the rusage at %s", N(i));
        FAILS(ECHILD, syscall(SYS_wait4, pid, NULL, 0, NULL), "the child was reaped anyway (rusage %s)", N(i));
    }
}

static void test_execve(void)
{
    /* An executable file that is no known format: if a bad pointer slipped through, execve
     * would fail with ENOEXEC instead of EFAULT (Linux copies argv/envp before it looks). */
    char path[128];
    snprintf(path, sizeof path, "%s/notelf", dir);
    close(make_file("notelf", "\001\002 no format\n", 13));
    char *good_argv[] = {path, NULL}, *good_envp[] = {"A=1", NULL};
    FAILS(ENOEXEC, syscall(SYS_execve, path, good_argv, good_envp), "execve of the unknown format");
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_execve, P(i), good_argv, good_envp), "execve with the path at %s", N(i));
    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_execve, path, P(i), good_envp), "execve with argv at %s", N(i));
    FOR_IN(i, 1)
        FAILS(EFAULT, syscall(SYS_execve, path, good_argv, P(i)), "execve with envp at %s", N(i));
    FOR_IN(i, 1) {
        char *argv[] = {path, P(i), NULL};
        FAILS(EFAULT, syscall(SYS_execve, path, argv, good_envp), "execve with argv[1] = %s", N(i));
    }
    FOR_IN(i, 1) {
        char *envp[] = {"A=1", P(i), NULL};
        FAILS(EFAULT, syscall(SYS_execve, path, good_argv, envp), "execve with envp[1] = %s", N(i));
    }
}

static void test_bpf(void)
{
    /* bpf(BPF_MAP_CREATE, attr, 72): the attr copy fails before anything is looked at */
    FOR_IN(i, 0)
        FAILS(EFAULT, syscall(SYS_bpf, 0, P(i), 72), "bpf(BPF_MAP_CREATE) with attr at %s", N(i));
    FAILS(EFAULT, syscall(SYS_bpf, 0, valid + PAGE - 40, 72), "bpf(BPF_MAP_CREATE) with attr running into the "
          "unmapped page");
}

int main(void)
{
    printf("# t_badptr: bad user pointers must give EFAULT, never kill the process or the kernel\n");
    check_flush();
    snprintf(dir, sizeof dir, "/tmp/t_badptr.%d", (int)getpid());
    mkdir("/tmp", 01777);
    CHECK_SYS(mkdir(dir, 0755), "mkdir %s", dir);
    setup();
    test_read_write();
    test_vectors();
    test_crossing();
    test_paths();
    test_fds();
    test_time_info();
    test_signals();
    test_futex();
    test_wait4();
    test_execve();
    test_bpf();

    const char *names[] = {"f", "v", "x", "notelf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        CHECK_SYS(unlink(path), "unlink %s", names[i]);
    }
    CHECK_SYS(rmdir(dir), "rmdir %s", dir);
    printf("# still alive after every bad pointer\n");
    DONE();
}
