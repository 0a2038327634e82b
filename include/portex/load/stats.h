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
struct px_engine_snapshot;
struct px_load;

struct px_stats;
struct px_hist;

/* What a tick callback gets: the interval's row and histograms, and the run so far. */
struct px_stats_interval {
    double epoch_s; /* wall-clock time of the run's start */
    double start_s; /* the interval is [start_s, row->t) since the run's start */
    const struct px_series_row *row;
    const struct px_engine_snapshot *snap; /* the run so far: totals and histograms since start */
    const struct px_hist *total;   /* requests that ended in the interval */
    const struct px_hist *connect; /* connections established in it */
    const struct px_hist *ttfb;    /* first response bytes in it */
};

/*
 * Called after each row (from the stats thread, and once more from
 * px_stats_finish). Runs outside the workers' hot path; must not block long.
 */
typedef void (*px_stats_tick_cb)(void *arg, const struct px_stats_interval *iv);

/* What the stats thread does on every tick besides the series row. */
struct px_stats_opts {
    FILE *live;            /* the live line, once per tick (stderr); NULL: quiet */
    px_stats_tick_cb tick; /* called after every series row; NULL: none */
    void *tick_arg;
    int row_hists; /* keep each series row's interval histogram (about 8 kB a row),
                    * for --json and merges; off, memory stays flat however long */
};

/*
 * File descriptors the stats thread holds during a run: its sock_diag socket,
 * and the /proc file it reads on each tick (one at a time).
 */
unsigned px_stats_fds(void);
/* Starts the stats thread over a running engine. NULL when it cannot. */
struct px_stats *px_stats_start(struct px_engine *e, const struct px_load *load,
                                const struct px_stats_opts *opts);
/*
 * Stops the thread and, once the engine has ended, takes the last row, so that
 * the rows add up to the run's totals. The series then belongs to the caller.
 */
void px_stats_finish(struct px_stats *s, struct px_series *out, int64_t *time_wait_peak);

#endif
