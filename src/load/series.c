/* SPDX-License-Identifier: MIT */
/* The time series: a growing array of rows. */
#include "portex/load/series.h"

#include <stdlib.h>
#include <string.h>

#include "portex/load/hist.h"

int px_series_push(struct px_series *s, const struct px_series_row *row)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct px_series_row *r = realloc(s->rows, cap * sizeof(*r));
        if (r == NULL)
            return -1;
        s->rows = r;
        s->cap = cap;
    }
    s->rows[s->count] = *row;
    s->rows[s->count].hist_off = s->nbuckets;
    s->rows[s->count].hist_len = 0;
    s->count++;
    return 0;
}

int px_series_bucket_push(struct px_series *s, uint32_t idx, uint64_t count)
{
    if (s->nbuckets == s->bucket_cap) {
        size_t cap = s->bucket_cap ? s->bucket_cap * 2 : 256;
        struct px_series_bucket *b = realloc(s->buckets, cap * sizeof(*b));
        if (b == NULL)
            return -1;
        s->buckets = b;
        s->bucket_cap = cap;
    }
    s->buckets[s->nbuckets++] = (struct px_series_bucket){.idx = idx, .count = count};
    return 0;
}

int px_series_push_hist(struct px_series *s, const struct px_series_row *row,
                        const struct px_hist *h)
{
    if (px_series_push(s, row) < 0)
        return -1;
    struct px_series_row *r = &s->rows[s->count - 1];
    r->hist_count = h->count;
    r->hist_sum_us = h->sum_us;
    r->hist_min_us = h->count ? h->min_us : 0;
    r->hist_max_us = h->count ? h->max_us : 0;
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++) {
        if (h->buckets[i] == 0)
            continue;
        if (px_series_bucket_push(s, i, h->buckets[i]) < 0)
            return -1;
        r->hist_len++;
    }
    return 0;
}

void px_series_row_hist(const struct px_series *s, size_t i, struct px_hist *out)
{
    const struct px_series_row *r = &s->rows[i];
    px_hist_init(out);
    out->count = r->hist_count;
    out->sum_us = r->hist_sum_us;
    if (r->hist_count) {
        out->min_us = r->hist_min_us;
        out->max_us = r->hist_max_us;
    }
    for (size_t k = 0; k < r->hist_len; k++) {
        const struct px_series_bucket *b = &s->buckets[r->hist_off + k];
        if (b->idx < PX_HIST_BUCKETS)
            out->buckets[b->idx] += b->count;
    }
}

void px_series_free(struct px_series *s)
{
    free(s->buckets);
    free(s->rows);
    memset(s, 0, sizeof(*s));
}

void px_series_mark_drain(struct px_series *s, double load_s)
{
    for (size_t i = 0; i < s->count; i++) {
        double begin = i ? s->rows[i - 1].t : 0.0;
        /* A row that began within a millisecond of the end is the drain's. */
        s->rows[i].drain = begin >= load_s - 1e-3;
    }
}
