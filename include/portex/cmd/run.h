/* SPDX-License-Identifier: MIT */
/* portex run: one load run against a URL, its reports. */
#ifndef PORTEX_CMD_RUN_H
#define PORTEX_CMD_RUN_H

#include "portex/cmd/command.h"
#include "portex/load/load.h"

/* `portex run`: the load and the outputs. */
struct px_run_config {
    struct px_load load;
    struct px_outputs out;
};

#endif
