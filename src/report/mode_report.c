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
#include "portex/report/topo_report.h"

/* A mode's verdict: its middle's rule (lab), or ok against predicted_ok within its
 * tolerance (15% unless the mode set one). The word into out, the kind returned. */
static enum px_verdict verdict(const struct px_mode_result *r, char *out, size_t outlen)
{
    if (r->judged) {
        snprintf(out, outlen, "%s", px_verdict_name(r->judgement.verdict));
        return r->judgement.verdict;
    }
    double got = (double)r->run->totals.ok;
    double want = r->predicted_ok;
    if (!isfinite(want) || want <= 0) {
        snprintf(out, outlen, "-");
        return PX_VERDICT_NONE;
    }
    double diff = (got - want) / want * 100.0;
    double tolerance = r->tolerance > 0 ? r->tolerance * 100.0 : 15.0;
    if (fabs(diff) <= tolerance) {
        snprintf(out, outlen, "matches");
        return PX_VERDICT_MATCHES;
    }
    snprintf(out, outlen, "differs by %+.0f%%", diff);
    return PX_VERDICT_DIFFERS;
}

/* Failures for want of a local port: EADDRNOTAVAIL, and EADDRINUSE from a bind() first. */
static uint64_t out_of_ports(const struct px_run *run)
{
    return px_totals_errno(&run->totals, EADDRNOTAVAIL) +
           (run->load->bind_first ? px_totals_errno(&run->totals, EADDRINUSE) : 0);
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
    /* bind() before connect() runs out in bind(), with EADDRINUSE: the same exhaustion. */
    snprintf(ea, sizeof(ea), "%llu%s", (unsigned long long)out_of_ports(run),
             run->load->bind_first ? " bind()" : "");
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
        if (!results[i].ran || results[i].middle.kind != PX_MIDDLE_NONE)
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
        if (r->middle.kind != PX_MIDDLE_NONE)
            continue; /* through a middle: a table of its own (topo_report.h) */
        ran = 1;
        footnote |= table_row(f, r);
    }
    if (footnote)
        fprintf(f, "* TIME_WAIT peak counts sockets toward the target that were there before this "
                   "mode started (left by an earlier mode or run)\n");
    for (size_t i = 0; i < n; i++)
        if (results[i].ran && results[i].run->load->bind_first) {
            fprintf(f, "bind(): EADDRINUSE from a bind() before connect(), which is where that "
                       "pattern runs out of ports\n");
            break;
        }
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
    if (run->load->target_ports > 1)
        px_jset(o, "target_ports", px_ju64(run->load->target_ports));
    if (run->load->bind_first)
        px_jset(o, "bind_first", json_true());
    if (r->middle.kind != PX_MIDDLE_NONE)
        px_jset(o, "middle", px_topo_report_middle(r));
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
    char v[32];
    px_jset(o, "verdict", json_string(px_verdict_name(verdict(r, v, sizeof(v)))));
    px_jset(o, "predicted_ok", px_json_real10(r->predicted_ok));
    px_jset(o, "predicted_ceiling_per_s",
            r->run->ex.ceiling.port_bound ? px_json_real10(r->run->ex.ceiling.per_s)
                                          : json_string("not port-bound"));
    if (r->isolation != NULL)
        px_jset(o, "isolation", mode_isolation(r));
    if (r->judged)
        px_jset(o, "prediction", px_topo_report_prediction(r));
    if (r->fig.measured)
        px_jset(o, "namespaces", px_topo_report_namespaces(r));
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
    const char *names[PX_MAX_MODES], *notes[PX_MAX_MODES];
    char note_text[PX_MAX_MODES][200]; /* the middle's figures, one line per panel */
    size_t k = 0;
    for (size_t i = 0; i < n && k < PX_MAX_MODES; i++) {
        if (!res[i].ran)
            continue;
        px_topo_report_note(&res[i], note_text[k], sizeof(note_text[k]));
        notes[k] = note_text[k];
        runs[k] = res[i].run;
        names[k++] = res[i].name;
    }
    char title[128];
    snprintf(title, sizeof(title), "portex %s: ok/s, EADDRNOTAVAIL/s and TIME_WAIT per mode",
             command);
    px_svg_write_notes(f, title, runs, names, notes, k);
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
