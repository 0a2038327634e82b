/* SPDX-License-Identifier: MIT */
/* Log-linear latency histogram (HDR style): <= 0.4% relative error, 1 us to 60 s. */
#ifndef PORTEX_HIST_H
#define PORTEX_HIST_H

#include <stdint.h>

#define PX_HIST_SUB_BITS 8
#define PX_HIST_MAX_US   60000000u /* larger values count in the top bucket */
#define PX_HIST_BUCKETS  2560      /* covers 0 .. 2^26 us */

struct px_hist {
    uint64_t count;  /* values recorded */
    uint64_t sum_us; /* for the mean */
    uint64_t min_us; /* exact; UINT64_MAX when empty */
    uint64_t max_us; /* exact */
    uint64_t buckets[PX_HIST_BUCKETS];
};

void px_hist_init(struct px_hist *h);
/* Records one value. Single writer; others may read with px_hist_snapshot. */
void px_hist_record(struct px_hist *h, uint64_t value_us);
/* Copies src into dst with relaxed atomic loads (src may be written meanwhile). */
void px_hist_snapshot(struct px_hist *dst, const struct px_hist *src);
/* dst += src. */
void px_hist_merge(struct px_hist *dst, const struct px_hist *src);
/* dst = a - b, for b an earlier snapshot of a (min/max become the bucket bounds). */
void px_hist_diff(struct px_hist *dst, const struct px_hist *a, const struct px_hist *b);
/* Value at percentile q in [0, 100]; 0 when empty. */
uint64_t px_hist_percentile(const struct px_hist *h, double q);
double px_hist_mean(const struct px_hist *h);
/* Bucket index of a value, and the bounds [lo, hi] of a bucket (exposed for tests). */
unsigned px_hist_index(uint64_t value_us);
void px_hist_bounds(unsigned idx, uint64_t *lo, uint64_t *hi);

#endif
