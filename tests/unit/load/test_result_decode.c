/* SPDX-License-Identifier: MIT */
/* Unit tests of the result format: write, read back, write again; checks on bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/load/load.h"
#include "portex/base/outcome.h"
#include "portex/base/url.h"
#include "portex/load/hist.h"
#include "portex/load/result.h"
#include "portex/report/json.h"
#include "portex/report/run_report.h"
#include "portex/load/result_decode.h"

static struct px_run *fill_run(void)
{
    char err[128];
    static struct px_load load;
    struct px_load *cfg = &load;
    px_load_defaults(cfg);
    snprintf(cfg->url_text, sizeof(cfg->url_text), "http://198.18.0.2:8080/x");
    assert_int_equal(px_url_parse(cfg->url_text, &cfg->url, err, sizeof(err)), 0);
    assert_int_equal(
        px_addr_parse("198.18.0.2:8080", &cfg->target, &cfg->target_len, err, sizeof(err)), 0);
    cfg->rate_per_s = 1234.5;
    cfg->port_lo = 40000;
    cfg->port_hi = 40099;
    px_ip_parse("198.18.0.11", &cfg->sources[cfg->nsources++]);
    px_ip_parse("198.18.0.12", &cfg->sources[cfg->nsources++]);
    cfg->shard = 1;
    cfg->shards = 4;
    struct px_run *run = px_run_new(cfg);
    assert_non_null(run);
    snprintf(run->env.kernel, sizeof(run->env.kernel), "6.18.44");
    run->env.kernel_major = 6;
    run->env.kernel_minor = 18;
    run->env.port_lo = 32768;
    run->env.port_hi = 60999;
    run->env.tw_reuse = 0;
    run->env.tw_reuse_delay_ms = -1;
    run->env.timestamps = 1;
    run->env.fin_timeout = 60;
    run->env.max_tw_buckets = -1;
    run->env.somaxconn = 4096;
    run->env.file_max = 100000;
    run->env.nofile_soft = run->env.nofile_hard = 1024;
    run->env.cpus = 2;
    run->duration_s = 10.123456789012345;
    run->t0_unix_ns = 1795706715579259610;
    snprintf(run->host, sizeof(run->host), "ns1");
    px_hist_init(&run->lat.connect);
    px_hist_init(&run->lat.ttfb);
    px_hist_init(&run->lat.total);
    px_hist_init(&run->lat.connect_call); /* every run's workers start it so */
    for (uint64_t v = 1; v < 200000; v = v * 3 / 2 + 1) {
        px_hist_record(&run->lat.total, v);
        px_hist_record(&run->lat.ttfb, v / 2);
        px_hist_record(&run->lat.connect_call, v / 100);
    }
    run->totals.ok = 90;
    run->totals.failed = 10;
    run->totals.started = 100;
    run->totals.connections_opened = 95;
    run->totals.retries = 4;
    run->load->no_retry = 1;
    run->totals.status[2] = 90;
    run->totals.cause[px_cause_from_errno(EADDRNOTAVAIL)] = 7;
    run->totals.cause[PX_CAUSE_CONNECT_TIMEOUT] = 3;
    run->ex.time_wait_peak = 100;
    run->ex.time_wait_at_start = -1;
    run->ex.seen = 1;
    run->ex.first_s = 0.4242;
    run->ex.ok_before = 50;
    run->ex.usable_ports = 100;
    run->ex.port_lo = 40000;
    run->ex.port_hi = 40099;
    run->ex.timestamps = 1;
    run->ex.ceiling.per_s = 100.0 / 60.0;
    run->ex.ceiling.burst = INFINITY;
    run->ex.ceiling.hold_s = 60;
    run->ex.ceiling.port_bound = 1;
    snprintf(run->ex.ceiling.formula, sizeof(run->ex.ceiling.formula), "P / 60 s");
    for (int i = 0; i < 3; i++) {
        struct px_series_row row = {
            .t = i + 1, .started = 30, .ok = 30, .time_wait = i, .retries = (uint64_t)i};
        struct px_hist h;
        px_hist_init(&h);
        for (uint64_t v = 10; v < 5000; v += 97 * (uint64_t)(i + 1))
            px_hist_record(&h, v);
        assert_int_equal(px_series_push_hist(&run->series, &row, &h), 0);
    }
    return run;
}

static char *write_doc(const struct px_run *run, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    json_t *doc = px_report_json_doc(run, "run");
    px_json_print_tree(f, doc);
    json_decref(doc);
    fclose(f);
    return buf;
}

static void px_result_encode_read__write_read_write_identical(void **state)
{
    (void)state;
    struct px_run *run = fill_run();
    size_t len1, len2;
    char *one = write_doc(run, &len1);
    char err[256] = "";

    struct px_run *run2 = px_result_decode_text(one, len1, err, sizeof(err));
    assert_non_null(run2);
    char *two = write_doc(run2, &len2);

    assert_string_equal(one, two);
    assert_int_equal(run2->load->shard, 1);
    assert_int_equal(run2->load->shards, 4);
    assert_int_equal(run2->load->nsources, 2);
    assert_true(isinf(run2->ex.ceiling.burst));
    assert_int_equal(run2->totals.retries, 4);
    assert_int_equal(run2->load->no_retry, 1);
    assert_int_equal(run2->series.rows[2].retries, 2);
    free(one);
    free(two);
    px_run_free(run);
    px_run_free(run2);
}

static void px_result_encode_read__percentiles_recomputed_equal(void **state)
{
    (void)state;
    struct px_run *run = fill_run();
    size_t len;
    char *text = write_doc(run, &len);
    char err[256];

    struct px_run *run2 = px_result_decode_text(text, len, err, sizeof(err));
    assert_non_null(run2);

    static const double qs[] = {0, 1, 25, 50, 90, 99, 99.9, 99.99, 100};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        assert_int_equal(px_hist_percentile(&run2->lat.total, qs[i]),
                         px_hist_percentile(&run->lat.total, qs[i]));
        assert_int_equal(px_hist_percentile(&run2->lat.ttfb, qs[i]),
                         px_hist_percentile(&run->lat.ttfb, qs[i]));
    }
    assert_memory_equal(&run2->lat, &run->lat, sizeof(run->lat));
    struct px_hist a, b;
    px_series_row_hist(&run->series, 2, &a);
    px_series_row_hist(&run2->series, 2, &b);
    assert_memory_equal(&a, &b, sizeof(a));
    free(text);
    px_run_free(run);
    px_run_free(run2);
}

/* Replaces the first occurrence of from with to in a malloc'd text. */
static char *replace(const char *text, const char *from, const char *to)
{
    /* By index, not pointer: gcc 12 -O3 takes a pointer into an
     * open_memstream buffer for a dangling one. */
    size_t len = strlen(text), flen = strlen(from), pre = 0;
    while (pre + flen <= len && strncmp(text + pre, from, flen) != 0)
        pre++;
    assert_true(pre + flen <= len);
    size_t n = len - flen + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    memcpy(out, text, pre);
    snprintf(out + pre, n - pre, "%s%s", to, text + pre + flen);
    return out;
}

static void expect_error(const char *from, const char *to, const char *want)
{
    struct px_run *run = fill_run();
    size_t len;
    char *text = write_doc(run, &len);
    char *bad = replace(text, from, to);
    char err[256] = "";

    struct px_run *run2 = px_result_decode_text(bad, strlen(bad), err, sizeof(err));

    assert_null(run2);
    assert_non_null(strstr(err, want));
    assert_null(strchr(err, '\n'));
    free(text);
    free(bad);
    px_run_free(run);
}

static void px_result_encode_read__other_format_refused(void **state)
{
    (void)state;
    expect_error("\"format\": 1", "\"format\": 2", "result.format: 2, expected 1");
}

static void px_result_encode_read__other_layout_refused(void **state)
{
    (void)state;
    expect_error("\"sub_bits\": 8", "\"sub_bits\": 7", "result.hist_layout");
}

static void px_result_encode_read__bucket_index_out_of_range(void **state)
{
    (void)state;
    expect_error("\"buckets\": [[", "\"buckets\": [[99999,1],[", "buckets");
}

static void px_result_encode_read__missing_key_named(void **state)
{
    (void)state;
    expect_error("\"ok\": 90,\n      \"failed\"", "\"okk\": 90,\n      \"failed\"",
                 "result.totals.ok: missing");
}

static void px_result_encode_read__retries_must_be_counts(void **state)
{
    (void)state;
    expect_error("      \"retries\": 4", "      \"retries\": -4",
                 "result.totals.retries: missing or not");
    expect_error("\"no_retry\": true", "\"no_retry\": 1", "config.no_retry: missing or not");
}

static void px_result_encode_read__unix_target_and_requests_per_conn(void **state)
{
    (void)state;
    struct px_run *run = fill_run();
    struct px_load *cfg = run->load;
    char err[256];
    assert_int_equal(
        px_unix_addr("/tmp/portex-test.sock", &cfg->target, &cfg->target_len, err, sizeof(err)),
        0);
    cfg->keepalive = 1;
    cfg->requests_per_conn = 7;
    size_t len1, len2;
    char *one = write_doc(run, &len1);

    struct px_run *run2 = px_result_decode_text(one, len1, err, sizeof(err));
    assert_non_null(run2);
    char *two = write_doc(run2, &len2);

    assert_string_equal(one, two);
    assert_string_equal(run2->load->unix_path, "/tmp/portex-test.sock");
    assert_int_equal(run2->load->requests_per_conn, 7);
    free(one);
    free(two);
    px_run_free(run);
    px_run_free(run2);
}

static void px_result_encode_loads__not_json(void **state)
{
    (void)state;
    char err[256];
    assert_null(px_result_decode_text("{\"a\":", 5, err, sizeof(err)));
    assert_non_null(strstr(err, "not valid JSON"));
}

/* A directory or an empty file is named as such, not as JSON that lacks a '{'. */
static void px_result_encode_load_file__directory_and_empty_named(void **state)
{
    (void)state;
    char err[256];
    assert_null(px_result_decode_file("/", err, sizeof(err)));
    assert_string_equal(err, "cannot read /: it is a directory");
    char path[] = "/tmp/px_empty_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_null(px_result_decode_file(path, err, sizeof(err)));
    unlink(path);
    assert_non_null(strstr(err, ": empty file, expected the JSON of portex run --json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_result_encode_read__write_read_write_identical),
        cmocka_unit_test(px_result_encode_read__percentiles_recomputed_equal),
        cmocka_unit_test(px_result_encode_read__other_format_refused),
        cmocka_unit_test(px_result_encode_read__other_layout_refused),
        cmocka_unit_test(px_result_encode_read__bucket_index_out_of_range),
        cmocka_unit_test(px_result_encode_read__missing_key_named),
        cmocka_unit_test(px_result_encode_read__retries_must_be_counts),
        cmocka_unit_test(px_result_encode_read__unix_target_and_requests_per_conn),
        cmocka_unit_test(px_result_encode_loads__not_json),
        cmocka_unit_test(px_result_encode_load_file__directory_and_empty_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
