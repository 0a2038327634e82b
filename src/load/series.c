/* SPDX-License-Identifier: MIT */
/* The time series: a growing array of rows. */
#include "portex/load/series.h"

#include <stdlib.h>
#include <string.h>

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
    s->rows[s->count++] = *row;
    return 0;
}

void px_series_free(struct px_series *s)
{
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
