/* SPDX-License-Identifier: MIT */
/* One load run from start to result: engine, signals, and (later) sampling. */
#ifndef PORTEX_RUN_H
#define PORTEX_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "portex/load/stats.h"

struct px_run;

/*
 * Runs run->load (made by px_run_new; its target resolved) and fills run;
 * opts says what the stats thread does per tick besides the series row.
 * SIGINT and SIGTERM stop it early (what finished is still reported, and
 * run->interrupted says so). 0, or -1 with the reason in err (nothing ran).
 */
int px_run_execute(struct px_run *run, const struct px_stats_opts *opts, char *err, size_t errlen);

#endif
