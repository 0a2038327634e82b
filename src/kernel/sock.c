/* SPDX-License-Identifier: MIT */
/* Socket options, address lengths and limits, each asked of the kernel in one place. */
#include "portex/kernel/sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include "portex/base/clock.h"
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

int px_sock_raise_nofile(uint64_t *soft, uint64_t *hard)
{
    struct rlimit rl = {.rlim_cur = 0, .rlim_max = 0};
    int rc = getrlimit(RLIMIT_NOFILE, &rl);
    if (rc == 0 && rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        rc = setrlimit(RLIMIT_NOFILE, &up);
        if (rc == 0)
            rl = up;
    }
    *soft = rl.rlim_cur;
    *hard = rl.rlim_max;
    return rc;
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

/* Waits for a non-blocking connect() on fd until deadline_us: its errno, 0 when it connected. */
static int connect_wait(int fd, uint64_t deadline_us)
{
    for (;;) {
        uint64_t now = px_clock_us();
        if (now >= deadline_us)
            return ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int rc = poll(&p, 1, (int)((deadline_us - now + 999) / 1000));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return rc == 0 ? ETIMEDOUT : errno;
        int err = 0;
        socklen_t elen = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            return errno;
        return err;
    }
}

int px_sock_probe(const struct sockaddr *addr, socklen_t len, uint64_t timeout_ms)
{
    uint64_t deadline = px_clock_us() + timeout_ms * 1000u;
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int err = connect(fd, addr, len) == 0 ? 0 : errno;
    if (err == EINPROGRESS)
        err = connect_wait(fd, deadline);
    /* SO_LINGER {1, 0}: close() sends RST, so the probe holds no port in TIME_WAIT. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    return err == 0 ? PX_ADDR_ANSWERED : err;
}

size_t px_sock_pick(struct px_url_addr *addrs, size_t n, uint64_t timeout_ms)
{
    if (n < 2)
        return 0;
    for (size_t i = 0; i < n; i++) {
        addrs[i].probe =
            px_sock_probe((const struct sockaddr *)&addrs[i].ss, addrs[i].len, timeout_ms);
        if (addrs[i].probe == PX_ADDR_ANSWERED)
            return i;
    }
    return 0;
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

unsigned px_sock_fit_nofile(uint64_t soft, const struct px_fd_reserve *r, unsigned connections,
                            unsigned *threads)
{
    uint64_t fixed = (uint64_t)r->open_now + r->later;
    uint64_t room = soft > fixed ? soft - fixed : 0; /* for threads and connections */
    uint64_t t = *threads < connections ? *threads : connections;
    if (soft == RLIM_INFINITY || room >= t * r->per_thread + connections)
        return connections;
    if (room >= t * r->per_thread + t)
        return (unsigned)(room - t * r->per_thread);
    /* Fewer connections than threads fit: one thread per connection. */
    uint64_t fit = room / (r->per_thread + 1u);
    if (fit >= 1)
        *threads = (unsigned)fit;
    return (unsigned)fit;
}
