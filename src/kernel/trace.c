/* SPDX-License-Identifier: MIT */
/* perf_event_open on the connect() tracepoints: one ring per CPU, events in time order. */
#include "portex/kernel/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Only this mount point is read. Not /sys/kernel/debug/tracing: touching it makes the
 * kernel mount tracefs there on the host (a debugfs automount). */
#define TRACEFS "/sys/kernel/tracing"

#define RING_PAGES_MAX 256 /* per CPU: 1 MB; 0 events lost in the spike under load */
#define RING_PAGES_MIN 8
#define OPEN_SLOTS     16384 /* threads inside connect() at once, by tid */
#define OPEN_PROBES    8     /* slots a thread may take from its hash on */
#define HOLD_BACK_NS   1000000ull

/* The perf events of one CPU: the first owns the ring, the others write into it. */
enum ev { EV_EXIT99, EV_ENTER, EV_EXIT, EV_COUNT };

static const char *const ev_tracepoint[EV_COUNT] = {
    [EV_EXIT99] = "syscalls/sys_exit_connect",
    [EV_ENTER] = "syscalls/sys_enter_connect",
    [EV_EXIT] = "syscalls/sys_exit_connect",
};

/* EADDRNOTAVAIL is 99 on Linux; the filter runs in the kernel before any sample is made. */
static const char *const ev_filter[EV_COUNT] = {[EV_EXIT99] = "ret == -99"};

struct ring {
    void *base;        /* the metadata page, then the data */
    size_t data_bytes; /* the data's size, a power of two */
    int fd[EV_COUNT];
    uint64_t id[EV_COUNT]; /* PERF_EVENT_IOC_ID: tells the events of one ring apart */
};

#define REC_COMM (-1)
#define REC_FORK (-3)

/* A record read from a ring, waiting to be handed on in time order. */
struct rec {
    uint64_t time_ns;
    uint64_t seq; /* read order: keeps equal times in order */
    uint32_t pid, tid, ppid;
    int kind; /* enum ev, or REC_COMM, REC_FORK */
    char comm[16];
};

/* A thread inside connect(): when it entered. */
struct open_call {
    uint32_t tid;
    uint64_t since_ns;
};

struct px_trace {
    struct ring *rings;
    size_t nrings;
    size_t ring_pages; /* data pages of the next ring: halved while the lock limit refuses */
    size_t page;
    struct rec *pending;
    size_t npending, cap;
    uint64_t seq;
    struct open_call open[OPEN_SLOTS];
    uint64_t lost;
};

/* ---- tracepoint ids -------------------------------------------------------- */

static long read_id(const char *name)
{
    char path[160], buf[32];
    snprintf(path, sizeof(path), TRACEFS "/events/%s/id", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -EIO;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

/* What the helper writes back. */
struct helper_out {
    int failed_step; /* 0 none, 1 unshare or making mounts private, 2 mounting tracefs */
    int err;         /* its errno */
    long exit_id, enter_id;
};

/*
 * In the forked helper: a mount namespace of its own (the mounts made private
 * first, so nothing propagates to the host), tracefs mounted read-only in it,
 * the two ids read. The namespace and the mount end with the helper.
 */
static void helper_main(int out_fd)
{
    struct helper_out out = {0, 0, 0, 0};
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        out.failed_step = 1;
        out.err = errno;
    } else if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
                     NULL) < 0) {
        out.failed_step = 2;
        out.err = errno;
    } else {
        out.exit_id = read_id(ev_tracepoint[EV_EXIT]);
        out.enter_id = read_id(ev_tracepoint[EV_ENTER]);
    }
    ssize_t w = write(out_fd, &out, sizeof(out));
    _exit(w == (ssize_t)sizeof(out) ? 0 : 1);
}

/* The ids through the helper; its namespace and mount go when it exits. 0 or -1 with why. */
static int ids_from_helper(long *exit_id, long *enter_id, char *why, size_t whylen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "cannot start the tracefs helper: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        helper_main(p[1]);
    }
    close(p[1]);
    struct helper_out out;
    ssize_t got = pid < 0 ? -1 : read(p[0], &out, sizeof(out));
    close(p[0]);
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (got != (ssize_t)sizeof(out)) {
        snprintf(why, whylen, "the tracefs helper failed");
        return -1;
    }
    if (out.failed_step != 0) {
        snprintf(why, whylen,
                 "tracefs is not mounted and cannot be mounted in a mount namespace of "
                 "portex's own (%s: %s): needs root or CAP_SYS_ADMIN",
                 out.failed_step == 1 ? "unshare" : "mount tracefs", strerror(out.err));
        return -1;
    }
    *exit_id = out.exit_id;
    *enter_id = out.enter_id;
    return 0;
}

/* Both ids: from the host's tracefs when it is mounted and readable, else the helper's. */
static int tracepoint_ids(long *exit_id, long *enter_id, char *why, size_t whylen)
{
    *exit_id = read_id(ev_tracepoint[EV_EXIT]);
    *enter_id = read_id(ev_tracepoint[EV_ENTER]);
    if ((*exit_id <= 0 || *enter_id <= 0) && ids_from_helper(exit_id, enter_id, why, whylen) < 0)
        return -1;
    if (*exit_id <= 0 || *enter_id <= 0) {
        snprintf(why, whylen,
                 "tracepoints syscalls:sys_enter_connect/sys_exit_connect not found in tracefs "
                 "(%s): a kernel without CONFIG_FTRACE_SYSCALLS",
                 strerror((int)-(*exit_id <= 0 ? *exit_id : *enter_id)));
        return -1;
    }
    return 0;
}

/* ---- perf events ---------------------------------------------------------- */

static int perf_open(struct perf_event_attr *a, int cpu)
{
    return (int)syscall(SYS_perf_event_open, a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* What a refused perf_event_open means, in words. */
static void perf_refused(int err, char *why, size_t whylen)
{
    char paranoid[16] = "?";
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
    if (f != NULL) {
        if (fgets(paranoid, sizeof(paranoid), f) == NULL)
            snprintf(paranoid, sizeof(paranoid), "?");
        paranoid[strcspn(paranoid, "\n")] = '\0';
        fclose(f);
    }
    if (err == EACCES || err == EPERM)
        snprintf(why, whylen,
                 "perf_event_open: %s: needs root or CAP_PERFMON (kernel.perf_event_paranoid "
                 "is %s)",
                 strerror(err), paranoid);
    else
        snprintf(why, whylen, "perf_event_open on the connect() tracepoints: %s", strerror(err));
}

/* The attributes of one event; the ring's owner also reports names and wakes per failure. */
static void event_attr(struct perf_event_attr *a, long id, int owner, int wake_each)
{
    memset(a, 0, sizeof(*a));
    a->size = sizeof(*a);
    a->type = PERF_TYPE_TRACEPOINT;
    a->config = (uint64_t)id;
    a->sample_period = 1;
    a->sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
    a->use_clockid = 1;
    a->clockid = CLOCK_MONOTONIC;
    a->disabled = 1;
    if (owner) {
        a->comm = 1;
        a->comm_exec = 1;
        a->task = 1; /* FORK records: the names children inherit */
        /* COMM records carry their time: rings are read one CPU after another, so
         * only the time tells which of two names came last. */
        a->sample_id_all = 1;
    }
    /* A failure wakes the reader at once, so that a short-lived process's name can
     * still be read; the rest waits for half a ring. */
    a->wakeup_events = wake_each ? 1 : 0;
}

/* Maps the owner's ring, as large as the locked-memory limit allows. 0 or -1. */
static int map_ring(struct px_trace *t, struct ring *r)
{
    for (; t->ring_pages >= RING_PAGES_MIN; t->ring_pages /= 2) {
        void *m = mmap(NULL, (t->ring_pages + 1) * t->page, PROT_READ | PROT_WRITE, MAP_SHARED,
                       r->fd[EV_EXIT99], 0);
        if (m != MAP_FAILED) {
            r->base = m;
            r->data_bytes = t->ring_pages * t->page;
            return 0;
        }
        if (errno != EPERM && errno != ENOMEM)
            return -1;
    }
    return -1;
}

/* The three events of one CPU into r. 1 done, 0 the CPU is offline, -1 with why. */
static int open_cpu(struct px_trace *t, struct ring *r, int cpu, const long *id, char *why,
                    size_t whylen)
{
    for (int e = 0; e < EV_COUNT; e++) {
        struct perf_event_attr a;
        event_attr(&a, id[e], e == EV_EXIT99, e == EV_EXIT99);
        r->fd[e] = perf_open(&a, cpu);
        if (r->fd[e] < 0 && e == EV_EXIT99 && (errno == ENODEV || errno == ENXIO))
            return 0;
        if (r->fd[e] < 0) {
            perf_refused(errno, why, whylen);
            return -1;
        }
        if (ev_filter[e] && ioctl(r->fd[e], PERF_EVENT_IOC_SET_FILTER, ev_filter[e]) < 0) {
            snprintf(why, whylen, "the filter '%s' was refused: %s", ev_filter[e], strerror(errno));
            return -1;
        }
        if (ioctl(r->fd[e], PERF_EVENT_IOC_ID, &r->id[e]) < 0 ||
            (e == EV_EXIT99 ? map_ring(t, r)
                            : ioctl(r->fd[e], PERF_EVENT_IOC_SET_OUTPUT, r->fd[EV_EXIT99])) < 0) {
            snprintf(why, whylen, "cannot set up the ring of CPU %d: %s", cpu, strerror(errno));
            return -1;
        }
    }
    return 1;
}

struct px_trace *px_trace_open(char *why, size_t whylen)
{
    long exit_id, enter_id;
    if (tracepoint_ids(&exit_id, &enter_id, why, whylen) < 0)
        return NULL;
    const long id[EV_COUNT] = {[EV_EXIT99] = exit_id, [EV_ENTER] = enter_id, [EV_EXIT] = exit_id};
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    struct px_trace *t = calloc(1, sizeof(*t));
    struct ring *rings = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*rings));
    if (t == NULL || rings == NULL || ncpu <= 0) {
        snprintf(why, whylen, "out of memory");
        free(t);
        free(rings);
        return NULL;
    }
    t->rings = rings;
    t->page = (size_t)sysconf(_SC_PAGESIZE);
    t->ring_pages = RING_PAGES_MAX;
    for (long cpu = 0; cpu < ncpu; cpu++) {
        struct ring *r = &t->rings[t->nrings];
        memset(r->fd, -1, sizeof(r->fd));
        int rc = open_cpu(t, r, (int)cpu, id, why, whylen);
        t->nrings += rc != 0; /* a failed ring is counted so that close() closes its fds */
        if (rc < 0) {
            px_trace_close(t);
            return NULL;
        }
        if (rc == 0)
            for (int e = 0; e < EV_COUNT; e++)
                if (r->fd[e] >= 0)
                    close(r->fd[e]);
    }
    for (size_t i = 0; i < t->nrings; i++)
        for (int e = 0; e < EV_COUNT; e++)
            ioctl(t->rings[i].fd[e], PERF_EVENT_IOC_ENABLE, 0);
    return t;
}

void px_trace_close(struct px_trace *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrings; i++) {
        struct ring *r = &t->rings[i];
        if (r->base)
            munmap(r->base, r->data_bytes + t->page);
        for (int e = 0; e < EV_COUNT; e++)
            if (r->fd[e] >= 0)
                close(r->fd[e]);
    }
    free(t->rings);
    free(t->pending);
    free(t);
}

size_t px_trace_fds(const struct px_trace *t, int *fds, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nrings && n < max; i++)
        fds[n++] = t->rings[i].fd[EV_EXIT99];
    return n;
}

uint64_t px_trace_lost(const struct px_trace *t)
{
    return t->lost;
}

/* ---- reading the rings ---------------------------------------------------- */

static struct rec *push_rec(struct px_trace *t)
{
    if (t->npending == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        struct rec *v = realloc(t->pending, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        t->pending = v;
        t->cap = cap;
    }
    struct rec *r = &t->pending[t->npending++];
    memset(r, 0, sizeof(*r));
    r->seq = t->seq++;
    return r;
}

/* One record (header and body, already copied out of the ring) into pending. */
static void take_record(struct px_trace *t, const struct ring *ring, const unsigned char *rec,
                        size_t size)
{
    struct perf_event_header h;
    memcpy(&h, rec, sizeof(h));
    const unsigned char *p = rec + sizeof(h);
    if (h.type == PERF_RECORD_LOST && size >= sizeof(h) + 16) {
        uint64_t lost;
        memcpy(&lost, p + 8, sizeof(lost));
        t->lost += lost;
        return;
    }
    struct rec *r = NULL;
    if (h.type == PERF_RECORD_SAMPLE && size >= sizeof(h) + 24) {
        uint64_t id;
        memcpy(&id, p, sizeof(id));
        int kind = -2;
        for (int e = 0; e < EV_COUNT; e++)
            if (ring->id[e] == id)
                kind = e;
        if (kind < 0 || (r = push_rec(t)) == NULL)
            return;
        r->kind = kind;
        memcpy(&r->pid, p + 8, 4);
        memcpy(&r->tid, p + 12, 4);
        memcpy(&r->time_ns, p + 16, 8);
    } else if (h.type == PERF_RECORD_COMM && size >= sizeof(h) + 8 + 24) {
        /* pid, tid, the name (NUL padded to 8 bytes), then pid, tid, time, id. */
        if ((r = push_rec(t)) == NULL)
            return;
        r->kind = REC_COMM;
        memcpy(&r->pid, p, 4);
        memcpy(&r->tid, p + 4, 4);
        size_t len = size - sizeof(h) - 8 - 24;
        memcpy(r->comm, p + 8, len < sizeof(r->comm) - 1 ? len : sizeof(r->comm) - 1);
        memcpy(&r->time_ns, rec + size - 16, 8);
    } else if (h.type == PERF_RECORD_FORK && size >= sizeof(h) + 24) {
        /* pid, ppid, tid, ptid, time: a thread has its parent's pid, skipped. */
        uint32_t ids[4];
        memcpy(ids, p, sizeof(ids));
        if (ids[0] == ids[1] || ids[0] != ids[2] || (r = push_rec(t)) == NULL)
            return;
        r->kind = REC_FORK;
        r->pid = r->tid = ids[0];
        r->ppid = ids[1];
        memcpy(&r->time_ns, p + 16, 8);
    }
}

/* Everything the kernel wrote into one ring since the last read. */
static void read_ring(struct px_trace *t, struct ring *ring)
{
    struct perf_event_mmap_page *meta = ring->base;
    const unsigned char *data = (const unsigned char *)ring->base + t->page;
    size_t mask = ring->data_bytes - 1;
    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    _Alignas(8) unsigned char rec[65536];
    while (tail < head) {
        struct perf_event_header h;
        for (size_t i = 0; i < sizeof(h); i++)
            ((unsigned char *)&h)[i] = data[(tail + i) & mask];
        if (h.size < sizeof(h))
            break;
        /* A record may wrap around the end of the ring: copy it out whole. */
        size_t off = tail & mask, first = ring->data_bytes - off;
        memcpy(rec, data + off, first < h.size ? first : h.size);
        if (first < h.size)
            memcpy(rec + first, data, h.size - first);
        take_record(t, ring, rec, h.size);
        tail += h.size;
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

static int cmp_rec(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    if (a->time_ns != b->time_ns)
        return a->time_ns < b->time_ns ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * The slot of a thread inside connect(): its own among OPEN_PROBES slots from its
 * hash, else a free one, else the oldest entry (a thread that never came back).
 * With want_free 0 only its own; NULL when it has none.
 */
static struct open_call *open_slot(struct px_trace *t, uint32_t tid, int want_free)
{
    size_t j = (tid * 2654435761u) % OPEN_SLOTS;
    struct open_call *free_slot = NULL, *oldest = &t->open[j];
    for (size_t k = 0; k < OPEN_PROBES; k++) {
        struct open_call *o = &t->open[(j + k) % OPEN_SLOTS];
        if (o->since_ns != 0 && o->tid == tid)
            return o;
        if (o->since_ns == 0 && free_slot == NULL)
            free_slot = o;
        else if (o->since_ns < oldest->since_ns)
            oldest = o;
    }
    return !want_free ? NULL : free_slot ? free_slot : oldest;
}

/* One record in time order: names and failures as they are, enter and exit paired. */
static int hand_on(struct px_trace *t, const struct rec *r, px_trace_cb cb, void *arg)
{
    struct px_trace_event ev = {.pid = r->pid, .tid = r->tid, .time_ns = r->time_ns};
    struct open_call *o;
    switch (r->kind) {
    case REC_FORK:
        ev.kind = PX_TRACE_FORK;
        ev.ppid = r->ppid;
        break;
    case REC_COMM:
        if (r->pid != r->tid)
            return 0; /* a thread's own name; the process's is its leader's */
        ev.kind = PX_TRACE_COMM;
        ev.comm = r->comm;
        break;
    case EV_EXIT99:
        ev.kind = PX_TRACE_EADDRNOTAVAIL;
        break;
    case EV_ENTER:
        o = open_slot(t, r->tid, 1);
        o->tid = r->tid;
        o->since_ns = r->time_ns;
        return 0;
    default: /* EV_EXIT: a call whose entry was seen (not one begun before the start) */
        o = open_slot(t, r->tid, 0);
        if (o == NULL || o->since_ns > r->time_ns)
            return 0;
        ev.kind = PX_TRACE_CONNECT_CALL;
        ev.duration_ns = r->time_ns - o->since_ns;
        o->since_ns = 0;
        break;
    }
    cb(&ev, arg);
    return 1;
}

/* Hands on pending records up to until_ns in time order; keeps the later ones. */
static size_t hand_on_until(struct px_trace *t, uint64_t until_ns, px_trace_cb cb, void *arg)
{
    if (t->npending == 0)
        return 0; /* pending may still be NULL: qsort and memmove must not see it */
    qsort(t->pending, t->npending, sizeof(*t->pending), cmp_rec);
    size_t n = 0, i = 0;
    for (; i < t->npending && t->pending[i].time_ns <= until_ns; i++)
        n += (size_t)hand_on(t, &t->pending[i], cb, arg);
    memmove(t->pending, t->pending + i, (t->npending - i) * sizeof(*t->pending));
    t->npending -= i;
    return n;
}

size_t px_trace_drain(struct px_trace *t, int all, px_trace_cb cb, void *arg)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    for (size_t i = 0; i < t->nrings; i++)
        read_ring(t, &t->rings[i]);
    return hand_on_until(t, all ? UINT64_MAX : now_ns - HOLD_BACK_NS, cb, arg);
}
