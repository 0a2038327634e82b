/* SPDX-License-Identifier: MIT */
/* Reports of a finished run: text for a person, JSON for a program. Formatting only. */
#ifndef PORTEX_RUN_REPORT_H
#define PORTEX_RUN_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct px_run;
struct px_series;

/* The summary a person reads. */
void px_report_text(FILE *f, const struct px_run *run);
/* The whole run as one JSON document (schema in README.md). */
void px_report_json(FILE *f, const struct px_run *run);
struct json_t;
/* The whole run document (command, version, config, environment, summary,
 * series, result) as a jansson tree, for the JSON writers and the lab's pipe. */
struct json_t *px_report_json_doc(const struct px_run *run, const char *command);
/* The `summary` object of a run as a jansson tree. */
struct json_t *px_report_summary_json(const struct px_run *run);
/* The series as CSV with a header line. */
void px_report_csv(FILE *f, const struct px_series *series);
/* A few plain sentences on why the run got the ceiling it got. */
void px_diagnose(const struct px_run *run, char *out, size_t outlen);
/* "85us", "1.25ms", "2.10s". */
void px_format_us(char *out, size_t outlen, uint64_t us);
/* 1234567 -> "1,234,567". */
void px_format_count(char *out, size_t outlen, uint64_t v);

#endif
