/* SPDX-License-Identifier: MIT */
/* The schedule of a run: shares, the open model's timetable, the stop and the load window. */
#include "portex/load/schedule.h"

#include "portex/load/load.h"

#define GRACE_MAX_US 2000000u /* how long in-flight requests may finish after a stop */

unsigned px_schedule_workers(const struct px_load *load)
{
    unsigned w = load->threads ? load->threads : 1;
    return w > load->connections ? load->connections : w;
}

unsigned px_schedule_slots(const struct px_load *load, unsigned workers, unsigned i)
{
    return load->connections / workers + (i < load->connections % workers);
}

uint64_t px_schedule_quota(const struct px_load *load, unsigned workers, unsigned i)
{
    if (load->requests == 0)
        return UINT64_MAX;
    return load->requests / workers + (i < load->requests % workers);
}

void px_schedule_init(struct px_schedule *s, const struct px_load *load, unsigned workers)
{
    *s = (struct px_schedule){
        .rate_per_s = load->rate_per_s,
        .shard = load->shard,
        .shards = load->shards,
        .workers = workers,
        .duration_us = load->duration_ms * 1000u,
    };
}

void px_schedule_start(struct px_schedule *s, uint64_t t0_us)
{
    s->t0_us = t0_us;
    s->end_us = s->duration_us ? t0_us + s->duration_us : 0;
}

uint64_t px_schedule_start_us(const struct px_schedule *s, unsigned worker, uint64_t k)
{
    double shards = s->shards ? s->shards : 1;
    double idx = ((double)k * s->workers + worker) * shards + s->shard;
    return s->t0_us + (uint64_t)(idx * 1e6 / s->rate_per_s);
}

enum px_schedule_step px_schedule_next(const struct px_schedule *s, unsigned worker, uint64_t k,
                                       uint64_t quota, uint64_t now_us, uint64_t *at_us)
{
    if (quota == 0)
        return PX_SCHEDULE_QUIESCE;
    uint64_t t = px_schedule_start_us(s, worker, k);
    if (s->end_us != 0 && t >= s->end_us) {
        /* No start is left, but the window lasts -d: stopping at the last start
         * would shorten it and overstate every rate at a low -r. */
        if (now_us < s->end_us) {
            *at_us = s->end_us;
            return PX_SCHEDULE_WAIT;
        }
        return PX_SCHEDULE_STOP;
    }
    *at_us = t;
    return t > now_us ? PX_SCHEDULE_WAIT : PX_SCHEDULE_START;
}

uint64_t px_schedule_grace_us(const struct px_load *load)
{
    uint64_t grace = load->timeout_ms * 1000u;
    return grace > GRACE_MAX_US ? GRACE_MAX_US : grace;
}

void px_schedule_window(const struct px_schedule *s, uint64_t stop_us, uint64_t finished_us,
                        double *duration_s, double *drain_s)
{
    uint64_t end = finished_us;
    if (s->end_us != 0 && s->end_us < end)
        end = s->end_us;
    if (stop_us != 0 && stop_us < end)
        end = stop_us;
    if (end < s->t0_us)
        end = s->t0_us;
    *duration_s = (double)(end - s->t0_us) / 1e6;
    *drain_s = finished_us > end ? (double)(finished_us - end) / 1e6 : 0.0;
}
