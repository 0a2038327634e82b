/* SPDX-License-Identifier: MIT */
/* SVG written by hand: no runtime dependency, valid XML, readable in any browser. */
#include "portex/report/svg.h"

#include <math.h>
#include <string.h>

#include "portex/load/result.h"

#define W       960
#define PANEL_H 220
#define LEFT    80
#define RIGHT   80
#define TOP     60
#define GAP     50

void px_svg_xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

double px_svg_nice_max(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i] * p >= v)
            return steps[i] * p;
    return 10 * p;
}

static double row_rate(const struct px_series *s, size_t i, int eaddr)
{
    double prev = i ? s->rows[i - 1].t : 0;
    double dt = s->rows[i].t - prev;
    if (dt < 0.05) /* a closing sliver of a tick: its rate would be noise */
        return NAN;
    return (double)(eaddr ? s->rows[i].eaddrnotavail : s->rows[i].ok) / dt;
}

static void polyline(FILE *f, const struct px_series *s, int eaddr, double x0, double xs, double y0,
                     double ys, const char *color)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (size_t i = 0; i < s->count; i++) {
        double r = row_rate(s, i, eaddr);
        if (isnan(r))
            continue;
        fprintf(f, "%.1f,%.1f ", x0 + s->rows[i].t * xs, y0 - r * ys);
    }
    fputs("\"/>\n", f);
}

double px_svg_tick_step(double span, int intervals)
{
    if (!(span > 0) || intervals < 1)
        return 1;
    double raw = span / intervals;
    double p = pow(10, floor(log10(raw)));
    const double steps[] = {1, 2, 5, 10};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i] * p >= raw * (1 - 1e-9))
            return steps[i] * p;
    return 10 * p;
}

/* An axis from 0 to a whole number of round steps at or above v. */
struct axis {
    double max, step;
};

static struct axis axis_for(double v)
{
    struct axis a = {.step = px_svg_tick_step(v > 0 ? v : 1, 4)};
    a.max = a.step * ceil((v > 0 ? v : 1) / a.step - 1e-9);
    return a;
}

/* What one panel would need on its y axes: its highest rate (and ceiling) and TIME_WAIT. */
struct need {
    double rate, ceiling, tw;
};

static struct need panel_need(const struct px_run *run)
{
    const struct px_series *s = &run->series;
    struct need nd = {0, 0, 0};
    for (size_t i = 0; i < s->count; i++) {
        double a = row_rate(s, i, 0), b = row_rate(s, i, 1);
        if (a > nd.rate)
            nd.rate = a;
        if (b > nd.rate)
            nd.rate = b;
        if ((double)s->rows[i].time_wait > nd.tw)
            nd.tw = (double)s->rows[i].time_wait;
    }
    if (run->ex.ceiling.port_bound && isfinite(run->ex.ceiling.per_s))
        nd.ceiling = run->ex.ceiling.per_s;
    return nd;
}

/* One panel's frame and scales: x in seconds, left y in requests/s, right y in TIME_WAIT. */
struct frame {
    double x0, y0, y_top, pw, ph; /* plot area: left, bottom, top, width, height */
    double xs, ys, ts;            /* pixels per second, per request/s, per TIME_WAIT socket */
    struct axis rate, tw;
    double t_max;
    int own_rate, own_tw; /* this panel is drawn on a y scale of its own, not the shared one */
};

/*
 * Panels share their y scales, so that heights compare across modes. A panel
 * whose data would be a flat line on the shared scale (under a tenth of it),
 * or whose predicted ceiling lies above it, gets a scale of its own, and its
 * label says so.
 */
static void frame_scale(struct frame *fr, const struct need *nd, const struct need *shared,
                        size_t npanels)
{
    double rate = nd->rate > nd->ceiling ? nd->rate : nd->ceiling;
    if (npanels > 1) {
        fr->own_rate = rate > 0 && (rate * 10 < shared->rate || rate > shared->rate * 1.05);
        fr->own_tw = nd->tw > 0 && nd->tw * 10 < shared->tw;
    }
    fr->rate = axis_for((npanels < 2 || fr->own_rate ? rate : shared->rate) * 1.05);
    fr->tw = axis_for((npanels < 2 || fr->own_tw ? nd->tw : shared->tw) * 1.05);
    fr->xs = fr->pw / fr->t_max;
    fr->ys = fr->ph / fr->rate.max;
    fr->ts = fr->ph / fr->tw.max;
}

/* TIME_WAIT toward the target: a shaded area on the right axis. */
static void tw_area(FILE *f, const struct px_series *s, const struct frame *fr)
{
    fprintf(f,
            "<polygon fill=\"#4a78c2\" fill-opacity=\"0.18\" stroke=\"#4a78c2\" "
            "stroke-opacity=\"0.5\" points=\"%.1f,%.1f ",
            fr->x0, fr->y0);
    for (size_t i = 0; i < s->count; i++) {
        double tw = s->rows[i].time_wait > 0 ? (double)s->rows[i].time_wait : 0;
        fprintf(f, "%.1f,%.1f ", fr->x0 + s->rows[i].t * fr->xs, fr->y0 - tw * fr->ts);
    }
    if (s->count)
        fprintf(f, "%.1f,%.1f", fr->x0 + s->rows[s->count - 1].t * fr->xs, fr->y0);
    fputs("\"/>\n", f);
}

/* Ticks at round values (1-2-5 steps) on both y axes and the time axis, and the titles. */
static void axes(FILE *f, const struct frame *fr)
{
    for (double v = 0; v <= fr->rate.max * (1 + 1e-9); v += fr->rate.step)
        fprintf(f,
                "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.10g</text>\n",
                fr->x0 - 6, fr->y0 - v * fr->ys + 4, v);
    for (double v = 0; v <= fr->tw.max * (1 + 1e-9); v += fr->tw.step)
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" fill=\"#4a78c2\">%.10g</text>\n",
                fr->x0 + fr->pw + 6, fr->y0 - v * fr->ts + 4, v);
    fprintf(f,
            "<text transform=\"translate(%.0f,%.0f) rotate(-90)\" font-size=\"12\" "
            "text-anchor=\"middle\">requests/s</text>\n",
            fr->x0 - 50, fr->y_top + fr->ph / 2);
    fprintf(f,
            "<text transform=\"translate(%.0f,%.0f) rotate(90)\" font-size=\"12\" "
            "text-anchor=\"middle\" fill=\"#4a78c2\">TIME_WAIT sockets</text>\n",
            fr->x0 + fr->pw + 50, fr->y_top + fr->ph / 2);
    double step = px_svg_tick_step(fr->t_max, 6);
    for (int k = 0; k * step <= fr->t_max * (1 + 1e-9); k++)
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">"
                "%.10gs</text>\n",
                fr->x0 + k * step * fr->xs, fr->y0 + 15, k * step);
}

/* A line of text inside the panel's top left corner: the figures measured beside the run. */
static void panel_note(FILE *f, const struct frame *fr, const char *note)
{
    if (note == NULL || *note == '\0')
        return;
    fprintf(f, "<text class=\"note\" x=\"%.0f\" y=\"%.0f\" font-size=\"11\" fill=\"#7a3e00\">",
            fr->x0 + 6, fr->y_top + 14);
    px_svg_xml_text(f, note);
    fputs("</text>\n", f);
}

/* The panel's name, and which of its y scales are its own. */
static void panel_label(FILE *f, const char *name, const struct frame *fr)
{
    fprintf(f, "<text x=\"%d\" y=\"%.0f\" font-weight=\"bold\">", LEFT, fr->y_top - 10);
    px_svg_xml_text(f, name);
    if (fr->own_rate && fr->own_tw)
        fputs(" (own y scales, not shared with the other panels)", f);
    else if (fr->own_rate)
        fputs(" (own requests/s scale, not shared with the other panels)", f);
    else if (fr->own_tw)
        fputs(" (own TIME_WAIT scale, not shared with the other panels)", f);
    fputs("</text>\n", f);
}

static void panel(FILE *f, const struct px_run *run, const char *name, const char *note,
                  double y_top, const struct need *shared, size_t npanels, double t_max)
{
    struct frame fr = {
        .x0 = LEFT, .y_top = y_top, .pw = W - LEFT - RIGHT, .ph = PANEL_H, .t_max = t_max};
    fr.y0 = y_top + fr.ph;
    struct need nd = panel_need(run);
    frame_scale(&fr, &nd, shared, npanels);
    double ceiling = nd.ceiling;

    fprintf(f, "<g class=\"panel\" id=\"panel-");
    px_svg_xml_text(f, name);
    fprintf(f, "\">\n");
    panel_label(f, name, &fr);
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
            "stroke=\"#999\"/>\n",
            fr.x0, y_top, fr.pw, fr.ph);
    tw_area(f, &run->series, &fr);
    /* ok/s last, so that it stays visible where the two lines meet. */
    polyline(f, &run->series, 1, fr.x0, fr.xs, fr.y0, fr.ys, "#d1342f");
    polyline(f, &run->series, 0, fr.x0, fr.xs, fr.y0, fr.ys, "#2a9d3a");
    if (ceiling > 0) {
        double y = fr.y0 - ceiling * fr.ys;
        fprintf(f,
                "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
                "stroke-dasharray=\"6,4\"/>\n"
                "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" fill=\"#555\" "
                "text-anchor=\"end\">predicted %.1f/s</text>\n",
                fr.x0, fr.x0 + fr.pw, y, y, fr.x0 + fr.pw - 4, y - 4, ceiling);
    }
    axes(f, &fr);
    panel_note(f, &fr, note);
    fputs("</g>\n", f);
}

void px_svg_write(FILE *f, const char *title, const struct px_run *const *runs,
                  const char *const *names, size_t n)
{
    px_svg_write_notes(f, title, runs, names, NULL, n);
}

void px_svg_write_notes(FILE *f, const char *title, const struct px_run *const *runs,
                        const char *const *names, const char *const *notes, size_t n)
{
    double t_max = 0;
    struct need shared = {0, 0, 0}; /* the panels' data, their ceilings left out */
    for (size_t i = 0; i < n; i++) {
        const struct px_series *s = &runs[i]->series;
        if (s->count && s->rows[s->count - 1].t > t_max)
            t_max = s->rows[s->count - 1].t;
        struct need nd = panel_need(runs[i]);
        shared.rate = nd.rate > shared.rate ? nd.rate : shared.rate;
        shared.tw = nd.tw > shared.tw ? nd.tw : shared.tw;
    }
    if (t_max <= 0)
        t_max = 1;
    int h = TOP + (int)n * (PANEL_H + GAP) + 30;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">",
            W, h, W, h, LEFT);
    px_svg_xml_text(f, title);
    fputs("</text>\n", f);
    /* Legend. */
    fprintf(f,
            "<g font-size=\"12\" transform=\"translate(%d,40)\">"
            "<line x1=\"0\" x2=\"20\" y1=\"0\" y2=\"0\" stroke=\"#2a9d3a\" stroke-width=\"2\"/>"
            "<text x=\"25\" y=\"4\">ok/s</text>"
            "<line x1=\"80\" x2=\"100\" y1=\"0\" y2=\"0\" stroke=\"#d1342f\" stroke-width=\"2\"/>"
            "<text x=\"105\" y=\"4\">EADDRNOTAVAIL/s</text>"
            "<rect x=\"230\" y=\"-6\" width=\"20\" height=\"12\" fill=\"#4a78c2\" "
            "fill-opacity=\"0.3\"/><text x=\"255\" y=\"4\">TIME_WAIT toward the target "
            "(right axis)</text>"
            "<line x1=\"560\" x2=\"580\" y1=\"0\" y2=\"0\" stroke=\"#555\" "
            "stroke-dasharray=\"6,4\"/><text x=\"585\" y=\"4\">predicted ceiling</text>"
            "</g>\n",
            LEFT);
    for (size_t i = 0; i < n; i++)
        panel(f, runs[i], names[i], notes ? notes[i] : NULL, TOP + 20 + (double)i * (PANEL_H + GAP),
              &shared, n, t_max);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">time since "
            "start (s)</text>\n</svg>\n",
            LEFT + (W - LEFT - RIGHT) / 2, h - 8);
}
