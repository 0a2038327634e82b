/* SPDX-License-Identifier: MIT */
/* Plain SVG charts of runs: one panel per run, sharing the time axis. */
#ifndef PORTEX_SVG_H
#define PORTEX_SVG_H

#include <stddef.h>
#include <stdio.h>

struct px_run;

/*
 * ok/s and EADDRNOTAVAIL/s as lines (left axis), TIME_WAIT toward the target
 * as a shaded area (right axis), the predicted ceiling dashed; one panel per run.
 * Panels share the time axis and their y scales; a panel that would be flat on
 * the shared scale, or whose ceiling lies above it, gets its own, named in its label.
 */
void px_svg_write(FILE *f, const char *title, const struct px_run *const *runs,
                  const char *const *names, size_t n);
/*
 * The same, with a line of text in each panel under its name (notes[i], NULL
 * or "" for none): what was measured beside the run (the lab's middle).
 */
void px_svg_write_notes(FILE *f, const char *title, const struct px_run *const *runs,
                        const char *const *names, const char *const *notes, size_t n);

/* s with <, >, & and " escaped for SVG text and attributes. */
void px_svg_xml_text(FILE *f, const char *s);
/* A round axis maximum at or above v (1, 2, 2.5 or 5 times a power of ten). */
double px_svg_nice_max(double v);
/* The round step (1, 2 or 5 times a power of ten) that cuts span into at most `intervals`
 * ticks; 1 for an empty span. */
double px_svg_tick_step(double span, int intervals);

#endif
