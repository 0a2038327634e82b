/* SPDX-License-Identifier: MIT */
/* The knee of a rate ramp: verdicts from a step's counts, never from wall-clock timing. */
#include "portex/load/knee.h"

#include <math.h>

size_t px_knee_step_count(double from, double to, double step)
{
    if (!(from > 0) || !(step > 0) || to < from)
        return 0;
    return (size_t)floor((to - from) / step + 1e-6) + 1;
}

double px_knee_step_rate(double from, double step, size_t i)
{
    return from + step * (double)i;
}

double px_knee_ok_per_s(const struct px_knee_step *s)
{
    return s->step_s > 0 ? (double)s->ok / s->step_s : 0.0;
}

unsigned px_knee_judge(const struct px_knee_step *s, uint64_t max_p99_us)
{
    if (s->interrupted)
        return PX_KNEE_INTERRUPTED;
    unsigned why = 0;
    /* ok >= 99% of rate x step: a count, so a slow machine cannot flip it by timing. */
    if ((double)s->ok < 0.99 * s->rate_per_s * s->step_s)
        why |= PX_KNEE_LOW_OK;
    if (s->failed > 0)
        why |= PX_KNEE_ERRORS;
    if (max_p99_us > 0 && s->p99_us > max_p99_us)
        why |= PX_KNEE_SLOW;
    return why;
}

int px_knee_port_bound(const struct px_knee_step *s)
{
    return isfinite(s->ceiling_per_s) && s->rate_per_s > s->ceiling_per_s;
}

int px_knee_step_too_short(const struct px_knee_step *s)
{
    return px_knee_port_bound(s) && s->step_s < s->hold_s;
}

int px_knee_find(const struct px_knee_step *steps, size_t n, uint64_t max_p99_us)
{
    int knee = -1;
    for (size_t i = 0; i < n; i++) {
        if (px_knee_judge(&steps[i], max_p99_us) != 0)
            continue;
        if (knee < 0 || steps[i].rate_per_s > steps[knee].rate_per_s)
            knee = (int)i;
    }
    return knee;
}

size_t px_knee_failed_count(const struct px_knee_step *steps, size_t n, uint64_t max_p99_us)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned why = px_knee_judge(&steps[i], max_p99_us);
        if (why != 0 && why != PX_KNEE_INTERRUPTED)
            failed++;
    }
    return failed;
}

void px_knee_step_from_run(const struct px_run *run, double rate_per_s, double step_s,
                           struct px_knee_step *out)
{
    const struct px_totals *t = &run->totals;
    const struct px_ceiling *c = &run->ex.ceiling;
    unsigned sources = run->load && run->load->nsources > 1 ? (unsigned)run->load->nsources : 1;
    out->rate_per_s = rate_per_s;
    out->step_s = step_s;
    out->ok = t->ok;
    out->failed = t->failed;
    out->requests = t->ok + t->failed;
    out->missed_starts = t->missed_starts;
    out->p99_us = px_hist_percentile(&run->lat.total, 99);
    out->ports = run->ex.usable_ports * sources;
    out->ceiling_per_s = c->port_bound ? c->per_s : INFINITY;
    out->hold_s = c->hold_s;
    out->interrupted = run->interrupted;
}

void px_knee_ramp_free(struct px_ramp *ramp)
{
    for (size_t i = 0; i < ramp->nsteps; i++) {
        px_run_free(ramp->runs[i]);
        ramp->runs[i] = NULL;
    }
    ramp->nsteps = 0;
}
