/* t_procfs.c — the /proc and /sys files that libbpf, aya and bpftool read:
 * /proc/self/{exe,fd,fdinfo,maps}, /proc/cpuinfo, /proc/version, /proc/sys/kernel/osrelease,
 * /sys/devices/system/cpu/{possible,online}, and the bpffs/tracefs mount points. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "check.h"

/* Read a whole (small, size-less) file; returns its length, buf NUL-terminated. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        CHECK(0, "open %s", path);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0)
            CHECK(0, "read %s", path);
        if (n == 0 || len + (size_t)n >= cap - 1) {
            len += (size_t)n;
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    return (ssize_t)len;
}

/* The first line of s without its newline, for messages. */
static const char *first_line(const char *s)
{
    static char line[64];
    snprintf(line, sizeof line, "%s", s);
    line[strcspn(line, "\n")] = '\0';
    return line;
}

/* "0", "0-3", "0,2-3": every part is N or N-M with N <= M; returns the number of CPUs. */
static int parse_cpu_list(const char *s)
{
    int count = 0;
    const char *p = s;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return -1;
        char *end;
        long a = strtol(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -1;
            b = strtol(p, &end, 10);
            p = end;
        }
        if (b < a)
            return -1;
        count += (int)(b - a + 1);
        if (*p == ',') {
            p++;
            continue;
        }
        break;
    }
    return (*p == '\n' && p[1] == '\0') ? count : -1;
}

static void test_self(const char *argv0)
{
    char want[PATH_MAX], got[PATH_MAX];
    if (argv0[0] == '/')
        snprintf(want, sizeof want, "%s", argv0);
    else
        CHECK(realpath(argv0, want) != NULL, "realpath(argv[0])");
    ssize_t n = readlink("/proc/self/exe", got, sizeof got - 1);
    CHECK(n > 0, "readlink /proc/self/exe");
    got[n] = '\0';
    CHECK_STR(got, want, "/proc/self/exe is the program we were started as");
    struct stat a, b;
    CHECK_SYS(stat("/proc/self/exe", &a), "stat /proc/self/exe");
    CHECK_SYS(stat(want, &b), "stat %.200s", want);
    CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "/proc/self/exe resolves to the same inode");
    char tiny[4];
    CHECK_EQ(readlink("/proc/self/exe", tiny, sizeof tiny), sizeof tiny, "readlink truncates to the buffer");

    /* /proc/self/fd lists our fds */
    int extra = CHECK_SYS(open("/dev/null", O_RDONLY), "open /dev/null");
    int high = CHECK_SYS(dup2(extra, 77), "dup2 to fd 77");
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL, "opendir /proc/self/fd");
    int seen_extra = 0, seen_high = 0, seen_dirfd = 0, bad = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || fd < 0)
            bad++;
        seen_extra |= fd == extra;
        seen_high |= fd == high;
        seen_dirfd |= fd == dirfd(d);
        if (fcntl((int)fd, F_GETFD) < 0)
            bad++;
    }
    closedir(d);
    CHECK(seen_extra && seen_high, "/proc/self/fd lists fds %d and %d", extra, high);
    CHECK(seen_dirfd, "/proc/self/fd lists the directory's own fd");
    CHECK_EQ(bad, 0, "every /proc/self/fd entry is an open fd number");
    char link[PATH_MAX], path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", high);
    n = readlink(path, link, sizeof link - 1);
    CHECK(n > 0, "readlink %s", path);
    link[n] = '\0';
    CHECK_STR(link, "/dev/null", "/proc/self/fd/77 -> /dev/null");
    close(high);
    CHECK_ERRNO(readlink(path, link, sizeof link), ENOENT);

    /* fdinfo: pos and flags (octal) */
    char tmp[64], buf[8192];
    snprintf(tmp, sizeof tmp, "/tmp/t_procfs.%d", (int)getpid());
    int fd = CHECK_SYS(open(tmp, O_CREAT | O_RDWR | O_APPEND | O_CLOEXEC, 0600), "create %s", tmp);
    CHECK_EQ(write(fd, "0123456789", 10), 10, "write 10 bytes");
    CHECK_EQ(lseek(fd, 3, SEEK_SET), 3, "seek to 3");
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    slurp(path, buf, sizeof buf);
    long long pos = -1;
    unsigned long flags = 0;
    char *pp = strstr(buf, "pos:"), *fp = strstr(buf, "flags:");
    CHECK(pp != NULL && fp != NULL, "fdinfo has pos: and flags: lines");
    CHECK(sscanf(pp, "pos: %lld", &pos) == 1, "parse pos:");
    CHECK(sscanf(fp, "flags: %lo", &flags) == 1, "parse flags: (octal)");
    CHECK_EQ(pos, 3, "fdinfo pos: is the file offset");
    CHECK_EQ(flags & O_ACCMODE, O_RDWR, "fdinfo flags: access mode O_RDWR");
    CHECK(flags & O_APPEND, "fdinfo flags: has O_APPEND (0%lo)", flags);
    CHECK(flags & O_CLOEXEC, "fdinfo flags: has O_CLOEXEC (0%lo)", flags);
    close(fd);
    unlink(tmp);
    close(extra);

    /* maps: a line covering our own code */
    slurp("/proc/self/maps", buf, sizeof buf);
    uintptr_t code = (uintptr_t)&test_self;
    int found_text = 0, found_stack = 0, lines = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        unsigned long lo, hi;
        char perms[8] = "";
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
            lines++;
            if (code >= lo && code < hi && perms[0] == 'r' && perms[2] == 'x')
                found_text = 1;
            if (strstr(line, "[stack]"))
                found_stack = 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    CHECK(lines >= 3, "/proc/self/maps has %d parseable lines", lines);
    CHECK(found_text, "/proc/self/maps has an r-x mapping containing our code (%p)", (void *)code);
    CHECK(found_stack, "/proc/self/maps names the [stack]");
}

static void test_system(void)
{
    char buf[16384];
    struct utsname u;
    CHECK_SYS(uname(&u), "uname");

    slurp("/proc/version", buf, sizeof buf);
    CHECK(strncmp(buf, "Linux version ", 14) == 0, "/proc/version starts with \"Linux version \"");
    CHECK(strncmp(buf + 14, u.release, strlen(u.release)) == 0, "/proc/version carries uname's release");
    slurp("/proc/sys/kernel/osrelease", buf, sizeof buf);
    size_t rl = strlen(u.release);
    CHECK(strncmp(buf, u.release, rl) == 0 && buf[rl] == '\n', "/proc/sys/kernel/osrelease is \"%s\\n\"", u.release);
    slurp("/proc/sys/kernel/ostype", buf, sizeof buf);
    CHECK_STR(buf, "Linux\n", "/proc/sys/kernel/ostype");

    slurp("/proc/cpuinfo", buf, sizeof buf);
    CHECK(strstr(buf, "processor\t: 0") != NULL, "/proc/cpuinfo has \"processor\\t: 0\"");
    CHECK(strstr(buf, "flags\t\t:") != NULL, "/proc/cpuinfo has a flags line");

    slurp("/sys/devices/system/cpu/possible", buf, sizeof buf);
    int possible = parse_cpu_list(buf);
    CHECK(possible >= 1, "/sys/devices/system/cpu/possible \"%s\" parses (%d CPUs)", first_line(buf), possible);
    slurp("/sys/devices/system/cpu/online", buf, sizeof buf);
    int online = parse_cpu_list(buf);
    CHECK(online >= 1 && online <= possible, "/sys/devices/system/cpu/online \"%s\" parses (%d CPUs)", first_line(buf),
          online);
    CHECK_EQ(online, sysconf(_SC_NPROCESSORS_ONLN), "online CPUs agree with sysconf");

    const char *dirs[] = {"/sys/fs/bpf", "/sys/kernel/tracing", "/sys/kernel/debug/tracing", "/proc/self",
                          "/proc/self/fd", "/dev"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        struct stat st;
        CHECK_SYS(stat(dirs[i], &st), "stat %s", dirs[i]);
        CHECK(S_ISDIR(st.st_mode), "%s is a directory", dirs[i]);
    }
    CHECK_ERRNO(open("/proc/self/no-such-file", O_RDONLY), ENOENT);
}

int main(int argc, char **argv)
{
    (void)argc;
    test_self(argv[0]);
    test_system();
    DONE();
}
