/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of watching another network namespace from outside (root: a
 * child unshares one). The NAT ruleset is loaded there through libnftables,
 * and the host's ruleset must stay as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pxskip.h"
#include "portex/kernel/netns.h"
#include "portex/kernel/nft.h"

/* A child in a network namespace of its own, which loads rules (NULL: none) and
 * answers 'R' (or 'E'), then waits for its pipe to close. */
static pid_t ns_child(const char *rules, int *keep)
{
    int up[2], down[2];
    assert_int_equal(pipe2(up, O_CLOEXEC), 0);
    assert_int_equal(pipe2(down, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(up[0]);
        close(down[1]); /* else the read below never sees the parent's close */
        char err[512], c = 'R';
        if (unshare(CLONE_NEWNET) < 0 || (rules && px_nft_load(rules, err, sizeof(err)) < 0))
            c = 'E';
        if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
            _exit(3);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    char c = 0;
    assert_int_equal(read(up[0], &c, 1), 1);
    close(up[0]);
    assert_int_equal(c, 'R');
    *keep = down[1];
    return pid;
}

static void end_child(pid_t pid, int keep)
{
    close(keep);
    waitpid(pid, NULL, 0);
}

static void px_netns_watch__counts_inside_the_child(void **state)
{
    (void)state;
    if (geteuid() != 0)
        PX_SKIP("needs root for a network namespace");
    int keep;
    pid_t pid = ns_child(NULL, &keep);
    struct px_netns_watch w;
    assert_int_equal(px_netns_watch_start(&w, &pid, 1), 0);
    px_netns_watch_sample(&w);
    px_netns_watch_end(&w);
    /* A fresh namespace: nothing in TIME_WAIT, no TCP opened. */
    assert_int_equal(w.fig.time_wait_peak, 0);
    assert_int_equal(w.fig.tcp.active_opens, 0);
    assert_int_equal(w.diag_fd[0], -1);
    end_child(pid, keep);
}

/* The ruleset lands in the child's namespace only; the conntrack file is there to read. */
static void px_nft_load__in_the_child_only(void **state)
{
    (void)state;
    if (geteuid() != 0)
        PX_SKIP("needs root for a network namespace");
    int before = px_nft_has_nat();
    struct px_nft_snat s = {
        .oifname = "portex-m1", .port_lo = 40000, .port_hi = 40099, .naddrs = 1};
    char rules[512];
    assert_true(px_nft_snat_rules(&s, rules, sizeof(rules)) > 0);
    int keep;
    pid_t pid = ns_child(rules, &keep);
    assert_int_equal(px_nft_has_nat(), before);
    struct px_netns_watch w;
    assert_int_equal(px_netns_watch_start(&w, &pid, 1), 0);
    px_netns_watch_end(&w);
    assert_true(w.fig.have_conntrack);
    assert_int_equal(w.fig.ct.entries, 0);
    end_child(pid, keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_netns_watch__counts_inside_the_child),
        cmocka_unit_test(px_nft_load__in_the_child_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
