/* SPDX-License-Identifier: MIT */
/*
 * One lab mode from the parent's side: its processes forked (server, middle,
 * clients), their namespaces joined by veth pairs, started in order, every
 * namespace watched from outside while the clients run, the clients' results
 * read back (merged when there are several), and everything ended.
 */
#ifndef PORTEX_CMD_LAB_KIDS_H
#define PORTEX_CMD_LAB_KIDS_H

#include <stddef.h>

#include "portex/cmd/child.h"
#include "portex/cmd/lab_config.h"
#include "portex/cmd/lab_proc.h"

/*
 * Runs mode m: res->run gets the client's run, res->fig what each namespace
 * measured. nginx: the binary for a proxy mode. live: each client's ticks go to
 * its metrics under the mode's label and the client's shard, then its final
 * values from its result. 0, or -1 with err (a stop
 * signal meanwhile is in waits->stopped; the children are gone either way).
 */
int px_lab_kids_run(const struct px_lab_config *lab, const struct px_mode *m, const char *nginx,
                    const struct px_lab_live *live, struct px_child_waits *waits,
                    struct px_mode_result *res, char *err, size_t errlen);

#endif
