/* init.c — the demo kernel's /init.
 *
 *   /init test [filter] [timeout=N] [skip=a,b:reason]   run every executable in the tests directory
 *                                     (those named in skip= are reported SKIP with the reason)
 *   /init run <path> [args...]        run one program, exit with its status
 *   /init                             `run /bin/demo` if it exists, else test mode
 *
 * The kernel passes everything after ` -- ` on its command line as argv[1..] and turns
 * /init's exit status into QEMU's exit status.
 *
 * Environment: INIT_TESTS_DIR (default /tests), INIT_TEST_TIMEOUT (seconds, default 120).
 *
 * Test mode prints, per test, `PASS <name>` or `FAIL <name>: <reason>` and finally
 * `N passed, N failed`; it exits 0 when nothing failed, 1 otherwise (also when no test
 * matched). Only common syscalls are used: no /proc, no signalfd, no pidfd.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TESTS_DIR "/tests"
#define DEFAULT_TIMEOUT_S 120
#define DEMO_PATH "/bin/demo"
#define MAX_TESTS 1024
#define POLL_NS 5000000L /* 5 ms between wait4(WNOHANG) polls */

extern char **environ;

/* Unbuffered formatted output: no stdio buffer can be duplicated by fork(). */
static void out(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(STDOUT_FILENO, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        done += (size_t)w;
    }
}

static const char *signame(int sig)
{
    static const char *const names[] = {
        [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
        [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",     [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
        [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
        [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
        [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",     [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
        [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
        [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
        [SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
    };
    if (sig > 0 && (size_t)sig < sizeof names / sizeof names[0] && names[sig])
        return names[sig];
    return "unknown";
}

static double now_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Make sure fds 0, 1 and 2 exist: a kernel may start init with nothing open. */
static void ensure_console(void)
{
    if (fcntl(STDOUT_FILENO, F_GETFD) != -1 && fcntl(STDERR_FILENO, F_GETFD) != -1)
        return;
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) == -1)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

/* Fork, optionally into its own process group, and execve argv. Returns the pid or -1. */
static pid_t spawn(char *const argv[], int own_group)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (own_group)
            setpgid(0, 0); /* failure (e.g. ENOSYS) is tolerated */
        signal(SIGPIPE, SIG_DFL);
        execve(argv[0], argv, environ);
        out("init: execve %s: %s (errno %d)\n", argv[0], strerror(errno), errno);
        _exit(127);
    }
    if (own_group)
        setpgid(pid, pid); /* both sides set it: no race with the child's exec */
    return pid;
}

/* Wait for pid; reap any other (orphaned) child on the way. timeout_s <= 0: no timeout.
 * Returns 0 with *status set, or 1 on timeout (the child has been SIGKILLed and reaped). */
static int wait_child(pid_t pid, int timeout_s, int *status)
{
    double deadline = now_s() + timeout_s;
    for (;;) {
        int st;
        pid_t r = waitpid(-1, &st, timeout_s > 0 ? WNOHANG : 0);
        if (r == pid) {
            *status = st;
            return 0;
        }
        if (r > 0)
            continue; /* an orphan re-parented to us */
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            /* ECHILD: should not happen while pid is alive; report it as an exit 127. */
            out("init: waitpid: %s (errno %d)\n", strerror(errno), errno);
            *status = 127 << 8;
            return 0;
        }
        if (now_s() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            return 1;
        }
        struct timespec ts = {0, POLL_NS};
        nanosleep(&ts, NULL);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_timeout(const char *s, int fallback)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 86400) {
        out("init: ignoring bad timeout \"%s\"\n", s);
        return fallback;
    }
    return (int)v;
}

static char *absolute_dir(const char *dir)
{
    if (dir[0] == '/')
        return strdup(dir);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return strdup(dir);
    size_t n = strlen(cwd) + strlen(dir) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", cwd, dir);
    return p;
}

/* Whether `name` is in the comma-separated list `skip` (which may end in ":reason"). */
static int skip_listed(const char *skip, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = skip; p && *p && *p != ':';) {
        size_t len = strcspn(p, ",:");
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int test_mode(int argc, char **argv)
{
    const char *filter = NULL;
    const char *skip = NULL; /* "name,name:reason" — tests the host cannot run here */
    int timeout = DEFAULT_TIMEOUT_S;
    const char *env_timeout = getenv("INIT_TEST_TIMEOUT");
    /* Test logs are read as text: tests that colour a terminal (the demo) must not here. */
    setenv("NO_COLOR", "1", 1);
    if (env_timeout)
        timeout = parse_timeout(env_timeout, timeout);
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "timeout=", 8) == 0)
            timeout = parse_timeout(argv[i] + 8, timeout);
        else if (strncmp(argv[i], "skip=", 5) == 0)
            skip = argv[i] + 5;
        else if (!filter)
            filter = argv[i];
        else
            out("init: ignoring extra argument \"%s\"\n", argv[i]);
    }
    const char *env_dir = getenv("INIT_TESTS_DIR");
    char *dir = absolute_dir(env_dir && *env_dir ? env_dir : DEFAULT_TESTS_DIR);
    if (!dir)
        return 1;

    static char *names[MAX_TESTS];
    size_t count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        out("init: cannot open tests directory %s: %s (errno %d)\n", dir, strerror(errno), errno);
    } else {
        struct dirent *e;
        while ((e = readdir(d)) != NULL && count < MAX_TESTS) {
            if (e->d_name[0] == '.' || (filter && !strstr(e->d_name, filter)))
                continue;
            char path[4096];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                continue;
            names[count++] = strdup(e->d_name);
        }
        closedir(d);
    }
    qsort(names, count, sizeof names[0], by_name);

    out("init: running %zu test(s) from %s (timeout %d s)\n", count, dir, timeout);
    unsigned passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (skip_listed(skip, names[i])) {
            const char *reason = strchr(skip, ':');
            out("SKIP %s: %s\n", names[i], reason ? reason + 1 : "skipped by the command line");
            skipped++;
            continue;
        }
        char *child_argv[] = {path, NULL};
        out("RUN %s\n", names[i]);
        double start = now_s();
        pid_t pid = spawn(child_argv, 1);
        if (pid < 0) {
            out("FAIL %s: fork: %s (errno %d)\n", names[i], strerror(errno), errno);
            failed++;
            continue;
        }
        int status = 0;
        if (wait_child(pid, timeout, &status)) {
            out("FAIL %s: timeout after %d s\n", names[i], timeout);
            failed++;
            continue;
        }
        kill(-pid, SIGKILL); /* stragglers left in the test's process group */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            out("PASS %s\n", names[i]);
            out("init: %s took %.2f s\n", names[i], now_s() - start);
            passed++;
        } else if (WIFEXITED(status)) {
            out("FAIL %s: exit status %d\n", names[i], WEXITSTATUS(status));
            failed++;
        } else if (WIFSIGNALED(status)) {
            out("FAIL %s: killed by signal %d (%s)\n", names[i], WTERMSIG(status), signame(WTERMSIG(status)));
            failed++;
        } else {
            out("FAIL %s: unexpected wait status 0x%x\n", names[i], status);
            failed++;
        }
    }
    if (count == 0) {
        out("FAIL (none): no test found in %s%s%s\n", dir, filter ? " matching " : "", filter ? filter : "");
        failed++;
    }
    if (skipped)
        out("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
    else
        out("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* `run <path> [args...]`: a bare name is looked up in /bin, then the tests directory. */
static int run_mode(int argc, char **argv)
{
    if (argc < 1) {
        out("init: usage: /init run <path> [args...]\n");
        return 2;
    }
    char resolved[4096];
    if (!strchr(argv[0], '/')) {
        const char *env_dir = getenv("INIT_TESTS_DIR");
        const char *dirs[] = {"/bin", env_dir && *env_dir ? env_dir : DEFAULT_TESTS_DIR};
        for (size_t i = 0; i < 2; i++) {
            snprintf(resolved, sizeof resolved, "%s/%s", dirs[i], argv[0]);
            if (access(resolved, X_OK) == 0) {
                argv[0] = resolved;
                break;
            }
        }
    }
    pid_t pid = spawn(argv, 0);
    if (pid < 0) {
        out("init: fork: %s (errno %d)\n", strerror(errno), errno);
        return 127;
    }
    int status = 0;
    wait_child(pid, 0, &status);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
        out("init: %s killed by signal %d (%s)\n", argv[0], WTERMSIG(status), signame(WTERMSIG(status)));
        return 128 + WTERMSIG(status);
    }
    return 1;
}

int main(int argc, char **argv)
{
    ensure_console();
    if (!getenv("PATH"))
        setenv("PATH", "/bin", 0);
    signal(SIGPIPE, SIG_IGN); /* a closed console must not kill init */

    if (argc >= 2 && strcmp(argv[1], "test") == 0)
        return test_mode(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return run_mode(argc - 2, argv + 2);
    if (argc >= 2) {
        out("init: unknown mode \"%s\"; usage: /init test [filter] [timeout=N] | /init run <path> [args...]\n",
            argv[1]);
        return 2;
    }
    if (access(DEMO_PATH, X_OK) == 0) {
        char *demo_argv[] = {DEMO_PATH, NULL};
        return run_mode(1, demo_argv);
    }
    return test_mode(0, argv + argc);
}
