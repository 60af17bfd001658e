/* t_kallsyms.c — /proc/kallsyms: Linux's line format, sorted addresses in the kernel half,
 * demangled Rust names without hashes, and the Linux-named probe targets that kprobe
 * programs written for Linux attach to (__x64_sys_<name>, vfs_read, do_sys_openat2, ...),
 * each a distinct function. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>

#include "check.h"

static char buf[4 << 20];

static const char *const targets[] = {
    "__x64_sys_getpid", "__x64_sys_read",   "__x64_sys_write",  "__x64_sys_openat",
    "__x64_sys_newstat", "__x64_sys_bpf",   "vfs_read",         "vfs_write",
    "vfs_open",         "do_sys_openat2",   "do_filp_open",     "do_exit",
    "kernel_clone",     "schedule",         "wake_up_new_task", "ktime_get_mono_fast_ns",
};
#define NTARGETS (sizeof targets / sizeof targets[0])

int main(void)
{
    int fd = CHECK_SYS(open("/proc/kallsyms", O_RDONLY | O_CLOEXEC), "open /proc/kallsyms");
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    CHECK(n == 0 && len < sizeof buf - 1, "read /proc/kallsyms to the end (%zu bytes)", len);
    buf[len] = '\0';
    close(fd);

    unsigned long long addr[NTARGETS] = {0};
    unsigned long long prev = 0;
    int lines = 0, rust = 0, unsorted = 0, badfmt = 0, hashed = 0, mangled = 0, low = 0;
    char first_bad[128] = "";
    for (char *l = buf, *nl; *l; l = nl + 1) {
        nl = strchr(l, '\n');
        if (!nl)
            break;
        *nl = '\0';
        lines++;
        unsigned long long a;
        char t;
        int off = 0;
        if (nl - l < 20 || l[16] != ' ' || l[18] != ' ' || sscanf(l, "%16llx %c %n", &a, &t, &off) != 2 || off != 19 ||
            !strchr("TtDdRrBb", t)) {
            if (!badfmt++)
                snprintf(first_bad, sizeof first_bad, "%.100s", l);
            continue;
        }
        const char *name = l + 19;
        if (a < prev)
            unsorted++;
        prev = a;
        if (a < 0xffffffff80000000ull)
            low++;
        if (strstr(name, "::")) {
            rust++;
            size_t nl_ = strlen(name);
            if (nl_ > 19 && !strncmp(name + nl_ - 19, "::h", 3) &&
                strspn(name + nl_ - 16, "0123456789abcdef") == 16)
                hashed++;
        }
        if (!strncmp(name, "_ZN", 3) || !strncmp(name, "_R", 2))
            mangled++;
        for (size_t i = 0; i < NTARGETS; i++)
            if ((t == 'T') && !strcmp(name, targets[i]) && !addr[i])
                addr[i] = a;
    }
    CHECK(badfmt == 0, "every line is `%%016x <type> <name>` (%d bad, first: \"%s\")", badfmt, first_bad);
    CHECK(lines > 1000, "%d symbols", lines);
    CHECK(unsorted == 0, "sorted by address (%d out of order)", unsorted);
    CHECK(low == 0, "addresses in the kernel half (%d below)", low);
    CHECK(rust > 500 && mangled == 0 && hashed == 0,
          "Rust names demangled without hashes (%d with ::, %d mangled, %d hashed)", rust, mangled, hashed);
    for (size_t i = 0; i < NTARGETS; i++)
        CHECK(addr[i] != 0, "%s is a global function (T) at %llx", targets[i], addr[i]);
    for (size_t i = 0; i < NTARGETS; i++)
        for (size_t j = i + 1; j < NTARGETS; j++)
            if (addr[i] == addr[j])
                CHECK(0, "%s and %s are distinct functions", targets[i], targets[j]);
    CHECK(1, "the %zu probe targets are distinct functions", NTARGETS);
    DONE();
}
