/* SPDX-License-Identifier: MIT */
/*
 * A sysctl changed for a run and put back afterwards. While it is changed, a
 * marker file under /run names the original value, so that a run killed before
 * it could restore (SIGKILL) is found by `portex doctor`.
 */
#ifndef PORTEX_GUARD_H
#define PORTEX_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct px_guard {
    char name[64]; /* sysctl, dotted */
    int64_t original;
    int active;       /* the value is changed and not yet restored */
    char marker[128]; /* marker file path, "" when none could be written */
};

/* Sets name to value, remembering the original. 0, or -1 with the reason in err. */
int px_guard_set(struct px_guard *g, const char *name, int64_t value, char *err, size_t errlen);
/* Puts the original value back and removes the marker. Safe to call twice. */
void px_guard_restore(struct px_guard *g);
/*
 * Looks for a marker of this network namespace left by a process that is
 * gone. 1 with a sentence in msg, 0 when there is none.
 */
int px_guard_find_stale(char *msg, size_t msglen);

#endif
