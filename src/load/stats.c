/* SPDX-License-Identifier: MIT */
/* The stats thread: one series row per tick from an engine snapshot and the kernel. */
#include "portex/load/stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/load/engine.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "portex/load/result.h"

struct px_stats {
    struct px_engine *e;
    const struct px_load *cfg;
    FILE *live; /* NULL: quiet */
    int tty;    /* rewrite the live line in place */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;                       /* under mu */
    int diag_fd;                    /* sock_diag socket, -1 when unavailable */
    uint64_t t0_us;                 /* the engine's start (monotonic us) */
    struct px_engine_snapshot snap; /* the run at this tick */
    struct px_totals prev;          /* counters at the previous row */
    struct px_hist prev_hist;       /* total latency at the previous row */
    struct px_hist interval_hist;   /* requests that ended in the last interval */
    struct px_hist tls_prev;        /* https: handshake latency at the previous row */
    struct px_tcpext prev_ext;
    int have_ext;
    struct px_series series;
    int64_t tw_peak;
    px_stats_tick_cb tick; /* NULL: none */
    int row_hists;         /* keep each row's interval histogram */
    void *tick_arg;
    struct px_hist prev_phase[2], interval_phase[2]; /* connect, ttfb: tick only */
    double epoch_s;                                  /* wall-clock time of the engine's start */
};

static void live_line(struct px_stats *s, const struct px_series_row *r, double dt)
{
    if (s->live == NULL || dt <= 0)
        return;
    char total[32] = "-n";
    if (s->cfg->duration_ms)
        snprintf(total, sizeof(total), "%.0fs", (double)s->cfg->duration_ms / 1000.0);
    char tw[32] = "?";
    if (r->time_wait >= 0)
        snprintf(tw, sizeof(tw), "%lld", (long long)r->time_wait);
    /* Only a kept-alive connection can close under a request that is then resent. */
    char resent[32] = "";
    if (s->cfg->keepalive)
        snprintf(resent, sizeof(resent), "  resent %5.0f/s", (double)r->retries / dt);
    fprintf(s->live,
            "%s[%6.1fs/%s] new %7.0f/s  ok %7.0f/s  EADDRNOTAVAIL %6.0f/s  "
            "other errors %5.0f/s%s  TIME_WAIT %6s  in flight %4llu%s",
            s->tty ? "\r" : "", r->t, total, (double)r->started / dt, (double)r->ok / dt,
            (double)r->eaddrnotavail / dt, (double)r->other_errors / dt, resent, tw,
            (unsigned long long)r->in_flight, s->tty ? "\033[K" : "\n");
    fflush(s->live);
}

/* https: the interval's handshakes and their median latency (before s->prev moves). */
static void sample_tls(struct px_stats *s, const struct px_totals *cur, struct px_series_row *r)
{
    r->tls_full = cur->tls_full - s->prev.tls_full;
    r->tls_resumed = cur->tls_resumed - s->prev.tls_resumed;
    px_hist_diff(&s->interval_hist, &s->snap.lat.tls, &s->tls_prev);
    r->tls_p50_us = px_hist_percentile(&s->interval_hist, 50);
    s->tls_prev = s->snap.lat.tls;
}

/* Connect and first-byte histograms of the interval, then the callback. */
static void call_tick(struct px_stats *s, const struct px_series_row *r, double start_s)
{
    const struct px_hist *cur_phase[2] = {&s->snap.lat.connect, &s->snap.lat.ttfb};
    for (int i = 0; i < 2; i++) {
        px_hist_diff(&s->interval_phase[i], cur_phase[i], &s->prev_phase[i]);
        s->prev_phase[i] = *cur_phase[i];
    }
    struct px_stats_interval iv = {
        .epoch_s = s->epoch_s,
        .start_s = start_s,
        .row = r,
        .snap = &s->snap,
        .total = &s->interval_hist,
        .connect = &s->interval_phase[0],
        .ttfb = &s->interval_phase[1],
    };
    s->tick(s->tick_arg, &iv);
}

/* Failures of every cause but EADDRNOTAVAIL. */
static uint64_t other_causes(const struct px_totals *t)
{
    uint64_t n = 0;
    for (int c = 0; c < PX_CAUSE_COUNT; c++)
        n += t->cause[c];
    return n - px_totals_errno(t, EADDRNOTAVAIL);
}

static void sample(struct px_stats *s, int live)
{
    struct px_series_row r;
    memset(&r, 0, sizeof(r));
    px_engine_snapshot(s->e, &s->snap);
    const struct px_totals cur = s->snap.totals;
    r.t = (double)(px_clock_us() - s->t0_us) / 1e6;
    double dt = r.t - (s->series.count ? s->series.rows[s->series.count - 1].t : 0);

    r.started = cur.started - s->prev.started;
    r.ok = cur.ok - s->prev.ok;
    r.failed = cur.failed - s->prev.failed;
    r.eaddrnotavail =
        px_totals_errno(&cur, EADDRNOTAVAIL) - px_totals_errno(&s->prev, EADDRNOTAVAIL);
    /* From the cause counters, not failed - EADDRNOTAVAIL: a worker bumps a
     * cause before `failed`, so a snapshot between the two would underflow.
     * Each cause only grows, so each difference is >= 0, and the rows still
     * add up to the totals once the run ended. */
    r.other_errors = other_causes(&cur) - other_causes(&s->prev);
    r.connections_opened = cur.connections_opened - s->prev.connections_opened;
    r.retries = cur.retries - s->prev.retries;
    r.in_flight = px_totals_in_flight(&cur);

    struct px_tw_count tw;
    r.time_wait = -1;
    if (s->diag_fd >= 0 &&
        px_diag_count_tw_ports(s->diag_fd, (const struct sockaddr *)&s->cfg->target,
                               s->cfg->target_ports, &tw) == 0)
        r.time_wait = (int64_t)tw.toward;
    r.time_wait_all = px_sockstat_tw(PX_PROC);
    struct px_tcpext ext;
    if (s->have_ext && px_tcpext_read(PX_PROC, &ext) == 0) {
        r.tw_recycled = ext.tw_recycled - s->prev_ext.tw_recycled;
        r.tw_overflow = ext.tw_overflow - s->prev_ext.tw_overflow;
        s->prev_ext = ext;
    }

    if (s->series.tls)
        sample_tls(s, &cur, &r);
    px_hist_diff(&s->interval_hist, &s->snap.lat.total, &s->prev_hist);
    r.p50_us = px_hist_percentile(&s->interval_hist, 50);
    r.p99_us = px_hist_percentile(&s->interval_hist, 99);
    if (s->tick)
        call_tick(s, &r, r.t - dt);
    s->prev_hist = s->snap.lat.total;
    s->prev = cur;
    if (r.time_wait > s->tw_peak)
        s->tw_peak = r.time_wait;
    if (s->row_hists)
        px_series_push_hist(&s->series, &r, &s->interval_hist);
    else
        px_series_push(&s->series, &r);
    if (live)
        live_line(s, &r, dt);
}

static void *stats_main(void *arg)
{
    struct px_stats *s = arg;
    uint64_t t0 = s->t0_us;
    uint64_t step = s->cfg->interval_ms * 1000u;
    uint64_t next = t0 + step;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts = {.tv_sec = (time_t)(next / 1000000u),
                              .tv_nsec = (long)(next % 1000000u) * 1000};
        int rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->stop)
            break;
        if (rc == ETIMEDOUT || px_clock_us() >= next) {
            pthread_mutex_unlock(&s->mu);
            sample(s, 1);
            pthread_mutex_lock(&s->mu);
            next += step;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Wall-clock seconds of a monotonic instant (us), for logs that want the epoch. */
static double epoch_of(uint64_t mono_us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    return now - (double)(px_clock_us() - mono_us) / 1e6;
}

unsigned px_stats_fds(void)
{
    return 2;
}

struct px_stats *px_stats_start(struct px_engine *e, const struct px_load *cfg,
                                const struct px_stats_opts *opts)
{
    struct px_stats *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    FILE *live = opts->live;
    s->tick = opts->tick;
    s->tick_arg = opts->tick_arg;
    s->row_hists = opts->row_hists;
    s->e = e;
    px_engine_snapshot(e, &s->snap); /* the start time; the counters are not used */
    s->t0_us = s->snap.start_us;
    s->epoch_s = epoch_of(s->t0_us);
    s->cfg = cfg;
    s->live = live;
    s->tty = live != NULL && isatty(fileno(live));
    s->tw_peak = -1;
    s->diag_fd = px_diag_open();
    px_hist_init(&s->prev_hist);
    px_hist_init(&s->tls_prev);
    s->series.tls = cfg->url.tls;
    px_hist_init(&s->prev_phase[0]);
    px_hist_init(&s->prev_phase[1]);
    s->have_ext = px_tcpext_read(PX_PROC, &s->prev_ext) == 0;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    /* Ticks follow the monotonic clock that the engine's start time uses. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, stats_main, s) != 0) {
        if (s->diag_fd >= 0)
            close(s->diag_fd);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

void px_stats_finish(struct px_stats *s, struct px_series *out, int64_t *time_wait_peak)
{
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    /* The engine has ended: the last row closes the books (the summary follows,
     * so no live line for it). */
    sample(s, 0);
    if (s->live && s->tty)
        fputc('\n', s->live);
    *out = s->series;
    *time_wait_peak = s->tw_peak;
    if (s->diag_fd >= 0)
        close(s->diag_fd);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
