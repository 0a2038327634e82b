/* SPDX-License-Identifier: MIT */
/* portex watch: the port budget of a live host, for every process, read-only. */
#ifndef PORTEX_CMD_WATCH_H
#define PORTEX_CMD_WATCH_H

#include <stddef.h>

#include "portex/cmd/command.h"
#include "portex/cmd/metrics.h"
#include "portex/load/watch.h"

/* `portex watch`. */
struct px_watch_cmd_config {
    struct px_watch_config watch;     /* --interval, -d, --count, --dest */
    struct px_outputs out;            /* --json, -q */
    struct px_metrics_config metrics; /* --metrics, --metrics-linger */
};

/* `portex watch` arguments into cfg (defaults: 1 s ticks until stopped): a PX_CLI_ status. */
int px_watch_parse(int argc, char **argv, struct px_watch_cmd_config *cfg, char *err,
                   size_t errlen);

/* The command's row in main.c's table: exit 0 at its end (a stop signal ends a watch
 * without -d or --count), 130 when a signal cuts -d or --count short, 1 when it cannot
 * dump the sockets. */
extern const struct px_command px_watch_command;

#endif
