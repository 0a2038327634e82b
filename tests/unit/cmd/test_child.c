/* SPDX-License-Identifier: MIT */
/* Unit tests of the lab's child processes: status bytes and the parent's waits on signals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portex/base/stop.h"
#include "portex/cmd/child.h"

/* A child that waits 2 s for a stop, then answers 'D' (or 'X' without one) and two bytes. */
static void answer_after_stop(int up_fd)
{
    sigset_t set;
    px_stop_set(&set);
    const struct timespec two_s = {.tv_sec = 2, .tv_nsec = 0};
    px_child_send(up_fd, px_stop_wait(&set, &two_s) ? 'D' : 'X');
    px_child_write_all(up_fd, "ok", 2);
    _exit(0);
}

static void px_child_read__a_stop_is_passed_on_and_the_read_goes_on(void **state)
{
    (void)state;
    sigset_t set;
    px_stop_block(&set, NULL);
    struct px_child c;
    memset(&c, -1, sizeof(c));
    if (px_child_spawn(&c) == 0)
        answer_after_stop(c.up[1]);
    assert_true(c.pid > 0);
    struct px_child_waits w;
    assert_int_equal(px_child_waits_open(&w), 0);
    w.forward[0] = c.pid;

    kill(getpid(), SIGTERM); /* the parent is stopped; the child hears SIGINT from it */
    char err[128] = "", data[3] = "";
    int rc = px_child_expect(&w, c.up[0], 'D', err, sizeof(err), "child");
    int rc_data = px_child_read(&w, c.up[0], data, 2);

    assert_int_equal(rc, 0);
    assert_int_equal(rc_data, 0);
    assert_string_equal(data, "ok");
    assert_int_equal(w.stopped, 1);
    assert_int_equal(px_child_stopped(&w), 1); /* stays stopped */
    px_child_end(&c, 0);
    px_child_waits_close(&w);
}

static void px_child_expect__the_childs_message_or_ended_early(void **state)
{
    (void)state;
    struct px_child failing, silent;
    memset(&failing, -1, sizeof(failing));
    memset(&silent, -1, sizeof(silent));
    if (px_child_spawn(&failing) == 0)
        px_child_fail(failing.up[1], "server veth", ENOENT);
    if (px_child_spawn(&silent) == 0)
        _exit(3);
    struct px_child_waits w;
    assert_int_equal(px_child_waits_open(&w), 0);

    char err1[128] = "", err2[128] = "";
    int rc1 = px_child_expect(&w, failing.up[0], 'R', err1, sizeof(err1), "server namespace");
    int rc2 = px_child_expect(&w, silent.up[0], 'R', err2, sizeof(err2), "client namespace");

    assert_int_equal(rc1, -1);
    assert_string_equal(err1, "server namespace: server veth: No such file or directory");
    assert_int_equal(rc2, -1);
    assert_string_equal(err2, "client namespace ended early");
    assert_int_equal(w.stopped, 0);
    px_child_end(&failing, 0);
    px_child_end(&silent, 0);
    px_child_waits_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_child_read__a_stop_is_passed_on_and_the_read_goes_on),
        cmocka_unit_test(px_child_expect__the_childs_message_or_ended_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
