/* SPDX-License-Identifier: MIT */
/*
 * What `portex watch` measures on a live host, read-only: every tick one
 * sock_diag dump of every TCP socket of the namespace summed per channel
 * (kernel/channels.h) with the owners of live sockets (kernel/owners.h), the
 * TcpExt counters, and between ticks every process's connect() failures and
 * times from the tracer (kernel/trace.h, load/procs.h) when it can run.
 */
#ifndef PORTEX_WATCH_H
#define PORTEX_WATCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "portex/kernel/kernel.h"
#include "portex/load/hist.h"

struct px_channels;
struct px_owners;
struct px_procs;
struct px_trace;
struct watch_io;

/* The bound-inactive dump walks the kernel's whole bind hash (18 ms with 30,000
 * TIME_WAIT sockets in the spike of issue 20): it and the sysctls are read on
 * the first tick and every this many after it. */
#define PX_WATCH_SLOW_EVERY 10

struct px_watch_config {
    uint64_t interval_ms;         /* between ticks; the first is at once */
    uint64_t duration_ms;         /* -d: stop this long after the first tick; 0 none */
    uint64_t count;               /* --count: stop after this many ticks; 0 none */
    struct sockaddr_storage dest; /* --dest: ss_family AF_UNSPEC for every destination */
    int trace;                    /* try the tracer; 0 leaves it off (why: "not asked") */
    const char *proc;             /* "/proc" */
};

/* The last tick, besides its channels and processes. */
struct px_watch_tick {
    uint64_t n;           /* 1, 2, ... */
    uint64_t now_ns;      /* when it began, CLOCK_MONOTONIC (the tracer's clock) */
    double t_s;           /* since the first tick */
    double elapsed_s;     /* since the tick before (the interval for the first) */
    size_t sockets;       /* records of its dump, both families, every state */
    double dump_ms;       /* the dump and its bound-inactive dump, when there was one */
    double tick_ms;       /* the whole tick: dumps, sums, owners, counters */
    double tick_cpu_ms;   /* the CPU time of it (the kernel's walk included): on a busy
                           * host tick_ms also counts the time spent waiting for a core */
    struct px_tcpext ext; /* TcpExt counters over the tick */
};

struct px_watch {
    struct px_watch_config cfg;
    struct px_env env; /* the namespace's settings, read again every PX_WATCH_SLOW_EVERY ticks */
    struct px_channels *channels;
    struct px_owners *owners;
    struct px_procs *procs;
    struct px_trace *trace; /* NULL: tracing is off, trace_why says why */
    char trace_why[320];
    uint64_t trace_lost; /* events the kernel dropped (a ring was full) */
    struct px_watch_tick last;
    uint64_t ticks;
    double duration_s; /* first tick to the last */
    int interrupted;   /* a stop signal ended it */
    int have_ext;
    struct px_tcpext ext_start, ext_now; /* TcpExt at the first tick and now */
    struct px_hist dump_us, tick_us;     /* every tick's dump and tick times */
    struct px_hist tick_cpu_us;          /* and the CPU time of each tick */
    double cpu_s;                        /* this process's CPU time since the start */
    struct watch_io *io;                 /* sockets, buffers, the clock: watch.c's own */
};

/*
 * A watch ready to run: the namespace's settings read, the sock_diag socket
 * open, the tracer started when cfg->trace and it can (trace_why says why not;
 * the rest works without it). NULL with the reason in err.
 */
struct px_watch *px_watch_new(const struct px_watch_config *cfg, char *err, size_t errlen);
/* Stops the tracer (its fds closed) and frees everything. NULL is fine. */
void px_watch_free(struct px_watch *w);

/* After every tick, with the watch as it stands; nonzero ends the watch (the
 * place it writes to is gone: a closed pipe, a hung-up terminal). */
typedef int (*px_watch_tick_cb)(void *arg, const struct px_watch *w);
/* A signal of the extra set came (SIGWINCH, SIGTSTP, ...). */
typedef void (*px_watch_signal_cb)(void *arg, int sig);

/*
 * Ticks until --count or -d is reached, a stop signal (SIGINT, SIGTERM,
 * SIGHUP) comes or on_tick asks to stop; between ticks drains the tracer as its rings fill or a
 * failure wakes it (at most every 10 ms). The caller has blocked the stop
 * signals and those of extra (may be NULL), which go to on_signal. 0, or -1
 * with err when a dump fails (what was measured before stays).
 */
int px_watch_run(struct px_watch *w, const sigset_t *extra, px_watch_signal_cb on_signal,
                 px_watch_tick_cb on_tick, void *arg, char *err, size_t errlen);

/* One tick now (for tests and px_watch_run). 0, or -1 with err. */
int px_watch_tick(struct px_watch *w, char *err, size_t errlen);
/* The tracer's events so far into the processes (all: to the last one). */
void px_watch_drain(struct px_watch *w, int all);
/* The name of the process pid that owns sockets of a channel; "?" when not known. */
const char *px_watch_comm(const struct px_watch *w, int pid);

#endif
