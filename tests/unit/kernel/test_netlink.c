/* SPDX-License-Identifier: MIT */
/* Unit tests of the sock_diag request and reply parsing, and exact live dumps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portex/kernel/kernel.h"
#include "portex/kernel/netlink.h"
#include "pxskip.h"

static void px_diag_build_request__time_wait_dump(void **state)
{
    (void)state;
    _Alignas(struct nlmsghdr) char buf[128];
    size_t n = px_diag_build_request(buf, sizeof(buf), AF_INET6, PX_DIAG_STATE(TCP_TIME_WAIT), 7);
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    const struct inet_diag_req_v2 *r = NLMSG_DATA(h);
    assert_int_equal(n, sizeof(*h) + sizeof(*r));
    assert_int_equal(h->nlmsg_len, n);
    assert_int_equal(h->nlmsg_type, SOCK_DIAG_BY_FAMILY);
    assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    assert_int_equal(h->nlmsg_seq, 7);
    assert_int_equal(r->sdiag_family, AF_INET6);
    assert_int_equal(r->sdiag_protocol, IPPROTO_TCP);
    assert_int_equal(r->idiag_states, 1u << 6);
    assert_int_equal(r->idiag_ext, 0);
    assert_int_equal(px_diag_build_request(buf, 8, AF_INET, 1, 1), 0);
}

/* AF_UNSPEC: the v1 request, which the kernel dumps for both families in one walk. */
static void px_diag_build_request__both_families_in_one_walk(void **state)
{
    (void)state;
    _Alignas(struct nlmsghdr) char buf[128];
    size_t n = px_diag_build_request(buf, sizeof(buf), AF_UNSPEC, PX_DIAG_STATES_ALL, 3);
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    const struct inet_diag_req *r = NLMSG_DATA(h);
    assert_int_equal(n, sizeof(*h) + sizeof(*r));
    assert_int_equal(h->nlmsg_type, TCPDIAG_GETSOCK);
    assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    assert_int_equal(r->idiag_states, 0x1ffe);
    assert_int_equal(px_diag_build_request(buf, 20, AF_UNSPEC, 1, 1), 0);
}

/* A reply under construction, aligned for the headers cast into it. */
struct reply {
    _Alignas(struct nlmsghdr) char buf[4096];
    size_t len;
};

/* Appends one SOCK_DIAG_BY_FAMILY record (IPv4, 10.0.0.1:sport -> dst:dport). */
static struct inet_diag_msg *add_record(struct reply *r, const char *dst, uint16_t dport,
                                        uint8_t st)
{
    struct nlmsghdr *h = (struct nlmsghdr *)(r->buf + r->len);
    memset(h, 0, NLMSG_SPACE(sizeof(struct inet_diag_msg)));
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_msg));
    h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    h->nlmsg_seq = 9;
    struct inet_diag_msg *m = NLMSG_DATA(h);
    m->idiag_family = AF_INET;
    m->idiag_state = st;
    m->id.idiag_sport = htons(40000);
    m->id.idiag_dport = htons(dport);
    inet_pton(AF_INET, "10.0.0.1", &m->id.idiag_src[0]);
    inet_pton(AF_INET, dst, &m->id.idiag_dst[0]);
    r->len += NLMSG_SPACE(sizeof(struct inet_diag_msg));
    return m;
}

static void add_done(struct reply *r)
{
    struct nlmsghdr *h = (struct nlmsghdr *)(r->buf + r->len);
    memset(h, 0, NLMSG_SPACE(sizeof(int)));
    h->nlmsg_len = NLMSG_LENGTH(sizeof(int));
    h->nlmsg_type = NLMSG_DONE;
    h->nlmsg_seq = 9;
    r->len += NLMSG_SPACE(sizeof(int));
}

/* What the test callbacks saw. */
struct seen {
    const struct sockaddr *dst;
    uint64_t records, toward, time_wait;
    struct px_diag_sock last;
};

static void seen_cb(const struct px_diag_sock *sk, void *arg)
{
    struct seen *s = arg;
    s->records++;
    s->time_wait += sk->state == TCP_TIME_WAIT;
    s->toward += px_diag_sock_toward(sk, s->dst);
    s->last = *sk;
}

static void px_diag_parse__counts_toward_target(void **state)
{
    (void)state;
    static struct reply r;
    r.len = 0;
    add_record(&r, "127.0.0.1", 8080, TCP_TIME_WAIT);
    add_record(&r, "127.0.0.1", 8080, TCP_TIME_WAIT);
    add_record(&r, "127.0.0.1", 8081, TCP_TIME_WAIT);
    add_record(&r, "127.0.0.2", 8080, TCP_TIME_WAIT);
    add_record(&r, "127.0.0.1", 8080, TCP_ESTABLISHED);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(8080)};
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    struct seen s = {.dst = (struct sockaddr *)&dst};
    assert_int_equal(px_diag_parse(r.buf, r.len, 9, seen_cb, &s), 0);
    assert_int_equal(s.records, 5);
    assert_int_equal(s.time_wait, 4);
    assert_int_equal(s.toward, 3);
    add_done(&r);
    memset(&s, 0, sizeof(s));
    s.dst = (struct sockaddr *)&dst;
    assert_int_equal(px_diag_parse(r.buf, r.len, 9, seen_cb, &s), 1);
    assert_int_equal(s.records, 5);
    assert_int_equal(s.toward, 3);
}

/* Every field of the record reaches the callback, in the byte order the header says. */
static void px_diag_parse__decodes_record(void **state)
{
    (void)state;
    static struct reply r;
    r.len = 0;
    struct inet_diag_msg *m = add_record(&r, "192.0.2.7", 443, TCP_TIME_WAIT);
    m->idiag_expires = 59123;
    m->idiag_inode = 4242;
    m->idiag_uid = 1000;
    struct seen s = {0};
    assert_int_equal(px_diag_parse(r.buf, r.len, 0, seen_cb, &s), 0);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.last.family, AF_INET);
    assert_int_equal(s.last.state, TCP_TIME_WAIT);
    assert_int_equal(s.last.sport, 40000);
    assert_int_equal(s.last.dport, 443);
    assert_int_equal(ntohl(s.last.src[0]), 0x0a000001);
    assert_int_equal(ntohl(s.last.dst[0]), 0xc0000207);
    assert_int_equal(s.last.expires_ms, 59123);
    assert_int_equal(s.last.inode, 4242);
    assert_int_equal(s.last.uid, 1000);
}

static void px_diag_parse__error_sets_errno(void **state)
{
    (void)state;
    static struct reply r;
    memset(&r, 0, sizeof(r));
    struct nlmsghdr *h = (struct nlmsghdr *)r.buf;
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
    h->nlmsg_type = NLMSG_ERROR;
    ((struct nlmsgerr *)NLMSG_DATA(h))->error = -EPERM;
    struct seen s = {0};
    assert_int_equal(px_diag_parse(r.buf, h->nlmsg_len, 0, seen_cb, &s), -1);
    assert_int_equal(errno, EPERM);
}

/* A record cut short, or a reply to another request, is refused without a callback. */
static void px_diag_parse__refuses_short_record_and_foreign_seq(void **state)
{
    (void)state;
    static struct reply r;
    r.len = 0;
    add_record(&r, "127.0.0.1", 80, TCP_TIME_WAIT);
    struct seen s = {0};
    errno = 0;
    assert_int_equal(px_diag_parse(r.buf, r.len, 10, seen_cb, &s), -1);
    assert_int_not_equal(errno, 0);
    assert_int_equal(s.records, 0);
    ((struct nlmsghdr *)r.buf)->nlmsg_len = NLMSG_LENGTH(8);
    errno = 0;
    assert_int_equal(px_diag_parse(r.buf, r.len, 9, seen_cb, &s), -1);
    assert_int_equal(errno, EPROTO);
    assert_int_equal(s.records, 0);
}

/* Live: N connections that the client closes first leave exactly N TIME_WAIT. */
static void px_diag_count_tw__exact_live_count(void **state)
{
    (void)state;
    enum { N = 37 };
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(lfd, 128), 0);
    socklen_t alen = sizeof(addr);
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    int fd = px_diag_open();
    assert_true(fd >= 0);
    struct px_tw_count before;
    assert_int_equal(px_diag_count_tw(fd, (struct sockaddr *)&addr, &before), 0);
    assert_int_equal(before.toward, 0);
    int srv[N];
    for (int i = 0; i < N; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(c, (struct sockaddr *)&addr, sizeof(addr)), 0);
        srv[i] = accept(lfd, NULL, NULL);
        close(c); /* the client sends the first FIN */
    }
    for (int i = 0; i < N; i++)
        close(srv[i]);
    usleep(100000);
    struct px_tw_count after;
    assert_int_equal(px_diag_count_tw(fd, (struct sockaddr *)&addr, &after), 0);
    assert_int_equal(after.toward, N);
    assert_true(after.all >= N);
    close(fd);
    close(lfd);
}

/* What find_cb looks for in a live dump, and what it found. */
struct find {
    uint16_t port;
    uint32_t inode;
    int found, state;
    uint32_t uid;
};

static void find_cb(const struct px_diag_sock *sk, void *arg)
{
    struct find *f = arg;
    if (sk->sport != f->port || sk->inode != f->inode)
        return;
    f->found++;
    f->state = sk->state;
    f->uid = sk->uid;
}

/* Live: a dump of listening sockets finds this listener, with its port, inode and
 * owner; a dump of established ones does not. */
static void px_diag_dump__finds_own_listener(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(lfd, 8), 0);
    socklen_t alen = sizeof(addr);
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    struct stat st;
    assert_int_equal(fstat(lfd, &st), 0);
    int fd = px_diag_open();
    assert_true(fd >= 0);
    struct find f = {.port = ntohs(addr.sin_port), .inode = (uint32_t)st.st_ino};
    assert_int_equal(px_diag_dump(fd, AF_INET, PX_DIAG_STATE(TCP_LISTEN), find_cb, &f), 0);
    assert_int_equal(f.found, 1);
    assert_int_equal(f.state, TCP_LISTEN);
    assert_int_equal(f.uid, getuid());
    memset(&f, 0, sizeof(f));
    f.port = ntohs(addr.sin_port);
    f.inode = (uint32_t)st.st_ino;
    assert_int_equal(px_diag_dump(fd, AF_INET, PX_DIAG_STATE(TCP_ESTABLISHED), find_cb, &f), 0);
    assert_int_equal(f.found, 0);
    close(fd);
    close(lfd);
}

/* What both_cb counts of a live dump: this test's sockets by family and state. */
struct both {
    uint16_t port; /* the listeners' port */
    unsigned v4_est, v6_est, v4_listen, v6_listen, bound, other;
};

static void both_cb(const struct px_diag_sock *sk, void *arg)
{
    struct both *b = arg;
    if (sk->state == TCP_CLOSE && sk->sport == b->port + 1)
        b->bound++;
    else if (sk->sport == b->port && sk->state == TCP_LISTEN)
        *(sk->family == AF_INET ? &b->v4_listen : &b->v6_listen) += 1;
    else if (sk->dport == b->port && sk->state == TCP_ESTABLISHED)
        *(sk->family == AF_INET ? &b->v4_est : &b->v6_est) += 1;
    else if (sk->sport == b->port || sk->dport == b->port)
        b->other++;
}

/* A listener of family fam on port (0: any), its address in addr. */
static int listen_on(int fam, uint16_t port, struct sockaddr_storage *addr)
{
    int fd = socket(fam, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fam == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    memset(addr, 0, sizeof(*addr));
    socklen_t len = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (fam == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)addr;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_addr = in6addr_loopback;
    }
    assert_int_equal(bind(fd, (struct sockaddr *)addr, len), 0);
    assert_int_equal(listen(fd, 16), 0);
    getsockname(fd, (struct sockaddr *)addr, &len);
    return fd;
}

/* Live: one AF_UNSPEC dump returns the IPv4 and the IPv6 sockets, exactly; a dump of
 * bound-inactive sockets (6.7+) returns a socket bound and not listening, as TCP_CLOSE. */
static void px_diag_dump__both_families_and_bound(void **state)
{
    (void)state;
    struct sockaddr_storage a4, a6;
    int l4 = listen_on(AF_INET, 0, &a4);
    uint16_t port = ntohs(((struct sockaddr_in *)&a4)->sin_port);
    int l6 = listen_on(AF_INET6, port, &a6);
    int c[5];
    for (int i = 0; i < 5; i++) {
        struct sockaddr_storage *a = i < 3 ? &a4 : &a6;
        c[i] = socket(a->ss_family, SOCK_STREAM, 0);
        assert_int_equal(connect(c[i], (struct sockaddr *)a,
                                 a->ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                         : sizeof(struct sockaddr_in6)),
                         0);
    }
    int fd = px_diag_open();
    struct both b = {.port = port};
    assert_int_equal(px_diag_dump(fd, AF_UNSPEC, PX_DIAG_STATES_ALL, both_cb, &b), 0);
    assert_int_equal(b.v4_listen, 1);
    assert_int_equal(b.v6_listen, 1);
    assert_int_equal(b.v4_est, 3);
    assert_int_equal(b.v6_est, 2);
    int bfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in bin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(port + 1))};
    bin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(bfd, (struct sockaddr *)&bin, sizeof(bin)) == 0) {
        memset(&b, 0, sizeof(b));
        b.port = port;
        assert_int_equal(px_diag_dump(fd, AF_UNSPEC, PX_DIAG_BOUND_INACTIVE, both_cb, &b), 0);
        int major = 0, minor = 0;
        char rel[72];
        px_kernel_release(rel, sizeof(rel), &major, &minor);
        assert_int_equal(b.bound, major > 6 || (major == 6 && minor >= 7) ? 1 : 0);
        assert_int_equal(b.v4_est + b.v6_est + b.v4_listen + b.v6_listen, 0);
    }
    close(bfd);
    for (int i = 0; i < 5; i++)
        close(c[i]);
    close(fd);
    close(l4);
    close(l6);
}

static void px_diag_sock_toward__v6_and_family(void **state)
{
    (void)state;
    struct px_diag_sock sk = {.family = AF_INET6, .dport = 8443};
    struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_port = htons(8443)};
    inet_pton(AF_INET6, "2001:db8::5", &dst.sin6_addr);
    memcpy(sk.dst, &dst.sin6_addr, sizeof(sk.dst));
    assert_true(px_diag_sock_toward(&sk, (struct sockaddr *)&dst));
    dst.sin6_port = htons(8444);
    assert_false(px_diag_sock_toward(&sk, (struct sockaddr *)&dst));
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(8443)};
    assert_false(px_diag_sock_toward(&sk, (struct sockaddr *)&v4));
    assert_false(px_diag_sock_toward(&sk, NULL));
}

/* Ports held once each, whoever holds them; reserved ports and those outside [lo, hi] left out. */
static void px_bound_ports_count__once_each_in_range(void **state)
{
    (void)state;
    static struct px_bound_ports b;
    memset(&b, 0, sizeof(b));
    b.listening[40010 / 8] |= 1u << (40010 % 8);
    b.bound[40010 / 8] |= 1u << (40010 % 8); /* the same port twice: counted once */
    b.bound[40011 / 8] |= 1u << (40011 % 8);
    b.listening[40100 / 8] |= 1u << (40100 % 8);
    b.listening[39999 / 8] |= 1u << (39999 % 8); /* below the range */
    uint64_t listening = 0;
    assert_int_equal(px_bound_ports_count(&b, 40000, 40499, "", &listening), 3);
    assert_int_equal(listening, 2);
    assert_int_equal(px_bound_ports_count(&b, 40000, 40499, "40100,50000-50010", &listening), 2);
    assert_int_equal(listening, 1);
    assert_int_equal(px_bound_ports_count(&b, 40011, 40011, NULL, NULL), 1);
}

/* A bound socket of the given family on loopback, port chosen by the kernel; its port. */
static int bound_socket(int family, int do_listen, uint16_t *port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET6)
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    else
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    if (do_listen)
        assert_int_equal(listen(fd, 8), 0);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Live: listeners of both families, and sockets bound by bind() alone (Linux 6.7+). */
static void px_diag_bound_ports__listeners_and_bound_only(void **state)
{
    (void)state;
    uint16_t l4, l6, b4, b6;
    int fds[4] = {bound_socket(AF_INET, 1, &l4), bound_socket(AF_INET6, 1, &l6),
                  bound_socket(AF_INET, 0, &b4), bound_socket(AF_INET6, 0, &b6)};
    static struct px_bound_ports b;
    int fd = px_diag_open();
    assert_true(fd >= 0);
    assert_int_equal(px_diag_bound_ports(fd, &b), 0);
    close(fd);
    uint64_t listening = 0;
    assert_int_equal(px_bound_ports_count(&b, l4, l4, "", &listening), 1);
    assert_int_equal(listening, 1);
    assert_int_equal(px_bound_ports_count(&b, l6, l6, "", &listening), 1);
    assert_int_equal(listening, 1);
    struct px_held_ports held;
    px_diag_held_in_range(l4, l4, "", NULL, NULL, 0, &held);
    assert_int_equal(held.bound, 1);
    assert_int_equal(held.listening, 1);
    assert_int_equal(held.open, 0);
    char rel[64];
    int major = 0, minor = 0;
    px_kernel_release(rel, sizeof(rel), &major, &minor);
    int inactive = major > 6 || (major == 6 && minor >= 7);
    for (int i = 0; i < 4; i++)
        if (i < 2 || !inactive)
            close(fds[i]);
    if (!inactive)
        PX_SKIP("bound-only sockets are reported by Linux 6.7 and later");
    assert_int_equal(px_bound_ports_count(&b, b4, b4, "", &listening), 1);
    assert_int_equal(listening, 0);
    assert_int_equal(px_bound_ports_count(&b, b6, b6, "", &listening), 1);
    assert_int_equal(listening, 0);
    close(fds[2]);
    close(fds[3]);
}

/* Live: the source the route picks, as `ip route get` says it: a loopback
 * destination is reached from 127.0.0.1 (and ::1 from ::1 where lo has it). */
static void px_rtnl_route_source__as_ip_route_get(void **state)
{
    (void)state;
    struct sockaddr_storage dst, src;
    memset(&dst, 0, sizeof(dst));
    struct sockaddr_in *d4 = (struct sockaddr_in *)&dst;
    d4->sin_family = AF_INET;
    d4->sin_port = htons(80);
    char text[INET6_ADDRSTRLEN];
    for (int i = 0; i < 2; i++) {
        d4->sin_addr.s_addr = htonl(i == 0 ? 0x7f000001 : 0x7f000005); /* 127.0.0.1, .5 */
        assert_int_equal(px_rtnl_route_source(&dst, &src), 0);
        assert_int_equal(src.ss_family, AF_INET);
        inet_ntop(AF_INET, &((struct sockaddr_in *)&src)->sin_addr, text, sizeof(text));
        assert_string_equal(text, "127.0.0.1");
        assert_int_equal(((struct sockaddr_in *)&src)->sin_port, 0);
    }
    int v6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int have6 = v6 >= 0 && bind(v6, (struct sockaddr *)&lo6, sizeof(lo6)) == 0;
    if (v6 >= 0)
        close(v6);
    if (have6) {
        memcpy(&dst, &lo6, sizeof(lo6));
        assert_int_equal(px_rtnl_route_source(&dst, &src), 0);
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&src)->sin6_addr, text, sizeof(text));
        assert_string_equal(text, "::1");
    }
    dst.ss_family = AF_UNIX;
    assert_int_equal(px_rtnl_route_source(&dst, &src), -EAFNOSUPPORT);
}

/* A connection from 127.0.0.1 to the listener lst (port), its local port in *sport. */
static int connected(uint16_t port, uint16_t *sport)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    getsockname(fd, (struct sockaddr *)&me, &len);
    *sport = ntohs(me.sin_port);
    return fd;
}

/* Live: the ports that open connections toward one destination hold, from one source
 * address; not those toward another destination, not the accepted ends, not from
 * another source, and a port bound already is not counted twice. */
static void px_diag_held_in_range__open_toward_the_target(void **state)
{
    (void)state;
    uint16_t target, other, sport[4];
    int lt = bound_socket(AF_INET, 1, &target), lo = bound_socket(AF_INET, 1, &other);
    int c[4] = {connected(target, &sport[0]), connected(target, &sport[1]),
                connected(target, &sport[2]), connected(other, &sport[3])};
    unsigned min = 65535, max = 0;
    for (int i = 0; i < 4; i++) {
        min = sport[i] < min ? sport[i] : min;
        max = sport[i] > max ? sport[i] : max;
    }
    if (target < min)
        min = target;
    if (target > max)
        max = target;
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(target),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_storage src[2];
    memset(src, 0, sizeof(src));
    src[0].ss_family = src[1].ss_family = AF_INET;
    ((struct sockaddr_in *)&src[0])->sin_addr.s_addr = htonl(0x7f000002); /* 127.0.0.2 */
    ((struct sockaddr_in *)&src[1])->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct px_held_ports held;
    /* Connections of other tests may sit between min and max: count only ours. */
    px_diag_held_in_range(min, max, "", (struct sockaddr *)&dst, src, 2, &held);
    assert_true(held.open >= 3);
    uint64_t ours = 0;
    for (int i = 0; i < 3; i++) {
        px_diag_held_in_range(sport[i], sport[i], "", (struct sockaddr *)&dst, src, 2, &held);
        ours += (uint64_t)held.open;
    }
    assert_int_equal(ours, 3);
    /* toward the other listener: not held toward the target */
    px_diag_held_in_range(sport[3], sport[3], "", (struct sockaddr *)&dst, src, 2, &held);
    assert_int_equal(held.open, 0);
    /* from 127.0.0.2 only: none of them */
    px_diag_held_in_range(sport[0], sport[0], "", (struct sockaddr *)&dst, src, 1, &held);
    assert_int_equal(held.open, 0);
    /* from any source (nsrc 0) */
    px_diag_held_in_range(sport[0], sport[0], "", (struct sockaddr *)&dst, NULL, 0, &held);
    assert_int_equal(held.open, 1);
    /* a reserved port is not counted */
    char reserved[16];
    snprintf(reserved, sizeof(reserved), "%u", (unsigned)sport[1]);
    px_diag_held_in_range(sport[1], sport[1], reserved, (struct sockaddr *)&dst, src, 2, &held);
    assert_int_equal(held.open, 0);
    /* the listener's own port: bound by the listener, not also open */
    px_diag_held_in_range(target, target, "", (struct sockaddr *)&dst, src, 2, &held);
    assert_int_equal(held.bound, 1);
    assert_int_equal(held.open, 0);
    for (int i = 0; i < 4; i++)
        close(c[i]);
    close(lt);
    close(lo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_diag_build_request__time_wait_dump),
        cmocka_unit_test(px_diag_build_request__both_families_in_one_walk),
        cmocka_unit_test(px_diag_dump__both_families_and_bound),
        cmocka_unit_test(px_diag_parse__counts_toward_target),
        cmocka_unit_test(px_diag_parse__decodes_record),
        cmocka_unit_test(px_diag_parse__error_sets_errno),
        cmocka_unit_test(px_diag_parse__refuses_short_record_and_foreign_seq),
        cmocka_unit_test(px_diag_count_tw__exact_live_count),
        cmocka_unit_test(px_diag_dump__finds_own_listener),
        cmocka_unit_test(px_diag_sock_toward__v6_and_family),
        cmocka_unit_test(px_bound_ports_count__once_each_in_range),
        cmocka_unit_test(px_diag_bound_ports__listeners_and_bound_only),
        cmocka_unit_test(px_diag_held_in_range__open_toward_the_target),
        cmocka_unit_test(px_rtnl_route_source__as_ip_route_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
