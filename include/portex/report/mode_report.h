/* SPDX-License-Identifier: MIT */
/* The reports of several modes of a lab or compare: the table, JSON, SVG and CSV. */
#ifndef PORTEX_MODE_REPORT_H
#define PORTEX_MODE_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "portex/report/mode_result.h"

/* The table: one row per mode, predicted beside measured. */
void px_mode_report_table(FILE *f, const struct px_mode_result *res, size_t n);
/* {"command": ..., "modes": [...]} */
void px_mode_report_json(FILE *f, const char *command, const struct px_mode_result *res, size_t n);
/* One chart panel per mode that ran. */
void px_mode_report_svg(FILE *f, const char *command, const struct px_mode_result *res, size_t n);
/* Every mode's series as CSV, each after a "# mode NAME" line. */
void px_mode_report_csv(FILE *f, const struct px_mode_result *res, size_t n);

#endif
