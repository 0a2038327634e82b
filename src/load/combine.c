/* SPDX-License-Identifier: MIT */
/* Merging hosts' results of one sharded run, exactly: sums and bucket-wise histograms. */
#include "portex/load/combine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/load/load.h"
#include "portex/load/hist.h"
#include "portex/load/result.h"
#include "portex/load/stats.h"

int px_combine_check(const struct px_run *const *runs, const char *const *names, size_t n,
                     char *err, size_t errlen)
{
    const struct px_load *a = runs[0]->load;
    for (size_t i = 1; i < n; i++) {
        const struct px_load *b = runs[i]->load;
        if (strcmp(a->url_text, b->url_text) != 0) {
            snprintf(err, errlen, "%s targets %s but %s targets %s: only one run's shards merge",
                     names[i], b->url_text, names[0], a->url_text);
            return -1;
        }
        if (a->keepalive != b->keepalive || (!a->keepalive && a->close != b->close)) {
            snprintf(err, errlen, "%s ran mode %s/%s but %s ran %s/%s", names[i],
                     px_load_mode_name(b), px_close_name(b->close), names[0], px_load_mode_name(a),
                     px_close_name(a->close));
            return -1;
        }
        if (a->target_ports != b->target_ports || a->bind_first != b->bind_first) {
            snprintf(err, errlen,
                     "%s and %s spread their connections differently "
                     "(target ports, bind before connect): only one run's shards merge",
                     names[i], names[0]);
            return -1;
        }
        if (a->http2 != b->http2 || px_load_conn_streams(a) != px_load_conn_streams(b)) {
            snprintf(err, errlen, "%s ran %s (%u streams per connection) but %s ran %s (%u)",
                     names[i], px_load_protocol(b), px_load_conn_streams(b), names[0],
                     px_load_protocol(a), px_load_conn_streams(a));
            return -1;
        }
        if (a->no_retry != b->no_retry) {
            snprintf(err, errlen, "%s ran %s --no-retry but %s %s: not one run's shards", names[i],
                     b->no_retry ? "with" : "without", names[0], a->no_retry ? "did" : "did not");
            return -1;
        }
        if (b->shards == 0 || a->shards == 0) {
            snprintf(err, errlen, "%s is not a shard (run each host with --shard K/N)",
                     b->shards == 0 ? names[i] : names[0]);
            return -1;
        }
        if (b->shards != a->shards) {
            snprintf(err, errlen, "%s is shard %u/%u but %s is shard %u/%u: not the same N",
                     names[i], b->shard, b->shards, names[0], a->shard, a->shards);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (runs[k]->load->shard == b->shard) {
                snprintf(err, errlen, "%s and %s are both shard %u/%u", names[k], names[i],
                         b->shard, b->shards);
                return -1;
            }
    }
    return 0;
}

/* Per wall-clock bin of the merged series. */
struct bin {
    struct px_series_row row; /* counts summed; t = latest row end in the bin */
    struct px_hist h;
    int used;
};

/* A row ending at rel seconds (since the earliest start) belongs to bin
 * ceil(rel / step - 0.25): hosts' ticks a little apart land together, and a
 * run's short last row keeps a bin of its own. */
static long bin_of(double rel, double step)
{
    long b = (long)ceil(rel / step - 0.25);
    return b < 0 ? 0 : b;
}

static double rel_end(const struct px_run *r, size_t i, int64_t t0)
{
    return (double)(r->t0_unix_ns - t0) / 1e9 + r->series.rows[i].t;
}

static void bin_add(struct bin *b, const struct px_series_row *r, const struct px_hist *h,
                    double rel)
{
    b->used = 1;
    if (rel > b->row.t)
        b->row.t = rel;
    b->row.started += r->started;
    b->row.ok += r->ok;
    b->row.failed += r->failed;
    b->row.eaddrnotavail += r->eaddrnotavail;
    b->row.other_errors += r->other_errors;
    b->row.connections_opened += r->connections_opened;
    b->row.tw_recycled += r->tw_recycled;
    b->row.tw_overflow += r->tw_overflow;
    b->row.drain |= r->drain;
    b->row.retries += r->retries;
    px_hist_merge(&b->h, h);
}

/* Levels (in flight, TIME_WAIT) of host k in a bin: its last row there. */
struct level {
    int set;
    uint64_t in_flight;
    int64_t time_wait, time_wait_all;
};

static void levels_sum(struct bin *b, const struct level *lv, size_t n)
{
    b->row.time_wait = b->row.time_wait_all = -1;
    for (size_t k = 0; k < n; k++) {
        if (!lv[k].set)
            continue;
        b->row.in_flight += lv[k].in_flight;
        if (lv[k].time_wait >= 0)
            b->row.time_wait = (b->row.time_wait < 0 ? 0 : b->row.time_wait) + lv[k].time_wait;
        if (lv[k].time_wait_all >= 0)
            b->row.time_wait_all =
                (b->row.time_wait_all < 0 ? 0 : b->row.time_wait_all) + lv[k].time_wait_all;
    }
}

static int copy_series(const struct px_series *src, struct px_series *out)
{
    struct px_hist h;
    for (size_t i = 0; i < src->count; i++) {
        px_series_row_hist(src, i, &h);
        if (px_series_push_hist(out, &src->rows[i], &h) < 0)
            return -1;
    }
    return 0;
}

static int combine_series(const struct px_run *const *runs, size_t n, int64_t t0,
                          struct px_series *out)
{
    if (n == 1)
        return copy_series(&runs[0]->series, out);
    double step = runs[0]->load->interval_ms ? (double)runs[0]->load->interval_ms / 1000.0 : 1.0;
    long nb = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < runs[k]->series.count; i++)
            if (bin_of(rel_end(runs[k], i, t0), step) + 1 > nb)
                nb = bin_of(rel_end(runs[k], i, t0), step) + 1;
    struct bin *bins = calloc((size_t)nb + 1, sizeof(*bins));
    struct level *lv = calloc(((size_t)nb + 1) * n, sizeof(*lv));
    int rc = -1;
    if (bins == NULL || lv == NULL)
        goto out;
    for (long b = 0; b < nb; b++)
        px_hist_init(&bins[b].h);
    struct px_hist h;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < runs[k]->series.count; i++) {
            const struct px_series_row *r = &runs[k]->series.rows[i];
            double rel = rel_end(runs[k], i, t0);
            long b = bin_of(rel, step);
            px_series_row_hist(&runs[k]->series, i, &h);
            bin_add(&bins[b], r, &h, rel);
            lv[(size_t)b * n + k] = (struct level){1, r->in_flight, r->time_wait, r->time_wait_all};
        }
    for (long b = 0; b < nb; b++) {
        if (!bins[b].used)
            continue;
        levels_sum(&bins[b], &lv[(size_t)b * n], n);
        bins[b].row.p50_us = px_hist_percentile(&bins[b].h, 50);
        bins[b].row.p99_us = px_hist_percentile(&bins[b].h, 99);
        if (px_series_push_hist(out, &bins[b].row, &bins[b].h) < 0)
            goto out;
    }
    rc = 0;
out:
    free(bins);
    free(lv);
    return rc;
}

static int64_t add_known(int64_t sum, int64_t v)
{
    if (v < 0)
        return sum;
    return (sum < 0 ? 0 : sum) + v;
}

/* TIME_WAIT and ceilings add up: each host has its own port space. */
static void combine_exhaustion(const struct px_run *const *runs, size_t n, int64_t t0,
                               struct px_exhaustion *ex)
{
    *ex = runs[0]->ex;
    if (n == 1)
        return;
    ex->time_wait_peak = ex->time_wait_at_start = -1;
    ex->bound_ports = ex->bound_listening = ex->open_ports = -1;
    ex->seen = 0;
    ex->ok_before = ex->usable_ports = 0;
    ex->ceiling.per_s = ex->ceiling.burst = 0;
    int same = 1;
    for (size_t k = 0; k < n; k++) {
        const struct px_exhaustion *e = &runs[k]->ex;
        ex->time_wait_peak = add_known(ex->time_wait_peak, e->time_wait_peak);
        ex->time_wait_at_start = add_known(ex->time_wait_at_start, e->time_wait_at_start);
        ex->bound_ports = add_known(ex->bound_ports, e->bound_ports);
        ex->bound_listening = add_known(ex->bound_listening, e->bound_listening);
        ex->open_ports = add_known(ex->open_ports, e->open_ports);
        double first = e->first_s + (double)(runs[k]->t0_unix_ns - t0) / 1e9;
        if (e->seen && (!ex->seen || first < ex->first_s))
            ex->first_s = first;
        ex->seen |= e->seen;
        /* Each host's own count before its own first EADDRNOTAVAIL. */
        ex->ok_before += e->seen ? e->ok_before : 0;
        ex->usable_ports += e->usable_ports;
        ex->ceiling.per_s += e->ceiling.per_s;
        ex->ceiling.burst += e->ceiling.burst;
        ex->ceiling.port_bound |= e->ceiling.port_bound;
        if (e->timestamps != ex->timestamps)
            ex->timestamps = -1;
        same &= strcmp(e->ceiling.formula, runs[0]->ex.ceiling.formula) == 0;
    }
    char one[sizeof(ex->ceiling.formula)];
    snprintf(one, sizeof(one), "%s", runs[0]->ex.ceiling.formula);
    if (same)
        snprintf(ex->ceiling.formula, sizeof(ex->ceiling.formula), "%zu hosts x (%.200s)", n, one);
    else
        snprintf(ex->ceiling.formula, sizeof(ex->ceiling.formula),
                 "sum of the %zu hosts' own ceilings", n);
}

/* The merged run's load: the first host's, with the split -c, -n and threads added up. */
static void combine_load(const struct px_run *const *runs, size_t n, struct px_load *cfg)
{
    cfg->body = NULL;
    if (n == 1)
        return;
    /* -c, -n and threads were split between the hosts; the rate is the global one. */
    cfg->shard = 0;
    for (size_t k = 1; k < n; k++) {
        const struct px_load *c = runs[k]->load;
        cfg->connections += c->connections;
        cfg->requests += c->requests;
        cfg->threads += c->threads;
        for (size_t i = 0; i < c->nsources && cfg->nsources < PX_MAX_SOURCES; i++)
            cfg->sources[cfg->nsources++] = c->sources[i];
    }
}

struct px_run *px_combine_runs(const struct px_run *const *runs, size_t n)
{
    struct px_run *out = px_run_new(runs[0]->load);
    if (out == NULL)
        return NULL;
    combine_load(runs, n, out->load);
    out->env = runs[0]->env;
    out->hosts = (unsigned)n;
    px_hist_init(&out->lat.connect);
    px_hist_init(&out->lat.ttfb);
    px_hist_init(&out->lat.total);
    px_hist_init(&out->lat.tls);
    px_hist_init(&out->lat.connect_call);
    out->tls = runs[0]->tls; /* https: the first host's protocol and reasons */
    int64_t t0 = runs[0]->t0_unix_ns;
    double end = 0;
    for (size_t k = 0; k < n; k++)
        if (runs[k]->t0_unix_ns < t0)
            t0 = runs[k]->t0_unix_ns;
    for (size_t k = 0; k < n; k++) {
        const struct px_run *r = runs[k];
        px_totals_add(&out->totals, &r->totals);
        px_hist_merge(&out->lat.connect, &r->lat.connect);
        px_hist_merge(&out->lat.ttfb, &r->lat.ttfb);
        px_hist_merge(&out->lat.total, &r->lat.total);
        px_hist_merge(&out->lat.tls, &r->lat.tls);
        px_hist_merge(&out->lat.connect_call, &r->lat.connect_call);
        out->interrupted |= r->interrupted;
        if (r->drain_s > out->drain_s)
            out->drain_s = r->drain_s;
        /* The merged run lasts from the first host's start to the last one's end. */
        double e = (double)(r->t0_unix_ns - t0) / 1e9 + r->duration_s;
        if (e > end)
            end = e;
    }
    out->t0_unix_ns = t0;
    out->duration_s = n == 1 ? runs[0]->duration_s : end;
    snprintf(out->host, sizeof(out->host), "%s", n == 1 ? runs[0]->host : "");
    combine_exhaustion(runs, n, t0, &out->ex);
    if (combine_series(runs, n, t0, &out->series) < 0) {
        px_run_free(out);
        return NULL;
    }
    return out;
}
