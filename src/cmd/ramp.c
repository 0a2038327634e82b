/* SPDX-License-Identifier: MIT */
/* portex ramp: one engine run per step at that step's rate, until two steps fail. */
#include "portex/cmd/ramp.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "portex/base/stop.h"
#include "portex/load/load.h"
#include "portex/load/knee.h"
#include "portex/load/run.h"

/* The ramp's settings, kept with its results for the reports. */
static void ramp_begin(const struct px_ramp_config *cfg, struct px_ramp *ramp)
{
    ramp->from_per_s = cfg->from_per_s;
    ramp->to_per_s = cfg->to_per_s;
    ramp->step_per_s = cfg->step_per_s;
    ramp->step_ms = cfg->step_ms;
    ramp->max_p99_us = cfg->max_p99_ms * 1000u;
    ramp->no_stop = cfg->no_stop;
    ramp->nplanned = px_knee_step_count(cfg->from_per_s, cfg->to_per_s, cfg->step_per_s);
    if (ramp->nplanned > PX_RAMP_MAX_STEPS)
        ramp->nplanned = PX_RAMP_MAX_STEPS;
    ramp->nsteps = 0;
    ramp->knee = -1;
    ramp->stopped_early = 0;
    ramp->interrupted = 0;
}

int px_ramp_run(const struct px_ramp_config *cfg, struct px_ramp *ramp, char *err, size_t errlen)
{
    const struct px_load *base = &cfg->base;
    ramp_begin(cfg, ramp);
    /* Blocked for the whole ramp, so that a signal between two steps is not
     * lost and does not kill the process before the report. */
    sigset_t stop_set, old_set;
    px_stop_block(&stop_set, &old_set);
    int rc = 0;
    /* Per-row histograms exist for the JSON result; without --json memory stays flat. */
    struct px_stats_opts opts = {.live = cfg->out.quiet ? NULL : stderr,
                                 .row_hists = cfg->out.json != NULL};
    double step_s = (double)ramp->step_ms / 1000.0;
    for (size_t i = 0; i < ramp->nplanned; i++) {
        if (px_stop_pending(&stop_set)) {
            ramp->interrupted = 1;
            break;
        }
        struct px_load step = *base;
        step.rate_per_s = px_knee_step_rate(ramp->from_per_s, ramp->step_per_s, i);
        step.duration_ms = ramp->step_ms;
        step.requests = 0;
        if (!cfg->out.quiet)
            fprintf(stderr, "portex ramp: step %zu/%zu: %.10g new requests/s for %.1f s\n", i + 1,
                    ramp->nplanned, step.rate_per_s, step_s);
        struct px_run *run = px_run_new(&step);
        if (run == NULL || px_run_execute(run, &opts, err, errlen) < 0) {
            if (run == NULL)
                snprintf(err, errlen, "out of memory");
            px_run_free(run);
            rc = -1;
            break;
        }
        ramp->runs[i] = run;
        ramp->nsteps = i + 1;
        px_knee_step_from_run(run, step.rate_per_s, step_s, &ramp->figs[i]);
        if (run->interrupted) {
            ramp->interrupted = 1;
            break;
        }
        if (!ramp->no_stop && i + 1 < ramp->nplanned &&
            px_knee_failed_count(ramp->figs, ramp->nsteps, ramp->max_p99_us) >= 2) {
            ramp->stopped_early = 1;
            break;
        }
    }
    ramp->knee = px_knee_find(ramp->figs, ramp->nsteps, ramp->max_p99_us);
    if (px_stop_pending(&stop_set))
        ramp->interrupted = 1;
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    if (rc < 0)
        return rc;
    return ramp->interrupted ? 1 : 0;
}

void px_ramp_config_defaults(struct px_ramp_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    px_load_defaults(&cfg->base);
    cfg->step_ms = 5000;
}
