/* SPDX-License-Identifier: MIT */
/*
 * Exact merging of several hosts' results of one sharded run: counters and
 * causes added, histograms added bucket by bucket (percentiles recomputed),
 * series rows aligned on the wall clock, TIME_WAIT and ceilings summed.
 */
#ifndef PORTEX_COMBINE_H
#define PORTEX_COMBINE_H

#include <stddef.h>

struct px_load;
struct px_run;

/*
 * Whether runs[0..n) can be merged: same URL, mode and close policy, and
 * either one result or different shards of the same N. On refusal a one-line
 * reason naming names[i] (the files) in err. 0 or -1.
 */
int px_combine_check(const struct px_run *const *runs, const char *const *names, size_t n,
                     char *err, size_t errlen);
/*
 * Merges runs[0..n) into a new run (free it with px_run_free) whose load is
 * the first host's with connections, requests and threads summed. One run
 * gives back its own figures. NULL when out of memory.
 */
struct px_run *px_combine_runs(const struct px_run *const *runs, size_t n);

#endif
