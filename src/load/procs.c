/* SPDX-License-Identifier: MIT */
/* Per-process EADDRNOTAVAIL and connect() times from the tracer's events. */
#include "portex/load/procs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/clock.h"
#include "portex/kernel/owners.h"
#include "portex/kernel/trace.h"
#include "portex/load/hist.h"

/* Names seen in COMM records of processes not (yet) in the table, so that a process
 * that fails and exits between two reads still has its name. Direct-mapped by pid. */
#define NAME_SLOTS 4096

struct name {
    uint32_t pid;
    uint32_t ppid; /* forked from it and no name of its own seen: its parent's, read late */
    uint64_t time_ns;
    char comm[16];
};

struct px_procs {
    char proc[256];
    struct px_proc *v;   /* open addressing on the pid (0 is the "(others)" row) */
    unsigned char *used; /* by slot of v */
    size_t n, cap;
    struct name names[NAME_SLOTS];
    uint64_t eaddr_last, eaddr_total;
    const struct px_proc *last_failing;
};

static size_t slot_of(uint32_t pid, size_t cap)
{
    return (size_t)(((pid + 1) * 2654435761u) & (cap - 1));
}

struct px_procs *px_procs_new(const char *proc)
{
    struct px_procs *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->cap = 2 * PX_PROCS_MAX; /* never more than half full */
    p->v = calloc(p->cap, sizeof(*p->v));
    p->used = calloc(p->cap, 1);
    if (p->v == NULL || p->used == NULL) {
        free(p->v);
        free(p->used);
        free(p);
        return NULL;
    }
    snprintf(p->proc, sizeof(p->proc), "%s", proc);
    return p;
}

void px_procs_free(struct px_procs *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->cap; i++)
        free(p->v[i].connect);
    free(p->v);
    free(p->used);
    free(p);
}

static uint64_t now_ns(void)
{
    return px_clock_us() * 1000u;
}

/* The name of pid from /proc now; 0, or -1 when it is gone. */
static int read_comm(const struct px_procs *p, uint32_t pid, char *comm, size_t len)
{
    return pid != 0 && px_owners_comm(p->proc, (int)pid, comm, len) == 0 && comm[0] != '\0'
               ? 0
               : -1;
}

/* A new row's name: a COMM record seen for it (or its parent's, inherited at a fork),
 * else /proc read now, else, for a child gone already, its parent's from /proc. */
static void first_name(struct px_procs *p, struct px_proc *r)
{
    const struct name *nm = &p->names[r->pid % NAME_SLOTS];
    int known = nm->pid == r->pid && nm->pid != 0;
    if (known && nm->comm[0] != '\0') {
        memcpy(r->comm, nm->comm, sizeof(r->comm));
        r->comm_ns = nm->time_ns;
    } else if (read_comm(p, r->pid, r->comm, sizeof(r->comm)) == 0 ||
               (known && read_comm(p, nm->ppid, r->comm, sizeof(r->comm)) == 0)) {
        r->comm_ns = now_ns();
    } else {
        snprintf(r->comm, sizeof(r->comm), "?");
    }
}

/* A process forked: it bears its parent's name, known now or read when needed. */
static void forked(struct px_procs *p, const struct px_trace_event *ev)
{
    const struct name *parent = &p->names[ev->ppid % NAME_SLOTS];
    struct name *nm = &p->names[ev->pid % NAME_SLOTS];
    if (nm->pid == ev->pid && nm->time_ns > ev->time_ns)
        return; /* a later name of its own came first */
    nm->pid = ev->pid;
    nm->ppid = ev->ppid;
    nm->time_ns = ev->time_ns;
    nm->comm[0] = '\0';
    if (parent->pid == ev->ppid && parent->comm[0] != '\0')
        memcpy(nm->comm, parent->comm, sizeof(nm->comm));
}

/* The slot of pid: its row's, or the empty one where it goes. */
static size_t slot_find(const struct px_procs *p, uint32_t pid)
{
    size_t j = slot_of(pid, p->cap);
    while (p->used[j] && p->v[j].pid != pid)
        j = (j + 1) & (p->cap - 1);
    return j;
}

/* The row of pid, added when new; the "(others)" row once the table is full. */
static struct px_proc *row(struct px_procs *p, uint32_t pid)
{
    size_t j = slot_find(p, pid);
    if (p->used[j])
        return &p->v[j];
    if (pid != 0 && p->n >= PX_PROCS_MAX)
        return row(p, 0);
    struct px_proc *r = &p->v[j];
    p->used[j] = 1;
    r->pid = pid;
    p->n++;
    if (pid == 0)
        snprintf(r->comm, sizeof(r->comm), "(others)");
    else
        first_name(p, r);
    return r;
}

/* A process took a name at time_ns: kept when no later one is known. */
static void took_name(struct px_procs *p, const struct px_trace_event *ev)
{
    struct name *nm = &p->names[ev->pid % NAME_SLOTS];
    nm->pid = ev->pid;
    nm->ppid = 0;
    nm->time_ns = ev->time_ns;
    snprintf(nm->comm, sizeof(nm->comm), "%s", ev->comm);
    size_t j = slot_find(p, ev->pid);
    struct px_proc *r = &p->v[j];
    if (p->used[j] && ev->pid != 0 && ev->time_ns >= r->comm_ns) {
        snprintf(r->comm, sizeof(r->comm), "%s", ev->comm);
        r->comm_ns = ev->time_ns;
    }
}

void px_procs_event(const struct px_trace_event *ev, void *arg)
{
    struct px_procs *p = arg;
    if (ev->kind == PX_TRACE_COMM) {
        took_name(p, ev);
        return;
    }
    if (ev->kind == PX_TRACE_FORK) {
        forked(p, ev);
        return;
    }
    struct px_proc *r = row(p, ev->pid);
    if (ev->kind == PX_TRACE_EADDRNOTAVAIL) {
        r->eaddrnotavail++;
        r->eaddr_tick++;
        r->last_fail_ns = ev->time_ns;
        p->eaddr_total++;
        p->last_failing = r;
        return;
    }
    if (r->connect == NULL && (r->connect = malloc(sizeof(*r->connect))) != NULL)
        px_hist_init(r->connect);
    if (r->connect == NULL)
        return;
    r->calls++;
    r->calls_tick++;
    px_hist_record(r->connect, ev->duration_ns / 1000u);
}

void px_procs_end_tick(struct px_procs *p)
{
    p->eaddr_last = 0;
    for (size_t i = 0; i < p->cap; i++) {
        struct px_proc *r = &p->v[i];
        r->eaddr_last = r->eaddr_tick;
        p->eaddr_last += r->eaddr_tick;
        r->eaddr_tick = 0;
        r->calls_tick = 0;
    }
}

static int cmp_failing(const void *pa, const void *pb)
{
    const struct px_proc *a = *(const struct px_proc *const *)pa;
    const struct px_proc *b = *(const struct px_proc *const *)pb;
    if (a->eaddrnotavail != b->eaddrnotavail)
        return a->eaddrnotavail > b->eaddrnotavail ? -1 : 1;
    if (a->calls != b->calls)
        return a->calls > b->calls ? -1 : 1;
    return a->pid < b->pid ? -1 : a->pid > b->pid;
}

size_t px_procs_sorted(const struct px_procs *p, const struct px_proc **out, size_t max)
{
    const struct px_proc *all[PX_PROCS_MAX + 1];
    size_t k = 0;
    for (size_t i = 0; i < p->cap && k < PX_PROCS_MAX + 1; i++)
        if (p->used[i])
            all[k++] = &p->v[i];
    qsort(all, k, sizeof(all[0]), cmp_failing);
    size_t n = k < max ? k : max;
    memcpy(out, all, n * sizeof(*out));
    return n;
}

size_t px_procs_count(const struct px_procs *p)
{
    return p->n;
}

uint64_t px_procs_eaddr_last(const struct px_procs *p)
{
    return p->eaddr_last;
}

uint64_t px_procs_eaddr_total(const struct px_procs *p)
{
    return p->eaddr_total;
}

const struct px_proc *px_procs_last_failing(const struct px_procs *p)
{
    return p->last_failing;
}

size_t px_procs_hot(const struct px_procs *p, int *pids, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->cap && n < max; i++)
        if (p->v[i].calls_tick > 0 && p->v[i].pid != 0)
            pids[n++] = (int)p->v[i].pid;
    return n;
}
