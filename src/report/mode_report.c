/* SPDX-License-Identifier: MIT */
/* The reports of several modes (lab, compare): the table, JSON, SVG and CSV. */
#include "portex/report/mode_report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/load/result.h"
#include "portex/load/result_encode.h"
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

/*
 * The columns: what theory expects over the mode's own load window (burst
 * included) beside what was measured over the same window, so that the two
 * ok/s are the same kind of figure. The sustained ceiling after the burst is
 * another figure and gets lines of its own under the table.
 */
#define ROW_FMT "%-18s %-42s %8s %8s  %8s %8s  %13s  %14s  %10s  %s\n"

static double window_rate(double count, const struct px_run *run)
{
    return run->duration_s > 0 ? count / run->duration_s : 0.0;
}

static void table_header(FILE *f)
{
    fprintf(f, "%-18s %-42s %17s  %17s\n", "", "", "--- predicted ---", "--- measured ----");
    fprintf(f, ROW_FMT, "mode", "set", "ok", "ok/s", "ok", "ok/s", "EADDRNOTAVAIL",
            "TIME_WAIT peak", "ran out at", "verdict");
}

/* One mode that ran; 1 when its TIME_WAIT peak counts sockets that were there before it. */
static int table_row(FILE *f, const struct px_mode_result *r)
{
    const struct px_run *run = r->run;
    char pred_ok[24] = "-", pred_rate[24] = "-", ok[24], rate[24], ea[24], tw[32], first[16] = "-";
    char v[32];
    if (isfinite(r->predicted_ok)) {
        snprintf(pred_ok, sizeof(pred_ok), "%.0f", r->predicted_ok);
        snprintf(pred_rate, sizeof(pred_rate), "%.1f", window_rate(r->predicted_ok, run));
    }
    snprintf(ok, sizeof(ok), "%llu", (unsigned long long)run->totals.ok);
    snprintf(rate, sizeof(rate), "%.1f", window_rate((double)run->totals.ok, run));
    snprintf(ea, sizeof(ea), "%llu",
             (unsigned long long)px_totals_errno(&run->totals, EADDRNOTAVAIL));
    int before = run->ex.time_wait_at_start > 0;
    snprintf(tw, sizeof(tw), "%lld%s", (long long)run->ex.time_wait_peak, before ? "*" : "");
    if (run->ex.seen)
        snprintf(first, sizeof(first), "%.2fs", run->ex.first_s);
    verdict(r, v, sizeof(v));
    fprintf(f, ROW_FMT, r->name, r->what, pred_ok, pred_rate, ok, rate, ea, tw, first, v);
    return before;
}

/* Under the table: what each mode is held to once its ports have run out. */
static void sustained_lines(FILE *f, const struct px_mode_result *results, size_t n)
{
    fprintf(f, "\nsustained ceiling once the ports have run out (the kernel's rule; the ok/s "
               "above average the whole window, burst included)\n");
    for (size_t i = 0; i < n; i++) {
        if (!results[i].ran)
            continue;
        const struct px_ceiling *c = &results[i].run->ex.ceiling;
        char rate[32] = "not port-bound";
        if (c->port_bound && isfinite(c->per_s))
            snprintf(rate, sizeof(rate), "%.1f/s", c->per_s);
        else if (c->port_bound)
            snprintf(rate, sizeof(rate), "unbounded");
        /* A formula that says it already (a Unix socket) is not said twice. */
        const char *why = c->formula;
        if (strncmp(why, "not port-bound: ", 16) == 0)
            why += 16;
        fprintf(f, "  %-18s %14s  %s\n", results[i].name, rate, why);
    }
}

void px_mode_report_table(FILE *f, const struct px_mode_result *results, size_t n)
{
    int footnote = 0, ran = 0;
    table_header(f);
    for (size_t i = 0; i < n; i++) {
        const struct px_mode_result *r = &results[i];
        if (!r->ran) {
            fprintf(f, "%-18s %-42s %s\n", r->name, r->what, r->note);
            continue;
        }
        ran = 1;
        footnote |= table_row(f, r);
    }
    if (footnote)
        fprintf(f, "* TIME_WAIT peak counts sockets toward the target that were there before this "
                   "mode started (left by an earlier mode or run)\n");
    if (ran)
        sustained_lines(f, results, n);
}

/* The settings a mode ran with, as its table row names them. */
static json_t *mode_settings(const struct px_mode_result *r)
{
    const struct px_run *run = r->run;
    json_t *o = json_object();
    px_jset(o, "what", json_string(r->what));
    px_jset(o, "keepalive", json_boolean(run->load->keepalive));
    px_jset(o, "close", json_string(px_close_name(run->load->close)));
    if (run->env.tw_reuse >= 0)
        px_jset(o, "client_tcp_tw_reuse", json_integer(run->env.tw_reuse));
    if (run->env.tw_reuse_delay_ms >= 0)
        px_jset(o, "client_tcp_tw_reuse_delay", json_integer(run->env.tw_reuse_delay_ms));
    px_jset(o, "server_tcp_timestamps", json_integer(r->server_timestamps));
    px_jset(o, "ports", px_ju64(run->ex.usable_ports));
    px_jset(o, "sources", px_ju64(run->load->nsources ? run->load->nsources : 1));
    px_jset(o, "rate_per_s", px_json_real10(run->load->rate_per_s));
    px_jset(o, "duration_s", px_json_real10((double)run->load->duration_ms / 1000.0));
    return o;
}

/* compare: how this mode's ports were kept clear of earlier modes' TIME_WAIT. */
static json_t *mode_isolation(const struct px_mode_result *r)
{
    const struct px_run *run = r->run;
    char window[16];
    snprintf(window, sizeof(window), "%u-%u", run->ex.port_lo, run->ex.port_hi);
    json_t *o = json_object();
    px_jset(o, "method", json_string(r->isolation));
    px_jset(o, "port_window", json_string(window));
    px_jset(o, "sources", px_ju64(run->load->nsources ? run->load->nsources : 1));
    px_jset(o, "waited_s", px_json_real10(r->waited_s));
    if (r->isolation_note[0])
        px_jset(o, "note", json_string(r->isolation_note));
    return o;
}

static json_t *mode_json(const struct px_mode_result *r)
{
    json_t *o = json_object();
    px_jset(o, "name", json_string(r->name));
    px_jset(o, "ran", json_boolean(r->ran));
    if (!r->ran) {
        px_jset(o, "note", json_string(r->note));
        return o;
    }
    px_jset(o, "settings", mode_settings(r));
    px_jset(o, "predicted_ok", px_json_real10(r->predicted_ok));
    px_jset(o, "predicted_ceiling_per_s",
            r->run->ex.ceiling.port_bound ? px_json_real10(r->run->ex.ceiling.per_s)
                                          : json_string("not port-bound"));
    if (r->isolation != NULL)
        px_jset(o, "isolation", mode_isolation(r));
    px_jset(o, "summary", px_report_summary_json(r->run));
    px_jset(o, "series", px_result_encode_series(&r->run->series));
    px_jset(o, "result", px_result_encode_data(r->run)); /* the mergeable totals and histograms */
    return o;
}

void px_mode_report_json(FILE *f, const char *command, const struct px_mode_result *results,
                         size_t n)
{
    json_t *modes = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(modes, mode_json(&results[i]));
    json_t *doc = json_object();
    px_jset(doc, "command", json_string(command));
    px_jset(doc, "version", json_string(PORTEX_VERSION));
    px_jset(doc, "modes", modes);
    px_json_print_tree(f, doc);
    json_decref(doc);
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
