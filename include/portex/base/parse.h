/* SPDX-License-Identifier: MIT */
/* Parsers for command-line values: durations, rates, counts, ranges, headers. */
#ifndef PORTEX_PARSE_H
#define PORTEX_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "500ms", "10s", "2m", "1h" or bare seconds ("1.5") into ms; > 0. 0 or -1. */
int px_parse_duration_ms(const char *s, uint64_t *out_ms);
/* Decimal from 0.001 to 1e8, optional k/M suffix ("2000", "1.5k"). 0 or -1. */
int px_parse_rate(const char *s, double *out_per_s);
/* Whole number in [min, max]. 0 or -1. */
int px_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "LO-HI" with 1 <= LO <= HI <= 65535. 0 or -1. */
int px_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi);
/* "Name: value": a token name, a colon, no CR or LF anywhere. 0 or -1. */
int px_parse_header(const char *s);

/* "K/N" with 0 <= K < N, N >= 1 (pdsh's %n, JOB_COMPLETION_INDEX). 0 or -1. */
int px_parse_shard(const char *s, unsigned *k, unsigned *n);
/*
 * A wall-clock instant: unix seconds with an optional fraction ("1767225600.25")
 * or RFC 3339 ("2026-01-01T00:00:00.25Z", "...+02:00"), into unix ns. 0 or -1.
 */
int px_parse_wallclock(const char *s, int64_t *out_ns);

#endif
