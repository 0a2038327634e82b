/* SPDX-License-Identifier: MIT */
/* Client sockets: options before connect(), and TCP_INFO after. */
#include "portex/load/dial.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "portex/base/outcome.h"
#include "portex/kernel/ceiling.h"
#include "portex/kernel/sock.h"
#include "portex/load/load.h"

/* --port-range, then the next --source (or a bind() that takes a port now). 0, or -1. */
static int set_source(int fd, const struct px_load *load, unsigned *src_next)
{
    if (load->port_lo != 0 && px_sock_set_port_range(fd, load->port_lo, load->port_hi) < 0)
        return -1;
    if (load->bind_first) {
        struct sockaddr_storage any = {.ss_family = load->target.ss_family};
        const struct sockaddr_storage *src =
            load->nsources ? &load->sources[(*src_next)++ % load->nsources] : &any;
        return px_sock_bind_first(fd, src);
    }
    if (load->nsources == 0)
        return 0;
    return px_sock_bind_source(fd, &load->sources[(*src_next)++ % load->nsources]);
}

int px_dial_socket(const struct px_load *load, unsigned *src_next, int nodelay)
{
    int fd = socket(load->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || load->target.ss_family == AF_UNIX)
        return fd;
    int one = 1;
    if (nodelay)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (set_source(fd, load, src_next) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int px_dial_connect(int fd, const struct px_load *load, unsigned *dst_next)
{
    if (load->target_ports <= 1 || load->target.ss_family == AF_UNIX)
        return connect(fd, (const struct sockaddr *)&load->target, load->target_len);
    struct sockaddr_storage dst = load->target;
    unsigned k = (*dst_next)++ % load->target_ports;
    if (dst.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&dst;
        in->sin_port = htons((uint16_t)(ntohs(in->sin_port) + k));
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&dst;
        in6->sin6_port = htons((uint16_t)(ntohs(in6->sin6_port) + k));
    }
    return connect(fd, (const struct sockaddr *)&dst, load->target_len);
}

int px_dial_out_of_ports(const struct px_load *load, int cause)
{
    return cause == px_cause_from_errno(EADDRNOTAVAIL) ||
           (load->bind_first && cause == px_cause_from_errno(EADDRINUSE));
}

/* Without timestamps tcp_tw_reuse cannot reuse the connection's port
 * (KERNEL-FACTS.md, tcp_timestamps). */
int px_dial_timestamps(int fd, int family)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (family == AF_UNIX || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return PX_TS_UNKNOWN;
    return (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) ? PX_TS_YES : PX_TS_NO;
}
