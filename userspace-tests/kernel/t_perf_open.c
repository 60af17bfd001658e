/* t_perf_open.c — perf_event_open(2) validation and the perf fd operations, as on Linux:
 * attr size rules (E2BIG with the kernel's size written back), pid/cpu/flags errors,
 * PERF_FLAG_FD_CLOEXEC, unknown types, the ID ioctl against read()'s PERF_FORMAT_ID,
 * ENABLE/DISABLE/RESET/PERIOD on a tracepoint counter, PERF_COUNT_SW_CPU_CLOCK counting and
 * sampling into the mmap ring (PERF_RECORD_SAMPLE with IP, TID, TIME). */
#include "perf_util.h"

#include <poll.h>

extern char __executable_start[], etext[];

static char big[8192] __attribute__((aligned(8)));

/* A disabled CPU_CLOCK counter of this task, in `buf`. */
static struct perf_event_attr *cpu_clock_attr(void *buf, size_t clear)
{
    memset(buf, 0, clear);
    struct perf_event_attr *a = buf;
    a->size = sizeof *a;
    a->type = PERF_TYPE_SOFTWARE;
    a->config = PERF_COUNT_SW_CPU_CLOCK;
    a->disabled = 1;
    return a;
}

static void test_attr_size(void)
{
    struct perf_event_attr *a = cpu_clock_attr(big, sizeof big);

    a->size = 4096 + 8;
    big[4096] = 1;
    CHECK_ERRNO(sys_perf_event_open(a, 0, -1, -1, 0), E2BIG);
    uint32_t ksize = a->size;
    CHECK(ksize >= PERF_ATTR_SIZE_VER0 && ksize % 8 == 0 && ksize <= 4096,
          "E2BIG wrote the kernel's attr size back (%u)", ksize);

    cpu_clock_attr(big, sizeof big);
    a->size = ksize + 8;
    big[ksize + 3] = 0x5a;
    CHECK_ERRNO(sys_perf_event_open(a, 0, -1, -1, 0), E2BIG);
    CHECK_EQ(a->size, ksize, "size written back after a non-zero tail");

    cpu_clock_attr(big, sizeof big);
    a->size = ksize + 8;
    int fd = (int)CHECK_SYS(sys_perf_event_open(a, 0, -1, -1, 0), "attr.size = %u + 8 with a zero tail", ksize);
    close(fd);

    cpu_clock_attr(big, sizeof big);
    a->size = 32;
    CHECK_ERRNO(sys_perf_event_open(a, 0, -1, -1, 0), E2BIG);
    CHECK_EQ(a->size, ksize, "size written back for a too small attr.size");

    cpu_clock_attr(big, sizeof big);
    a->size = 0;
    fd = (int)CHECK_SYS(sys_perf_event_open(a, 0, -1, -1, 0), "attr.size = 0 (PERF_ATTR_SIZE_VER0)");
    close(fd);
    cpu_clock_attr(big, sizeof big);
    a->size = PERF_ATTR_SIZE_VER1;
    fd = (int)CHECK_SYS(sys_perf_event_open(a, 0, -1, -1, 0), "attr.size = PERF_ATTR_SIZE_VER1 (72)");
    close(fd);
}

static void test_args(void)
{
    struct perf_event_attr attr;
    cpu_clock_attr(&attr, sizeof attr);

    CHECK_ERRNO(sys_perf_event_open(&attr, -1, -1, -1, 0), EINVAL);
    CHECK_ERRNO(sys_perf_event_open(&attr, 0, -1, -1, 1UL << 4), EINVAL);
    CHECK_ERRNO(sys_perf_event_open(&attr, 0, 0x7fff, -1, 0), EINVAL);
    CHECK_ERRNO(sys_perf_event_open(&attr, 0x3ffffff0, -1, -1, 0), ESRCH);
    CHECK_ERRNO(sys_perf_event_open(&attr, 0, -1, 0 /* stdin: not a perf fd */, 0), EBADF);
    CHECK_ERRNO(sys_perf_event_open(NULL, 0, -1, -1, 0), EFAULT);

    int fd = (int)CHECK_SYS(sys_perf_event_open(&attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC), "open with PERF_FLAG_FD_CLOEXEC");
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "PERF_FLAG_FD_CLOEXEC sets FD_CLOEXEC");
    close(fd);
    fd = (int)CHECK_SYS(sys_perf_event_open(&attr, 0, -1, -1, 0), "open without flags");
    CHECK(fcntl(fd, F_GETFD) == 0, "no PERF_FLAG_FD_CLOEXEC: FD_CLOEXEC clear");
    close(fd);

    struct perf_event_attr bad = attr;
    bad.type = 0x7fff0000;
    CHECK_ERRNO(sys_perf_event_open(&bad, 0, -1, -1, 0), ENOENT);
    bad = attr;
    bad.config = 1000; /* no such software event */
    CHECK_ERRNO(sys_perf_event_open(&bad, 0, -1, -1, 0), ENOENT);
    bad = attr;
    bad.type = PERF_TYPE_TRACEPOINT;
    bad.config = 0x7fffffff;
    /* Linux perf_trace_init: an id no event has is EINVAL (the tracepoint PMU claimed the type). */
    CHECK_ERRNO(sys_perf_event_open(&bad, 0, -1, -1, 0), EINVAL);
    bad = attr;
    bad.sample_period = 1ULL << 63;
    CHECK_ERRNO(sys_perf_event_open(&bad, 0, -1, -1, 0), EINVAL);
}

static void test_tracepoint_counter(void)
{
    int id = tp_id("syscalls", "sys_enter_getpid");
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = (uint64_t)id;
    attr.disabled = 1;
    attr.read_format = PERF_FORMAT_ID;
    int fd = (int)CHECK_SYS(sys_perf_event_open(&attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC),
                            "counter on syscalls:sys_enter_getpid (pid 0, cpu -1)");
    uint64_t id_ioctl = 0;
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ID, &id_ioctl), "PERF_EVENT_IOC_ID");
    uint64_t rv[2] = {~0ULL, ~0ULL};
    CHECK_EQ(read(fd, rv, sizeof rv), 16, "read() with PERF_FORMAT_ID gives value + id");
    CHECK_EQ(rv[1], id_ioctl, "read()'s id equals PERF_EVENT_IOC_ID's");
    CHECK_EQ(rv[0], 0, "a disabled counter reads 0");
    uint64_t small;
    CHECK_ERRNO(read(fd, &small, sizeof small), ENOSPC);

    long pid = raw_getpid();
    getpid_n(50, pid);
    CHECK_EQ(read(fd, rv, sizeof rv), 16, "read()");
    CHECK_EQ(rv[0], 0, "disabled: 50 getpid() not counted");

    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "PERF_EVENT_IOC_ENABLE");
    getpid_n(100, pid);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_DISABLE, 0), "PERF_EVENT_IOC_DISABLE");
    CHECK_EQ(read(fd, rv, sizeof rv), 16, "read()");
    CHECK_EQ(rv[0], 100, "enabled: 100 getpid() counted");
    getpid_n(30, pid);
    CHECK_EQ(read(fd, rv, sizeof rv), 16, "read()");
    CHECK_EQ(rv[0], 100, "disabled again: nothing more counted");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_RESET, 0), "PERF_EVENT_IOC_RESET");
    CHECK_EQ(read(fd, rv, sizeof rv), 16, "read()");
    CHECK_EQ(rv[0], 0, "RESET zeroes the count");
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "PERF_EVENT_IOC_ENABLE again");
    getpid_n(7, pid);
    CHECK_EQ(read(fd, rv, sizeof rv), 16, "read()");
    CHECK_EQ(rv[0], 7, "counting again after RESET + ENABLE");

    uint64_t period = 10;
    CHECK_ERRNO(ioctl(fd, PERF_EVENT_IOC_PERIOD, &period), EINVAL); /* not a sampling event */
    CHECK_ERRNO(ioctl(fd, _IO('$', 0x7f), 0), ENOTTY);
    close(fd);
}

static void busy_ms(int ms)
{
    int64_t end = now_ns() + (int64_t)ms * 1000000;
    volatile uint64_t x = 0;
    while (now_ns() < end)
        for (int i = 0; i < 10000; i++)
            x += (uint64_t)i;
}

static void test_cpu_clock_count(void)
{
    struct perf_event_attr attr;
    cpu_clock_attr(&attr, sizeof attr);
    int fd = (int)CHECK_SYS(sys_perf_event_open(&attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC), "CPU_CLOCK counter (pid 0)");
    uint64_t v = ~0ULL;
    CHECK_EQ(read(fd, &v, 8), 8, "read()");
    CHECK_EQ(v, 0, "a disabled CPU_CLOCK counter reads 0");
    int64_t t0 = now_ns();
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    busy_ms(60);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_DISABLE, 0), "DISABLE");
    int64_t wall = now_ns() - t0;
    CHECK_EQ(read(fd, &v, 8), 8, "read()");
    CHECK(v >= 10000000 && (int64_t)v <= wall + 20000000,
          "CPU_CLOCK counted %llu ns over a %lld ns busy loop", (unsigned long long)v, (long long)wall);
    close(fd);
}

struct sample {
    struct perf_event_header h;
    uint64_t ip;
    uint32_t pid, tid;
    uint64_t time;
};

static void test_cpu_clock_sampling(void)
{
    struct perf_event_attr attr;
    cpu_clock_attr(&attr, sizeof attr);
    attr.sample_period = 2000000; /* 2 ms */
    attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
    attr.wakeup_events = 1;
    int fd = (int)CHECK_SYS(sys_perf_event_open(&attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC), "CPU_CLOCK sampling (2 ms)");

    const long page = sysconf(_SC_PAGESIZE);
    const int npages = 8;
    void *bad = mmap(NULL, (size_t)page * 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(bad == MAP_FAILED && errno == EINVAL, "mmap of 1 + 3 pages (not 1 + 2^n) fails with EINVAL");
    size_t len = (size_t)page * (1 + npages);
    uint8_t *ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(ring != MAP_FAILED, "mmap of 1 + %d pages", npages);
    struct perf_event_mmap_page *meta = (void *)ring;
    CHECK_EQ(meta->data_offset, page, "perf_event_mmap_page.data_offset");
    CHECK_EQ(meta->data_size, (uint64_t)page * npages, "perf_event_mmap_page.data_size");
    CHECK_EQ(__atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE), 0, "data_head starts at 0");

    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
    busy_ms(200);
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_DISABLE, 0), "DISABLE");

    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 0), 1, "poll: the ring is readable");
    CHECK(p.revents & POLLIN, "POLLIN after samples (revents %#x)", p.revents);

    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    uint64_t size = meta->data_size;
    uint8_t *data = ring + meta->data_offset;
    long pid = raw_getpid(), tid = raw_gettid();
    int samples = 0, in_text = 0, others = 0;
    uint64_t last_time = 0;
    while (tail < head) {
        struct sample s;
        struct perf_event_header h;
        for (size_t i = 0; i < sizeof h; i++)
            ((uint8_t *)&h)[i] = data[(tail + i) % size];
        if (!(h.size >= sizeof h && h.size % 8 == 0 && tail + h.size <= head))
            CHECK(0, "record header at %llu (type %u size %u) within data_head %llu", (unsigned long long)tail, h.type,
                  h.size, (unsigned long long)head);
        if (h.type == PERF_RECORD_SAMPLE) {
            if (h.size != sizeof s)
                CHECK_EQ(h.size, sizeof s, "PERF_RECORD_SAMPLE size with IP|TID|TIME");
            for (size_t i = 0; i < sizeof s; i++)
                ((uint8_t *)&s)[i] = data[(tail + i) % size];
            if (s.pid != (uint32_t)pid || s.tid != (uint32_t)tid)
                CHECK(0, "sample %d: pid/tid %u/%u, expected %ld/%ld", samples, s.pid, s.tid, pid, tid);
            if (s.time < last_time)
                CHECK(0, "sample %d: time %llu goes backwards (previous %llu)", samples, (unsigned long long)s.time,
                      (unsigned long long)last_time);
            last_time = s.time;
            if ((s.h.misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_USER &&
                s.ip >= (uint64_t)(uintptr_t)__executable_start && s.ip < (uint64_t)(uintptr_t)etext)
                in_text++;
            samples++;
        } else {
            others++;
        }
        tail += h.size;
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
    printf("# %d samples, %d in this program's text, %d other records\n", samples, in_text, others);
    CHECK(samples >= 10, "200 ms at a 2 ms period gave >= 10 PERF_RECORD_SAMPLEs (%d)", samples);
    CHECK(in_text >= 1, "user-mode sample IPs lie in this program's text (%d of %d)", in_text, samples);
    CHECK(last_time > 0, "samples carry a time");

    uint64_t period = 4000000;
    CHECK_SYS(ioctl(fd, PERF_EVENT_IOC_PERIOD, &period), "PERF_EVENT_IOC_PERIOD on a sampling event");
    period = 0;
    CHECK_ERRNO(ioctl(fd, PERF_EVENT_IOC_PERIOD, &period), EINVAL);
    munmap(ring, len);
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    guard(60, "perf_event_open attr size");
    test_attr_size();
    guard(60, "perf_event_open arguments");
    test_args();
    guard(60, "tracepoint counter");
    test_tracepoint_counter();
    guard(60, "CPU_CLOCK counting");
    test_cpu_clock_count();
    guard(60, "CPU_CLOCK sampling");
    test_cpu_clock_sampling();
    DONE();
}
