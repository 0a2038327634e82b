/* SPDX-License-Identifier: MIT */
/* Unit tests of the connect() tracer: events handed on in time order with enter and
 * exit paired (trace.c included for its statics), and a live count of this process's
 * own EADDRNOTAVAIL (root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pxskip.h"
#include "../../../src/kernel/trace.c"

/* What the callback saw. */
struct got {
    struct px_trace_event ev[16];
    char comm[16][16];
    size_t n;
    uint32_t pid;      /* live: count this process only */
    uint64_t eaddr;    /* live: its EADDRNOTAVAIL */
    uint64_t calls;    /* live: its connect() calls */
    uint64_t max_call; /* live: the longest, ns */
};

static void got_cb(const struct px_trace_event *ev, void *arg)
{
    struct got *g = arg;
    if (g->pid != 0) {
        if (ev->pid != g->pid)
            return;
        g->eaddr += ev->kind == PX_TRACE_EADDRNOTAVAIL;
        g->calls += ev->kind == PX_TRACE_CONNECT_CALL;
        if (ev->kind == PX_TRACE_CONNECT_CALL && ev->duration_ns > g->max_call)
            g->max_call = ev->duration_ns;
        return;
    }
    if (g->n < 16) {
        g->ev[g->n] = *ev;
        if (ev->comm)
            snprintf(g->comm[g->n], sizeof(g->comm[0]), "%s", ev->comm);
        g->n++;
    }
}

static void add(struct px_trace *t, int kind, uint32_t pid, uint32_t tid, uint64_t time_ns,
                const char *comm)
{
    struct rec *r = push_rec(t);
    r->kind = kind;
    r->pid = pid;
    r->tid = tid;
    r->time_ns = time_ns;
    if (comm)
        snprintf(r->comm, sizeof(r->comm), "%s", comm);
}

/* Records read CPU after CPU come out in time order; each exit closes its thread's enter,
 * even when the enter was read later; a thread's own name is not the process's. */
static void hand_on_until__time_order_and_pairs(void **state)
{
    (void)state;
    struct px_trace *t = calloc(1, sizeof(*t));
    add(t, EV_EXIT, 10, 11, 5000, NULL);   /* CPU 1: the exit of tid 11 ... */
    add(t, -1, 10, 10, 900, "python3");    /* CPU 1: the exec that named it */
    add(t, EV_EXIT99, 10, 11, 5000, NULL); /* the same call failed */
    add(t, EV_ENTER, 10, 11, 3000, NULL);  /* CPU 0: ... whose enter is read after it */
    add(t, -1, 10, 10, 100, "bash");       /* CPU 0: an earlier name */
    add(t, -1, 10, 12, 200, "worker");     /* a thread renamed itself */
    add(t, EV_EXIT, 20, 21, 6000, NULL);   /* an exit whose enter came before the start */
    add(t, EV_ENTER, 20, 21, 9000, NULL);  /* later than until: waits for the next drain */
    struct got g = {0};
    assert_int_equal(hand_on_until(t, 8000, got_cb, &g), 4);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.ev[0].kind, PX_TRACE_COMM);
    assert_string_equal(g.comm[0], "bash");
    assert_int_equal(g.ev[1].kind, PX_TRACE_COMM);
    assert_string_equal(g.comm[1], "python3");
    assert_int_equal(g.ev[2].kind, PX_TRACE_CONNECT_CALL);
    assert_int_equal(g.ev[2].duration_ns, 2000);
    assert_int_equal(g.ev[2].tid, 11);
    assert_int_equal(g.ev[3].kind, PX_TRACE_EADDRNOTAVAIL);
    assert_int_equal(g.ev[3].pid, 10);
    assert_int_equal(t->npending, 1);
    add(t, EV_EXIT, 20, 21, 9500, NULL);
    memset(&g, 0, sizeof(g));
    assert_int_equal(hand_on_until(t, UINT64_MAX, got_cb, &g), 1);
    assert_int_equal(g.ev[0].duration_ns, 500);
    assert_int_equal(t->npending, 0);
    free(t->pending);
    free(t);
}

/* One nonblocking connect() to the listener at addr; its errno, 0 when it went on. */
static int try_connect(const struct sockaddr_in *addr, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    /* IP_LOCAL_PORT_RANGE (6.3+): this socket may use one port only. */
    uint32_t range = ((uint32_t)port << 16) | port;
    setsockopt(fd, IPPROTO_IP, 51, &range, sizeof(range));
    int rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
    int err = rc < 0 && errno != EINPROGRESS ? errno : 0;
    if (err != 0)
        close(fd);
    return err == 0 ? -fd - 1 : err;
}

/* Live (root): the tracer counts exactly the EADDRNOTAVAIL this process got, and times
 * each of its connect() calls. */
static void px_trace_open__counts_own_failures(void **state)
{
    (void)state;
    char why[256];
    struct px_trace *t = px_trace_open(why, sizeof(why));
    if (t == NULL && geteuid() != 0) {
        print_message("tracing off: %s\n", why);
        PX_SKIP("needs root");
    }
    if (t == NULL)
        fail_msg("tracing off as root: %s", why);
    int fds[256];
    assert_true(px_trace_fds(t, fds, 256) >= 1);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(lfd, 16), 0);
    socklen_t alen = sizeof(addr);
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    /* The first socket takes the one port; the others find it taken toward addr. The
     * port lies inside the namespace's range, where a socket's own range applies. */
    unsigned lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%u %u", &lo, &hi), 2);
    fclose(f);
    uint16_t port = (uint16_t)(lo + (unsigned)getpid() % (hi - lo + 1));
    uint64_t mine = 0, calls = 0;
    int held[8], nheld = 0;
    for (int i = 0; i < 8; i++, calls++) {
        int rc = try_connect(&addr, port);
        if (rc < 0 && nheld < 8)
            held[nheld++] = -rc - 1;
        mine += rc == EADDRNOTAVAIL;
    }
    assert_true(mine >= 6);
    struct got g = {.pid = (uint32_t)getpid()};
    px_trace_drain(t, 1, got_cb, &g);
    assert_int_equal(g.eaddr, mine);
    assert_int_equal(g.calls, calls);
    assert_true(g.max_call > 0);
    assert_int_equal(px_trace_lost(t), 0);
    px_trace_close(t);
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_on_until__time_order_and_pairs),
        cmocka_unit_test(px_trace_open__counts_own_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
