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

/* Reads, checks and merges the files and writes the reports. The exit code:
 * 0, 1 (a file or output cannot be read or written), 2 (not mergeable). */
int px_merge_main(const struct px_merge_config *cfg);

#endif
