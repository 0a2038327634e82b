/* SPDX-License-Identifier: MIT */
/* A rate ramp's steps and its knee: which steps kept up, which were port-bound. Pure logic. */
#ifndef PORTEX_KNEE_H
#define PORTEX_KNEE_H

#include <stddef.h>
#include <stdint.h>

#include "portex/load/load.h"
#include "portex/load/result.h"

#define PX_RAMP_MAX_STEPS 64

/* The figures of one step that the verdicts are made from. */
struct px_knee_step {
    double rate_per_s;      /* offered */
    double step_s;          /* the step's configured length */
    uint64_t requests;      /* ok + failed */
    uint64_t ok;            /* 2xx and 3xx */
    uint64_t failed;        /* every other ending */
    uint64_t missed_starts; /* open model: no free slot at the scheduled time */
    uint64_t p99_us;        /* total latency */
    uint64_t ports;         /* P: usable ports x source addresses */
    double ceiling_per_s;   /* predicted sustained port ceiling; INFINITY: not port-bound */
    double hold_s;          /* how long a closed port stays unusable (60 s, or the reuse delay) */
    int interrupted;        /* stopped by SIGINT/SIGTERM: neither passes nor fails */
};

/* Why a step did not pass (bits). 0 = passed. */
#define PX_KNEE_LOW_OK      1u /* ok/s under 99% of the offered rate */
#define PX_KNEE_ERRORS      2u /* some request failed */
#define PX_KNEE_SLOW        4u /* p99 over --max-p99 */
#define PX_KNEE_INTERRUPTED 8u /* cut short: no verdict */

struct px_ramp {
    double from_per_s, to_per_s, step_per_s;
    uint64_t step_ms;
    uint64_t max_p99_us; /* 0: no latency bound */
    int no_stop;         /* run every step */
    size_t nplanned;     /* steps from --from to --to */
    size_t nsteps;       /* steps that ran */
    int knee;            /* index of the knee step, -1 when none passed */
    int stopped_early;   /* two steps failed: the rest did not run */
    int interrupted;
    struct px_run *runs[PX_RAMP_MAX_STEPS];      /* the steps that ran, each with its load */
    struct px_knee_step figs[PX_RAMP_MAX_STEPS]; /* figs[i] from runs[i] */
};

/* Steps from `from` to `to` (inclusive, within a millionth of a step) by `step`. */
size_t px_knee_step_count(double from, double to, double step);
/* The offered rate of step i. */
double px_knee_step_rate(double from, double step, size_t i);
/* ok/s over the step's configured length (the drain after it does not dilute it). */
double px_knee_ok_per_s(const struct px_knee_step *s);
/* 0 when the step passed, else PX_KNEE_* bits. max_p99_us 0: no latency bound. */
unsigned px_knee_judge(const struct px_knee_step *s, uint64_t max_p99_us);
/* The step's rate is above its predicted sustained port ceiling. */
int px_knee_port_bound(const struct px_knee_step *s);
/* The step is shorter than the time a closed port stays held: it shows a burst of P, not the
 * sustained ceiling. */
int px_knee_step_too_short(const struct px_knee_step *s);
/* Index of the highest-rate step that passed, or -1. */
int px_knee_find(const struct px_knee_step *steps, size_t n, uint64_t max_p99_us);
/* Steps that failed (interrupted ones do not count). */
size_t px_knee_failed_count(const struct px_knee_step *steps, size_t n, uint64_t max_p99_us);
/* Frees the runs of the steps that ran. */
void px_knee_ramp_free(struct px_ramp *ramp);
/* The figures of a finished step's run. */
void px_knee_step_from_run(const struct px_run *run, double rate_per_s, double step_s,
                           struct px_knee_step *out);

#endif
