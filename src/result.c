/* SPDX-License-Identifier: MIT */
/* Summing per-worker totals. */
#include "portex/result.h"

#include "portex/atomic.h"

void px_totals_add(struct px_totals *dst, const struct px_totals *src)
{
    dst->started += PX_LOAD(src->started);
    dst->ok += PX_LOAD(src->ok);
    dst->failed += PX_LOAD(src->failed);
    dst->connections_opened += PX_LOAD(src->connections_opened);
    dst->missed_starts += PX_LOAD(src->missed_starts);
    for (int i = 0; i < 6; i++)
        dst->status[i] += PX_LOAD(src->status[i]);
    for (int i = 0; i < PX_CAUSE_COUNT; i++)
        dst->cause[i] += PX_LOAD(src->cause[i]);
}

uint64_t px_totals_in_flight(const struct px_totals *t)
{
    uint64_t ended = t->ok + t->failed;
    return t->started > ended ? t->started - ended : 0;
}

uint64_t px_totals_errno(const struct px_totals *t, int err)
{
    return t->cause[px_cause_from_errno(err)];
}
