/* t_pipe.c — pipes across fork, EOF, EPIPE/SIGPIPE, poll/ppoll, epoll, eventfd, wait4. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static pid_t wait_exit(pid_t pid, int want_status, const char *what)
{
    int status = -1;
    struct rusage ru;
    pid_t r = wait4(pid, &status, 0, &ru);
    CHECK_EQ(r, pid, "wait4 returns the child's pid (%s)", what);
    CHECK(WIFEXITED(status), "%s: child exited normally (status 0x%x)", what, status);
    CHECK_EQ(WEXITSTATUS(status), want_status, "%s: child exit status", what);
    return r;
}

static void test_cross_process(void)
{
    int p[2], back[2];
    CHECK_SYS(pipe2(p, O_CLOEXEC), "pipe2(O_CLOEXEC)");
    CHECK_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC, "pipe2 O_CLOEXEC on the read end");
    CHECK_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC, "pipe2 O_CLOEXEC on the write end");
    CHECK_EQ(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY, "read end is O_RDONLY");
    CHECK_EQ(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY, "write end is O_WRONLY");
    CHECK_SYS(pipe2(back, 0), "pipe2(0)");
    CHECK_EQ(fcntl(back[0], F_GETFD), 0, "pipe2(0) has no FD_CLOEXEC");

    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(p[1]);
        close(back[0]);
        char buf[64];
        ssize_t total = 0, n;
        while ((n = read(p[0], buf + total, sizeof buf - (size_t)total)) > 0)
            total += n;
        if (n != 0 || total != 11 || memcmp(buf, "ping-parent", 11) != 0)
            _exit(10);
        if (write(back[1], "pong", 4) != 4)
            _exit(11);
        _exit(7);
    }
    close(p[0]);
    close(back[1]);
    CHECK_EQ(write(p[1], "ping-", 5), 5, "parent writes part 1");
    sleep_ms(20);
    CHECK_EQ(write(p[1], "parent", 6), 6, "parent writes part 2");
    close(p[1]); /* the child's read loop ends only on EOF */
    char buf[8] = {0};
    CHECK_EQ(read(back[0], buf, sizeof buf), 4, "parent reads the child's reply");
    CHECK(memcmp(buf, "pong", 4) == 0, "reply content");
    CHECK_EQ(read(back[0], buf, sizeof buf), 0, "EOF after the child exits (writer closed)");
    close(back[0]);
    wait_exit(pid, 7, "pipe child saw data then EOF");
}

static void test_epipe(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CHECK_SYS(sigaction(SIGPIPE, &sa, &old), "ignore SIGPIPE");
    int p[2];
    CHECK_SYS(pipe2(p, 0), "pipe2");
    close(p[0]);
    CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
    close(p[1]);
    CHECK_SYS(sigaction(SIGPIPE, &old, NULL), "restore SIGPIPE");

    /* with the default action the writer dies of SIGPIPE (the read end is closed before
       the fork, so no reader exists whichever process runs first) */
    CHECK_SYS(pipe2(p, 0), "pipe2");
    close(p[0]);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        (void)write(p[1], "x", 1);
        _exit(3);
    }
    close(p[1]);
    int status;
    CHECK_EQ(wait4(pid, &status, 0, NULL), pid, "wait4 for the SIGPIPE child");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "write to a reader-less pipe kills with SIGPIPE "
          "(status 0x%x)", status);
}

static void test_poll(void)
{
    int p[2];
    CHECK_SYS(pipe2(p, O_NONBLOCK), "pipe2(O_NONBLOCK)");
    char c;
    CHECK_ERRNO(read(p[0], &c, 1), EAGAIN);
    struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    CHECK_EQ(poll(pf, 2, 0), 1, "poll: only the write end is ready");
    CHECK_EQ(pf[0].revents, 0, "poll: empty read end has no events");
    CHECK_EQ(pf[1].revents, POLLOUT, "poll: write end POLLOUT");
    double t0 = now_ms();
    CHECK_EQ(poll(pf, 1, 100), 0, "poll(100 ms) on an empty pipe times out");
    double dt = now_ms() - t0;
    CHECK(dt >= 95 && dt < 2000, "poll timeout took %.1f ms (want ~100)", dt);

    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sleep_ms(50);
        _exit(write(p[1], "z", 1) == 1 ? 0 : 1);
    }
    t0 = now_ms();
    CHECK_EQ(poll(pf, 1, 5000), 1, "poll wakes when the child writes");
    dt = now_ms() - t0;
    CHECK(pf[0].revents == POLLIN, "poll: POLLIN (revents 0x%x)", pf[0].revents);
    CHECK(dt >= 30 && dt < 4000, "poll woke after %.1f ms", dt);
    wait_exit(pid, 0, "poll writer");

    struct timespec ts = {0, 30 * 1000000L};
    sigset_t mask;
    sigemptyset(&mask);
    CHECK_EQ(ppoll(pf, 1, &ts, &mask), 1, "ppoll sees the pending byte");
    CHECK_EQ(read(p[0], &c, 1), 1, "read the byte");
    t0 = now_ms();
    CHECK_EQ(ppoll(pf, 1, &ts, &mask), 0, "ppoll(30 ms) times out on an empty pipe");
    dt = now_ms() - t0;
    CHECK(dt >= 25 && dt < 2000, "ppoll timeout took %.1f ms", dt);
    close(p[1]);
    CHECK_EQ(poll(pf, 1, 0), 1, "poll after the writer closed");
    CHECK(pf[0].revents & POLLHUP, "POLLHUP once the writer closed (revents 0x%x)", pf[0].revents);
    close(p[0]);
    struct pollfd bad = {12345, POLLIN, 0};
    CHECK_EQ(poll(&bad, 1, 0), 1, "poll on a closed fd reports it");
    CHECK_EQ(bad.revents, POLLNVAL, "poll on a closed fd: POLLNVAL");
}

static void test_epoll(void)
{
    int ep = CHECK_SYS(epoll_create1(EPOLL_CLOEXEC), "epoll_create1(EPOLL_CLOEXEC)");
    CHECK_EQ(fcntl(ep, F_GETFD), FD_CLOEXEC, "epoll fd has FD_CLOEXEC");
    CHECK_ERRNO(epoll_create1(12345), EINVAL);
    int p[2];
    CHECK_SYS(pipe2(p, 0), "pipe2");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
    CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "EPOLL_CTL_ADD read end");
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), ENOENT);
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, 9999, &ev), EBADF);
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
    struct epoll_event out[4];
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 0, "epoll_wait: nothing ready");
    double t0 = now_ms();
    CHECK_EQ(epoll_wait(ep, out, 4, 50), 0, "epoll_wait(50 ms) times out");
    double dt = now_ms() - t0;
    CHECK(dt >= 45 && dt < 2000, "epoll_wait timeout took %.1f ms", dt);
    CHECK_EQ(write(p[1], "abc", 3), 3, "write 3 bytes");
    memset(out, 0, sizeof out);
    CHECK_EQ(epoll_wait(ep, out, 4, 1000), 1, "epoll_wait: read end ready");
    CHECK_EQ(out[0].events, EPOLLIN, "epoll event is EPOLLIN");
    CHECK(out[0].data.u64 == 0x1122334455667788ULL, "epoll data.u64 round-trips");
    sigset_t mask;
    sigemptyset(&mask);
    CHECK_EQ(epoll_pwait(ep, out, 4, 0, &mask), 1, "epoll_pwait: level-triggered, still ready");
    ev.events = EPOLLOUT;
    ev.data.fd = p[0];
    CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), "EPOLL_CTL_MOD to EPOLLOUT");
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 0, "read end never becomes EPOLLOUT");
    CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), "EPOLL_CTL_DEL");
    CHECK_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
    ev.events = EPOLLIN;
    ev.data.fd = p[0];
    CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "re-add read end");
    char buf[8];
    CHECK_EQ(read(p[0], buf, sizeof buf), 3, "drain the pipe");
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 0, "drained pipe is not ready");

    /* a child writes while we block in epoll_wait */
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sleep_ms(40);
        _exit(write(p[1], "q", 1) == 1 ? 0 : 1);
    }
    CHECK_EQ(epoll_wait(ep, out, 4, 5000), 1, "epoll_wait wakes on the child's write");
    CHECK_EQ(out[0].data.fd, p[0], "event names the read end");
    wait_exit(pid, 0, "epoll writer");
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void test_eventfd(void)
{
    int fd = CHECK_SYS(eventfd(3, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd2(3, CLOEXEC|NONBLOCK)");
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC, "eventfd FD_CLOEXEC");
    uint64_t v = 0;
    CHECK_EQ(read(fd, &v, sizeof v), 8, "read the counter");
    CHECK_EQ(v, 3, "initial counter value");
    CHECK_ERRNO(read(fd, &v, sizeof v), EAGAIN);
    v = 5;
    CHECK_EQ(write(fd, &v, 8), 8, "add 5");
    v = 7;
    CHECK_EQ(write(fd, &v, 8), 8, "add 7");
    CHECK_ERRNO(read(fd, &v, 4), EINVAL);
    CHECK_ERRNO(write(fd, &v, 4), EINVAL);
    v = UINT64_MAX;
    CHECK_ERRNO(write(fd, &v, 8), EINVAL);
    struct pollfd pf = {fd, POLLIN, 0};
    CHECK_EQ(poll(&pf, 1, 0), 1, "non-zero eventfd is readable");
    CHECK_EQ(read(fd, &v, 8), 8, "read the sum");
    CHECK_EQ(v, 12, "counter is the sum of the writes and resets");
    CHECK_EQ(poll(&pf, 1, 0), 0, "zero eventfd is not readable");
    close(fd);

    fd = CHECK_SYS(eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK), "eventfd2(EFD_SEMAPHORE)");
    v = 2;
    CHECK_EQ(write(fd, &v, 8), 8, "semaphore add 2");
    CHECK_EQ(read(fd, &v, 8), 8, "semaphore read 1");
    CHECK_EQ(v, 1, "semaphore read returns 1");
    CHECK_EQ(read(fd, &v, 8), 8, "semaphore read 2");
    CHECK_ERRNO(read(fd, &v, 8), EAGAIN);
    close(fd);

    /* a blocking read wakes on a write from another process */
    fd = CHECK_SYS(eventfd(0, 0), "eventfd2 blocking");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sleep_ms(30);
        uint64_t one = 41;
        _exit(write(fd, &one, 8) == 8 ? 0 : 1);
    }
    CHECK_EQ(read(fd, &v, 8), 8, "blocking eventfd read");
    CHECK_EQ(v, 41, "value written by the child");
    wait_exit(pid, 0, "eventfd writer");
    close(fd);
}

int main(void)
{
    test_cross_process();
    test_epipe();
    test_poll();
    test_epoll();
    test_eventfd();
    int status;
    CHECK_ERRNO(wait4(-1, &status, WNOHANG, NULL), ECHILD);
    DONE();
}
