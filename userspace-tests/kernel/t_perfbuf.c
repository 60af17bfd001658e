/* t_perfbuf.c — bpf_perf_event_output into a BPF_MAP_TYPE_PERF_EVENT_ARRAY, read from user
 * space the way Aya's PerfEventArray / libbpf's perf_buffer do: one PERF_COUNT_SW_BPF_OUTPUT
 * event per CPU (sample_type RAW, sample_period 1, wakeup_events 1), each mmap'd as 1 + 2^n
 * pages and stored in the map; a tracepoint program on syscalls/sys_enter_close sends
 * {seq, pid_tgid} for close(BASE + seq).
 *
 * Checks: records arrive in order with Linux's layout (PERF_RECORD_SAMPLE, u32 raw size padded
 * so the record is 8-byte aligned), the head/tail protocol, poll readiness, an epoll_wait that
 * blocks until another process produces a record, and PERF_RECORD_LOST (with the event's id
 * and the exact number lost) after the ring overflowed. */
#include "perf_util.h"

#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#define BASE 5000000
#define RANGE 10000
#define MAX_CPUS 64
#define DATA_PAGES 2

struct ring {
    int fd;
    uint64_t id;
    uint8_t *base;
    struct perf_event_mmap_page *meta;
    uint8_t *data;
    uint64_t size;
};

static struct ring rings[MAX_CPUS];
static int ncpu;
static long page;

struct rec {
    uint32_t type, size;
    uint64_t seq, pid_tgid; /* SAMPLE */
    uint32_t raw_size;
    uint64_t lost_id, lost; /* LOST */
};

static void ring_copy(struct ring *r, uint64_t pos, void *dst, size_t len)
{
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)dst)[i] = r->data[(pos + i) % r->size];
}

/* Reads every record of every ring (head/tail protocol), at most `max`; returns the number. */
static int drain(struct rec *out, int max)
{
    int n = 0;
    for (int c = 0; c < ncpu; c++) {
        struct ring *r = &rings[c];
        uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
        uint64_t tail = r->meta->data_tail;
        while (tail < head) {
            struct perf_event_header h;
            ring_copy(r, tail, &h, sizeof h);
            if (h.size < sizeof h || h.size % 8 || tail + h.size > head)
                CHECK(0, "cpu %d: record at %llu: type %u size %u, head %llu", c, (unsigned long long)tail, h.type,
                      h.size, (unsigned long long)head);
            if (n >= max)
                CHECK(0, "at most %d records", max);
            struct rec *x = &out[n++];
            memset(x, 0, sizeof *x);
            x->type = h.type;
            x->size = h.size;
            if (h.type == PERF_RECORD_SAMPLE) {
                ring_copy(r, tail + 8, &x->raw_size, 4);
                if (h.size < 8 + 4 + 16)
                    CHECK(0, "cpu %d: PERF_RECORD_SAMPLE of %u bytes holds 16 bytes of raw data", c, h.size);
                ring_copy(r, tail + 12, &x->seq, 8);
                ring_copy(r, tail + 20, &x->pid_tgid, 8);
            } else if (h.type == PERF_RECORD_LOST) {
                ring_copy(r, tail + 8, &x->lost_id, 8);
                ring_copy(r, tail + 16, &x->lost, 8);
                if (x->lost_id != r->id)
                    CHECK_EQ(x->lost_id, r->id, "cpu %d: PERF_RECORD_LOST carries the event's id", c);
            }
            tail += h.size;
        }
        __atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
    }
    return n;
}

static int load_output_prog(int perf_map, int err_map)
{
    struct basm a;
    basm_init(&a);
    emit(&a, BPF_MOV64_REG(6, 1));
    emit(&a, BPF_LDX_MEM(BPF_DW, 7, 6, 16)); /* fd */
    emit_goto_out(&a, U_JMP_IMM(BPF_JLT, 7, BASE, 0));
    emit_goto_out(&a, U_JMP_IMM(BPF_JGE, 7, BASE + RANGE, 0));
    emit(&a, BPF_ADD64_IMM(7, -BASE));
    emit(&a, BPF_STX_MEM(BPF_DW, 10, 7, -16));
    emit(&a, BPF_CALL_HELPER(BPF_FUNC_get_current_pid_tgid));
    emit(&a, BPF_STX_MEM(BPF_DW, 10, 0, -8));
    emit(&a, BPF_MOV64_REG(1, 6));
    emit_ld_map(&a, 2, perf_map);
    emit_ld_imm64(&a, 3, BPF_F_CURRENT_CPU);
    emit(&a, BPF_MOV64_REG(4, 10));
    emit(&a, BPF_ADD64_IMM(4, -16));
    emit(&a, BPF_MOV64_IMM(5, 16));
    emit(&a, BPF_CALL_HELPER(BPF_FUNC_perf_event_output));
    emit_goto_out(&a, U_JMP_IMM(BPF_JEQ, 0, 0, 0));
    /* errors: err_map[0] = {count, last result} */
    emit(&a, BPF_MOV64_REG(8, 0));
    emit_value_ptr(&a, 9, err_map, 0);
    emit_count(&a, 9, 0);
    emit(&a, BPF_STX_MEM(BPF_DW, 9, 8, 8));
    basm_finish(&a, 0);
    return prog_load(BPF_PROG_TYPE_TRACEPOINT, &a, "perfbuf_out");
}

static void closes(int from, int n)
{
    for (int i = 0; i < n; i++)
        close(BASE + from + i);
}

static void check_no_errors(int err_map, const char *when)
{
    uint64_t errs = array_u64(err_map, 0, 0);
    if (errs)
        CHECK(0, "%s: bpf_perf_event_output failed %llu times (last result %lld)", when, (unsigned long long)errs,
              (long long)array_u64(err_map, 0, 8));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    guard(30, "setup");
    page = sysconf(_SC_PAGESIZE);
    ncpu = possible_cpus();
    if (ncpu > MAX_CPUS)
        ncpu = MAX_CPUS;
    long tgid = raw_getpid(), tid = raw_gettid();
    uint64_t my_pid_tgid = ((uint64_t)tgid << 32) | (uint64_t)tid;

    /* All records on one CPU's ring, in order (best effort: one CPU in the demo kernel). */
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        printf("# sched_setaffinity(cpu 0) failed (errno %d): records may spread over CPUs\n", errno);

    int perf_map = map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, (uint32_t)ncpu, "perfbuf_map");
    int err_map = map_create(BPF_MAP_TYPE_ARRAY, 4, 16, 1, "perfbuf_err");
    int prog = load_output_prog(perf_map, err_map);

    for (int c = 0; c < ncpu; c++) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_BPF_OUTPUT;
        attr.sample_type = PERF_SAMPLE_RAW;
        attr.sample_period = 1;
        attr.wakeup_events = 1;
        struct ring *r = &rings[c];
        r->fd = (int)CHECK_SYS(sys_perf_event_open(&attr, -1, c, -1, PERF_FLAG_FD_CLOEXEC),
                               "perf_event_open(PERF_COUNT_SW_BPF_OUTPUT, cpu %d)", c);
        CHECK_SYS(ioctl(r->fd, PERF_EVENT_IOC_ID, &r->id), "PERF_EVENT_IOC_ID");
        size_t len = (size_t)page * (1 + DATA_PAGES);
        r->base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
        CHECK(r->base != MAP_FAILED, "mmap 1 + %d pages of cpu %d's event", DATA_PAGES, c);
        r->meta = (void *)r->base;
        CHECK_EQ(r->meta->data_offset, page, "data_offset");
        CHECK_EQ(r->meta->data_size, (uint64_t)page * DATA_PAGES, "data_size");
        r->data = r->base + r->meta->data_offset;
        r->size = r->meta->data_size;
        uint32_t key = (uint32_t)c, val = (uint32_t)r->fd;
        CHECK_SYS(map_update(perf_map, &key, &val, BPF_ANY), "perf_event_array[%d] = event fd", c);
        CHECK_SYS(ioctl(r->fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE cpu %d", c);
    }
    int tp = (int)CHECK_SYS(tracepoint_open(tp_id("syscalls", "sys_enter_close"), -1, 0, 1), "sys_enter_close event");
    CHECK_SYS(ioctl(tp, PERF_EVENT_IOC_SET_BPF, prog), "SET_BPF");
    CHECK_SYS(ioctl(tp, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");

    struct pollfd pfd[MAX_CPUS];
    for (int c = 0; c < ncpu; c++)
        pfd[c] = (struct pollfd){.fd = rings[c].fd, .events = POLLIN};
    CHECK_EQ(poll(pfd, (nfds_t)ncpu, 0), 0, "poll before any output: nothing ready");

    /* 1. 100 records, in order. */
    guard(60, "records in order");
    static struct rec recs[2048];
    closes(0, 100);
    check_no_errors(err_map, "100 records");
    CHECK(poll(pfd, (nfds_t)ncpu, 1000) >= 1, "poll: a ring is readable after output");
    int n = drain(recs, 2048);
    CHECK_EQ(n, 100, "100 records read");
    for (int i = 0; i < n; i++) {
        if (recs[i].type != PERF_RECORD_SAMPLE || recs[i].size != 32 || recs[i].raw_size != 20 ||
            recs[i].seq != (uint64_t)i || recs[i].pid_tgid != my_pid_tgid)
            CHECK(0,
                  "record %d: type %u (SAMPLE %d), size %u (32), raw size %u (20: 16 + padding), seq %llu (%d), "
                  "pid_tgid %#llx (%#llx)",
                  i, recs[i].type, PERF_RECORD_SAMPLE, recs[i].size, recs[i].raw_size, (unsigned long long)recs[i].seq,
                  i, (unsigned long long)recs[i].pid_tgid, (unsigned long long)my_pid_tgid);
    }
    CHECK(1, "PERF_RECORD_SAMPLEs in order, raw size 20, {seq, pid_tgid} intact");
    CHECK_EQ(drain(recs, 2048), 0, "the rings are empty after data_tail = data_head");

    /* 2. a blocking epoll_wait woken by another process's record. */
    guard(60, "epoll wake-up");
    int ep = (int)CHECK_SYS(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
    for (int c = 0; c < ncpu; c++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)c};
        CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, rings[c].fd, &ev), "EPOLL_CTL_ADD cpu %d", c);
    }
    struct epoll_event evs[MAX_CPUS];
    CHECK_EQ(epoll_wait(ep, evs, MAX_CPUS, 0), 0, "epoll_wait: nothing ready yet");
    pid_t child = fork();
    if (child == 0) {
        sleep_ms(300);
        close(BASE + 1000);
        _exit(0);
    }
    CHECK(child > 0, "fork");
    int64_t t0 = now_ns();
    int ready = epoll_wait(ep, evs, MAX_CPUS, 10000);
    int64_t waited = now_ns() - t0;
    CHECK(ready >= 1 && (evs[0].events & EPOLLIN), "epoll_wait woke with EPOLLIN (%d ready)", ready);
    CHECK(waited >= 100000000LL, "epoll_wait blocked until the child's record (%lld ms)", (long long)(waited / 1000000));
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child, "waitpid");
    n = drain(recs, 2048);
    CHECK(n == 1 && recs[0].type == PERF_RECORD_SAMPLE && recs[0].seq == 1000 &&
              recs[0].pid_tgid >> 32 == (uint64_t)child,
          "the child's record (n %d, seq %llu, pid %llu)", n, (unsigned long long)recs[0].seq,
          (unsigned long long)(recs[0].pid_tgid >> 32));
    close(ep);

    /* 3. overflow: PERF_RECORD_LOST comes with the next record that fits. */
    guard(60, "PERF_RECORD_LOST");
    const int total = 600;
    check_no_errors(err_map, "before the overflow");
    closes(2000, total);
    n = drain(recs, 2048);
    int samples = 0;
    uint64_t lost = 0;
    for (int i = 0; i < n; i++) {
        if (recs[i].type == PERF_RECORD_SAMPLE) {
            if (recs[i].seq != (uint64_t)(2000 + samples))
                CHECK_EQ(recs[i].seq, 2000 + samples, "overflow: records in order up to the full ring");
            samples++;
        } else if (recs[i].type == PERF_RECORD_LOST) {
            lost += recs[i].lost;
        }
    }
    printf("# %d of %d records fit in %d data pages\n", samples, total, DATA_PAGES);
    CHECK(samples >= 1 && samples < total, "the ring filled up (%d of %d records fit)", samples, total);
    closes(3000, 1);
    n = drain(recs, 2048);
    int seen3000 = 0;
    for (int i = 0; i < n; i++) {
        if (recs[i].type == PERF_RECORD_LOST)
            lost += recs[i].lost;
        else if (recs[i].type == PERF_RECORD_SAMPLE && recs[i].seq == 3000)
            seen3000 = 1;
    }
    CHECK(n >= 1 && recs[0].type == PERF_RECORD_LOST, "after reading, the next output starts with PERF_RECORD_LOST");
    CHECK_EQ(lost, (uint64_t)(total - samples), "PERF_RECORD_LOST counts exactly the records that did not fit");
    CHECK(seen3000, "the record after the loss arrives");
    CHECK_EQ(array_u64(err_map, 0, 0), (uint64_t)(total - samples), "bpf_perf_event_output failed once per lost record");
    CHECK_EQ((int64_t)array_u64(err_map, 0, 8), -ENOSPC, "... with -ENOSPC");

    close(tp);
    for (int c = 0; c < ncpu; c++) {
        munmap(rings[c].base, (size_t)page * (1 + DATA_PAGES));
        close(rings[c].fd);
    }
    DONE();
}
