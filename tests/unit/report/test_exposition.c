/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the exposition: the `le` edges against portex's buckets, their
 * text, the histogram on them, and the rules of both formats on a written
 * exposition (tests/unit/report/test_golden.c holds one byte for byte).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/outcome.h"
#include "portex/load/hist.h"
#include "portex/report/exposition.h"

/* Written into memory. */
static char *write_loads(enum px_expo_format fmt, const struct px_expo_load *loads, size_t n,
                         uint64_t ts_ms)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    px_expo_write_loads(f, fmt, loads, n, ts_ms);
    px_expo_end(f, fmt);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Two loads: a plain one with a few failures, and an https shard with nothing known yet. */
static void two_loads(struct px_expo_load *l)
{
    memset(l, 0, 2 * sizeof(*l));
    snprintf(l[0].labels.mode, sizeof(l[0].labels.mode), "short");
    snprintf(l[0].labels.target, sizeof(l[0].labels.target), "127.0.0.1:8080");
    l[0].at.totals.started = 12;
    l[0].at.totals.ok = 7;
    l[0].at.totals.failed = 4;
    l[0].at.totals.cause[px_cause_from_errno(EADDRNOTAVAIL)] = 3;
    l[0].at.totals.cause[PX_CAUSE_HTTP_5XX] = 1;
    l[0].at.in_flight = 1;
    l[0].at.time_wait = 100;
    l[0].at.usable_ports = 100;
    l[0].at.ceiling_per_s = 100.0 / 60.0;
    l[0].at.rate_per_s = 1000;
    l[0].at.lat[PX_EXPO_TOTAL].count = 11;
    l[0].at.lat[PX_EXPO_TOTAL].sum_us = 1234567;
    snprintf(l[1].labels.mode, sizeof(l[1].labels.mode), "a\"b\\c\nd");
    snprintf(l[1].labels.shard, sizeof(l[1].labels.shard), "1/4");
    snprintf(l[1].labels.target, sizeof(l[1].labels.target), "[::1]:443");
    l[1].at.https = 1;
    l[1].at.time_wait = -1;
    l[1].at.ceiling_per_s = INFINITY;
}

static void px_expo_edges_us__each_a_bucket_boundary_near_a_round_value(void **state)
{
    (void)state;
    static const double round_us[PX_EXPO_EDGES] = {
        50,  100, 200,   250, 500, 1e3, 2e3,   2.5e3, 5e3, 1e4, 2e4, 2.5e4, 5e4,
        1e5, 2e5, 2.5e5, 5e5, 1e6, 2e6, 2.5e6, 5e6,   1e7, 2e7, 3e7, 6e7};
    uint64_t top_lo, top_hi;
    px_hist_bounds(px_hist_index(PX_HIST_MAX_US), &top_lo, &top_hi);
    for (int e = 0; e < PX_EXPO_EDGES; e++) {
        uint64_t r = px_expo_edges_us[e], lo, hi;
        px_hist_bounds(px_hist_index(r), &lo, &hi);
        if (r > PX_HIST_MAX_US)
            assert_int_equal(r, top_hi + 1); /* the boundary above the clamped values */
        else
            assert_int_equal(lo, r);
        assert_true(fabs((double)r - round_us[e]) < 0.003 * round_us[e]);
        if (e > 0)
            assert_true(r > px_expo_edges_us[e - 1]);
    }
}

static void px_expo_le__as_go_writes_shortest_g(void **state)
{
    (void)state;
    static const struct {
        uint64_t us;
        const char *text;
    } cases[] = {
        {50, "5e-05"},
        {100, "0.0001"},
        {250, "0.00025"},
        {1000, "0.001"},
        {2496, "0.002496"},
        {999424, "0.999424"},
        {1000000, "1.0"},
        {2506752, "2.506752"},
        {10027008, "10.027008"},
        {60030976, "60.030976"},
        {1, "1e-06"},
        {120000000000, "120000.0"},
        {1000000000000, "1e+06"},
        {0, "0.0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        px_expo_le(buf, sizeof(buf), cases[i].us);
        assert_string_equal(buf, cases[i].text);
    }
}

static void px_expo_hist_of__counts_the_values_under_each_edge(void **state)
{
    (void)state;
    static struct px_hist h;
    px_hist_init(&h);
    const uint64_t values[] = {49, 50, 99, 100, 2495, 2496, 59999999, 70000000};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        px_hist_record(&h, values[i]);
    struct px_expo_hist out;

    px_expo_hist_of(&out, &h);

    assert_int_equal(out.below[0], 1); /* le 5e-05: 49 */
    assert_int_equal(out.below[1], 3); /* le 0.0001: 49, 50, 99 */
    assert_int_equal(out.below[6], 4); /* le 0.002 */
    assert_int_equal(out.below[7], 5); /* le 0.002496: 2495 too, not 2496 */
    assert_int_equal(out.below[23], 6);
    assert_int_equal(out.below[24], 8); /* 60 s and over count under the last edge */
    assert_int_equal(out.count, 8);
    assert_int_equal(out.sum_us, h.sum_us);
}

/* The exposition's rules: one timestamp on every sample, metadata before each
 * family's samples and never again, counters sampled with _total. */
static void check_rules(const char *text, enum px_expo_format fmt, const char *ts)
{
    char families[64][64];
    int nfam = 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, '\n');
        assert_non_null(end);
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[64];
            sscanf(line + 7, "%63s", name);
            for (int i = 0; i < nfam; i++)
                assert_string_not_equal(families[i], name); /* never interleaved */
            snprintf(families[nfam++], sizeof(families[0]), "%s", name);
        } else if (line[0] != '#') {
            const char *sp = strrchr(line, ' ');
            assert_string_equal(sp + 1, ts);
            if (fmt == PX_EXPO_PROMETHEUS || strstr(families[nfam - 1], "_total") == NULL)
                assert_true(strncmp(line, families[nfam - 1], strlen(families[nfam - 1])) == 0);
        }
        p = end + 1;
    }
    size_t len = strlen(text);
    if (fmt == PX_EXPO_OPENMETRICS)
        assert_string_equal(text + len - 6, "# EOF\n");
    else
        assert_null(strstr(text, "# EOF"));
}

static void px_expo_write_loads__openmetrics(void **state)
{
    (void)state;
    struct px_expo_load l[2];
    two_loads(l);

    char *om = write_loads(PX_EXPO_OPENMETRICS, l, 2, 1796514986717);

    check_rules(om, PX_EXPO_OPENMETRICS, "1796514986.717");
    assert_non_null(strstr(om, "# TYPE portex_requests counter\n# HELP portex_requests "));
    assert_non_null(strstr(
        om, "portex_requests_total{mode=\"short\",target=\"127.0.0.1:8080\"} 11 1796514986.717\n"));
    assert_non_null(strstr(om, "portex_failures_total{mode=\"short\",target=\"127.0.0.1:8080\","
                               "cause=\"EADDRNOTAVAIL\"} 3 "));
    assert_non_null(strstr(om, "cause=\"http_5xx\"} 1 "));
    /* EADDRNOTAVAIL even at 0, other causes only once they happened */
    assert_non_null(strstr(om, "portex_failures_total{mode=\"a\\\"b\\\\c\\nd\",shard=\"1/4\","
                               "target=\"[::1]:443\",cause=\"EADDRNOTAVAIL\"} 0 "));
    assert_null(strstr(om, "ECONNREFUSED"));
    /* every PX_TOTALS counter but started and failed, by its own name */
    assert_non_null(strstr(om, "portex_ok_total{"));
    assert_non_null(strstr(om, "portex_connections_opened_total{"));
    assert_non_null(strstr(om, "portex_missed_starts_total{"));
    assert_non_null(strstr(om, "portex_retries_total{"));
    assert_null(strstr(om, "portex_started"));
    assert_null(strstr(om, "portex_failed"));
    /* https counters for the https load only */
    assert_non_null(strstr(om, "portex_tls_full_total{mode=\"a"));
    assert_null(strstr(om, "portex_tls_full_total{mode=\"short\""));
    /* gauges: unknown TIME_WAIT and a closed model's rate not shown; +Inf ceiling */
    assert_non_null(strstr(om, "portex_time_wait{mode=\"short\",target=\"127.0.0.1:8080\"} 100 "));
    assert_null(strstr(om, "portex_time_wait{mode=\"a"));
    assert_null(strstr(om, "portex_target_rate_per_second{mode=\"a"));
    assert_non_null(strstr(om, "portex_predicted_ceiling_per_second{mode=\"short\",target="
                               "\"127.0.0.1:8080\"} 1.6666666666666667 "));
    assert_non_null(strstr(om, "shard=\"1/4\",target=\"[::1]:443\"} +Inf "));
    assert_non_null(strstr(om, "# UNIT portex_latency_seconds seconds\n"));
    assert_non_null(strstr(om, "phase=\"total\",le=\"5e-05\"} 0 "));
    assert_non_null(strstr(om, "phase=\"total\",le=\"+Inf\"} 11 "));
    assert_non_null(strstr(om, "portex_latency_seconds_count{mode=\"short\",target=\"127.0.0.1:"
                               "8080\",phase=\"total\"} 11 "));
    assert_non_null(strstr(om, "phase=\"total\"} 1.234567 "));
    free(om);
}

static void px_expo_write_loads__prometheus_0_0_4(void **state)
{
    (void)state;
    struct px_expo_load l[2];
    two_loads(l);

    char *prom = write_loads(PX_EXPO_PROMETHEUS, l, 2, 1796514986717);

    check_rules(prom, PX_EXPO_PROMETHEUS, "1796514986717");
    assert_non_null(strstr(prom, "# HELP portex_requests_total Requests that ended: ok + failed "
                                 "(the summary's requests).\n# TYPE portex_requests_total "
                                 "counter\n"));
    assert_non_null(strstr(prom, "# TYPE portex_in_flight gauge\n"));
    assert_non_null(strstr(prom, "# TYPE portex_latency_seconds histogram\n"));
    assert_null(strstr(prom, "# UNIT"));
    free(prom);
}

static void px_expo_write_serve__three_counters(void **state)
{
    (void)state;
    struct px_expo_serve s = {.accepted = 3000, .requests = 2999, .accept_errors = 2};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    px_expo_write_serve(f, PX_EXPO_OPENMETRICS, &s, 1000);
    px_expo_end(f, PX_EXPO_OPENMETRICS);
    fclose(f);

    check_rules(buf, PX_EXPO_OPENMETRICS, "1.000");
    assert_non_null(strstr(buf, "\nportex_serve_accepted_total 3000 1.000\n"));
    assert_non_null(strstr(buf, "\nportex_serve_requests_total 2999 1.000\n"));
    assert_non_null(strstr(buf, "\nportex_serve_accept_errors_total 2 1.000\n"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_expo_edges_us__each_a_bucket_boundary_near_a_round_value),
        cmocka_unit_test(px_expo_le__as_go_writes_shortest_g),
        cmocka_unit_test(px_expo_hist_of__counts_the_values_under_each_edge),
        cmocka_unit_test(px_expo_write_loads__openmetrics),
        cmocka_unit_test(px_expo_write_loads__prometheus_0_0_4),
        cmocka_unit_test(px_expo_write_serve__three_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
