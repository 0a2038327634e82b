/* SPDX-License-Identifier: MIT */
/*
 * portex ramp: the same load as portex run, one open-model run per step from
 * --from to --to by --step, each --step-duration long, and the knee: the
 * highest step that kept up (ok/s >= 99% of offered, no error, p99 under
 * --max-p99 when given).
 */
#ifndef PORTEX_CMD_RAMP_H
#define PORTEX_CMD_RAMP_H

#include <stddef.h>
#include <stdint.h>

#include "portex/cmd/command.h"
#include "portex/cmd/metrics.h"
#include "portex/load/load.h"

struct px_ramp;

/* `portex ramp`: run's load, one open-model run per step from --from to --to. */
struct px_ramp_config {
    struct px_load base; /* the load; rate and duration set per step */
    struct px_outputs out;
    double from_per_s, to_per_s, step_per_s;
    uint64_t step_ms;    /* --step-duration */
    uint64_t max_p99_ms; /* --max-p99; 0 = no latency bound */
    int no_stop;         /* run every step, even after two failed */
    struct px_metrics_config metrics;
};

/* Defaults: run's load, 5 s steps. */
void px_ramp_config_defaults(struct px_ramp_config *cfg);

/*
 * Runs the steps against cfg->base.target (resolved) into ramp; with metrics
 * (px_metrics_open) each step's ticks go to the live metrics under the label
 * mode="step-RATE/s". Stops after two failing steps unless cfg->no_stop. PX_EXIT_OK when done,
 * PX_EXIT_INTERRUPTED when SIGINT/SIGTERM cut it short (what ran is in ramp),
 * PX_EXIT_FAILED with err when a step could not start.
 */
enum px_exit px_ramp_run(const struct px_ramp_config *cfg, struct px_ramp *ramp,
                         struct px_metrics *metrics, char *err, size_t errlen);

/* `portex ramp` arguments into cfg: run's load options except -r, -d and -n, and the steps. */
int px_ramp_parse(int argc, char **argv, struct px_ramp_config *cfg, char *err, size_t errlen);

/* The command's row in main.c's table. */
extern const struct px_command px_ramp_command;

#endif
