/* SPDX-License-Identifier: MIT */
/*
 * portex watch's reports: the live table (a frame redrawn in place, fullest
 * channel first, top-like), one plain line per tick and per channel when the
 * output is not a terminal, the summary at the end, and the JSON document.
 */
#ifndef PORTEX_WATCH_REPORT_H
#define PORTEX_WATCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct px_watch;

/* Escape sequences of the live table's screen: into the alternate screen with the cursor
 * hidden, and back to the normal screen with it shown. */
#define PX_WATCH_SCREEN_ENTER "\033[?1049h\033[?25l\033[2J"
#define PX_WATCH_SCREEN_LEAVE "\033[?25h\033[?1049l"

/*
 * The live frame of the last tick into buf: from the top-left corner, at most
 * rows - 1 lines each cut to cols columns (a wrapped line would scroll the
 * frame) and cleared to its end, the rest of the screen cleared. Its length
 * (at most len - 1; NUL-terminated).
 */
size_t px_watch_report_frame(char *buf, size_t len, const struct px_watch *w, unsigned rows,
                             unsigned cols);
/* The last tick as plain key=value lines: one for the tick, one per channel with
 * sockets, one per process that failed in it. */
void px_watch_report_lines(FILE *f, const struct px_watch *w);
/* The summary at the end: the verdict, the rules, every channel with its peak, the
 * processes, what the watch cost. */
void px_watch_report_text(FILE *f, const struct px_watch *w);
/* The document of --json: channels, processes, counters, ticks, tracing. */
void px_watch_report_json(FILE *f, const struct px_watch *w);
/*
 * watch's live metrics (--metrics), a px_metrics_write_cb: the host's usable
 * ports, and per channel (labels source, destination) its ports in use, its
 * TIME_WAIT and its seconds until exhaustion; fmt an enum px_expo_format, arg
 * the struct px_watch.
 */
void px_watch_report_metrics(FILE *f, int fmt, uint64_t ts_ms, const void *arg);
/* The one line saying that tracing is off and why (nothing when it is on). */
void px_watch_report_tracing(FILE *f, const struct px_watch *w);

#endif
