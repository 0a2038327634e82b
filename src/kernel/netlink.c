/* SPDX-License-Identifier: MIT */
/* Netlink through libmnl: one exchange for sock_diag dumps and rtnetlink requests. */
#include "portex/kernel/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/kernel/kernel.h"

/* ---- the exchange -------------------------------------------------------- */

/* The kernel sizes a dump's datagrams after the largest read so far, capped near
 * 32 KB (netlink_recvmsg, max_recvmsg_len): this holds any of them whole, so a
 * 30k-socket dump takes a few dozen reads. */
#define NL_RECV_BUF (64 * 1024)

/*
 * Sends the request nlh on fd, then runs cb (libmnl's per-message callback; NULL
 * to ignore data) over the replies until the kernel ends them: NLMSG_DONE for a
 * dump, the ack for NLM_F_ACK. Replies from another portid (0: any) or with
 * another sequence number are refused. 0, or -1 with errno.
 */
static int nl_exchange(int fd, uint32_t portid, const struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, nlh, nlh->nlmsg_len, 0, (const struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return -1;
    _Alignas(struct nlmsghdr) char buf[NL_RECV_BUF];
    for (;;) {
        /* MSG_TRUNC: the datagram's real length, to tell a cut one from a whole one. */
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (size_t)n > sizeof(buf)) {
            if (n >= 0)
                errno = n == 0 ? EPROTO : EMSGSIZE;
            return -1;
        }
        int rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, arg);
        if (rc <= MNL_CB_STOP)
            return rc == MNL_CB_STOP ? 0 : -1;
    }
}

/* ---- sock_diag ----------------------------------------------------------- */

/* What a dump hands each record to. */
struct diag_ctx {
    px_diag_cb cb;
    void *arg;
    uint64_t records; /* handed on so far */
};

/* One record of a dump: decoded on the stack, handed on. A SOCK_DIAG_BY_FAMILY
 * dump answers in messages of that type, the one-walk TCPDIAG_GETSOCK dump in
 * messages of its own type (the kernel echoes the request's). */
static int diag_record_cb(const struct nlmsghdr *nlh, void *data)
{
    struct diag_ctx *ctx = data;
    if ((nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK) ||
        mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg)) {
        errno = EPROTO;
        return MNL_CB_ERROR;
    }
    const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
    struct px_diag_sock sk = {
        .family = m->idiag_family,
        .state = m->idiag_state,
        .sport = ntohs(m->id.idiag_sport),
        .dport = ntohs(m->id.idiag_dport),
        .inode = m->idiag_inode,
        .expires_ms = m->idiag_expires,
        .uid = m->idiag_uid,
    };
    memcpy(sk.src, m->id.idiag_src, sizeof(sk.src));
    memcpy(sk.dst, m->id.idiag_dst, sizeof(sk.dst));
    ctx->records++;
    ctx->cb(&sk, ctx->arg);
    return MNL_CB_OK;
}

int px_diag_open(void)
{
    return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

/*
 * Both families in one walk: the v1 request (TCPDIAG_GETSOCK, struct
 * inet_diag_req) is dumped by inet_diag_dump_compat with the family
 * AF_UNSPEC, so the kernel visits every socket of its hash tables once, where
 * two SOCK_DIAG_BY_FAMILY requests walk them twice (the spike of issue 20
 * measured 7-10 ms against 12-17 ms for 30,000 sockets).
 */
static size_t build_request_both(void *buf, size_t buflen, uint32_t states, uint32_t seq)
{
    if (buflen < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req)))
        return 0;
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = TCPDIAG_GETSOCK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq;
    struct inet_diag_req *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
    req->idiag_family = AF_INET; /* ignored by the kernel: the dump covers both */
    req->idiag_states = states;
    return nlh->nlmsg_len;
}

size_t px_diag_build_request(void *buf, size_t buflen, int family, uint32_t states, uint32_t seq)
{
    if (family == AF_UNSPEC)
        return build_request_both(buf, buflen, states, seq);
    if (buflen < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2)))
        return 0;
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq;
    struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
    req->sdiag_family = (uint8_t)family;
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = states;
    return nlh->nlmsg_len;
}

int px_diag_parse(const void *buf, size_t len, uint32_t seq, px_diag_cb cb, void *arg)
{
    struct diag_ctx ctx = {.cb = cb, .arg = arg};
    int rc = mnl_cb_run(buf, len, seq, 0, diag_record_cb, &ctx);
    return rc < 0 ? -1 : rc == MNL_CB_STOP ? 1 : 0;
}

/* One dump request and its replies; ctx counts the records handed on. */
static int diag_dump_one(int fd, int family, uint32_t states, struct diag_ctx *ctx)
{
    /* One number per request, so a reply left over from an earlier dump is refused. */
    static atomic_uint next_seq;
    _Alignas(struct nlmsghdr) char req[128];
    px_diag_build_request(req, sizeof(req), family, states, atomic_fetch_add(&next_seq, 1) + 1);
    return nl_exchange(fd, 0, (const struct nlmsghdr *)req, diag_record_cb, ctx);
}

int px_diag_dump(int fd, int family, uint32_t states, px_diag_cb cb, void *arg)
{
    struct diag_ctx ctx = {.cb = cb, .arg = arg};
    int rc = diag_dump_one(fd, family, states, &ctx);
    /* A kernel without the v1 request refuses it before any record: ask per family. */
    if (rc < 0 && family == AF_UNSPEC && ctx.records == 0 && errno != EINTR) {
        rc = diag_dump_one(fd, AF_INET, states, &ctx);
        if (rc == 0)
            rc = diag_dump_one(fd, AF_INET6, states, &ctx);
    }
    return rc;
}

int px_diag_sock_toward(const struct px_diag_sock *sk, const struct sockaddr *dst)
{
    if (dst == NULL || sk->family != dst->sa_family)
        return 0;
    if (dst->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)dst;
        return sk->dport == ntohs(in->sin_port) && sk->dst[0] == in->sin_addr.s_addr;
    }
    if (dst->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)dst;
        return sk->dport == ntohs(in6->sin6_port) &&
               memcmp(sk->dst, &in6->sin6_addr, sizeof(sk->dst)) == 0;
    }
    return 0;
}

int px_diag_sock_from(const struct px_diag_sock *sk, const struct sockaddr_storage *src,
                      size_t nsrc)
{
    for (size_t i = 0; i < nsrc; i++) {
        if (sk->family != src[i].ss_family)
            continue;
        if (sk->family == AF_INET &&
            sk->src[0] == ((const struct sockaddr_in *)&src[i])->sin_addr.s_addr)
            return 1;
        if (sk->family == AF_INET6 &&
            memcmp(sk->src, &((const struct sockaddr_in6 *)&src[i])->sin6_addr,
                   sizeof(sk->src)) == 0)
            return 1;
    }
    return nsrc == 0;
}

/* What px_diag_count_tw adds to. */
struct tw_ctx {
    struct sockaddr_storage dst; /* the port is set to each of the nports in turn */
    unsigned nports;
    struct px_tw_count *out;
};

/* The port of an IPv4 or IPv6 address, in host order, and a way to set it. */
static uint16_t port_of(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                    : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void port_set(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static void count_tw_cb(const struct px_diag_sock *sk, void *arg)
{
    struct tw_ctx *c = arg;
    /* The kernel sends only the states asked for; count nothing else all the same. */
    if (sk->state != TCP_TIME_WAIT)
        return;
    c->out->all++;
    uint16_t first = port_of(&c->dst);
    if (sk->dport < first || (unsigned)(sk->dport - first) >= c->nports)
        return;
    struct sockaddr_storage one = c->dst;
    port_set(&one, sk->dport);
    if (px_diag_sock_toward(sk, (const struct sockaddr *)&one))
        c->out->toward++;
}

int px_diag_count_tw_ports(int fd, const struct sockaddr *dst, unsigned nports,
                           struct px_tw_count *out)
{
    memset(out, 0, sizeof(*out));
    /* A Unix-socket target: no TCP socket, so none in TIME_WAIT, toward it. */
    if (dst->sa_family != AF_INET && dst->sa_family != AF_INET6)
        return 0;
    struct tw_ctx c = {.nports = nports ? nports : 1, .out = out};
    memcpy(&c.dst, dst,
           dst->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    return px_diag_dump(fd, dst->sa_family, PX_DIAG_STATE(TCP_TIME_WAIT), count_tw_cb, &c);
}

int px_diag_count_tw(int fd, const struct sockaddr *dst, struct px_tw_count *out)
{
    return px_diag_count_tw_ports(fd, dst, 1, out);
}

int64_t px_diag_time_wait_toward(const struct sockaddr *dst)
{
    int fd = px_diag_open();
    struct px_tw_count tw;
    int64_t n = -1;
    if (fd >= 0 && px_diag_count_tw(fd, dst, &tw) == 0)
        n = (int64_t)tw.toward;
    if (fd >= 0)
        close(fd);
    return n;
}

static void bit_set(uint8_t *bits, uint16_t port)
{
    bits[port / 8] |= (uint8_t)(1u << (port % 8));
}

static int bit_get(const uint8_t *bits, unsigned port)
{
    return (bits[port / 8] >> (port % 8)) & 1;
}

static void bound_cb(const struct px_diag_sock *sk, void *arg)
{
    struct px_bound_ports *b = arg;
    if (sk->state == TCP_LISTEN)
        bit_set(b->listening, sk->sport);
    else if (sk->state == TCP_CLOSE && sk->sport != 0)
        bit_set(b->bound, sk->sport);
}

int px_diag_bound_ports(int fd, struct px_bound_ports *out)
{
    memset(out, 0, sizeof(*out));
    /* Both families in one walk of the bind hash (AF_UNSPEC), which is the costly part. */
    return px_diag_dump(fd, AF_UNSPEC, PX_DIAG_STATE(TCP_LISTEN) | PX_DIAG_BOUND_INACTIVE, bound_cb,
                        out);
}

uint64_t px_bound_ports_count(const struct px_bound_ports *b, unsigned lo, unsigned hi,
                              const char *reserved, uint64_t *listening)
{
    uint64_t held = 0, by_listener = 0;
    for (unsigned p = lo; p <= hi && p < 65536; p++) {
        int l = bit_get(b->listening, p);
        if (!l && !bit_get(b->bound, p))
            continue;
        if (reserved && px_reserved_in_range(reserved, p, p))
            continue;
        held++;
        by_listener += (uint64_t)l;
    }
    if (listening)
        *listening = by_listener;
    return held;
}

/* What open_cb adds to. */
struct open_ctx {
    const struct sockaddr *dst;
    const struct sockaddr_storage *src;
    size_t nsrc;
    struct px_bound_ports *out;
};

static void open_cb(const struct px_diag_sock *sk, void *arg)
{
    struct open_ctx *c = arg;
    if (sk->state != TCP_TIME_WAIT && sk->state != TCP_LISTEN && sk->state != TCP_CLOSE &&
        px_diag_sock_toward(sk, c->dst) && px_diag_sock_from(sk, c->src, c->nsrc))
        bit_set(c->out->open, sk->sport);
}

int px_diag_open_toward(int fd, const struct sockaddr *dst, const struct sockaddr_storage *src,
                        size_t nsrc, struct px_bound_ports *out)
{
    if (dst->sa_family != AF_INET && dst->sa_family != AF_INET6)
        return 0;
    struct open_ctx c = {.dst = dst, .src = src, .nsrc = nsrc, .out = out};
    uint32_t states = PX_DIAG_STATE(TCP_SYN_SENT) | PX_DIAG_STATE(TCP_SYN_RECV) |
                      PX_DIAG_STATE(TCP_ESTABLISHED) | PX_DIAG_STATE(TCP_FIN_WAIT1) |
                      PX_DIAG_STATE(TCP_FIN_WAIT2) | PX_DIAG_STATE(TCP_CLOSE_WAIT) |
                      PX_DIAG_STATE(TCP_LAST_ACK) | PX_DIAG_STATE(TCP_CLOSING);
    return px_diag_dump(fd, dst->sa_family, states, open_cb, &c);
}

uint64_t px_open_ports_count(const struct px_bound_ports *b, unsigned lo, unsigned hi,
                             const char *reserved)
{
    uint64_t n = 0;
    for (unsigned p = lo; p <= hi && p < 65536; p++)
        if (bit_get(b->open, p) && !bit_get(b->listening, p) && !bit_get(b->bound, p) &&
            !(reserved && px_reserved_in_range(reserved, p, p)))
            n++;
    return n;
}

void px_diag_held_in_range(unsigned lo, unsigned hi, const char *reserved,
                           const struct sockaddr *dst, const struct sockaddr_storage *src,
                           size_t nsrc, struct px_held_ports *out)
{
    *out = (struct px_held_ports){.bound = -1, .listening = -1, .open = -1};
    struct px_bound_ports *b = malloc(sizeof(*b));
    int fd = px_diag_open();
    uint64_t l = 0;
    if (b != NULL && fd >= 0 && px_diag_bound_ports(fd, b) == 0) {
        out->bound = (int64_t)px_bound_ports_count(b, lo, hi, reserved, &l);
        out->listening = (int64_t)l;
        if (dst == NULL || px_diag_open_toward(fd, dst, src, nsrc, b) == 0)
            out->open = (int64_t)px_open_ports_count(b, lo, hi, reserved);
    }
    if (fd >= 0)
        close(fd);
    free(b);
}

/* ---- rtnetlink ----------------------------------------------------------- */

/* Room for the largest request here (a veth pair with two names: about 200 bytes). */
#define RTNL_MSG_MAX 1024

/* A request header in buf, which must hold RTNL_MSG_MAX bytes. */
static struct nlmsghdr *rtnl_new(void *buf, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = 1;
    return nlh;
}

/* Sends one request on a socket of its own and waits for its ack, handing cb
 * (may be NULL) each answer before it. 0 or a negative errno. */
static int rtnl_ask(const struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (nl == NULL)
        return -errno;
    int rc = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID);
    if (rc == 0)
        rc = nl_exchange(mnl_socket_get_fd(nl), mnl_socket_get_portid(nl), nlh, cb, arg);
    rc = rc == 0 ? 0 : -errno;
    mnl_socket_close(nl);
    return rc;
}

static int rtnl_talk(const struct nlmsghdr *nlh)
{
    return rtnl_ask(nlh, NULL, NULL);
}

int px_rtnl_veth_create(const char *name, int pid_a, const char *peer, int pid_b)
{
    /* Names the kernel would refuse anyway; checked first so they fit the buffer. */
    if (strlen(name) >= IFNAMSIZ || strlen(peer) >= IFNAMSIZ)
        return -EINVAL;
    _Alignas(struct nlmsghdr) char buf[RTNL_MSG_MAX];
    struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid_a);
    struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_str(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *vpeer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    /* The peer is described by an ifinfomsg followed by its own attributes. */
    struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
    pifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
    mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid_b);
    mnl_attr_nest_end(nlh, vpeer);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, linkinfo);
    return rtnl_talk(nlh);
}

int px_rtnl_link_up(const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0)
        return -errno;
    _Alignas(struct nlmsghdr) char buf[RTNL_MSG_MAX];
    struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)idx;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    return rtnl_talk(nlh);
}

static int addr_add(const char *ifname, uint32_t local_be, uint32_t peer_be, int prefix)
{
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0)
        return -errno;
    _Alignas(struct nlmsghdr) char buf[RTNL_MSG_MAX];
    struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_index = idx;
    mnl_attr_put(nlh, IFA_LOCAL, sizeof(local_be), &local_be);
    /* IFA_ADDRESS is the peer on a point-to-point address, else the local one. */
    mnl_attr_put(nlh, IFA_ADDRESS, sizeof(peer_be), &peer_be);
    return rtnl_talk(nlh);
}

int px_rtnl_addr_add4(const char *ifname, uint32_t addr_be, int prefix)
{
    return addr_add(ifname, addr_be, addr_be, prefix);
}

int px_rtnl_addr_add4_peer(const char *ifname, uint32_t local_be, uint32_t peer_be)
{
    return addr_add(ifname, local_be, peer_be, 32);
}

int px_rtnl_route_add4(uint32_t dst_be, int prefix, uint32_t gw_be)
{
    if (prefix < 0 || prefix > 32)
        return -EINVAL;
    _Alignas(struct nlmsghdr) char buf[RTNL_MSG_MAX];
    struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = (unsigned char)prefix;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE; /* through a gateway, not on a link */
    rtm->rtm_type = RTN_UNICAST;
    if (prefix > 0)
        mnl_attr_put(nlh, RTA_DST, sizeof(dst_be), &dst_be);
    mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw_be), &gw_be);
    return rtnl_talk(nlh);
}

/* What prefsrc_cb fills: the address (its family set), and whether one came. */
struct prefsrc_ctx {
    struct sockaddr_storage *src;
    int found;
};

/* RTA_PREFSRC of the route's answer into the address. */
static int prefsrc_cb(const struct nlmsghdr *nlh, void *arg)
{
    struct prefsrc_ctx *c = arg;
    if (nlh->nlmsg_type != RTM_NEWROUTE)
        return MNL_CB_OK;
    int v4 = c->src->ss_family == AF_INET;
    void *to = v4 ? (void *)&((struct sockaddr_in *)c->src)->sin_addr
                  : (void *)&((struct sockaddr_in6 *)c->src)->sin6_addr;
    size_t want = v4 ? sizeof(struct in_addr) : sizeof(struct in6_addr);
    const struct nlattr *a;
    mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
        if (mnl_attr_get_type(a) == RTA_PREFSRC && mnl_attr_get_payload_len(a) == want) {
            memcpy(to, mnl_attr_get_payload(a), want);
            c->found = 1;
        }
    }
    return MNL_CB_OK;
}

int px_rtnl_route_source(const struct sockaddr_storage *dst, struct sockaddr_storage *src)
{
    if (dst->ss_family != AF_INET && dst->ss_family != AF_INET6)
        return -EAFNOSUPPORT;
    _Alignas(struct nlmsghdr) char buf[RTNL_MSG_MAX];
    struct nlmsghdr *nlh = rtnl_new(buf, RTM_GETROUTE, 0);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = (unsigned char)dst->ss_family;
    if (dst->ss_family == AF_INET) {
        rtm->rtm_dst_len = 32;
        mnl_attr_put(nlh, RTA_DST, sizeof(struct in_addr),
                     &((const struct sockaddr_in *)dst)->sin_addr);
    } else {
        rtm->rtm_dst_len = 128;
        mnl_attr_put(nlh, RTA_DST, sizeof(struct in6_addr),
                     &((const struct sockaddr_in6 *)dst)->sin6_addr);
    }
    memset(src, 0, sizeof(*src));
    src->ss_family = dst->ss_family;
    struct prefsrc_ctx c = {.src = src};
    int rc = rtnl_ask(nlh, prefsrc_cb, &c);
    return rc < 0 ? rc : c.found ? 0 : -EADDRNOTAVAIL;
}
