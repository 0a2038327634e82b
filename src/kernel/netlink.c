/* SPDX-License-Identifier: MIT */
/* Raw netlink: sock_diag TIME_WAIT counting, and rtnetlink for the lab's veth pair. */
#include "portex/kernel/netlink.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

/* TCP_TIME_WAIT in the kernel's state numbering; the TCPF_ masks are kernel-only. */
#define PX_TCP_TIME_WAIT 6

int px_diag_open(void)
{
    return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

size_t px_diag_build_request(void *buf, size_t buflen, int family, uint32_t seq)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } msg;
    if (buflen < sizeof(msg))
        return 0;
    memset(&msg, 0, sizeof(msg));
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = seq;
    msg.req.sdiag_family = (uint8_t)family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = 1u << PX_TCP_TIME_WAIT;
    memcpy(buf, &msg, sizeof(msg));
    return sizeof(msg);
}

static int matches(const struct inet_diag_msg *m, const struct sockaddr *dst)
{
    if (dst == NULL || m->idiag_family != dst->sa_family)
        return 0;
    if (dst->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)dst;
        return m->id.idiag_dport == in->sin_port && m->id.idiag_dst[0] == in->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)dst;
    return m->id.idiag_dport == in6->sin6_port && memcmp(m->id.idiag_dst, &in6->sin6_addr, 16) == 0;
}

/* NLMSG_OK without its signed/unsigned comparison. */
static int msg_ok(const struct nlmsghdr *h, size_t left)
{
    return left >= sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= left;
}

int px_diag_parse(const void *buf, size_t len, const struct sockaddr *dst, struct px_tw_count *out)
{
    const char *p = buf;
    size_t left = len;
    for (const struct nlmsghdr *h = buf; msg_ok(h, left); h = (const struct nlmsghdr *)p) {
        size_t step = NLMSG_ALIGN(h->nlmsg_len);
        p += step;
        left = step < left ? left - step : 0;
        if (h->nlmsg_type == NLMSG_DONE)
            return 1;
        if (h->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(h);
            errno = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? -e->error : EPROTO;
            return -1;
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
            h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
            errno = EPROTO;
            return -1;
        }
        const struct inet_diag_msg *m = NLMSG_DATA(h);
        if (m->idiag_state != PX_TCP_TIME_WAIT)
            continue;
        out->all++;
        if (matches(m, dst))
            out->toward++;
    }
    return 0;
}

int px_diag_count_tw(int fd, const struct sockaddr *dst, struct px_tw_count *out)
{
    static __thread uint32_t seq;
    char req[128];
    size_t rlen = px_diag_build_request(req, sizeof(req), dst->sa_family, ++seq);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    memset(out, 0, sizeof(*out));
    /* A Unix-socket target: no TCP socket, so none in TIME_WAIT, toward it. */
    if (dst->sa_family != AF_INET && dst->sa_family != AF_INET6)
        return 0;
    if (sendto(fd, req, rlen, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return -1;
    /* One TIME_WAIT record is about 90 bytes: a large buffer keeps a 30k dump
     * to a few dozen reads. */
    static __thread char buf[256 * 1024];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        int rc = px_diag_parse(buf, (size_t)n, dst, out);
        if (rc != 0)
            return rc > 0 ? 0 : -1;
    }
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

/* ---- rtnetlink ---------------------------------------------------------- */

/* A request under construction: the header and its attributes, in one buffer. */
struct rtnl_msg {
    _Alignas(struct nlmsghdr) char buf[1024];
};

static struct nlmsghdr *rtnl_init(struct rtnl_msg *m, unsigned short type, unsigned short flags,
                                  size_t payload)
{
    memset(m, 0, sizeof(*m));
    struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
    h->nlmsg_len = NLMSG_LENGTH(payload);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    return h;
}

static struct rtattr *attr_put(struct nlmsghdr *h, unsigned short type, const void *data,
                               size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
}

static void attr_end(struct nlmsghdr *h, struct rtattr *nest)
{
    nest->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)nest);
}

/* Sends one request and waits for its ack. 0 or a negative errno. */
static int rtnl_talk(struct nlmsghdr *h)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    h->nlmsg_seq = 1;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    int rc = -EPROTO;
    if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
        rc = -errno;
        goto out;
    }
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
        rc = -errno;
        goto out;
    }
    const struct nlmsghdr *r = (const struct nlmsghdr *)buf;
    if (msg_ok(r, (size_t)n) && r->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(r);
        rc = e->error;
    }
out:
    close(fd);
    return rc;
}

int px_rtnl_veth_create(const char *name, int pid_a, const char *peer, int pid_b)
{
    struct rtnl_msg m;
    struct nlmsghdr *h =
        rtnl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    ifi->ifi_family = AF_UNSPEC;
    uint32_t pa = (uint32_t)pid_a, pb = (uint32_t)pid_b;
    attr_put(h, IFLA_IFNAME, name, strlen(name) + 1);
    attr_put(h, IFLA_NET_NS_PID, &pa, sizeof(pa));
    struct rtattr *linkinfo = attr_put(h, IFLA_LINKINFO, NULL, 0);
    attr_put(h, IFLA_INFO_KIND, "veth", 4);
    struct rtattr *data = attr_put(h, IFLA_INFO_DATA, NULL, 0);
    struct rtattr *vpeer = attr_put(h, VETH_INFO_PEER, NULL, 0);
    /* The peer is described by an ifinfomsg followed by its own attributes. */
    struct ifinfomsg pifi = {.ifi_family = AF_UNSPEC};
    memcpy(m.buf + h->nlmsg_len, &pifi, sizeof(pifi));
    h->nlmsg_len += NLMSG_ALIGN(sizeof(pifi));
    attr_put(h, IFLA_IFNAME, peer, strlen(peer) + 1);
    attr_put(h, IFLA_NET_NS_PID, &pb, sizeof(pb));
    attr_end(h, vpeer);
    attr_end(h, data);
    attr_end(h, linkinfo);
    return rtnl_talk(h);
}

int px_rtnl_link_up(const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0)
        return -errno;
    struct rtnl_msg m;
    struct nlmsghdr *h = rtnl_init(&m, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)idx;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    return rtnl_talk(h);
}

static int addr_add(const char *ifname, uint32_t local_be, uint32_t peer_be, int prefix)
{
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0)
        return -errno;
    struct rtnl_msg m;
    struct nlmsghdr *h =
        rtnl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_index = idx;
    attr_put(h, IFA_LOCAL, &local_be, 4);
    /* IFA_ADDRESS is the peer on a point-to-point address, else the local one. */
    attr_put(h, IFA_ADDRESS, &peer_be, 4);
    return rtnl_talk(h);
}

int px_rtnl_addr_add4(const char *ifname, uint32_t addr_be, int prefix)
{
    return addr_add(ifname, addr_be, addr_be, prefix);
}

int px_rtnl_addr_add4_peer(const char *ifname, uint32_t local_be, uint32_t peer_be)
{
    return addr_add(ifname, local_be, peer_be, 32);
}
