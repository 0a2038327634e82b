/* SPDX-License-Identifier: MIT */
/*
 * portex lab: each mode in a fresh pair of network namespaces (client and
 * server, joined by a veth pair on 198.18.0.0/15), sysctls set per side, the
 * built-in server on one end and the engine on the other. The namespaces are
 * anonymous and held by child processes, so the kernel removes them, veth
 * included, when those exit, even after SIGKILL. The host is never written.
 */
#ifndef PORTEX_CMD_LAB_H
#define PORTEX_CMD_LAB_H

#include <stddef.h>
#include <stdio.h>

#include "portex/base/config.h"
#include "portex/cmd/mode.h"

/*
 * Runs every mode; results[i] for cfg->modes[i]. 0 when all ran, 1 when
 * interrupted (what ran is filled), -1 with err when the lab cannot start.
 */
int px_lab_run(const struct px_lab_config *cfg, struct px_mode_result *results, char *err,
               size_t errlen);
/* Table and plain sentences for a person. */
void px_lab_report_text(FILE *f, const struct px_lab_config *cfg,
                        const struct px_mode_result *results);

#endif
