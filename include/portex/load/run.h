/* SPDX-License-Identifier: MIT */
/* One load run from start to result: engine, signals, and (later) sampling. */
#ifndef PORTEX_RUN_H
#define PORTEX_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "portex/load/stats.h"

struct px_run;

/*
 * Blocks SIGINT and SIGTERM in the calling thread (threads started later
 * inherit it), so that they are taken with sigwait/sigtimedwait where the code
 * is ready to stop cleanly. stop_set gets the two; old (may be NULL) the mask before.
 */
void px_block_stop_signals(sigset_t *stop_set, sigset_t *old);
/*
 * Takes a SIGINT or SIGTERM that is pending in stop_set without waiting. 1 when
 * one was: call it before unblocking, so that a signal that came after the last
 * wait stops the work with a report instead of killing the process.
 */
int px_stop_pending(const sigset_t *stop_set);

/*
 * Runs run->load (made by px_run_new; its target resolved) and fills run;
 * opts says what the stats thread does per tick besides the series row.
 * SIGINT and SIGTERM stop it early (what finished is still reported, and
 * run->interrupted says so). 0, or -1 with the reason in err (nothing ran).
 */
int px_run_execute(struct px_run *run, const struct px_stats_opts *opts, char *err, size_t errlen);

#endif
