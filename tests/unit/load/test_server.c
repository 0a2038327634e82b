/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the built-in server's listener pause. Like h2o's unit tests,
 * this file includes server.c to reach its statics: accept()'s failures are
 * fed to the listener's error callback with errno set, as libevent does; the
 * loops are not started, so the tests own the event bases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../src/load/server.c"

#include <sys/socket.h>

/* A server with one loop on 127.0.0.1:0, not started. */
static struct px_server *server_up(void)
{
    char err[256] = "";
    struct px_server_config cfg;
    px_server_config_defaults(&cfg);
    cfg.threads = 1;
    assert_int_equal(px_addr_parse("127.0.0.1:0", &cfg.addr, &cfg.addr_len, err, sizeof(err)), 0);
    struct px_server *s = px_server_new(&cfg, err, sizeof(err));
    assert_non_null(s);
    return s;
}

/* What libevent does when accept() fails with err. */
static void fail_accept(struct srv_listener *sl, int err)
{
    errno = err;
    accept_error_cb(sl->lev, sl);
}

static void backoff_next__doubles_from_10ms_to_1s(void **state)
{
    (void)state;
    const unsigned want[] = {10, 20, 40, 80, 160, 320, 640, 1000, 1000};
    unsigned ms = 0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ms = backoff_next(ms);
        assert_int_equal(ms, want[i]);
    }
}

static void accept_error_cb__emfile_pauses_and_doubles(void **state)
{
    (void)state;
    struct px_server *s = server_up();
    struct srv_listener *sl = &s->loops[0].listener;

    fail_accept(sl, EMFILE);
    fail_accept(sl, ENFILE);

    uint64_t n;
    int last;
    px_server_accept_errors(s, &n, &last);
    assert_int_equal(n, 2);
    assert_int_equal(last, ENFILE);
    assert_int_equal(sl->backoff_ms, 20);
    assert_true(evtimer_pending(sl->resume, NULL));
    px_server_free(s);
}

static void accept_error_cb__one_connection_errors_do_not_pause(void **state)
{
    (void)state;
    struct px_server *s = server_up();
    struct srv_listener *sl = &s->loops[0].listener;

    fail_accept(sl, EPROTO);
    fail_accept(sl, ENETUNREACH);

    uint64_t n;
    int last;
    px_server_accept_errors(s, &n, &last);
    assert_int_equal(n, 2);
    assert_int_equal(last, ENETUNREACH);
    assert_int_equal(sl->backoff_ms, 0);
    assert_false(evtimer_pending(sl->resume, NULL));
    px_server_free(s);
}

/* The pause ends from the loop (the listener accepts again) and an accepted
 * connection starts the next pause from 10 ms again. */
static void accept_cb__a_success_resets_the_back_off(void **state)
{
    (void)state;
    struct px_server *s = server_up();
    struct srv_loop *loop = &s->loops[0];
    struct srv_listener *sl = &loop->listener;
    fail_accept(sl, EMFILE);
    fail_accept(sl, EMFILE);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);

    event_base_loop(loop->base, EVLOOP_ONCE); /* the 20 ms timer, nothing queued */
    int resumed = !evtimer_pending(sl->resume, NULL);
    accept_cb(sl->lev, sv[0], NULL, 0, sl);
    fail_accept(sl, EMFILE);

    assert_true(resumed);
    assert_int_equal(PX_LOAD(loop->accepted), 1);
    assert_int_equal(sl->backoff_ms, 10);
    close(sv[1]);
    px_server_free(s); /* closes sv[0] with the connection */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_next__doubles_from_10ms_to_1s),
        cmocka_unit_test(accept_error_cb__emfile_pauses_and_doubles),
        cmocka_unit_test(accept_error_cb__one_connection_errors_do_not_pause),
        cmocka_unit_test(accept_cb__a_success_resets_the_back_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
