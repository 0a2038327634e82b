/* SPDX-License-Identifier: MIT */
/*
 * The engine's workers: one thread each, with its own event_base, its slots,
 * and its own counters and histograms (single writer, relaxed atomics, so the
 * hot path takes no lock and the stats thread may read them at any time). A
 * worker paces its slots: the open model's timetable (schedule.h) or the
 * closed model's restarts, its -n share, the end of -d, a stop and the drain.
 */
#ifndef PORTEX_LOAD_WORKER_H
#define PORTEX_LOAD_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "portex/load/result.h"
#include "portex/load/schedule.h"
#include "portex/load/slot.h"

struct event;
struct event_base;

/* What the workers of one run share; the engine owns it. */
struct px_worker_shared {
    struct px_slot_shared slot; /* what every slot reads, and the run-wide facts they report */
    struct px_schedule sched;   /* the timetable: t0_us and end_us set before the threads start */
    void *transport_ctx;        /* the run's transport context (transport->ctx_new) */
    pthread_mutex_t lock;       /* guards the two below */
    unsigned finished;          /* workers whose loop has ended */
    uint64_t finished_us;       /* when the last of them ended (monotonic us) */
};

struct px_worker {
    struct px_worker_shared *sh;
    unsigned id; /* index among the run's workers: its place in the timetable */
    pthread_t thread;
    struct event_base *base;
    struct event *tick;     /* open model timetable, or the end of a closed run */
    struct event *stop_ev;  /* activated by px_worker_stop from another thread */
    struct event *grace;    /* end of the drain after a stop */
    uint64_t quota;         /* -n share still to start; UINT64_MAX when unbounded */
    uint64_t scheduled;     /* open model: starts taken from the timetable */
    void *transport_worker; /* this worker's transport state (transport->worker_new) */
    struct px_totals ctr;   /* written by this thread only */
    struct px_latency lat;  /* written by this thread only */
    struct px_slots slots;  /* its connections, one request each */
};

/* A worker of nslots slots and a -n share of quota, not started. 0, or -1
 * (no epoll loop with edge triggers, or memory); px_worker_release either way. */
int px_worker_init(struct px_worker *w, struct px_worker_shared *sh, unsigned id, unsigned nslots,
                   uint64_t quota);
/* Starts the worker's thread. 0, or the error number of pthread_create. */
int px_worker_start(struct px_worker *w);
/* Asks the worker to start nothing more and drain; safe from any thread. */
void px_worker_stop(struct px_worker *w);
/* Joins the worker's thread. */
void px_worker_join(struct px_worker *w);
/* Frees what px_worker_init set up (all of it, or part); a zeroed worker is fine. */
void px_worker_release(struct px_worker *w);
/*
 * File descriptors one worker's event loop holds (open: the open model's),
 * measured by making one: libevent's epoll backend takes an epoll fd and a
 * pipe for signals, a notify eventfd once threads are on, and a timerfd with
 * the precise timer. -1 when no loop could be made.
 */
int px_worker_loop_fds(int open);

#endif
