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

/* Bytes of the address that bind()/connect() take for its family (IPv4, IPv6, Unix). */
socklen_t px_sock_addrlen(const struct sockaddr_storage *ss);
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
 * Checks what only this kernel can tell: that a port range [port_lo, port_hi]
 * (0: none) is supported and that every source address is local and of the
 * target's family. 0, or -1 with the reason.
 */
int px_sock_preflight(int family, uint16_t port_lo, uint16_t port_hi,
                      const struct sockaddr_storage *sources, size_t nsources, char *err,
                      size_t errlen);
/*
 * Raises RLIMIT_NOFILE to its hard limit and returns how many of `connections`
 * sockets fit (== connections when all do); *soft, *hard get the limits now in force.
 */
unsigned px_sock_fit_nofile(unsigned connections, uint64_t *soft, uint64_t *hard);

#endif
