/* SPDX-License-Identifier: MIT */
/* Unit tests of compare's port windows: one of its own per mode, none overlapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "portex/cmd/compare.h"

static void px_compare_port_window__given_window_first_then_above(void **state)
{
    (void)state;
    unsigned lo, hi;
    assert_int_equal(px_compare_port_window(40000, 40199, 32768, 60999, 0, &lo, &hi), 0);
    assert_int_equal(lo, 40000);
    assert_int_equal(hi, 40199);
    assert_int_equal(px_compare_port_window(40000, 40199, 32768, 60999, 2, &lo, &hi), 0);
    assert_int_equal(lo, 40400);
    assert_int_equal(hi, 40599);
}

static void px_compare_port_window__then_below_until_none(void **state)
{
    (void)state;
    unsigned lo, hi;
    /* 1000-port namespace range 40000-40999, window 40600-40799: above it only
     * 40800-40999, below it 40400-40599, 40200-40399, 40000-40199. */
    assert_int_equal(px_compare_port_window(40600, 40799, 40000, 40999, 1, &lo, &hi), 0);
    assert_int_equal(lo, 40800);
    assert_int_equal(px_compare_port_window(40600, 40799, 40000, 40999, 2, &lo, &hi), 0);
    assert_int_equal(lo, 40400);
    assert_int_equal(px_compare_port_window(40600, 40799, 40000, 40999, 4, &lo, &hi), 0);
    assert_int_equal(lo, 40000);
    assert_int_equal(hi, 40199);
    assert_int_equal(px_compare_port_window(40600, 40799, 40000, 40999, 5, &lo, &hi), -1);
}

static void px_compare_port_window__outside_the_namespace_range_is_none(void **state)
{
    (void)state;
    unsigned lo, hi;
    assert_int_equal(px_compare_port_window(60900, 61099, 32768, 60999, 0, &lo, &hi), -1);
    assert_int_equal(px_compare_port_window(40000, 40199, 40000, 40199, 1, &lo, &hi), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_compare_port_window__given_window_first_then_above),
        cmocka_unit_test(px_compare_port_window__then_below_until_none),
        cmocka_unit_test(px_compare_port_window__outside_the_namespace_range_is_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
