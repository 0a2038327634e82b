/* SPDX-License-Identifier: MIT */
/* Text and JSON reports of one run: formatting only, from a const result. */
#include "portex/out/report.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "portex/base/config.h"
#include "portex/out/json.h"
#include "portex/load/result.h"
#include "portex/base/url.h"

void px_format_us(char *out, size_t outlen, uint64_t us)
{
    if (us < 1000)
        snprintf(out, outlen, "%" PRIu64 "us", us);
    else if (us < 1000000)
        snprintf(out, outlen, "%.2fms", (double)us / 1e3);
    else
        snprintf(out, outlen, "%.2fs", (double)us / 1e6);
}

void px_format_count(char *out, size_t outlen, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < outlen; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static double per_s(uint64_t v, double s)
{
    return s > 0 ? (double)v / s : 0.0;
}

static const char *close_words(const struct px_config *cfg)
{
    if (cfg->keepalive)
        return "keep-alive connections";
    switch (cfg->close) {
    case PX_CLOSE_SERVER:
        return "short connections, server closes first";
    case PX_CLOSE_RST:
        return "short connections, client resets (RST, no TIME_WAIT)";
    default:
        return "short connections, client closes first (client holds TIME_WAIT)";
    }
}

static int reuse_set(const struct px_run *run)
{
    return run->env.tw_reuse == 1 || (run->env.tw_reuse == 2 && run->ex.loopback);
}

void px_diagnose(const struct px_run *run, char *out, size_t outlen)
{
    const struct px_config *cfg = run->cfg;
    const struct px_exhaustion *ex = &run->ex;
    const struct px_ceiling *c = &ex->ceiling;
    double ok_s = per_s(run->totals.ok, run->duration_s);
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, __VA_ARGS__)
    out[0] = '\0';
    if (ex->seen) {
        ADD("ports ran out at t=%.2fs: %" PRIu64 " usable ports", ex->first_s, ex->usable_ports);
        if (cfg->nsources > 1)
            ADD(" x %zu source addresses", cfg->nsources);
        ADD(", client closes first, ");
        if (c->reuse_applies)
            ADD("tcp_tw_reuse=%lld lets connect() reuse a TIME_WAIT port after %.0f ms: "
                "sustained ceiling %.1f/s.",
                (long long)run->env.tw_reuse, c->hold_s * 1e3, c->per_s);
        else
            ADD("TIME_WAIT lasts 60 s (%s): sustained ceiling %.1f/s.",
                run->env.tw_reuse == 2   ? "tcp_tw_reuse=2 covers loopback only"
                : run->env.tw_reuse == 0 ? "tcp_tw_reuse=0"
                                         : "tcp_tw_reuse cannot apply",
                c->per_s);
        if (reuse_set(run) && ex->timestamps == PX_TS_NO)
            ADD(" The server negotiated no TCP timestamps, so tcp_tw_reuse cannot reuse these "
                "ports: turn tcp_timestamps on at the server, or avoid TIME_WAIT on the client.");
        ADD(" Achieved %.1f ok/s.", ok_s);
        if (run->env.fin_timeout >= 0 && run->env.fin_timeout != 60)
            ADD(" (tcp_fin_timeout=%lld changes nothing here: it is the FIN_WAIT_2 timeout, "
                "not TIME_WAIT.)",
                (long long)run->env.fin_timeout);
        ADD(" Keep-alive, letting the server close first, or more source addresses raise it.");
    } else if (c->port_bound && isfinite(c->burst)) {
        ADD("no EADDRNOTAVAIL: %.1f ok/s, %" PRIu64 " usable ports; the port ceiling here is "
            "a burst of %.0f then %.1f/s (%s).",
            ok_s, ex->usable_ports, c->burst, c->per_s, c->formula);
    } else if (c->port_bound) {
        ADD("no EADDRNOTAVAIL: RST close leaves no TIME_WAIT; ports bound only near %.0f/s.",
            c->per_s);
    } else {
        ADD("no EADDRNOTAVAIL: %s; %" PRIu64 " connections carried %" PRIu64
            " requests, ports are not the limit.",
            cfg->keepalive ? "keep-alive" : "the server closes first (it holds TIME_WAIT)",
            run->totals.connections_opened, run->totals.ok + run->totals.failed);
    }
#undef ADD
}

static const char *ts_words(int ts)
{
    return ts == PX_TS_YES  ? "negotiated with the target"
           : ts == PX_TS_NO ? "NOT negotiated: the target answered without them"
                            : "unknown (no connection was made)";
}

static void text_exhaustion(FILE *f, const struct px_run *run)
{
    const struct px_exhaustion *ex = &run->ex;
    char a[32], target[80];
    px_sockaddr_str((const struct sockaddr *)&run->cfg->target, target, sizeof(target));
    fprintf(f, "\nports and TIME_WAIT\n");
    px_format_count(a, sizeof(a), ex->usable_ports);
    fprintf(f, "  usable ports         %s (%u-%u%s)\n", a, ex->port_lo, ex->port_hi,
            run->cfg->port_lo ? ", per-socket --port-range" : ", ip_local_port_range");
    if (ex->time_wait_peak >= 0)
        fprintf(f, "  TIME_WAIT peak       %lld toward %s", (long long)ex->time_wait_peak, target);
    if (ex->time_wait_peak >= 0 && ex->time_wait_at_start > 0)
        fprintf(f, " (%lld were there before the run)", (long long)ex->time_wait_at_start);
    if (ex->time_wait_peak >= 0)
        fputc('\n', f);
    else
        fprintf(f, "  TIME_WAIT peak       unknown (sock_diag unavailable)\n");
    if (ex->seen)
        fprintf(f, "  first EADDRNOTAVAIL  t=%.2fs, after %" PRIu64 " ok (%.1f ok/s before)\n",
                ex->first_s, ex->ok_before,
                ex->first_s > 0 ? (double)ex->ok_before / ex->first_s : 0.0);
    else
        fprintf(f, "  first EADDRNOTAVAIL  none\n");
    fprintf(f, "  TCP timestamps       %s\n", ts_words(ex->timestamps));
    if (isfinite(ex->ceiling.per_s))
        fprintf(f, "  predicted ceiling    %.1f/s: %s\n", ex->ceiling.per_s, ex->ceiling.formula);
    else
        fprintf(f, "  predicted ceiling    none from ports: %s\n", ex->ceiling.formula);
    char diag[1024];
    px_diagnose(run, diag, sizeof(diag));
    fprintf(f, "\n%s\n", diag);
}

static void latency_row(FILE *f, const char *name, const struct px_hist *h)
{
    static const double qs[] = {50, 90, 99, 99.9};
    fprintf(f, "  %-11s", name);
    if (h->count == 0) {
        fprintf(f, " %9s\n", "-");
        return;
    }
    char buf[32];
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        px_format_us(buf, sizeof(buf), px_hist_percentile(h, qs[i]));
        fprintf(f, " %9s", buf);
    }
    px_format_us(buf, sizeof(buf), h->max_us);
    fprintf(f, " %9s", buf);
    px_format_us(buf, sizeof(buf), (uint64_t)px_hist_mean(h));
    fprintf(f, " %9s\n", buf);
}

/* OpenSSL's first reason for a TLS cause, NULL for other causes or none kept. */
static const char *tls_reason(const struct px_run *run, int cause)
{
    if (cause < PX_CAUSE_TLS_HANDSHAKE || cause > PX_CAUSE_TLS_EOF)
        return NULL;
    const char *r = run->tls.reason[cause - PX_CAUSE_TLS_HANDSHAKE];
    return r[0] ? r : NULL;
}

static void text_tls_line(FILE *f, const struct px_run *run)
{
    char a[32], b[32];
    px_format_count(a, sizeof(a), run->totals.tls_full);
    px_format_count(b, sizeof(b), run->totals.tls_resumed);
    fprintf(f, "  TLS handshakes       %s full, %s resumed%s%s%s\n", a, b,
            run->tls.version[0] ? " (" : "", run->tls.version, run->tls.version[0] ? ")" : "");
}

void px_report_text(FILE *f, const struct px_run *run)
{
    const struct px_config *cfg = run->cfg;
    const struct px_totals *t = &run->totals;
    uint64_t requests = t->ok + t->failed;
    char a[32], b[32], c[32];

    fprintf(f, "portex run %s\n  %s\n", cfg->url_text, close_words(cfg));
    if (cfg->rate_per_s > 0)
        fprintf(f, "  open model: %.0f new requests/s, at most %u in flight, %u threads\n",
                cfg->rate_per_s, cfg->connections, cfg->threads);
    else
        fprintf(f, "  closed model: %u connections, %u threads\n", cfg->connections, cfg->threads);
    fprintf(f, "\n");
    px_format_count(a, sizeof(a), requests);
    px_format_count(b, sizeof(b), t->ok);
    px_format_count(c, sizeof(c), t->failed);
    fprintf(f, "  duration             %.2f s load window", run->duration_s);
    if (run->drain_s > 0)
        fprintf(f, " (+ %.2f s drain; rates exclude it)", run->drain_s);
    fputc('\n', f);
    fprintf(f, "  requests             %s (ok %s, failed %s)\n", a, b, c);
    fprintf(f, "  requests/s           %.1f (ok/s %.1f)\n", per_s(requests, run->duration_s),
            per_s(t->ok, run->duration_s));
    px_format_count(a, sizeof(a), t->connections_opened);
    fprintf(f, "  connections opened   %s\n", a);
    if (cfg->url.tls)
        text_tls_line(f, run);
    if (cfg->rate_per_s > 0) {
        px_format_count(a, sizeof(a), t->missed_starts);
        fprintf(f, "  missed starts        %s%s\n", a,
                t->missed_starts ? " (in-flight cap -c reached: raise -c)" : "");
    }
    fprintf(f,
            "  HTTP status          2xx %" PRIu64 "  3xx %" PRIu64 "  4xx %" PRIu64 "  5xx %" PRIu64
            "\n",
            t->status[2], t->status[3], t->status[4], t->status[5]);

    if (t->failed > 0) {
        fprintf(f, "\nfailures by cause\n");
        for (int cause = 0; cause < PX_CAUSE_COUNT; cause++) {
            if (t->cause[cause] == 0)
                continue;
            px_format_count(a, sizeof(a), t->cause[cause]);
            const char *why = tls_reason(run, cause);
            fprintf(f, "  %-24s %12s  %s%s%s\n", px_cause_name(cause), a, px_cause_label(cause),
                    why ? ": " : "", why ? why : "");
        }
    }

    fprintf(f, "\nlatency      %9s %9s %9s %9s %9s %9s\n", "p50", "p90", "p99", "p99.9", "max",
            "mean");
    latency_row(f, "connect", &run->lat.connect);
    if (cfg->url.tls)
        latency_row(f, "tls", &run->lat.tls);
    latency_row(f, "first byte", &run->lat.ttfb);
    latency_row(f, "total", &run->lat.total);
    if (cfg->rate_per_s > 0)
        fprintf(f, "  (open model: latency counts from each request's scheduled start)\n");
    text_exhaustion(f, run);
}

static void json_hist(struct px_json *j, const char *key, const struct px_hist *h)
{
    px_json_obj_begin(j, key);
    px_json_u64(j, "count", h->count);
    px_json_u64(j, "p50", px_hist_percentile(h, 50));
    px_json_u64(j, "p90", px_hist_percentile(h, 90));
    px_json_u64(j, "p99", px_hist_percentile(h, 99));
    px_json_u64(j, "p999", px_hist_percentile(h, 99.9));
    px_json_u64(j, "max", h->count ? h->max_us : 0);
    px_json_f64(j, "mean", px_hist_mean(h));
    px_json_obj_end(j);
}

/* summary.tls: handshake counts, the protocol, OpenSSL's reason per TLS cause. */
static void json_tls(struct px_json *j, const struct px_run *run)
{
    px_json_obj_begin(j, "tls");
    px_json_u64(j, "full", run->totals.tls_full);
    px_json_u64(j, "resumed", run->totals.tls_resumed);
    if (run->tls.version[0])
        px_json_str(j, "version", run->tls.version);
    else
        px_json_null(j, "version");
    px_json_obj_begin(j, "reasons");
    for (int cause = PX_CAUSE_TLS_HANDSHAKE; cause <= PX_CAUSE_TLS_EOF; cause++)
        if (tls_reason(run, cause))
            px_json_str(j, px_cause_name(cause), tls_reason(run, cause));
    px_json_obj_end(j);
    px_json_obj_end(j);
}

void px_report_json_summary(struct px_json *j, const char *key, const struct px_run *run)
{
    const struct px_totals *t = &run->totals;
    uint64_t requests = t->ok + t->failed;
    px_json_obj_begin(j, key);
    px_json_f64(j, "duration_s", run->duration_s);
    px_json_f64(j, "drain_s", run->drain_s);
    px_json_u64(j, "requests", requests);
    px_json_u64(j, "ok", t->ok);
    px_json_u64(j, "failed", t->failed);
    px_json_f64(j, "requests_per_s", per_s(requests, run->duration_s));
    px_json_f64(j, "ok_per_s", per_s(t->ok, run->duration_s));
    px_json_u64(j, "connections_opened", t->connections_opened);
    px_json_u64(j, "missed_starts", t->missed_starts);
    px_json_obj_begin(j, "errors");
    for (int cause = 0; cause < PX_CAUSE_COUNT; cause++)
        if (t->cause[cause] > 0 && cause != PX_CAUSE_HTTP_4XX && cause != PX_CAUSE_HTTP_5XX)
            px_json_u64(j, px_cause_name(cause), t->cause[cause]);
    px_json_obj_end(j);
    px_json_obj_begin(j, "http_status");
    static const char *const cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 1; i <= 5; i++)
        px_json_u64(j, cls[i - 1], t->status[i]);
    px_json_obj_end(j);
    px_json_obj_begin(j, "latency_us");
    json_hist(j, "connect", &run->lat.connect);
    if (run->cfg->url.tls)
        json_hist(j, "tls", &run->lat.tls);
    json_hist(j, "ttfb", &run->lat.ttfb);
    json_hist(j, "total", &run->lat.total);
    px_json_obj_end(j);
    if (run->cfg->url.tls)
        json_tls(j, run);
    const struct px_exhaustion *ex = &run->ex;
    if (ex->time_wait_peak >= 0) {
        px_json_i64(j, "time_wait_peak", ex->time_wait_peak);
        px_json_i64(j, "time_wait_at_start", ex->time_wait_at_start);
    } else {
        px_json_null(j, "time_wait_peak");
        px_json_null(j, "time_wait_at_start");
    }
    if (ex->seen) {
        px_json_f64(j, "first_eaddrnotavail_s", ex->first_s);
        px_json_u64(j, "ok_before_eaddrnotavail", ex->ok_before);
        px_json_f64(j, "ok_per_s_before",
                    ex->first_s > 0 ? (double)ex->ok_before / ex->first_s : 0.0);
    } else {
        px_json_null(j, "first_eaddrnotavail_s");
        px_json_null(j, "ok_before_eaddrnotavail");
        px_json_null(j, "ok_per_s_before");
    }
    px_json_u64(j, "usable_ports", ex->usable_ports);
    px_json_f64(j, "predicted_ceiling_per_s", ex->ceiling.per_s);
    px_json_str(j, "ceiling_formula", ex->ceiling.formula);
    if (ex->timestamps == PX_TS_UNKNOWN)
        px_json_null(j, "timestamps_negotiated");
    else
        px_json_bool(j, "timestamps_negotiated", ex->timestamps == PX_TS_YES);
    char diag[1024];
    px_diagnose(run, diag, sizeof(diag));
    px_json_str(j, "diagnosis", diag);
    px_json_obj_end(j);
}

static void json_sysctl(struct px_json *j, const char *key, int64_t v)
{
    if (v >= 0)
        px_json_i64(j, key, v);
}

void px_report_json_sysctl(struct px_json *j, const struct px_env *env)
{
    px_json_obj_begin(j, "sysctl");
    char range[32];
    snprintf(range, sizeof(range), "%u %u", env->port_lo, env->port_hi);
    px_json_str(j, "net.ipv4.ip_local_port_range", range);
    px_json_str(j, "net.ipv4.ip_local_reserved_ports", env->reserved_ports);
    json_sysctl(j, "net.ipv4.tcp_tw_reuse", env->tw_reuse);
    json_sysctl(j, "net.ipv4.tcp_tw_reuse_delay", env->tw_reuse_delay_ms);
    json_sysctl(j, "net.ipv4.tcp_timestamps", env->timestamps);
    json_sysctl(j, "net.ipv4.tcp_fin_timeout", env->fin_timeout);
    json_sysctl(j, "net.ipv4.tcp_max_tw_buckets", env->max_tw_buckets);
    json_sysctl(j, "net.core.somaxconn", env->somaxconn);
    json_sysctl(j, "fs.file-max", env->file_max);
    px_json_obj_end(j);
}

void px_report_json_environment(struct px_json *j, const struct px_env *env)
{
    px_json_obj_begin(j, "environment");
    px_json_str(j, "kernel", env->kernel);
    px_report_json_sysctl(j, env);
    px_json_obj_begin(j, "nofile");
    px_json_u64(j, "soft", env->nofile_soft);
    px_json_u64(j, "hard", env->nofile_hard);
    px_json_obj_end(j);
    px_json_i64(j, "cpus", env->cpus);
    px_json_obj_end(j);
}

void px_report_json_series(struct px_json *j, const struct px_series *series)
{
    px_json_arr_begin(j, "series");
    for (size_t i = 0; i < series->count; i++) {
        const struct px_series_row *r = &series->rows[i];
        px_json_obj_begin(j, NULL);
        j->compact = 1;
        px_json_f64(j, "t", round(r->t * 1000) / 1000);
        px_json_u64(j, "started", r->started);
        px_json_u64(j, "ok", r->ok);
        px_json_u64(j, "failed", r->failed);
        px_json_u64(j, "eaddrnotavail", r->eaddrnotavail);
        px_json_u64(j, "other_errors", r->other_errors);
        px_json_u64(j, "connections_opened", r->connections_opened);
        px_json_u64(j, "in_flight", r->in_flight);
        px_json_i64(j, "time_wait", r->time_wait);
        px_json_i64(j, "time_wait_all", r->time_wait_all);
        px_json_u64(j, "tw_recycled", r->tw_recycled);
        px_json_u64(j, "tw_overflow", r->tw_overflow);
        px_json_u64(j, "p50_us", r->p50_us);
        px_json_u64(j, "p99_us", r->p99_us);
        px_json_bool(j, "drain", r->drain);
        if (series->tls) {
            px_json_u64(j, "tls_full", r->tls_full);
            px_json_u64(j, "tls_resumed", r->tls_resumed);
            px_json_u64(j, "tls_p50_us", r->tls_p50_us);
        }
        px_json_obj_end(j);
        j->compact = 0;
    }
    px_json_arr_end(j);
}

void px_report_csv(FILE *f, const struct px_series *series)
{
    fprintf(f, "t,started,ok,failed,eaddrnotavail,other_errors,connections_opened,in_flight,"
               "time_wait,time_wait_all,tw_recycled,tw_overflow,p50_us,p99_us,drain%s\n",
            series->tls ? ",tls_full,tls_resumed,tls_p50_us" : "");
    for (size_t i = 0; i < series->count; i++) {
        const struct px_series_row *r = &series->rows[i];
        fprintf(f,
                "%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%d",
                r->t, r->started, r->ok, r->failed, r->eaddrnotavail, r->other_errors,
                r->connections_opened, r->in_flight, r->time_wait, r->time_wait_all, r->tw_recycled,
                r->tw_overflow, r->p50_us, r->p99_us, r->drain);
        if (series->tls)
            fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, r->tls_full, r->tls_resumed,
                    r->tls_p50_us);
        fputc('\n', f);
    }
}

static void json_config(struct px_json *j, const struct px_config *cfg)
{
    px_json_obj_begin(j, "config");
    px_json_str(j, "url", cfg->url_text);
    px_json_str(j, "mode", px_config_mode_name(cfg));
    px_json_str(j, "close", cfg->keepalive ? NULL : px_close_name(cfg->close));
    if (cfg->rate_per_s > 0)
        px_json_f64(j, "rate_per_s", cfg->rate_per_s);
    else
        px_json_null(j, "rate_per_s");
    px_json_u64(j, "connections", cfg->connections);
    px_json_u64(j, "threads", cfg->threads);
    if (cfg->duration_ms)
        px_json_f64(j, "duration_s", (double)cfg->duration_ms / 1000.0);
    else
        px_json_null(j, "duration_s");
    if (cfg->requests)
        px_json_u64(j, "requests", cfg->requests);
    else
        px_json_null(j, "requests");
    px_json_str(j, "method", cfg->method);
    px_json_f64(j, "connect_timeout_s", (double)cfg->connect_timeout_ms / 1000.0);
    px_json_f64(j, "timeout_s", (double)cfg->timeout_ms / 1000.0);
    if (cfg->url.tls) {
        px_json_obj_begin(j, "tls");
        px_json_bool(j, "insecure", cfg->tls_insecure);
        px_json_str(j, "cacert", cfg->tls_cacert);
        px_json_str(j, "version",
                    cfg->tls_version == 12   ? "1.2"
                    : cfg->tls_version == 13 ? "1.3"
                                             : NULL);
        px_json_str(j, "resume", px_tls_resume_name(cfg->tls_resume));
        px_json_obj_end(j);
    }
    px_json_obj_end(j);
}

void px_report_json(FILE *f, const struct px_run *run)
{
    struct px_json j;
    px_json_init(&j, f, 0);
    px_json_obj_begin(&j, NULL);
    px_json_str(&j, "command", "run");
    px_json_str(&j, "version", PORTEX_VERSION);
    json_config(&j, run->cfg);
    px_report_json_environment(&j, &run->env);
    px_report_json_summary(&j, "summary", run);
    px_report_json_series(&j, &run->series);
    px_json_obj_end(&j);
    px_json_finish(&j);
}
