/* SPDX-License-Identifier: MIT */
/* A rate ramp as a table, a JSON document and an SVG chart: formatting only. */
#include "portex/report/ramp_report.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "portex/load/load.h"
#include "portex/load/knee.h"
#include "portex/load/result_encode.h"
#include "portex/report/json.h"
#include "portex/report/run_report.h"
#include "portex/report/svg.h"

/* "ok/s, errors, p99" from the PX_KNEE_* bits. */
static void why_words(unsigned why, char *out, size_t outlen)
{
    static const struct {
        unsigned bit;
        const char *word;
    } words[] = {
        {.bit = PX_KNEE_LOW_OK, .word = "ok/s"},
        {.bit = PX_KNEE_ERRORS, .word = "errors"},
        {.bit = PX_KNEE_SLOW, .word = "p99"},
        {.bit = PX_KNEE_INTERRUPTED, .word = "interrupted"},
    };
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if ((why & words[i].bit) && n < outlen)
            n += (size_t)snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", words[i].word);
}

/* "EADDRNOTAVAIL 100, connect_timeout 2" or "-". */
static void error_words(const struct px_totals *t, char *out, size_t outlen)
{
    size_t n = 0;
    snprintf(out, outlen, "-");
    for (int c = 0; c < PX_CAUSE_COUNT && n < outlen; c++)
        if (t->cause[c] > 0)
            n += (size_t)snprintf(out + n, outlen - n, "%s%s %" PRIu64, n ? ", " : "",
                                  px_cause_name(c), t->cause[c]);
}

static void text_row(FILE *f, const struct px_ramp *ramp, size_t i)
{
    const struct px_run *run = ramp->runs[i];
    const struct px_knee_step *s = &ramp->figs[i];
    char p50[16], p99[16], tw[24], ceil_s[24], verdict[48], why[40], errs[256];
    px_format_us(p50, sizeof(p50), px_hist_percentile(&run->lat.total, 50));
    px_format_us(p99, sizeof(p99), s->p99_us);
    if (run->lat.total.count == 0)
        snprintf(p50, sizeof(p50), "-"), snprintf(p99, sizeof(p99), "-");
    if (run->ex.time_wait_peak >= 0)
        snprintf(tw, sizeof(tw), "%lld", (long long)run->ex.time_wait_peak);
    else
        snprintf(tw, sizeof(tw), "?");
    if (isfinite(s->ceiling_per_s))
        snprintf(ceil_s, sizeof(ceil_s), "%.1f/s", s->ceiling_per_s);
    else
        snprintf(ceil_s, sizeof(ceil_s), "not port-bound");
    unsigned judged = px_knee_judge(s, ramp->max_p99_us);
    why_words(judged, why, sizeof(why));
    snprintf(verdict, sizeof(verdict), "%s%s%s%s", judged == 0 ? "ok" : "FAIL (", why,
             judged == 0 ? "" : ")", px_knee_port_bound(s) ? " port-bound" : "");
    if (judged == PX_KNEE_INTERRUPTED)
        snprintf(verdict, sizeof(verdict), "interrupted");
    if ((int)i == ramp->knee)
        strncat(verdict, " <- knee", sizeof(verdict) - strlen(verdict) - 1);
    error_words(&run->totals, errs, sizeof(errs));
    fprintf(f, "  %9.0f %9" PRIu64 " %7" PRIu64 " %9.1f %9s %9s %8s %15s  %-31s %s\n",
            s->rate_per_s, s->requests, s->missed_starts, px_knee_ok_per_s(s), p50, p99, tw, ceil_s,
            verdict, errs);
}

/* The port-bound steps, and why a step shorter than the port hold time shows a burst. */
static void text_port_bound(FILE *f, const struct px_ramp *ramp)
{
    int first = -1, short_seen = 0;
    for (size_t i = 0; i < ramp->nsteps; i++) {
        if (!px_knee_port_bound(&ramp->figs[i]))
            continue;
        if (first < 0)
            first = (int)i;
        short_seen |= px_knee_step_too_short(&ramp->figs[i]);
    }
    if (first < 0)
        return;
    const struct px_knee_step *s = &ramp->figs[first];
    const struct px_run *run = ramp->runs[first];
    fprintf(f,
            "\nport-bound: from %.0f/s on, the offered rate is above the predicted port "
            "ceiling of %.1f/s (%s).\n",
            s->rate_per_s, s->ceiling_per_s, run->ex.ceiling.formula);
    double burst = s->step_s > 0 ? (double)s->ports / s->step_s : 0.0;
    if (short_seen)
        fprintf(f,
                "A %.1f s step is shorter than the %.0f s a closed port stays held (%s), so "
                "it cannot show the sustained ceiling: the %" PRIu64 " ports alone carry "
                "P / step time = %.1f/s before any port comes back.\n",
                s->step_s, s->hold_s, s->hold_s >= 60 ? "TIME_WAIT" : "the reuse delay", s->ports,
                burst);
    else
        fprintf(f,
                "A %.1f s step outlasts the %.1f s a closed port stays held (%s), so it shows "
                "the sustained ceiling (P / step time alone would be %.1f/s).\n",
                s->step_s, s->hold_s, s->hold_s >= 60 ? "TIME_WAIT" : "the reuse delay", burst);
}

static void text_header(FILE *f, const char *url, const struct px_ramp *ramp)
{
    fprintf(f, "portex ramp %s: %.0f/s to %.0f/s by %.0f/s, %.1f s per step", url, ramp->from_per_s,
            ramp->to_per_s, ramp->step_per_s, (double)ramp->step_ms / 1000.0);
    if (ramp->max_p99_us > 0) {
        char b[16];
        px_format_us(b, sizeof(b), ramp->max_p99_us);
        fprintf(f, ", p99 under %s", b);
    }
    if (ramp->nsteps > 0) {
        const struct px_run *run = ramp->runs[0];
        fprintf(f, "\n  %s%s connections, %u in flight at most, %" PRIu64 " usable ports (%u-%u)",
                run->load->http2 ? "HTTP/2 " : "", run->load->keepalive ? "keep-alive" : "short",
                run->load->connections * px_load_conn_streams(run->load), run->ex.usable_ports,
                run->ex.port_lo, run->ex.port_hi);
    }
    fprintf(f, "\n\n  %9s %9s %7s %9s %9s %9s %8s %15s  %-31s %s\n", "offered/s", "requests",
            "missed", "ok/s", "p50", "p99", "TW peak", "port ceiling", "verdict", "errors");
}

void px_ramp_report_text(FILE *f, const char *url, const struct px_ramp *ramp)
{
    text_header(f, url, ramp);
    for (size_t i = 0; i < ramp->nsteps; i++)
        text_row(f, ramp, i);
    fputc('\n', f);
    if (ramp->knee >= 0)
        fprintf(f, "knee: %.0f/s, the highest step with ok/s >= 99%% of offered, no error%s.\n",
                ramp->figs[ramp->knee].rate_per_s, ramp->max_p99_us ? " and p99 in bound" : "");
    else
        fprintf(f, "knee: none; no step kept up (ok/s >= 99%% of offered, no error%s).\n",
                ramp->max_p99_us ? ", p99 in bound" : "");
    if (ramp->stopped_early)
        fprintf(f,
                "Stopped after two failing steps: %zu of %zu planned steps ran (--no-stop "
                "runs them all).\n",
                ramp->nsteps, ramp->nplanned);
    if (ramp->interrupted)
        fprintf(f, "Interrupted: %zu of %zu planned steps ran, the last one cut short.\n",
                ramp->nsteps, ramp->nplanned);
    text_port_bound(f, ramp);
}

static json_t *json_step(const struct px_ramp *ramp, size_t i)
{
    const struct px_knee_step *s = &ramp->figs[i];
    unsigned why = px_knee_judge(s, ramp->max_p99_us);
    json_t *failed_on = json_array();
    if (why & PX_KNEE_LOW_OK)
        json_array_append_new(failed_on, json_string("ok_per_s"));
    if (why & PX_KNEE_ERRORS)
        json_array_append_new(failed_on, json_string("errors"));
    if (why & PX_KNEE_SLOW)
        json_array_append_new(failed_on, json_string("p99"));
    json_t *o = json_object();
    px_jset(o, "rate_per_s", px_json_real10(s->rate_per_s));
    px_jset(o, "step_s", px_json_real10(s->step_s));
    px_jset(o, "ok_per_s", px_json_real10(px_knee_ok_per_s(s)));
    px_jset(o, "passed", json_boolean(why == 0));
    px_jset(o, "failed_on", failed_on);
    px_jset(o, "interrupted", json_boolean(s->interrupted));
    px_jset(o, "port_bound", json_boolean(px_knee_port_bound(s)));
    px_jset(o, "shorter_than_port_hold", json_boolean(px_knee_step_too_short(s)));
    px_jset(o, "ports_over_step_per_s",
            px_json_real10(s->step_s > 0 ? (double)s->ports / s->step_s : 0));
    px_jset(o, "predicted_ceiling_per_s",
            isfinite(s->ceiling_per_s) ? px_json_real10(s->ceiling_per_s)
                                       : json_string("not port-bound"));
    px_jset(o, "summary", px_report_summary_json(ramp->runs[i]));
    px_jset(o, "series", px_result_encode_series(&ramp->runs[i]->series));
    return o;
}

void px_ramp_report_json(FILE *f, const char *url, const struct px_ramp *ramp)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < ramp->nsteps; i++)
        json_array_append_new(steps, json_step(ramp, i));
    json_t *doc = json_object();
    px_jset(doc, "command", json_string("ramp"));
    px_jset(doc, "version", json_string(PORTEX_VERSION));
    px_jset(doc, "url", json_string(url));
    px_jset(doc, "from_per_s", px_json_real10(ramp->from_per_s));
    px_jset(doc, "to_per_s", px_json_real10(ramp->to_per_s));
    px_jset(doc, "step_per_s", px_json_real10(ramp->step_per_s));
    px_jset(doc, "step_duration_s", px_json_real10((double)ramp->step_ms / 1000.0));
    px_jset(doc, "max_p99_us", ramp->max_p99_us ? px_ju64(ramp->max_p99_us) : NULL);
    px_jset(doc, "planned_steps", px_ju64(ramp->nplanned));
    px_jset(doc, "stopped_early", json_boolean(ramp->stopped_early));
    px_jset(doc, "interrupted", json_boolean(ramp->interrupted));
    px_jset(doc, "steps", steps);
    px_jset(doc, "knee_per_s",
            ramp->knee >= 0 ? px_json_real10(ramp->figs[ramp->knee].rate_per_s) : NULL);
    px_json_print_tree(f, doc);
    json_decref(doc);
}

void px_ramp_report_csv(FILE *f, const struct px_ramp *ramp)
{
    for (size_t i = 0; i < ramp->nsteps; i++) {
        fprintf(f, "# step %.0f/s\n", ramp->figs[i].rate_per_s);
        px_report_csv(f, &ramp->runs[i]->series);
    }
}

/* ---- chart -------------------------------------------------------------- */

#define SVG_W   860
#define SVG_H   460
#define SVG_L   80
#define SVG_R   80
#define SVG_TOP 70
#define SVG_BOT 60

struct chart {
    double x0, y0, pw, ph; /* plot origin (bottom left) and size */
    double rate_max, p99_max_ms;
};

static double cx(const struct chart *c, double rate)
{
    return c->x0 + rate / c->rate_max * c->pw;
}

static double cy(const struct chart *c, double rate)
{
    return c->y0 - rate / c->rate_max * c->ph;
}

static double cy_ms(const struct chart *c, double ms)
{
    return c->y0 - ms / c->p99_max_ms * c->ph;
}

/* ok/s (or p99 when p99 is set) per step, as a line with a dot per step. */
static void svg_series(FILE *f, const struct chart *c, const struct px_ramp *ramp, int p99,
                       const char *color)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (size_t i = 0; i < ramp->nsteps; i++) {
        const struct px_knee_step *s = &ramp->figs[i];
        double y = p99 ? cy_ms(c, (double)s->p99_us / 1e3) : cy(c, px_knee_ok_per_s(s));
        fprintf(f, "%.1f,%.1f ", cx(c, s->rate_per_s), y);
    }
    fputs("\"/>\n", f);
    for (size_t i = 0; i < ramp->nsteps; i++) {
        const struct px_knee_step *s = &ramp->figs[i];
        double y = p99 ? cy_ms(c, (double)s->p99_us / 1e3) : cy(c, px_knee_ok_per_s(s));
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
                cx(c, s->rate_per_s), y, color);
    }
}

static void svg_axes(FILE *f, const struct chart *c)
{
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
            "stroke=\"#999\"/>\n",
            c->x0, c->y0 - c->ph, c->pw, c->ph);
    for (int k = 0; k <= 4; k++) {
        double fr = k / 4.0;
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.0f</text>\n",
                c->x0 - 6, c->y0 - fr * c->ph + 4, fr * c->rate_max);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" fill=\"#e07b00\">%.3g</text>\n",
                c->x0 + c->pw + 6, c->y0 - fr * c->ph + 4, fr * c->p99_max_ms);
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%.0f</text>\n",
                c->x0 + fr * c->pw, c->y0 + 16, fr * c->rate_max);
    }
    fprintf(f,
            "<text transform=\"translate(%.0f,%.0f) rotate(-90)\" font-size=\"12\" "
            "text-anchor=\"middle\">ok/s</text>\n"
            "<text transform=\"translate(%.0f,%.0f) rotate(90)\" font-size=\"12\" "
            "text-anchor=\"middle\" fill=\"#e07b00\">p99 (ms)</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"middle\">offered "
            "rate (new requests/s)</text>\n",
            c->x0 - 50, c->y0 - c->ph / 2, c->x0 + c->pw + 50, c->y0 - c->ph / 2, c->x0 + c->pw / 2,
            c->y0 + 40);
}

/* The lowest predicted port ceiling of the steps, if any is port-bound. */
static double lowest_ceiling(const struct px_ramp *ramp)
{
    double low = INFINITY;
    for (size_t i = 0; i < ramp->nsteps; i++)
        if (ramp->figs[i].ceiling_per_s < low)
            low = ramp->figs[i].ceiling_per_s;
    return low;
}

static void svg_marks(FILE *f, const struct chart *c, const struct px_ramp *ramp)
{
    /* Offered = ok/s: where every step would sit if it kept up. */
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
            "stroke-dasharray=\"4,4\"/>\n",
            cx(c, 0), cy(c, 0), cx(c, c->rate_max), cy(c, c->rate_max));
    double ceiling = lowest_ceiling(ramp);
    if (isfinite(ceiling) && ceiling < c->rate_max)
        fprintf(f,
                "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d1342f\" "
                "stroke-dasharray=\"6,4\"/>\n<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" "
                "fill=\"#d1342f\" text-anchor=\"end\">predicted port ceiling %.1f/s</text>\n",
                c->x0, c->x0 + c->pw, cy(c, ceiling), cy(c, ceiling), c->x0 + c->pw - 4,
                cy(c, ceiling) - 4, ceiling);
    if (ramp->knee >= 0) {
        double x = cx(c, ramp->figs[ramp->knee].rate_per_s);
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#2a9d3a\" "
                "stroke-width=\"2\"/>\n<text x=\"%.1f\" y=\"%.0f\" font-size=\"12\" "
                "fill=\"#2a9d3a\">knee %.0f/s</text>\n",
                x, x, c->y0, c->y0 - c->ph, x + 4, c->y0 - c->ph + 14,
                ramp->figs[ramp->knee].rate_per_s);
    }
}

void px_ramp_report_svg(FILE *f, const char *url, const struct px_ramp *ramp)
{
    struct chart c = {.x0 = SVG_L,
                      .y0 = SVG_H - SVG_BOT,
                      .pw = SVG_W - SVG_L - SVG_R,
                      .ph = SVG_H - SVG_TOP - SVG_BOT};
    double top = ramp->to_per_s, p99 = 0;
    for (size_t i = 0; i < ramp->nsteps; i++) {
        double ok = px_knee_ok_per_s(&ramp->figs[i]);
        top = ok > top ? ok : top;
        p99 = (double)ramp->figs[i].p99_us / 1e3 > p99 ? (double)ramp->figs[i].p99_us / 1e3 : p99;
    }
    c.rate_max = px_svg_nice_max(top * 1.05);
    c.p99_max_ms = px_svg_nice_max(p99 * 1.05);
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">portex ramp: "
            "offered vs ok/s and p99 per step</text>\n<text x=\"%d\" y=\"42\" font-size=\"11\" "
            "fill=\"#555\">",
            SVG_W, SVG_H, SVG_W, SVG_H, SVG_L, SVG_L);
    px_svg_xml_text(f, url);
    fprintf(f,
            "</text>\n<g font-size=\"12\" transform=\"translate(%d,58)\">"
            "<line x1=\"0\" x2=\"20\" y1=\"0\" y2=\"0\" stroke=\"#2a6fdb\" stroke-width=\"2\"/>"
            "<text x=\"25\" y=\"4\">ok/s</text>"
            "<line x1=\"80\" x2=\"100\" y1=\"0\" y2=\"0\" stroke=\"#e07b00\" stroke-width=\"2\"/>"
            "<text x=\"105\" y=\"4\">p99 (right axis)</text>"
            "<line x1=\"230\" x2=\"250\" y1=\"0\" y2=\"0\" stroke=\"#888\" "
            "stroke-dasharray=\"4,4\"/><text x=\"255\" y=\"4\">offered</text></g>\n",
            SVG_L);
    svg_axes(f, &c);
    svg_marks(f, &c, ramp);
    svg_series(f, &c, ramp, 1, "#e07b00");
    svg_series(f, &c, ramp, 0, "#2a6fdb");
    fputs("</svg>\n", f);
}
