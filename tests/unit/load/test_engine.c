/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the engine's face: whole runs against the built-in server on
 * a loopback port, read back through one snapshot. The numbers are exact: the
 * client's counts, the server's counts and the histograms agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/kernel/ceiling.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/sock.h"
#include "portex/load/engine.h"
#include "portex/load/load.h"
#include "portex/load/server.h"
#include "portex/load/tls.h"

struct target {
    struct px_server *srv;
    struct px_tls *tls; /* https: the server's context */
    struct px_load load;
};

/* A server on 127.0.0.1:0 (https when tls) and a load toward it, -n n over -c c. */
static void target_up(struct target *t, int tls, unsigned c, uint64_t n)
{
    char err[256] = "";
    memset(t, 0, sizeof(*t));
    struct px_server_config sc;
    px_server_config_defaults(&sc);
    sc.threads = 1;
    assert_int_equal(px_addr_parse("127.0.0.1:0", &sc.addr, &sc.addr_len, err, sizeof(err)), 0);
    if (tls) {
        struct px_tls_server_opts so = {0};
        t->tls = sc.tls = px_tls_server_new(&so, err, sizeof(err));
        assert_non_null(t->tls);
    }
    t->srv = px_server_new(&sc, err, sizeof(err));
    assert_non_null(t->srv);
    assert_int_equal(px_server_start(t->srv, err, sizeof(err)), 0);
    struct sockaddr_storage bound;
    px_server_address(t->srv, &bound);
    char url[64];
    snprintf(url, sizeof(url), "%s://127.0.0.1:%u/", tls ? "https" : "http",
             (unsigned)ntohs(((struct sockaddr_in *)&bound)->sin_port));
    px_load_defaults(&t->load);
    assert_int_equal(px_url_parse(url, &t->load.url, err, sizeof(err)), 0);
    t->load.target = bound;
    t->load.target_len = px_sock_addrlen(&bound);
    t->load.connections = c;
    t->load.threads = 2;
    t->load.requests = n;
    t->load.duration_ms = n ? 0 : t->load.duration_ms;
    t->load.tls_insecure = 1;
}

static void target_down(struct target *t, uint64_t *accepted, uint64_t *requests)
{
    px_server_stop(t->srv);
    px_server_counts(t->srv, accepted, requests);
    px_server_free(t->srv);
    px_tls_free(t->tls);
}

/* Runs the load to its end; the finished snapshot into snap (heap: about 80 kB). */
static struct px_engine_snapshot *run_load(const struct px_load *load)
{
    char err[256] = "";
    struct px_engine_snapshot *snap = malloc(sizeof(*snap));
    assert_non_null(snap);
    struct px_engine *e = px_engine_new(load, err, sizeof(err));
    assert_non_null(e);
    assert_int_equal(px_engine_start(e, err, sizeof(err)), 0);
    px_engine_wait(e);
    px_engine_snapshot(e, snap);
    px_engine_free(e);
    return snap;
}

static void px_engine_snapshot__short_connections_counted_exactly(void **state)
{
    (void)state;
    struct target t;
    target_up(&t, 0, 4, 40);
    struct px_engine_snapshot *s = run_load(&t.load);
    uint64_t accepted, requests;
    target_down(&t, &accepted, &requests);
    assert_true(s->finished);
    assert_int_equal(s->totals.started, 40);
    assert_int_equal(s->totals.ok, 40);
    assert_int_equal(s->totals.failed, 0);
    assert_int_equal(s->totals.status[2], 40);
    assert_int_equal(s->totals.connections_opened, 40);
    assert_int_equal(s->lat.total.count, 40);
    assert_int_equal(s->lat.connect.count, 40);
    assert_int_equal(s->lat.ttfb.count, 40);
    assert_int_equal(s->lat.tls.count, 0);
    assert_int_equal(accepted, 40);
    assert_int_equal(requests, 40);
    /* -n: the window ends at the last completion, so nothing drains. */
    assert_true(s->duration_s > 0);
    assert_true(s->drain_s == 0.0);
    assert_false(s->eaddr_seen);
    assert_int_not_equal(s->timestamps, PX_TS_UNKNOWN); /* TCP_INFO read on the first one */
    assert_string_equal(s->tls.version, "");
    free(s);
}

static void px_engine_snapshot__keepalive_opens_one_connection_per_slot(void **state)
{
    (void)state;
    struct target t;
    target_up(&t, 0, 3, 30);
    t.load.keepalive = 1;
    struct px_engine_snapshot *s = run_load(&t.load);
    uint64_t accepted, requests;
    target_down(&t, &accepted, &requests);
    assert_int_equal(s->totals.ok, 30);
    assert_int_equal(s->totals.connections_opened, 3);
    assert_int_equal(s->lat.connect.count, 3);
    assert_int_equal(accepted, 3);
    assert_int_equal(requests, 30);
    free(s);
}

static void px_engine_snapshot__https_handshakes_and_summary(void **state)
{
    (void)state;
    struct target t;
    target_up(&t, 1, 2, 12);
    t.load.tls_resume = 1;
    struct px_engine_snapshot *s = run_load(&t.load);
    uint64_t accepted, requests;
    target_down(&t, &accepted, &requests);
    assert_int_equal(s->totals.ok, 12);
    assert_int_equal(s->totals.connections_opened, 12);
    /* Every connection one handshake; the workers' first ones are full, the
     * rest offer the ticket they got. */
    assert_int_equal(s->totals.tls_full + s->totals.tls_resumed, 12);
    assert_true(s->totals.tls_full >= 1 && s->totals.tls_full <= 2);
    assert_int_equal(s->lat.tls.count, 12);
    assert_string_equal(s->tls.version, "TLSv1.3");
    assert_string_equal(s->tls.reason[0], "");
    assert_int_equal(accepted, 12);
    free(s);
}

static void px_engine_snapshot__open_model_takes_the_whole_timetable(void **state)
{
    (void)state;
    /* 1000/s for 200 ms over 2 workers: starts at 0..199 ms, 200 of them. */
    struct target t;
    target_up(&t, 0, 16, 0);
    t.load.rate_per_s = 1000;
    t.load.duration_ms = 200;
    struct px_engine_snapshot *s = run_load(&t.load);
    uint64_t accepted, requests;
    target_down(&t, &accepted, &requests);
    assert_int_equal(s->totals.started + s->totals.missed_starts, 200);
    assert_int_equal(s->totals.ok + s->totals.failed, s->totals.started);
    assert_int_equal(requests, s->totals.ok);
    assert_true(s->duration_s == 0.2); /* the window is -d, whatever drained after */
    free(s);
}

static void px_engine_stop__ends_the_window_early(void **state)
{
    (void)state;
    char err[256] = "";
    struct target t;
    target_up(&t, 0, 2, 0);
    t.load.duration_ms = 30000;
    struct px_engine_snapshot *s = malloc(sizeof(*s));
    assert_non_null(s);
    struct px_engine *e = px_engine_new(&t.load, err, sizeof(err));
    assert_non_null(e);
    assert_int_equal(px_engine_start(e, err, sizeof(err)), 0);
    /* While it runs: counters, but no window yet. */
    px_engine_snapshot(e, s);
    assert_false(s->finished);
    assert_true(s->duration_s == 0.0);
    px_engine_stop(e);
    while (!px_engine_done(e))
        usleep(1000);
    px_engine_wait(e);
    px_engine_snapshot(e, s);
    px_engine_free(e);
    uint64_t accepted, requests;
    target_down(&t, &accepted, &requests);
    assert_true(s->finished);
    assert_true(s->duration_s < 5.0);
    assert_int_equal(s->totals.ok + s->totals.failed, s->totals.started);
    assert_int_equal(requests, s->totals.ok);
    free(s);
}

/* What the reserve counts per worker thread is what px_engine_new really opens. */
static void px_engine_thread_fds__what_each_worker_holds(void **state)
{
    (void)state;
    int measured[2];
    for (int open = 0; open <= 1; open++) {
        char err[256] = "";
        struct px_load load;
        px_load_defaults(&load);
        assert_int_equal(px_url_parse("http://127.0.0.1:9/", &load.url, err, sizeof(err)), 0);
        load.threads = 3;
        load.connections = 3;
        load.rate_per_s = open ? 100 : 0;
        int per_thread = px_engine_thread_fds(&load);
        unsigned before = px_fd_count(PX_PROC, UINT32_MAX);

        struct px_engine *e = px_engine_new(&load, err, sizeof(err));
        unsigned after = px_fd_count(PX_PROC, UINT32_MAX);
        px_engine_free(e);

        assert_non_null(e);
        assert_true(per_thread >= 2); /* an epoll fd, the notify eventfd at least */
        assert_int_equal(after - before, 3 * (unsigned)per_thread);
        assert_int_equal(px_fd_count(PX_PROC, UINT32_MAX), before);
        measured[open] = per_thread;
    }
    /* The open model's precise timer is a timerfd more. */
    assert_int_equal(measured[1], measured[0] + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_engine_snapshot__short_connections_counted_exactly),
        cmocka_unit_test(px_engine_snapshot__keepalive_opens_one_connection_per_slot),
        cmocka_unit_test(px_engine_snapshot__https_handshakes_and_summary),
        cmocka_unit_test(px_engine_snapshot__open_model_takes_the_whole_timetable),
        cmocka_unit_test(px_engine_thread_fds__what_each_worker_holds),
        cmocka_unit_test(px_engine_stop__ends_the_window_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
