/* SPDX-License-Identifier: MIT */
/* portex merge: several hosts' results of one sharded run, merged exactly into one report. */
#ifndef PORTEX_MERGE_H
#define PORTEX_MERGE_H

#include <stddef.h>

#include "portex/cmd/command.h"

struct px_merge_config {
    const char **files; /* result documents of `portex run --json` */
    size_t nfiles;
    struct px_outputs out; /* --json, --csv, --svg ("-" = stdout) */
};

/* `portex merge` arguments into cfg: the files to merge and the outputs. A PX_CLI_ status. */
int px_merge_parse(int argc, char **argv, struct px_merge_config *cfg, char *err, size_t errlen);

/* The command's row in main.c's table: reads, checks and merges the files and writes
 * run's reports; exit 1 when a file or output cannot be read or written, 2 when the
 * files do not merge. */
extern const struct px_command px_merge_command;

#endif
