/* t_time.c — clocks and sleeping: clock_gettime (MONOTONIC, REALTIME, BOOTTIME), nanosleep,
 * clock_nanosleep (relative and TIMER_ABSTIME), gettimeofday, clock_getres, EFAULT/EINVAL. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"

static int64_t ns_of(struct timespec ts)
{
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts = {-1, -1};
    if (clock_gettime(c, &ts) != 0)
        CHECK(0, "clock_gettime(%d)", (int)c);
    if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L || ts.tv_sec < 0)
        CHECK(0, "clock %d returned a normalised timespec (%ld.%09ld)", (int)c, (long)ts.tv_sec, ts.tv_nsec);
    return ns_of(ts);
}

/* Raw syscall, bypassing the vDSO (the demo kernel has none; on Linux this tests the syscall). */
static int64_t raw_clock_ns(clockid_t c)
{
    struct timespec ts = {-1, -1};
    long r = syscall(SYS_clock_gettime, c, &ts);
    if (r != 0)
        CHECK(0, "raw clock_gettime(%d)", (int)c);
    return ns_of(ts);
}

static void test_clocks(void)
{
    const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
    const char *names[] = {"CLOCK_MONOTONIC", "CLOCK_REALTIME", "CLOCK_BOOTTIME"};
    for (int c = 0; c < 3; c++) {
        int64_t prev = clock_ns(clocks[c]);
        int monotone = 1, advanced = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t t = (i & 1) ? raw_clock_ns(clocks[c]) : clock_ns(clocks[c]);
            if (c != 1 && t < prev)
                monotone = 0;
            if (t > prev)
                advanced = 1;
            prev = t;
        }
        CHECK(monotone, "%s never goes backwards over 2000 reads", names[c]);
        CHECK(advanced, "%s advances", names[c]);
        struct timespec res = {-1, -1};
        CHECK_SYS(clock_getres(clocks[c], &res), "clock_getres(%s)", names[c]);
        CHECK(res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000, "%s resolution %ld ns (<= 10 ms)",
              names[c], res.tv_nsec);
    }
    int64_t mono = clock_ns(CLOCK_MONOTONIC), boot = clock_ns(CLOCK_BOOTTIME);
    CHECK(boot >= mono - 1000000, "CLOCK_BOOTTIME >= CLOCK_MONOTONIC");
    CHECK(mono > 0, "CLOCK_MONOTONIC is positive");
    int64_t real = clock_ns(CLOCK_REALTIME);
    /* 2020-01-01; a kernel with an RTC (CMOS) gives the real date */
    CHECK(real > 1577836800LL * 1000000000LL, "CLOCK_REALTIME is after 2020 (%lld s)", (long long)(real / 1000000000));
    struct timespec ts;
    CHECK_ERRNO(syscall(SYS_clock_gettime, 12345, &ts), EINVAL);
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)16), EFAULT);
    CHECK_SYS(clock_gettime(CLOCK_MONOTONIC_COARSE, &ts), "CLOCK_MONOTONIC_COARSE");
    CHECK_SYS(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), "CLOCK_PROCESS_CPUTIME_ID");

    struct timeval tv;
    CHECK_SYS(gettimeofday(&tv, NULL), "gettimeofday");
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec normalised");
    int64_t real2 = clock_ns(CLOCK_REALTIME);
    int64_t tod = (int64_t)tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
    CHECK(tod >= real - 1000000 && tod <= real2 + 1000000, "gettimeofday agrees with CLOCK_REALTIME");
    struct timeval rawtv;
    CHECK_SYS(syscall(SYS_gettimeofday, &rawtv, NULL), "raw gettimeofday");
    CHECK(rawtv.tv_sec >= tv.tv_sec && rawtv.tv_sec - tv.tv_sec < 5, "raw gettimeofday agrees");
    time_t t = time(NULL);
    CHECK(t >= tv.tv_sec && t - tv.tv_sec < 5, "time() agrees");
}

static void test_sleep(void)
{
    struct timespec req = {0, 50 * 1000000L}, rem = {9, 9};
    int64_t t0 = clock_ns(CLOCK_MONOTONIC);
    CHECK_SYS(nanosleep(&req, &rem), "nanosleep 50 ms");
    int64_t dt = clock_ns(CLOCK_MONOTONIC) - t0;
    CHECK(dt >= 50000000 && dt < 2000000000, "nanosleep(50 ms) took %.2f ms", dt / 1e6);

    t0 = clock_ns(CLOCK_MONOTONIC);
    req.tv_nsec = 1;
    CHECK_SYS(nanosleep(&req, NULL), "nanosleep 1 ns");
    dt = clock_ns(CLOCK_MONOTONIC) - t0;
    CHECK(dt < 500000000, "nanosleep(1 ns) returns quickly (%.2f ms)", dt / 1e6);

    req.tv_nsec = 1000000000L;
    CHECK_ERRNO(nanosleep(&req, NULL), EINVAL);
    req.tv_sec = -1;
    req.tv_nsec = 0;
    CHECK_ERRNO(nanosleep(&req, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_nanosleep, (void *)16, NULL), EFAULT);

    req.tv_sec = 0;
    req.tv_nsec = 30 * 1000000L;
    t0 = clock_ns(CLOCK_MONOTONIC);
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
    dt = clock_ns(CLOCK_MONOTONIC) - t0;
    CHECK_EQ(r, 0, "clock_nanosleep relative 30 ms");
    CHECK(dt >= 30000000 && dt < 2000000000, "relative clock_nanosleep took %.2f ms", dt / 1e6);

    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 40 * 1000000L;
    if (abs.tv_nsec >= 1000000000L) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000L;
    }
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
    CHECK_EQ(r, 0, "clock_nanosleep TIMER_ABSTIME +40 ms");
    int64_t after = clock_ns(CLOCK_MONOTONIC);
    CHECK(after >= ns_of(abs) && after - ns_of(abs) < 2000000000LL, "woke after the absolute deadline "
          "(%.2f ms late)", (after - ns_of(abs)) / 1e6);

    /* A deadline in the past (half the time since boot: a freshly booted kernel's
       CLOCK_MONOTONIC may be under one second, and a negative tv_sec is EINVAL). */
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec = (abs.tv_sec % 2) * 500000000L + abs.tv_nsec / 2;
    abs.tv_sec /= 2;
    t0 = clock_ns(CLOCK_MONOTONIC);
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL), 0, "TIMER_ABSTIME in the past");
    CHECK(clock_ns(CLOCK_MONOTONIC) - t0 < 500000000, "a past deadline returns at once");

    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_nsec += 20 * 1000000L;
    if (abs.tv_nsec >= 1000000000L) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000L;
    }
    CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL), 0, "CLOCK_REALTIME TIMER_ABSTIME");
    CHECK(clock_ns(CLOCK_REALTIME) >= ns_of(abs), "woke after the realtime deadline");

    req.tv_sec = 0;
    req.tv_nsec = 1000;
    /* clock_nanosleep returns the error number instead of setting errno */
    CHECK_EQ(clock_nanosleep(12345, 0, &req, NULL), EINVAL, "clock_nanosleep bad clock -> EINVAL");
    req.tv_nsec = -5;
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), EINVAL, "clock_nanosleep bad nsec -> EINVAL");
}

int main(void)
{
    test_clocks();
    test_sleep();
    DONE();
}
