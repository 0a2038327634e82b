/* SPDX-License-Identifier: MIT */
/*
 * portex lab: each mode in a fresh pair of network namespaces (client and
 * server, joined by a veth pair on 198.18.0.0/15), sysctls set per side, the
 * built-in server on one end and the engine on the other. The namespaces are
 * anonymous and held by child processes, so the kernel removes them, veth
 * included, when those exit, even after SIGKILL. The host is never written.
 * The topologies with a middle: cmd/lab_kids.c, cmd/lab_proc.c.
 */
#ifndef PORTEX_CMD_LAB_H
#define PORTEX_CMD_LAB_H

#include <stddef.h>
#include <stdio.h>

#include "portex/cmd/command.h"
#include "portex/cmd/lab_config.h"
#include "portex/cmd/mode.h"

/* Defaults: 1000 ports, 100 NAT ports, 2000/s, 3 s, 64 in flight (the modes: cmd/mode.c). */
void px_lab_config_defaults(struct px_lab_config *cfg);

/*
 * Runs every mode; results[i] for cfg->modes[i]. With metrics (opened
 * detached: px_metrics_open) each client's ticks go to the live metrics under
 * the mode's label (px_mode_label) and its shard, then its final values from
 * its result. PX_EXIT_OK when all ran,
 * PX_EXIT_INTERRUPTED when SIGINT or SIGTERM cut it short (passed on to the
 * running clients, whose results are filled; later modes are not run),
 * PX_EXIT_FAILED with err when the lab cannot start.
 */
enum px_exit px_lab_run(const struct px_lab_config *cfg, struct px_metrics *metrics,
                        struct px_mode_result *results, char *err, size_t errlen);

/* `portex lab` arguments into cfg: a PX_CLI_ status. */
int px_lab_parse(int argc, char **argv, struct px_lab_config *cfg, char *err, size_t errlen);

/* The command's row in main.c's table. */
extern const struct px_command px_lab_command;

#endif
