/* t_proc.c — processes and signals: fork/wait4, ids, execve, kill/tgkill default actions,
 * SIGSEGV on a NULL dereference, sigprocmask/sigaction/sigaltstack, and assorted process
 * syscalls (set_tid_address, getrandom, uname, sysinfo, rlimits, affinity, sched_yield, umask).
 *
 * `t_proc --child-exec A B` is the execve target: it checks its argv/envp and exits 42.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

extern char **environ;

static int child_exec_mode(int argc, char **argv)
{
    /* Exit codes name the first failed check; the parent reports them. */
    if (argc != 4)
        return 20;
    if (strcmp(argv[2], "alpha") != 0 || strcmp(argv[3], "beta gamma") != 0)
        return 21;
    const char *v = getenv("T_PROC_VAR");
    if (!v || strcmp(v, "value=with=equals") != 0)
        return 22;
    if (getenv("HOME") != NULL) /* the parent passed a minimal environment */
        return 23;
    return 42;
}

static int wait_status(pid_t pid)
{
    int status = -1;
    pid_t r;
    while ((r = wait4(pid, &status, 0, NULL)) < 0 && errno == EINTR)
        ;
    CHECK_EQ(r, pid, "wait4 returns pid %d", (int)pid);
    return status;
}

static void check_killed_by(pid_t pid, int sig, const char *what)
{
    int st = wait_status(pid);
    CHECK(WIFSIGNALED(st), "%s: WIFSIGNALED (status 0x%x)", what, st);
    CHECK_EQ(WTERMSIG(st), sig, "%s: WTERMSIG", what);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
    (void)sig;
    got_usr1++;
}

static void test_fork_exec(const char *self)
{
    pid_t me = getpid();
    CHECK(me > 0, "getpid %d", (int)me);
    CHECK_EQ(syscall(SYS_gettid), me, "gettid == getpid in a single-threaded process");
    pid_t parent = getppid();
    CHECK(parent >= 0 && parent != me, "getppid %d differs from getpid", (int)parent);

    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0)
        _exit(getppid() == me && getpid() != me ? 37 : 1);
    int st = wait_status(pid);
    CHECK(WIFEXITED(st), "fork child exited normally (0x%x)", st);
    CHECK_EQ(WEXITSTATUS(st), 37, "fork child: getppid == parent's pid, own pid differs");
    CHECK_ERRNO(wait4(pid, &st, 0, NULL), ECHILD);

    /* many children, reaped in any order with wait4(-1) */
    for (int i = 0; i < 5; i++) {
        pid_t c = fork();
        CHECK(c >= 0, "fork child %d", i);
        if (c == 0)
            _exit(100 + i);
    }
    int seen = 0;
    for (int i = 0; i < 5; i++) {
        CHECK(wait4(-1, &st, 0, NULL) > 0 && WIFEXITED(st), "wait4(-1) reaps child %d", i);
        seen |= 1 << (WEXITSTATUS(st) - 100);
    }
    CHECK_EQ(seen, 0x1f, "each of the 5 exit statuses seen once");

    /* WNOHANG on a running child */
    int p[2];
    CHECK_SYS(pipe(p), "pipe");
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        char c;
        close(p[1]);
        _exit(read(p[0], &c, 1) == 0 ? 5 : 6);
    }
    close(p[0]);
    CHECK_EQ(wait4(pid, &st, WNOHANG, NULL), 0, "wait4 WNOHANG on a running child returns 0");
    close(p[1]);
    st = wait_status(pid);
    CHECK_EQ(WEXITSTATUS(st), 5, "child saw EOF after we closed the pipe");

    /* execve with argv and a minimal envp */
    pid = fork();
    CHECK(pid >= 0, "fork for execve");
    if (pid == 0) {
        char *argv[] = {(char *)self, "--child-exec", "alpha", "beta gamma", NULL};
        char *envp[] = {"T_PROC_VAR=value=with=equals", "PATH=/bin", NULL};
        execve(self, argv, envp);
        _exit(99);
    }
    st = wait_status(pid);
    CHECK(WIFEXITED(st), "execve child exited normally (0x%x)", st);
    CHECK_EQ(WEXITSTATUS(st), 42, "execve child saw our argv/envp (20-23 = which check failed, 99 = exec failed)");

    char *argv[] = {"/nonexistent/prog", NULL};
    CHECK_ERRNO(execve("/nonexistent/prog", argv, environ), ENOENT);
    CHECK_ERRNO(execve("/tmp", argv, environ), EACCES);
}

static void test_signals(void)
{
    /* default actions */
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (;;)
            pause();
    }
    CHECK_SYS(kill(pid, SIGTERM), "kill SIGTERM");
    check_killed_by(pid, SIGTERM, "SIGTERM default action");

    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        signal(SIGTERM, SIG_IGN);
        for (;;)
            sched_yield();
    }
    struct timespec ts = {0, 20000000L};
    nanosleep(&ts, NULL);
    CHECK_SYS(kill(pid, SIGKILL), "kill SIGKILL (a busy child that ignores SIGTERM)");
    check_killed_by(pid, SIGKILL, "SIGKILL");

    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
        _exit(0);
    }
    check_killed_by(pid, SIGUSR2, "tgkill SIGUSR2 to self");

    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        volatile int *null = NULL;
        *null = 1;
        _exit(0);
    }
    check_killed_by(pid, SIGSEGV, "NULL dereference");

    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0)
        abort();
    check_killed_by(pid, SIGABRT, "abort()");

    CHECK_ERRNO(kill(pid, SIGTERM), ESRCH); /* reaped */
    CHECK_ERRNO(kill(getpid(), 12345), EINVAL);
    CHECK_SYS(kill(getpid(), 0), "kill(self, 0) checks existence");

    /* sigaction returns the previous action; a handler runs */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    CHECK_SYS(sigaction(SIGUSR1, &sa, &old), "install SIGUSR1 handler");
    CHECK(old.sa_handler == SIG_DFL, "previous SIGUSR1 action was SIG_DFL");
    memset(&old, 0, sizeof old);
    CHECK_SYS(sigaction(SIGUSR1, NULL, &old), "query SIGUSR1 action");
    CHECK(old.sa_handler == on_usr1, "query returns our handler");
    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    CHECK_SYS(kill(getpid(), SIGUSR1), "kill(self, SIGUSR1)");
    CHECK_EQ(got_usr1, 1, "handler ran once");
    CHECK_SYS(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1), "tgkill self SIGUSR1");
    CHECK_EQ(got_usr1, 2, "handler ran after tgkill");

    /* rt_sigprocmask: a blocked signal stays pending until unblocked */
    sigset_t set, oldset, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK_SYS(sigprocmask(SIG_BLOCK, &set, &oldset), "block SIGUSR1");
    CHECK(!sigismember(&oldset, SIGUSR1), "SIGUSR1 was not blocked before");
    CHECK_SYS(kill(getpid(), SIGUSR1), "send blocked SIGUSR1");
    CHECK_EQ(got_usr1, 2, "blocked signal is not delivered");
    CHECK_SYS(sigpending(&pending), "sigpending");
    CHECK(sigismember(&pending, SIGUSR1), "SIGUSR1 is pending");
    CHECK_SYS(sigprocmask(SIG_SETMASK, NULL, &oldset), "query mask");
    CHECK(sigismember(&oldset, SIGUSR1), "mask contains SIGUSR1");
    CHECK_SYS(sigprocmask(SIG_UNBLOCK, &set, NULL), "unblock SIGUSR1");
    CHECK_EQ(got_usr1, 3, "pending signal delivered on unblock");
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, 99, &set, NULL, 8), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL);

    /* sigaltstack */
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0}, oss;
    CHECK_SYS(sigaltstack(&ss, &oss), "sigaltstack set");
    CHECK(oss.ss_flags & SS_DISABLE, "no alternate stack before (flags 0x%x)", oss.ss_flags);
    memset(&oss, 0, sizeof oss);
    CHECK_SYS(sigaltstack(NULL, &oss), "sigaltstack query");
    CHECK(oss.ss_sp == altstack && oss.ss_size == sizeof altstack && oss.ss_flags == 0,
          "query returns our stack (sp %p size %zu flags 0x%x)", oss.ss_sp, oss.ss_size, oss.ss_flags);
    ss.ss_size = 16;
    CHECK_ERRNO(sigaltstack(&ss, NULL), ENOMEM);
    ss.ss_flags = SS_DISABLE;
    CHECK_SYS(sigaltstack(&ss, NULL), "sigaltstack disable");
}

static void test_misc(void)
{
    int tid_word = 0;
    long tid = syscall(SYS_set_tid_address, &tid_word);
    CHECK_EQ(tid, syscall(SYS_gettid), "set_tid_address returns the tid");

    unsigned char a[32] = {0}, b[32] = {0};
    CHECK_EQ(getrandom(a, sizeof a, 0), sizeof a, "getrandom 32 bytes");
    CHECK_EQ(getrandom(b, sizeof b, GRND_NONBLOCK), sizeof b, "getrandom GRND_NONBLOCK");
    CHECK(memcmp(a, b, sizeof a) != 0, "two getrandom results differ");
    CHECK_ERRNO(getrandom(a, sizeof a, 0x4000), EINVAL);
    CHECK_ERRNO(syscall(SYS_getrandom, (void *)8, 16, 0), EFAULT);

    struct utsname u;
    CHECK_SYS(uname(&u), "uname");
    CHECK_STR(u.sysname, "Linux", "uname sysname");
    CHECK_STR(u.machine, "x86_64", "uname machine");
    CHECK(u.release[0] >= '0' && u.release[0] <= '9' && strchr(u.release, '.'), "uname release \"%s\" looks like "
          "a Linux version", u.release);
    CHECK_ERRNO(syscall(SYS_uname, (void *)8), EFAULT);

    struct sysinfo si;
    CHECK_SYS(sysinfo(&si), "sysinfo");
    CHECK(si.totalram > 0 && si.mem_unit > 0, "sysinfo totalram %lu unit %u", si.totalram, si.mem_unit);
    CHECK(si.freeram <= si.totalram, "sysinfo freeram <= totalram");
    CHECK(si.procs >= 1, "sysinfo procs %u", si.procs);

    struct rlimit rl, rl2;
    CHECK_SYS(getrlimit(RLIMIT_MEMLOCK, &rl), "getrlimit RLIMIT_MEMLOCK");
    CHECK(rl.rlim_cur <= rl.rlim_max, "memlock cur <= max");
    rl2.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1 << 20 : rl.rlim_max / 2;
    rl2.rlim_max = rl.rlim_max;
    CHECK_SYS(setrlimit(RLIMIT_MEMLOCK, &rl2), "setrlimit RLIMIT_MEMLOCK cur=%lu", (unsigned long)rl2.rlim_cur);
    CHECK_SYS(getrlimit(RLIMIT_MEMLOCK, &rl), "getrlimit again");
    CHECK_EQ(rl.rlim_cur, rl2.rlim_cur, "setrlimit took effect");
    struct rlimit bad = {.rlim_cur = 10, .rlim_max = 5};
    CHECK_ERRNO(setrlimit(RLIMIT_MEMLOCK, &bad), EINVAL);
    struct rlimit nl = {rl2.rlim_max, rl2.rlim_max}, ol;
    CHECK_SYS(prlimit(0, RLIMIT_MEMLOCK, &nl, &ol), "prlimit64 raise cur to max and get the old value");
    CHECK_EQ(ol.rlim_cur, rl2.rlim_cur, "prlimit64 old value");
    CHECK_SYS(prlimit(getpid(), RLIMIT_MEMLOCK, NULL, &ol), "prlimit64 query by pid");
    CHECK(ol.rlim_cur == rl2.rlim_max, "prlimit64 new value is the hard limit");
    CHECK_SYS(getrlimit(RLIMIT_NOFILE, &rl), "getrlimit RLIMIT_NOFILE");
    CHECK(rl.rlim_cur >= 64, "RLIMIT_NOFILE %lu >= 64", (unsigned long)rl.rlim_cur);
    CHECK_SYS(getrlimit(RLIMIT_STACK, &rl), "getrlimit RLIMIT_STACK");
    CHECK(rl.rlim_cur >= 128 * 1024, "RLIMIT_STACK >= 128 KiB");
    CHECK_ERRNO(getrlimit(99, &rl), EINVAL);

    cpu_set_t cs;
    CPU_ZERO(&cs);
    CHECK_SYS(sched_getaffinity(0, sizeof cs, &cs), "sched_getaffinity");
    CHECK(CPU_COUNT(&cs) >= 1, "at least one CPU in the affinity mask (%d)", CPU_COUNT(&cs));
    long n = syscall(SYS_sched_getaffinity, 0, sizeof cs, &cs);
    CHECK(n >= 8 && n <= (long)sizeof cs && n % 8 == 0, "raw sched_getaffinity returns the mask size %ld", n);
    CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, 3, &cs), EINVAL);
    CHECK_EQ(sched_yield(), 0, "sched_yield");

    mode_t m = umask(077);
    CHECK_EQ(umask(m), 077, "umask round trip");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--child-exec") == 0)
        return child_exec_mode(argc, argv);
    CHECK(argv[0][0] == '/' || strchr(argv[0], '/'), "started with a path (%s), needed to re-exec", argv[0]);
    test_fork_exec(argv[0]);
    test_signals();
    test_misc();
    DONE();
}
