/* SPDX-License-Identifier: MIT */
/* One load run from start to result: engine, signals, and (later) sampling. */
#ifndef PORTEX_RUN_H
#define PORTEX_RUN_H

#include <signal.h>
#include <stddef.h>

#include "portex/load/stats.h"

struct px_config;
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
 * Runs the load that cfg describes and fills run. SIGINT and SIGTERM stop it
 * early (what finished is still reported). cfg->target must be resolved.
 * 0, or -1 with the reason in err (nothing ran).
 */
int px_run_execute(const struct px_config *cfg, struct px_run *run, char *err, size_t errlen);
/* The same, with a callback on every stats tick (px_stats_tick_cb; may be NULL). */
int px_run_execute_tick(const struct px_config *cfg, struct px_run *run, px_stats_tick_cb tick,
                        void *tick_arg, char *err, size_t errlen);

#endif
