/* SPDX-License-Identifier: MIT */
/* Mode tables of lab and compare, the --modes parser, and the per-mode reports. */
#include "portex/cmd/mode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/report/json.h"
#include "portex/report/run_report.h"
#include "portex/report/svg.h"

/* Lab modes: each in fresh namespaces, so every sysctl is set per side. */
const struct px_mode px_lab_modes[] = {
    {.name = "noreuse",
     .what = "client closes, tcp_tw_reuse=0",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "reuse",
     .what = "client closes, tcp_tw_reuse=1",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 1},
    {.name = "reuse-server-nots",
     .what = "tcp_tw_reuse=1, server tcp_timestamps=0",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 0},
    {.name = "keepalive",
     .what = "keep-alive connections",
     .is_default = 1,
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "server-close",
     .what = "server closes first, tcp_tw_reuse=0",
     .close = PX_CLOSE_SERVER,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "rst",
     .what = "client closes with RST, tcp_tw_reuse=0",
     .close = PX_CLOSE_RST,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "sources4",
     .what = "4 client addresses, tcp_tw_reuse=0",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .sources = 4},
    {.name = "delay100",
     .what = "tcp_tw_reuse=1, tcp_tw_reuse_delay=100",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 1,
     .reuse_delay_ms = 100},
    {.name = "hosts4",
     .what = "4 client hosts, merged, tcp_tw_reuse=0",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .hosts = 4},
    {.name = "reuse-conn10",
     .what = "10 requests per connection, tcp_tw_reuse=1",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 1,
     .requests_per_conn = 10},
    {.name = "noreuse-conn10",
     .what = "10 requests per connection, tcp_tw_reuse=0",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .requests_per_conn = 10},
};
const size_t px_lab_nmodes = sizeof(px_lab_modes) / sizeof(px_lab_modes[0]);

/* Compare modes: this namespace as it is; only tcp_tw_reuse may be set (guarded). */
const struct px_mode px_compare_modes[] = {
    {.name = "keepalive",
     .what = "keep-alive connections",
     .is_default = 1,
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "server-close",
     .what = "server closes first",
     .is_default = 1,
     .close = PX_CLOSE_SERVER,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "rst",
     .what = "client closes with RST",
     .is_default = 1,
     .close = PX_CLOSE_RST,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "short",
     .what = "client closes, current tcp_tw_reuse",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "short-noreuse",
     .what = "client closes, tcp_tw_reuse=0",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = -1},
    {.name = "short-reuse",
     .what = "client closes, tcp_tw_reuse=1",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = -1},
    {.name = "conn10",
     .what = "10 requests per connection, client closes",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = -1,
     .requests_per_conn = 10},
    {.name = "reuse-conn10",
     .what = "10 requests per connection, tcp_tw_reuse=1",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = -1,
     .requests_per_conn = 10},
};
const size_t px_compare_nmodes = sizeof(px_compare_modes) / sizeof(px_compare_modes[0]);

/* Not in the table: no port is used, so what it reaches is the server's own ceiling. */
const struct px_mode px_compare_control_mode = {
    .name = "unix-control",
    .what = "short, over the Unix socket (no ports)",
    .close = PX_CLOSE_CLIENT,
    .client_reuse = -1,
    .server_timestamps = -1,
};

static int list_choices(const struct px_mode *table, size_t ntable, int allow_all, char *err,
                        size_t errlen, size_t n)
{
    for (size_t i = 0; i < ntable && n < errlen; i++)
        n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "", table[i].name);
    if (allow_all && n < errlen)
        snprintf(err + n, errlen - n, ", or all");
    return -1;
}

int px_mode_list_parse(const char *list, const struct px_mode *table, size_t ntable, int allow_all,
                       const struct px_mode **out, size_t *nout, char *err, size_t errlen)
{
    *nout = 0;
    if (allow_all && strcmp(list, "all") == 0) {
        for (; *nout < ntable && *nout < PX_MAX_MODES; (*nout)++)
            out[*nout] = &table[*nout];
        return 0;
    }
    char buf[256];
    if (strlen(list) >= sizeof(buf)) {
        snprintf(err, errlen, "invalid --modes '%.40s...': too long", list);
        return -1;
    }
    strcpy(buf, list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const struct px_mode *m = NULL;
        for (size_t i = 0; i < ntable && m == NULL; i++)
            if (strcmp(table[i].name, tok) == 0)
                m = &table[i];
        if (m == NULL || *nout >= PX_MAX_MODES) {
            size_t n = (size_t)snprintf(err, errlen, "invalid --modes entry '%s': expected", tok);
            return list_choices(table, ntable, allow_all, err, errlen, n);
        }
        out[(*nout)++] = m;
    }
    if (*nout == 0) {
        snprintf(err, errlen, "invalid --modes '%s': expected a comma-separated list", list);
        return -1;
    }
    return 0;
}

size_t px_mode_defaults(const struct px_mode *table, size_t ntable, int allow_sysctl,
                        const struct px_mode **out)
{
    size_t n = 0;
    for (size_t i = 0; i < ntable && n < PX_MAX_MODES; i++)
        if (table[i].is_default ||
            (allow_sysctl && table[i].client_reuse >= 0 && !table[i].requests_per_conn))
            out[n++] = &table[i];
    return n;
}

int px_mode_result_start(struct px_mode_result *res, const struct px_mode *mode, int stopped)
{
    memset(res, 0, sizeof(*res));
    res->mode = mode;
    if (stopped)
        snprintf(res->note, sizeof(res->note), "not run: interrupted");
    return !stopped;
}

void px_mode_results_free(struct px_mode_result *res, size_t n)
{
    for (size_t i = 0; i < n; i++)
        px_series_free(&res[i].run.series);
}

/* ---- reports ------------------------------------------------------------ */

static void verdict(const struct px_mode_result *r, char *out, size_t outlen)
{
    double got = (double)r->run.totals.ok;
    double want = r->predicted_ok;
    if (!isfinite(want) || want <= 0) {
        snprintf(out, outlen, "-");
        return;
    }
    double diff = (got - want) / want * 100.0;
    if (fabs(diff) <= 15.0)
        snprintf(out, outlen, "matches");
    else
        snprintf(out, outlen, "differs by %+.0f%%", diff);
}

void px_mode_report_table(FILE *f, const struct px_mode_result *results, size_t n)
{
    int footnote = 0;
    fprintf(f, "%-18s %-40s %9s %14s %8s %9s %9s %8s %8s  %s\n", "mode", "set", "pred. ok",
            "pred. /s", "ok", "ok/s", "EADDRNA", "TW peak", "1st EA", "verdict");
    for (size_t i = 0; i < n; i++) {
        const struct px_mode_result *r = &results[i];
        if (!r->ran) {
            fprintf(f, "%-18s %-40s %s\n", r->mode->name, r->mode->what, r->note);
            continue;
        }
        const struct px_run *run = &r->run;
        char first[16] = "-", pred[24] = "-", v[32], predok[16] = "-";
        if (run->ex.seen)
            snprintf(first, sizeof(first), "%.2fs", run->ex.first_s);
        if (isfinite(run->ex.ceiling.per_s) && run->ex.ceiling.port_bound)
            snprintf(pred, sizeof(pred), "%.1f", run->ex.ceiling.per_s);
        else if (!run->ex.ceiling.port_bound)
            snprintf(pred, sizeof(pred), "not port-bound");
        if (isfinite(r->predicted_ok))
            snprintf(predok, sizeof(predok), "%.0f", r->predicted_ok);
        verdict(r, v, sizeof(v));
        char tw[32];
        snprintf(tw, sizeof(tw), "%lld%s", (long long)run->ex.time_wait_peak,
                 run->ex.time_wait_at_start > 0 ? "*" : "");
        fprintf(f, "%-18s %-40s %9s %14s %8llu %9.1f %9llu %8s %8s  %s\n", r->mode->name,
                r->mode->what, predok, pred, (unsigned long long)run->totals.ok,
                run->duration_s > 0 ? (double)run->totals.ok / run->duration_s : 0.0,
                (unsigned long long)px_totals_errno(&run->totals, EADDRNOTAVAIL), tw, first, v);
        if (run->ex.time_wait_at_start > 0)
            footnote = 1;
    }
    if (footnote)
        fprintf(f, "* counts TIME_WAIT sockets toward the target that were there before this "
                   "mode started (an earlier run's)\n");
}

void px_mode_report_json(FILE *f, const char *command, const struct px_mode_result *results,
                         size_t n)
{
    struct px_json j;
    px_json_init(&j, f, 0);
    px_json_obj_begin(&j, NULL);
    px_json_str(&j, "command", command);
    px_json_str(&j, "version", PORTEX_VERSION);
    px_json_arr_begin(&j, "modes");
    for (size_t i = 0; i < n; i++) {
        const struct px_mode_result *r = &results[i];
        px_json_obj_begin(&j, NULL);
        px_json_str(&j, "name", r->mode->name);
        px_json_bool(&j, "ran", r->ran);
        if (!r->ran) {
            px_json_str(&j, "note", r->note);
            px_json_obj_end(&j);
            continue;
        }
        px_json_obj_begin(&j, "settings");
        px_json_str(&j, "what", r->mode->what);
        px_json_bool(&j, "keepalive", r->mode->keepalive);
        px_json_str(&j, "close", px_close_name(r->mode->close));
        if (r->run.env.tw_reuse >= 0)
            px_json_i64(&j, "client_tcp_tw_reuse", r->run.env.tw_reuse);
        if (r->run.env.tw_reuse_delay_ms >= 0)
            px_json_i64(&j, "client_tcp_tw_reuse_delay", r->run.env.tw_reuse_delay_ms);
        px_json_i64(&j, "server_tcp_timestamps", r->mode->server_timestamps);
        px_json_u64(&j, "ports", r->run.ex.usable_ports);
        px_json_u64(&j, "sources", r->cfg.nsources ? r->cfg.nsources : 1);
        px_json_f64(&j, "rate_per_s", r->cfg.rate_per_s);
        px_json_f64(&j, "duration_s", (double)r->cfg.duration_ms / 1000.0);
        px_json_obj_end(&j);
        px_json_f64(&j, "predicted_ok", r->predicted_ok);
        if (r->run.ex.ceiling.port_bound)
            px_json_f64(&j, "predicted_ceiling_per_s", r->run.ex.ceiling.per_s);
        else
            px_json_str(&j, "predicted_ceiling_per_s", "not port-bound");
        if (r->isolation != NULL) {
            /* compare: how this mode's ports were kept clear of earlier modes' TIME_WAIT */
            px_json_obj_begin(&j, "isolation");
            px_json_str(&j, "method", r->isolation);
            char window[16];
            snprintf(window, sizeof(window), "%u-%u", r->run.ex.port_lo, r->run.ex.port_hi);
            px_json_str(&j, "port_window", window);
            px_json_u64(&j, "sources", r->cfg.nsources ? r->cfg.nsources : 1);
            px_json_f64(&j, "waited_s", r->waited_s);
            px_json_obj_end(&j);
        }
        px_report_json_summary(&j, "summary", &r->run);
        px_report_json_series(&j, &r->run.series);
        px_report_json_result(&j, &r->run); /* the mergeable totals and histograms */
        px_json_obj_end(&j);
    }
    px_json_arr_end(&j);
    px_json_obj_end(&j);
    px_json_finish(&j);
}

void px_mode_report_svg(FILE *f, const char *command, const struct px_mode_result *res, size_t n)
{
    const struct px_run *runs[PX_MAX_MODES];
    const char *names[PX_MAX_MODES];
    size_t k = 0;
    for (size_t i = 0; i < n && k < PX_MAX_MODES; i++) {
        if (!res[i].ran)
            continue;
        runs[k] = &res[i].run;
        names[k++] = res[i].mode->name;
    }
    char title[128];
    snprintf(title, sizeof(title), "portex %s: ok/s, EADDRNOTAVAIL/s and TIME_WAIT per mode",
             command);
    px_svg_write(f, title, runs, names, k);
}

void px_mode_report_csv(FILE *f, const struct px_mode_result *res, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!res[i].ran)
            continue;
        fprintf(f, "# mode %s\n", res[i].mode->name);
        px_report_csv(f, &res[i].run.series);
    }
}
