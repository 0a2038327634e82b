/* SPDX-License-Identifier: MIT */
/* portex compare's text report. */
#ifndef PORTEX_COMPARE_REPORT_H
#define PORTEX_COMPARE_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct px_load;
struct px_mode_result;

/* One line on how a mode's ports were kept clear of the earlier modes' TIME_WAIT
 * (load: the mode's load, with its port window or sources). */
void px_compare_report_isolation(FILE *f, const struct px_mode_result *res,
                                 const struct px_load *load);
/* The table of the n modes run with the load `base`, their ports, and a diagnosis each. */
void px_compare_report_text(FILE *f, const struct px_load *base,
                            const struct px_mode_result *results, size_t n);

#endif
