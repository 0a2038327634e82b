/* SPDX-License-Identifier: MIT */
/* A run's time series: one row per stats tick, what happened in it and the levels at its end. */
#ifndef PORTEX_LOAD_SERIES_H
#define PORTEX_LOAD_SERIES_H

#include <stddef.h>
#include <stdint.h>

/* One row per tick. Counts are of that interval; levels are at its end. */
struct px_series_row {
    double t;         /* seconds since start, at the end of the interval */
    uint64_t started; /* requests begun */
    uint64_t ok;
    uint64_t failed;
    uint64_t eaddrnotavail; /* failures with EADDRNOTAVAIL */
    uint64_t other_errors;  /* failures of any other cause */
    uint64_t connections_opened;
    uint64_t in_flight;      /* level */
    int64_t time_wait;       /* level: TIME_WAIT toward the target; -1 unknown */
    int64_t time_wait_all;   /* level: /proc/net/sockstat tw; -1 unknown */
    uint64_t tw_recycled;    /* TcpExt TWRecycled in the interval */
    uint64_t tw_overflow;    /* TcpExt TCPTimeWaitOverflow in the interval */
    uint64_t p50_us, p99_us; /* total latency of requests finished in the interval */
    int drain;               /* the interval began after the load window ended */
    uint64_t retries;        /* requests resent on a fresh connection in the interval */
    uint64_t tls_full;       /* https: full TLS handshakes completed in the interval */
    uint64_t tls_resumed;    /* https: resumed TLS handshakes completed in the interval */
    uint64_t tls_p50_us;     /* https: median handshake latency in the interval */
    /* That interval's total-latency histogram, kept so merged rows get exact
     * percentiles: count/sum/min/max here, its non-empty buckets in
     * px_series.buckets[hist_off .. hist_off + hist_len). */
    uint64_t hist_count, hist_sum_us, hist_min_us, hist_max_us;
    size_t hist_off, hist_len;
};

/* One non-empty histogram bucket. */
struct px_series_bucket {
    uint32_t idx;
    uint64_t count;
};

struct px_series {
    struct px_series_row *rows;
    size_t count, cap;
    int tls;                          /* https: the rows' tls_ fields are filled (and reported) */
    struct px_series_bucket *buckets; /* rows' sparse histograms */
    size_t nbuckets, bucket_cap;
};

struct px_hist;

/* Appends a row (its histogram empty). 0 or -1. */
int px_series_push(struct px_series *s, const struct px_series_row *row);
/* Appends one non-empty histogram bucket to the bucket store (the last row's
 * hist_len is the caller's to count). 0 or -1. */
int px_series_bucket_push(struct px_series *s, uint32_t idx, uint64_t count);
/* Appends a row with h as its interval histogram (sets the row's hist_ fields). 0 or -1. */
int px_series_push_hist(struct px_series *s, const struct px_series_row *row,
                        const struct px_hist *h);
/* Rebuilds row i's interval histogram into out. */
void px_series_row_hist(const struct px_series *s, size_t i, struct px_hist *out);
void px_series_free(struct px_series *s);
/* Flags the rows that began after the load window (load_s seconds from the start). */
void px_series_mark_drain(struct px_series *s, double load_s);

#endif
