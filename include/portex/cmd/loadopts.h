/* SPDX-License-Identifier: MIT */
/*
 * The load's options, shared by run, compare and ramp: their tables (into a
 * struct px_load), the URL operand and the checks between options, and the
 * checks against this host before the load (the target resolved, socket
 * options, the fd limit).
 */
#ifndef PORTEX_CMD_LOADOPTS_H
#define PORTEX_CMD_LOADOPTS_H

#include <stddef.h>

#include "portex/cmd/cli.h"
#include "portex/cmd/command.h"

struct px_load;

/* -c -r -d -n -t -m -H --body --timeout --connect-timeout --port-range --source --interval
 * --unix -4 -6 */
extern const struct px_cli_opt px_loadopts_load[];
/* -k, --close, --requests-per-conn: how one connection ends (run and ramp; compare's modes). */
extern const struct px_cli_opt px_loadopts_close[];
/* --insecure, --cacert, --tls-version, --tls-resume: https:// targets. */
extern const struct px_cli_opt px_loadopts_tls[];
/* --http2, --streams: HTTP/2 (h2 by ALPN, h2c by prior knowledge). */
extern const struct px_cli_opt px_loadopts_h2[];
/* --shard, --start-at: one host's share of a run over several (run only). */
extern const struct px_cli_opt px_loadopts_shard[];

/*
 * After px_cli_parse: the URL operand into load, then the checks between
 * options (-n alone has no duration; --close, --requests-per-conn and the TLS
 * options where they apply; one output per file). PX_CLI_OK or PX_CLI_USAGE.
 */
int px_loadopts_finish(const struct px_cli_args *args, int argc, char **argv, struct px_load *load,
                       const struct px_outputs *out, char *err, size_t errlen);
/*
 * Before the outputs open: resolves the URL and picks the address to load (the
 * first that answers a probe, -4/-6 pinning a family), checks the source addresses and
 * the port range, fits -c (and -t) to the open-files limit beside what the process
 * holds and will open (out: the files to come). Messages are printed as
 * "portex CMD: ...". PX_EXIT_OK, PX_EXIT_FAILED or PX_EXIT_USAGE.
 */
enum px_exit px_loadopts_prepare(const char *cmd, struct px_load *load,
                                 const struct px_outputs *out);

#endif
