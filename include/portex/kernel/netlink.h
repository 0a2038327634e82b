/* SPDX-License-Identifier: MIT */
/*
 * Netlink, kept in one module and spoken through libmnl: sock_diag dumps of TCP
 * sockets (what `ss` uses), counting TIME_WAIT on top of them, and the few
 * rtnetlink calls the lab needs for its veth pairs and routes. Every family goes through
 * the same request-and-replies exchange, so another (nfnetlink) is one more
 * section here.
 */
#ifndef PORTEX_NETLINK_H
#define PORTEX_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The bit of a TCP state in a dump's state mask. States are numbered as the
 * kernel does (TCP_TIME_WAIT of <netinet/tcp.h> is 6); its TCPF_ masks are
 * kernel-only. */
#define PX_DIAG_STATE(tcp_state) (1u << (tcp_state))
/* Every real TCP state, LISTEN and NEW_SYN_RECV included (bits 1-12). Not ~0: bit 13
 * (TCP_BOUND_INACTIVE, 6.7+) makes the kernel walk its whole bind hash as well. */
#define PX_DIAG_STATES_ALL 0x1ffeu
/* Sockets bound to a port by bind() alone, neither listening nor connected
 * (TCP_BOUND_INACTIVE, 6.7+, not in <netinet/tcp.h>): asking for them makes a dump
 * walk the bind hash too; they come back with the state TCP_CLOSE. Older kernels
 * send none. */
#define PX_DIAG_BOUND_INACTIVE (1u << 13)

/* One TCP socket of a dump, decoded in place: no allocation per record. */
struct px_diag_sock {
    int family;            /* AF_INET or AF_INET6 */
    int state;             /* TCP_ESTABLISHED ... TCP_CLOSING, the kernel's numbering */
    uint16_t sport, dport; /* host byte order */
    uint32_t src[4];       /* network byte order, as the kernel gives it; IPv4 in src[0] */
    uint32_t dst[4];       /* likewise */
    uint32_t inode;        /* the socket's inode; 0 for TIME_WAIT (no socket file left) */
    uint32_t expires_ms;   /* until the socket's timer fires (TIME_WAIT: what is left of 60 s) */
    uint32_t uid;          /* owner; 0 for TIME_WAIT */
};

/* Called once per socket of a dump, in the order the kernel sends them. */
typedef void (*px_diag_cb)(const struct px_diag_sock *sk, void *arg);

/* A NETLINK_SOCK_DIAG socket; -1 on error. */
int px_diag_open(void);
/*
 * Dumps the TCP sockets of one family (AF_INET or AF_INET6), or of both in one
 * walk of the kernel's tables (AF_UNSPEC; two requests on a kernel that refuses
 * the one-walk request), whose state is in states (PX_DIAG_STATE bits), in this
 * network namespace, calling cb for each. 0, or -1 (errno set).
 */
int px_diag_dump(int fd, int family, uint32_t states, px_diag_cb cb, void *arg);
/* True when the socket's remote end is dst (address and port). */
int px_diag_sock_toward(const struct px_diag_sock *sk, const struct sockaddr *dst);
/* True when the socket's local address is one of the nsrc addresses (the port
 * aside), or nsrc is 0. */
int px_diag_sock_from(const struct px_diag_sock *sk, const struct sockaddr_storage *src,
                      size_t nsrc);

/* TIME_WAIT sockets counted by one dump. */
struct px_tw_count {
    uint64_t toward; /* remote end is the target address and port */
    uint64_t all;    /* every TIME_WAIT socket of the family in this namespace */
};

/*
 * Dumps TCP sockets in TIME_WAIT of dst's family and counts those toward dst
 * (a Unix-socket dst counts none). 0, or -1 (errno set).
 */
int px_diag_count_tw(int fd, const struct sockaddr *dst, struct px_tw_count *out);
/* The same toward any of nports consecutive ports from dst's (0 counts as 1). */
int px_diag_count_tw_ports(int fd, const struct sockaddr *dst, unsigned nports,
                           struct px_tw_count *out);
/* One-shot count of TIME_WAIT sockets toward dst (own socket); -1 on error. */
int64_t px_diag_time_wait_toward(const struct sockaddr *dst);

/*
 * The local ports held in this namespace by TCP sockets that are not connected:
 * connect() skips every port with a bind bucket (KERNEL-FACTS.md, "More that
 * connect() does"), so inside the port range these are ports no connection can
 * take. One bit per port.
 */
struct px_bound_ports {
    uint8_t listening[65536 / 8]; /* a LISTEN socket holds the port */
    uint8_t bound[65536 / 8];     /* a socket bound by bind() alone (neither listening nor
                                   * connected; seen on Linux 6.7+) holds it */
    uint8_t open[65536 / 8];      /* px_diag_open_toward: a connection toward one
                                   * destination holds it (from the same source address) */
};

/*
 * Dumps the LISTEN and the bound-only (TCP_BOUND_INACTIVE, state bit 13, 6.7+:
 * they come back as TCP_CLOSE) TCP sockets of both families into out; a v4-mapped
 * or dual-stack IPv6 socket holds the same port as an IPv4 one. 0, or -1 (errno set).
 */
int px_diag_bound_ports(int fd, struct px_bound_ports *out);
/*
 * Ports of [lo, hi] that b holds, each once, leaving out those in the reserved
 * list (ip_local_reserved_ports: connect() skips them anyway); *listening gets
 * how many of them a listener holds (may be NULL).
 */
uint64_t px_bound_ports_count(const struct px_bound_ports *b, unsigned lo, unsigned hi,
                              const char *reserved, uint64_t *listening);
/*
 * Adds to out->open the local ports of the TCP connections toward dst that are
 * open or opening (SYN_SENT to LAST_ACK: not TIME_WAIT, which is counted apart)
 * from one of the nsrc source addresses (nsrc 0: from any). A connection holds
 * its port for its 4-tuple: connect() toward dst from that source cannot take
 * it while it lasts. 0, or -1 (errno set).
 */
int px_diag_open_toward(int fd, const struct sockaddr *dst, const struct sockaddr_storage *src,
                        size_t nsrc, struct px_bound_ports *out);
/* Ports of [lo, hi] that b->open holds and no listener or bound socket does, leaving
 * out the reserved list: what connections already open toward one destination take. */
uint64_t px_open_ports_count(const struct px_bound_ports *b, unsigned lo, unsigned hi,
                             const char *reserved);

/* What a run cannot take from its port range at the start; -1 where sock_diag cannot tell. */
struct px_held_ports {
    int64_t bound;     /* held without a connection (px_bound_ports_count) */
    int64_t listening; /* of them, by a listener */
    int64_t open;      /* held by connections already open toward the target, not in bound */
};
/*
 * One-shot (own socket) measure of the ports of [lo, hi] held at this moment:
 * bound ones, and those that connections toward dst from the sources (nsrc 0:
 * any) hold; dst NULL or not IP: open is 0.
 */
void px_diag_held_in_range(unsigned lo, unsigned hi, const char *reserved,
                           const struct sockaddr *dst, const struct sockaddr_storage *src,
                           size_t nsrc, struct px_held_ports *out);

/* Builds the dump request (inet_diag_req_v2 for TCP; AF_UNSPEC: the v1 TCPDIAG_GETSOCK
 * request, both families in one walk) into buf, which must be aligned for struct
 * nlmsghdr. Its length, or 0 when buflen is too small. */
size_t px_diag_build_request(void *buf, size_t buflen, int family, uint32_t states, uint32_t seq);
/*
 * Runs cb over the records of one reply buffer (seq 0: any sequence number).
 * 1 when the dump is done (NLMSG_DONE), 0 when more follows, -1 on NLMSG_ERROR,
 * a foreign sequence number or a malformed record (errno set).
 */
int px_diag_parse(const void *buf, size_t len, uint32_t seq, px_diag_cb cb, void *arg);

/* rtnetlink, in the caller's namespace. All return 0 or a negative errno. */

/* A veth pair: `name` goes to the netns of pid_a, `peer` to that of pid_b. */
int px_rtnl_veth_create(const char *name, int pid_a, const char *peer, int pid_b);
/* Adds IPv4 addr/prefix to the interface. */
int px_rtnl_addr_add4(const char *ifname, uint32_t addr_be, int prefix);
/* Adds local/32 with a point-to-point peer (a route to peer through the interface). */
int px_rtnl_addr_add4_peer(const char *ifname, uint32_t local_be, uint32_t peer_be);
/* Sets an interface up. */
int px_rtnl_link_up(const char *ifname);
/*
 * Adds the IPv4 route dst/prefix via gw (prefix 0: the default route) to the
 * main table. The gateway must be on a link that is up and has an address in
 * its subnet, or the kernel refuses it (EINVAL, "Nexthop has invalid gateway").
 */
int px_rtnl_route_add4(uint32_t dst_be, int prefix, uint32_t gw_be);
/*
 * The source address the routing table picks toward dst (IPv4 or IPv6), port 0,
 * as `ip route get` asks it (RTM_GETROUTE): no socket toward dst, no packet.
 */
int px_rtnl_route_source(const struct sockaddr_storage *dst, struct sockaddr_storage *src);

#endif
