/* SPDX-License-Identifier: MIT */
/* Unit tests of the ramp's knee: verdicts from a fixed step table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "portex/load/knee.h"

/* A 1 s step at `rate` with `ok` successes and `failed` failures, p99 in us. */
static struct px_knee_step step(double rate, uint64_t ok, uint64_t failed, uint64_t p99_us)
{
    struct px_knee_step s = {
        .rate_per_s = rate,
        .step_s = 1.0,
        .requests = ok + failed,
        .ok = ok,
        .failed = failed,
        .p99_us = p99_us,
        .ports = 100,
        .ceiling_per_s = 99.9,
        .hold_s = 1.0,
    };
    return s;
}

/* 100 ports on loopback with reuse: the ramp 50, 100, ..., 250. */
static const uint64_t ok_of[] = {50, 100, 100, 100, 100};
static const uint64_t failed_of[] = {0, 0, 50, 100, 150};

static void table(struct px_knee_step *steps)
{
    for (size_t i = 0; i < 5; i++)
        steps[i] = step(50.0 * (double)(i + 1), ok_of[i], failed_of[i], 400);
}

static void px_knee_find__highest_passing_step(void **state)
{
    (void)state;
    struct px_knee_step steps[5];
    table(steps);
    assert_int_equal(px_knee_find(steps, 5, 0), 1);
    assert_int_equal(px_knee_failed_count(steps, 5, 0), 3);
}

static void px_knee_find__none_passed_is_minus_one(void **state)
{
    (void)state;
    struct px_knee_step steps[5];
    table(steps);
    assert_int_equal(px_knee_find(steps + 2, 3, 0), -1);
}

static void px_knee_find__a_passing_step_after_a_failed_one_counts(void **state)
{
    (void)state;
    struct px_knee_step steps[3] = {step(100, 100, 0, 1), step(200, 150, 50, 1),
                                    step(300, 300, 0, 1)};
    assert_int_equal(px_knee_find(steps, 3, 0), 2);
}

static void px_knee_judge__99_percent_is_enough(void **state)
{
    (void)state;
    struct px_knee_step s = step(1000, 990, 0, 1);
    assert_int_equal(px_knee_judge(&s, 0), 0);
    s.ok = 989;
    assert_int_equal(px_knee_judge(&s, 0), PX_KNEE_LOW_OK);
}

static void px_knee_judge__one_error_fails(void **state)
{
    (void)state;
    struct px_knee_step s = step(100, 100, 1, 1);
    assert_int_equal(px_knee_judge(&s, 0), PX_KNEE_ERRORS);
}

static void px_knee_judge__p99_over_bound_fails(void **state)
{
    (void)state;
    struct px_knee_step s = step(100, 100, 0, 5000);
    assert_int_equal(px_knee_judge(&s, 0), 0);
    assert_int_equal(px_knee_judge(&s, 5000), 0);
    assert_int_equal(px_knee_judge(&s, 4999), PX_KNEE_SLOW);
}

static void px_knee_judge__interrupted_neither_passes_nor_fails(void **state)
{
    (void)state;
    struct px_knee_step steps[2] = {step(100, 100, 0, 1), step(200, 10, 0, 1)};
    steps[1].interrupted = 1;
    assert_int_equal(px_knee_judge(&steps[1], 0), PX_KNEE_INTERRUPTED);
    assert_int_equal(px_knee_failed_count(steps, 2, 0), 0);
    assert_int_equal(px_knee_find(steps, 2, 0), 0);
}

static void px_knee_port_bound__above_the_ceiling_only(void **state)
{
    (void)state;
    struct px_knee_step s = step(50, 50, 0, 1);
    assert_false(px_knee_port_bound(&s));
    s.rate_per_s = 100;
    assert_true(px_knee_port_bound(&s));
    s.ceiling_per_s = INFINITY;
    assert_false(px_knee_port_bound(&s));
}

static void px_knee_step_too_short__under_time_wait(void **state)
{
    (void)state;
    struct px_knee_step s = step(200, 100, 100, 1);
    s.ceiling_per_s = 100.0 / 60.0;
    s.hold_s = 60.0;
    assert_true(px_knee_step_too_short(&s));
    s.step_s = 60.0;
    assert_false(px_knee_step_too_short(&s));
}

static void px_knee_step_count__inclusive_ends(void **state)
{
    (void)state;
    assert_int_equal(px_knee_step_count(200, 1000, 200), 5);
    assert_int_equal(px_knee_step_count(0.1, 0.3, 0.1), 3);
    assert_int_equal(px_knee_step_count(200, 900, 200), 4);
    assert_int_equal(px_knee_step_count(500, 500, 100), 1);
    assert_int_equal(px_knee_step_count(500, 400, 100), 0);
    assert_true(px_knee_step_rate(200, 200, 4) == 1000.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_knee_find__highest_passing_step),
        cmocka_unit_test(px_knee_find__none_passed_is_minus_one),
        cmocka_unit_test(px_knee_find__a_passing_step_after_a_failed_one_counts),
        cmocka_unit_test(px_knee_judge__99_percent_is_enough),
        cmocka_unit_test(px_knee_judge__one_error_fails),
        cmocka_unit_test(px_knee_judge__p99_over_bound_fails),
        cmocka_unit_test(px_knee_judge__interrupted_neither_passes_nor_fails),
        cmocka_unit_test(px_knee_port_bound__above_the_ceiling_only),
        cmocka_unit_test(px_knee_step_too_short__under_time_wait),
        cmocka_unit_test(px_knee_step_count__inclusive_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
