/* SPDX-License-Identifier: MIT */
/*
 * The load engine. Each worker thread owns an event_base, a set of slots (one
 * in-flight request each) and its own counters and histograms, so the hot path
 * takes no lock. A slot walks: connect -> write -> read -> close (or keep the
 * connection), then starts again (closed model) or waits for the timetable
 * (open model). Every attempt ends in exactly one outcome bucket.
 */
#include "portex/load/engine.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portex/base/atomic.h"
#include "portex/kernel/ceiling.h"
#include "portex/base/clock.h"
#include "portex/base/config.h"
#include "portex/load/http.h"
#include "portex/kernel/kernel.h"
#include "portex/base/url.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51 /* Linux 6.3+ */
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24 /* Linux 4.2+ */
#endif

#define BACKOFF_US   10000u   /* pause of a slot after a local error (EADDRNOTAVAIL...) */
#define GRACE_MAX_US 2000000u /* how long in-flight requests may finish after a stop */
#define READ_BUF     65536

enum slot_state {
    SLOT_IDLE,       /* no request; fd may hold a kept-alive connection */
    SLOT_CONNECTING, /* waiting for connect() to finish */
    SLOT_WRITING,    /* request partly written */
    SLOT_READING,    /* waiting for the response */
    SLOT_WAIT_EOF,   /* --close server: response read, waiting for the server's FIN */
    SLOT_BACKOFF,    /* closed model: pause after a local error */
};

struct px_worker;

struct slot {
    struct px_worker *w;
    struct event *ev; /* the one event of this slot: I/O with a timeout, or a timer */
    int fd;           /* -1 when no connection */
    enum slot_state state;
    uint64_t t_start_us;   /* intended start: latency counts from here */
    uint64_t t_connect_us; /* when connect() was called */
    uint64_t deadline_us;  /* t_start + timeout */
    size_t written;        /* request bytes sent */
    int reused;            /* request rides a kept-alive connection */
    int got_bytes;         /* some response byte arrived */
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
    unsigned *free_idx; /* open model: free slots (a stack) */
    unsigned nfree;
    unsigned busy; /* slots with a request in flight or backing off */
    int stopping;
    uint64_t quota;           /* -n share of this worker; UINT64_MAX when unbounded */
    uint64_t scheduled;       /* open model: timetable position */
    unsigned src_next;        /* --source round robin */
    int ts_probed;            /* TCP_INFO read on this worker's first connection */
    int noted_eaddr;          /* saw the run's first EADDRNOTAVAIL */
    uint64_t ok_before_eaddr; /* ok count when noticing it */
    struct px_totals ctr;     /* written by this thread only */
    struct px_latency lat;    /* written by this thread only */
    char rbuf[READ_BUF];
};

struct px_engine {
    const struct px_config *cfg;
    char *req; /* request bytes */
    size_t req_len;
    int head; /* HEAD request: no response body */
    struct px_worker *workers;
    unsigned nworkers;
    uint64_t t0_us;
    uint64_t end_us; /* duration end, 0 with -n */
    uint64_t finished_us;
    int started;
    int finished;            /* workers done, under lock */
    uint64_t first_eaddr_us; /* first EADDRNOTAVAIL of the run, 0 = none (atomic) */
    int timestamps;          /* enum px_ts of the first connection (atomic) */
    pthread_mutex_t lock;
};

static void slot_cb(evutil_socket_t fd, short what, void *arg);
static void start_request(struct slot *s, uint64_t t_start);
static void slot_done(struct slot *s, int backoff);
static int closed_restart(struct slot *s);
static void slot_park(struct slot *s);

static struct timeval us_to_tv(uint64_t us)
{
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
                         .tv_usec = (suseconds_t)(us % 1000000u)};
    return tv;
}

/*
 * Arms the slot's event: fd readiness `what` (0 = pure timer) until
 * `deadline_us`. I/O events are persistent, so while a slot waits for the same
 * readiness on the same fd (more of a response, the next keep-alive request)
 * only the timeout moves and epoll is not touched: two epoll_ctl calls saved
 * per request.
 */
static void slot_arm(struct slot *s, short what, uint64_t deadline_us)
{
    uint64_t now = px_clock_us();
    struct timeval tv = us_to_tv(deadline_us > now ? deadline_us - now : 0);
    evutil_socket_t fd = what ? s->fd : -1;
    short flags = what ? (short)(what | EV_PERSIST) : 0;
    if (what == 0 || event_get_fd(s->ev) != fd || event_get_events(s->ev) != flags ||
        !event_pending(s->ev, what, NULL)) {
        event_del(s->ev);
        event_assign(s->ev, s->w->base, fd, flags, slot_cb, s);
    }
    event_add(s->ev, &tv);
}

static void slot_close(struct slot *s, int rst)
{
    if (s->fd < 0)
        return;
    if (rst) {
        /* SO_LINGER {1, 0}: close() sends RST and skips TIME_WAIT. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    event_del(s->ev);
    close(s->fd);
    s->fd = -1;
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

/* The attempt failed: count it, drop the connection, free the slot. */
static void fail(struct slot *s, int cause, int backoff)
{
    count_failure(s, cause);
    slot_close(s, 0);
    slot_done(s, backoff);
}

/* Errors that a retry right away would only repeat (no free port, no fd,
 * nobody listening): the slot pauses instead of spinning. */
static int needs_backoff(int err)
{
    return err == EADDRNOTAVAIL || err == EMFILE || err == ENFILE || err == ENOBUFS ||
           err == ENOMEM || err == EADDRINUSE || err == ECONNREFUSED;
}

static void begin_read(struct slot *s)
{
    px_http_resp_init(&s->resp, s->w->e->head);
    s->state = SLOT_READING;
    slot_arm(s, EV_READ, s->deadline_us);
}

static void open_connection(struct slot *s);

/* A kept-alive connection died before any byte of the answer: the server
 * closed it while idle. Retry once on a new connection, uncounted. */
static int retry_fresh(struct slot *s)
{
    if (!s->reused || s->got_bytes)
        return 0;
    slot_close(s, 0);
    s->reused = 0;
    open_connection(s);
    return 1;
}

static void do_write(struct slot *s)
{
    const struct px_engine *e = s->w->e;
    while (s->written < e->req_len) {
        ssize_t n = send(s->fd, e->req + s->written, e->req_len - s->written, MSG_NOSIGNAL);
        if (n > 0) {
            s->written += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            s->state = SLOT_WRITING;
            slot_arm(s, EV_WRITE, s->deadline_us);
            return;
        }
        int err = n < 0 ? errno : EPIPE;
        if (!retry_fresh(s))
            fail(s, px_cause_from_errno(err), 0);
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

/* Did the server negotiate TCP timestamps? Without them tcp_tw_reuse cannot
 * reuse this connection's port (KERNEL-FACTS.md, tcp_timestamps). */
static void probe_timestamps(struct slot *s)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    s->w->ts_probed = 1;
    if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
        __atomic_store_n(&s->w->e->timestamps,
                         (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) ? PX_TS_YES : PX_TS_NO,
                         __ATOMIC_RELAXED);
}

static void on_connected(struct slot *s)
{
    struct px_worker *w = s->w;
    if (!w->ts_probed)
        probe_timestamps(s);
    px_hist_record(&w->lat.connect, px_clock_us() - s->t_connect_us);
    PX_BUMP(w->ctr.connections_opened, 1);
    begin_write(s);
}

static int bind_source(struct slot *s, int fd)
{
    const struct px_config *cfg = s->w->e->cfg;
    if (cfg->port_lo != 0) {
        uint32_t range = ((uint32_t)cfg->port_hi << 16) | cfg->port_lo;
        if (setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) < 0)
            return -1;
    }
    if (cfg->nsources == 0)
        return 0;
    /* The port is chosen at connect() time, per destination: every source
     * address gets the whole port range toward this target. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0)
        return -1;
    const struct sockaddr_storage *src = &cfg->sources[s->w->src_next++ % cfg->nsources];
    socklen_t len =
        src->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    return bind(fd, (const struct sockaddr *)src, len);
}

static void open_connection(struct slot *s)
{
    const struct px_config *cfg = s->w->e->cfg;
    int fd = socket(cfg->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail(s, px_cause_from_errno(errno), 1);
        return;
    }
    s->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind_source(s, fd) < 0) {
        int err = errno;
        fail(s, px_cause_from_errno(err), 1);
        return;
    }
    s->t_connect_us = px_clock_us();
    if (connect(fd, (const struct sockaddr *)&cfg->target, cfg->target_len) == 0) {
        on_connected(s);
        return;
    }
    int err = errno;
    if (err != EINPROGRESS) {
        fail(s, px_cause_from_errno(err), needs_backoff(err));
        return;
    }
    s->state = SLOT_CONNECTING;
    uint64_t cdl = s->t_connect_us + cfg->connect_timeout_ms * 1000u;
    slot_arm(s, EV_WRITE, cdl < s->deadline_us ? cdl : s->deadline_us);
}

static void start_request(struct slot *s, uint64_t t_start)
{
    struct px_worker *w = s->w;
    w->busy++;
    PX_BUMP(w->ctr.started, 1);
    s->t_start_us = t_start;
    s->deadline_us = t_start + w->e->cfg->timeout_ms * 1000u;
    if (s->fd >= 0) {
        s->reused = 1;
        begin_write(s);
        return;
    }
    s->reused = 0;
    open_connection(s);
}

static void finish_response(struct slot *s)
{
    struct px_worker *w = s->w;
    const struct px_config *cfg = w->e->cfg;
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
    if (cfg->keepalive) {
        if (!s->resp.keep_alive)
            slot_close(s, 0);
    } else if (cfg->close == PX_CLOSE_SERVER && s->fd >= 0) {
        /* Wait for the server's FIN so that the server holds TIME_WAIT. */
        s->state = SLOT_WAIT_EOF;
        slot_arm(s, EV_READ, s->deadline_us);
        return;
    } else {
        slot_close(s, cfg->close == PX_CLOSE_RST);
    }
    slot_done(s, 0);
}

static void on_readable(struct slot *s)
{
    struct px_worker *w = s->w;
    for (;;) {
        ssize_t n = recv(s->fd, w->rbuf, sizeof(w->rbuf), 0);
        if (n > 0) {
            if (!s->got_bytes) {
                s->got_bytes = 1;
                px_hist_record(&w->lat.ttfb, px_clock_us() - s->t_start_us);
            }
            size_t used;
            int step = px_http_resp_feed(&s->resp, w->rbuf, (size_t)n, &used);
            if (step == PX_HTTP_DONE) {
                /* Bytes past the response were never asked for: do not reuse. */
                if (used < (size_t)n)
                    s->resp.keep_alive = 0;
                finish_response(s);
                return;
            }
            if (step == PX_HTTP_ERROR) {
                fail(s, PX_CAUSE_PARSE, 0);
                return;
            }
            continue;
        }
        if (n == 0) {
            int step = px_http_resp_eof(&s->resp);
            if (step == PX_HTTP_DONE) {
                slot_close(s, 0);
                finish_response(s);
            } else if (!retry_fresh(s)) {
                fail(s, step == PX_HTTP_ERROR ? PX_CAUSE_PARSE : PX_CAUSE_CLOSED, 0);
            }
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            slot_arm(s, EV_READ, s->deadline_us);
            return;
        }
        int err = errno;
        if (!retry_fresh(s))
            fail(s, px_cause_from_errno(err), 0);
        return;
    }
}

/* --close server: after the response, read until the server's FIN. */
static void on_wait_eof(struct slot *s, short what)
{
    if (!(what & EV_TIMEOUT)) {
        ssize_t n = recv(s->fd, s->w->rbuf, sizeof(s->w->rbuf), 0);
        if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {
            slot_arm(s, EV_READ, s->deadline_us);
            return;
        }
    }
    /* FIN, error or timeout: the response was already counted. */
    slot_close(s, 0);
    slot_done(s, 0);
}

/* An idle kept-alive connection became readable: the server closed it. */
static void on_idle_readable(struct slot *s)
{
    slot_close(s, 0);
}

static void slot_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct slot *s = arg;
    switch (s->state) {
    case SLOT_CONNECTING:
        if (what & EV_TIMEOUT) {
            int timed_out_total = px_clock_us() >= s->deadline_us;
            fail(s, timed_out_total ? PX_CAUSE_REQUEST_TIMEOUT : PX_CAUSE_CONNECT_TIMEOUT, 0);
        } else {
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0)
                fail(s, px_cause_from_errno(err), needs_backoff(err));
            else
                on_connected(s);
        }
        break;
    case SLOT_WRITING:
        if (what & EV_TIMEOUT)
            fail(s, PX_CAUSE_REQUEST_TIMEOUT, 0);
        else
            do_write(s);
        break;
    case SLOT_READING:
        if (what & EV_TIMEOUT)
            fail(s, PX_CAUSE_REQUEST_TIMEOUT, 0);
        else
            on_readable(s);
        break;
    case SLOT_WAIT_EOF:
        on_wait_eof(s, what);
        break;
    case SLOT_BACKOFF:
        s->state = SLOT_IDLE;
        s->w->busy--;
        if (s->w->stopping || !closed_restart(s))
            slot_park(s);
        break;
    case SLOT_IDLE:
        on_idle_readable(s);
        break;
    }
}

static void worker_check_finished(struct px_worker *w)
{
    if (w->stopping && w->busy == 0)
        event_base_loopbreak(w->base);
}

/* Closed model: the slot's next request, now. 0 when the -n share is used up. */
static int closed_restart(struct slot *s)
{
    struct px_worker *w = s->w;
    if (w->quota == 0) {
        /* Nothing left to start; requests in flight still end normally. */
        w->stopping = 1;
        return 0;
    }
    w->quota--;
    start_request(s, px_clock_us());
    return 1;
}

/* The slot has no request: offer it to the timetable, watch or close its connection. */
static void slot_park(struct slot *s)
{
    struct px_worker *w = s->w;
    if (w->e->cfg->rate_per_s > 0)
        w->free_idx[w->nfree++] = (unsigned)(s - w->slots);
    if (s->fd >= 0 && !w->stopping) {
        /* Idle kept-alive connection: notice when the server closes it. */
        event_del(s->ev);
        event_assign(s->ev, w->base, s->fd, EV_READ, slot_cb, s);
        event_add(s->ev, NULL);
    } else {
        slot_close(s, 0);
    }
    worker_check_finished(w);
}

/* A request ended (counted already). Decide what the slot does next. */
static void slot_done(struct slot *s, int backoff)
{
    struct px_worker *w = s->w;
    s->state = SLOT_IDLE;
    w->busy--;
    if (!w->noted_eaddr && __atomic_load_n(&w->e->first_eaddr_us, __ATOMIC_RELAXED) != 0) {
        w->noted_eaddr = 1;
        w->ok_before_eaddr = w->ctr.ok;
    }
    if (!w->stopping && w->e->cfg->rate_per_s <= 0) {
        if (backoff) {
            /* A pause, not a spin: count the failure and try again shortly. */
            w->busy++;
            s->state = SLOT_BACKOFF;
            slot_arm(s, 0, px_clock_us() + BACKOFF_US);
            return;
        }
        if (closed_restart(s))
            return;
    }
    slot_park(s);
}

static uint64_t schedule_time(const struct px_worker *w, uint64_t k)
{
    const struct px_engine *e = w->e;
    /* Worker i takes starts i, i+N, i+2N... of one timetable at rate R. */
    double idx = (double)k * e->nworkers + w->id;
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
        struct slot *s = &w->slots[w->free_idx[--w->nfree]];
        if (s->fd >= 0)
            event_del(s->ev);
        start_request(s, t);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_worker *w = arg;
    if (w->e->cfg->rate_per_s > 0)
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
        /* WAIT_EOF: the response was counted already. */
        if (s->state != SLOT_WAIT_EOF)
            count_failure(s, PX_CAUSE_CANCELLED);
        slot_close(s, 0);
        s->state = SLOT_IDLE;
        w->busy--;
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
            s->state = SLOT_IDLE;
            w->busy--;
        }
        if (s->state == SLOT_IDLE)
            slot_close(s, 0);
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
    if (e->cfg->rate_per_s > 0) {
        tick_open(w);
    } else {
        if (e->end_us != 0) {
            struct timeval tv = us_to_tv(e->end_us - e->t0_us);
            evtimer_add(w->tick, &tv);
        }
        for (unsigned i = 0; i < w->nslots && w->quota > 0; i++) {
            w->quota--;
            start_request(&w->slots[i], px_clock_us());
        }
        if (w->busy == 0)
            worker_quiesce(w);
    }
    if (!w->stopping || w->busy > 0)
        event_base_dispatch(w->base);
    for (unsigned i = 0; i < w->nslots; i++)
        slot_close(&w->slots[i], 0);
    pthread_mutex_lock(&e->lock);
    e->finished++;
    e->finished_us = px_clock_us();
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

static int build_request(struct px_engine *e)
{
    const struct px_config *cfg = e->cfg;
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
    return px_http_request_build(&spec, &e->req, &e->req_len);
}

static int worker_init(struct px_engine *e, struct px_worker *w, unsigned id, unsigned nslots,
                       uint64_t quota)
{
    w->e = e;
    w->id = id;
    w->nslots = nslots;
    w->quota = quota;
    px_hist_init(&w->lat.connect);
    px_hist_init(&w->lat.ttfb);
    px_hist_init(&w->lat.total);
    struct event_config *ec = event_config_new();
    if (ec == NULL)
        return -1;
    /* Timers set the open model's timetable: ask for timerfd precision there.
     * The closed model only has timeouts, and a timerfd would cost a syscall
     * whenever the nearest one moves. */
    if (e->cfg->rate_per_s > 0)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    w->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (w->base == NULL)
        return -1;
    w->tick = evtimer_new(w->base, tick_cb, w);
    w->grace = evtimer_new(w->base, grace_cb, w);
    w->stop_ev = event_new(w->base, -1, 0, stop_cb, w);
    w->slots = calloc(nslots, sizeof(*w->slots));
    w->free_idx = calloc(nslots, sizeof(*w->free_idx));
    if (!w->tick || !w->grace || !w->stop_ev || !w->slots || !w->free_idx)
        return -1;
    for (unsigned i = 0; i < nslots; i++) {
        struct slot *s = &w->slots[i];
        s->w = w;
        s->fd = -1;
        s->ev = event_new(w->base, -1, 0, slot_cb, s);
        if (s->ev == NULL)
            return -1;
        w->free_idx[w->nfree++] = nslots - 1 - i;
    }
    return 0;
}

/* event_active() from the main thread needs libevent's locking. */
static void use_pthreads(void)
{
    evthread_use_pthreads();
}

struct px_engine *px_engine_new(const struct px_config *cfg, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, use_pthreads);
    struct px_engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
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
    for (unsigned i = 0; i < nw; i++) {
        unsigned nslots = cfg->connections / nw + (i < cfg->connections % nw);
        uint64_t quota = cfg->requests ? cfg->requests / nw + (i < cfg->requests % nw) : UINT64_MAX;
        if (worker_init(e, &e->workers[i], i, nslots, quota) < 0) {
            snprintf(err, errlen, "cannot set up worker %u (event loop or memory)", i);
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

double px_engine_duration_s(const struct px_engine *e)
{
    return e->finished_us > e->t0_us ? (double)(e->finished_us - e->t0_us) / 1e6 : 0.0;
}

void px_engine_totals(const struct px_engine *e, struct px_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < e->nworkers; i++)
        px_totals_add(out, &e->workers[i].ctr);
}

void px_engine_total_hist(const struct px_engine *e, struct px_hist *out)
{
    struct px_hist snap;
    px_hist_init(out);
    for (unsigned i = 0; i < e->nworkers; i++) {
        px_hist_snapshot(&snap, &e->workers[i].lat.total);
        px_hist_merge(out, &snap);
    }
}

void px_engine_latency(const struct px_engine *e, struct px_latency *out)
{
    px_hist_init(&out->connect);
    px_hist_init(&out->ttfb);
    px_hist_init(&out->total);
    for (unsigned i = 0; i < e->nworkers; i++) {
        px_hist_merge(&out->connect, &e->workers[i].lat.connect);
        px_hist_merge(&out->ttfb, &e->workers[i].lat.ttfb);
        px_hist_merge(&out->total, &e->workers[i].lat.total);
    }
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
            slot_close(&w->slots[j], 0);
            if (w->slots[j].ev)
                event_free(w->slots[j].ev);
        }
        if (w->tick)
            event_free(w->tick);
        if (w->grace)
            event_free(w->grace);
        if (w->stop_ev)
            event_free(w->stop_ev);
        free(w->slots);
        free(w->free_idx);
        if (w->base)
            event_base_free(w->base);
    }
    free(e->workers);
    free(e->req);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int px_engine_preflight(const struct px_config *cfg, char *err, size_t errlen)
{
    int rc = 0;
    if (cfg->port_lo != 0) {
        int fd = socket(cfg->target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        uint32_t range = ((uint32_t)cfg->port_hi << 16) | cfg->port_lo;
        if (fd >= 0 && setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) < 0) {
            char rel[64];
            int major, minor;
            px_kernel_release(rel, sizeof(rel), &major, &minor);
            snprintf(err, errlen,
                     "--port-range %u-%u needs IP_LOCAL_PORT_RANGE (Linux 6.3 or later); "
                     "this kernel is %s",
                     cfg->port_lo, cfg->port_hi, rel);
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
    }
    for (size_t i = 0; rc == 0 && i < cfg->nsources; i++) {
        const struct sockaddr_storage *src = &cfg->sources[i];
        char name[64];
        px_sockaddr_ip((const struct sockaddr *)src, name, sizeof(name));
        if (src->ss_family != cfg->target.ss_family) {
            snprintf(err, errlen, "--source %s is not of the target's address family", name);
            rc = -1;
            break;
        }
        int fd = socket(src->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        socklen_t len =
            src->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0 ||
            bind(fd, (const struct sockaddr *)src, len) < 0) {
            snprintf(err, errlen, "--source %s is not an address of this machine (%s)", name,
                     strerror(errno));
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
    }
    return rc;
}

unsigned px_engine_fit_nofile(unsigned connections, uint64_t *soft, uint64_t *hard)
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
