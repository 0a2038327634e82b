/* SPDX-License-Identifier: MIT */
/* Reports of a rate ramp: the step table, the JSON document, the chart. Formatting only. */
#ifndef PORTEX_RAMP_REPORT_H
#define PORTEX_RAMP_REPORT_H

#include <stdio.h>

struct px_ramp;

/* One row per step (offered, ok/s, errors by cause, p50/p99, TIME_WAIT peak, verdict), then
 * the knee and, for port-bound steps, why a short step cannot show the sustained ceiling. */
void px_ramp_report_text(FILE *f, const char *url, const struct px_ramp *ramp);
/* {"command": "ramp", "steps": [{"rate_per_s", ..., "summary"}], "knee_per_s"} */
void px_ramp_report_json(FILE *f, const char *url, const struct px_ramp *ramp);
/* Offered vs ok/s per step and p99 (right axis), the predicted port ceiling, the knee. */
void px_ramp_report_svg(FILE *f, const char *url, const struct px_ramp *ramp);
/* Every step's series as CSV, each after a "# step R/s" line. */
void px_ramp_report_csv(FILE *f, const struct px_ramp *ramp);

#endif
