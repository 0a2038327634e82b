/* SPDX-License-Identifier: MIT */
/* Unit tests of the schedule: shares, the open model's timetable, the stop and the window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "portex/load/load.h"
#include "portex/load/schedule.h"

#define T0 5000000u /* a run's start on the monotonic clock (us) */

/* The timetable of worker `worker` of `workers` on host `shard` of `shards`. */
static struct px_schedule timetable(double rate, unsigned shard, unsigned shards, unsigned workers)
{
    struct px_load load;
    px_load_defaults(&load);
    load.rate_per_s = rate;
    load.shard = shard;
    load.shards = shards;
    struct px_schedule s;
    px_schedule_init(&s, &load, workers);
    px_schedule_start(&s, T0);
    return s;
}

static void px_schedule_start_us__three_workers_two_shards_at_1000_per_s(void **state)
{
    (void)state;
    /* Arrange: 2 hosts x 3 workers at 1000/s: the global starts are 1 ms apart. */
    struct px_schedule host[2] = {timetable(1000, 0, 2, 3), timetable(1000, 1, 2, 3)};
    /* Act, assert: host 1's worker 0 takes global starts 1, 7, 13 (K + N * (i + W * k)). */
    assert_int_equal(px_schedule_start_us(&host[1], 0, 0), T0 + 1000);
    assert_int_equal(px_schedule_start_us(&host[1], 0, 1), T0 + 7000);
    assert_int_equal(px_schedule_start_us(&host[1], 0, 2), T0 + 13000);
    /* Host 0's worker 2 takes 4, 10, 16; host 1's worker 2 takes 5, 11, 17. */
    assert_int_equal(px_schedule_start_us(&host[0], 2, 0), T0 + 4000);
    assert_int_equal(px_schedule_start_us(&host[0], 2, 1), T0 + 10000);
    assert_int_equal(px_schedule_start_us(&host[1], 2, 2), T0 + 17000);
    /* Together the six workers make the one-host timetable: each ms exactly once. */
    int seen[60] = {0};
    for (unsigned h = 0; h < 2; h++)
        for (unsigned i = 0; i < 3; i++)
            for (uint64_t k = 0; k < 10; k++)
                seen[(px_schedule_start_us(&host[h], i, k) - T0) / 1000]++;
    for (int ms = 0; ms < 60; ms++)
        assert_int_equal(seen[ms], 1);
}

static void px_schedule_start_us__alone_is_one_shard(void **state)
{
    (void)state;
    struct px_schedule alone = timetable(1000, 0, 0, 3);
    struct px_schedule one = timetable(1000, 0, 1, 3);
    /* Worker 1 of 3 takes starts 1, 4, 7: 1 ms apart on the global table. */
    assert_int_equal(px_schedule_start_us(&alone, 1, 0), T0 + 1000);
    assert_int_equal(px_schedule_start_us(&alone, 1, 1), T0 + 4000);
    assert_int_equal(px_schedule_start_us(&alone, 1, 2), T0 + 7000);
    assert_int_equal(px_schedule_start_us(&one, 1, 2), T0 + 7000);
}

static void px_schedule_quota__n_split_over_shards_then_workers(void **state)
{
    (void)state;
    /* Arrange: -n 10 over 2 shards (px_load_apply_shard), each run by 3 workers. */
    uint64_t got[2][3];
    for (unsigned k = 0; k < 2; k++) {
        struct px_load load;
        char err[128];
        px_load_defaults(&load);
        load.requests = 10;
        load.connections = 6;
        load.shard = k;
        load.shards = 2;
        assert_int_equal(px_load_apply_shard(&load, err, sizeof(err)), 0);
        /* Act */
        for (unsigned i = 0; i < 3; i++)
            got[k][i] = px_schedule_quota(&load, 3, i);
    }
    /* Assert: 5 per host, the remainders to the lowest workers: 2, 2, 1. */
    for (unsigned k = 0; k < 2; k++) {
        assert_int_equal(got[k][0], 2);
        assert_int_equal(got[k][1], 2);
        assert_int_equal(got[k][2], 1);
    }
}

static void px_schedule_quota__unbounded_without_n(void **state)
{
    (void)state;
    struct px_load load;
    px_load_defaults(&load);
    assert_true(px_schedule_quota(&load, 4, 3) == UINT64_MAX);
}

static void px_schedule_workers__never_more_than_connections(void **state)
{
    (void)state;
    struct px_load load;
    px_load_defaults(&load);
    load.threads = 4;
    load.connections = 3;
    assert_int_equal(px_schedule_workers(&load), 3);
    load.threads = 0;
    assert_int_equal(px_schedule_workers(&load), 1);
    /* -c 10 over 3 workers: 4, 3, 3 slots. */
    load.connections = 10;
    assert_int_equal(px_schedule_slots(&load, 3, 0), 4);
    assert_int_equal(px_schedule_slots(&load, 3, 1), 3);
    assert_int_equal(px_schedule_slots(&load, 3, 2), 3);
}

static void px_schedule_next__starts_waits_and_stops_at_the_end_of_d(void **state)
{
    (void)state;
    /* Arrange: one worker at 1000/s for -d 2.5 ms (starts at 0, 1, 2 ms). */
    struct px_load load;
    px_load_defaults(&load);
    load.rate_per_s = 1000;
    load.duration_ms = 0;
    struct px_schedule s;
    px_schedule_init(&s, &load, 1);
    px_schedule_start(&s, T0);
    s.end_us = T0 + 2500; /* -d is whole ms; the window's arithmetic is not */
    uint64_t at = 0;
    /* Act, assert: at 1.5 ms starts 0 and 1 are due, start 2 waits till 2 ms. */
    assert_int_equal(px_schedule_next(&s, 0, 0, UINT64_MAX, T0 + 1500, &at), PX_SCHEDULE_START);
    assert_int_equal(at, T0);
    assert_int_equal(px_schedule_next(&s, 0, 1, UINT64_MAX, T0 + 1500, &at), PX_SCHEDULE_START);
    assert_int_equal(at, T0 + 1000);
    assert_int_equal(px_schedule_next(&s, 0, 2, UINT64_MAX, T0 + 1500, &at), PX_SCHEDULE_WAIT);
    assert_int_equal(at, T0 + 2000);
    /* Start 3 (3 ms) is past the end: wait for the end of the window, then stop. */
    assert_int_equal(px_schedule_next(&s, 0, 3, UINT64_MAX, T0 + 2100, &at), PX_SCHEDULE_WAIT);
    assert_int_equal(at, T0 + 2500);
    assert_int_equal(px_schedule_next(&s, 0, 3, UINT64_MAX, T0 + 2500, &at), PX_SCHEDULE_STOP);
    /* A used-up -n share quiesces first. */
    assert_int_equal(px_schedule_next(&s, 0, 0, 0, T0, &at), PX_SCHEDULE_QUIESCE);
}

static void px_schedule_start__d_sets_the_end(void **state)
{
    (void)state;
    struct px_load load;
    px_load_defaults(&load);
    load.duration_ms = 3000;
    struct px_schedule s;
    px_schedule_init(&s, &load, 2);
    px_schedule_start(&s, T0);
    assert_int_equal(s.end_us, T0 + 3000000);
    load.duration_ms = 0; /* -n */
    px_schedule_init(&s, &load, 2);
    px_schedule_start(&s, T0);
    assert_int_equal(s.end_us, 0);
}

static void px_schedule_grace_us__timeout_capped_at_2_s(void **state)
{
    (void)state;
    struct px_load load;
    px_load_defaults(&load);
    load.timeout_ms = 500;
    assert_int_equal(px_schedule_grace_us(&load), 500000);
    load.timeout_ms = 10000;
    assert_int_equal(px_schedule_grace_us(&load), 2000000);
}

static void px_schedule_window__ends_at_duration_stop_or_last_completion(void **state)
{
    (void)state;
    struct px_schedule s = {.t0_us = 1000000, .end_us = 4000000};
    double dur, drain;
    /* -d 3s, then a 1.5 s drain. */
    px_schedule_window(&s, 0, 5500000, &dur, &drain);
    assert_true(dur == 3.0);
    assert_true(drain == 1.5);
    /* SIGINT after 1 s. */
    px_schedule_window(&s, 2000000, 5500000, &dur, &drain);
    assert_true(dur == 1.0);
    assert_true(drain == 3.5);
    /* -n: the last completion ends the window, no drain. */
    struct px_schedule n = {.t0_us = 1000000, .end_us = 0};
    px_schedule_window(&n, 0, 1700000, &dur, &drain);
    assert_true(dur == 0.7);
    assert_true(drain == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_schedule_start_us__three_workers_two_shards_at_1000_per_s),
        cmocka_unit_test(px_schedule_start_us__alone_is_one_shard),
        cmocka_unit_test(px_schedule_quota__n_split_over_shards_then_workers),
        cmocka_unit_test(px_schedule_quota__unbounded_without_n),
        cmocka_unit_test(px_schedule_workers__never_more_than_connections),
        cmocka_unit_test(px_schedule_next__starts_waits_and_stops_at_the_end_of_d),
        cmocka_unit_test(px_schedule_start__d_sets_the_end),
        cmocka_unit_test(px_schedule_grace_us__timeout_capped_at_2_s),
        cmocka_unit_test(px_schedule_window__ends_at_duration_stop_or_last_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
