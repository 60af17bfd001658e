/* t_files.c — files, directories and fds: open/read/write/seek, stat family, getdents64,
 * mkdir/unlink, symlinks, access, umask, cwd, dup family, fcntl, error paths, /dev nodes.
 * Works in a scratch directory /tmp/t_files.<pid> which it removes at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "check.h"

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Names found by raw getdents64 on dirfd: bit 0 "a.txt", bit 1 "sub", bit 2 ".", bit 3 "..". */
static int scan_dir(int dirfd, int *others)
{
    char buf[512];
    int found = 0;
    *others = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
        if (n < 0)
            CHECK(0, "getdents64 returned %ld", n);
        if (n == 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            if (d->d_reclen < offsetof(struct linux_dirent64, d_name) + 2 || d->d_reclen % 8 || off + d->d_reclen > n)
                CHECK(0, "dirent reclen %u at offset %ld is sane", d->d_reclen, off);
            if (strcmp(d->d_name, "a.txt") == 0) {
                found |= 1;
                CHECK_EQ(d->d_type, DT_REG, "d_type of a.txt is DT_REG");
            } else if (strcmp(d->d_name, "sub") == 0) {
                found |= 2;
                CHECK_EQ(d->d_type, DT_DIR, "d_type of sub is DT_DIR");
            } else if (strcmp(d->d_name, ".") == 0) {
                found |= 4;
            } else if (strcmp(d->d_name, "..") == 0) {
                found |= 8;
            } else {
                (*others)++;
            }
            off += d->d_reclen;
        }
    }
    return found;
}

static void test_dev(void)
{
    char buf[4096];
    int fd = CHECK_SYS(open("/dev/null", O_RDWR), "open /dev/null");
    CHECK_EQ(write(fd, "xyz", 3), 3, "write to /dev/null swallows 3 bytes");
    CHECK_EQ(read(fd, buf, sizeof buf), 0, "read from /dev/null is EOF");
    close(fd);

    fd = CHECK_SYS(open("/dev/zero", O_RDONLY), "open /dev/zero");
    memset(buf, 0x5a, sizeof buf);
    CHECK_EQ(read(fd, buf, sizeof buf), sizeof buf, "read 4096 bytes from /dev/zero");
    int zero = 1;
    for (size_t i = 0; i < sizeof buf; i++)
        zero &= buf[i] == 0;
    CHECK(zero, "/dev/zero gives zeros");
    close(fd);

    fd = CHECK_SYS(open("/dev/urandom", O_RDONLY), "open /dev/urandom");
    unsigned char r1[64] = {0}, r2[64] = {0};
    CHECK_EQ(read(fd, r1, sizeof r1), sizeof r1, "read 64 bytes from /dev/urandom");
    CHECK_EQ(read(fd, r2, sizeof r2), sizeof r2, "read 64 more bytes from /dev/urandom");
    CHECK(memcmp(r1, r2, sizeof r1) != 0, "two /dev/urandom reads differ");
    close(fd);
}

int main(void)
{
    char dir[64], buf[256];
    struct stat st;
    snprintf(dir, sizeof dir, "/tmp/t_files.%d", (int)getpid());

    umask(022);
    CHECK_EQ(umask(027), 022, "umask returns the previous mask");
    CHECK_EQ(umask(022), 027, "umask returns the mask just set");

    mkdir("/tmp", 01777); /* the kernel's initramfs has it; harmless if it exists */
    CHECK_SYS(mkdirat(AT_FDCWD, dir, 0755), "mkdirat %s", dir);
    CHECK_ERRNO(mkdirat(AT_FDCWD, dir, 0755), EEXIST);
    CHECK_SYS(stat(dir, &st), "stat scratch dir");
    CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755, "scratch dir mode 0755 (got %o)", st.st_mode);

    int dfd = CHECK_SYS(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open scratch dir O_DIRECTORY");

    /* create, write, read back */
    int fd = CHECK_SYS(openat(dfd, "a.txt", O_CREAT | O_EXCL | O_RDWR, 0640), "openat O_CREAT|O_EXCL a.txt");
    CHECK_ERRNO(openat(dfd, "a.txt", O_CREAT | O_EXCL | O_RDWR, 0640), EEXIST);
    CHECK_EQ(write(fd, "hello, world\n", 13), 13, "write 13 bytes");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 13, "lseek SEEK_CUR after write");
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "lseek SEEK_SET 0");
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read(fd, buf, sizeof buf), 13, "read back 13 bytes");
    CHECK_STR(buf, "hello, world\n", "read back content");
    CHECK_EQ(read(fd, buf, sizeof buf), 0, "read at EOF returns 0");
    CHECK_EQ(lseek(fd, -6, SEEK_END), 7, "lseek SEEK_END -6");
    CHECK_EQ(read(fd, buf, 5), 5, "read 5 after SEEK_END");
    CHECK(memcmp(buf, "world", 5) == 0, "content after SEEK_END");
    CHECK_ERRNO(lseek(fd, -100, SEEK_SET), EINVAL);

    /* pread/pwrite do not move the offset */
    off_t before = lseek(fd, 0, SEEK_CUR);
    CHECK_EQ(pwrite(fd, "HELLO", 5, 0), 5, "pwrite64 at 0");
    CHECK_EQ(pread(fd, buf, 12, 0), 12, "pread64 at 0");
    CHECK(memcmp(buf, "HELLO, world", 12) == 0, "pread64 sees pwrite64 data");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), before, "pread/pwrite leave the offset alone");
    CHECK_ERRNO(pread(fd, buf, 1, -1), EINVAL);

    /* writev/readv */
    struct iovec wv[3] = {{"one", 3}, {"", 0}, {"-two", 4}};
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "rewind");
    CHECK_EQ(writev(fd, wv, 3), 7, "writev 3 iovecs (one empty)");
    char r1[4] = {0}, r2[4] = {0};
    struct iovec rv[2] = {{r1, 3}, {r2, 3}};
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "rewind");
    CHECK_EQ(readv(fd, rv, 2), 6, "readv 2 iovecs");
    CHECK(memcmp(r1, "one", 3) == 0 && memcmp(r2, "-tw", 3) == 0, "readv scatters in order");

    /* fstat / fstatat / statx */
    CHECK_SYS(fstat(fd, &st), "fstat");
    CHECK(S_ISREG(st.st_mode), "fstat: S_ISREG");
    CHECK_EQ(st.st_mode & 07777, 0640 & ~022, "fstat: mode 0640 & ~umask");
    CHECK_EQ(st.st_size, 13, "fstat: st_size");
    CHECK_EQ(st.st_nlink, 1, "fstat: st_nlink");
    struct stat st2;
    CHECK_SYS(fstatat(dfd, "a.txt", &st2, 0), "newfstatat");
    CHECK(st2.st_ino == st.st_ino && st2.st_dev == st.st_dev, "newfstatat: same ino/dev as fstat");
    CHECK_SYS(fstatat(fd, "", &st2, AT_EMPTY_PATH), "newfstatat AT_EMPTY_PATH");
    CHECK_EQ(st2.st_ino, st.st_ino, "AT_EMPTY_PATH stats the fd itself");
    struct statx sx;
    memset(&sx, 0xff, sizeof sx);
    CHECK_SYS(statx(dfd, "a.txt", 0, STATX_BASIC_STATS, &sx), "statx");
    CHECK((sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_SIZE)) == (STATX_TYPE | STATX_MODE | STATX_SIZE),
          "statx mask has TYPE|MODE|SIZE (0x%x)", sx.stx_mask);
    CHECK_EQ(sx.stx_size, 13, "statx: stx_size");
    CHECK_EQ(sx.stx_ino, st.st_ino, "statx: stx_ino");
    CHECK(S_ISREG(sx.stx_mode), "statx: S_ISREG");
    CHECK_ERRNO(fstatat(dfd, "missing", &st2, 0), ENOENT);
    CHECK_ERRNO(statx(dfd, "missing", 0, STATX_BASIC_STATS, &sx), ENOENT);

    /* O_APPEND, O_TRUNC */
    int afd = CHECK_SYS(openat(dfd, "a.txt", O_WRONLY | O_APPEND), "open O_APPEND");
    CHECK_EQ(lseek(afd, 0, SEEK_SET), 0, "seek O_APPEND fd to 0");
    CHECK_EQ(write(afd, "!!", 2), 2, "write with O_APPEND");
    CHECK_EQ(lseek(afd, 0, SEEK_CUR), 15, "O_APPEND write lands at the end");
    CHECK_EQ(pread(fd, buf, 2, 13), 2, "pread the appended bytes");
    CHECK(memcmp(buf, "!!", 2) == 0, "appended bytes");
    close(afd);
    int tfd = CHECK_SYS(openat(dfd, "a.txt", O_RDWR | O_TRUNC), "open O_TRUNC");
    CHECK_SYS(fstat(tfd, &st2), "fstat after O_TRUNC");
    CHECK_EQ(st2.st_size, 0, "O_TRUNC empties the file");
    CHECK_EQ(write(tfd, "fresh", 5), 5, "write after O_TRUNC");
    close(tfd);

    /* fcntl and dup family */
    CHECK_EQ(fcntl(dfd, F_GETFD), FD_CLOEXEC, "F_GETFD of an O_CLOEXEC fd");
    CHECK_EQ(fcntl(fd, F_GETFD), 0, "F_GETFD without O_CLOEXEC");
    CHECK_SYS(fcntl(fd, F_SETFD, FD_CLOEXEC), "F_SETFD FD_CLOEXEC");
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC, "F_GETFD after F_SETFD");
    CHECK_EQ(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK), O_RDWR, "F_GETFL: O_RDWR");
    CHECK_SYS(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK), "F_SETFL O_APPEND|O_NONBLOCK");
    CHECK_EQ(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK), O_RDWR | O_APPEND | O_NONBLOCK,
             "F_GETFL after F_SETFL (access mode kept)");
    CHECK_SYS(fcntl(fd, F_SETFL, 0), "F_SETFL 0");
    int d1 = CHECK_SYS(dup(fd), "dup");
    CHECK(d1 != fd, "dup returns a new fd (%d)", d1);
    CHECK_EQ(fcntl(d1, F_GETFD), 0, "dup clears FD_CLOEXEC");
    CHECK_EQ(lseek(fd, 3, SEEK_SET), 3, "seek original");
    CHECK_EQ(lseek(d1, 0, SEEK_CUR), 3, "dup shares the file offset");
    CHECK_EQ(dup2(fd, 100), 100, "dup2 to 100");
    CHECK_EQ(dup2(100, 100), 100, "dup2 same fd returns it");
    CHECK_EQ(dup3(fd, 101, O_CLOEXEC), 101, "dup3 O_CLOEXEC to 101");
    CHECK_EQ(fcntl(101, F_GETFD), FD_CLOEXEC, "dup3 O_CLOEXEC sets FD_CLOEXEC");
    CHECK_ERRNO(dup3(fd, fd, 0), EINVAL);
    int d2 = CHECK_SYS(fcntl(fd, F_DUPFD_CLOEXEC, 200), "F_DUPFD_CLOEXEC 200");
    CHECK(d2 >= 200, "F_DUPFD_CLOEXEC returns >= 200 (%d)", d2);
    CHECK_EQ(fcntl(d2, F_GETFD), FD_CLOEXEC, "F_DUPFD_CLOEXEC sets FD_CLOEXEC");
    int d3 = CHECK_SYS(fcntl(fd, F_DUPFD, 0), "F_DUPFD 0");
    CHECK(d3 > 2 && d3 < 100, "F_DUPFD takes the lowest free fd (%d)", d3);
    close(d1);
    close(d2);
    close(d3);
    close(100);
    close(101);
    CHECK_ERRNO(close(100), EBADF);
    CHECK_ERRNO(read(100, buf, 1), EBADF);
    CHECK_ERRNO(write(-1, buf, 1), EBADF);
    CHECK_ERRNO(fstat(555, &st2), EBADF);
    CHECK_ERRNO(fcntl(555, F_GETFD), EBADF);
    CHECK_ERRNO(dup2(555, 10), EBADF);

    /* error paths */
    CHECK_ERRNO(openat(dfd, "nope/x", O_RDONLY), ENOENT);
    CHECK_ERRNO(openat(dfd, "nope", O_RDONLY), ENOENT);
    CHECK_ERRNO(openat(dfd, "a.txt/x", O_RDONLY), ENOTDIR);
    CHECK_ERRNO(openat(dfd, "a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK_ERRNO(openat(AT_FDCWD, dir, O_WRONLY), EISDIR);
    CHECK_ERRNO(openat(fd, "x", O_RDONLY), ENOTDIR);
    CHECK_ERRNO(read(dfd, buf, 1), EISDIR);
    CHECK_ERRNO(mkdirat(dfd, "nope/sub", 0755), ENOENT);
    CHECK_ERRNO(mkdirat(dfd, "a.txt/sub", 0755), ENOTDIR);
    int rofd = CHECK_SYS(openat(dfd, "a.txt", O_RDONLY), "open read-only");
    CHECK_ERRNO(write(rofd, "x", 1), EBADF);
    close(rofd);

    /* directories and getdents64 */
    CHECK_SYS(mkdirat(dfd, "sub", 0700), "mkdirat sub");
    int others = 0;
    int found = scan_dir(dfd, &others);
    CHECK_EQ(found, 15, "getdents64 lists ., .., a.txt and sub");
    CHECK_EQ(others, 0, "getdents64 lists nothing else");
    CHECK_EQ(lseek(dfd, 0, SEEK_SET), 0, "rewind directory");
    CHECK_EQ(scan_dir(dfd, &others), 15, "getdents64 after rewind lists the same");
    CHECK_ERRNO(unlinkat(dfd, "sub", 0), EISDIR);
    CHECK_ERRNO(unlinkat(dfd, "a.txt", AT_REMOVEDIR), ENOTDIR);
    close(CHECK_SYS(openat(dfd, "sub/inner", O_CREAT | O_WRONLY, 0600), "create sub/inner"));
    CHECK_ERRNO(unlinkat(dfd, "sub", AT_REMOVEDIR), ENOTEMPTY);
    CHECK_SYS(unlinkat(dfd, "sub/inner", 0), "unlinkat sub/inner");
    CHECK_SYS(unlinkat(dfd, "sub", AT_REMOVEDIR), "unlinkat sub AT_REMOVEDIR");
    CHECK_ERRNO(fstatat(dfd, "sub", &st2, 0), ENOENT);
    CHECK_ERRNO(unlinkat(dfd, "sub", AT_REMOVEDIR), ENOENT);

    /* symlinks (optional: ENOSYS/EPERM skips) and readlinkat */
    errno = 0;
    if (symlinkat("a.txt", dfd, "link") == 0) {
        CHECK(1, "symlinkat a.txt -> link");
        ssize_t n = readlinkat(dfd, "link", buf, sizeof buf);
        CHECK_EQ(n, 5, "readlinkat length (no NUL)");
        CHECK(memcmp(buf, "a.txt", 5) == 0, "readlinkat content");
        CHECK_ERRNO(readlinkat(dfd, "a.txt", buf, sizeof buf), EINVAL);
        CHECK_SYS(fstatat(dfd, "link", &st2, AT_SYMLINK_NOFOLLOW), "fstatat AT_SYMLINK_NOFOLLOW");
        CHECK(S_ISLNK(st2.st_mode), "lstat of link is S_ISLNK");
        CHECK_SYS(fstatat(dfd, "link", &st2, 0), "fstatat follows the link");
        CHECK(S_ISREG(st2.st_mode) && st2.st_size == 5, "link target is a.txt (5 bytes)");
        CHECK_SYS(unlinkat(dfd, "link", 0), "unlink the link");
    } else {
        CHECK(errno == ENOSYS || errno == EPERM, "symlinkat fails only with ENOSYS/EPERM (skipping)");
    }
    CHECK_ERRNO(readlinkat(dfd, "missing", buf, sizeof buf), ENOENT);

    /* faccessat */
    CHECK_SYS(faccessat(dfd, "a.txt", R_OK | W_OK, 0), "faccessat R_OK|W_OK");
    CHECK_SYS(faccessat(dfd, "a.txt", F_OK, 0), "faccessat F_OK");
    CHECK_ERRNO(faccessat(dfd, "missing", F_OK, 0), ENOENT);
    /* Even root needs one x bit to get X_OK; a.txt has none. */
    CHECK_ERRNO(faccessat(dfd, "a.txt", X_OK, 0), EACCES);

    /* getcwd / chdir */
    char old[PATH_MAX], cwd[PATH_MAX];
    CHECK(getcwd(old, sizeof old) != NULL, "getcwd");
    CHECK_SYS(chdir(dir), "chdir scratch");
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd after chdir");
    CHECK_STR(cwd, dir, "getcwd returns the scratch dir");
    CHECK_SYS(access("a.txt", F_OK), "relative path resolves against the new cwd");
    CHECK_ERRNO(chdir("a.txt"), ENOTDIR);
    CHECK_ERRNO(chdir("missing"), ENOENT);
    char tiny[4];
    CHECK(getcwd(tiny, sizeof tiny) == NULL && errno == ERANGE, "getcwd into 4 bytes -> ERANGE");
    CHECK_SYS(chdir(".."), "chdir ..");
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd after ..");
    CHECK_STR(cwd, "/tmp", "chdir .. from the scratch dir gives /tmp");
    CHECK_SYS(chdir(old), "chdir back");

    test_dev();

    /* clean up */
    close(fd);
    CHECK_SYS(unlinkat(dfd, "a.txt", 0), "unlink a.txt");
    CHECK_ERRNO(unlinkat(dfd, "a.txt", 0), ENOENT);
    close(dfd);
    CHECK_SYS(rmdir(dir), "rmdir scratch");
    CHECK_ERRNO(stat(dir, &st), ENOENT);
    DONE();
}
