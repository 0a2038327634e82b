/* SPDX-License-Identifier: MIT */
/*
 * The processes that call connect(), system-wide, as the tracer sees them
 * (kernel/trace.h): each one's EADDRNOTAVAIL and the time its connect() calls
 * spend inside the kernel, under the name it had last.
 */
#ifndef PORTEX_PROCS_H
#define PORTEX_PROCS_H

#include <stddef.h>
#include <stdint.h>

struct px_hist;
struct px_trace_event;

/* Past this many processes, the events of new ones are summed under pid 0, "(others)". */
#define PX_PROCS_MAX 1024

struct px_proc {
    uint32_t pid;            /* 0: the processes past PX_PROCS_MAX */
    char comm[16];           /* "?" when it was gone before its name could be read */
    uint64_t comm_ns;        /* when the name was learnt (CLOCK_MONOTONIC ns): a later one wins */
    uint64_t eaddrnotavail;  /* over the watch */
    uint64_t eaddr_tick;     /* in the tick being gathered */
    uint64_t eaddr_last;     /* in the last finished tick */
    uint64_t last_fail_ns;   /* time of its last EADDRNOTAVAIL; 0 never */
    uint64_t calls;          /* connect() calls timed from enter to exit */
    uint64_t calls_tick;     /* in the tick being gathered */
    struct px_hist *connect; /* those times in us; NULL before its first call */
};

struct px_procs;

/* An empty table; names are read under proc ("/proc"). NULL when out of memory. */
struct px_procs *px_procs_new(const char *proc);
void px_procs_free(struct px_procs *p);
/* One tracer event (a px_trace_cb: arg is the table). */
void px_procs_event(const struct px_trace_event *ev, void *arg);
/* Closes a tick: its counts become the last tick's. */
void px_procs_end_tick(struct px_procs *p);
/* Every process seen, most EADDRNOTAVAIL first, then most calls: up to max into out. */
size_t px_procs_sorted(const struct px_procs *p, const struct px_proc **out, size_t max);
size_t px_procs_count(const struct px_procs *p);
/* EADDRNOTAVAIL of every process in the last finished tick, and over the watch. */
uint64_t px_procs_eaddr_last(const struct px_procs *p);
uint64_t px_procs_eaddr_total(const struct px_procs *p);
/* The process whose EADDRNOTAVAIL came last, NULL when none did. */
const struct px_proc *px_procs_last_failing(const struct px_procs *p);
/* Pids that called connect() in the tick being gathered, up to max: where a new socket's
 * owner is likely to be. The number written. */
size_t px_procs_hot(const struct px_procs *p, int *pids, size_t max);

#endif
