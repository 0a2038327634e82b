/* SPDX-License-Identifier: MIT */
/* Client sockets: options before connect(), and TCP_INFO after. */
#include "portex/load/dial.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "portex/kernel/ceiling.h"
#include "portex/kernel/sock.h"
#include "portex/load/load.h"

/* --port-range, then the next --source. 0, or -1 with errno. */
static int set_source(int fd, const struct px_load *load, unsigned *src_next)
{
    if (load->port_lo != 0 && px_sock_set_port_range(fd, load->port_lo, load->port_hi) < 0)
        return -1;
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
