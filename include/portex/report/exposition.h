/* SPDX-License-Identifier: MIT */
/*
 * Live metrics as text for Prometheus (--metrics): the OpenMetrics 1.0.0
 * exposition and the Prometheus text format 0.0.4, from the values of the
 * last stats tick of each load (a run, a mode of compare or lab, a ramp step,
 * a shard) and of portex serve. One timestamp goes on every sample of an
 * exposition; the names are fixed (README.md, Live metrics).
 */
#ifndef PORTEX_REPORT_EXPOSITION_H
#define PORTEX_REPORT_EXPOSITION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "portex/base/url.h"
#include "portex/load/result.h"

struct px_load;
struct px_stats_interval;

enum px_expo_format {
    PX_EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
    PX_EXPO_PROMETHEUS,  /* text/plain; version=0.0.4 (promtool reads only this one) */
};

/* portex_latency_seconds' `le` edges in us, each a boundary of portex's buckets (exposition.c). */
#define PX_EXPO_EDGES 25
extern const uint64_t px_expo_edges_us[PX_EXPO_EDGES];

/* The phases of portex_latency_seconds (label phase). */
enum px_expo_phase { PX_EXPO_CONNECT, PX_EXPO_FIRST_BYTE, PX_EXPO_TOTAL, PX_EXPO_PHASES };

/* One phase's latency since the run's start, on the `le` edges. */
struct px_expo_hist {
    uint64_t below[PX_EXPO_EDGES]; /* values under each edge */
    uint64_t count;                /* every value: the +Inf bucket */
    uint64_t sum_us;
};

/* One load's values at a tick: numbers only, no pointer (a lab client sends it down a pipe). */
struct px_expo_sample {
    struct px_totals totals; /* since the run's start */
    uint64_t in_flight;      /* at the tick */
    int64_t time_wait;       /* TIME_WAIT toward the target at the tick; -1 unknown (not shown) */
    uint64_t usable_ports;
    double ceiling_per_s; /* predicted; INFINITY when ports do not bind */
    double rate_per_s;    /* the open model's -r; 0 in the closed model (not shown) */
    int https;            /* the https-only counters are shown */
    struct px_expo_hist lat[PX_EXPO_PHASES];
};

/* The labels of one load's samples. */
struct px_expo_labels {
    char mode[64];                    /* run: short or keepalive; a compare/lab mode; a ramp step */
    char shard[24];                   /* "K/N" under --shard; "" alone (no label) */
    char target[PX_URL_UNIX_MAX + 8]; /* "IP:PORT" or "unix:PATH" */
};

/* One load: its labels and its last tick's values. */
struct px_expo_load {
    struct px_expo_labels labels;
    struct px_expo_sample at;
};

/* portex serve's counts since it started. */
struct px_expo_serve {
    uint64_t accepted, requests, accept_errors;
};

/* One label of a sample, for px_expo_line. */
struct px_expo_label {
    const char *name, *value;
};

/* The labels of a load: mode as given, shard and target from the load. */
void px_expo_labels_of(struct px_expo_labels *out, const char *mode, const struct px_load *load);
/*
 * A tick's values: totals and histograms from the run so far (iv->snap), the
 * levels from its row, the ports and ceiling predicted for run's load in its
 * environment (read at the run's start) with the latency measured so far.
 */
void px_expo_sample_tick(struct px_expo_sample *out, const struct px_stats_interval *iv,
                         const struct px_run *run);
/* A finished run's values: its totals, histograms, prediction and last row. */
void px_expo_sample_run(struct px_expo_sample *out, const struct px_run *run);
/* A histogram on the `le` edges: the count under each edge, all of them, the sum. */
void px_expo_hist_of(struct px_expo_hist *out, const struct px_hist *h);

/* The families of the loads, every sample stamped ts_ms (ms since the epoch); none when n is 0. */
void px_expo_write_loads(FILE *f, enum px_expo_format fmt, const struct px_expo_load *loads,
                         size_t n, uint64_t ts_ms);
/* portex serve's families. */
void px_expo_write_serve(FILE *f, enum px_expo_format fmt, const struct px_expo_serve *s,
                         uint64_t ts_ms);
/* Ends an exposition (OpenMetrics: "# EOF"). */
void px_expo_end(FILE *f, enum px_expo_format fmt);

/*
 * The pieces, for a command with metrics of its own: a family's metadata
 * (type "counter": name without _total; its samples add it) and one sample.
 */
void px_expo_family(FILE *f, enum px_expo_format fmt, const char *name, const char *type,
                    const char *unit, const char *help);
void px_expo_line(FILE *f, enum px_expo_format fmt, const char *name,
                  const struct px_expo_label *labels, size_t nlabels, const char *value,
                  uint64_t ts_ms);
/* An `le` value: seconds from whole us, as Go's strconv 'g' writes them ("5e-05", "0.001"). */
void px_expo_le(char *buf, size_t len, uint64_t us);

#endif
