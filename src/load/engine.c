/* SPDX-License-Identifier: MIT */
/*
 * The engine's face: sets up the run's shared state (requests, transport
 * context, timetable) and its workers, starts, stops and joins them, and
 * takes the whole run in one snapshot. The work itself is in worker.c (the
 * threads), schedule.c (the timetable) and slot.c (the connections).
 */
#include "portex/load/engine.h"

#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/clock.h"
#include "portex/kernel/ceiling.h"
#include "portex/load/h1.h"
#include "portex/load/h2.h"
#include "portex/load/hist.h"
#include "portex/load/load.h"
#include "portex/load/schedule.h"
#include "portex/load/transports.h"
#include "portex/load/worker.h"

struct px_engine {
    struct px_worker_shared sh; /* what the workers share */
    struct px_worker *workers;
    unsigned nworkers;
    uint64_t stop_us; /* px_engine_stop was first called (monotonic us), 0 = never; atomic */
    int started;      /* worker threads running (the calling thread's) */
    int joined;       /* px_engine_wait joined them; atomic (release, acquire) */
};

/* event_active() from the main thread needs libevent's locking. */
static void use_pthreads(void)
{
    evthread_use_pthreads();
}

static pthread_once_t use_pthreads_once = PTHREAD_ONCE_INIT;

int px_engine_thread_fds(const struct px_load *cfg)
{
    /* Threads on first: a loop made with them holds one more fd (its notify eventfd). */
    pthread_once(&use_pthreads_once, use_pthreads);
    return px_worker_loop_fds(cfg->rate_per_s > 0);
}

/* The workers, their slots and -n shares. 0, or -1 with the reason in err. */
static int engine_workers(struct px_engine *e, const struct px_load *cfg, char *err, size_t errlen)
{
    for (unsigned i = 0; i < e->nworkers; i++) {
        unsigned nslots = px_schedule_slots(cfg, e->nworkers, i);
        uint64_t quota = px_schedule_quota(cfg, e->nworkers, i);
        if (px_worker_init(&e->workers[i], &e->sh, i, nslots, quota) < 0) {
            snprintf(err, errlen,
                     "cannot set up worker %u (an epoll event loop with edge triggers, or memory)",
                     i);
            return -1;
        }
    }
    return 0;
}

struct px_engine *px_engine_new(const struct px_load *cfg, char *err, size_t errlen)
{
    pthread_once(&use_pthreads_once, use_pthreads);
    struct px_engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct px_slot_shared *sh = &e->sh.slot;
    sh->load = cfg;
    sh->transport = px_transports_pick(cfg->url.tls);
    sh->framing = cfg->http2 ? &px_framing_h2 : &px_framing_h1;
    sh->timestamps = PX_TS_UNKNOWN;
    pthread_mutex_init(&e->sh.lock, NULL);
    e->nworkers = px_schedule_workers(cfg);
    px_schedule_init(&e->sh.sched, cfg, e->nworkers);
    e->workers = calloc(e->nworkers, sizeof(*e->workers));
    if (e->workers == NULL || sh->framing->setup(&sh->framing_state, cfg) < 0) {
        snprintf(err, errlen, "out of memory");
        px_engine_free(e);
        return NULL;
    }
    if (sh->transport->ctx_new(&e->sh.transport_ctx, cfg, err, errlen) < 0 ||
        engine_workers(e, cfg, err, errlen) < 0) {
        px_engine_free(e);
        return NULL;
    }
    return e;
}

int px_engine_start(struct px_engine *e, char *err, size_t errlen)
{
    px_schedule_start(&e->sh.sched, px_clock_us());
    for (unsigned i = 0; i < e->nworkers; i++) {
        int rc = px_worker_start(&e->workers[i]);
        if (rc != 0) {
            snprintf(err, errlen, "cannot create worker thread %u: %s", i, strerror(rc));
            for (unsigned j = 0; j < i; j++)
                px_worker_stop(&e->workers[j]);
            for (unsigned j = 0; j < i; j++)
                px_worker_join(&e->workers[j]);
            return -1;
        }
        e->started = (int)i + 1;
    }
    return 0;
}

void px_engine_stop(struct px_engine *e)
{
    uint64_t none = 0;
    __atomic_compare_exchange_n(&e->stop_us, &none, px_clock_us(), 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
    for (int i = 0; i < e->started; i++)
        px_worker_stop(&e->workers[i]);
}

int px_engine_done(const struct px_engine *e)
{
    struct px_worker_shared *sh = (struct px_worker_shared *)&e->sh;
    pthread_mutex_lock(&sh->lock);
    int done = sh->finished == (unsigned)e->started;
    pthread_mutex_unlock(&sh->lock);
    return done;
}

void px_engine_wait(struct px_engine *e)
{
    for (int i = 0; i < e->started; i++)
        px_worker_join(&e->workers[i]);
    e->started = 0;
    __atomic_store_n(&e->joined, 1, __ATOMIC_RELEASE);
}

/* The workers' counters and histograms, snapshots so safe while the run goes on. */
static void add_workers(const struct px_engine *e, struct px_engine_snapshot *out)
{
    struct px_hist snap;
    struct px_hist *const mine[] = {&out->lat.connect, &out->lat.ttfb, &out->lat.total,
                                    &out->lat.tls, &out->lat.connect_call};
    for (size_t k = 0; k < sizeof(mine) / sizeof(mine[0]); k++)
        px_hist_init(mine[k]);
    for (unsigned i = 0; i < e->nworkers; i++) {
        const struct px_worker *w = &e->workers[i];
        const struct px_hist *theirs[] = {&w->lat.connect, &w->lat.ttfb, &w->lat.total,
                                          &w->lat.tls, &w->lat.connect_call};
        px_totals_add(&out->totals, &w->ctr);
        for (size_t k = 0; k < sizeof(mine) / sizeof(mine[0]); k++) {
            px_hist_snapshot(&snap, theirs[k]);
            px_hist_merge(mine[k], &snap);
        }
    }
}

/* The run's first EADDRNOTAVAIL: when, and how many requests were ok before it. */
static void first_eaddr(const struct px_engine *e, struct px_engine_snapshot *out)
{
    uint64_t first = __atomic_load_n(&e->sh.slot.first_eaddr_us, __ATOMIC_RELAXED);
    if (first == 0)
        return;
    out->eaddr_seen = 1;
    out->eaddr_first_s = (double)(first - e->sh.sched.t0_us) / 1e6;
    for (unsigned i = 0; i < e->nworkers; i++)
        out->eaddr_ok_before += px_slots_ok_before_eaddr(&e->workers[i].slots);
}

void px_engine_snapshot(const struct px_engine *e, struct px_engine_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    out->start_us = e->sh.sched.t0_us;
    add_workers(e, out);
    out->timestamps = __atomic_load_n(&e->sh.slot.timestamps, __ATOMIC_RELAXED);
    first_eaddr(e, out);
    /* What the workers keep without atomics is read once they were joined. */
    if (!__atomic_load_n(&e->joined, __ATOMIC_ACQUIRE))
        return;
    out->finished = 1;
    px_schedule_window(&e->sh.sched, __atomic_load_n(&e->stop_us, __ATOMIC_RELAXED),
                       e->sh.finished_us, &out->duration_s, &out->drain_s);
    for (unsigned i = 0; i < e->nworkers; i++)
        e->sh.slot.transport->summarize(e->workers[i].transport_worker, &out->tls);
}

void px_engine_free(struct px_engine *e)
{
    if (e == NULL)
        return;
    for (unsigned i = 0; e->workers && i < e->nworkers; i++)
        px_worker_release(&e->workers[i]);
    e->sh.slot.transport->ctx_free(e->sh.transport_ctx);
    e->sh.slot.framing->teardown(e->sh.slot.framing_state);
    free(e->workers);
    pthread_mutex_destroy(&e->sh.lock);
    free(e);
}
