/* SPDX-License-Identifier: MIT */
/*
 * The schedule of a run, as pure functions over plain structs (no event loop,
 * no clock read, so tests give the instants): how the worker threads share
 * -c and -n, when each start of the open model is due (one global timetable
 * split across --shard hosts and the workers of each), what a worker does at
 * a given instant, how long in-flight requests may drain after a stop, and the
 * load window that every rate divides by.
 */
#ifndef PORTEX_LOAD_SCHEDULE_H
#define PORTEX_LOAD_SCHEDULE_H

#include <stdint.h>

struct px_load;

/* The timetable of one run on one host. */
struct px_schedule {
    double rate_per_s;    /* the rate of the whole run, every host together; 0: closed model */
    unsigned shard;       /* --shard K/N: this host's K */
    unsigned shards;      /* N; 0: alone */
    unsigned workers;     /* W: this host's worker threads */
    uint64_t duration_us; /* -d; 0 with -n */
    uint64_t t0_us;       /* the run's start (monotonic us), set by px_schedule_start */
    uint64_t end_us;      /* end of -d (monotonic us); 0 with -n */
};

/* What an open-model worker does at an instant (px_schedule_next). */
enum px_schedule_step {
    PX_SCHEDULE_START,   /* the start at *at_us is due: take it (or count it missed), ask again */
    PX_SCHEDULE_WAIT,    /* nothing due: ask again at *at_us */
    PX_SCHEDULE_QUIESCE, /* the worker's -n share is used up: start nothing more */
    PX_SCHEDULE_STOP,    /* the -d window is over: stop and drain */
};

/* Worker threads for a load: --threads (at least 1), never more than -c. */
unsigned px_schedule_workers(const struct px_load *load);
/* Slots of worker i of `workers`: -c split, the remainder to the lowest indexes. */
unsigned px_schedule_slots(const struct px_load *load, unsigned workers, unsigned i);
/* -n share of worker i of `workers` (remainder to the lowest); UINT64_MAX without -n. */
uint64_t px_schedule_quota(const struct px_load *load, unsigned workers, unsigned i);
/* The timetable of a load over `workers` threads, not started. */
void px_schedule_init(struct px_schedule *s, const struct px_load *load, unsigned workers);
/* Starts the timetable at t0_us (monotonic): the -d end follows. */
void px_schedule_start(struct px_schedule *s, uint64_t t0_us);
/*
 * The k-th start of worker i (monotonic us). Host K of N takes the global
 * starts K, K+N, ...; its worker i of W takes, of those, i, i+W, ...: global
 * start K + N * (i + W * k). N hosts together make the one-host timetable.
 */
uint64_t px_schedule_start_us(const struct px_schedule *s, unsigned worker, uint64_t k);
/*
 * Open model: what worker i does at now_us, having taken k starts, with
 * `quota` of its -n share left. *at_us gets the start's time (START) or when
 * to ask again (WAIT).
 */
enum px_schedule_step px_schedule_next(const struct px_schedule *s, unsigned worker, uint64_t k,
                                       uint64_t quota, uint64_t now_us, uint64_t *at_us);
/* How long requests in flight may finish after a stop (us): --timeout, at most 2 s. */
uint64_t px_schedule_grace_us(const struct px_load *load);
/*
 * The load window, once every worker ended: from t0 to the end of -d, to the
 * first stop (stop_us, 0 none) or (-n) to the last completion (finished_us),
 * whichever came first; what ended after it is the drain (counted in the
 * totals, but no rate divides by its time). Seconds into *duration_s, *drain_s.
 */
void px_schedule_window(const struct px_schedule *s, uint64_t stop_us, uint64_t finished_us,
                        double *duration_s, double *drain_s);

#endif
