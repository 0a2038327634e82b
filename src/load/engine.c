/* SPDX-License-Identifier: MIT */
/*
 * The load engine. Each worker thread owns an event_base, a set of slots (one
 * in-flight request each) and its own counters and histograms, so the hot path
 * takes no lock. A slot walks: connect -> handshake -> write -> read -> close
 * (or keep the connection), then starts again (closed model) or waits for the
 * timetable (open model). Every attempt ends in exactly one outcome bucket.
 *
 * System calls: a short connection costs socket, connect, one edge-triggered
 * epoll registration for read, write and peer-close (EPOLLRDHUP tells that the
 * server's FIN came with the response, so no second recv), send, recv,
 * the registration's removal and close. The connect result is read from the
 * first send (a failed connect makes send return its errno), not SO_ERROR.
 */
#include "portex/load/engine.h"

#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portex/base/atomic.h"
#include "portex/base/clock.h"
#include "portex/load/load.h"
#include "portex/base/url.h"
#include "portex/kernel/ceiling.h"
#include "portex/kernel/sock.h"
#include "portex/load/http.h"
#include "portex/load/transports.h"

#define BACKOFF_US   10000u   /* pause of a slot after a local error (EADDRNOTAVAIL...) */
#define GRACE_MAX_US 2000000u /* how long in-flight requests may finish after a stop */
#define READ_BUF     65536
/* A request larger than one segment goes out in several; only then can Nagle
 * hold its tail, so only then is TCP_NODELAY worth its system call. */
#define NODELAY_MIN_BYTES 1200

enum slot_state {
    SLOT_IDLE,       /* no request; conn.fd may hold a kept-alive connection */
    SLOT_CONNECTING, /* waiting for connect() to finish */
    SLOT_HANDSHAKE,  /* transport handshake (TLS) under way */
    SLOT_WRITING,    /* request partly written */
    SLOT_READING,    /* waiting for (the rest of) the response */
    SLOT_WAIT_EOF,   /* --close server: response read, waiting for the server's FIN */
    SLOT_BACKOFF,    /* closed model: after a failure, restart from the event loop */
};

/* What a slot does after its request ended. */
enum slot_next {
    NEXT_NOW,     /* start the next request at once (closed model) */
    NEXT_LOOP,    /* restart from the event loop, never inside the failing call chain */
    NEXT_BACKOFF, /* restart after BACKOFF_US: a retry at once would only repeat */
};

struct px_worker;

struct slot {
    struct px_worker *w;
    struct event *ev; /* the one event of this slot: the connection's I/O, or a timer */
    struct px_conn conn;
    enum slot_state state;
    unsigned prev_free, next_free; /* free list links (indexes; nslots = none) */
    int in_free;
    uint64_t t_start_us;   /* intended start: latency counts from here */
    uint64_t t_connect_us; /* when connect() was called */
    uint64_t t_ready_us;   /* when the socket first reported ready after connect() */
    uint64_t deadline_us;  /* t_start + timeout */
    size_t written;        /* request bytes sent */
    int reused;            /* request rides a kept-alive connection */
    unsigned conn_reqs;    /* requests begun on this connection (--requests-per-conn) */
    int got_bytes;         /* some response byte arrived */
    int established;       /* the connection carried its first successful step */
    struct px_http_resp resp;
};

struct px_worker {
    struct px_engine *e;
    unsigned id;
    pthread_t thread;
    struct event_base *base;
    struct event *tick;    /* open model timetable, or the end of a closed run */
    struct event *stop_ev; /* activated by px_engine_stop from another thread */
    struct event *grace;   /* end of the drain after a stop */
    struct slot *slots;
    unsigned nslots;
    unsigned free_head; /* idle slots, most recently freed first; nslots = none */
    unsigned nfree;
    unsigned busy; /* slots not idle; busy + nfree == nslots always */
    int stopping;
    uint64_t quota;           /* -n share of this worker; UINT64_MAX when unbounded */
    uint64_t scheduled;       /* open model: timetable position */
    unsigned src_next;        /* --source round robin */
    int ts_probed;            /* TCP_INFO read on this worker's first connection */
    int noted_eaddr;          /* saw the run's first EADDRNOTAVAIL */
    uint64_t ok_before_eaddr; /* ok count when noticing it */
    uint64_t end_us;          /* when the loop ended */
    void *transport_worker;   /* given to transport->attach (TLS: struct px_tls_worker) */
    struct px_totals ctr;     /* written by this thread only */
    struct px_latency lat;    /* written by this thread only */
    char rbuf[READ_BUF];
};

struct px_engine {
    const struct px_load *cfg;
    const struct px_transport *transport;
    void *transport_ctx; /* the run's transport context (TLS: the client context) */
    char *req;          /* request bytes */
    size_t req_len;
    char *req_last; /* -k --requests-per-conn N --close server: the Nth, with Connection: close */
    size_t req_last_len;
    int head; /* HEAD request: no response body */
    struct px_worker *workers;
    unsigned nworkers;
    uint64_t t0_us;   /* first start: the zero of every series */
    uint64_t end_us;  /* duration end, 0 with -n */
    uint64_t stop_us; /* px_engine_stop was first called (atomic), 0 = never */
    uint64_t finished_us;
    int started;
    int finished;            /* workers done, under lock */
    uint64_t first_eaddr_us; /* first EADDRNOTAVAIL of the run, 0 = none (atomic) */
    int timestamps;          /* enum px_ts of the first connection (atomic) */
    pthread_mutex_t lock;
};

static void slot_cb(evutil_socket_t fd, short what, void *arg);
static void start_request(struct slot *s, uint64_t t_start);
static void worker_check_finished(struct px_worker *w);

static struct timeval us_to_tv(uint64_t us)
{
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
                         .tv_usec = (suseconds_t)(us % 1000000u)};
    return tv;
}

static int open_model(const struct px_worker *w)
{
    return w->e->cfg->rate_per_s > 0;
}

/* ---- the one place a slot changes state -------------------------------- */

static void free_push(struct px_worker *w, struct slot *s)
{
    unsigned i = (unsigned)(s - w->slots);
    s->prev_free = w->nslots;
    s->next_free = w->free_head;
    if (w->free_head != w->nslots)
        w->slots[w->free_head].prev_free = i;
    w->free_head = i;
    s->in_free = 1;
    w->nfree++;
}

static void free_unlink(struct px_worker *w, struct slot *s)
{
    if (s->prev_free != w->nslots)
        w->slots[s->prev_free].next_free = s->next_free;
    else
        w->free_head = s->next_free;
    if (s->next_free != w->nslots)
        w->slots[s->next_free].prev_free = s->prev_free;
    s->in_free = 0;
    w->nfree--;
}

#ifndef NDEBUG
/* busy counts exactly the slots that are not idle, and idle slots are free. */
static int worker_consistent(const struct px_worker *w)
{
    unsigned not_idle = 0, listed = 0;
    for (unsigned i = 0; i < w->nslots; i++) {
        not_idle += w->slots[i].state != SLOT_IDLE;
        listed += w->slots[i].in_free;
        if ((w->slots[i].state == SLOT_IDLE) != w->slots[i].in_free)
            return 0;
    }
    return not_idle == w->busy && listed == w->nfree && w->busy + w->nfree == w->nslots;
}
#endif

/*
 * Moves a slot to `to`, keeping `busy` and the free list in step: every
 * state change of the engine goes through here.
 */
static void slot_set(struct slot *s, enum slot_state to)
{
    struct px_worker *w = s->w;
    int was_idle = s->state == SLOT_IDLE, idle = to == SLOT_IDLE;
    s->state = to;
    if (was_idle && !idle) {
        free_unlink(w, s);
        w->busy++;
    } else if (!was_idle && idle) {
        w->busy--;
        free_push(w, s);
    }
#ifndef NDEBUG
    if (w->nslots <= 64)
        assert(worker_consistent(w));
#endif
}

/* ---- connections ------------------------------------------------------- */

/* Waits on the slot's event until deadline_us; the I/O registration stays. */
static void slot_wait(struct slot *s, uint64_t deadline_us)
{
    uint64_t now = px_clock_us();
    struct timeval tv = us_to_tv(deadline_us > now ? deadline_us - now : 0);
    event_add(s->ev, &tv);
}

/* The slot's event becomes a pure timer (no connection is open). */
static void slot_timer(struct slot *s, uint64_t delay_us)
{
    struct timeval tv = us_to_tv(delay_us);
    event_assign(s->ev, s->w->base, -1, 0, slot_cb, s);
    event_add(s->ev, &tv);
}

static void conn_close(struct slot *s, int graceful, int rst)
{
    if (s->conn.fd < 0)
        return;
    const struct px_transport *t = s->w->e->transport;
    t->detach(&s->conn, graceful);
    if (rst) {
        /* SO_LINGER {1, 0}: close() sends RST and skips TIME_WAIT. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(s->conn.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    event_del(s->ev);
    close(s->conn.fd);
    s->conn.fd = -1;
}

static void count_failure(struct slot *s, int cause)
{
    PX_BUMP(s->w->ctr.cause[cause], 1);
    PX_BUMP(s->w->ctr.failed, 1);
    /* Once the first is recorded, a plain load keeps the many that follow
     * off the shared cache line's compare-and-swap. */
    if (cause == px_cause_from_errno(EADDRNOTAVAIL) &&
        __atomic_load_n(&s->w->e->first_eaddr_us, __ATOMIC_RELAXED) == 0) {
        uint64_t none = 0;
        __atomic_compare_exchange_n(&s->w->e->first_eaddr_us, &none, px_clock_us(), 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
}

/* Errors that a retry right away would only repeat (no free port, no fd,
 * nobody listening, no route): the slot pauses instead of spinning. */
static int needs_backoff(int cause)
{
    static const int errs[] = {EADDRNOTAVAIL, EMFILE,     ENFILE,       ENOBUFS,
                               ENOMEM,        EADDRINUSE, ECONNREFUSED, ENETUNREACH,
                               EHOSTUNREACH,  ENETDOWN,   EACCES,       EPERM};
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
        if (cause == px_cause_from_errno(errs[i]))
            return 1;
    return 0;
}

/* ---- the end of a request ---------------------------------------------- */

/* Closed model: the slot's next request, if the -n share allows one. */
static void closed_next(struct slot *s, enum slot_next next)
{
    struct px_worker *w = s->w;
    if (w->stopping || open_model(w))
        return;
    if (w->quota == 0) {
        /* Nothing left to start; requests in flight still end normally. */
        w->stopping = 1;
        return;
    }
    if (next == NEXT_NOW) {
        w->quota--;
        start_request(s, px_clock_us());
        return;
    }
    /* A pause, not a spin, and never a restart from inside the failing call
     * chain (a connect that fails at once would otherwise recurse). */
    slot_set(s, SLOT_BACKOFF);
    slot_timer(s, next == NEXT_BACKOFF ? BACKOFF_US : 0);
}

/* A request ended (counted already): the slot becomes idle, then goes on. */
static void slot_done(struct slot *s, enum slot_next next)
{
    struct px_worker *w = s->w;
    if (!w->noted_eaddr && __atomic_load_n(&w->e->first_eaddr_us, __ATOMIC_RELAXED) != 0) {
        w->noted_eaddr = 1;
        w->ok_before_eaddr = w->ctr.ok;
    }
    if (s->conn.fd >= 0) {
        if (w->stopping)
            conn_close(s, 1, 0);
        else
            event_remove_timer(s->ev); /* idle kept-alive: no deadline */
    }
    slot_set(s, SLOT_IDLE);
    closed_next(s, next);
    if (s->state == SLOT_IDLE)
        worker_check_finished(w);
}

/* The attempt failed: count it, drop the connection, free the slot. */
static void slot_fail(struct slot *s, int cause)
{
    count_failure(s, cause);
    conn_close(s, 0, 0);
    slot_done(s, needs_backoff(cause) ? NEXT_BACKOFF : NEXT_LOOP);
}

static void open_connection(struct slot *s);

/* A kept-alive connection died before any byte of the answer: the server
 * closed it while idle. Retry once on a new connection, uncounted. */
static int retry_fresh(struct slot *s)
{
    if (!s->reused || s->got_bytes)
        return 0;
    conn_close(s, 0, 0);
    s->reused = 0;
    open_connection(s);
    return 1;
}

/* A transport step failed: retry on a fresh connection or count the cause. */
static void io_failed(struct slot *s)
{
    if (!retry_fresh(s))
        slot_fail(s, s->conn.cause);
}

/* ---- one request's steps ----------------------------------------------- */

static void begin_read(struct slot *s)
{
    px_http_resp_init(&s->resp, s->w->e->head);
    slot_set(s, SLOT_READING);
    slot_wait(s, s->deadline_us);
}

/* Did the server negotiate TCP timestamps? Without them tcp_tw_reuse cannot
 * reuse this connection's port (KERNEL-FACTS.md, tcp_timestamps). */
static void probe_timestamps(struct slot *s)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    s->w->ts_probed = 1;
    if (s->w->e->cfg->target.ss_family == AF_UNIX)
        return;
    if (getsockopt(s->conn.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
        __atomic_store_n(&s->w->e->timestamps,
                         (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) ? PX_TS_YES : PX_TS_NO,
                         __ATOMIC_RELAXED);
}

/* The connection carried its first byte: connect() had succeeded. */
static void on_established(struct slot *s)
{
    struct px_worker *w = s->w;
    s->established = 1;
    if (!w->ts_probed)
        probe_timestamps(s);
    px_hist_record(&w->lat.connect, s->t_ready_us - s->t_connect_us);
    PX_BUMP(w->ctr.connections_opened, 1);
}

/* -k --requests-per-conn N: this request is the connection's Nth, its last. */
static int conn_last_request(const struct slot *s)
{
    const struct px_load *cfg = s->w->e->cfg;
    return cfg->keepalive && cfg->requests_per_conn > 0 && s->conn_reqs >= cfg->requests_per_conn;
}

static void do_write(struct slot *s)
{
    const struct px_engine *e = s->w->e;
    const char *req = e->req;
    size_t len = e->req_len;
    if (e->req_last != NULL && conn_last_request(s)) {
        req = e->req_last;
        len = e->req_last_len;
    }
    while (s->written < len) {
        size_t n = 0;
        enum px_io io = e->transport->write(&s->conn, req + s->written, len - s->written, &n);
        if (io == PX_IO_DONE) {
            if (!s->established)
                on_established(s);
            s->written += n;
            continue;
        }
        if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
            slot_set(s, SLOT_WRITING);
            slot_wait(s, s->deadline_us);
            return;
        }
        io_failed(s);
        return;
    }
    begin_read(s);
}

static void begin_write(struct slot *s)
{
    s->written = 0;
    s->got_bytes = 0;
    do_write(s);
}

/* TLS: the handshake's latency from connect() done, and whether it resumed. */
static void on_handshake_done(struct slot *s)
{
    struct px_worker *w = s->w;
    px_hist_record(&w->lat.tls, px_clock_us() - s->t_ready_us);
    if (s->conn.resumed)
        PX_BUMP(w->ctr.tls_resumed, 1);
    else
        PX_BUMP(w->ctr.tls_full, 1);
}

static void do_handshake(struct slot *s)
{
    enum px_io io = s->w->e->transport->handshake(&s->conn);
    if (io == PX_IO_DONE) {
        if (!s->established && s->w->e->transport->handshake_io) {
            on_established(s);
            on_handshake_done(s);
        }
        begin_write(s);
    } else if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
        slot_set(s, SLOT_HANDSHAKE);
        slot_wait(s, s->deadline_us);
    } else {
        slot_fail(s, s->conn.cause);
    }
}

/* connect() finished (or failed: the first transport step tells). */
static void on_connect_ready(struct slot *s)
{
    s->t_ready_us = px_clock_us();
    s->established = 0;
    do_handshake(s);
}

static int set_source(struct slot *s, int fd)
{
    const struct px_load *cfg = s->w->e->cfg;
    if (cfg->port_lo != 0 && px_sock_set_port_range(fd, cfg->port_lo, cfg->port_hi) < 0)
        return -1;
    if (cfg->nsources == 0)
        return 0;
    return px_sock_bind_source(fd, &cfg->sources[s->w->src_next++ % cfg->nsources]);
}

/* A failure before the connection exists (socket, bind, connect at once:
 * EADDRNOTAVAIL, ENETUNREACH, EACCES...): counted by errno, and the slot backs
 * off, so that no such error can spin or recurse. */
static void fail_at_once(struct slot *s, int err)
{
    count_failure(s, px_cause_from_errno(err));
    slot_done(s, NEXT_BACKOFF);
}

static void open_connection(struct slot *s)
{
    const struct px_engine *e = s->w->e;
    const struct px_load *cfg = e->cfg;
    s->conn_reqs = 1;
    int fd = socket(cfg->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail_at_once(s, errno);
        return;
    }
    if (cfg->target.ss_family != AF_UNIX) {
        int one = 1;
        if (e->transport->nodelay || e->req_len > NODELAY_MIN_BYTES)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (set_source(s, fd) < 0) {
            int err = errno;
            close(fd);
            fail_at_once(s, err);
            return;
        }
    }
    s->t_connect_us = px_clock_us();
    int rc = connect(fd, (const struct sockaddr *)&cfg->target, cfg->target_len);
    if (rc < 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        fail_at_once(s, err);
        return;
    }
    s->conn.fd = fd;
    s->conn.cause = 0;
    if (e->transport->attach(&s->conn, s->w->transport_worker) < 0) {
        int cause = s->conn.cause;
        close(fd);
        s->conn.fd = -1;
        count_failure(s, cause);
        slot_done(s, NEXT_BACKOFF);
        return;
    }
    /* One registration for the connection's whole life: edge-triggered read,
     * write and peer close. Later waits only move its timeout. */
    event_assign(s->ev, s->w->base, fd, EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
                 slot_cb, s);
    if (rc == 0) {
        /* Connected at once (Unix sockets): the first step follows now. */
        slot_wait(s, s->deadline_us);
        on_connect_ready(s);
        return;
    }
    slot_set(s, SLOT_CONNECTING);
    uint64_t cdl = s->t_connect_us + cfg->connect_timeout_ms * 1000u;
    slot_wait(s, cdl < s->deadline_us ? cdl : s->deadline_us);
}

static void start_request(struct slot *s, uint64_t t_start)
{
    struct px_worker *w = s->w;
    PX_BUMP(w->ctr.started, 1);
    s->t_start_us = t_start;
    s->deadline_us = t_start + w->e->cfg->timeout_ms * 1000u;
    /* Leaves idle here, so that the counts are right whatever follows. */
    slot_set(s, SLOT_CONNECTING);
    if (s->conn.fd >= 0) {
        s->reused = 1;
        s->conn_reqs++;
        begin_write(s);
        return;
    }
    s->reused = 0;
    open_connection(s);
}

static void on_wait_eof(struct slot *s, short what);

/* The whole response is in; fin: the server's FIN was seen with it. */
static void finish_response(struct slot *s, int fin)
{
    struct px_worker *w = s->w;
    const struct px_load *cfg = w->e->cfg;
    int status = s->resp.status;
    px_hist_record(&w->lat.total, px_clock_us() - s->t_start_us);
    if (status >= 100 && status <= 599)
        PX_BUMP(w->ctr.status[status / 100], 1);
    if (status >= 200 && status <= 399) {
        PX_BUMP(w->ctr.ok, 1);
    } else {
        int cause = status >= 400 && status <= 499   ? PX_CAUSE_HTTP_4XX
                    : status >= 500 && status <= 599 ? PX_CAUSE_HTTP_5XX
                    : status == 101                  ? PX_CAUSE_SWITCHED
                                                     : PX_CAUSE_BAD_STATUS;
        count_failure(s, cause);
    }
    /* Short connections, and kept-alive ones after their Nth request, close
     * the way --close says. */
    int close_now = !cfg->keepalive || conn_last_request(s);
    /* Not for the Nth request: its "Connection: close" made keep_alive 0, and
     * --close server must still wait below for the server's FIN. */
    if (cfg->keepalive && !close_now && (!s->resp.keep_alive || fin)) {
        conn_close(s, 1, 0);
    } else if (close_now && cfg->close == PX_CLOSE_SERVER && !fin && status != 101) {
        /* Wait for the server's FIN so that the server holds TIME_WAIT (after a
         * 101 the connection left HTTP: no FIN is coming for it). */
        slot_set(s, SLOT_WAIT_EOF);
        slot_wait(s, s->deadline_us);
        /* TLS may hold the server's close_notify already, or have taken the
         * edge that announced it: look now rather than wait for another. */
        if (!w->e->transport->short_read_drains)
            on_wait_eof(s, EV_READ);
        return;
    } else if (close_now) {
        conn_close(s, cfg->close != PX_CLOSE_RST, cfg->close == PX_CLOSE_RST);
    }
    slot_done(s, NEXT_NOW);
}

/* Feeds n fresh bytes to the parser. 1 when the slot is done with them. */
static int take_bytes(struct slot *s, size_t n, int fin)
{
    struct px_worker *w = s->w;
    if (!s->got_bytes) {
        s->got_bytes = 1;
        px_hist_record(&w->lat.ttfb, px_clock_us() - s->t_start_us);
    }
    size_t used;
    int step = px_http_resp_feed(&s->resp, w->rbuf, n, &used);
    if (step == PX_HTTP_DONE) {
        /* Bytes past the response were never asked for: do not reuse. */
        if (used < n)
            s->resp.keep_alive = 0;
        finish_response(s, fin);
        return 1;
    }
    if (step == PX_HTTP_ERROR) {
        slot_fail(s, PX_CAUSE_PARSE);
        return 1;
    }
    return 0;
}

/* The peer closed: a close-delimited body ends here, anything else was cut. */
static void take_eof(struct slot *s)
{
    int step = px_http_resp_eof(&s->resp);
    if (step == PX_HTTP_DONE)
        finish_response(s, 1);
    else if (!retry_fresh(s))
        slot_fail(s, step == PX_HTTP_ERROR ? PX_CAUSE_PARSE : PX_CAUSE_CLOSED);
}

static void on_readable(struct slot *s, short what)
{
    struct px_worker *w = s->w;
    const struct px_transport *t = w->e->transport;
    int fin = (what & EV_CLOSED) != 0;
    for (;;) {
        size_t n = 0;
        enum px_io io = t->read(&s->conn, w->rbuf, sizeof(w->rbuf), &n);
        if (io == PX_IO_DONE) {
            /* A short read emptied the socket; unless a FIN is pending the
             * next edge brings more, so no recv just to hear EAGAIN. */
            int drained = t->short_read_drains && n < sizeof(w->rbuf) && !fin;
            if (take_bytes(s, n, fin && t->short_read_drains && n < sizeof(w->rbuf)))
                return;
            if (drained) {
                slot_wait(s, s->deadline_us);
                return;
            }
        } else if (io == PX_IO_EOF) {
            take_eof(s);
            return;
        } else if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
            slot_wait(s, s->deadline_us);
            return;
        } else {
            io_failed(s);
            return;
        }
    }
}

/* --close server: the response is counted; close once the server's FIN is here. */
static void on_wait_eof(struct slot *s, short what)
{
    enum px_io io = PX_IO_DONE;
    /* Edge-triggered: read until the socket is empty, or the next edge may never come. */
    while (!(what & (EV_TIMEOUT | EV_CLOSED)) && io == PX_IO_DONE) {
        size_t n;
        io = s->w->e->transport->read(&s->conn, s->w->rbuf, sizeof(s->w->rbuf), &n);
        if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
            slot_wait(s, s->deadline_us);
            return;
        }
    }
    /* FIN, error or timeout: nothing more to count. */
    conn_close(s, 0, 0);
    slot_done(s, NEXT_NOW);
}

static void on_timeout(struct slot *s)
{
    if (s->state == SLOT_CONNECTING && px_clock_us() < s->deadline_us)
        slot_fail(s, PX_CAUSE_CONNECT_TIMEOUT);
    else
        slot_fail(s, PX_CAUSE_REQUEST_TIMEOUT);
}

static void slot_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct slot *s = arg;
    if ((what & EV_TIMEOUT) && s->state != SLOT_BACKOFF && s->state != SLOT_WAIT_EOF &&
        s->state != SLOT_IDLE) {
        on_timeout(s);
        return;
    }
    switch (s->state) {
    case SLOT_CONNECTING:
        on_connect_ready(s);
        break;
    case SLOT_HANDSHAKE:
        do_handshake(s);
        break;
    case SLOT_WRITING:
        do_write(s);
        break;
    case SLOT_READING:
        if (what & (EV_READ | EV_CLOSED))
            on_readable(s, what);
        else
            slot_wait(s, s->deadline_us); /* writable again: nothing to read yet */
        break;
    case SLOT_WAIT_EOF:
        on_wait_eof(s, what);
        break;
    case SLOT_BACKOFF:
        slot_set(s, SLOT_IDLE);
        if (s->w->stopping) {
            worker_check_finished(s->w);
            break;
        }
        closed_next(s, NEXT_NOW);
        if (s->state == SLOT_IDLE)
            worker_check_finished(s->w);
        break;
    case SLOT_IDLE:
        /* An idle kept-alive connection spoke: the server closed it. */
        if (what & (EV_READ | EV_CLOSED))
            conn_close(s, 0, 0);
        break;
    }
}

static void worker_check_finished(struct px_worker *w)
{
    if (w->stopping && w->busy == 0)
        event_base_loopbreak(w->base);
}

/* ---- the timetable and the end of a run -------------------------------- */

static uint64_t schedule_time(const struct px_worker *w, uint64_t k)
{
    const struct px_engine *e = w->e;
    /* One global timetable at rate R: host K of N (--shard) takes starts
     * K, K+N, ...; its worker i of W takes, of those, i, i+W, ...: global
     * start K + N * (i + W * k). N hosts together make the one-host schedule. */
    double shards = e->cfg->shards ? e->cfg->shards : 1;
    double idx = ((double)k * e->nworkers + w->id) * shards + e->cfg->shard;
    return e->t0_us + (uint64_t)(idx * 1e6 / e->cfg->rate_per_s);
}

static void worker_quiesce(struct px_worker *w);
static void worker_begin_stop(struct px_worker *w);

/* Open model: start every request whose time has come, then sleep till the next. */
static void tick_open(struct px_worker *w)
{
    uint64_t now = px_clock_us();
    for (;;) {
        if (w->quota == 0) {
            worker_quiesce(w);
            return;
        }
        uint64_t t = schedule_time(w, w->scheduled);
        if (w->e->end_us != 0 && t >= w->e->end_us) {
            /* No start is left, but the window lasts -d: stopping at the last start
             * would shorten it and overstate every rate at a low -r. */
            if (now < w->e->end_us) {
                struct timeval tv = us_to_tv(w->e->end_us - now);
                evtimer_add(w->tick, &tv);
                return;
            }
            worker_begin_stop(w);
            return;
        }
        if (t > now) {
            struct timeval tv = us_to_tv(t - now);
            evtimer_add(w->tick, &tv);
            return;
        }
        w->scheduled++;
        w->quota--;
        if (w->nfree == 0) {
            /* The in-flight cap is reached: count it, never delay the start. */
            PX_BUMP(w->ctr.missed_starts, 1);
            continue;
        }
        start_request(&w->slots[w->free_head], t);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_worker *w = arg;
    if (open_model(w))
        tick_open(w);
    else
        worker_begin_stop(w); /* closed model: the duration is over */
}

/* The drain after a stop is over: what is still in flight is cancelled. */
static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_worker *w = arg;
    for (unsigned i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->state == SLOT_IDLE)
            continue;
        /* WAIT_EOF: the response was counted already; BACKOFF: so was its failure. */
        if (s->state != SLOT_WAIT_EOF && s->state != SLOT_BACKOFF)
            count_failure(s, PX_CAUSE_CANCELLED);
        conn_close(s, 0, 0);
        event_del(s->ev);
        slot_set(s, SLOT_IDLE);
    }
    event_base_loopbreak(w->base);
}

/* Start nothing more; close idle connections; in-flight requests go on. */
static void worker_quiesce(struct px_worker *w)
{
    w->stopping = 1;
    evtimer_del(w->tick);
    for (unsigned i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->state == SLOT_BACKOFF) {
            event_del(s->ev);
            slot_set(s, SLOT_IDLE);
        }
        if (s->state == SLOT_IDLE)
            conn_close(s, 1, 0);
    }
    worker_check_finished(w);
}

/* Duration over or stop asked: quiesce, and give in-flight requests a grace. */
static void worker_begin_stop(struct px_worker *w)
{
    if (evtimer_pending(w->grace, NULL))
        return;
    worker_quiesce(w);
    uint64_t grace = w->e->cfg->timeout_ms * 1000u;
    if (grace > GRACE_MAX_US)
        grace = GRACE_MAX_US;
    struct timeval tv = us_to_tv(grace);
    evtimer_add(w->grace, &tv);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_begin_stop(arg);
}

static void *worker_main(void *arg)
{
    struct px_worker *w = arg;
    struct px_engine *e = w->e;
    if (open_model(w)) {
        tick_open(w);
    } else {
        if (e->end_us != 0) {
            struct timeval tv = us_to_tv(e->end_us - e->t0_us);
            evtimer_add(w->tick, &tv);
        }
        for (unsigned i = 0; i < w->nslots && w->quota > 0 && !w->stopping; i++) {
            w->quota--;
            start_request(&w->slots[i], px_clock_us());
        }
        if (w->busy == 0)
            worker_quiesce(w);
    }
    if (!w->stopping || w->busy > 0)
        event_base_dispatch(w->base);
    for (unsigned i = 0; i < w->nslots; i++)
        conn_close(&w->slots[i], 0, 0);
    w->end_us = px_clock_us();
    pthread_mutex_lock(&e->lock);
    e->finished++;
    if (w->end_us > e->finished_us)
        e->finished_us = w->end_us;
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

static int build_request(struct px_engine *e)
{
    const struct px_load *cfg = e->cfg;
    char host[PX_URL_HOST_MAX + 16];
    px_url_host_header(&cfg->url, host, sizeof(host));
    struct px_http_request_spec spec = {
        .method = cfg->method,
        .host = host,
        .path = cfg->url.path,
        .headers = cfg->headers,
        .nheaders = cfg->nheaders,
        .body = cfg->body,
        .body_len = cfg->body_len,
        .close = !cfg->keepalive && cfg->close == PX_CLOSE_SERVER,
    };
    e->head = strcmp(cfg->method, "HEAD") == 0;
    if (px_http_request_build(&spec, &e->req, &e->req_len) < 0)
        return -1;
    if (!cfg->keepalive || cfg->requests_per_conn == 0 || cfg->close != PX_CLOSE_SERVER)
        return 0;
    /* The connection's last request asks the server to close first. */
    spec.close = 1;
    return px_http_request_build(&spec, &e->req_last, &e->req_last_len);
}

static int worker_init(struct px_engine *e, struct px_worker *w, unsigned id, unsigned nslots,
                       uint64_t quota)
{
    w->e = e;
    w->id = id;
    w->nslots = nslots;
    w->quota = quota;
    w->free_head = nslots;
    px_hist_init(&w->lat.connect);
    px_hist_init(&w->lat.ttfb);
    px_hist_init(&w->lat.total);
    px_hist_init(&w->lat.tls);
    if (e->transport->worker_new(&w->transport_worker, e->transport_ctx) < 0)
        return -1;
    struct event_config *ec = event_config_new();
    if (ec == NULL)
        return -1;
    /* Timers set the open model's timetable: ask for timerfd precision there.
     * The closed model only has timeouts, and a timerfd would cost a syscall
     * whenever the nearest one moves. */
    if (e->cfg->rate_per_s > 0)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    /* Edge-triggered registrations and peer-close (EPOLLRDHUP) need epoll. */
    event_config_require_features(ec, EV_FEATURE_ET | EV_FEATURE_EARLY_CLOSE);
    w->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (w->base == NULL)
        return -1;
    w->tick = evtimer_new(w->base, tick_cb, w);
    w->grace = evtimer_new(w->base, grace_cb, w);
    w->stop_ev = event_new(w->base, -1, 0, stop_cb, w);
    w->slots = calloc(nslots, sizeof(*w->slots));
    if (!w->tick || !w->grace || !w->stop_ev || !w->slots)
        return -1;
    /* Pushed in reverse, so that slot 0 is the first the timetable takes. */
    for (unsigned i = nslots; i-- > 0;) {
        struct slot *s = &w->slots[i];
        s->w = w;
        s->conn.fd = -1;
        s->state = SLOT_IDLE;
        s->ev = event_new(w->base, -1, 0, slot_cb, s);
        if (s->ev == NULL)
            return -1;
        free_push(w, s);
    }
    return 0;
}

/* event_active() from the main thread needs libevent's locking. */
static void use_pthreads(void)
{
    evthread_use_pthreads();
}

struct px_engine *px_engine_new(const struct px_load *cfg, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, use_pthreads);
    struct px_engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->transport = px_transports_for(cfg->url.tls);
    e->timestamps = PX_TS_UNKNOWN;
    pthread_mutex_init(&e->lock, NULL);
    unsigned nw = cfg->threads ? cfg->threads : 1;
    if (nw > cfg->connections)
        nw = cfg->connections;
    e->nworkers = nw;
    e->workers = calloc(nw, sizeof(*e->workers));
    if (e->workers == NULL || build_request(e) < 0) {
        snprintf(err, errlen, "out of memory");
        px_engine_free(e);
        return NULL;
    }
    if (e->transport->ctx_new(&e->transport_ctx, cfg, err, errlen) < 0) {
        px_engine_free(e);
        return NULL;
    }
    for (unsigned i = 0; i < nw; i++) {
        unsigned nslots = cfg->connections / nw + (i < cfg->connections % nw);
        uint64_t quota = cfg->requests ? cfg->requests / nw + (i < cfg->requests % nw) : UINT64_MAX;
        if (worker_init(e, &e->workers[i], i, nslots, quota) < 0) {
            snprintf(err, errlen,
                     "cannot set up worker %u (an epoll event loop with edge triggers, or memory)",
                     i);
            px_engine_free(e);
            return NULL;
        }
    }
    return e;
}

int px_engine_start(struct px_engine *e, char *err, size_t errlen)
{
    e->t0_us = px_clock_us();
    e->end_us = e->cfg->duration_ms ? e->t0_us + e->cfg->duration_ms * 1000u : 0;
    for (unsigned i = 0; i < e->nworkers; i++) {
        int rc = pthread_create(&e->workers[i].thread, NULL, worker_main, &e->workers[i]);
        if (rc != 0) {
            snprintf(err, errlen, "cannot create worker thread %u: %s", i, strerror(rc));
            for (unsigned j = 0; j < i; j++)
                event_active(e->workers[j].stop_ev, EV_READ, 0);
            for (unsigned j = 0; j < i; j++)
                pthread_join(e->workers[j].thread, NULL);
            return -1;
        }
        e->started = (int)i + 1;
    }
    return 0;
}

void px_engine_stop(struct px_engine *e)
{
    uint64_t none = 0;
    __atomic_compare_exchange_n(&e->stop_us, &none, px_clock_us(), 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
    for (int i = 0; i < e->started; i++)
        event_active(e->workers[i].stop_ev, EV_READ, 0);
}

int px_engine_done(const struct px_engine *e)
{
    struct px_engine *m = (struct px_engine *)e;
    pthread_mutex_lock(&m->lock);
    int done = e->finished == e->started;
    pthread_mutex_unlock(&m->lock);
    return done;
}

void px_engine_wait(struct px_engine *e)
{
    for (int i = 0; i < e->started; i++)
        pthread_join(e->workers[i].thread, NULL);
    e->started = 0;
}

uint64_t px_engine_start_us(const struct px_engine *e)
{
    return e->t0_us;
}

/*
 * The end of the load window: the end of -d, the moment a stop was asked, or
 * (with -n) the last completion, whichever came first. What ends after it is
 * the drain: counted in the totals, but no rate is divided by its time.
 */
static uint64_t load_end_us(const struct px_engine *e)
{
    uint64_t end = e->finished_us;
    uint64_t stop = __atomic_load_n(&e->stop_us, __ATOMIC_RELAXED);
    if (e->end_us != 0 && e->end_us < end)
        end = e->end_us;
    if (stop != 0 && stop < end)
        end = stop;
    return end > e->t0_us ? end : e->t0_us;
}

double px_engine_duration_s(const struct px_engine *e)
{
    return (double)(load_end_us(e) - e->t0_us) / 1e6;
}

double px_engine_drain_s(const struct px_engine *e)
{
    uint64_t end = load_end_us(e);
    return e->finished_us > end ? (double)(e->finished_us - end) / 1e6 : 0.0;
}

void px_engine_totals(const struct px_engine *e, struct px_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < e->nworkers; i++)
        px_totals_add(out, &e->workers[i].ctr);
}

/*
 * The workers' histograms of one kind (the struct px_hist at byte `off` of
 * struct px_latency) merged into out; snapshots, so safe while the run goes on.
 */
static void merge_workers(const struct px_engine *e, size_t off, struct px_hist *out)
{
    struct px_hist snap;
    px_hist_init(out);
    for (unsigned i = 0; i < e->nworkers; i++) {
        px_hist_snapshot(&snap, (const struct px_hist *)((const char *)&e->workers[i].lat + off));
        px_hist_merge(out, &snap);
    }
}

void px_engine_tls_hist(const struct px_engine *e, struct px_hist *out)
{
    merge_workers(e, offsetof(struct px_latency, tls), out);
}

void px_engine_total_hist(const struct px_engine *e, struct px_hist *out)
{
    merge_workers(e, offsetof(struct px_latency, total), out);
}

void px_engine_phase_hists(const struct px_engine *e, struct px_hist *connect, struct px_hist *ttfb)
{
    merge_workers(e, offsetof(struct px_latency, connect), connect);
    merge_workers(e, offsetof(struct px_latency, ttfb), ttfb);
}

void px_engine_latency(const struct px_engine *e, struct px_latency *out)
{
    px_engine_phase_hists(e, &out->connect, &out->ttfb);
    px_engine_total_hist(e, &out->total);
    px_engine_tls_hist(e, &out->tls);
}

void px_engine_tls_summary(const struct px_engine *e, struct px_tls_summary *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < e->nworkers; i++)
        e->transport->summarize(e->workers[i].transport_worker, out);
}

int px_engine_first_eaddrnotavail(const struct px_engine *e, double *t_s, uint64_t *ok_before)
{
    uint64_t first = __atomic_load_n(&e->first_eaddr_us, __ATOMIC_RELAXED);
    if (first == 0)
        return 0;
    *t_s = (double)(first - e->t0_us) / 1e6;
    *ok_before = 0;
    for (unsigned i = 0; i < e->nworkers; i++) {
        const struct px_worker *w = &e->workers[i];
        *ok_before += w->noted_eaddr ? w->ok_before_eaddr : w->ctr.ok;
    }
    return 1;
}

int px_engine_timestamps(const struct px_engine *e)
{
    return __atomic_load_n(&e->timestamps, __ATOMIC_RELAXED);
}

void px_engine_free(struct px_engine *e)
{
    if (e == NULL)
        return;
    for (unsigned i = 0; e->workers && i < e->nworkers; i++) {
        struct px_worker *w = &e->workers[i];
        for (unsigned j = 0; w->slots && j < w->nslots; j++) {
            if (w->slots[j].ev == NULL)
                continue;
            conn_close(&w->slots[j], 0, 0);
            event_free(w->slots[j].ev);
        }
        if (w->tick)
            event_free(w->tick);
        if (w->grace)
            event_free(w->grace);
        if (w->stop_ev)
            event_free(w->stop_ev);
        free(w->slots);
        if (w->base)
            event_base_free(w->base);
        e->transport->worker_free(w->transport_worker);
    }
    e->transport->ctx_free(e->transport_ctx);
    free(e->workers);
    free(e->req);
    free(e->req_last);
    pthread_mutex_destroy(&e->lock);
    free(e);
}
