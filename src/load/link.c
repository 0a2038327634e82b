/* SPDX-License-Identifier: MIT */
/* One client connection: dial, connect, transport handshake, its event, its close. */
#include "portex/load/link.h"

#include <errno.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portex/base/atomic.h"
#include "portex/base/clock.h"
#include "portex/kernel/ceiling.h"
#include "portex/load/dial.h"
#include "portex/load/hist.h"
#include "portex/load/load.h"
#include "portex/load/result.h"

static struct timeval us_to_tv(uint64_t us)
{
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
                         .tv_usec = (suseconds_t)(us % 1000000u)};
    return tv;
}

void px_link_wait(struct px_link *l, uint64_t deadline_us)
{
    uint64_t now = px_clock_us();
    struct timeval tv = us_to_tv(deadline_us > now ? deadline_us - now : 0);
    event_add(l->ev, &tv);
}

void px_link_close(struct px_link *l, const struct px_transport *t, int graceful, int rst)
{
    if (l->conn.fd < 0)
        return;
    t->detach(&l->conn, graceful);
    if (rst) {
        /* SO_LINGER {1, 0}: close() sends RST and skips TIME_WAIT. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(l->conn.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    event_del(l->ev);
    close(l->conn.fd);
    l->conn.fd = -1;
}

/* Did the server negotiate TCP timestamps? Read once per worker, on its first connection. */
static void probe_timestamps(struct px_link *l, struct px_link_env *env)
{
    int ts = px_dial_timestamps(l->conn.fd, env->load->target.ss_family);
    env->ts_probed = 1;
    if (ts != PX_TS_UNKNOWN)
        __atomic_store_n(env->timestamps, ts, __ATOMIC_RELAXED);
}

void px_link_established(struct px_link *l, struct px_link_env *env)
{
    l->established = 1;
    if (!env->ts_probed)
        probe_timestamps(l, env);
    px_hist_record(&env->lat->connect, l->t_ready_us - l->t_connect_us);
    PX_BUMP(env->ctr->connections_opened, 1);
}

void px_link_ready(struct px_link *l)
{
    l->t_ready_us = px_clock_us();
    l->established = 0;
}

/* A handshake that moves bytes (TLS): its latency from connect() done, and whether it resumed. */
static void count_handshake(struct px_link *l, struct px_link_env *env)
{
    px_hist_record(&env->lat->tls, px_clock_us() - l->t_ready_us);
    if (l->conn.resumed)
        PX_BUMP(env->ctr->tls_resumed, 1);
    else
        PX_BUMP(env->ctr->tls_full, 1);
}

enum px_io px_link_handshake(struct px_link *l, struct px_link_env *env)
{
    enum px_io io = env->transport->handshake(&l->conn);
    if (io == PX_IO_DONE && !l->established && env->transport->handshake_io) {
        px_link_established(l, env);
        count_handshake(l, env);
    }
    return io;
}

enum px_link_open px_link_open(struct px_link *l, struct px_link_env *env,
                               void (*cb)(int, short, void *), void *arg, int *cause, int *err)
{
    const struct px_load *cfg = env->load;
    *cause = -1;
    int fd = px_dial_socket(cfg, &env->src_next, env->nodelay);
    if (fd < 0) {
        *err = errno;
        return PX_LINK_FAILED;
    }
    l->t_connect_us = px_clock_us();
    int rc = px_dial_connect(fd, cfg, &env->dst_next);
    /* The call alone, failed ones too: the figure portex watch reads from the tracepoints. */
    px_hist_record(&env->lat->connect_call, px_clock_us() - l->t_connect_us);
    if (rc < 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return PX_LINK_FAILED;
    }
    l->conn.fd = fd;
    l->conn.cause = 0;
    if (env->transport->attach(&l->conn, env->transport_worker) < 0) {
        *cause = l->conn.cause;
        close(fd);
        l->conn.fd = -1;
        return PX_LINK_FAILED;
    }
    /* One registration for the connection's whole life: edge-triggered read,
     * write and peer close. Later waits only move its timeout. */
    event_assign(l->ev, env->base, fd, EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST, cb,
                 arg);
    return rc == 0 ? PX_LINK_CONNECTED : PX_LINK_CONNECTING;
}
