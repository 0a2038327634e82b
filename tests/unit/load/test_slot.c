/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the connection state machine. Like h2o's unit tests, this file
 * includes slot.c to reach its statics; the owner is a stub that records what
 * the slots tell it. No socket is opened except where a test says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The debug invariant (busy == slots not idle) is checked on every move here. */
#undef NDEBUG
#include "../../../src/load/slot.c"

#include <event2/thread.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "portex/load/h1.h"

/* The stub owner: what the slots told it. */
struct told {
    int calls;
    enum px_slot_next next;
    int idle; /* the slot was idle when told */
};

static struct px_load cfg;
static struct px_slot_shared shared;
static struct px_totals ctr;
static struct px_latency lat;
static struct event_base *base;
static struct px_slots pool;
static struct told told;
/* The next pool's loop reads CLOCK_MONOTONIC, not libevent's default
 * CLOCK_MONOTONIC_COARSE (4 ms ticks here): a test that times a pause
 * against px_clock_us needs the same clock. */
static int precise_timer;

static void stub_done(void *arg, struct px_slot *s, enum px_slot_next next)
{
    struct told *t = arg;
    t->calls++;
    t->next = next;
    t->idle = px_slot_idle(s);
}

/* n idle slots over the plain transport and HTTP/1.1. */
static void setup_pool(unsigned n)
{
    char err[128];
    px_load_defaults(&cfg);
    assert_int_equal(px_url_parse("http://localhost/", &cfg.url, err, sizeof(err)), 0);
    memset(&shared, 0, sizeof(shared));
    memset(&ctr, 0, sizeof(ctr));
    memset(&told, 0, sizeof(told));
    memset(&pool, 0, sizeof(pool));
    shared.load = &cfg;
    shared.transport = &px_transport_plain;
    shared.framing = &px_framing_h1;
    assert_int_equal(shared.framing->setup(&shared.framing_state, &cfg), 0);
    px_hist_init(&lat.connect);
    px_hist_init(&lat.ttfb);
    px_hist_init(&lat.total);
    px_hist_init(&lat.tls);
    struct event_config *ec = event_config_new();
    assert_non_null(ec);
    if (precise_timer)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    base = event_base_new_with_config(ec);
    event_config_free(ec);
    precise_timer = 0;
    assert_non_null(base);
    struct px_slot_owner owner = {
        .shared = &shared, .base = base, .ctr = &ctr, .lat = &lat, .done = stub_done, .arg = &told};
    assert_int_equal(px_slots_init(&pool, &owner, n), 0);
}

static void teardown_pool(void)
{
    px_slots_release(&pool);
    event_base_free(base);
    shared.framing->teardown(shared.framing_state);
}

static void px_slots_init__all_slots_idle_and_free(void **state)
{
    (void)state;
    setup_pool(8);
    assert_int_equal(pool.busy, 0);
    assert_int_equal(pool.nfree, 8);
    assert_int_equal(pool.free_head, 0); /* slot 0 is taken first */
    assert_ptr_equal(px_slots_take(&pool), &pool.slot[0]);
    assert_true(slots_consistent(&pool));
    teardown_pool();
}

static void slot_set__keeps_busy_and_free_list_in_step(void **state)
{
    (void)state;
    setup_pool(4);
    slot_set(&pool.slot[2], PX_SLOT_CONNECTING);
    assert_int_equal(pool.busy, 1);
    assert_int_equal(pool.nfree, 3);
    assert_false(pool.slot[2].in_free);
    /* Moving between busy states changes no count. */
    slot_set(&pool.slot[2], PX_SLOT_READING);
    slot_set(&pool.slot[2], PX_SLOT_WAIT_EOF);
    assert_int_equal(pool.busy, 1);
    slot_set(&pool.slot[0], PX_SLOT_BACKOFF);
    assert_int_equal(pool.busy, 2);
    assert_true(slots_consistent(&pool));
    slot_set(&pool.slot[2], PX_SLOT_IDLE);
    assert_int_equal(pool.busy, 1);
    assert_int_equal(pool.free_head, 2); /* the last freed is taken next */
    slot_set(&pool.slot[0], PX_SLOT_IDLE);
    assert_int_equal(pool.busy, 0);
    assert_int_equal(pool.nfree, 4);
    assert_true(slots_consistent(&pool));
    teardown_pool();
}

static void fail_at_once__counts_by_errno_and_tells_the_owner_once_idle(void **state)
{
    (void)state;
    setup_pool(2);
    struct px_slot *s = &pool.slot[0];
    slot_set(s, PX_SLOT_CONNECTING);
    PX_BUMP(ctr.started, 1);
    fail_at_once(s, ENETUNREACH);
    /* Counted by errno name; the owner hears of it with the slot idle, and is
     * asked for a back-off: no restart from inside the failing call. */
    assert_int_equal(ctr.cause[px_cause_from_errno(ENETUNREACH)], 1);
    assert_int_equal(ctr.failed, 1);
    assert_int_equal(told.calls, 1);
    assert_int_equal(told.next, PX_SLOT_NEXT_BACKOFF);
    assert_true(told.idle);
    assert_int_equal(pool.busy, 0);
    teardown_pool();
}

static void slot_fail__backs_off_only_when_a_retry_would_repeat(void **state)
{
    (void)state;
    setup_pool(2);
    struct px_slot *s = &pool.slot[1];
    slot_set(s, PX_SLOT_READING);
    slot_fail(s, PX_CAUSE_REQUEST_TIMEOUT);
    assert_int_equal(told.next, PX_SLOT_NEXT_LOOP);
    assert_true(s->in_free);
    assert_int_equal(ctr.cause[PX_CAUSE_REQUEST_TIMEOUT], 1);
    assert_int_equal(shared.first_eaddr_us, 0);
    /* EADDRNOTAVAIL: a pause, and the run's first one is noted with the ok count before it. */
    ctr.ok = 7;
    slot_set(s, PX_SLOT_CONNECTING);
    slot_fail(s, px_cause_from_errno(EADDRNOTAVAIL));
    assert_int_equal(told.next, PX_SLOT_NEXT_BACKOFF);
    assert_int_not_equal(shared.first_eaddr_us, 0);
    ctr.ok = 9;
    assert_int_equal(px_slots_ok_before_eaddr(&pool), 7);
    assert_int_equal(told.calls, 2);
    teardown_pool();
}

static void px_slot_pause__restarts_from_the_loop_after_the_back_off(void **state)
{
    (void)state;
    precise_timer = 1;
    setup_pool(1);
    struct px_slot *s = &pool.slot[0];
    /* Before the pause is armed: a busy machine may run other work right after it. */
    uint64_t t0 = px_clock_us();
    px_slot_pause(s, PX_SLOT_NEXT_BACKOFF);
    assert_int_equal(s->state, PX_SLOT_BACKOFF);
    assert_int_equal(pool.busy, 1);
    assert_true(event_pending(s->link.ev, EV_TIMEOUT, NULL));
    assert_int_equal(told.calls, 0);
    event_base_loop(base, EVLOOP_ONCE);
    /* After BACKOFF_US the owner is told, the slot idle, to start the next now. */
    assert_true(px_clock_us() - t0 >= BACKOFF_US - 1000);
    assert_int_equal(told.calls, 1);
    assert_int_equal(told.next, PX_SLOT_NEXT_NOW);
    assert_true(told.idle);
    teardown_pool();
}

static void px_slots_cancel__counts_what_was_in_flight_once(void **state)
{
    (void)state;
    setup_pool(4);
    slot_set(&pool.slot[0], PX_SLOT_READING);  /* in flight: cancelled */
    slot_set(&pool.slot[1], PX_SLOT_WAIT_EOF); /* response counted already */
    slot_set(&pool.slot[2], PX_SLOT_BACKOFF);  /* failure counted already */
    px_slots_cancel(&pool);
    assert_int_equal(ctr.cause[PX_CAUSE_CANCELLED], 1);
    assert_int_equal(ctr.failed, 1);
    assert_int_equal(pool.busy, 0);
    assert_int_equal(pool.nfree, 4);
    teardown_pool();
}

static void px_tally_backoff__local_and_routing_errors(void **state)
{
    (void)state;
    const int yes[] = {EADDRNOTAVAIL, ENETUNREACH, EHOSTUNREACH, EACCES,
                       EPERM,         EMFILE,      ECONNREFUSED};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(px_tally_backoff(px_cause_from_errno(yes[i])));
    assert_false(px_tally_backoff(px_cause_from_errno(ECONNRESET)));
    assert_false(px_tally_backoff(PX_CAUSE_PARSE));
}

/* A listening Unix socket at a fresh path, into cfg's target. The fd. */
static int unix_listener(char *path, size_t len)
{
    snprintf(path, len, "/tmp/portex-test-slot-%d.sock", (int)getpid());
    unlink(path);
    char err[128];
    assert_int_equal(px_unix_addr(path, &cfg.target, &cfg.target_len, err, sizeof(err)), 0);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&cfg.target, cfg.target_len), 0);
    assert_int_equal(listen(l, 4), 0);
    return l;
}

static void px_slot_start__one_request_over_a_unix_socket(void **state)
{
    (void)state;
    setup_pool(1);
    char path[108];
    int l = unix_listener(path, sizeof(path));
    struct px_slot *s = &pool.slot[0];
    /* Act: a Unix connect succeeds at once, and the request goes out with it. */
    px_slot_start(s, px_clock_us());
    assert_int_equal(s->state, PX_SLOT_READING);
    int peer = accept(l, NULL, NULL);
    char buf[512];
    assert_true(recv(peer, buf, sizeof(buf), 0) > 0);
    assert_memory_equal(buf, "GET / HTTP/1.1\r\n", 16);
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    assert_int_equal(send(peer, resp, sizeof(resp) - 1, 0), (ssize_t)(sizeof(resp) - 1));
    event_base_loop(base, EVLOOP_ONCE);
    /* Assert: one attempt, one bucket, and the owner asked to go on now. */
    assert_int_equal(ctr.started, 1);
    assert_int_equal(ctr.ok, 1);
    assert_int_equal(ctr.status[2], 1);
    assert_int_equal(ctr.failed, 0);
    assert_int_equal(ctr.connections_opened, 1);
    assert_int_equal(lat.total.count, 1);
    assert_int_equal(told.calls, 1);
    assert_int_equal(told.next, PX_SLOT_NEXT_NOW);
    assert_int_equal(s->link.conn.fd, -1); /* short connection: the client closed */
    close(peer);
    close(l);
    unlink(path);
    teardown_pool();
}

/* A request in flight whose connection carried it: kept-alive (reused) or a resend. */
static struct px_slot *lost_slot(int reused, int resent, int got_bytes)
{
    struct px_slot *s = &pool.slot[0];
    slot_set(s, PX_SLOT_READING);
    s->reused = reused;
    s->resent = resent;
    s->link.established = 1;
    s->got_bytes = got_bytes;
    return s;
}

static void conn_lost__not_resent_is_closed_before_response(void **state)
{
    (void)state;
    const int reset = px_cause_from_errno(ECONNRESET);
    setup_pool(1);
    /* Arrange: a POST, or --no-retry: the pool may not resend. */
    pool.resend = 0;
    conn_lost(lost_slot(1, 0, 0), reset);
    assert_int_equal(ctr.cause[PX_CAUSE_CLOSED], 1);
    /* A resend whose own connection closed too: never sent a third time. */
    pool.resend = 1;
    conn_lost(lost_slot(0, 1, 0), reset);
    assert_int_equal(ctr.cause[PX_CAUSE_CLOSED], 2);
    /* Part of the answer came: cut short, the cause as the transport gave it. */
    conn_lost(lost_slot(1, 0, 1), reset);
    assert_int_equal(ctr.cause[reset], 1);
    /* A new connection's first request: not a kept-alive close, nothing resent. */
    conn_lost(lost_slot(0, 0, 0), reset);
    assert_int_equal(ctr.cause[reset], 2);
    assert_int_equal(ctr.retries, 0);
    assert_int_equal(ctr.failed, 4);
    assert_int_equal(told.calls, 4);
    teardown_pool();
}

static void conn_lost__resend_connect_failure_keeps_its_errno(void **state)
{
    (void)state;
    const int refused = px_cause_from_errno(ECONNREFUSED);
    setup_pool(1);
    struct px_slot *s = lost_slot(0, 1, 0);
    s->link.established = 0; /* the resend's connect() failed: its first send tells */
    conn_lost(s, refused);
    assert_int_equal(ctr.cause[refused], 1);
    assert_int_equal(ctr.cause[PX_CAUSE_CLOSED], 0);
    teardown_pool();
}

static void conn_lost__idempotent_request_resent_once_on_a_new_connection(void **state)
{
    (void)state;
    setup_pool(1);
    char path[108];
    int l = unix_listener(path, sizeof(path));
    assert_true(pool.resend); /* GET, no --no-retry */
    struct px_slot *s = lost_slot(1, 0, 0);
    /* Act: the kept-alive connection closed before any byte of the answer. */
    conn_lost(s, PX_CAUSE_CLOSED);
    /* Assert: counted as a retry, not as a request or a failure; the request is
     * out again on a new connection, marked as the resend. */
    assert_int_equal(ctr.retries, 1);
    assert_int_equal(ctr.failed, 0);
    assert_int_equal(ctr.started, 0);
    assert_int_equal(told.calls, 0);
    assert_int_equal(s->state, PX_SLOT_READING);
    assert_true(s->resent);
    assert_false(s->reused);
    int peer = accept(l, NULL, NULL);
    char buf[512];
    assert_true(recv(peer, buf, sizeof(buf), 0) > 0);
    assert_memory_equal(buf, "GET / HTTP/1.1\r\n", 16);
    close(peer);
    close(l);
    unlink(path);
    teardown_pool();
}

static void px_slots_init__resends_only_idempotent_methods(void **state)
{
    (void)state;
    static const struct {
        const char *method;
        int no_retry, resend;
    } cases[] = {
        {.method = "GET", .resend = 1},      {.method = "HEAD", .resend = 1},
        {.method = "PUT", .resend = 1},      {.method = "DELETE", .resend = 1},
        {.method = "OPTIONS", .resend = 1},  {.method = "TRACE", .resend = 1},
        {.method = "POST", .resend = 0},     {.method = "PATCH", .resend = 0},
        {.method = "PROPFIND", .resend = 0}, {.method = "GET", .no_retry = 1, .resend = 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup_pool(1);
        px_slots_release(&pool);
        cfg.method = cases[i].method;
        cfg.no_retry = cases[i].no_retry;
        struct px_slot_owner owner = pool.owner;
        assert_int_equal(px_slots_init(&pool, &owner, 1), 0);
        assert_int_equal(pool.resend, cases[i].resend);
        teardown_pool();
    }
}

int main(void)
{
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_slots_init__all_slots_idle_and_free),
        cmocka_unit_test(slot_set__keeps_busy_and_free_list_in_step),
        cmocka_unit_test(fail_at_once__counts_by_errno_and_tells_the_owner_once_idle),
        cmocka_unit_test(slot_fail__backs_off_only_when_a_retry_would_repeat),
        cmocka_unit_test(px_slot_pause__restarts_from_the_loop_after_the_back_off),
        cmocka_unit_test(px_slots_cancel__counts_what_was_in_flight_once),
        cmocka_unit_test(px_tally_backoff__local_and_routing_errors),
        cmocka_unit_test(px_slot_start__one_request_over_a_unix_socket),
        cmocka_unit_test(conn_lost__not_resent_is_closed_before_response),
        cmocka_unit_test(conn_lost__resend_connect_failure_keeps_its_errno),
        cmocka_unit_test(conn_lost__idempotent_request_resent_once_on_a_new_connection),
        cmocka_unit_test(px_slots_init__resends_only_idempotent_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
