/* SPDX-License-Identifier: MIT */
/* Unit tests of socket owners over a fake /proc tree whose fd links name sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakeproc.h"
#include "portex/kernel/owners.h"

/* /<dir>/<pid>/fd/<fd> -> target (dangling, as /proc's socket links read). */
static void fd_link(const char *dir, int pid, int fd, const char *target)
{
    char rel[64], path[512];
    snprintf(rel, sizeof(rel), "%d/fd/.keep", pid);
    fakeproc_write(dir, rel, "");
    snprintf(path, sizeof(path), "%s/%d/fd/%d", dir, pid, fd);
    assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
    char *dir = fakeproc_new();
    fd_link(dir, 100, 3, "socket:[555]");
    fd_link(dir, 100, 4, "/dev/null");
    fd_link(dir, 100, 5, "pipe:[556]");
    fd_link(dir, 200, 0, "socket:[777]");
    fakeproc_write(dir, "100/comm", "python3\n");
    fakeproc_write(dir, "self", "not a pid");
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    fakeproc_remove(*state);
    return 0;
}

/* A full scan maps every socket link to its process and nothing else. */
static void px_owners_scan_all__maps_socket_links(void **state)
{
    struct px_owners *o = px_owners_new(*state);
    assert_int_equal(px_owners_scan_all(o), 2);
    assert_int_equal(px_owners_pid(o, 555), 100);
    assert_int_equal(px_owners_pid(o, 777), 200);
    assert_int_equal(px_owners_pid(o, 556), 0);
    assert_int_equal(px_owners_pid(o, 0), 0);
    px_owners_free(o);
}

/* The first unknown socket scans everything at once; later ones wait for a second tick,
 * then the hot pids are read before any full scan, and full scans keep their gap. */
static void px_owners_resolve__two_ticks_hot_first_then_full(void **state)
{
    const char *dir = *state;
    struct px_owners *o = px_owners_new(dir);
    uint32_t u1[] = {555};
    assert_int_equal(px_owners_resolve(o, u1, 1, NULL, 0, 0), 1);
    assert_int_equal(px_owners_pid(o, 555), 100);
    fd_link(dir, 200, 1, "socket:[888]");
    uint32_t u2[] = {888};
    int hot[] = {200};
    assert_int_equal(px_owners_resolve(o, u2, 1, hot, 1, 1000000), 0); /* once: wait */
    assert_int_equal(px_owners_pid(o, 888), 0);
    assert_int_equal(px_owners_resolve(o, u2, 1, hot, 1, 2000000), 1); /* twice: pid 200 */
    assert_int_equal(px_owners_pid(o, 888), 200);
    struct px_owners_stats st;
    px_owners_stats(o, &st);
    assert_int_equal(st.full_scans, 1);
    assert_int_equal(st.pid_scans, 1);
    fd_link(dir, 100, 6, "socket:[999]");
    uint32_t u3[] = {999};
    px_owners_resolve(o, u3, 1, NULL, 0, 2100000);
    assert_int_equal(px_owners_resolve(o, u3, 1, NULL, 0, 2200000), 0); /* full scan gap */
    assert_int_equal(px_owners_pid(o, 999), 0);
    assert_int_equal(px_owners_resolve(o, u3, 1, NULL, 0, 5100000), 1);
    assert_int_equal(px_owners_pid(o, 999), 100);
    assert_int_equal(px_owners_pid(o, 888), 200);
    px_owners_stats(o, &st);
    assert_int_equal(st.full_scans, 2);
    px_owners_free(o);
}

/* An inode seen in one tick only (a connection already gone) never costs a scan. */
static void px_owners_resolve__one_tick_unknown_costs_nothing(void **state)
{
    struct px_owners *o = px_owners_new(*state);
    uint32_t u1[] = {555};
    px_owners_resolve(o, u1, 1, NULL, 0, 0);
    for (uint32_t i = 0; i < 20; i++) {
        uint32_t u[] = {10000 + i};
        px_owners_resolve(o, u, 1, NULL, 0, 10000000ull * (i + 1));
    }
    struct px_owners_stats st;
    px_owners_stats(o, &st);
    assert_int_equal(st.full_scans, 1);
    assert_int_equal(st.pid_scans, 0);
    px_owners_free(o);
}

static void px_owners_comm__reads_and_gone(void **state)
{
    char comm[16];
    assert_int_equal(px_owners_comm(*state, 100, comm, sizeof(comm)), 0);
    assert_string_equal(comm, "python3");
    assert_int_equal(px_owners_comm(*state, 300, comm, sizeof(comm)), -1);
}

/* Live: this process's own socket is found under the real /proc. */
static void px_owners_scan_pid__own_socket(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    struct px_owners *o = px_owners_new("/proc");
    assert_true(px_owners_scan_pid(o, getpid()) >= 1);
    assert_int_equal(px_owners_pid(o, (uint32_t)st.st_ino), getpid());
    px_owners_free(o);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(px_owners_scan_all__maps_socket_links, setup, teardown),
        cmocka_unit_test_setup_teardown(px_owners_resolve__two_ticks_hot_first_then_full, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(px_owners_resolve__one_tick_unknown_costs_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(px_owners_comm__reads_and_gone, setup, teardown),
        cmocka_unit_test(px_owners_scan_pid__own_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
