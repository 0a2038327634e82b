/* SPDX-License-Identifier: MIT */
/* Drives one run: engine and stats thread, signals, then the result and its prediction. */
#include "portex/load/run.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/base/stop.h"
#include "portex/load/engine.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "portex/load/result.h"
#include "portex/load/stats.h"

/* The wall clock at a monotonic instant: both clocks read now, the difference applied. */
static int64_t wall_start_ns(uint64_t start_us)
{
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t now_us = px_clock_us();
    int64_t real_ns = (int64_t)real.tv_sec * 1000000000 + real.tv_nsec;
    return real_ns - ((int64_t)now_us - (int64_t)start_us) * 1000;
}

/* Sleeps until the wall-clock instant at_ns (--start-at); SIGINT or SIGTERM
 * (blocked, in set) end the wait early. 0, or -1 when interrupted. */
static int wait_until(int64_t at_ns, const sigset_t *set)
{
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t left = at_ns - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
        if (left <= 0)
            return 0;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000000000),
                              .tv_nsec = (long)(left % 1000000000)};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            return -1;
    }
}

/* The finished engine's snapshot into the run: what it counted and measured. */
static void take_result(struct px_run *run, const struct px_engine_snapshot *snap)
{
    run->totals = snap->totals;
    run->lat = snap->lat;
    run->tls = snap->tls;
    run->duration_s = snap->duration_s;
    run->drain_s = snap->drain_s;
    px_series_mark_drain(&run->series, run->duration_s);
    run->ex.seen = snap->eaddr_seen;
    if (snap->eaddr_seen) {
        run->ex.first_s = snap->eaddr_first_s;
        run->ex.ok_before = snap->eaddr_ok_before;
    }
    run->ex.timestamps = snap->timestamps;
}

/* Before the first request: an earlier run's TIME_WAIT (not this one's), the ports
 * of the range in force that are bound already, which connect() skips, and those
 * that connections already open toward the target hold from the run's source
 * addresses (the --source ones, else the one the route picks). */
static void measure_start(struct px_run *run)
{
    const struct px_load *cfg = run->load;
    run->ex.time_wait_at_start = px_diag_time_wait_toward((const struct sockaddr *)&cfg->target);
    if (cfg->target.ss_family == AF_UNIX)
        return;
    unsigned lo, hi;
    px_usable_ports(run->env.port_lo, run->env.port_hi, cfg->port_lo, cfg->port_hi, "", &lo, &hi);
    struct sockaddr_storage routed;
    const struct sockaddr_storage *src = cfg->sources;
    size_t nsrc = cfg->nsources;
    if (nsrc == 0 && px_rtnl_route_source(&cfg->target, &routed) == 0) {
        src = &routed;
        nsrc = 1;
    }
    struct px_held_ports held;
    px_diag_held_in_range(lo, hi, run->env.reserved_ports, (const struct sockaddr *)&cfg->target,
                          src, nsrc, &held);
    run->ex.bound_ports = held.bound;
    run->ex.bound_listening = held.listening;
    run->ex.open_ports = held.open;
}

int px_run_execute(struct px_run *run, const struct px_stats_opts *opts, char *err, size_t errlen)
{
    const struct px_load *cfg = run->load;
    px_env_read(PX_PROC, &run->env);
    /* Workers and the stats thread inherit this mask: SIGINT and SIGTERM reach
     * only sigtimedwait below. */
    sigset_t stop_set, old_set;
    px_stop_block(&stop_set, &old_set);

    int rc = -1;
    struct px_stats *stats = NULL;
    measure_start(run);
    struct px_engine *e = NULL;
    /* About 80 kB of histograms: on the heap. */
    struct px_engine_snapshot *snap = malloc(sizeof(*snap));
    if (snap == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    e = px_engine_new(cfg, err, errlen);
    if (e == NULL)
        goto out;
    /* Hosts of one sharded run start their timetables at one wall-clock instant. */
    if (cfg->start_at_ns && wait_until(cfg->start_at_ns, &stop_set) < 0) {
        snprintf(err, errlen, "interrupted while waiting for --start-at");
        run->interrupted = 1;
        goto out;
    }
    if (px_engine_start(e, err, errlen) < 0)
        goto out;
    px_engine_snapshot(e, snap);
    run->t0_unix_ns = wall_start_ns(snap->start_us);
    gethostname(run->host, sizeof(run->host) - 1);
    stats = px_stats_start(e, cfg, opts);
    if (stats == NULL) {
        snprintf(err, errlen, "cannot start the stats thread");
        px_engine_stop(e);
        px_engine_wait(e);
        goto out;
    }
    const struct timespec poll = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
    while (!px_engine_done(e)) {
        int sig = sigtimedwait(&stop_set, NULL, &poll);
        if (sig == SIGINT || sig == SIGTERM) {
            run->interrupted = 1;
            px_engine_stop(e);
        }
    }
    px_engine_wait(e);
    px_stats_finish(stats, &run->series, &run->ex.time_wait_peak);
    px_engine_snapshot(e, snap);
    take_result(run, snap);
    px_run_predict(run);
    rc = 0;
out:
    px_engine_free(e);
    free(snap);
    if (px_stop_pending(&stop_set))
        run->interrupted = 1;
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return rc;
}
