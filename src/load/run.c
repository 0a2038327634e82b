/* SPDX-License-Identifier: MIT */
/* Drives one run: engine and stats thread, signals, then the result and its prediction. */
#include "portex/load/run.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "portex/base/config.h"
#include "portex/load/engine.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "portex/load/result.h"
#include "portex/load/stats.h"

void px_block_stop_signals(sigset_t *stop_set, sigset_t *old)
{
    sigemptyset(stop_set);
    sigaddset(stop_set, SIGINT);
    sigaddset(stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop_set, old);
}

int px_run_execute(const struct px_config *cfg, struct px_run *run, char *err, size_t errlen)
{
    memset(run, 0, sizeof(*run));
    run->cfg = cfg;
    run->ex.time_wait_peak = -1;
    px_env_read(PX_PROC, &run->env);
    /* Workers and the stats thread inherit this mask: SIGINT and SIGTERM reach
     * only sigtimedwait below. */
    sigset_t stop_set, old_set;
    px_block_stop_signals(&stop_set, &old_set);

    int rc = -1;
    struct px_stats *stats = NULL;
    /* Before the first request: an earlier run's TIME_WAIT, not this one's. */
    run->ex.time_wait_at_start = px_diag_time_wait_toward((const struct sockaddr *)&cfg->target);
    struct px_engine *e = px_engine_new(cfg, err, errlen);
    if (e == NULL)
        goto out;
    if (px_engine_start(e, err, errlen) < 0)
        goto out;
    stats = px_stats_start(e, cfg, cfg->quiet ? NULL : stderr);
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
    px_engine_totals(e, &run->totals);
    px_engine_latency(e, &run->lat);
    px_engine_tls_summary(e, &run->tls);
    run->duration_s = px_engine_duration_s(e);
    run->drain_s = px_engine_drain_s(e);
    px_series_mark_drain(&run->series, run->duration_s);
    run->ex.seen = px_engine_first_eaddrnotavail(e, &run->ex.first_s, &run->ex.ok_before);
    run->ex.timestamps = px_engine_timestamps(e);
    px_run_predict(run);
    rc = 0;
out:
    px_engine_free(e);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return rc;
}
