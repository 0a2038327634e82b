/* SPDX-License-Identifier: MIT */
/*
 * portex compare: the same load against a real server from this namespace,
 * once per mode (keep-alive, server closes, RST, short; with --allow-sysctl
 * also short with tcp_tw_reuse 0 and 1), in one table.
 */
#ifndef PORTEX_CMD_COMPARE_H
#define PORTEX_CMD_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include "portex/cmd/command.h"
#include "portex/cmd/metrics.h"
#include "portex/cmd/mode.h"
#include "portex/load/load.h"

struct px_hlog;

/* `portex compare`: the same load against a real server under several modes. */
struct px_compare_config {
    struct px_load base; /* the load; keepalive/close set per mode */
    struct px_outputs out;
    const struct px_mode *modes[PX_MAX_MODES];
    size_t nmodes;
    int modes_given;       /* --modes was used */
    int allow_sysctl;      /* may set net.ipv4.tcp_tw_reuse (root), restored after */
    int no_drain;          /* do not wait for TIME_WAIT between modes */
    uint64_t drain_max_ms; /* longest wait for TIME_WAIT to drain */

    /* --control unix:PATH: the server's Unix socket for the unix-control mode; "" none. */
    char control_unix[PX_URL_UNIX_MAX];
    struct px_metrics_config metrics;
};

/* Defaults: run's load, a drain of at most 65 s. */
void px_compare_config_defaults(struct px_compare_config *cfg);

/*
 * The k-th port window of the size of [lo, hi] inside the namespace range
 * [ns_lo, ns_hi], none overlapping another: [lo, hi] itself for k = 0, then the
 * windows above it, then those below. 0, or -1 when there is no k-th window.
 */
int px_compare_port_window(unsigned lo, unsigned hi, unsigned ns_lo, unsigned ns_hi, unsigned k,
                           unsigned *out_lo, unsigned *out_hi);
/*
 * Runs every mode against cfg->base.target; with hlog (opened and closed by
 * the caller) every tick of every mode goes to that HdrHistogram log, tagged
 * by mode, and with metrics (px_metrics_open) to the live metrics under the
 * mode's label (px_mode_label). PX_EXIT_OK when all ran, PX_EXIT_INTERRUPTED when a signal cut it
 * short (what ran is filled), PX_EXIT_FAILED or PX_EXIT_USAGE with err when
 * it cannot start. Any sysctl it changed is restored on every path: SIGINT
 * and SIGTERM are blocked since main() and taken only by its waits.
 */
enum px_exit px_compare_run(const struct px_compare_config *cfg, struct px_hlog *hlog,
                            struct px_metrics *metrics, struct px_mode_result *results, char *err,
                            size_t errlen);

/* `portex compare` arguments into cfg: the run options plus modes and sysctl permission. */
int px_compare_parse(int argc, char **argv, struct px_compare_config *cfg, char *err,
                     size_t errlen);

/* The command's row in main.c's table. */
extern const struct px_command px_compare_command;

#endif
