/* SPDX-License-Identifier: MIT */
/*
 * The mergeable result format: a run's config, environment, series (each row
 * with its sparse interval histogram) and the raw totals and histograms under
 * "result", written as jansson trees and read back into the same structs
 * (README.md, "Result format").
 */
#ifndef PORTEX_RESULT_CODEC_H
#define PORTEX_RESULT_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Bumped when a reader of the previous format would misread the new one. */
#define PX_RESULT_FORMAT 1

struct json_t;
struct px_load;
struct px_env;
struct px_hist;
struct px_run;
struct px_series;

/* Helpers every jansson writer of portex shares: */
/* o[key] = v, or null when v is NULL (v's reference is taken). */
void px_jset(struct json_t *o, const char *key, struct json_t *v);
/* A real, or null for NaN and infinities (json_real refuses them). */
struct json_t *px_jf64(double v);
/* An integer. */
struct json_t *px_ju64(uint64_t v);

/* The `config` object: the settings reports and merge need. */
struct json_t *px_result_codec_config(const struct px_load *cfg);
/* The `environment` object: kernel, sysctls (those the kernel has), limits. */
struct json_t *px_result_codec_environment(const struct px_env *env);
/* The `sysctl` object alone. */
struct json_t *px_result_codec_sysctl(const struct px_env *env);
/* The `series` array: one flat object per tick with its sparse histogram. */
struct json_t *px_result_codec_series(const struct px_series *series);
/* A histogram: count, sum_us, min_us, max_us and buckets [[index, count], ...]. */
struct json_t *px_result_codec_hist(const struct px_hist *h);
/* The `result` object: format, histogram layout, raw totals, histograms, exhaustion. */
struct json_t *px_result_codec_data(const struct px_run *run);

/*
 * Reads a document holding config, environment, series and result back into
 * a new run (free it with px_run_free) with its own load. NULL with a
 * one-line message naming the key.
 */
struct px_run *px_result_codec_read(const struct json_t *doc, char *err, size_t errlen);
/* Parses text (a whole document) with px_result_codec_read. NULL with the reason. */
struct px_run *px_result_codec_loads(const char *text, size_t len, char *err, size_t errlen);
/* Reads a file ("-" = stdin) with px_result_codec_read; err names the file. NULL on error. */
struct px_run *px_result_codec_load_file(const char *path, char *err, size_t errlen);

#endif
