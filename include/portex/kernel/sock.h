/* SPDX-License-Identifier: MIT */
/*
 * Socket questions only the kernel answers: the length of an address, the
 * per-socket port range (IP_LOCAL_PORT_RANGE), source binding without a port
 * (IP_BIND_ADDRESS_NO_PORT), whether this kernel supports what was asked, and
 * how many sockets the open-files limit allows. Each is written once here.
 */
#ifndef PORTEX_KERNEL_SOCK_H
#define PORTEX_KERNEL_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "portex/base/url.h"

/* Bytes of the address that bind()/connect() take for its family (IPv4, IPv6, Unix). */
socklen_t px_sock_addrlen(const struct sockaddr_storage *ss);
/*
 * Raises RLIMIT_NOFILE's soft limit to the hard one. *soft and *hard get the
 * limits now in force (RLIM_INFINITY: UINT64_MAX). 0, or -1 with errno.
 */
int px_sock_raise_nofile(uint64_t *soft, uint64_t *hard);
/* IP_LOCAL_PORT_RANGE's value: high << 16 | low, both inclusive (KERNEL-FACTS.md). */
uint32_t px_sock_port_range_pack(uint16_t lo, uint16_t hi);
/* Narrows fd's ephemeral range to [lo, hi] (Linux 6.3+). 0, or -1 with errno. */
int px_sock_set_port_range(int fd, uint16_t lo, uint16_t hi);
/*
 * Binds fd to src with port 0 and IP_BIND_ADDRESS_NO_PORT, so the port is
 * chosen at connect() time per destination: every source address gets the
 * whole range toward each target. 0, or -1 with errno.
 */
int px_sock_bind_source(int fd, const struct sockaddr_storage *src);
/*
 * Binds fd to src with port 0 the plain way: the kernel takes a free port now,
 * for every destination, and fails with EADDRINUSE when none is left (the
 * pitfall IP_BIND_ADDRESS_NO_PORT removes). 0, or -1 with errno.
 */
int px_sock_bind_first(int fd, const struct sockaddr_storage *src);
/*
 * One probe connect() to addr, waiting at most timeout_ms: PX_ADDR_ANSWERED when the
 * connection was established (then reset, so that no TIME_WAIT keeps a port of the
 * run's range), else the errno it failed with (ETIMEDOUT at the timeout).
 */
int px_sock_probe(const struct sockaddr *addr, socklen_t len, uint64_t timeout_ms);
/*
 * Which of a name's addresses a run uses, as curl without Happy Eyeballs does: each
 * probed in order, timeout_ms at most each, until one answers; each probe is kept
 * in addrs. A lone address is not probed (the run itself tells). The index of the
 * one that answered, or 0 (the first) when none did.
 */
size_t px_sock_pick(struct px_url_addr *addrs, size_t n, uint64_t timeout_ms);
/*
 * Checks what only this kernel can tell: that a port range [port_lo, port_hi]
 * (0: none) is supported and that every source address is local and of the
 * target's family. 0, or -1 with the reason.
 */
int px_sock_preflight(int family, uint16_t port_lo, uint16_t port_hi,
                      const struct sockaddr_storage *sources, size_t nsources, char *err,
                      size_t errlen);

/* The file descriptors a run holds besides its connections. */
struct px_fd_reserve {
    unsigned open_now;   /* open before the run (px_fd_count) */
    unsigned later;      /* opened for the run whatever its threads: outputs, the stats thread */
    unsigned per_thread; /* each worker thread's, for its event loop */
};

/*
 * How many of `connections` sockets fit under the soft limit beside r, with
 * min(*threads, connections) worker threads; where fewer connections than
 * threads fit, *threads is lowered with them (one connection a thread at
 * least). 0 when not even one connection and its thread fit.
 */
unsigned px_sock_fit_nofile(uint64_t soft, const struct px_fd_reserve *r, unsigned connections,
                            unsigned *threads);

#endif
