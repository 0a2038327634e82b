/* SPDX-License-Identifier: MIT */
/* Socket options, address lengths and limits, each asked of the kernel in one place. */
#include "portex/kernel/sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include "portex/base/url.h"
#include "portex/kernel/kernel.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51 /* Linux 6.3+ */
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24 /* Linux 4.2+ */
#endif

socklen_t px_sock_addrlen(const struct sockaddr_storage *ss)
{
    switch (ss->ss_family) {
    case AF_INET6:
        return sizeof(struct sockaddr_in6);
    case AF_UNIX: {
        const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                           strnlen(un->sun_path, sizeof(un->sun_path)) + 1);
    }
    default:
        return sizeof(struct sockaddr_in);
    }
}

uint32_t px_sock_port_range_pack(uint16_t lo, uint16_t hi)
{
    return ((uint32_t)hi << 16) | lo;
}

int px_sock_set_port_range(int fd, uint16_t lo, uint16_t hi)
{
    uint32_t range = px_sock_port_range_pack(lo, hi);
    return setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
}

int px_sock_bind_source(int fd, const struct sockaddr_storage *src)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0)
        return -1;
    return bind(fd, (const struct sockaddr *)src, px_sock_addrlen(src));
}

int px_sock_bind_first(int fd, const struct sockaddr_storage *src)
{
    return bind(fd, (const struct sockaddr *)src, px_sock_addrlen(src));
}

static int preflight_port_range(int family, uint16_t lo, uint16_t hi, char *err, size_t errlen)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0; /* no socket now: the run will count why */
    int rc = 0;
    if (px_sock_set_port_range(fd, lo, hi) < 0) {
        char rel[64];
        int major, minor;
        px_kernel_release(rel, sizeof(rel), &major, &minor);
        snprintf(err, errlen,
                 "--port-range %u-%u needs IP_LOCAL_PORT_RANGE (Linux 6.3 or later); "
                 "this kernel is %s",
                 lo, hi, rel);
        rc = -1;
    }
    close(fd);
    return rc;
}

static int preflight_source(int family, const struct sockaddr_storage *src, char *err,
                            size_t errlen)
{
    char name[64];
    px_sockaddr_ip((const struct sockaddr *)src, name, sizeof(name));
    if (src->ss_family != family) {
        snprintf(err, errlen, "--source %s is not of the target's address family", name);
        return -1;
    }
    int fd = socket(src->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = 0;
    if (fd < 0 || px_sock_bind_source(fd, src) < 0) {
        snprintf(err, errlen, "--source %s is not an address of this machine (%s)", name,
                 strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

int px_sock_preflight(int family, uint16_t port_lo, uint16_t port_hi,
                      const struct sockaddr_storage *sources, size_t nsources, char *err,
                      size_t errlen)
{
    if (port_lo != 0 && preflight_port_range(family, port_lo, port_hi, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < nsources; i++)
        if (preflight_source(family, &sources[i], err, errlen) < 0)
            return -1;
    return 0;
}

unsigned px_sock_fit_nofile(unsigned connections, uint64_t *soft, uint64_t *hard)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    *soft = rl.rlim_cur;
    *hard = rl.rlim_max;
    /* Room for stdio, the event loops, netlink and output files. */
    const uint64_t reserve = 64;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (uint64_t)connections + reserve)
        return connections;
    return rl.rlim_cur > reserve ? (unsigned)(rl.rlim_cur - reserve) : 1;
}
