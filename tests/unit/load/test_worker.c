/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the workers' pacing. This file includes worker.c to reach its
 * statics (the slots' owner callback, the open model's tick); its slots fail
 * at once against a Unix path nobody listens on, so no network is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../src/load/worker.c"

#include <errno.h>
#include <event2/thread.h>
#include <string.h>

#include "portex/kernel/ceiling.h"
#include "portex/load/h1.h"
#include "portex/load/load.h"

static struct px_load cfg;
static struct px_worker_shared sh;
static struct px_worker wk;

/* A worker with n idle slots toward a Unix path that does not exist, not started. */
static void setup_worker(unsigned n, double rate, uint64_t quota)
{
    char err[128];
    px_load_defaults(&cfg);
    cfg.rate_per_s = rate;
    cfg.connections = n;
    cfg.requests = quota == UINT64_MAX ? 0 : quota;
    assert_int_equal(px_unix_addr("/nonexistent/portex-test.sock", &cfg.target, &cfg.target_len,
                                  err, sizeof(err)),
                     0);
    memset(&sh, 0, sizeof(sh));
    memset(&wk, 0, sizeof(wk));
    sh.slot.load = &cfg;
    sh.slot.transport = &px_transport_plain;
    sh.slot.framing = &px_framing_h1;
    sh.slot.timestamps = PX_TS_UNKNOWN;
    assert_int_equal(sh.slot.framing->setup(&sh.slot.framing_state, &cfg), 0);
    pthread_mutex_init(&sh.lock, NULL);
    px_schedule_init(&sh.sched, &cfg, 1);
    px_schedule_start(&sh.sched, px_clock_us());
    assert_int_equal(px_worker_init(&wk, &sh, 0, n, quota), 0);
}

static void teardown_worker(void)
{
    px_worker_release(&wk);
    sh.slot.framing->teardown(sh.slot.framing_state);
    pthread_mutex_destroy(&sh.lock);
}

static void px_worker_init__slots_idle_counters_empty(void **state)
{
    (void)state;
    setup_worker(8, 0, 100);
    assert_int_equal(wk.slots.n, 8);
    assert_int_equal(wk.slots.nfree, 8);
    assert_int_equal(wk.slots.busy, 0);
    assert_int_equal(wk.quota, 100);
    assert_int_equal(wk.lat.total.count, 0);
    assert_false(event_pending(wk.tick, EV_TIMEOUT, NULL));
    teardown_worker();
}

static void closed_next__quota_used_up_stops_the_worker(void **state)
{
    (void)state;
    setup_worker(1, 0, 0);
    struct px_slot *s = &wk.slots.slot[0];
    slot_done_cb(&wk, s, PX_SLOT_NEXT_NOW);
    assert_true(px_slot_idle(s));
    assert_true(wk.slots.stopping);
    assert_int_equal(wk.ctr.started, 0);
    teardown_worker();
}

static void px_slot_start__fail_at_once_pauses_never_restarts_inline(void **state)
{
    (void)state;
    setup_worker(2, 0, 100);
    struct px_slot *s = &wk.slots.slot[0];
    /* Act: connect() fails at once (no such socket file). */
    px_slot_start(s, px_clock_us());
    /* Counted by errno name, and the slot waits for a timer: no recursion. */
    assert_int_equal(wk.ctr.started, 1);
    assert_int_equal(wk.ctr.cause[px_cause_from_errno(ENOENT)], 1);
    assert_int_equal(wk.ctr.failed, 1);
    assert_int_equal(s->state, PX_SLOT_BACKOFF);
    assert_int_equal(wk.quota, 100); /* nothing more started */
    assert_true(event_pending(s->link.ev, EV_TIMEOUT, NULL));
    assert_int_equal(wk.slots.busy, 1);
    teardown_worker();
}

static void slot_done_cb__open_model_leaves_the_slot_to_the_timetable(void **state)
{
    (void)state;
    setup_worker(2, 100, UINT64_MAX);
    struct px_slot *s = &wk.slots.slot[1];
    slot_done_cb(&wk, s, PX_SLOT_NEXT_BACKOFF);
    assert_true(px_slot_idle(s));
    assert_int_equal(wk.slots.busy, 0);
    assert_false(wk.slots.stopping);
    teardown_worker();
}

static void tick_open__starts_what_is_due_then_waits(void **state)
{
    (void)state;
    /* Arrange: 100/s, started 45 ms ago: starts at 0, 10, 20, 30 and 40 ms are due. */
    setup_worker(2, 100, UINT64_MAX);
    px_schedule_start(&sh.sched, px_clock_us() - 45000);
    /* Act */
    tick_open(&wk);
    /* Assert: five started (each fails at once, so a slot is always free), none
     * missed, and the tick waits for the one at 50 ms. */
    assert_int_equal(wk.scheduled, 5);
    assert_int_equal(wk.ctr.started, 5);
    assert_int_equal(wk.ctr.missed_starts, 0);
    assert_int_equal(wk.ctr.failed, 5);
    assert_true(event_pending(wk.tick, EV_TIMEOUT, NULL));
    assert_false(wk.slots.stopping);
    teardown_worker();
}

static void tick_open__n_share_used_up_quiesces(void **state)
{
    (void)state;
    setup_worker(2, 100, 3);
    px_schedule_start(&sh.sched, px_clock_us() - 45000);
    tick_open(&wk);
    assert_int_equal(wk.ctr.started, 3);
    assert_int_equal(wk.quota, 0);
    assert_true(wk.slots.stopping);
    assert_false(event_pending(wk.tick, EV_TIMEOUT, NULL));
    teardown_worker();
}

int main(void)
{
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_worker_init__slots_idle_counters_empty),
        cmocka_unit_test(closed_next__quota_used_up_stops_the_worker),
        cmocka_unit_test(px_slot_start__fail_at_once_pauses_never_restarts_inline),
        cmocka_unit_test(slot_done_cb__open_model_leaves_the_slot_to_the_timetable),
        cmocka_unit_test(tick_open__starts_what_is_due_then_waits),
        cmocka_unit_test(tick_open__n_share_used_up_quiesces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
