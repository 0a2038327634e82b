/* SPDX-License-Identifier: MIT */
/* Reports of a finished run: text for a person, JSON for a program. Formatting only. */
#ifndef PORTEX_REPORT_H
#define PORTEX_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct px_run;
struct px_json;

/* The summary a person reads. */
void px_report_text(FILE *f, const struct px_run *run);
/* The whole run as one JSON document (schema in README.md). */
void px_report_json(FILE *f, const struct px_run *run);
/* The `summary` object of a run, for documents that hold several runs. */
void px_report_json_summary(struct px_json *j, const char *key, const struct px_run *run);
/* "85us", "1.25ms", "2.10s". */
void px_format_us(char *out, size_t outlen, uint64_t us);
/* 1234567 -> "1,234,567". */
void px_format_count(char *out, size_t outlen, uint64_t v);

#endif
