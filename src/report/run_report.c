/* SPDX-License-Identifier: MIT */
/* Text and JSON reports of one run: formatting only, from a const result. */
#include "portex/report/run_report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "portex/load/http.h"
#include "portex/load/load.h"
#include "portex/report/addresses.h"
#include "portex/report/json.h"
#include "portex/report/ports.h"
#include "portex/load/result_encode.h"
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

/* Every rate divides by the load window (run->duration_s), never by the drain
 * after it: requests that end in the drain count in the totals only. */
static double per_s(uint64_t v, double s)
{
    return s > 0 ? (double)v / s : 0.0;
}

static const char *close_words(const struct px_load *cfg)
{
    if (cfg->keepalive)
        return "keep-alive connections";
    if (cfg->target.ss_family == AF_UNIX)
        return "short connections over a Unix socket (no port, no TIME_WAIT)";
    switch (cfg->close) {
    case PX_CLOSE_SERVER:
        return "short connections, server closes first";
    case PX_CLOSE_RST:
        return "short connections, client resets (RST, no TIME_WAIT)";
    default:
        return "short connections, client closes first (client holds TIME_WAIT)";
    }
}

/* summary.protocol in words: HTTP/1.1, or h2 with how it was agreed and its streams. */
static void protocol_words(FILE *f, const struct px_load *cfg)
{
    if (!cfg->http2) {
        fprintf(f, "  protocol http/1.1\n");
        return;
    }
    fprintf(f, "  protocol h2 (%s), %u stream%s at once per connection\n",
            cfg->url.tls ? "by ALPN over TLS" : "h2c, prior knowledge", px_load_conn_streams(cfg),
            px_load_conn_streams(cfg) == 1 ? "" : "s");
}

/* tcp_tw_reuse is in force for this target: 1 everywhere, 2 on loopback only
 * (KERNEL-FACTS.md). Whether it can act also needs timestamps (ceiling.c). */
static int reuse_set(const struct px_run *run)
{
    return run->env.tw_reuse == 1 || (run->env.tw_reuse == 2 && run->ex.loopback);
}

/* No request succeeded and every failure was ECONNREFUSED, or for a Unix socket
 * ENOENT (no socket file), or cancelled at a stop: nothing listens at the target,
 * and no port figure explains anything. */
static int nothing_listens(const struct px_totals *t, int family)
{
    uint64_t refused =
        px_totals_errno(t, ECONNREFUSED) + (family == AF_UNIX ? px_totals_errno(t, ENOENT) : 0);
    return t->ok == 0 && refused > 0 && refused + t->cause[PX_CAUSE_CANCELLED] == t->failed;
}

/* No request succeeded and none failed for want of a port: the cause most of them
 * failed with (cancelled only when nothing else), or -1. A port ceiling beside
 * "0.0 ok/s" would explain nothing. */
static int all_failed_cause(const struct px_totals *t)
{
    if (t->ok != 0 || t->failed == 0 || px_totals_errno(t, EADDRNOTAVAIL) != 0)
        return -1;
    int top = -1;
    for (int c = 0; c < PX_CAUSE_COUNT; c++)
        if (c != PX_CAUSE_CANCELLED && t->cause[c] > 0 && (top < 0 || t->cause[c] > t->cause[top]))
            top = c;
    if (top < 0 && t->cause[PX_CAUSE_CANCELLED] > 0)
        top = PX_CAUSE_CANCELLED;
    return top;
}

/*
 * Nothing listening comes first (every request refused: no port figure
 * matters); then four cases, in the order a reader needs them: ports ran out
 * (say why: 60 s of TIME_WAIT, or reuse and its delay, and the timestamps
 * trap); no exhaustion but port-bound (the burst and the sustained ceiling);
 * RST (no TIME_WAIT, so only the connection lifetime binds); not port-bound at
 * all (keep-alive, the server closes first). tcp_fin_timeout is named only to
 * say it is not TIME_WAIT, the most common myth.
 */
void px_diagnose(const struct px_run *run, char *out, size_t outlen)
{
    const struct px_load *cfg = run->load;
    const struct px_exhaustion *ex = &run->ex;
    const struct px_ceiling *c = &ex->ceiling;
    double ok_s = per_s(run->totals.ok, run->duration_s);
    char where[PX_URL_UNIX_MAX + 16];
    px_sockaddr_str((const struct sockaddr *)&cfg->target, where, sizeof(where));
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, __VA_ARGS__)
    out[0] = '\0';
    int top = all_failed_cause(&run->totals);
    if (nothing_listens(&run->totals, cfg->target.ss_family)) {
        if (px_totals_errno(&run->totals, ECONNREFUSED) == 0)
            ADD("nothing listens at %s: no socket file there for any request (ENOENT).", where);
        else
            ADD("nothing listens at %s: every request was refused (ECONNREFUSED).", where);
    } else if (top >= 0) {
        ADD("no request succeeded at %s: %s %" PRIu64 " of %" PRIu64 " (%s); ports are not what "
            "stopped them.",
            where, px_cause_name(top), run->totals.cause[top], run->totals.failed,
            px_cause_label(top));
    } else if (cfg->target.ss_family == AF_UNIX) {
        ADD("no ports involved (Unix socket): %.1f ok/s over %" PRIu64 " connections is what "
            "client and server reach without the port budget; a TCP run below this rate is "
            "held back by ports or by TCP itself.",
            ok_s, run->totals.connections_opened);
    } else if (ex->seen) {
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
            cfg->keepalive               ? "keep-alive"
            : cfg->close == PX_CLOSE_RST ? "RST close leaves no TIME_WAIT and -c is under the ports"
                                         : "the server closes first (it holds TIME_WAIT)",
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

/* TIME_WAIT already there at the start belongs to earlier runs: shown apart,
 * so that a peak is not read as this run's alone. */
static void text_exhaustion(FILE *f, const struct px_run *run)
{
    const struct px_exhaustion *ex = &run->ex;
    char a[32], target[80];
    px_sockaddr_str((const struct sockaddr *)&run->load->target, target, sizeof(target));
    if (run->load->target.ss_family == AF_UNIX) {
        /* The control run: what is left is the server and the client, not ports. */
        fprintf(f, "\nno ports involved: %s is a Unix socket (no local port, no TIME_WAIT)\n",
                target);
        fprintf(f, "  predicted ceiling    %s\n", ex->ceiling.formula);
        char diag[1024];
        px_diagnose(run, diag, sizeof(diag));
        fprintf(f, "\n%s\n", diag);
        return;
    }
    fprintf(f, "\nports and TIME_WAIT\n");
    char range[320];
    px_format_count(a, sizeof(a), ex->usable_ports);
    px_ports_range_text(range, sizeof(range), ex, run->load->port_lo != 0, run->hosts);
    fprintf(f, "  usable ports         %s %s\n", a, range);
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

/* How many requests were sent twice and why; or, when a kept-alive connection
 * closed under requests that were not, why not. */
static void text_resends(FILE *f, const struct px_run *run)
{
    const struct px_load *cfg = run->load;
    static const char closed[] = "a request whose kept-alive connection closed before any "
                                 "response byte is closed_before_response";
    char a[32];
    px_format_count(a, sizeof(a), run->totals.retries);
    if (run->totals.retries > 0)
        fprintf(f,
                "  resent               %s (their kept-alive connection closed before any "
                "response byte: %s is idempotent, so each went once more on a new connection)\n",
                a, cfg->method);
    else if (!cfg->keepalive || run->totals.cause[PX_CAUSE_CLOSED] == 0)
        return;
    else if (cfg->no_retry)
        fprintf(f, "  resent               0 (--no-retry: %s)\n", closed);
    else if (!px_http_idempotent(cfg->method))
        fprintf(f,
                "  resent               0 (%s is not idempotent, RFC 9110 9.2.2: %s, never "
                "sent twice)\n",
                cfg->method, closed);
}

/* The first lines: command and URL, how connections close, the protocol, the model. */
static void text_header(FILE *f, const struct px_run *run)
{
    const struct px_load *cfg = run->load;
    if (run->hosts > 0) /* a merge of hosts' results */
        fprintf(f, "portex merge %s, %u host%s\n  %s\n", cfg->url_text, run->hosts,
                run->hosts == 1 ? "" : "s", close_words(cfg));
    else
        fprintf(f, "portex run %s\n  %s\n", cfg->url_text, close_words(cfg));
    protocol_words(f, cfg);
    if (cfg->keepalive && cfg->requests_per_conn)
        fprintf(f, "  %u requests per connection, then the %s closes%s\n", cfg->requests_per_conn,
                cfg->close == PX_CLOSE_SERVER ? "server" : "client",
                cfg->close == PX_CLOSE_RST ? " with RST" : "");
    if (cfg->rate_per_s > 0)
        fprintf(f, "  open model: %.10g new requests/s, at most %u in flight, %u thread%s\n",
                cfg->rate_per_s, cfg->connections * px_load_conn_streams(cfg), cfg->threads,
                cfg->threads == 1 ? "" : "s");
    else
        fprintf(f, "  closed model: %u connection%s, %u thread%s\n", cfg->connections,
                cfg->connections == 1 ? "" : "s", cfg->threads, cfg->threads == 1 ? "" : "s");
}

void px_report_text(FILE *f, const struct px_run *run)
{
    const struct px_load *cfg = run->load;
    const struct px_totals *t = &run->totals;
    uint64_t requests = t->ok + t->failed;
    char a[32], b[32], c[32];

    text_header(f, run);
    char to[1200];
    px_addrs_target_words(to, sizeof(to), &cfg->url, cfg->family, &cfg->target, cfg->addrs,
                          cfg->naddrs);
    if (to[0])
        fprintf(f, "  to %s\n", to);
    if (run->interrupted)
        fprintf(f, "  interrupted by a signal: the figures and rates cover what ran until then\n");
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
    text_resends(f, run);
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
    latency_row(f, "connect()", &run->lat.connect_call);
    latency_row(f, "connect", &run->lat.connect);
    if (cfg->url.tls)
        latency_row(f, "tls", &run->lat.tls);
    latency_row(f, "first byte", &run->lat.ttfb);
    latency_row(f, "total", &run->lat.total);
    if (cfg->rate_per_s > 0)
        fprintf(f, "  (open model: latency counts from each request's scheduled start)\n");
    text_exhaustion(f, run);
}

static json_t *hist_summary(const struct px_hist *h)
{
    return json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "count", (json_int_t)h->count, "p50",
        (json_int_t)px_hist_percentile(h, 50), "p90", (json_int_t)px_hist_percentile(h, 90), "p99",
        (json_int_t)px_hist_percentile(h, 99), "p999", (json_int_t)px_hist_percentile(h, 99.9),
        "max", (json_int_t)(h->count ? h->max_us : 0), "mean", px_hist_mean(h));
}

static void summary_exhaustion(json_t *o, const struct px_run *run)
{
    const struct px_exhaustion *ex = &run->ex;
    int tw = ex->time_wait_peak >= 0;
    px_jset(o, "time_wait_peak", tw ? json_integer(ex->time_wait_peak) : NULL);
    px_jset(o, "time_wait_at_start", tw ? json_integer(ex->time_wait_at_start) : NULL);
    px_jset(o, "first_eaddrnotavail_s", ex->seen ? px_jf64(ex->first_s) : NULL);
    px_jset(o, "ok_before_eaddrnotavail", ex->seen ? px_ju64(ex->ok_before) : NULL);
    px_jset(o, "ok_per_s_before",
            ex->seen ? px_jf64(ex->first_s > 0 ? (double)ex->ok_before / ex->first_s : 0.0) : NULL);
    /* A Unix-socket target is the control run: no port is involved at all. */
    px_jset(o, "ports_involved", json_boolean(run->load->target.ss_family != AF_UNIX));
    px_jset(o, "usable_ports", px_ju64(ex->usable_ports));
    px_jset(o, "bound_ports", ex->bound_ports >= 0 ? json_integer(ex->bound_ports) : NULL);
    px_jset(o, "open_ports", ex->open_ports >= 0 ? json_integer(ex->open_ports) : NULL);
    px_jset(o, "predicted_ceiling_per_s", px_jf64(ex->ceiling.per_s));
    px_jset(o, "ceiling_formula", json_string(ex->ceiling.formula));
    px_jset(o, "timestamps_negotiated",
            ex->timestamps == PX_TS_UNKNOWN ? NULL : json_boolean(ex->timestamps == PX_TS_YES));
    char diag[1024];
    px_diagnose(run, diag, sizeof(diag));
    px_jset(o, "diagnosis", json_string(diag));
    px_jset(o, "interrupted",
            json_boolean(run->interrupted != 0)); /* SIGINT or SIGTERM stopped it */
}

/* summary.tls: handshake counts, the protocol, OpenSSL's reason per TLS cause. */
static json_t *summary_tls(const struct px_run *run)
{
    json_t *o = json_object();
    px_jset(o, "full", px_ju64(run->totals.tls_full));
    px_jset(o, "resumed", px_ju64(run->totals.tls_resumed));
    px_jset(o, "version", run->tls.version[0] ? json_string(run->tls.version) : NULL);
    json_t *reasons = json_object();
    for (int cause = PX_CAUSE_TLS_HANDSHAKE; cause <= PX_CAUSE_TLS_EOF; cause++)
        if (tls_reason(run, cause))
            px_jset(reasons, px_cause_name(cause), json_string(tls_reason(run, cause)));
    px_jset(o, "reasons", reasons);
    return o;
}

json_t *px_report_summary_json(const struct px_run *run)
{
    const struct px_totals *t = &run->totals;
    uint64_t requests = t->ok + t->failed;
    json_t *o = json_object();
    px_jset(o, "protocol", json_string(px_load_protocol(run->load)));
    px_jset(o, "duration_s", px_jf64(run->duration_s));
    px_jset(o, "drain_s", px_jf64(run->drain_s));
    px_jset(o, "requests", px_ju64(requests));
    px_jset(o, "ok", px_ju64(t->ok));
    px_jset(o, "failed", px_ju64(t->failed));
    px_jset(o, "requests_per_s", px_jf64(per_s(requests, run->duration_s)));
    px_jset(o, "ok_per_s", px_jf64(per_s(t->ok, run->duration_s)));
    px_jset(o, "connections_opened", px_ju64(t->connections_opened));
    px_jset(o, "missed_starts", px_ju64(t->missed_starts));
    px_jset(o, "retries", px_ju64(t->retries));
    json_t *errors = json_object();
    for (int cause = 0; cause < PX_CAUSE_COUNT; cause++)
        if (t->cause[cause] > 0 && cause != PX_CAUSE_HTTP_4XX && cause != PX_CAUSE_HTTP_5XX)
            px_jset(errors, px_cause_name(cause), px_ju64(t->cause[cause]));
    px_jset(o, "errors", errors);
    json_t *status = json_object();
    static const char *const cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 1; i <= 5; i++)
        px_jset(status, cls[i - 1], px_ju64(t->status[i]));
    px_jset(o, "http_status", status);
    px_jset(o, "latency_us",
            json_pack("{s:o,s:o,s:o,s:o}", "connect_call", hist_summary(&run->lat.connect_call),
                      "connect", hist_summary(&run->lat.connect), "ttfb",
                      hist_summary(&run->lat.ttfb), "total", hist_summary(&run->lat.total)));
    if (run->load->url.tls) {
        px_jset(json_object_get(o, "latency_us"), "tls", hist_summary(&run->lat.tls));
        px_jset(o, "tls", summary_tls(run));
    }
    summary_exhaustion(o, run);
    return o;
}

void px_report_csv(FILE *f, const struct px_series *series)
{
    fprintf(f,
            "t,started,ok,failed,eaddrnotavail,other_errors,connections_opened,in_flight,"
            "time_wait,time_wait_all,tw_recycled,tw_overflow,p50_us,p99_us,drain,retries%s\n",
            series->tls ? ",tls_full,tls_resumed,tls_p50_us" : "");
    for (size_t i = 0; i < series->count; i++) {
        const struct px_series_row *r = &series->rows[i];
        fprintf(f,
                "%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%d,%" PRIu64,
                r->t, r->started, r->ok, r->failed, r->eaddrnotavail, r->other_errors,
                r->connections_opened, r->in_flight, r->time_wait, r->time_wait_all, r->tw_recycled,
                r->tw_overflow, r->p50_us, r->p99_us, r->drain, r->retries);
        if (series->tls)
            fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, r->tls_full, r->tls_resumed,
                    r->tls_p50_us);
        fputc('\n', f);
    }
}

json_t *px_report_json_doc(const struct px_run *run, const char *command)
{
    json_t *o = json_object();
    px_jset(o, "command", json_string(command));
    px_jset(o, "version", json_string(PORTEX_VERSION));
    px_jset(o, "config", px_result_encode_config(run->load));
    px_jset(o, "environment", px_result_encode_environment(&run->env));
    px_jset(o, "summary", px_report_summary_json(run));
    px_jset(o, "series", px_result_encode_series(&run->series));
    px_jset(o, "result", px_result_encode_data(run));
    return o;
}

void px_report_json(FILE *f, const struct px_run *run)
{
    json_t *o = px_report_json_doc(run, "run");
    px_json_print_tree(f, o);
    json_decref(o);
}
