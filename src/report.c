/* SPDX-License-Identifier: MIT */
/* Text and JSON reports of one run: formatting only, from a const result. */
#include "portex/report.h"

#include <inttypes.h>
#include <string.h>

#include "portex/config.h"
#include "portex/json.h"
#include "portex/result.h"

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
        fprintf(f, "  closed model: %u connections, %u threads\n", cfg->connections,
                cfg->threads);
    fprintf(f, "\n");
    px_format_count(a, sizeof(a), requests);
    px_format_count(b, sizeof(b), t->ok);
    px_format_count(c, sizeof(c), t->failed);
    fprintf(f, "  duration             %.2f s\n", run->duration_s);
    fprintf(f, "  requests             %s (ok %s, failed %s)\n", a, b, c);
    fprintf(f, "  requests/s           %.1f (ok/s %.1f)\n", per_s(requests, run->duration_s),
            per_s(t->ok, run->duration_s));
    px_format_count(a, sizeof(a), t->connections_opened);
    fprintf(f, "  connections opened   %s\n", a);
    if (cfg->rate_per_s > 0) {
        px_format_count(a, sizeof(a), t->missed_starts);
        fprintf(f, "  missed starts        %s%s\n", a,
                t->missed_starts ? " (in-flight cap -c reached: raise -c)" : "");
    }
    fprintf(f, "  HTTP status          2xx %" PRIu64 "  3xx %" PRIu64 "  4xx %" PRIu64
               "  5xx %" PRIu64 "\n",
            t->status[2], t->status[3], t->status[4], t->status[5]);

    if (t->failed > 0) {
        fprintf(f, "\nfailures by cause\n");
        for (int cause = 0; cause < PX_CAUSE_COUNT; cause++) {
            if (t->cause[cause] == 0)
                continue;
            px_format_count(a, sizeof(a), t->cause[cause]);
            fprintf(f, "  %-24s %12s  %s\n", px_cause_name(cause), a, px_cause_label(cause));
        }
    }

    fprintf(f, "\nlatency      %9s %9s %9s %9s %9s %9s\n", "p50", "p90", "p99", "p99.9", "max",
            "mean");
    latency_row(f, "connect", &run->lat.connect);
    latency_row(f, "first byte", &run->lat.ttfb);
    latency_row(f, "total", &run->lat.total);
    if (cfg->rate_per_s > 0)
        fprintf(f, "  (open model: latency counts from each request's scheduled start)\n");
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

void px_report_json_summary(struct px_json *j, const char *key, const struct px_run *run)
{
    const struct px_totals *t = &run->totals;
    uint64_t requests = t->ok + t->failed;
    px_json_obj_begin(j, key);
    px_json_f64(j, "duration_s", run->duration_s);
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
    json_hist(j, "ttfb", &run->lat.ttfb);
    json_hist(j, "total", &run->lat.total);
    px_json_obj_end(j);
    px_json_obj_end(j);
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
    px_report_json_summary(&j, "summary", run);
    px_json_obj_end(&j);
    px_json_finish(&j);
}
