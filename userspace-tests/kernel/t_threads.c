/* t_threads.c — pthreads (clone with CLONE_VM|CLONE_THREAD|CLONE_SETTLS|CLONE_*TID via glibc),
 * per-thread TLS, mutex/condvar ping-pong, raw futex WAIT/WAKE with timeouts and bitsets. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#include "check.h"

#define NTHREADS 6

static __thread long tls_value = 1000;

struct worker {
    int index;
    pid_t tid;
    pid_t pid;
    long tls_seen_initial;
    long tls_after;
    long sum;
};

static atomic_int started;

static long futex(atomic_int *uaddr, int op, int val, const struct timespec *ts, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, val3);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    w->pid = getpid();
    w->tls_seen_initial = tls_value;
    tls_value = 10 * w->index;
    atomic_fetch_add(&started, 1);
    long sum = 0;
    for (int i = 0; i < 200000; i++) {
        sum += i % 7;
        if (i % 50000 == 0)
            sched_yield(); /* let the others interleave and check TLS survives switches */
    }
    w->sum = sum;
    w->tls_after = tls_value;
    return (void *)(intptr_t)(w->index + 100);
}

static void test_create_join(void)
{
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    tls_value = -1;
    for (int i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].index = i + 1;
        int e = pthread_create(&th[i], NULL, worker_main, &w[i]);
        CHECK_EQ(e, 0, "pthread_create #%d", i);
    }
    long want = 0;
    for (int i = 0; i < 200000; i++)
        want += i % 7;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret = NULL;
        CHECK_EQ(pthread_join(th[i], &ret), 0, "pthread_join #%d", i);
        CHECK_EQ((intptr_t)ret, i + 101, "thread #%d return value", i);
        CHECK_EQ(w[i].pid, getpid(), "thread #%d: getpid equals the process's", i);
        CHECK(w[i].tid != getpid() && w[i].tid > 0, "thread #%d: gettid %d differs from the main thread", i,
              (int)w[i].tid);
        for (int j = 0; j < i; j++)
            CHECK(w[i].tid != w[j].tid, "threads #%d and #%d have different tids", j, i);
        CHECK_EQ(w[i].tls_seen_initial, 1000, "thread #%d: TLS starts at the initial image value", i);
        CHECK_EQ(w[i].tls_after, 10 * (i + 1), "thread #%d: its own TLS value survived", i);
        CHECK_EQ(w[i].sum, want, "thread #%d computed correctly", i);
    }
    CHECK_EQ(atomic_load(&started), NTHREADS, "all threads ran");
    CHECK_EQ(tls_value, -1, "main thread's TLS untouched by the workers");
}

/* mutex + condvar ping-pong */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn; /* 0: main's turn, 1: partner's */
static int rounds_done;
#define ROUNDS 2000

static void *partner(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mu);
        while (turn != 1)
            pthread_cond_wait(&cv, &mu);
        rounds_done++;
        turn = 0;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void test_ping_pong(void)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, partner, NULL), 0, "create ping-pong partner");
    int ok = 1;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mu);
        while (turn != 0)
            pthread_cond_wait(&cv, &mu);
        ok &= rounds_done == i;
        turn = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    while (turn != 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    CHECK_EQ(pthread_join(t, NULL), 0, "join partner");
    CHECK(ok, "strict alternation in every round");
    CHECK_EQ(rounds_done, ROUNDS, "%d mutex/condvar round trips", ROUNDS);

    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_nsec += 50 * 1000000L;
    if (abs.tv_nsec >= 1000000000L) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    double t0 = now_ms();
    int e = pthread_cond_timedwait(&cv, &mu, &abs);
    double dt = now_ms() - t0;
    pthread_mutex_unlock(&mu);
    CHECK_EQ(e, ETIMEDOUT, "pthread_cond_timedwait(+50 ms) -> ETIMEDOUT");
    CHECK(dt >= 40 && dt < 2000, "timedwait took %.1f ms", dt);
}

/* raw futex */
static atomic_int fword;
static atomic_int woken;
static atomic_int waiting; /* waiters about to enter FUTEX_WAIT */

static void *futex_waiter(void *arg)
{
    int bitset = (int)(intptr_t)arg;
    long r;
    atomic_fetch_add(&waiting, 1);
    if (bitset)
        r = futex(&fword, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, bitset);
    else
        r = futex(&fword, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, 0);
    if (r == 0 || (r == -1 && errno == EAGAIN))
        atomic_fetch_add(&woken, 1);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until n waiters announced themselves, then give them time to enter the kernel. */
static void wait_for_sleepers(int n)
{
    for (int i = 0; i < 2000 && atomic_load(&waiting) < n; i++)
        sleep_ms(1);
    CHECK_EQ(atomic_load(&waiting), n, "%d waiters started", n);
    sleep_ms(100);
}

/* Wait (up to 5 s) until `n` waiters have returned, then a little longer for extra ones. */
static void wait_for_woken(int n)
{
    for (int i = 0; i < 5000 && atomic_load(&woken) < n; i++)
        sleep_ms(1);
    sleep_ms(30);
}

static void test_futex(void)
{
    atomic_store(&fword, 0);
    struct timespec rel = {0, 60 * 1000000L};
    double t0 = now_ms();
    CHECK_ERRNO(futex(&fword, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, &rel, 0), ETIMEDOUT);
    double dt = now_ms() - t0;
    CHECK(dt >= 55 && dt < 2000, "FUTEX_WAIT relative 60 ms timeout took %.1f ms", dt);
    CHECK_ERRNO(futex(&fword, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, &rel, 0), EAGAIN);
    CHECK_ERRNO(futex(&fword, FUTEX_WAIT, 0, &(struct timespec){0, 2000000000L}, 0), EINVAL);
    CHECK_EQ(futex(&fword, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, 0), 0, "FUTEX_WAKE with no waiters -> 0");
    CHECK_ERRNO(futex((atomic_int *)((char *)&fword + 1), FUTEX_WAIT, 0, &rel, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_futex, (void *)16, FUTEX_WAIT, 0, &rel, NULL, 0), EFAULT);

    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline */
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 40 * 1000000L;
    if (abs.tv_nsec >= 1000000000L) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000L;
    }
    t0 = now_ms();
    CHECK_ERRNO(futex(&fword, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &abs, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    dt = now_ms() - t0;
    CHECK(dt >= 35 && dt < 2000, "FUTEX_WAIT_BITSET absolute deadline took %.1f ms", dt);
    CHECK_ERRNO(futex(&fword, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &abs, 0), EINVAL);
    CHECK_ERRNO(futex(&fword, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | FUTEX_PRIVATE_FLAG, 0,
                      &(struct timespec){1, 0}, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);

    /* FUTEX_WAKE wakes exactly the requested number of waiters */
    pthread_t t[3];
    atomic_store(&woken, 0);
    atomic_store(&waiting, 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, futex_waiter, NULL), 0, "create futex waiter %d", i);
    wait_for_sleepers(3);
    long n = futex(&fword, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 2, NULL, 0);
    CHECK_EQ(n, 2, "FUTEX_WAKE 2 of 3 sleeping waiters");
    wait_for_woken(2);
    CHECK_EQ(atomic_load(&woken), 2, "exactly two waiters returned");
    n = futex(&fword, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, 0);
    CHECK_EQ(n, 1, "FUTEX_WAKE INT_MAX wakes the last one");
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(atomic_load(&woken), 3, "all three waiters returned");

    /* bitsets: a wake with a disjoint mask wakes nobody */
    atomic_store(&woken, 0);
    atomic_store(&waiting, 0);
    pthread_t a, b;
    CHECK_EQ(pthread_create(&a, NULL, futex_waiter, (void *)(intptr_t)0x1), 0, "waiter with bitset 0x1");
    CHECK_EQ(pthread_create(&b, NULL, futex_waiter, (void *)(intptr_t)0x2), 0, "waiter with bitset 0x2");
    wait_for_sleepers(2);
    CHECK_EQ(futex(&fword, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, 0x4), 0,
             "FUTEX_WAKE_BITSET 0x4 wakes nobody");
    CHECK_EQ(futex(&fword, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, 0x2), 1,
             "FUTEX_WAKE_BITSET 0x2 wakes the 0x2 waiter only");
    pthread_join(b, NULL);
    CHECK_EQ(atomic_load(&woken), 1, "0x2 waiter returned");
    CHECK_ERRNO(futex(&fword, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, 0), EINVAL);
    CHECK_EQ(futex(&fword, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, FUTEX_BITSET_MATCH_ANY), 1,
             "FUTEX_WAKE_BITSET MATCH_ANY wakes the 0x1 waiter");
    pthread_join(a, NULL);
    CHECK_EQ(atomic_load(&woken), 2, "both bitset waiters returned");
}

/* A thread exiting clears its CLONE_CHILD_CLEARTID word and wakes the joiner; detached
 * threads and exit from a non-main thread work. */
static void *exits_early(void *arg)
{
    (void)arg;
    pthread_exit((void *)(intptr_t)77);
}

static void test_exit_paths(void)
{
    pthread_t t;
    void *ret;
    CHECK_EQ(pthread_create(&t, NULL, exits_early, NULL), 0, "create a thread that calls pthread_exit");
    CHECK_EQ(pthread_join(t, &ret), 0, "join it");
    CHECK_EQ((intptr_t)ret, 77, "pthread_exit value");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    CHECK_EQ(pthread_create(&t, &attr, exits_early, NULL), 0, "create with a 64 KiB stack");
    CHECK_EQ(pthread_join(t, &ret), 0, "join small-stack thread");
    pthread_attr_destroy(&attr);
}

int main(void)
{
    test_create_join();
    test_ping_pong();
    test_futex();
    test_exit_paths();
    DONE();
}
