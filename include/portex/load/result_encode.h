/* SPDX-License-Identifier: MIT */
/*
 * The mergeable result format: a run's config, environment, series (each row
 * with its sparse interval histogram) and the raw totals and histograms under
 * "result", written as jansson trees (README.md, "Result format");
 * result_decode.h reads them back into the same structs.
 */
#ifndef PORTEX_RESULT_ENCODE_H
#define PORTEX_RESULT_ENCODE_H

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
struct px_url_addr;

/* Helpers every jansson writer of portex shares: */
/* o[key] = v, or null when v is NULL (v's reference is taken). */
void px_jset(struct json_t *o, const char *key, struct json_t *v);
/* A real, or null for NaN and infinities (json_real refuses them). */
struct json_t *px_jf64(double v);
/* An integer. */
struct json_t *px_ju64(uint64_t v);

/* The `config` object: the settings reports and merge need. */
struct json_t *px_result_encode_config(const struct px_load *cfg);
/* `resolved`: [{"address", "probe"}] in the resolver's order, or null for n == 0. */
struct json_t *px_result_encode_addrs(const struct px_url_addr *a, size_t n);
/* The `environment` object: kernel, sysctls (those the kernel has), limits. */
struct json_t *px_result_encode_environment(const struct px_env *env);
/* The `sysctl` object alone. */
struct json_t *px_result_encode_sysctl(const struct px_env *env);
/* The `series` array: one flat object per tick with its sparse histogram. */
struct json_t *px_result_encode_series(const struct px_series *series);
/* A histogram: count, sum_us, min_us, max_us and buckets [[index, count], ...]. */
struct json_t *px_result_encode_hist(const struct px_hist *h);
/* The `result` object: format, histogram layout, raw totals, histograms, exhaustion. */
struct json_t *px_result_encode_data(const struct px_run *run);

#endif
