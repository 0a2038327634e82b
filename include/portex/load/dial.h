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
 * --source in turn (*src_next counts the sources taken). The fd, or -1 with
 * errno (nothing left open).
 */
int px_dial_socket(const struct px_load *load, unsigned *src_next, int nodelay);
/*
 * enum px_ts: did the peer negotiate TCP timestamps on this established
 * connection (PX_TS_UNKNOWN for Unix sockets, or when TCP_INFO fails)?
 */
int px_dial_timestamps(int fd, int family);

#endif
