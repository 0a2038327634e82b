/* SPDX-License-Identifier: MIT */
/* portex run: one load run against a URL, its reports. */
#ifndef PORTEX_CMD_RUN_H
#define PORTEX_CMD_RUN_H

#include <stddef.h>

#include "portex/cmd/command.h"
#include "portex/cmd/metrics.h"
#include "portex/load/load.h"

/* `portex run`: the load, the outputs, the live metrics. */
struct px_run_config {
    struct px_load load;
    struct px_outputs out;
    struct px_metrics_config metrics;
};

/* `portex run` arguments (argv[0] is "run") into cfg: a PX_CLI_ status. Does not resolve the host.
 */
int px_run_parse(int argc, char **argv, struct px_run_config *cfg, char *err, size_t errlen);

/* The command's row in main.c's table. */
extern const struct px_command px_run_command;

#endif
