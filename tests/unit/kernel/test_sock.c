/* SPDX-License-Identifier: MIT */
/* Unit tests of the open-files arithmetic and the count of open fds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fakeproc.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/sock.h"

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
    /* Nothing fits: one connection on one thread, whatever happens. */
    threads = 4;
    assert_int_equal(px_sock_fit_nofile(8, &reserve, 500, &threads), 1);
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
        cmocka_unit_test(px_sock_fit_nofile__all_fit_nothing_changes),
        cmocka_unit_test(px_sock_fit_nofile__the_rest_after_threads_and_what_is_open),
        cmocka_unit_test(px_sock_fit_nofile__fewer_connections_than_threads_lower_both),
        cmocka_unit_test(px_fd_count__entries_but_the_one_reading_them),
        cmocka_unit_test(px_fd_count__real_process_sees_a_new_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
