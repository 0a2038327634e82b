/* SPDX-License-Identifier: MIT */
/*
 * The exposition text of live metrics. The two formats differ in small,
 * strict ways: OpenMetrics writes TYPE, UNIT, HELP naming a counter's family
 * without _total, timestamps in seconds, and ends with "# EOF"; 0.0.4 writes
 * HELP then TYPE naming the sample, timestamps in whole milliseconds, no
 * UNIT, no end. A timestamp in the wrong unit, or one timestamp reused with a
 * new value, is dropped by Prometheus without a word (the target stays up):
 * every sample of an exposition carries the same tick's timestamp.
 */
#include "portex/report/exposition.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "portex/base/outcome.h"
#include "portex/load/engine.h"
#include "portex/load/hist.h"
#include "portex/load/load.h"
#include "portex/load/stats.h"

/*
 * The `le` edges, in us: 1-2-2.5-5 per decade from 50 us to 20 s, then 30 s
 * and 60 s, each moved to the nearest boundary of portex's buckets (under
 * 0.3% away; exact up to 2 ms). Every portex bucket then lies wholly under
 * one edge, so a quantile Prometheus computes lands in the `le` interval of
 * the bucket portex reports (both take the first cumulative count >= rank).
 * le=R counts the values under R us, that is up to R - 1 us: latencies are
 * whole microseconds, so "<= R s" differs only by that last microsecond. The
 * last edge is the boundary above PX_HIST_MAX_US, where longer values count.
 */
const uint64_t px_expo_edges_us[PX_EXPO_EDGES] = {
    50,      100,     200,     250,      500,      1000,     2000,     2496,   4992,
    9984,    19968,   24960,   49920,    99840,    199680,   249856,   499712, 999424,
    1998848, 2506752, 5013504, 10027008, 20054016, 30015488, 60030976,
};

static const char *const phase_names[PX_EXPO_PHASES] = {"connect", "first_byte", "total"};

/* ---- values and samples ------------------------------------------------- */

void px_expo_hist_of(struct px_expo_hist *out, const struct px_hist *h)
{
    /* From the buckets alone: a snapshot taken while workers record may read
     * h->count a step ahead of a bucket, and +Inf must equal the buckets' sum. */
    uint64_t below = 0;
    unsigned e = 0;
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++) {
        uint64_t lo, hi;
        px_hist_bounds(i, &lo, &hi);
        while (e < PX_EXPO_EDGES && px_expo_edges_us[e] <= hi)
            out->below[e++] = below;
        below += h->buckets[i];
    }
    while (e < PX_EXPO_EDGES)
        out->below[e++] = below;
    out->count = below;
    out->sum_us = h->sum_us;
}

/* The sample of a run's state: totals, latency, prediction, and the levels of a row. */
static void sample_of(struct px_expo_sample *out, const struct px_totals *totals,
                      const struct px_latency *lat, const struct px_exhaustion *ex,
                      const struct px_series_row *row, const struct px_load *load)
{
    memset(out, 0, sizeof(*out));
    out->totals = *totals;
    out->in_flight = row ? row->in_flight : 0;
    out->time_wait = row ? row->time_wait : -1;
    out->usable_ports = ex->usable_ports;
    out->ceiling_per_s = ex->ceiling.per_s;
    out->rate_per_s = load->rate_per_s;
    out->https = load->url.tls;
    px_expo_hist_of(&out->lat[PX_EXPO_CONNECT], &lat->connect);
    px_expo_hist_of(&out->lat[PX_EXPO_FIRST_BYTE], &lat->ttfb);
    px_expo_hist_of(&out->lat[PX_EXPO_TOTAL], &lat->total);
}

void px_expo_sample_tick(struct px_expo_sample *out, const struct px_stats_interval *iv,
                         const struct px_run *run)
{
    const struct px_engine_snapshot *snap = iv->snap;
    struct px_exhaustion ex = {.timestamps = snap->timestamps,
                               .bound_ports = run->ex.bound_ports,
                               .open_ports = run->ex.open_ports};
    px_exhaustion_predict(&ex, run->load, &run->env, px_hist_mean(&snap->lat.total) / 1e6);
    sample_of(out, &snap->totals, &snap->lat, &ex, iv->row, run->load);
}

void px_expo_sample_run(struct px_expo_sample *out, const struct px_run *run)
{
    const struct px_series *s = &run->series;
    sample_of(out, &run->totals, &run->lat, &run->ex, s->count ? &s->rows[s->count - 1] : NULL,
              run->load);
}

void px_expo_labels_of(struct px_expo_labels *out, const char *mode, const struct px_load *load)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->mode, sizeof(out->mode), "%s", mode);
    if (load->shards)
        snprintf(out->shard, sizeof(out->shard), "%u/%u", load->shard, load->shards);
    px_sockaddr_str((const struct sockaddr *)&load->target, out->target, sizeof(out->target));
}

/* ---- text --------------------------------------------------------------- */

void px_expo_le(char *buf, size_t len, uint64_t us)
{
    static const char zeros[] = "0000000000000000000000";
    if (us == 0) {
        snprintf(buf, len, "0.0");
        return;
    }
    /* us / 1e6 = 0.d1d2... x 10^dp: its digits without trailing zeros, and dp. */
    char d[24];
    int nd = snprintf(d, sizeof(d), "%llu", (unsigned long long)us);
    int dp = nd - 6;
    while (nd > 1 && d[nd - 1] == '0')
        d[--nd] = '\0';
    int x = dp - 1; /* the decimal exponent: Go's shortest 'g' writes %e below -4 or from 6 */
    if (x < -4 || x >= 6)
        snprintf(buf, len, "%c%s%se%c%02d", d[0], nd > 1 ? "." : "", d + 1, x < 0 ? '-' : '+',
                 x < 0 ? -x : x);
    else if (dp <= 0)
        snprintf(buf, len, "0.%.*s%s", -dp, zeros, d);
    else if (dp >= nd) /* a whole number of seconds: OpenMetrics' canonical "1.0" */
        snprintf(buf, len, "%s%.*s.0", d, dp - nd, zeros);
    else
        snprintf(buf, len, "%.*s.%s", dp, d, d + dp);
}

/* A double in the shortest form that reads back the same; +Inf, -Inf, NaN. */
static void real_text(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, "%cInf", v > 0 ? '+' : '-');
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Escapes a label value or HELP text: backslash and newline, and in label
 * values (and OpenMetrics' HELP) the double quote. */
static void put_escaped(FILE *f, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '"' && quote)
            fputs("\\\"", f);
        else
            fputc(*s, f);
    }
}

void px_expo_family(FILE *f, enum px_expo_format fmt, const char *name, const char *type,
                    const char *unit, const char *help)
{
    if (fmt == PX_EXPO_OPENMETRICS) {
        fprintf(f, "# TYPE %s %s\n", name, type);
        if (unit)
            fprintf(f, "# UNIT %s %s\n", name, unit);
        fprintf(f, "# HELP %s ", name);
        put_escaped(f, help, 1);
        fputc('\n', f);
        return;
    }
    const char *suffix = strcmp(type, "counter") == 0 ? "_total" : "";
    fprintf(f, "# HELP %s%s ", name, suffix);
    put_escaped(f, help, 0);
    fprintf(f, "\n# TYPE %s%s %s\n", name, suffix, type);
}

void px_expo_line(FILE *f, enum px_expo_format fmt, const char *name,
                  const struct px_expo_label *labels, size_t nlabels, const char *value,
                  uint64_t ts_ms)
{
    fputs(name, f);
    for (size_t i = 0; i < nlabels; i++) {
        fprintf(f, "%c%s=\"", i == 0 ? '{' : ',', labels[i].name);
        put_escaped(f, labels[i].value, 1);
        fputc('"', f);
    }
    if (nlabels)
        fputc('}', f);
    unsigned long long ts = ts_ms;
    if (fmt == PX_EXPO_OPENMETRICS)
        fprintf(f, " %s %llu.%03llu\n", value, ts / 1000, ts % 1000);
    else
        fprintf(f, " %s %llu\n", value, ts);
}

void px_expo_end(FILE *f, enum px_expo_format fmt)
{
    if (fmt == PX_EXPO_OPENMETRICS)
        fputs("# EOF\n", f);
}

/* ---- the loads' families ------------------------------------------------- */

/* Where the samples of one family go, and their labels besides a load's own. */
struct family_out {
    FILE *f;
    enum px_expo_format fmt;
    uint64_t ts_ms;
};

/* One sample of a load: its labels, then extra (cause or phase) and le when given. */
static void load_line(const struct family_out *o, const char *name, const struct px_expo_load *l,
                      const struct px_expo_label *extra, const char *le, const char *value)
{
    struct px_expo_label labels[5];
    size_t n = 0;
    labels[n++] = (struct px_expo_label){"mode", l->labels.mode};
    if (l->labels.shard[0])
        labels[n++] = (struct px_expo_label){"shard", l->labels.shard};
    labels[n++] = (struct px_expo_label){"target", l->labels.target};
    if (extra)
        labels[n++] = *extra;
    if (le)
        labels[n++] = (struct px_expo_label){"le", le};
    px_expo_line(o->f, o->fmt, name, labels, n, value, o->ts_ms);
}

static void u64_text(char *buf, size_t len, uint64_t v)
{
    snprintf(buf, len, "%llu", (unsigned long long)v);
}

/*
 * The counters of PX_TOTALS (load/counters.h), each portex_<name>_total, with
 * its meaning as HELP; a counter added there appears here by itself. Two are
 * shown otherwise: `started` as the requests that ended, ok + failed (the
 * summary's `requests`, so that requests = ok + failures at every tick), and
 * `failed` by cause.
 */
struct counter_def {
    const char *name;
    size_t off;
    int https; /* only an https run moves it: shown for https loads only */
    const char *help;
};

static const struct counter_def counters[] = {
#define COUNTER_DEF(n, kind, meaning)                                                              \
    {.name = #n, .off = offsetof(struct px_totals, n), .https = (kind) == 1, .help = meaning},
    PX_TOTALS(COUNTER_DEF)
#undef COUNTER_DEF
};

static uint64_t counter_value(const struct counter_def *c, const struct px_totals *t)
{
    if (strcmp(c->name, "started") == 0)
        return t->ok + t->failed;
    return *(const uint64_t *)((const char *)t + c->off);
}

/* portex_failures_total{cause}: EADDRNOTAVAIL always (a dashboard's rate needs it
 * from the start), every other cause once it happened; the JSON's names. */
static void write_failures(const struct family_out *o, const struct px_expo_load *loads, size_t n)
{
    px_expo_family(o->f, o->fmt, "portex_failures", "counter", NULL,
                   "Failed requests by cause (the JSON's error names).");
    int eaddr = px_cause_from_errno(EADDRNOTAVAIL);
    for (size_t i = 0; i < n; i++) {
        const uint64_t *cause = loads[i].at.totals.cause;
        for (int k = -1; k < PX_CAUSE_COUNT; k++) {
            int c = k < 0 ? eaddr : k; /* EADDRNOTAVAIL first */
            if (k == eaddr || (k >= 0 && cause[c] == 0))
                continue;
            char v[24];
            u64_text(v, sizeof(v), cause[c]);
            struct px_expo_label label = {"cause", px_cause_name(c)};
            load_line(o, "portex_failures_total", &loads[i], &label, NULL, v);
        }
    }
}

static void write_counters(const struct family_out *o, const struct px_expo_load *loads, size_t n)
{
    int any_https = 0;
    for (size_t i = 0; i < n; i++)
        any_https |= loads[i].at.https;
    for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
        const struct counter_def *d = &counters[c];
        if (strcmp(d->name, "failed") == 0) {
            write_failures(o, loads, n);
            continue;
        }
        if (d->https && !any_https)
            continue;
        int requests = strcmp(d->name, "started") == 0;
        char family[64], sample[72];
        snprintf(family, sizeof(family), "portex_%s", requests ? "requests" : d->name);
        snprintf(sample, sizeof(sample), "%s_total", family);
        px_expo_family(o->f, o->fmt, family, "counter", NULL,
                       requests ? "Requests that ended: ok + failed (the summary's requests)."
                                : d->help);
        for (size_t i = 0; i < n; i++) {
            if (d->https && !loads[i].at.https)
                continue;
            char v[24];
            u64_text(v, sizeof(v), counter_value(d, &loads[i].at.totals));
            load_line(o, sample, &loads[i], NULL, NULL, v);
        }
    }
}

/* A gauge: its value as text, or 0 when the load has none to show. */
struct gauge_def {
    const char *name;
    const char *help;
    int (*value)(const struct px_expo_sample *at, char *buf, size_t len);
};

static int in_flight_text(const struct px_expo_sample *at, char *buf, size_t len)
{
    u64_text(buf, len, at->in_flight);
    return 1;
}

static int time_wait_text(const struct px_expo_sample *at, char *buf, size_t len)
{
    u64_text(buf, len, (uint64_t)at->time_wait);
    return at->time_wait >= 0;
}

static int usable_ports_text(const struct px_expo_sample *at, char *buf, size_t len)
{
    u64_text(buf, len, at->usable_ports);
    return 1;
}

static int ceiling_text(const struct px_expo_sample *at, char *buf, size_t len)
{
    real_text(buf, len, at->ceiling_per_s);
    return 1;
}

static int rate_text(const struct px_expo_sample *at, char *buf, size_t len)
{
    real_text(buf, len, at->rate_per_s);
    return at->rate_per_s > 0;
}

static const struct gauge_def gauges[] = {
    {.name = "portex_in_flight",
     .help = "Requests in flight at the tick.",
     .value = in_flight_text},
    {.name = "portex_time_wait",
     .help = "TIME_WAIT sockets toward the target at the tick (sock_diag).",
     .value = time_wait_text},
    {.name = "portex_usable_ports",
     .help = "Usable local ports toward the target: the range in force minus reserved ports.",
     .value = usable_ports_text},
    {.name = "portex_predicted_ceiling_per_second",
     .help = "Predicted sustained requests per second for these settings; +Inf when ports "
             "do not bind.",
     .value = ceiling_text},
    {.name = "portex_target_rate_per_second",
     .help = "The open model's target rate of new requests (-r).",
     .value = rate_text},
};

static void write_gauges(const struct family_out *o, const struct px_expo_load *loads, size_t n)
{
    for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
        char v[40];
        int any = 0;
        for (size_t i = 0; i < n && !any; i++)
            any = gauges[g].value(&loads[i].at, v, sizeof(v));
        if (!any)
            continue; /* no family without a sample */
        px_expo_family(o->f, o->fmt, gauges[g].name, "gauge", NULL, gauges[g].help);
        for (size_t i = 0; i < n; i++)
            if (gauges[g].value(&loads[i].at, v, sizeof(v)))
                load_line(o, gauges[g].name, &loads[i], NULL, NULL, v);
    }
}

/* One load's phase: its buckets, +Inf, count and sum, not interleaved with another's. */
static void write_phase(const struct family_out *o, const struct px_expo_load *l, int phase)
{
    const struct px_expo_hist *h = &l->at.lat[phase];
    struct px_expo_label label = {"phase", phase_names[phase]};
    char v[32], le[32];
    for (int e = 0; e < PX_EXPO_EDGES; e++) {
        px_expo_le(le, sizeof(le), px_expo_edges_us[e]);
        u64_text(v, sizeof(v), h->below[e]);
        load_line(o, "portex_latency_seconds_bucket", l, &label, le, v);
    }
    u64_text(v, sizeof(v), h->count);
    load_line(o, "portex_latency_seconds_bucket", l, &label, "+Inf", v);
    load_line(o, "portex_latency_seconds_count", l, &label, NULL, v);
    snprintf(v, sizeof(v), "%llu.%06llu", (unsigned long long)(h->sum_us / 1000000),
             (unsigned long long)(h->sum_us % 1000000));
    load_line(o, "portex_latency_seconds_sum", l, &label, NULL, v);
}

void px_expo_write_loads(FILE *f, enum px_expo_format fmt, const struct px_expo_load *loads,
                         size_t n, uint64_t ts_ms)
{
    if (n == 0)
        return;
    const struct family_out o = {.f = f, .fmt = fmt, .ts_ms = ts_ms};
    write_counters(&o, loads, n);
    write_gauges(&o, loads, n);
    px_expo_family(f, fmt, "portex_latency_seconds", "histogram", "seconds",
                   "Request latency by phase on portex's bucket edges: connect() to established; "
                   "first byte and whole response from the start (the scheduled one with -r).");
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < PX_EXPO_PHASES; p++)
            write_phase(&o, &loads[i], p);
}

void px_expo_write_serve(FILE *f, enum px_expo_format fmt, const struct px_expo_serve *s,
                         uint64_t ts_ms)
{
    const struct {
        const char *family, *help;
        uint64_t value;
    } rows[] = {
        {"portex_serve_accepted", "Connections portex serve accepted.", s->accepted},
        {"portex_serve_requests", "Requests portex serve answered.", s->requests},
        {"portex_serve_accept_errors",
         "accept() calls that failed (EMFILE at the open-files limit pauses accepting).",
         s->accept_errors},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char sample[64], v[24];
        snprintf(sample, sizeof(sample), "%s_total", rows[i].family);
        u64_text(v, sizeof(v), rows[i].value);
        px_expo_family(f, fmt, rows[i].family, "counter", NULL, rows[i].help);
        px_expo_line(f, fmt, sample, NULL, 0, v, ts_ms);
    }
}
