/* SPDX-License-Identifier: MIT */
/*
 * Log-linear histogram: values below 256 us get a bucket each; above, every
 * power of two is split into 128 equal buckets, so a bucket is at most 1/128
 * of its lower bound wide and its midpoint is within 0.4% of any value in it.
 */
#include "portex/load/hist.h"

#include <math.h>
#include <string.h>

#include "portex/base/atomic.h"

#define SUB_COUNT (1u << PX_HIST_SUB_BITS)
#define HALF      (SUB_COUNT / 2)

void px_hist_init(struct px_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min_us = UINT64_MAX;
}

unsigned px_hist_index(uint64_t v)
{
    if (v > PX_HIST_MAX_US)
        v = PX_HIST_MAX_US;
    if (v < SUB_COUNT)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (PX_HIST_SUB_BITS - 1);
    return SUB_COUNT + (shift - 1) * HALF + (unsigned)((v >> shift) - HALF);
}

void px_hist_bounds(unsigned idx, uint64_t *lo, uint64_t *hi)
{
    if (idx < SUB_COUNT) {
        *lo = *hi = idx;
        return;
    }
    unsigned shift = (idx - SUB_COUNT) / HALF + 1;
    uint64_t top = HALF + (idx - SUB_COUNT) % HALF;
    *lo = top << shift;
    *hi = ((top + 1) << shift) - 1;
}

void px_hist_record(struct px_hist *h, uint64_t v)
{
    PX_BUMP(h->buckets[px_hist_index(v)], 1);
    PX_BUMP(h->count, 1);
    PX_BUMP(h->sum_us, v);
    if (v > PX_LOAD(h->max_us))
        PX_STORE(h->max_us, v);
    if (v < PX_LOAD(h->min_us))
        PX_STORE(h->min_us, v);
}

void px_hist_snapshot(struct px_hist *dst, const struct px_hist *src)
{
    dst->count = PX_LOAD(src->count);
    dst->sum_us = PX_LOAD(src->sum_us);
    dst->min_us = PX_LOAD(src->min_us);
    dst->max_us = PX_LOAD(src->max_us);
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++)
        dst->buckets[i] = PX_LOAD(src->buckets[i]);
}

void px_hist_merge(struct px_hist *dst, const struct px_hist *src)
{
    dst->count += src->count;
    dst->sum_us += src->sum_us;
    if (src->min_us < dst->min_us)
        dst->min_us = src->min_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
}

void px_hist_diff(struct px_hist *dst, const struct px_hist *a, const struct px_hist *b)
{
    px_hist_init(dst);
    uint64_t count = 0;
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++) {
        /* A snapshot taken while a worker writes may be a little behind in one
         * bucket; never let that wrap around. */
        uint64_t n = a->buckets[i] > b->buckets[i] ? a->buckets[i] - b->buckets[i] : 0;
        dst->buckets[i] = n;
        if (n == 0)
            continue;
        uint64_t lo, hi;
        px_hist_bounds(i, &lo, &hi);
        if (count == 0)
            dst->min_us = lo;
        dst->max_us = hi;
        count += n;
    }
    dst->count = count;
    dst->sum_us = a->sum_us > b->sum_us ? a->sum_us - b->sum_us : 0;
    if (dst->max_us > a->max_us)
        dst->max_us = a->max_us;
    if (count > 0 && dst->min_us < a->min_us)
        dst->min_us = a->min_us;
}

uint64_t px_hist_percentile(const struct px_hist *h, double q)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++)
        total += h->buckets[i];
    if (total == 0)
        return 0;
    if (q <= 0)
        return h->min_us;
    if (q >= 100)
        return h->max_us;
    /* Nearest rank: the smallest value with at least q% of values at or below it. */
    uint64_t rank = (uint64_t)ceil((q / 100.0) * (double)total);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            px_hist_bounds(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            if (mid < h->min_us)
                mid = h->min_us;
            if (mid > h->max_us)
                mid = h->max_us;
            return mid;
        }
    }
    return h->max_us;
}

double px_hist_mean(const struct px_hist *h)
{
    return h->count ? (double)h->sum_us / (double)h->count : 0.0;
}
