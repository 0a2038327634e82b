/* SPDX-License-Identifier: MIT */
/* The engine's request state machine: one request per slot, on its own link (HTTP/1.1) or a mux
 * (HTTP/2). */
#include "portex/load/slot.h"

#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portex/base/atomic.h"
#include "portex/base/clock.h"
#include "portex/base/outcome.h"
#include "portex/load/dial.h"
#include "portex/load/hist.h"
#include "portex/load/http.h"
#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/load/tally.h"

#define BACKOFF_US 10000u /* pause of a slot after a local error (EADDRNOTAVAIL...) */
/* A request larger than one segment goes out in several; only then can Nagle
 * hold its tail, so only then is TCP_NODELAY worth its system call. */
#define NODELAY_MIN_BYTES 1200

static void slot_cb(evutil_socket_t fd, short what, void *arg);

static struct timeval us_to_tv(uint64_t us)
{
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
                         .tv_usec = (suseconds_t)(us % 1000000u)};
    return tv;
}

static const struct px_load *load_of(const struct px_slot *s)
{
    return s->pool->owner.shared->load;
}

static const struct px_transport *transport_of(const struct px_slot *s)
{
    return s->pool->owner.shared->transport;
}

/* ---- the one place a slot changes state -------------------------------- */

static void free_push(struct px_slots *p, struct px_slot *s)
{
    unsigned i = (unsigned)(s - p->slot);
    s->prev_free = p->n;
    s->next_free = p->free_head;
    if (p->free_head != p->n)
        p->slot[p->free_head].prev_free = i;
    p->free_head = i;
    s->in_free = 1;
    p->nfree++;
}

static void free_unlink(struct px_slots *p, struct px_slot *s)
{
    if (s->prev_free != p->n)
        p->slot[s->prev_free].next_free = s->next_free;
    else
        p->free_head = s->next_free;
    if (s->next_free != p->n)
        p->slot[s->next_free].prev_free = s->prev_free;
    s->in_free = 0;
    p->nfree--;
}

#ifndef NDEBUG
/* busy counts exactly the slots that are not idle, and idle slots are free. */
static int slots_consistent(const struct px_slots *p)
{
    unsigned not_idle = 0, listed = 0;
    for (unsigned i = 0; i < p->n; i++) {
        not_idle += p->slot[i].state != PX_SLOT_IDLE;
        listed += p->slot[i].in_free;
        if ((p->slot[i].state == PX_SLOT_IDLE) != p->slot[i].in_free)
            return 0;
    }
    return not_idle == p->busy && listed == p->nfree && p->busy + p->nfree == p->n;
}
#endif

/*
 * Moves a slot to `to`, keeping `busy` and the free list in step: every
 * state change of the engine goes through here.
 */
static void slot_set(struct px_slot *s, enum px_slot_state to)
{
    struct px_slots *p = s->pool;
    int was_idle = s->state == PX_SLOT_IDLE, idle = to == PX_SLOT_IDLE;
    s->state = to;
    if (was_idle && !idle) {
        free_unlink(p, s);
        p->busy++;
    } else if (!was_idle && idle) {
        p->busy--;
        free_push(p, s);
    }
#ifndef NDEBUG
    if (p->n <= 64)
        assert(slots_consistent(p));
#endif
}

/* ---- connections ------------------------------------------------------- */

/* Waits on the slot's event until deadline_us; the I/O registration stays. */
static void slot_wait(struct px_slot *s, uint64_t deadline_us)
{
    px_link_wait(&s->link, deadline_us);
}

/* The slot's event becomes a pure timer (no connection is open). */
static void slot_timer(struct px_slot *s, uint64_t delay_us)
{
    struct timeval tv = us_to_tv(delay_us);
    event_assign(s->link.ev, s->pool->owner.base, -1, 0, slot_cb, s);
    event_add(s->link.ev, &tv);
}

static void conn_close(struct px_slot *s, int graceful, int rst)
{
    px_link_close(&s->link, transport_of(s), graceful, rst);
}

static void count_failure(struct px_slot *s, int cause)
{
    px_tally_failure(s->pool->owner.ctr, &s->pool->owner.shared->first_eaddr_us, cause,
                     px_dial_out_of_ports(load_of(s), cause));
}

/* ---- the end of a request ---------------------------------------------- */

/* A request ended (counted already): the slot becomes idle, and its owner says what next. */
static void slot_done(struct px_slot *s, enum px_slot_next next)
{
    struct px_slots *p = s->pool;
    if (!p->noted_eaddr &&
        __atomic_load_n(&p->owner.shared->first_eaddr_us, __ATOMIC_RELAXED) != 0) {
        /* Released after the count, so that a snapshot that sees the flag sees the count. */
        PX_STORE(p->ok_before_eaddr, PX_LOAD(p->owner.ctr->ok));
        __atomic_store_n(&p->noted_eaddr, 1, __ATOMIC_RELEASE);
    }
    if (s->link.conn.fd >= 0) {
        if (p->stopping)
            conn_close(s, 1, 0);
        else
            event_remove_timer(s->link.ev); /* idle kept-alive: no deadline */
    }
    slot_set(s, PX_SLOT_IDLE);
    p->owner.done(p->owner.arg, s, next);
}

/* The attempt failed: count it, drop the connection, free the slot. */
static void slot_fail(struct px_slot *s, int cause)
{
    count_failure(s, cause);
    conn_close(s, 0, 0);
    slot_done(s, px_tally_backoff(cause) ? PX_SLOT_NEXT_BACKOFF : PX_SLOT_NEXT_LOOP);
}

static void open_connection(struct px_slot *s);

/* The request's connection carried it but closed before any byte of the
 * answer, on a kept-alive connection (the server may have closed it while
 * idle) or under a resend. */
static int closed_early(const struct px_slot *s)
{
    return (s->reused || s->resent) && s->link.established && !s->got_bytes;
}

/* Sends the request once more on a new connection, counted in retries: only
 * from a kept-alive connection, never a resend again, and only when the pool
 * may (an idempotent method, RFC 9110 9.2.2, and no --no-retry). 1 when sent. */
static int resend_fresh(struct px_slot *s)
{
    if (!s->reused || s->resent || !s->pool->resend)
        return 0;
    PX_BUMP(s->pool->owner.ctr->retries, 1);
    conn_close(s, 0, 0);
    s->reused = 0;
    s->resent = 1;
    open_connection(s);
    return 1;
}

/* The connection ended before the whole response: resend it, or count the
 * cause (closed_before_response when no byte of the answer came). */
static void conn_lost(struct px_slot *s, int cause)
{
    if (!closed_early(s))
        slot_fail(s, cause);
    else if (!resend_fresh(s))
        slot_fail(s, PX_CAUSE_CLOSED);
}

/* A transport step failed. */
static void io_failed(struct px_slot *s)
{
    conn_lost(s, s->link.conn.cause);
}

/* ---- one request's steps ----------------------------------------------- */

static void begin_read(struct px_slot *s)
{
    const struct px_slot_shared *sh = s->pool->owner.shared;
    sh->framing->begin(sh->framing_state, &s->x);
    slot_set(s, PX_SLOT_READING);
    slot_wait(s, s->deadline_us);
}

/* -k --requests-per-conn N: this request is the connection's Nth, its last. */
static int conn_last_request(const struct px_slot *s)
{
    const struct px_load *cfg = load_of(s);
    return cfg->keepalive && cfg->requests_per_conn > 0 && s->conn_reqs >= cfg->requests_per_conn;
}

static void do_write(struct px_slot *s)
{
    const struct px_slot_shared *sh = s->pool->owner.shared;
    const char *req;
    size_t len;
    sh->framing->request(sh->framing_state, conn_last_request(s), &req, &len);
    while (s->written < len) {
        size_t n = 0;
        enum px_io io = sh->transport->write(&s->link.conn, req + s->written, len - s->written, &n);
        if (io == PX_IO_DONE) {
            /* The first write proves connect() succeeded. */
            if (!s->link.established)
                px_link_established(&s->link, &s->pool->env);
            s->written += n;
            continue;
        }
        if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
            slot_set(s, PX_SLOT_WRITING);
            slot_wait(s, s->deadline_us);
            return;
        }
        io_failed(s);
        return;
    }
    begin_read(s);
}

static void begin_write(struct px_slot *s)
{
    s->written = 0;
    s->got_bytes = 0;
    do_write(s);
}

static void do_handshake(struct px_slot *s)
{
    enum px_io io = px_link_handshake(&s->link, &s->pool->env);
    if (io == PX_IO_DONE) {
        begin_write(s);
    } else if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
        slot_set(s, PX_SLOT_HANDSHAKE);
        slot_wait(s, s->deadline_us);
    } else {
        slot_fail(s, s->link.conn.cause);
    }
}

/* connect() finished (or failed: the first transport step tells). */
static void on_connect_ready(struct px_slot *s)
{
    px_link_ready(&s->link);
    do_handshake(s);
}

/* A failure before the connection exists (socket, bind, connect at once:
 * EADDRNOTAVAIL, ENETUNREACH, EACCES...): counted by errno, and the slot backs
 * off, so that no such error can spin or recurse. */
static void fail_at_once(struct px_slot *s, int err)
{
    count_failure(s, px_cause_from_errno(err));
    slot_done(s, PX_SLOT_NEXT_BACKOFF);
}

static void open_connection(struct px_slot *s)
{
    const struct px_load *cfg = load_of(s);
    int cause, err = 0;
    s->conn_reqs = 1;
    enum px_link_open rc = px_link_open(&s->link, &s->pool->env, slot_cb, s, &cause, &err);
    if (rc == PX_LINK_FAILED) {
        if (cause >= 0) {
            count_failure(s, cause);
            slot_done(s, PX_SLOT_NEXT_BACKOFF);
        } else {
            fail_at_once(s, err);
        }
        return;
    }
    if (rc == PX_LINK_CONNECTED) {
        /* Connected at once (Unix sockets): the first step follows now. */
        slot_wait(s, s->deadline_us);
        on_connect_ready(s);
        return;
    }
    slot_set(s, PX_SLOT_CONNECTING);
    uint64_t cdl = s->link.t_connect_us + cfg->connect_timeout_ms * 1000u;
    slot_wait(s, cdl < s->deadline_us ? cdl : s->deadline_us);
}

/* ---- HTTP/2: requests on a shared connection (mux.c) ------------------ */

static void stream_start(struct px_slot *s)
{
    s->got_bytes = 0;
    /* Leaves idle first: a connection that fails at once ends it inside. */
    slot_set(s, PX_SLOT_STREAM);
    px_mux_submit(s->mux, s, s->deadline_us);
}

static void stream_first_byte(void *arg, void *req)
{
    (void)arg;
    struct px_slot *s = req;
    s->got_bytes = 1;
    px_hist_record(&s->pool->owner.lat->ttfb, px_clock_us() - s->t_start_us);
}

/*
 * A request's stream ended, counted as an HTTP/1.1 request is. A refused
 * stream was not processed by the server (RFC 9113 8.7), so it is sent once
 * more whatever its method, counted in retries, unless --no-retry.
 */
static void stream_end(void *arg, void *req, int status, int cause)
{
    struct px_slots *p = arg;
    struct px_slot *s = req;
    if (status > 0) {
        px_tally_response(p->owner.ctr, p->owner.lat, &p->owner.shared->first_eaddr_us,
                          s->t_start_us, status);
        slot_done(s, PX_SLOT_NEXT_NOW);
    } else if (cause == PX_CAUSE_REFUSED && !s->resent && !load_of(s)->no_retry) {
        PX_BUMP(p->owner.ctr->retries, 1);
        s->resent = 1;
        s->got_bytes = 0;
        px_mux_submit(s->mux, s, s->deadline_us);
        return;
    } else {
        count_failure(s, cause);
        slot_done(s, px_tally_backoff(cause) ? PX_SLOT_NEXT_BACKOFF : PX_SLOT_NEXT_LOOP);
    }
    /* The owner may have stopped starting (its -n share is spent). */
    if (p->stopping)
        px_mux_quiesce(s->mux);
}

void px_slot_start(struct px_slot *s, uint64_t t_start_us)
{
    PX_BUMP(s->pool->owner.ctr->started, 1);
    s->t_start_us = t_start_us;
    s->deadline_us = t_start_us + load_of(s)->timeout_ms * 1000u;
    s->resent = 0;
    if (s->mux != NULL) {
        stream_start(s);
        return;
    }
    /* Leaves idle here, so that the counts are right whatever follows. */
    slot_set(s, PX_SLOT_CONNECTING);
    if (s->link.conn.fd >= 0) {
        s->reused = 1;
        s->conn_reqs++;
        begin_write(s);
        return;
    }
    s->reused = 0;
    open_connection(s);
}

/* --close server: the response is counted; close once the server's FIN is here. */
static void on_wait_eof(struct px_slot *s, short what)
{
    enum px_io io = PX_IO_DONE;
    /* Edge-triggered: read until the socket is empty, or the next edge may never come. */
    while (!(what & (EV_TIMEOUT | EV_CLOSED)) && io == PX_IO_DONE) {
        size_t n;
        io = transport_of(s)->read(&s->link.conn, s->pool->rbuf, sizeof(s->pool->rbuf), &n);
        if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
            slot_wait(s, s->deadline_us);
            return;
        }
    }
    /* FIN, error or timeout: nothing more to count. */
    conn_close(s, 0, 0);
    slot_done(s, PX_SLOT_NEXT_NOW);
}

/* The whole response is in; fin: the server's FIN was seen with it. */
static void finish_response(struct px_slot *s, int fin)
{
    const struct px_load *cfg = load_of(s);
    struct px_slots *p = s->pool;
    int status = s->x.status;
    px_tally_response(p->owner.ctr, p->owner.lat, &p->owner.shared->first_eaddr_us, s->t_start_us,
                      status);
    /* Short connections, and kept-alive ones after their Nth request, close
     * the way --close says. */
    int close_now = !cfg->keepalive || conn_last_request(s);
    /* Not for the Nth request: its "Connection: close" made keep_alive 0, and
     * --close server must still wait below for the server's FIN. */
    if (cfg->keepalive && !close_now && (!s->x.keep_alive || fin)) {
        conn_close(s, 1, 0);
    } else if (close_now && cfg->close == PX_CLOSE_SERVER && !fin && status != 101) {
        /* Wait for the server's FIN so that the server holds TIME_WAIT (after a
         * 101 the connection left HTTP: no FIN is coming for it). */
        slot_set(s, PX_SLOT_WAIT_EOF);
        slot_wait(s, s->deadline_us);
        /* TLS may hold the server's close_notify already, or have taken the
         * edge that announced it: look now rather than wait for another. */
        if (!transport_of(s)->short_read_drains)
            on_wait_eof(s, EV_READ);
        return;
    } else if (close_now) {
        conn_close(s, cfg->close != PX_CLOSE_RST, cfg->close == PX_CLOSE_RST);
    }
    slot_done(s, PX_SLOT_NEXT_NOW);
}

/* Feeds n fresh bytes to the framing. 1 when the slot is done with them. */
static int take_bytes(struct px_slot *s, size_t n, int fin)
{
    struct px_slots *p = s->pool;
    if (!s->got_bytes) {
        s->got_bytes = 1;
        px_hist_record(&p->owner.lat->ttfb, px_clock_us() - s->t_start_us);
    }
    enum px_frame step = p->owner.shared->framing->feed(&s->x, p->rbuf, n);
    if (step == PX_FRAME_DONE) {
        finish_response(s, fin);
        return 1;
    }
    if (step == PX_FRAME_ERROR) {
        slot_fail(s, PX_CAUSE_PARSE);
        return 1;
    }
    return 0;
}

/* The peer closed: a close-delimited body ends here, anything else was cut. */
static void take_eof(struct px_slot *s)
{
    enum px_frame step = s->pool->owner.shared->framing->eof(&s->x);
    if (step == PX_FRAME_DONE)
        finish_response(s, 1);
    else
        conn_lost(s, step == PX_FRAME_ERROR ? PX_CAUSE_PARSE : PX_CAUSE_CLOSED);
}

static void on_readable(struct px_slot *s, short what)
{
    struct px_slots *p = s->pool;
    const struct px_transport *t = transport_of(s);
    int fin = (what & EV_CLOSED) != 0;
    for (;;) {
        size_t n = 0;
        enum px_io io = t->read(&s->link.conn, p->rbuf, sizeof(p->rbuf), &n);
        if (io == PX_IO_DONE) {
            /* A short read emptied the socket; unless a FIN is pending the
             * next edge brings more, so no recv just to hear EAGAIN. */
            int drained = t->short_read_drains && n < sizeof(p->rbuf) && !fin;
            if (take_bytes(s, n, fin && t->short_read_drains && n < sizeof(p->rbuf)))
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

static void on_timeout(struct px_slot *s)
{
    if (s->state == PX_SLOT_CONNECTING && px_clock_us() < s->deadline_us)
        slot_fail(s, PX_CAUSE_CONNECT_TIMEOUT);
    else
        slot_fail(s, PX_CAUSE_REQUEST_TIMEOUT);
}

/* The slot's one event fired: the dispatcher of every state. */
static void slot_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct px_slot *s = arg;
    if ((what & EV_TIMEOUT) && s->state != PX_SLOT_BACKOFF && s->state != PX_SLOT_WAIT_EOF &&
        s->state != PX_SLOT_IDLE) {
        on_timeout(s);
        return;
    }
    switch (s->state) {
    case PX_SLOT_CONNECTING:
        on_connect_ready(s);
        break;
    case PX_SLOT_HANDSHAKE:
        do_handshake(s);
        break;
    case PX_SLOT_WRITING:
        do_write(s);
        break;
    case PX_SLOT_READING:
        if (what & (EV_READ | EV_CLOSED))
            on_readable(s, what);
        else
            slot_wait(s, s->deadline_us); /* writable again: nothing to read yet */
        break;
    case PX_SLOT_WAIT_EOF:
        on_wait_eof(s, what);
        break;
    case PX_SLOT_BACKOFF:
        /* The pause is over: idle again, and the owner may start the next. */
        slot_set(s, PX_SLOT_IDLE);
        s->pool->owner.done(s->pool->owner.arg, s, PX_SLOT_NEXT_NOW);
        break;
    case PX_SLOT_STREAM:
        break; /* its mux has the connection's events */
    case PX_SLOT_IDLE:
        /* An idle kept-alive connection spoke: the server closed it. */
        if (what & (EV_READ | EV_CLOSED))
            conn_close(s, 0, 0);
        break;
    }
}

void px_slot_pause(struct px_slot *s, enum px_slot_next next)
{
    /* A pause, not a spin, and never a restart from inside the failing call
     * chain (a connect that fails at once would otherwise recurse). */
    slot_set(s, PX_SLOT_BACKOFF);
    slot_timer(s, next == PX_SLOT_NEXT_BACKOFF ? BACKOFF_US : 0);
}

int px_slot_idle(const struct px_slot *s)
{
    return s->state == PX_SLOT_IDLE;
}

/* ---- the pool ---------------------------------------------------------- */

/* TCP_NODELAY: wherever a request may leave in more than one write. */
static int wants_nodelay(const struct px_slot_shared *sh)
{
    const char *req;
    size_t req_len;
    if (sh->transport->nodelay || sh->framing->multiplexed)
        return 1;
    sh->framing->request(sh->framing_state, 0, &req, &req_len);
    return req_len > NODELAY_MIN_BYTES;
}

/* HTTP/2: nconn connections, each for its share of the slots. */
static int muxes_init(struct px_slots *p, unsigned nconn, unsigned streams)
{
    const struct px_slot_shared *sh = p->owner.shared;
    const struct px_mux_events ev = {.arg = p, .first_byte = stream_first_byte, .end = stream_end};
    unsigned per_conn = sh->load->keepalive ? sh->load->requests_per_conn : 1;
    p->mux = calloc(nconn, sizeof(*p->mux));
    if (p->mux == NULL)
        return -1;
    p->nmux = nconn;
    for (unsigned i = 0; i < nconn; i++)
        if (px_mux_init(&p->mux[i], &p->env, sh->framing, sh->framing_state, streams, per_conn, &ev,
                        p->rbuf, sizeof(p->rbuf)) < 0)
            return -1;
    for (unsigned i = 0; i < p->n; i++)
        p->slot[i].mux = &p->mux[i % nconn];
    return 0;
}

int px_slots_init(struct px_slots *p, const struct px_slot_owner *owner, unsigned nconn)
{
    const struct px_slot_shared *sh = owner->shared;
    unsigned streams = sh->framing->multiplexed ? px_load_conn_streams(sh->load) : 1;
    unsigned n = nconn * streams;
    p->owner = *owner;
    p->n = n;
    p->free_head = n;
    p->env = (struct px_link_env){.load = sh->load,
                                  .transport = sh->transport,
                                  .transport_worker = owner->transport_worker,
                                  .base = owner->base,
                                  .ctr = owner->ctr,
                                  .lat = owner->lat,
                                  .timestamps = &owner->shared->timestamps,
                                  .nodelay = wants_nodelay(sh)};
    p->resend = !sh->load->no_retry && px_http_idempotent(sh->load->method);
    p->slot = calloc(n, sizeof(*p->slot));
    if (p->slot == NULL)
        return -1;
    /* Pushed in reverse, so that slot 0 is the first the timetable takes. */
    for (unsigned i = n; i-- > 0;) {
        struct px_slot *s = &p->slot[i];
        s->pool = p;
        s->link.conn.fd = -1;
        s->state = PX_SLOT_IDLE;
        s->link.ev = event_new(owner->base, -1, 0, slot_cb, s);
        if (s->link.ev == NULL)
            return -1;
        free_push(p, s);
    }
    return sh->framing->multiplexed ? muxes_init(p, nconn, streams) : 0;
}

void px_slots_release(struct px_slots *p)
{
    for (unsigned i = 0; p->mux && i < p->nmux; i++)
        px_mux_release(&p->mux[i]);
    free(p->mux);
    p->mux = NULL;
    for (unsigned i = 0; p->slot && i < p->n; i++) {
        if (p->slot[i].link.ev == NULL)
            continue;
        conn_close(&p->slot[i], 0, 0);
        event_free(p->slot[i].link.ev);
    }
    free(p->slot);
    p->slot = NULL;
}

struct px_slot *px_slots_take(struct px_slots *p)
{
    return p->nfree ? &p->slot[p->free_head] : NULL;
}

void px_slots_quiesce(struct px_slots *p)
{
    p->stopping = 1;
    for (unsigned i = 0; i < p->n; i++) {
        struct px_slot *s = &p->slot[i];
        if (s->state == PX_SLOT_BACKOFF) {
            event_del(s->link.ev);
            slot_set(s, PX_SLOT_IDLE);
        }
        if (s->state == PX_SLOT_IDLE)
            conn_close(s, 1, 0);
    }
    for (unsigned i = 0; p->mux && i < p->nmux; i++)
        px_mux_quiesce(&p->mux[i]);
}

void px_slots_cancel(struct px_slots *p)
{
    /* The connections first: no stream may end while the slots are counted. */
    for (unsigned i = 0; p->mux && i < p->nmux; i++)
        px_mux_abort(&p->mux[i]);
    for (unsigned i = 0; i < p->n; i++) {
        struct px_slot *s = &p->slot[i];
        if (s->state == PX_SLOT_IDLE)
            continue;
        /* WAIT_EOF: the response was counted already; BACKOFF: so was its failure. */
        if (s->state != PX_SLOT_WAIT_EOF && s->state != PX_SLOT_BACKOFF)
            count_failure(s, PX_CAUSE_CANCELLED);
        conn_close(s, 0, 0);
        event_del(s->link.ev);
        slot_set(s, PX_SLOT_IDLE);
    }
}

void px_slots_close(struct px_slots *p)
{
    for (unsigned i = 0; p->mux && i < p->nmux; i++)
        px_mux_abort(&p->mux[i]);
    for (unsigned i = 0; i < p->n; i++)
        conn_close(&p->slot[i], 0, 0);
}

uint64_t px_slots_ok_before_eaddr(const struct px_slots *p)
{
    if (__atomic_load_n(&p->noted_eaddr, __ATOMIC_ACQUIRE))
        return PX_LOAD(p->ok_before_eaddr);
    return PX_LOAD(p->owner.ctr->ok);
}
