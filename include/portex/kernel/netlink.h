/* SPDX-License-Identifier: MIT */
/*
 * Netlink, kept in one module: sock_diag dumps of TIME_WAIT sockets (what `ss`
 * uses) and the few rtnetlink calls the lab needs for its veth pair.
 */
#ifndef PORTEX_NETLINK_H
#define PORTEX_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* TIME_WAIT sockets counted by one dump. */
struct px_tw_count {
    uint64_t toward; /* remote end is the target address and port */
    uint64_t all;    /* every TIME_WAIT socket of the family in this namespace */
};

/* A NETLINK_SOCK_DIAG socket; -1 on error. */
int px_diag_open(void);
/*
 * Dumps TCP sockets in TIME_WAIT of dst's family and counts those toward dst.
 * 0, or -1 (errno set).
 */
int px_diag_count_tw(int fd, const struct sockaddr *dst, struct px_tw_count *out);

/* One-shot count of TIME_WAIT sockets toward dst (own socket); -1 on error. */
int64_t px_diag_time_wait_toward(const struct sockaddr *dst);

/* Builds the dump request (inet_diag_req_v2, states = TIME_WAIT). Returns its length. */
size_t px_diag_build_request(void *buf, size_t buflen, int family, uint32_t seq);
/*
 * Adds the records of one reply buffer to out. 1 when the dump is done
 * (NLMSG_DONE), 0 when more follows, -1 on NLMSG_ERROR or a malformed message.
 */
int px_diag_parse(const void *buf, size_t len, const struct sockaddr *dst, struct px_tw_count *out);

/* rtnetlink, in the caller's namespace. All return 0 or a negative errno. */

/* A veth pair: `name` goes to the netns of pid_a, `peer` to that of pid_b. */
int px_rtnl_veth_create(const char *name, int pid_a, const char *peer, int pid_b);
/* Adds IPv4 addr/prefix to the interface and sets it up. */
int px_rtnl_addr_add4(const char *ifname, uint32_t addr_be, int prefix);
/* Adds local/32 with a point-to-point peer (a route to peer through the interface). */
int px_rtnl_addr_add4_peer(const char *ifname, uint32_t local_be, uint32_t peer_be);
/* Sets an interface up. */
int px_rtnl_link_up(const char *ifname);

#endif
