/* SPDX-License-Identifier: MIT */
/* Drives one run: starts the engine, waits for its end or a signal, collects the result. */
#include "portex/run.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "portex/config.h"
#include "portex/engine.h"
#include "portex/result.h"

int px_run_execute(const struct px_config *cfg, struct px_run *run, char *err, size_t errlen)
{
    memset(run, 0, sizeof(*run));
    run->cfg = cfg;
    /* Workers inherit this mask: SIGINT and SIGTERM reach only sigtimedwait below. */
    sigset_t stop_set, old_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old_set);

    int rc = -1;
    struct px_engine *e = px_engine_new(cfg, err, errlen);
    if (e == NULL)
        goto out;
    if (px_engine_start(e, err, errlen) < 0)
        goto out;
    const struct timespec poll = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
    while (!px_engine_done(e)) {
        int sig = sigtimedwait(&stop_set, NULL, &poll);
        if (sig == SIGINT || sig == SIGTERM)
            px_engine_stop(e);
    }
    px_engine_wait(e);
    px_engine_totals(e, &run->totals);
    px_engine_latency(e, &run->lat);
    run->duration_s = px_engine_duration_s(e);
    rc = 0;
out:
    px_engine_free(e);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return rc;
}
