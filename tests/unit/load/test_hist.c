/* SPDX-License-Identifier: MIT */
/* Unit tests of the latency histogram against exact percentiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "portex/load/hist.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Exact nearest-rank percentile of sorted values. */
static uint64_t exact(const uint64_t *v, size_t n, double q)
{
    size_t rank = (size_t)ceil(q / 100.0 * (double)n);
    if (rank == 0)
        rank = 1;
    return v[rank - 1];
}

static void px_hist_index__buckets_tile_the_range(void **state)
{
    (void)state;
    uint64_t prev_hi = 0;
    unsigned top = px_hist_index(PX_HIST_MAX_US);
    assert_true(top < PX_HIST_BUCKETS);
    for (unsigned i = 1; i <= top; i++) {
        uint64_t lo, hi;
        px_hist_bounds(i, &lo, &hi);
        assert_int_equal(lo, prev_hi + 1);
        assert_int_equal(px_hist_index(lo), i);
        if (hi <= PX_HIST_MAX_US)
            assert_int_equal(px_hist_index(hi), i);
        else
            assert_int_equal(i, top);
        /* A bucket is never wider than 1/128 of its lower bound. */
        assert_true((double)(hi - lo + 1) <= (double)lo / 128.0 + 1.0);
        prev_hi = hi;
    }
    assert_true(prev_hi >= PX_HIST_MAX_US);
}

static void px_hist_percentile__within_one_percent(void **state)
{
    (void)state;
    enum { N = 200000 };
    uint64_t *vals = malloc(N * sizeof(*vals));
    static struct px_hist h;
    px_hist_init(&h);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* Log-uniform from 1 us to 60 s. */
        double u = (double)(x >> 11) / 9007199254740992.0;
        vals[i] = (uint64_t)exp(u * log(60e6));
        if (vals[i] == 0)
            vals[i] = 1;
        px_hist_record(&h, vals[i]);
    }
    qsort(vals, N, sizeof(*vals), cmp_u64);
    const double qs[] = {1, 10, 50, 90, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        double want = (double)exact(vals, N, qs[i]);
        double got = (double)px_hist_percentile(&h, qs[i]);
        assert_true(fabs(got - want) <= 0.01 * want);
    }
    assert_int_equal(px_hist_percentile(&h, 100), vals[N - 1]);
    assert_int_equal(px_hist_percentile(&h, 0), vals[0]);
    assert_int_equal(h.count, N);
    free(vals);
}

static void px_hist_percentile__small_values_exact(void **state)
{
    (void)state;
    static struct px_hist h;
    px_hist_init(&h);
    for (uint64_t v = 1; v <= 100; v++)
        px_hist_record(&h, v);
    assert_int_equal(px_hist_percentile(&h, 50), 50);
    assert_int_equal(px_hist_percentile(&h, 99), 99);
    assert_int_equal(px_hist_percentile(&h, 99.9), 100);
    assert_true(fabs(px_hist_mean(&h) - 50.5) < 1e-9);
}

static void px_hist_merge__equals_recording_all(void **state)
{
    (void)state;
    static struct px_hist a, b, all;
    px_hist_init(&a);
    px_hist_init(&b);
    px_hist_init(&all);
    for (uint64_t v = 1; v < 50000; v += 7) {
        px_hist_record(v % 2 ? &a : &b, v);
        px_hist_record(&all, v);
    }
    px_hist_merge(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.sum_us, all.sum_us);
    assert_int_equal(a.min_us, all.min_us);
    assert_int_equal(a.max_us, all.max_us);
    assert_memory_equal(a.buckets, all.buckets, sizeof(a.buckets));
}

static void px_hist_diff__only_the_interval(void **state)
{
    (void)state;
    static struct px_hist h, before, d;
    px_hist_init(&h);
    for (int i = 0; i < 1000; i++)
        px_hist_record(&h, 100);
    px_hist_snapshot(&before, &h);
    for (int i = 0; i < 10; i++)
        px_hist_record(&h, 5000);
    px_hist_diff(&d, &h, &before);
    assert_int_equal(d.count, 10);
    uint64_t p50 = px_hist_percentile(&d, 50);
    assert_true(p50 >= 4950 && p50 <= 5050);
}

static void px_hist_record__clamps_huge_values(void **state)
{
    (void)state;
    static struct px_hist h;
    px_hist_init(&h);
    px_hist_record(&h, 500000000ull);
    assert_int_equal(h.count, 1);
    assert_int_equal(h.max_us, 500000000ull);
    assert_int_equal(px_hist_percentile(&h, 50), 500000000ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_hist_index__buckets_tile_the_range),
        cmocka_unit_test(px_hist_percentile__within_one_percent),
        cmocka_unit_test(px_hist_percentile__small_values_exact),
        cmocka_unit_test(px_hist_merge__equals_recording_all),
        cmocka_unit_test(px_hist_diff__only_the_interval),
        cmocka_unit_test(px_hist_record__clamps_huge_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
