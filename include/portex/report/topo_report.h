/* SPDX-License-Identifier: MIT */
/*
 * The lab's topologies in words and numbers: the modes through a middle (a
 * source NAT, nginx) with their rule, prediction, measured figure and verdict;
 * what every mode measured in each namespace (client, middle, server), for
 * the JSON; one sentence per mode, looked up by its name; the middle's
 * figures as a line in the mode's chart panel.
 */
#ifndef PORTEX_TOPO_REPORT_H
#define PORTEX_TOPO_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct json_t;
struct px_mode_result;

/* {"client": {...}, "middle": {...} or null, "server": {...}}: each namespace's figures. */
struct json_t *px_topo_report_namespaces(const struct px_mode_result *r);
/* {"figure", "predicted", "measured", "rule", ["split"], ["differs"]}, or NULL when not judged. */
struct json_t *px_topo_report_prediction(const struct px_mode_result *r);
/* The middle's settings ({"kind": "nat", ...}), or NULL without a middle. */
struct json_t *px_topo_report_middle(const struct px_mode_result *r);
/* The table of the modes through a middle that ran, with each one's rule after it;
 * nothing when none ran. */
void px_topo_report_table(FILE *f, const struct px_mode_result *res, size_t n);
/* The sentence of a mode that tells its story: 1 when one was written, 0 when the
 * mode has none here. */
int px_topo_report_sentence(FILE *f, const struct px_mode_result *r);
/* The chart note of a mode through a middle ("" for none) into out. */
void px_topo_report_note(const struct px_mode_result *r, char *out, size_t outlen);

#endif
