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
        if (r->middle.kind != PX_MIDDLE_NONE)
            continue; /* through a middle: a table of its own (topo_report.h) */
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
        fprintf(f, "%-18s %-40s %9s %14s %8llu %9.1f %9llu %8s %8s  %s\n", r->name, r->what, predok,
                pred, (unsigned long long)run->totals.ok,
                run->duration_s > 0 ? (double)run->totals.ok / run->duration_s : 0.0,
                (unsigned long long)out_of_ports(run), tw, first, v);
        if (run->ex.time_wait_at_start > 0)
            footnote = 1;
    }
    if (footnote)
        fprintf(f, "* counts TIME_WAIT sockets toward the target that were there before this "
                   "mode started (an earlier run's)\n");
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
    static char note_text[PX_MAX_MODES][200]; /* the middle's figures, one line per panel */
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
