/* SPDX-License-Identifier: MIT */
/* Unit tests of kernel/sock: the probe connect and the choice of a target's address (on
 * loopback), and the open-files arithmetic and the count of open fds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fakeproc.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "portex/kernel/sock.h"

/* A listener on 127.0.0.1 and a port nobody listens on (bound, never listening). */
struct ports {
    int lfd, closed_fd;
    struct px_url_addr open, closed;
};

static void loopback_addr(int fd, struct px_url_addr *a)
{
    struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
    memset(a, 0, sizeof(*a));
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->len = sizeof(*in);
    assert_int_equal(bind(fd, (struct sockaddr *)in, a->len), 0);
    getsockname(fd, (struct sockaddr *)in, &a->len);
    a->probe = PX_ADDR_NOT_TRIED;
}

static void ports_open(struct ports *p)
{
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    loopback_addr(p->lfd, &p->open);
    assert_int_equal(listen(p->lfd, 16), 0);
    /* Bound without listen(): the port stays taken and every SYN to it gets RST. */
    p->closed_fd = socket(AF_INET, SOCK_STREAM, 0);
    loopback_addr(p->closed_fd, &p->closed);
}

static void ports_close(struct ports *p)
{
    close(p->lfd);
    close(p->closed_fd);
}

/* A listener answers; the probe resets its connection, so no TIME_WAIT is left toward it. */
static void px_sock_probe__answered_refused_and_no_time_wait(void **state)
{
    (void)state;
    struct ports p;
    ports_open(&p);
    const struct sockaddr *open = (const struct sockaddr *)&p.open.ss;
    assert_int_equal(px_sock_probe(open, p.open.len, 1000), PX_ADDR_ANSWERED);
    assert_int_equal(px_sock_probe((const struct sockaddr *)&p.closed.ss, p.closed.len, 1000),
                     ECONNREFUSED);
    assert_int_equal(px_diag_time_wait_toward(open), 0);
    ports_close(&p);
}

/* In order until one answers; the ones after it are not tried; none answering gives the first. */
static void px_sock_pick__first_that_answers(void **state)
{
    (void)state;
    struct ports p;
    ports_open(&p);
    struct px_url_addr a[3] = {p.closed, p.open, p.closed};
    assert_int_equal(px_sock_pick(a, 3, 1000), 1);
    assert_int_equal(a[0].probe, ECONNREFUSED);
    assert_int_equal(a[1].probe, PX_ADDR_ANSWERED);
    assert_int_equal(a[2].probe, PX_ADDR_NOT_TRIED);
    struct px_url_addr none[2] = {p.closed, p.closed};
    assert_int_equal(px_sock_pick(none, 2, 1000), 0);
    assert_int_equal(none[0].probe, ECONNREFUSED);
    assert_int_equal(none[1].probe, ECONNREFUSED);
    /* A lone address is the run's anyway: not probed. */
    struct px_url_addr lone[1] = {p.closed};
    assert_int_equal(px_sock_pick(lone, 1, 1000), 0);
    assert_int_equal(lone[0].probe, PX_ADDR_NOT_TRIED);
    ports_close(&p);
}

/* 3 open, 1 output file and the stats thread's 2 to come, 4 per worker thread. */
static const struct px_fd_reserve reserve = {.open_now = 3, .later = 3, .per_thread = 4};

static void px_sock_fit_nofile__all_fit_nothing_changes(void **state)
{
    (void)state;
    unsigned threads = 2;
    /* 3 + 3 + 2 x 4 + 50 = 64: exactly the limit. */
    assert_int_equal(px_sock_fit_nofile(64, &reserve, 50, &threads), 50);
    assert_int_equal(threads, 2);
    assert_int_equal(px_sock_fit_nofile(RLIM_INFINITY, &reserve, 1000000, &threads), 1000000);
}

static void px_sock_fit_nofile__the_rest_after_threads_and_what_is_open(void **state)
{
    (void)state;
    unsigned threads = 2;
    /* The case: a 64-fd limit and -c 500 fit 50 beside 14 fds, not 1. */
    assert_int_equal(px_sock_fit_nofile(64, &reserve, 500, &threads), 50);
    assert_int_equal(threads, 2);
    assert_int_equal(px_sock_fit_nofile(65, &reserve, 500, &threads), 51);
}

static void px_sock_fit_nofile__fewer_connections_than_threads_lower_both(void **state)
{
    (void)state;
    unsigned threads = 40;
    /* 58 fds for threads and connections, 5 each (a loop and a socket): 11 of both. */
    assert_int_equal(px_sock_fit_nofile(64, &reserve, 500, &threads), 11);
    assert_int_equal(threads, 11);
}

static void px_sock_fit_nofile__none_when_one_connection_does_not_fit(void **state)
{
    (void)state;
    unsigned threads = 4;
    /* 6 held, 4 for a loop, 1 for a socket: 11. A limit of 10 fits none (the run
     * would fail every request with EMFILE), 11 fits one on one thread. */
    assert_int_equal(px_sock_fit_nofile(10, &reserve, 500, &threads), 0);
    assert_int_equal(px_sock_fit_nofile(8, &reserve, 500, &threads), 0);
    assert_int_equal(px_sock_fit_nofile(11, &reserve, 500, &threads), 1);
    assert_int_equal(threads, 1);
}

static void px_fd_count__entries_but_the_one_reading_them(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    assert_non_null(dir);
    fakeproc_write(dir, "self/fd/0", "");
    fakeproc_write(dir, "self/fd/1", "");
    fakeproc_write(dir, "self/fd/2", "");
    assert_int_equal(px_fd_count(dir, 64), 3);
    fakeproc_remove(dir);
}

static void px_fd_count__real_process_sees_a_new_pipe(void **state)
{
    (void)state;
    unsigned before = px_fd_count(PX_PROC, 1024);
    int p[2];
    assert_int_equal(pipe(p), 0);
    unsigned with_proc = px_fd_count(PX_PROC, 1024);
    /* Without /proc, fcntl finds the same fds. */
    unsigned probed = px_fd_count("/nonexistent", 1024);
    close(p[0]);
    close(p[1]);
    assert_int_equal(with_proc, before + 2);
    assert_int_equal(probed, with_proc);
    assert_true(before >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_sock_probe__answered_refused_and_no_time_wait),
        cmocka_unit_test(px_sock_pick__first_that_answers),
        cmocka_unit_test(px_sock_fit_nofile__all_fit_nothing_changes),
        cmocka_unit_test(px_sock_fit_nofile__the_rest_after_threads_and_what_is_open),
        cmocka_unit_test(px_sock_fit_nofile__fewer_connections_than_threads_lower_both),
        cmocka_unit_test(px_sock_fit_nofile__none_when_one_connection_does_not_fit),
        cmocka_unit_test(px_fd_count__entries_but_the_one_reading_them),
        cmocka_unit_test(px_fd_count__real_process_sees_a_new_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
