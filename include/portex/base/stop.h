/* SPDX-License-Identifier: MIT */
/*
 * SIGINT and SIGTERM, the stop signals. portex has one model for them: main()
 * blocks them before anything else, so every thread inherits the block, and
 * they are taken only by explicit waits (sigtimedwait, sigwait, or a signalfd
 * in a poll set), where the code is ready to stop cleanly and report.
 */
#ifndef PORTEX_BASE_STOP_H
#define PORTEX_BASE_STOP_H

#include <signal.h>
#include <time.h>

/* Fills set with SIGINT and SIGTERM; changes no mask. */
void px_stop_set(sigset_t *set);
/*
 * Blocks SIGINT and SIGTERM in the calling thread (threads started later
 * inherit it). stop_set gets the two; old (may be NULL) the mask before.
 */
void px_stop_block(sigset_t *stop_set, sigset_t *old);
/*
 * Takes a SIGINT or SIGTERM that is pending in stop_set without waiting. 1 when
 * one was: call it before the end of a command's work, so that a signal that
 * came after the last wait stops the work with a report.
 */
int px_stop_pending(const sigset_t *stop_set);
/*
 * Waits at most timeout (NULL: for ever) for a SIGINT or SIGTERM and takes it.
 * 1 when one came, 0 when the time ran out first.
 */
int px_stop_wait(const sigset_t *stop_set, const struct timespec *timeout);
/*
 * A signalfd that polls readable while a stop signal is pending (take it with
 * px_stop_pending). Close-on-exec and non-blocking. The fd, or -1 (errno set).
 */
int px_stop_fd(const sigset_t *stop_set);

#endif
