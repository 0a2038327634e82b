/* SPDX-License-Identifier: MIT */
/* Unit tests of the stop signals: blocked, then taken only by explicit waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "portex/base/stop.h"

static void px_stop_pending__takes_a_blocked_signal_once(void **state)
{
    (void)state;
    sigset_t set;
    px_stop_block(&set, NULL);
    assert_int_equal(px_stop_pending(&set), 0);

    kill(getpid(), SIGTERM); /* blocked: pending, not delivered */

    assert_int_equal(px_stop_pending(&set), 1);
    assert_int_equal(px_stop_pending(&set), 0);
}

static void px_stop_wait__times_out_without_a_signal(void **state)
{
    (void)state;
    sigset_t set;
    px_stop_block(&set, NULL);
    const struct timespec ms10 = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};

    int none = px_stop_wait(&set, &ms10);
    kill(getpid(), SIGINT);
    int one = px_stop_wait(&set, NULL);

    assert_int_equal(none, 0);
    assert_int_equal(one, 1);
}

static void px_stop_fd__polls_readable_while_a_stop_is_pending(void **state)
{
    (void)state;
    sigset_t set;
    px_stop_block(&set, NULL);
    int fd = px_stop_fd(&set);
    assert_true(fd >= 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0);

    kill(getpid(), SIGINT);
    int ready = poll(&p, 1, 1000);
    int taken = px_stop_pending(&set);
    int after = poll(&p, 1, 0);

    assert_int_equal(ready, 1);
    assert_int_equal(taken, 1);
    assert_int_equal(after, 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_stop_pending__takes_a_blocked_signal_once),
        cmocka_unit_test(px_stop_wait__times_out_without_a_signal),
        cmocka_unit_test(px_stop_fd__polls_readable_while_a_stop_is_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
