/* SPDX-License-Identifier: MIT */
/*
 * connect() of every process, system-wide, from the kernel's tracepoints
 * through perf_event_open: each call that returns EADDRNOTAVAIL
 * (syscalls:sys_exit_connect with the filter ret == -99), the time each call
 * spends in the kernel (sys_enter_connect to sys_exit_connect of a thread),
 * the names processes take and the processes forked (a child that never execs
 * keeps its parent's name: a shell's subshell, a prefork worker). Read-only: the tracepoint ids are read from
 * tracefs, mounted read-only in a mount namespace of a forked helper when the
 * host has none; the filters are set on the perf fds, never written to
 * tracefs; everything goes with the fds, which the kernel closes on any exit.
 * Needs root (CAP_PERFMON for the events, CAP_SYS_ADMIN for the mount).
 */
#ifndef PORTEX_TRACE_H
#define PORTEX_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum px_trace_kind {
    PX_TRACE_EADDRNOTAVAIL, /* a connect() returned -EADDRNOTAVAIL */
    PX_TRACE_CONNECT_CALL,  /* a connect() call ended; duration_ns inside the kernel */
    PX_TRACE_COMM,          /* the process took a name (exec, prctl): comm */
    PX_TRACE_FORK,          /* a new process (not a thread), ppid its parent: it bears
                             * the parent's name until it takes one of its own */
};

/* One event, handed on in time order across CPUs. */
struct px_trace_event {
    enum px_trace_kind kind;
    uint32_t pid, tid;
    uint32_t ppid;        /* PX_TRACE_FORK */
    uint64_t time_ns;     /* CLOCK_MONOTONIC, the clock of px_clock_us */
    uint64_t duration_ns; /* PX_TRACE_CONNECT_CALL */
    const char *comm;     /* PX_TRACE_COMM; valid during the callback */
};

typedef void (*px_trace_cb)(const struct px_trace_event *ev, void *arg);

struct px_trace;

/*
 * Starts tracing on every online CPU. NULL with one line in why saying what is
 * missing (privileges, tracefs, the tracepoint) when it cannot.
 */
struct px_trace *px_trace_open(char *why, size_t whylen);
/* Stops and closes every fd. NULL is fine. */
void px_trace_close(struct px_trace *t);
/* The fds to poll for POLLIN (one per CPU): an EADDRNOTAVAIL wakes it at once, other
 * events when half a ring is full. Up to max into fds; the number of fds. */
size_t px_trace_fds(const struct px_trace *t, int *fds, size_t max);
/*
 * Reads every ring and hands on the events in time order. The last
 * millisecond's events wait for the next call (a thread's sys_enter may still
 * be on its way from another CPU) unless all is set (the last call). The
 * number of events handed on.
 */
size_t px_trace_drain(struct px_trace *t, int all, px_trace_cb cb, void *arg);
/* Events the kernel dropped because a ring was full. */
uint64_t px_trace_lost(const struct px_trace *t);

#endif
