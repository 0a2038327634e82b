/* SPDX-License-Identifier: MIT */
/*
 * The socket side of opening a client connection, as small functions over an
 * fd (as redis's anet does): the socket with its port range, source address
 * and TCP_NODELAY, and what the kernel negotiated once it is established.
 */
#ifndef PORTEX_LOAD_DIAL_H
#define PORTEX_LOAD_DIAL_H

#include <sys/socket.h>

struct px_load;

/*
 * A non-blocking socket toward load->target, ready for connect(): for TCP
 * with TCP_NODELAY when `nodelay`, --port-range, and bound to the next
 * --source in turn (*src_next counts the sources taken); with bind_first bound
 * to a port at once (to the wildcard address without --source). The fd, or -1
 * with errno (nothing left open).
 */
int px_dial_socket(const struct px_load *load, unsigned *src_next, int nodelay);
/*
 * connect() of fd toward load->target, or with --target-ports N toward the
 * next of its N consecutive ports in turn (*dst_next counts them). connect()'s
 * return value, errno set.
 */
int px_dial_connect(int fd, const struct px_load *load, unsigned *dst_next);
/*
 * Whether a failure of this cause (enum px_cause) means no free local port:
 * EADDRNOTAVAIL from connect(), and with bind_first EADDRINUSE from bind().
 */
int px_dial_out_of_ports(const struct px_load *load, int cause);
/*
 * enum px_ts: did the peer negotiate TCP timestamps on this established
 * connection (PX_TS_UNKNOWN for Unix sockets, or when TCP_INFO fails)?
 */
int px_dial_timestamps(int fd, int family);

#endif
