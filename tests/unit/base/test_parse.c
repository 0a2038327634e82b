/* SPDX-License-Identifier: MIT */
/* Unit tests of the command-line value parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "portex/load/load.h"
#include "portex/base/parse.h"

static void px_parse_duration_ms__units(void **state)
{
    (void)state;
    uint64_t ms;
    assert_int_equal(px_parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(px_parse_duration_ms("10s", &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(px_parse_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(px_parse_duration_ms("1h", &ms), 0);
    assert_int_equal(ms, 3600000);
    assert_int_equal(px_parse_duration_ms("1.5", &ms), 0);
    assert_int_equal(ms, 1500);
}

static void px_parse_duration_ms__rejects_bad(void **state)
{
    (void)state;
    uint64_t ms = 42;
    const char *bad[] = {"",      "0",   "-1s", "10x", "s",   "0.0001ms",
                         "1e400", " 5s", "5 s", "+3s", "nan", "inf"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(px_parse_duration_ms(bad[i], &ms), -1);
    assert_int_equal(ms, 42);
}

static void px_parse_rate__suffixes(void **state)
{
    (void)state;
    double r;
    assert_int_equal(px_parse_rate("2000", &r), 0);
    assert_true(r == 2000.0);
    assert_int_equal(px_parse_rate("1.5k", &r), 0);
    assert_true(r == 1500.0);
    assert_int_equal(px_parse_rate("0.5", &r), 0);
    assert_true(r == 0.5);
    assert_int_equal(px_parse_rate("0", &r), -1);
    assert_int_equal(px_parse_rate("-5", &r), -1);
    assert_int_equal(px_parse_rate("5/s", &r), -1);
}

/* A rate so small that start times overflow made the open model spin, deaf to SIGTERM. */
static void px_parse_rate__range(void **state)
{
    (void)state;
    double r;
    assert_int_equal(px_parse_rate("0.001", &r), 0);
    assert_true(r == 0.001);
    assert_int_equal(px_parse_rate("100M", &r), 0);
    assert_int_equal(px_parse_rate("0.0009", &r), -1);
    assert_int_equal(px_parse_rate("1e-300", &r), -1);
    assert_int_equal(px_parse_rate("101M", &r), -1);
}

static void px_parse_u64__bounds(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(px_parse_u64("1", 1, 10, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(px_parse_u64("10", 1, 10, &v), 0);
    assert_int_equal(px_parse_u64("0", 1, 10, &v), -1);
    assert_int_equal(px_parse_u64("11", 1, 10, &v), -1);
    assert_int_equal(px_parse_u64("-1", 0, 10, &v), -1);
    assert_int_equal(px_parse_u64("3x", 0, 10, &v), -1);
    assert_int_equal(px_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -1);
}

static void px_parse_port_range__valid_and_invalid(void **state)
{
    (void)state;
    uint16_t lo, hi;
    assert_int_equal(px_parse_port_range("40000-40099", &lo, &hi), 0);
    assert_int_equal(lo, 40000);
    assert_int_equal(hi, 40099);
    assert_int_equal(px_parse_port_range("1-65535", &lo, &hi), 0);
    assert_int_equal(px_parse_port_range("5-4", &lo, &hi), -1);
    assert_int_equal(px_parse_port_range("0-10", &lo, &hi), -1);
    assert_int_equal(px_parse_port_range("10-65536", &lo, &hi), -1);
    assert_int_equal(px_parse_port_range("10", &lo, &hi), -1);
    assert_int_equal(px_parse_port_range("-10", &lo, &hi), -1);
}

static void px_parse_header__token_colon_no_crlf(void **state)
{
    (void)state;
    assert_int_equal(px_parse_header("X-Test: 1"), 0);
    assert_int_equal(px_parse_header("Accept:*/*"), 0);
    assert_int_equal(px_parse_header("NoColon"), -1);
    assert_int_equal(px_parse_header(": empty"), -1);
    assert_int_equal(px_parse_header("Bad Name: x"), -1);
    assert_int_equal(px_parse_header("X: a\r\nInjected: b"), -1);
}

static void px_parse_shard__valid_and_invalid(void **state)
{
    (void)state;
    unsigned k, n;
    assert_int_equal(px_parse_shard("0/4", &k, &n), 0);
    assert_int_equal(k, 0);
    assert_int_equal(n, 4);
    assert_int_equal(px_parse_shard("3/4", &k, &n), 0);
    assert_int_equal(k, 3);
    assert_int_equal(px_parse_shard("0/1", &k, &n), 0);
    const char *bad[] = {"4/4", "1/0", "0/0", "/4", "1/", "1", "-1/4", "1/4x", "a/b", "", "1//4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(px_parse_shard(bad[i], &k, &n), -1);
}

static void px_parse_wallclock__unix_and_rfc3339(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(px_parse_wallclock("1767225600", &ns), 0);
    assert_true(ns == 1767225600LL * 1000000000);
    assert_int_equal(px_parse_wallclock("1767225600.25", &ns), 0);
    assert_true(ns == 1767225600LL * 1000000000 + 250000000);
    assert_int_equal(px_parse_wallclock("2026-01-01T00:00:00Z", &ns), 0);
    assert_true(ns == 1767225600LL * 1000000000);
    assert_int_equal(px_parse_wallclock("2026-01-01T02:00:00.5+02:00", &ns), 0);
    assert_true(ns == 1767225600LL * 1000000000 + 500000000);
    assert_int_equal(px_parse_wallclock("2025-12-31T23:00:00-01:00", &ns), 0);
    assert_true(ns == 1767225600LL * 1000000000);
    const char *bad[] = {"",
                         "abc",
                         "1.2.3",
                         "2026-01-01",
                         "2026-01-01T00:00:00",
                         "2026-13-01T00:00:00Z",
                         "2026-01-01T00:00:00+0200",
                         "12s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(px_parse_wallclock(bad[i], &ns), -1);
}

/* timegm() rolls 30 February into March: a typo'd date must not start at another time. */
static void px_parse_wallclock__refuses_days_the_month_lacks(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(px_parse_wallclock("2026-02-30T00:00:00Z", &ns), -1);
    assert_int_equal(px_parse_wallclock("2026-02-29T00:00:00Z", &ns), -1);
    assert_int_equal(px_parse_wallclock("2026-04-31T00:00:00Z", &ns), -1);
    assert_int_equal(px_parse_wallclock("2028-02-29T00:00:00Z", &ns), 0);
    assert_int_equal(px_parse_wallclock("2000-02-29T00:00:00Z", &ns), 0);
    assert_int_equal(px_parse_wallclock("2100-02-29T00:00:00Z", &ns), -1);
    assert_int_equal(px_parse_wallclock("2026-12-31T23:59:59Z", &ns), 0);
}

static void px_load_apply_shard__remainders_to_lowest(void **state)
{
    (void)state;
    struct px_load cfg;
    char err[256];
    unsigned c = 0;
    uint64_t n = 0;
    for (unsigned k = 0; k < 4; k++) {
        px_load_defaults(&cfg);
        cfg.connections = 10;
        cfg.requests = 1001;
        cfg.shard = k;
        cfg.shards = 4;
        assert_int_equal(px_load_apply_shard(&cfg, err, sizeof(err)), 0);
        assert_int_equal(cfg.connections, k < 2 ? 3 : 2);
        assert_int_equal(cfg.requests, k < 1 ? 251 : 250);
        c += cfg.connections;
        n += cfg.requests;
    }
    assert_int_equal(c, 10);
    assert_int_equal(n, 1001);
    px_load_defaults(&cfg);
    cfg.connections = 3;
    cfg.shard = 0;
    cfg.shards = 4;
    assert_int_equal(px_load_apply_shard(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "-c 3 is fewer than the 4 shards"));
    cfg.rate_per_s = 100; /* open model: -c is each host's own cap */
    assert_int_equal(px_load_apply_shard(&cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.connections, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_parse_duration_ms__units),
        cmocka_unit_test(px_parse_duration_ms__rejects_bad),
        cmocka_unit_test(px_parse_rate__suffixes),
        cmocka_unit_test(px_parse_rate__range),
        cmocka_unit_test(px_parse_u64__bounds),
        cmocka_unit_test(px_parse_port_range__valid_and_invalid),
        cmocka_unit_test(px_parse_header__token_colon_no_crlf),
        cmocka_unit_test(px_parse_shard__valid_and_invalid),
        cmocka_unit_test(px_parse_wallclock__unix_and_rfc3339),
        cmocka_unit_test(px_parse_wallclock__refuses_days_the_month_lacks),
        cmocka_unit_test(px_load_apply_shard__remainders_to_lowest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
