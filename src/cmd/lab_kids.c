/* SPDX-License-Identifier: MIT */
/*
 * One lab mode from the parent's side. Order: fork every process (each
 * unshares and says 'R'), make the veth pairs straight into their namespaces
 * (IFLA_NET_NS_PID), 'G' to all; the server and the middle set up and say
 * 'L'; the parent opens a sock_diag socket in every namespace and reads their
 * counters; a second 'G' starts the clients; while they run, every
 * PX_CHILD_TICK_MS the parent samples TIME_WAIT and conntrack in each
 * namespace; their results come back as data; counters are read again.
 */
#include "portex/cmd/lab_kids.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portex/cmd/lab_nginx.h"
#include "portex/cmd/lab_proc.h"
#include "portex/kernel/netlink.h"
#include "portex/kernel/netns.h"
#include "portex/load/combine.h"
#include "portex/load/result.h"
#include "portex/load/result_decode.h"

_Static_assert(PX_LAB_MAX_HOSTS <= PX_CHILD_FORWARD_MAX, "every client host is told of a stop");
_Static_assert(PX_LAB_MAX_HOSTS <= PX_NETNS_WATCH_MAX, "every client host is watched");

#define SETTLE_MS 150 /* after the clients' results: the last FINs reach TIME_WAIT */

/* The processes of one mode, and the watches on their namespaces. */
struct kids {
    const struct px_lab_config *lab;
    const struct px_mode *m;
    const char *nginx;
    const struct px_lab_live *live;
    unsigned n; /* clients */
    struct px_child server, middle, client[PX_LAB_MAX_HOSTS];
    struct px_child_waits *waits;   /* the parent's, which passes a stop on to the clients */
    struct px_netns_watch watch[3]; /* clients, middle, server */
    int watching;
};

enum { W_CLIENT, W_MIDDLE, W_SERVER };

static int has_middle(const struct kids *k)
{
    return k->m->middle != PX_MIDDLE_NONE;
}

/* In a newly forked child: the parent's signalfd is not its own; then its part. */
__attribute__((noreturn)) static void child_run(struct kids *k, const struct px_child *c,
                                                unsigned host, pid_t parent,
                                                void (*fn)(const struct px_lab_proc *))
{
    px_child_waits_close(k->waits);
    struct px_lab_proc p = {.lab = k->lab,
                            .mode = k->m,
                            .host = host,
                            .parent = parent,
                            .nginx = k->nginx,
                            .live = k->live,
                            .down_fd = c->down[0],
                            .up_fd = c->up[1]};
    fn(&p);
    _exit(3);
}

static int fork_all(struct kids *k, char *err, size_t errlen)
{
    pid_t me = getpid();
    if (px_child_spawn(&k->server) == 0)
        child_run(k, &k->server, 0, me, px_lab_server_main);
    if (k->server.pid > 0 && has_middle(k) && px_child_spawn(&k->middle) == 0)
        child_run(k, &k->middle, 0, me, px_lab_middle_main);
    int ok = k->server.pid > 0 && (!has_middle(k) || k->middle.pid > 0);
    for (unsigned i = 0; i < k->n && ok; i++) {
        struct px_child *c = &k->client[i];
        if (px_child_spawn(c) == 0)
            child_run(k, c, i, me, px_lab_client_main);
        ok = c->pid > 0;
        k->waits->forward[i] = ok ? c->pid : 0;
    }
    if (!ok)
        snprintf(err, errlen, "cannot fork the lab's processes: %s", strerror(errno));
    return ok ? 0 : -1;
}

static int veth(const char *a, pid_t pid_a, const char *b, pid_t pid_b, char *err, size_t errlen)
{
    int nl = px_rtnl_veth_create(a, pid_a, b, pid_b);
    if (nl < 0)
        snprintf(err, errlen, "cannot create the veth pair %s-%s: %s", a, b, strerror(-nl));
    return nl < 0 ? -1 : 0;
}

/* Every process in its namespace, joined: client(s) to the server, or client to
 * middle to server. */
static int kids_spawn(struct kids *k, char *err, size_t errlen)
{
    if (fork_all(k, err, errlen) < 0 ||
        px_child_expect(k->waits, k->server.up[0], 'R', err, errlen, "server namespace") < 0)
        return -1;
    if (has_middle(k) &&
        px_child_expect(k->waits, k->middle.up[0], 'R', err, errlen, "middle namespace") < 0)
        return -1;
    for (unsigned i = 0; i < k->n; i++)
        if (px_child_expect(k->waits, k->client[i].up[0], 'R', err, errlen, "client namespace") < 0)
            return -1;
    if (has_middle(k))
        return veth(PX_LAB_CLIENT_IF, k->client[0].pid, PX_LAB_MIDDLE_C_IF, k->middle.pid, err,
                    errlen) < 0 ||
                       veth(PX_LAB_MIDDLE_S_IF, k->middle.pid, PX_LAB_SERVER_IF, k->server.pid, err,
                            errlen) < 0
                   ? -1
                   : 0;
    for (unsigned i = 0; i < k->n; i++) {
        char peer[24] = PX_LAB_SERVER_IF;
        if (k->n > 1)
            snprintf(peer, sizeof(peer), PX_LAB_SERVER_IF "%u", i);
        if (veth(PX_LAB_CLIENT_IF, k->client[i].pid, peer, k->server.pid, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* A child's pipe broke before it was told to go: it ended early. -1 with err. */
static int gone(char *err, size_t errlen)
{
    snprintf(err, errlen, "a lab process ended early (%s)", strerror(errno));
    return -1;
}

static int say_go(int fd)
{
    char go = 'G';
    return write(fd, &go, 1) == 1 ? 0 : -1;
}

/* Every namespace's baseline, and a sample on every tick of the parent's waits. */
static void tick_cb(void *arg)
{
    struct kids *k = arg;
    for (int i = 0; i < 3; i++)
        px_netns_watch_sample(&k->watch[i]);
}

static int watch_start(struct kids *k, char *err, size_t errlen)
{
    pid_t clients[PX_LAB_MAX_HOSTS];
    for (unsigned i = 0; i < k->n; i++)
        clients[i] = k->client[i].pid;
    k->watching = 1; /* from here kids_end closes what was opened */
    if (px_netns_watch_start(&k->watch[W_CLIENT], clients, k->n) < 0 ||
        (has_middle(k) && px_netns_watch_start(&k->watch[W_MIDDLE], &k->middle.pid, 1) < 0) ||
        px_netns_watch_start(&k->watch[W_SERVER], &k->server.pid, 1) < 0) {
        snprintf(err, errlen, "cannot watch the lab's namespaces (setns): %s", strerror(errno));
        return -1;
    }
    k->waits->tick = tick_cb;
    k->waits->tick_arg = k;
    return 0;
}

/* Sets up, then starts every client; hosts share one wall-clock start. */
static int kids_go(struct kids *k, char *err, size_t errlen)
{
    if (say_go(k->server.down[1]) < 0 || (has_middle(k) && say_go(k->middle.down[1]) < 0))
        return gone(err, errlen);
    for (unsigned i = 0; i < k->n; i++)
        if (say_go(k->client[i].down[1]) < 0)
            return gone(err, errlen);
    if (px_child_expect(k->waits, k->server.up[0], 'L', err, errlen, "server") < 0 ||
        (has_middle(k) && px_child_expect(k->waits, k->middle.up[0], 'L', err, errlen,
                                          k->m->middle == PX_MIDDLE_NAT ? "NAT" : "proxy") < 0))
        return -1;
    if (watch_start(k, err, errlen) < 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t at = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + 200000000;
    for (unsigned i = 0; i < k->n; i++)
        if (say_go(k->client[i].down[1]) < 0 ||
            (k->n > 1 && px_child_write_all(k->client[i].down[1], &at, sizeof(at)) < 0))
            return gone(err, errlen);
    return 0;
}

/* The client's result (a length, then the result document) into a new *run. */
static int kid_result(struct kids *k, unsigned i, struct px_run **run, char *err, size_t errlen)
{
    int fd = k->client[i].up[0];
    if (px_child_expect(k->waits, fd, 'D', err, errlen, "client") < 0)
        return -1;
    uint64_t len = 0;
    char *text = NULL;
    int rc = -1;
    if (px_child_read(k->waits, fd, &len, sizeof(len)) < 0 || len > ((uint64_t)1 << 32) ||
        (text = malloc(len + 1)) == NULL || px_child_read(k->waits, fd, text, len) < 0) {
        snprintf(err, errlen, "client result lost");
        goto out;
    }
    char msg[200];
    if ((*run = px_result_decode_text(text, len, msg, sizeof(msg))) == NULL) {
        snprintf(err, errlen, "client result unreadable: %s", msg);
        goto out;
    }
    px_metrics_begin(k->live->metrics, k->live->label, (*run)->load); /* its final values */
    px_metrics_set_run(k->live->metrics, *run);
    rc = 0;
out:
    free(text);
    return rc;
}

/* Several hosts: their results merged as `portex merge` does. */
static int kids_merge(struct kids *k, struct px_mode_result *res, char *err, size_t errlen)
{
    struct px_run *runs[PX_LAB_MAX_HOSTS] = {NULL};
    const struct px_run *parts[PX_LAB_MAX_HOSTS];
    const char *names[PX_LAB_MAX_HOSTS] = {"host 0", "host 1", "host 2", "host 3",
                                           "host 4", "host 5", "host 6", "host 7"};
    int rc = -1;
    for (unsigned i = 0; i < k->n; i++) {
        if (kid_result(k, i, &runs[i], err, errlen) < 0)
            goto out;
        parts[i] = runs[i];
    }
    if (px_combine_check(parts, names, k->n, err, errlen) < 0)
        goto out;
    if ((res->run = px_combine_runs(parts, k->n)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    for (unsigned i = 0; i < k->n; i++)
        px_run_free(runs[i]);
    return rc;
}

/* The last FINs settle, sampled meanwhile; then every namespace's deltas into res. */
static void kids_measure(struct kids *k, struct px_mode_result *res)
{
    for (int t = 0; t < SETTLE_MS; t += 25) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 25000000};
        nanosleep(&ts, NULL);
        tick_cb(k);
    }
    struct px_middle_figures *f = &res->fig;
    for (int i = 0; i < 3; i++)
        px_netns_watch_end(&k->watch[i]);
    k->watching = 0;
    f->measured = 1;
    f->has_middle = has_middle(k);
    f->client = k->watch[W_CLIENT].fig;
    f->middle = k->watch[W_MIDDLE].fig;
    f->server = k->watch[W_SERVER].fig;
    f->upstream_eaddrnotavail = -1;
    if (k->m->middle == PX_MIDDLE_PROXY) {
        /* The log is in the middle's own tmpfs: its mount namespace, seen through its root. */
        char path[128];
        snprintf(path, sizeof(path), "/proc/%d/root" PX_NGINX_LOG, (int)k->middle.pid);
        f->upstream_eaddrnotavail = px_nginx_count_eaddrnotavail(path);
    }
}

static void kids_end(struct kids *k, int failed)
{
    k->waits->tick = NULL;
    for (int i = 0; k->watching && i < 3; i++)
        px_netns_watch_close(&k->watch[i]);
    for (unsigned i = 0; i < PX_CHILD_FORWARD_MAX; i++)
        k->waits->forward[i] = 0;
    for (unsigned i = 0; i < k->n; i++) {
        if (k->client[i].down[1] >= 0 && write(k->client[i].down[1], "Q", 1) < 0)
            failed = 1; /* it is gone already, or will be killed */
        px_child_end(&k->client[i], failed ? SIGKILL : 0);
    }
    px_child_end(&k->middle, SIGTERM);
    px_child_end(&k->server, SIGTERM);
}

int px_lab_kids_run(const struct px_lab_config *lab, const struct px_mode *m, const char *nginx,
                    const struct px_lab_live *live, struct px_child_waits *waits,
                    struct px_mode_result *res, char *err, size_t errlen)
{
    struct kids k;
    memset(&k, -1, sizeof(k)); /* every pid and fd -1 */
    k.lab = lab;
    k.m = m;
    k.nginx = nginx;
    k.live = live;
    k.waits = waits;
    k.n = has_middle(&k) ? 1 : px_lab_hosts(m);
    k.watching = 0;
    memset(k.watch, 0, sizeof(k.watch));
    int rc = -1;
    if (kids_spawn(&k, err, errlen) < 0 || kids_go(&k, err, errlen) < 0)
        goto out;
    if (k.n > 1)
        rc = kids_merge(&k, res, err, errlen);
    else
        rc = kid_result(&k, 0, &res->run, err, errlen);
    if (rc == 0)
        kids_measure(&k, res);
out:
    kids_end(&k, rc < 0);
    return rc;
}
