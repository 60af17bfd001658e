/* t_mm.c — memory management: anonymous mmap (lazy), MAP_FIXED, munmap/mprotect faults,
 * mremap, brk, madvise(MADV_DONTNEED), file-backed MAP_PRIVATE, error paths, EFAULT. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define PAGE 4096UL

/* Run fn(arg) in a child; return the signal that killed it, or 0 if it exited. */
static int child_signal(void (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid, "waitpid");
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void touch_write(void *p)
{
    *(volatile char *)p = 1;
}

static void touch_read(void *p)
{
    (void)*(volatile char *)p;
}

static void test_anon(void)
{
    size_t len = 64 * 1024 * 1024; /* 64 MiB, touched only sparsely: must be lazy */
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap 64 MiB anonymous");
    CHECK(((uintptr_t)p & (PAGE - 1)) == 0, "mmap result is page aligned");
    CHECK(p[0] == 0 && p[len - 1] == 0 && p[len / 2] == 0, "fresh anonymous memory reads as zero");
    for (size_t off = 0; off < len; off += 16 * PAGE)
        p[off] = (unsigned char)(off / PAGE);
    int ok = 1;
    for (size_t off = 0; off < len; off += 16 * PAGE)
        ok &= p[off] == (unsigned char)(off / PAGE) && p[off + 1] == 0;
    CHECK(ok, "1024 sparse pages keep their values");
    CHECK_SYS(munmap(p, len), "munmap 64 MiB");

    /* 256 pages written fully */
    size_t n = 256 * PAGE;
    uint32_t *q = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED, "mmap 1 MiB");
    for (size_t i = 0; i < n / 4; i++)
        q[i] = (uint32_t)(i * 2654435761u);
    ok = 1;
    for (size_t i = 0; i < n / 4; i++)
        ok &= q[i] == (uint32_t)(i * 2654435761u);
    CHECK(ok, "every word of 256 written pages reads back");

    /* MAP_FIXED over the middle of it */
    void *mid = (char *)q + 16 * PAGE;
    void *f = mmap(mid, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(f == mid, "MAP_FIXED returns the requested address");
    CHECK(((uint32_t *)mid)[0] == 0, "MAP_FIXED replaced the old pages with zero pages");
    CHECK(q[16 * PAGE / 4 - 1] == (uint32_t)((16 * PAGE / 4 - 1) * 2654435761u), "page before MAP_FIXED kept");
    CHECK(q[20 * PAGE / 4] == (uint32_t)((20 * PAGE / 4) * 2654435761u), "page after MAP_FIXED kept");
    void *nr = mmap(mid, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(nr == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE over a mapping -> EEXIST");

    /* munmap a hole, then access in a child */
    CHECK_SYS(munmap((char *)q + 100 * PAGE, PAGE), "munmap one page");
    CHECK_EQ(child_signal(touch_read, (char *)q + 100 * PAGE), SIGSEGV, "read of an unmapped page -> SIGSEGV");
    CHECK_EQ(child_signal(touch_read, (char *)q + 101 * PAGE), 0, "neighbour page still readable");
    CHECK_SYS(munmap(q, n), "munmap range with a hole");
    CHECK_EQ(child_signal(touch_read, q), SIGSEGV, "read after munmap -> SIGSEGV");

    /* mprotect */
    char *r = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED, "mmap 2 pages");
    r[0] = 'x';
    CHECK_SYS(mprotect(r, PAGE, PROT_READ), "mprotect PROT_READ");
    CHECK_EQ(r[0], 'x', "read-only page still readable");
    CHECK_EQ(child_signal(touch_write, r), SIGSEGV, "write to a PROT_READ page -> SIGSEGV");
    CHECK_EQ(child_signal(touch_write, r + PAGE), 0, "second page still writable");
    CHECK_SYS(mprotect(r, PAGE, PROT_NONE), "mprotect PROT_NONE");
    CHECK_EQ(child_signal(touch_read, r), SIGSEGV, "read of a PROT_NONE page -> SIGSEGV");
    CHECK_SYS(mprotect(r, PAGE, PROT_READ | PROT_WRITE), "mprotect back to RW");
    r[1] = 'y';
    CHECK(r[0] == 'x' && r[1] == 'y', "contents survive mprotect");
    CHECK_ERRNO(mprotect(r + 1, PAGE, PROT_READ), EINVAL);
    CHECK_SYS(munmap(r, 2 * PAGE), "munmap");
    CHECK_ERRNO(mprotect(r, PAGE, PROT_READ), ENOMEM);

    /* errors */
    CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL,
          "mmap len 0 -> EINVAL");
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 9999, 0) == MAP_FAILED && errno == EBADF,
          "mmap of a bad fd -> EBADF");
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
              errno == EINVAL, "mmap MAP_PRIVATE|MAP_SHARED -> EINVAL");
    CHECK(mmap((void *)(PAGE + 1), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
              errno == EINVAL, "MAP_FIXED unaligned -> EINVAL");
    CHECK_ERRNO(munmap((void *)(PAGE + 1), PAGE), EINVAL);
}

static void test_mremap(void)
{
    size_t n = 4 * PAGE;
    /* 5 reserved pages: the first 4 become the mapping, the 5th (PROT_NONE) blocks growth in place */
    char *p = mmap(NULL, n + PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "reserve 5 pages");
    CHECK(mmap(p, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == p,
          "map 4 RW pages over the reservation");
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(i % 251);
    CHECK(mremap(p, n, 64 * PAGE, 0) == MAP_FAILED && errno == ENOMEM,
          "mremap grow without MAYMOVE next to a mapping -> ENOMEM");
    char *q = mremap(p, n, 64 * PAGE, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED && q != p, "mremap grow 4 -> 64 pages with MREMAP_MAYMOVE moves it");
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= q[i] == (char)(i % 251);
    CHECK(ok, "mremap preserves the content");
    CHECK(q[64 * PAGE - 1] == 0, "grown part reads as zero");
    q[64 * PAGE - 1] = 5;
    CHECK_EQ(q[64 * PAGE - 1], 5, "grown part is writable");
    CHECK_EQ(child_signal(touch_read, p), SIGSEGV, "old address is unmapped after the move");
    CHECK_SYS(munmap(p + n, PAGE), "unmap the blocker");
    char *s = mremap(q, 64 * PAGE, 2 * PAGE, 0);
    CHECK(s == q, "mremap shrink in place");
    CHECK(s[0] == 0 && s[PAGE + 7] == (char)((PAGE + 7) % 251), "content after shrink");
    CHECK_EQ(child_signal(touch_read, q + 2 * PAGE), SIGSEGV, "shrunk tail is unmapped");
    char *t = mmap(NULL, 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(t != MAP_FAILED, "mmap a 2-page target");
    char *u = mremap(s, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, t);
    CHECK(u == t, "mremap MREMAP_FIXED moves to the given address");
    CHECK(u[PAGE + 7] == (char)((PAGE + 7) % 251), "content after MREMAP_FIXED");
    CHECK(mremap(u + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL,
          "mremap unaligned -> EINVAL");
    munmap(u, 2 * PAGE);
}

static void test_brk(void)
{
    char *start = sbrk(0);
    CHECK(start != (void *)-1, "sbrk(0) = %p", (void *)start);
    long raw = syscall(SYS_brk, 0);
    CHECK_EQ(raw, (long)start, "raw brk(0) returns the current break");
    char *old = sbrk(1 << 20);
    CHECK(old == start, "sbrk(+1 MiB) returns the old break");
    CHECK((char *)sbrk(0) == start + (1 << 20), "break moved by 1 MiB");
    memset(start, 0xab, 1 << 20);
    CHECK((unsigned char)start[(1 << 20) - 1] == 0xab, "new heap memory is writable");
    CHECK(sbrk(-(1 << 19)) != (void *)-1, "sbrk(-512 KiB)");
    CHECK((char *)sbrk(0) == start + (1 << 19), "break moved back");
    CHECK((unsigned char)start[100] == 0xab, "memory below the break is kept");
    CHECK_EQ(child_signal(touch_read, start + (1 << 19) + 2 * PAGE), SIGSEGV, "memory above the shrunk break "
             "is unmapped");
    CHECK(sbrk(1 << 19) != (void *)-1, "grow again");
    CHECK(start[(1 << 19) + 2 * PAGE] == 0, "re-grown heap is zero-filled");
    CHECK_EQ(syscall(SYS_brk, start), (long)start, "brk(start) shrinks to the start");
    long cur = syscall(SYS_brk, 1);
    CHECK_EQ(cur, (long)start, "brk(too low) fails by returning the current break");
}

static void test_madvise(void)
{
    size_t n = 8 * PAGE;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap 8 pages");
    memset(p, 0x77, n);
    CHECK_SYS(madvise(p + 2 * PAGE, 3 * PAGE, MADV_DONTNEED), "madvise MADV_DONTNEED on 3 pages");
    CHECK(p[2 * PAGE] == 0 && p[5 * PAGE - 1] == 0, "MADV_DONTNEED pages read back as zero");
    CHECK(p[2 * PAGE - 1] == 0x77 && p[5 * PAGE] == 0x77, "neighbouring pages untouched");
    CHECK_SYS(madvise(p, n, MADV_WILLNEED), "madvise MADV_WILLNEED");
    CHECK_ERRNO(madvise(p + 1, PAGE, MADV_DONTNEED), EINVAL);
    CHECK_ERRNO(madvise(p, PAGE, 12345), EINVAL);
    munmap(p, n);
}

static void test_file_private(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/t_mm.%d", (int)getpid());
    int fd = CHECK_SYS(open(path, O_CREAT | O_RDWR | O_TRUNC, 0644), "create %s", path);
    char data[PAGE + 100];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);
    CHECK_EQ(write(fd, data, sizeof data), sizeof data, "write %zu bytes", sizeof data);

    char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED, "mmap the file MAP_PRIVATE");
    CHECK(memcmp(m, data, sizeof data) == 0, "mapping shows the file content");
    CHECK(m[sizeof data] == 0 && m[2 * PAGE - 1] == 0, "bytes past EOF in the last page are zero");
    m[0] = 'Z';
    m[PAGE + 1] = 'Y';
    CHECK(m[0] == 'Z', "private write is visible in the mapping");
    char buf[4];
    CHECK_EQ(pread(fd, buf, 1, 0), 1, "pread the file");
    CHECK_EQ(buf[0], 'a', "private write did not reach the file");
    struct stat st;
    fstat(fd, &st);
    CHECK_EQ(st.st_size, sizeof data, "file size unchanged");

    char *m2 = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
    CHECK(m2 != MAP_FAILED, "mmap with offset one page");
    CHECK(memcmp(m2, data + PAGE, 100) == 0, "offset mapping content");
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED && errno == EINVAL,
          "unaligned file offset -> EINVAL");

    int ro = CHECK_SYS(open(path, O_RDONLY), "open read-only");
    char *m3 = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    CHECK(m3 != MAP_FAILED, "PROT_WRITE MAP_PRIVATE of a read-only fd is allowed");
    CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED && errno == EACCES,
          "PROT_WRITE MAP_SHARED of a read-only fd -> EACCES");
    int wo = CHECK_SYS(open(path, O_WRONLY), "open write-only");
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0) == MAP_FAILED && errno == EACCES,
          "mmap of a write-only fd -> EACCES");
    close(wo);

    close(fd);
    close(ro);
    CHECK(m[1] == 'b' && m[0] == 'Z', "mapping outlives the fd");
    munmap(m, 2 * PAGE);
    munmap(m2, PAGE);
    munmap(m3, PAGE);
    CHECK_SYS(unlink(path), "unlink");
}

static void test_efault(void)
{
    int p[2];
    CHECK_SYS(pipe(p), "pipe");
    CHECK_ERRNO(syscall(SYS_write, p[1], (void *)16, 8), EFAULT);
    CHECK_ERRNO(syscall(SYS_write, p[1], (void *)0xffff800000000000UL, 8), EFAULT);
    CHECK_EQ(write(p[1], "abcd", 4), 4, "write 4 bytes");
    CHECK_ERRNO(syscall(SYS_read, p[0], (void *)16, 4), EFAULT);
    CHECK_ERRNO(syscall(SYS_openat, AT_FDCWD, (void *)16, O_RDONLY), EFAULT);
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)16), EFAULT);
    CHECK_ERRNO(syscall(SYS_fstat, p[0], (void *)16), EFAULT);
    char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED, "mmap read-only page");
    CHECK_ERRNO(read(p[0], ro, 4), EFAULT);
    munmap(ro, PAGE);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    test_anon();
    test_mremap();
    test_brk();
    test_madvise();
    test_file_private();
    test_efault();
    DONE();
}
