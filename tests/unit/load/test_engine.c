/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the engine's slot transitions. Like h2o's unit tests, this
 * file includes engine.c to reach its statics; no socket is opened except
 * where a test says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The debug invariant (busy == slots not idle) is checked on every move here. */
#undef NDEBUG
#include "../../../src/load/engine.c"

static struct px_load cfg;
static struct px_engine eng;
static struct px_worker wk;

/* A worker with n idle slots, not started. */
static int setup_worker(unsigned n, double rate, uint64_t quota)
{
    px_load_defaults(&cfg);
    cfg.rate_per_s = rate;
    cfg.connections = n;
    memset(&eng, 0, sizeof(eng));
    eng.cfg = &cfg;
    eng.transport = &px_transport_plain;
    eng.nworkers = 1;
    eng.workers = &wk;
    memset(&wk, 0, sizeof(wk));
    return worker_init(&eng, &wk, 0, n, quota);
}

static void teardown_worker(void)
{
    for (unsigned j = 0; j < wk.nslots; j++) {
        conn_close(&wk.slots[j], 0, 0);
        event_free(wk.slots[j].ev);
    }
    event_free(wk.tick);
    event_free(wk.grace);
    event_free(wk.stop_ev);
    free(wk.slots);
    event_base_free(wk.base);
}

static void worker_init__all_slots_idle_and_free(void **state)
{
    (void)state;
    assert_int_equal(setup_worker(8, 0, 100), 0);
    assert_int_equal(wk.busy, 0);
    assert_int_equal(wk.nfree, 8);
    assert_int_equal(wk.free_head, 0); /* slot 0 is taken first */
    assert_true(worker_consistent(&wk));
    teardown_worker();
}

static void slot_set__keeps_busy_and_free_list_in_step(void **state)
{
    (void)state;
    assert_int_equal(setup_worker(4, 0, 100), 0);
    slot_set(&wk.slots[2], SLOT_CONNECTING);
    assert_int_equal(wk.busy, 1);
    assert_int_equal(wk.nfree, 3);
    assert_false(wk.slots[2].in_free);
    /* Moving between busy states changes no count. */
    slot_set(&wk.slots[2], SLOT_READING);
    slot_set(&wk.slots[2], SLOT_WAIT_EOF);
    assert_int_equal(wk.busy, 1);
    slot_set(&wk.slots[0], SLOT_BACKOFF);
    assert_int_equal(wk.busy, 2);
    assert_true(worker_consistent(&wk));
    slot_set(&wk.slots[2], SLOT_IDLE);
    assert_int_equal(wk.busy, 1);
    assert_int_equal(wk.free_head, 2); /* the last freed is taken next */
    slot_set(&wk.slots[0], SLOT_IDLE);
    assert_int_equal(wk.busy, 0);
    assert_int_equal(wk.nfree, 4);
    assert_true(worker_consistent(&wk));
    teardown_worker();
}

static void fail_at_once__closed_model_backs_off_never_restarts_inline(void **state)
{
    (void)state;
    assert_int_equal(setup_worker(2, 0, 100), 0);
    struct slot *s = &wk.slots[0];
    slot_set(s, SLOT_CONNECTING);
    PX_BUMP(wk.ctr.started, 1);
    fail_at_once(s, ENETUNREACH);
    /* Counted by errno name, and the slot waits for a timer: no recursion. */
    assert_int_equal(wk.ctr.cause[px_cause_from_errno(ENETUNREACH)], 1);
    assert_int_equal(wk.ctr.failed, 1);
    assert_int_equal(s->state, SLOT_BACKOFF);
    assert_int_equal(wk.quota, 100); /* nothing started yet */
    assert_true(event_pending(s->ev, EV_TIMEOUT, NULL));
    assert_int_equal(wk.busy, 1);
    assert_true(worker_consistent(&wk));
    teardown_worker();
}

static void slot_fail__open_model_frees_the_slot(void **state)
{
    (void)state;
    assert_int_equal(setup_worker(2, 100, UINT64_MAX), 0);
    struct slot *s = &wk.slots[1];
    slot_set(s, SLOT_READING);
    slot_fail(s, PX_CAUSE_REQUEST_TIMEOUT);
    assert_int_equal(s->state, SLOT_IDLE);
    assert_true(s->in_free);
    assert_int_equal(wk.busy, 0);
    assert_int_equal(wk.ctr.cause[PX_CAUSE_REQUEST_TIMEOUT], 1);
    teardown_worker();
}

static void closed_next__quota_used_up_stops_the_worker(void **state)
{
    (void)state;
    assert_int_equal(setup_worker(1, 0, 0), 0);
    struct slot *s = &wk.slots[0];
    slot_set(s, SLOT_READING);
    slot_done(s, NEXT_NOW);
    assert_int_equal(s->state, SLOT_IDLE);
    assert_true(wk.stopping);
    assert_int_equal(wk.ctr.started, 0);
    teardown_worker();
}

static void needs_backoff__local_and_routing_errors(void **state)
{
    (void)state;
    const int yes[] = {EADDRNOTAVAIL, ENETUNREACH, EHOSTUNREACH, EACCES,
                       EPERM,         EMFILE,      ECONNREFUSED};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(needs_backoff(px_cause_from_errno(yes[i])));
    assert_false(needs_backoff(px_cause_from_errno(ECONNRESET)));
    assert_false(needs_backoff(PX_CAUSE_PARSE));
}

static void schedule_time__workers_share_one_timetable(void **state)
{
    (void)state;
    struct px_load c;
    px_load_defaults(&c);
    c.rate_per_s = 1000;
    struct px_engine e = {.cfg = &c, .nworkers = 3, .t0_us = 5000000};
    struct px_worker w1 = {.e = &e, .id = 1};
    /* Worker 1 of 3 takes starts 1, 4, 7...: 1 ms apart on the global table. */
    assert_int_equal(schedule_time(&w1, 0), 5000000 + 1000);
    assert_int_equal(schedule_time(&w1, 1), 5000000 + 4000);
    assert_int_equal(schedule_time(&w1, 2), 5000000 + 7000);
}

static void load_end_us__window_ends_at_duration_stop_or_last_completion(void **state)
{
    (void)state;
    struct px_engine e = {.t0_us = 1000000, .end_us = 4000000, .finished_us = 5500000};
    assert_int_equal(load_end_us(&e), 4000000); /* -d 3s, then a 1.5 s drain */
    assert_true(px_engine_duration_s(&e) == 3.0);
    assert_true(px_engine_drain_s(&e) == 1.5);
    e.stop_us = 2000000; /* SIGINT after 1 s */
    assert_int_equal(load_end_us(&e), 2000000);
    struct px_engine n = {.t0_us = 1000000, .end_us = 0, .finished_us = 1700000};
    assert_int_equal(load_end_us(&n), 1700000); /* -n: the last completion */
    assert_true(px_engine_drain_s(&n) == 0.0);
}

int main(void)
{
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(worker_init__all_slots_idle_and_free),
        cmocka_unit_test(slot_set__keeps_busy_and_free_list_in_step),
        cmocka_unit_test(fail_at_once__closed_model_backs_off_never_restarts_inline),
        cmocka_unit_test(slot_fail__open_model_frees_the_slot),
        cmocka_unit_test(closed_next__quota_used_up_stops_the_worker),
        cmocka_unit_test(needs_backoff__local_and_routing_errors),
        cmocka_unit_test(schedule_time__workers_share_one_timetable),
        cmocka_unit_test(load_end_us__window_ends_at_duration_stop_or_last_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
