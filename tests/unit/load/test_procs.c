/* SPDX-License-Identifier: MIT */
/* Unit tests of the per-process table built from tracer events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fakeproc.h"
#include "portex/kernel/trace.h"
#include "portex/load/hist.h"
#include "portex/load/procs.h"

static void event(struct px_procs *p, enum px_trace_kind kind, uint32_t pid, uint64_t t,
                  uint64_t dur_ns, const char *comm)
{
    struct px_trace_event ev = {
        .kind = kind, .pid = pid, .tid = pid, .time_ns = t, .duration_ns = dur_ns, .comm = comm};
    px_procs_event(&ev, p);
}

static int setup(void **state)
{
    char *dir = fakeproc_new();
    fakeproc_write(dir, "10/comm", "bash\n");
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    fakeproc_remove(*state);
    return 0;
}

/* Exact counts per process; the last tick's counts when a tick ends. */
static void px_procs_event__counts_per_process(void **state)
{
    struct px_procs *p = px_procs_new(*state);
    for (int i = 0; i < 7; i++)
        event(p, PX_TRACE_EADDRNOTAVAIL, 10, 100 + i, 0, NULL);
    event(p, PX_TRACE_CONNECT_CALL, 10, 200, 8000, NULL);
    event(p, PX_TRACE_CONNECT_CALL, 10, 201, 12000, NULL);
    event(p, PX_TRACE_CONNECT_CALL, 20, 202, 3000, NULL);
    const struct px_proc *r[4];
    assert_int_equal(px_procs_sorted(p, r, 4), 2);
    assert_int_equal(r[0]->pid, 10);
    assert_int_equal(r[0]->eaddrnotavail, 7);
    assert_int_equal(r[0]->calls, 2);
    assert_int_equal(r[0]->connect->max_us, 12);
    assert_int_equal(r[1]->pid, 20);
    assert_string_equal(r[1]->comm, "?"); /* gone before its name was read */
    int hot[4];
    assert_int_equal(px_procs_hot(p, hot, 4), 2);
    px_procs_end_tick(p);
    assert_int_equal(px_procs_eaddr_last(p), 7);
    assert_int_equal(r[0]->eaddr_last, 7);
    assert_int_equal(px_procs_hot(p, hot, 4), 0);
    px_procs_end_tick(p);
    assert_int_equal(px_procs_eaddr_last(p), 0);
    assert_int_equal(px_procs_eaddr_total(p), 7);
    assert_ptr_equal(px_procs_last_failing(p), r[0]);
    px_procs_free(p);
}

/* A name from /proc is stamped with its read time: an exec seen later replaces it, an
 * earlier one does not; a name seen before a process's first event is kept for it. */
static void px_procs_event__latest_name_wins(void **state)
{
    struct px_procs *p = px_procs_new(*state);
    event(p, PX_TRACE_EADDRNOTAVAIL, 10, 1000, 0, NULL);
    const struct px_proc *r[2];
    px_procs_sorted(p, r, 2);
    assert_string_equal(r[0]->comm, "bash");
    event(p, PX_TRACE_COMM, 10, 5, 0, "init"); /* older than the read */
    assert_string_equal(r[0]->comm, "bash");
    event(p, PX_TRACE_COMM, 10, r[0]->comm_ns + 1, 0, "python3");
    assert_string_equal(r[0]->comm, "python3");
    event(p, PX_TRACE_COMM, 30, 50, 0, "client99");
    event(p, PX_TRACE_EADDRNOTAVAIL, 30, 60, 0, NULL);
    assert_int_equal(px_procs_sorted(p, r, 2), 2);
    assert_int_equal(r[1]->pid, 30);
    assert_string_equal(r[1]->comm, "client99");
    px_procs_free(p);
}

static void fork_event(struct px_procs *p, uint32_t pid, uint32_t ppid, uint64_t t)
{
    struct px_trace_event ev = {.kind = PX_TRACE_FORK, .pid = pid, .tid = pid, .ppid = ppid,
                                .time_ns = t};
    px_procs_event(&ev, p);
}

/* A child that never execs bears its parent's name: known from a COMM record at the fork,
 * or read from the parent's /proc entry when the child was gone before its first event;
 * its own exec later still wins. */
static void px_procs_event__forked_child_has_parents_name(void **state)
{
    struct px_procs *p = px_procs_new(*state);
    event(p, PX_TRACE_COMM, 20, 5, 0, "nginx");
    fork_event(p, 21, 20, 6); /* pid 21 has no /proc entry: gone */
    fork_event(p, 40, 10, 7); /* pid 10 (bash) has one, 40 not */
    fork_event(p, 50, 99, 8); /* neither has one */
    event(p, PX_TRACE_EADDRNOTAVAIL, 21, 10, 0, NULL);
    event(p, PX_TRACE_EADDRNOTAVAIL, 40, 11, 0, NULL);
    event(p, PX_TRACE_EADDRNOTAVAIL, 50, 12, 0, NULL);
    const struct px_proc *r[3];
    assert_int_equal(px_procs_sorted(p, r, 3), 3);
    for (int i = 0; i < 3; i++) {
        const char *want = r[i]->pid == 21 ? "nginx" : r[i]->pid == 40 ? "bash" : "?";
        assert_string_equal(r[i]->comm, want);
    }
    event(p, PX_TRACE_COMM, 21, 20, 0, "worker");
    const struct px_proc *w = r[0]->pid == 21 ? r[0] : r[1]->pid == 21 ? r[1] : r[2];
    assert_string_equal(w->comm, "worker");
    px_procs_free(p);
}

/* Past PX_PROCS_MAX processes, new ones are summed under pid 0. */
static void px_procs_event__others_past_the_cap(void **state)
{
    struct px_procs *p = px_procs_new(*state);
    for (uint32_t pid = 1000; pid < 1000 + PX_PROCS_MAX + 5; pid++)
        event(p, PX_TRACE_EADDRNOTAVAIL, pid, 1, 0, NULL);
    assert_int_equal(px_procs_count(p), PX_PROCS_MAX + 1);
    const struct px_proc *r[1];
    px_procs_sorted(p, r, 1);
    assert_int_equal(r[0]->pid, 0);
    assert_string_equal(r[0]->comm, "(others)");
    assert_int_equal(r[0]->eaddrnotavail, 5);
    assert_int_equal(px_procs_eaddr_total(p), PX_PROCS_MAX + 5);
    px_procs_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(px_procs_event__counts_per_process, setup, teardown),
        cmocka_unit_test_setup_teardown(px_procs_event__latest_name_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(px_procs_event__forked_child_has_parents_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(px_procs_event__others_past_the_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
