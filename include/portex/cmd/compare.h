/* SPDX-License-Identifier: MIT */
/*
 * portex compare: the same load against a real server from this namespace,
 * once per mode (keep-alive, server closes, RST, short; with --allow-sysctl
 * also short with tcp_tw_reuse 0 and 1), in one table.
 */
#ifndef PORTEX_COMPARE_H
#define PORTEX_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "portex/base/config.h"
#include "portex/cmd/lab.h"

struct px_compare_config {
    struct px_config base; /* the load and the outputs; keepalive/close set per mode */
    const struct px_lab_mode *modes[PX_LAB_MAX_MODES];
    size_t nmodes;
    int modes_given;        /* --modes was used */
    int allow_sysctl;       /* may set net.ipv4.tcp_tw_reuse (root), restored after */
    int no_drain;           /* do not wait for TIME_WAIT between modes */
    uint64_t drain_max_ms;  /* longest wait for TIME_WAIT to drain */
    char control_unix[108]; /* --control unix:PATH: the server's Unix socket, "" none */
};

/* "keepalive,short,..." into cfg->modes. 0, or -1 with err. */
int px_compare_parse_modes(const char *list, struct px_compare_config *cfg, char *err,
                           size_t errlen);
/* Default modes (after options): keepalive, server-close, rst, short, and with
 * --allow-sysctl short-noreuse and short-reuse; then unix-control with --control. */
void px_compare_default_modes(struct px_compare_config *cfg);
/*
 * Runs every mode against cfg->base.target. 0 when all ran, 1 when interrupted
 * (what ran is filled), -1 with err when it cannot start. Any sysctl it changed
 * is restored on every path, SIGINT and SIGTERM included.
 */
int px_compare_run(const struct px_compare_config *cfg, struct px_lab_result *results, char *err,
                   size_t errlen);
void px_compare_report_text(FILE *f, const struct px_compare_config *cfg,
                            const struct px_lab_result *results);

#endif
