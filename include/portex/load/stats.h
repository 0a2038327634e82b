/* SPDX-License-Identifier: MIT */
/*
 * The stats thread: every interval it snapshots the workers' counters (no lock
 * on their hot path) and the kernel (TIME_WAIT toward the target via
 * sock_diag, TcpExt counters) into one row of the run's time series, and
 * draws the live line on stderr.
 */
#ifndef PORTEX_STATS_H
#define PORTEX_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "portex/load/series.h"

struct px_engine;
struct px_config;

struct px_stats;

/* Starts the stats thread over a running engine; live line to `live` unless NULL. */
struct px_stats *px_stats_start(struct px_engine *e, const struct px_config *cfg, FILE *live);
/*
 * Stops the thread and, once the engine has ended, takes the last row, so that
 * the rows add up to the run's totals. The series then belongs to the caller.
 */
void px_stats_finish(struct px_stats *s, struct px_series *out, int64_t *time_wait_peak);

#endif
