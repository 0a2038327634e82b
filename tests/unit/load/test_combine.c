/* SPDX-License-Identifier: MIT */
/* Unit tests of the exact merge: values split across result files, percentiles of the whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/load/load.h"
#include "portex/base/url.h"
#include "portex/load/combine.h"
#include "portex/load/hist.h"
#include "portex/load/result.h"
#include "portex/report/json.h"
#include "portex/report/run_report.h"
#include "portex/load/result_decode.h"

#define HOSTS 3

/* A shard k/HOSTS whose total latencies are the values v with v % HOSTS == k. */
static struct px_run *make_shard(unsigned k)
{
    char err[128];
    static struct px_load load;
    struct px_load *cfg = &load;
    px_load_defaults(cfg);
    snprintf(cfg->url_text, sizeof(cfg->url_text), "http://198.18.0.2/");
    px_url_parse(cfg->url_text, &cfg->url, err, sizeof(err));
    px_addr_parse("198.18.0.2:80", &cfg->target, &cfg->target_len, err, sizeof(err));
    cfg->shard = k;
    cfg->shards = HOSTS;
    cfg->connections = 10;
    struct px_run *run = px_run_new(cfg);
    assert_non_null(run);
    snprintf(run->env.kernel, sizeof(run->env.kernel), "6.1.0");
    run->t0_unix_ns = 1700000000000000000 + (int64_t)k * 3000000; /* 3 ms apart */
    run->duration_s = 2.5;
    run->ex.time_wait_peak = 100 + k;
    run->ex.usable_ports = 100;
    run->ex.bound_ports = k; /* host k has k ports bound in its range */
    run->ex.bound_listening = k > 0;
    run->ex.ceiling.per_s = 100.0 / 60.0;
    run->ex.ceiling.burst = 100;
    snprintf(run->host, sizeof(run->host), "ns%u", k);
    px_hist_init(&run->lat.connect);
    px_hist_init(&run->lat.ttfb);
    px_hist_init(&run->lat.total);
    struct px_hist rows[3];
    for (int i = 0; i < 3; i++)
        px_hist_init(&rows[i]);
    uint64_t n = 0;
    for (uint64_t v = 1; v < 3000000; v = v + 1 + v / 7) {
        if (v % HOSTS != k)
            continue;
        px_hist_record(&run->lat.total, v);
        px_hist_record(&rows[n % 3], v);
        n++;
    }
    run->totals.ok = n;
    run->totals.started = n + 2;
    run->totals.failed = 2;
    run->totals.cause[px_cause_from_errno(EADDRNOTAVAIL)] = 2;
    run->totals.retries = 3 * k; /* k in each of its 3 rows */
    for (int i = 0; i < 3; i++) {
        struct px_series_row row = {
            .t = i < 2 ? i + 1 : 2.5, .ok = rows[i].count, .time_wait = 10 * k, .retries = k};
        assert_int_equal(px_series_push_hist(&run->series, &row, &rows[i]), 0);
    }
    return run;
}

/* Through the file format: write the document, read it back. */
static struct px_run *via_json(const struct px_run *run)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_t *doc = px_report_json_doc(run, "run");
    px_json_print_tree(f, doc);
    json_decref(doc);
    fclose(f);
    char err[256];
    struct px_run *out = px_result_decode_text(buf, len, err, sizeof(err));
    assert_non_null(out);
    free(buf);
    return out;
}

struct shards {
    struct px_run *run[HOSTS], *read[HOSTS];
    const struct px_run *parts[HOSTS];
};

static void load_shards(struct shards *s)
{
    for (unsigned k = 0; k < HOSTS; k++) {
        s->run[k] = make_shard(k);
        s->read[k] = via_json(s->run[k]);
        s->parts[k] = s->read[k];
    }
}

static void free_shards(struct shards *s)
{
    for (unsigned k = 0; k < HOSTS; k++) {
        px_run_free(s->run[k]);
        px_run_free(s->read[k]);
    }
}

static void px_combine_runs__percentiles_equal_those_of_all_values(void **state)
{
    (void)state;
    static struct shards s;
    load_shards(&s);
    struct px_hist all;
    px_hist_init(&all);
    for (uint64_t v = 1; v < 3000000; v = v + 1 + v / 7)
        px_hist_record(&all, v);
    struct px_run *merged = px_combine_runs(s.parts, HOSTS);
    assert_non_null(merged);

    for (double q = 0; q <= 100.0; q += 0.1)
        assert_int_equal(px_hist_percentile(&merged->lat.total, q), px_hist_percentile(&all, q));
    assert_int_equal(px_hist_percentile(&merged->lat.total, 99.99), px_hist_percentile(&all, 99.99));
    assert_memory_equal(&merged->lat.total, &all, sizeof(all));
    px_run_free(merged);
    free_shards(&s);
}

static void px_combine_runs__counts_summed_series_aligned(void **state)
{
    (void)state;
    static struct shards s;
    load_shards(&s);
    struct px_run *merged = px_combine_runs(s.parts, HOSTS);
    assert_non_null(merged);

    uint64_t ok = 0;
    for (unsigned k = 0; k < HOSTS; k++)
        ok += s.run[k]->totals.ok;
    assert_int_equal(merged->totals.ok, ok);
    assert_int_equal(merged->totals.failed, 2 * HOSTS);
    assert_int_equal(px_totals_errno(&merged->totals, EADDRNOTAVAIL), 2 * HOSTS);
    assert_int_equal(merged->ex.time_wait_peak, 100 + 101 + 102);
    assert_int_equal(merged->ex.usable_ports, 300);
    assert_int_equal(merged->ex.bound_ports, 0 + 1 + 2);
    assert_int_equal(merged->ex.bound_listening, 2);
    assert_true(merged->ex.ceiling.per_s > 3 * 100.0 / 60.0 - 1e-9);
    assert_int_equal(merged->load->connections, 30);
    assert_int_equal(merged->hosts, HOSTS);
    /* Three rows per host, 3 ms apart: three merged rows. */
    assert_int_equal(merged->series.count, 3);
    uint64_t rows_ok = 0;
    for (size_t i = 0; i < merged->series.count; i++) {
        rows_ok += merged->series.rows[i].ok;
        assert_int_equal(merged->series.rows[i].time_wait, 0 + 10 + 20);
        assert_int_equal(merged->series.rows[i].retries, 0 + 1 + 2);
    }
    assert_int_equal(rows_ok, ok);
    assert_int_equal(merged->totals.retries, 3 * (0 + 1 + 2));
    px_run_free(merged);
    free_shards(&s);
}

static void px_combine_runs__one_run_gives_its_figures(void **state)
{
    (void)state;
    static struct shards s;
    load_shards(&s);
    struct px_run *merged = px_combine_runs(s.parts, 1);
    assert_non_null(merged);

    assert_memory_equal(&merged->totals, &s.read[0]->totals, sizeof(merged->totals));
    assert_memory_equal(&merged->lat, &s.read[0]->lat, sizeof(merged->lat));
    assert_int_equal(merged->series.count, s.read[0]->series.count);
    assert_true(merged->duration_s == s.read[0]->duration_s);
    assert_memory_equal(&merged->ex, &s.read[0]->ex, sizeof(merged->ex));
    px_run_free(merged);
    free_shards(&s);
}

static void px_combine_check__refuses_with_reason(void **state)
{
    (void)state;
    static struct shards s;
    load_shards(&s);
    const char *names[HOSTS] = {"a.json", "b.json", "c.json"};
    char err[256];

    assert_int_equal(px_combine_check(s.parts, names, HOSTS, err, sizeof(err)), 0);
    s.read[2]->load->shard = 0;
    assert_int_equal(px_combine_check(s.parts, names, HOSTS, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "a.json and c.json are both shard 0/3"));
    s.read[2]->load->shard = 2;
    s.read[1]->load->shards = 4;
    s.read[1]->load->shard = 3;
    assert_int_equal(px_combine_check(s.parts, names, HOSTS, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not the same N"));
    s.read[1]->load->shards = 3;
    snprintf(s.read[1]->load->url_text, sizeof(s.read[1]->load->url_text), "http://198.18.0.3/");
    assert_int_equal(px_combine_check(s.parts, names, HOSTS, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "b.json targets http://198.18.0.3/"));
    snprintf(s.read[1]->load->url_text, sizeof(s.read[1]->load->url_text), "http://198.18.0.2/");
    s.read[2]->load->no_retry = 1;
    assert_int_equal(px_combine_check(s.parts, names, HOSTS, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "c.json ran with --no-retry but a.json did not"));
    free_shards(&s);
}

/* The document of a run from before retries were counted: no totals.retries,
 * no series retries, no config.no_retry. */
static char *older_document(const struct px_run *run, size_t *len)
{
    json_t *doc = px_report_json_doc(run, "run");
    json_object_del(json_object_get(doc, "config"), "no_retry");
    json_object_del(json_object_get(doc, "summary"), "retries");
    json_object_del(json_object_get(json_object_get(doc, "result"), "totals"), "retries");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "series"), i, row)
    {
        json_object_del(row, "retries");
    }
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    px_json_print_tree(f, doc);
    fclose(f);
    json_decref(doc);
    assert_null(strstr(buf, "retr"));
    return buf;
}

static void px_combine_runs__older_results_read_0_retries_and_merge(void **state)
{
    (void)state;
    static struct shards s;
    load_shards(&s);
    char err[256] = "";
    for (unsigned k = 0; k < HOSTS; k++) {
        size_t len;
        char *text = older_document(s.run[k], &len);
        px_run_free(s.read[k]);
        s.read[k] = px_result_decode_text(text, len, err, sizeof(err));
        free(text);
        assert_non_null(s.read[k]);
        s.parts[k] = s.read[k];
    }
    const char *names[HOSTS] = {"a.json", "b.json", "c.json"};
    assert_int_equal(px_combine_check(s.parts, names, HOSTS, err, sizeof(err)), 0);
    struct px_run *merged = px_combine_runs(s.parts, HOSTS);
    assert_non_null(merged);

    assert_int_equal(merged->totals.retries, 0);
    assert_int_equal(merged->load->no_retry, 0);
    for (size_t i = 0; i < merged->series.count; i++)
        assert_int_equal(merged->series.rows[i].retries, 0);
    assert_int_equal(merged->totals.failed, 2 * HOSTS);
    px_run_free(merged);
    free_shards(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_combine_runs__percentiles_equal_those_of_all_values),
        cmocka_unit_test(px_combine_runs__counts_summed_series_aligned),
        cmocka_unit_test(px_combine_runs__one_run_gives_its_figures),
        cmocka_unit_test(px_combine_check__refuses_with_reason),
        cmocka_unit_test(px_combine_runs__older_results_read_0_retries_and_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
