/* SPDX-License-Identifier: MIT */
/*
 * The load engine, one face over three modules: the workers (worker.h:
 * threads, one event_base each, their counters and histograms), the schedule
 * (schedule.h: timetable, shares, stop and drain) and the connection state
 * machine (slot.h) that drives the transport. What a run measured is taken
 * whole, in one snapshot, by the stats thread on every tick and by the run at
 * its end.
 */
#ifndef PORTEX_ENGINE_H
#define PORTEX_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "portex/load/result.h"

struct px_load;
struct px_engine;

/* A run as the engine sees it at one instant. */
struct px_engine_snapshot {
    uint64_t start_us;         /* monotonic start of the run (us): the zero of every series */
    struct px_totals totals;   /* every worker's counters so far */
    struct px_latency lat;     /* connect, ttfb, total and tls histograms, merged */
    int timestamps;            /* enum px_ts: negotiated on the run's first connection */
    int eaddr_seen;            /* some attempt failed with EADDRNOTAVAIL */
    double eaddr_first_s;      /* the first one, in seconds since start */
    uint64_t eaddr_ok_before;  /* ok requests before it (each worker's count when it noticed) */
    int finished;              /* the workers were joined (px_engine_wait); what follows is set */
    double duration_s;         /* the load window: first start to the end of -d, a stop, or
                                * (-n) the last completion; every rate divides by it */
    double drain_s;            /* in-flight requests finishing after the window (counted) */
    struct px_tls_summary tls; /* https: the protocol and OpenSSL's first reason per TLS cause */
};

/* Prepares workers and the requests; NULL with the reason in err. */
struct px_engine *px_engine_new(const struct px_load *cfg, char *err, size_t errlen);
/* Starts the worker threads. 0, or -1 with the reason in err. */
int px_engine_start(struct px_engine *e, char *err, size_t errlen);
/* Asks every worker to stop starting requests and drain; safe from any thread. */
void px_engine_stop(struct px_engine *e);
/* True once every worker has finished. */
int px_engine_done(const struct px_engine *e);
/* Joins the workers. */
void px_engine_wait(struct px_engine *e);
/*
 * The whole run so far into out (merges each worker's histograms: a few
 * times 2560 buckets); safe from any thread while the run goes on, and
 * complete (finished) after px_engine_wait.
 */
void px_engine_snapshot(const struct px_engine *e, struct px_engine_snapshot *out);
/*
 * File descriptors each worker thread of a run with this load holds besides
 * its connections (its event loop, measured); -1 when no loop could be made.
 */
int px_engine_thread_fds(const struct px_load *cfg);
/* Frees the engine (its workers must have been joined). NULL is fine. */
void px_engine_free(struct px_engine *e);

#endif
