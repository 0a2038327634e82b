/* SPDX-License-Identifier: MIT */
/* The reports of several modes (lab, compare): the table, JSON, SVG and CSV. */
#include "portex/report/mode_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/load/result.h"
#include "portex/report/json.h"
#include "portex/report/run_report.h"
#include "portex/report/svg.h"

static void verdict(const struct px_mode_result *r, char *out, size_t outlen)
{
    double got = (double)r->run->totals.ok;
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
            fprintf(f, "%-18s %-40s %s\n", r->name, r->what, r->note);
            continue;
        }
        const struct px_run *run = r->run;
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
        fprintf(f, "%-18s %-40s %9s %14s %8llu %9.1f %9llu %8s %8s  %s\n", r->name,
                r->what, predok, pred, (unsigned long long)run->totals.ok,
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
        px_json_str(&j, "name", r->name);
        px_json_bool(&j, "ran", r->ran);
        if (!r->ran) {
            px_json_str(&j, "note", r->note);
            px_json_obj_end(&j);
            continue;
        }
        px_json_obj_begin(&j, "settings");
        px_json_str(&j, "what", r->what);
        px_json_bool(&j, "keepalive", r->run->load->keepalive);
        px_json_str(&j, "close", px_close_name(r->run->load->close));
        if (r->run->env.tw_reuse >= 0)
            px_json_i64(&j, "client_tcp_tw_reuse", r->run->env.tw_reuse);
        if (r->run->env.tw_reuse_delay_ms >= 0)
            px_json_i64(&j, "client_tcp_tw_reuse_delay", r->run->env.tw_reuse_delay_ms);
        px_json_i64(&j, "server_tcp_timestamps", r->server_timestamps);
        px_json_u64(&j, "ports", r->run->ex.usable_ports);
        px_json_u64(&j, "sources", r->run->load->nsources ? r->run->load->nsources : 1);
        px_json_f64(&j, "rate_per_s", r->run->load->rate_per_s);
        px_json_f64(&j, "duration_s", (double)r->run->load->duration_ms / 1000.0);
        px_json_obj_end(&j);
        px_json_f64(&j, "predicted_ok", r->predicted_ok);
        if (r->run->ex.ceiling.port_bound)
            px_json_f64(&j, "predicted_ceiling_per_s", r->run->ex.ceiling.per_s);
        else
            px_json_str(&j, "predicted_ceiling_per_s", "not port-bound");
        if (r->isolation != NULL) {
            /* compare: how this mode's ports were kept clear of earlier modes' TIME_WAIT */
            px_json_obj_begin(&j, "isolation");
            px_json_str(&j, "method", r->isolation);
            char window[16];
            snprintf(window, sizeof(window), "%u-%u", r->run->ex.port_lo, r->run->ex.port_hi);
            px_json_str(&j, "port_window", window);
            px_json_u64(&j, "sources", r->run->load->nsources ? r->run->load->nsources : 1);
            px_json_f64(&j, "waited_s", r->waited_s);
            px_json_obj_end(&j);
        }
        px_report_json_summary(&j, "summary", r->run);
        px_report_json_series(&j, &r->run->series);
        px_report_json_result(&j, r->run); /* the mergeable totals and histograms */
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
        runs[k] = res[i].run;
        names[k++] = res[i].name;
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
        fprintf(f, "# mode %s\n", res[i].name);
        px_report_csv(f, &res[i].run->series);
    }
}
