/* SPDX-License-Identifier: MIT */
/* HdrHistogram interval logs: V2 compressed histograms, base64, one line per interval. */
#ifndef PORTEX_HLOG_H
#define PORTEX_HLOG_H

#include <stddef.h>
#include <stdint.h>

struct px_hist;
struct px_hlog;

/* The HdrHistogram settings that give exactly portex's bucket layout (see hlog.c). */
#define PX_HLOG_LOWEST      1
#define PX_HLOG_HIGHEST     60000000 /* us: PX_HIST_MAX_US */
#define PX_HLOG_SIG_DIGITS  2
#define PX_HLOG_COOKIE      0x1c849313 /* V2 encoding, ZigZag LEB128 counts */
#define PX_HLOG_COOKIE_ZLIB 0x1c849314 /* V2 compressed (zlib deflate) */
/* Interval_Max is written in milliseconds: the histograms hold microseconds. */
#define PX_HLOG_MAX_UNIT_RATIO 1000.0

/*
 * Uncompressed V2 encoding of h into buf (cap bytes). Returns the length, or 0
 * when cap is too small (PX_HLOG_RAW_MAX always suffices).
 */
#define PX_HLOG_RAW_MAX (40 + 9 * 2560)
size_t px_hlog_encode_raw(const struct px_hist *h, uint8_t *buf, size_t cap);
/* Compressed V2 encoding, base64, NUL-terminated, malloc'd; NULL when out of memory. */
char *px_hlog_encode(const struct px_hist *h);

/* Creates the log file ("-" = stdout). NULL with the reason in err. */
struct px_hlog *px_hlog_open(const char *path, char *err, size_t errlen);
/*
 * Appends one interval: start_s and len_s in seconds since the run's start,
 * whose wall-clock time is epoch_s. The first call's epoch_s is the log's
 * BaseTime (in the header); later runs' lines are stamped from it too. tag NULL for the untagged
 * (total latency) line. 0 or -1.
 */
int px_hlog_write(struct px_hlog *l, double epoch_s, const char *tag, double start_s, double len_s,
                  const struct px_hist *h);
struct px_stats_interval;
/*
 * A px_stats_tick_cb for `arg` = a struct px_hlog: per tick, one untagged line
 * with the interval's total latency, then Tag=connect and Tag=ttfb lines.
 * A failed write is kept for px_hlog_close.
 */
void px_hlog_tick(void *arg, const struct px_stats_interval *iv);
/* One of several runs in one log: its lines are tagged (compare: the mode's name). */
struct px_hlog_tagged {
    struct px_hlog *log;
    const char *tag; /* no comma or space; lines TAG, TAG.connect, TAG.ttfb */
};
/* A px_stats_tick_cb for `arg` = a struct px_hlog_tagged. */
void px_hlog_tick_tagged(void *arg, const struct px_stats_interval *iv);
/* Flushes and closes (stdout is only flushed). 0, or -1 when a write failed. */
int px_hlog_close(struct px_hlog *l);
/* A run that never ran: closes, and removes the file if px_hlog_open created it. */
void px_hlog_discard(struct px_hlog *l);

#endif
