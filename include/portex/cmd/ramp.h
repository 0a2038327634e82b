/* SPDX-License-Identifier: MIT */
/*
 * portex ramp: the same load as portex run, one open-model run per step from
 * --from to --to by --step, each --step-duration long, and the knee: the
 * highest step that kept up (ok/s >= 99% of offered, no error, p99 under
 * --max-p99 when given).
 */
#ifndef PORTEX_RAMP_H
#define PORTEX_RAMP_H

#include <stddef.h>

struct px_config;
struct px_ramp;

/*
 * `portex ramp` arguments: the ramp's own options into ramp, the rest as for
 * portex run into base (-r, -d and -n are the ramp's to set). PX_CLI_OK,
 * PX_CLI_HELP, or PX_CLI_USAGE with err.
 */
int px_ramp_parse(int argc, char **argv, struct px_config *base, struct px_ramp *ramp, char *err,
                  size_t errlen);
/*
 * Runs the steps against base->target (resolved). Stops after two failing
 * steps unless ramp->no_stop. 0 when done, 1 when SIGINT/SIGTERM cut it short
 * (what ran is in ramp), -1 with err when a step could not start.
 */
int px_ramp_run(const struct px_config *base, struct px_ramp *ramp, char *err, size_t errlen);

#endif
