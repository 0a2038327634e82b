/* SPDX-License-Identifier: MIT */
/* An HTTP/2 connection carrying several requests: link, session, write buffer, deadlines. */
#include "portex/load/mux.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/clock.h"
#include "portex/base/outcome.h"
#include "portex/load/framing.h"
#include "portex/load/load.h"

/* Frames for the server are gathered here, so that the HEADERS of several
 * streams and their WINDOW_UPDATEs leave in one write. */
#define WBUF_BYTES 16384

static void mux_cb(int fd, short what, void *arg);
static void mux_pump(struct px_mux *m);

static const struct px_transport *transport_of(const struct px_mux *m)
{
    return m->env->transport;
}

/* ---- requests ---------------------------------------------------------- */

static void doom(struct px_mux_req *r, int cause)
{
    r->doomed = 1;
    r->cause = cause;
}

/* Tells every doomed request its end; the owner may hand others over meanwhile. */
static void tell_doomed(struct px_mux *m)
{
    for (unsigned i = 0; i < m->cap; i++) {
        struct px_mux_req *r = &m->rec[i];
        if (r->req == NULL || !r->doomed)
            continue;
        void *req = r->req;
        int cause = r->cause;
        *r = (struct px_mux_req){0};
        m->nreq--;
        m->events.end(m->events.arg, req, 0, cause);
    }
}

static unsigned count_sent(const struct px_mux *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->cap; i++)
        n += m->rec[i].req != NULL && m->rec[i].id > 0;
    return n;
}

/* The session's events, for the owner of each request. */
static void sess_first_byte(void *arg, void *req)
{
    struct px_mux *m = arg;
    const struct px_mux_req *r = req;
    m->events.first_byte(m->events.arg, r->req);
}

static void sess_end(void *arg, void *req, int status, int cause)
{
    struct px_mux *m = arg;
    struct px_mux_req *r = req;
    void *owner_req = r->req;
    *r = (struct px_mux_req){0};
    m->nreq--;
    m->events.end(m->events.arg, owner_req, status, cause);
}

/* ---- the connection ---------------------------------------------------- */

/* Closes the connection and its session; nothing is told. */
static void conn_drop(struct px_mux *m, int graceful, int rst)
{
    px_link_close(&m->link, transport_of(m), graceful, rst);
    if (m->sess != NULL)
        m->framing->close(m->sess);
    m->sess = NULL;
    m->state = PX_MUX_IDLE;
    m->wlen = m->woff = m->pend_len = 0;
    m->armed_us = 0;
}

/*
 * The connection failed (cause) or ended. Its streams end with the session's
 * cause when it has one against the server (GOAWAY, protocol), else with
 * cause; requests waiting for a connection still being made fail with it too.
 * Requests that waited on an open one (GOAWAY, --requests-per-conn) wait on.
 */
static void conn_fail(struct px_mux *m, int cause)
{
    int sc = m->sess != NULL ? m->framing->cause(m->sess) : -1;
    int making = m->state == PX_MUX_CONNECTING || m->state == PX_MUX_HANDSHAKE;
    for (unsigned i = 0; i < m->cap; i++) {
        struct px_mux_req *r = &m->rec[i];
        if (r->req != NULL && (r->id > 0 || making))
            doom(r, r->id > 0 && sc >= 0 ? sc : cause);
    }
    conn_drop(m, 0, 0);
    tell_doomed(m);
}

/* The session is over with nothing left to send: close the way the load says. */
static void conn_end(struct px_mux *m)
{
    const struct px_load *cfg = m->env->load;
    int by_mode = (!cfg->keepalive || m->per_conn) && !m->stopping;
    if (count_sent(m) > 0) {
        conn_fail(m, PX_CAUSE_CLOSED);
        return;
    }
    if (by_mode && cfg->close == PX_CLOSE_SERVER) {
        /* The server holds TIME_WAIT: wait for its FIN. */
        m->framing->close(m->sess);
        m->sess = NULL;
        m->state = PX_MUX_WAIT_EOF;
        m->armed_us = 0;
        px_link_wait(&m->link, px_clock_us() + cfg->timeout_ms * 1000u);
        return;
    }
    conn_drop(m, !(by_mode && cfg->close == PX_CLOSE_RST), by_mode && cfg->close == PX_CLOSE_RST);
}

/* Writes what the session has to say. 0, or -1 when the connection failed. */
static int flush(struct px_mux *m)
{
    for (;;) {
        while (m->woff < m->wlen) {
            size_t n = 0;
            enum px_io io =
                transport_of(m)->write(&m->link.conn, m->wbuf + m->woff, m->wlen - m->woff, &n);
            if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE)
                return 0; /* the next edge of the one registration resumes */
            if (io != PX_IO_DONE) {
                conn_fail(m, m->link.conn.cause);
                return -1;
            }
            if (!m->link.established)
                px_link_established(&m->link, m->env);
            m->woff += n;
        }
        m->wlen = m->woff = 0;
        while (m->wlen < WBUF_BYTES) {
            if (m->pend_len == 0) {
                long n = m->framing->send(m->sess, &m->pend);
                if (n < 0) {
                    conn_fail(m, PX_CAUSE_H2_PROTOCOL);
                    return -1;
                }
                if (n == 0)
                    break;
                m->pend_len = (size_t)n;
            }
            size_t k = WBUF_BYTES - m->wlen < m->pend_len ? WBUF_BYTES - m->wlen : m->pend_len;
            memcpy(m->wbuf + m->wlen, m->pend, k);
            m->wlen += k;
            m->pend += k;
            m->pend_len -= k;
        }
        if (m->wlen == 0)
            return 0;
    }
}

/* Waiting requests onto the session, as far as it and --requests-per-conn allow. */
static void submit_waiting(struct px_mux *m)
{
    for (unsigned i = 0; i < m->cap; i++) {
        struct px_mux_req *r = &m->rec[i];
        if (r->req == NULL || r->id > 0)
            continue;
        if (m->per_conn && m->conn_reqs >= m->per_conn)
            return;
        int id = m->framing->accepts(m->sess) ? m->framing->submit(m->sess, r) : -1;
        if (id < 0)
            return;
        r->id = id;
        m->conn_reqs++;
    }
}

/* The open session's turn: hand over, write, and end the connection when done. */
static void session_step(struct px_mux *m)
{
    submit_waiting(m);
    int spent = m->per_conn && m->conn_reqs >= m->per_conn;
    int rst = m->env->load->close == PX_CLOSE_RST && (!m->env->load->keepalive || m->per_conn);
    if (count_sent(m) == 0 && (m->stopping || spent) && m->framing->alive(m->sess)) {
        if (rst && !m->stopping) {
            conn_drop(m, 0, 1);
            return;
        }
        m->framing->finish(m->sess); /* GOAWAY(NO_ERROR) */
    }
    if (flush(m) < 0)
        return;
    if (!m->framing->alive(m->sess) && m->woff == m->wlen)
        conn_end(m);
}

static void start_session(struct px_mux *m)
{
    static const struct px_session_events sev_proto = {
        .first_byte = sess_first_byte,
        .end = sess_end,
    };
    struct px_session_events sev = sev_proto;
    sev.arg = m;
    if (m->framing->open(&m->sess, m->framing_state, m->cap, &sev) < 0) {
        conn_fail(m, px_cause_from_errno(ENOMEM));
        return;
    }
    m->state = PX_MUX_OPEN;
}

static void do_handshake(struct px_mux *m)
{
    enum px_io io = px_link_handshake(&m->link, m->env);
    if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE) {
        m->state = PX_MUX_HANDSHAKE;
    } else if (io != PX_IO_DONE) {
        conn_fail(m, m->link.conn.cause);
    } else if (transport_of(m)->handshake_io && !m->link.conn.h2) {
        /* TLS without h2 by ALPN: no HTTP/2 to speak here. */
        conn_fail(m, PX_CAUSE_NO_H2);
    } else {
        start_session(m);
    }
}

static void open_conn(struct px_mux *m)
{
    int cause, err = 0;
    m->conn_reqs = 0;
    enum px_link_open rc = px_link_open(&m->link, m->env, mux_cb, m, &cause, &err);
    if (rc == PX_LINK_FAILED) {
        m->state = PX_MUX_CONNECTING; /* every request waited for this one */
        conn_fail(m, cause >= 0 ? cause : px_cause_from_errno(err));
        return;
    }
    m->state = PX_MUX_CONNECTING;
    if (rc == PX_LINK_CONNECTED) {
        px_link_ready(&m->link);
        do_handshake(m);
    }
}

/* ---- deadlines --------------------------------------------------------- */

static uint64_t earliest(const struct px_mux *m)
{
    uint64_t dl = 0;
    for (unsigned i = 0; i < m->cap; i++)
        if (m->rec[i].req != NULL && (dl == 0 || m->rec[i].deadline_us < dl))
            dl = m->rec[i].deadline_us;
    if (m->state == PX_MUX_CONNECTING) {
        uint64_t cdl = m->link.t_connect_us + m->env->load->connect_timeout_ms * 1000u;
        dl = dl == 0 || cdl < dl ? cdl : dl;
    }
    return dl;
}

/* The event waits for the earliest deadline (moved only when it changed). */
static void rearm(struct px_mux *m)
{
    if (m->link.conn.fd < 0 || m->state == PX_MUX_WAIT_EOF)
        return;
    uint64_t dl = earliest(m);
    if (dl == m->armed_us && event_pending(m->link.ev, EV_READ, NULL))
        return;
    m->armed_us = dl;
    if (dl != 0)
        px_link_wait(&m->link, dl);
    else if (!event_pending(m->link.ev, EV_READ, NULL))
        event_add(m->link.ev, NULL);
    else
        event_remove_timer(m->link.ev);
}

/* Deadlines passed: a stream held by a send window of 0 stalled on flow control. */
static void on_timeout(struct px_mux *m)
{
    uint64_t now = px_clock_us();
    m->armed_us = 0;
    if (m->state == PX_MUX_WAIT_EOF) {
        conn_drop(m, 0, 0);
        return;
    }
    if (m->state == PX_MUX_CONNECTING &&
        now >= m->link.t_connect_us + m->env->load->connect_timeout_ms * 1000u) {
        conn_fail(m, PX_CAUSE_CONNECT_TIMEOUT);
        return;
    }
    for (unsigned i = 0; i < m->cap; i++) {
        struct px_mux_req *r = &m->rec[i];
        if (r->req == NULL || r->deadline_us > now)
            continue;
        if (r->id > 0)
            doom(r, m->framing->cancel(m->sess, r->id) ? PX_CAUSE_FLOW_STALL
                                                       : PX_CAUSE_REQUEST_TIMEOUT);
        else
            doom(r, m->state == PX_MUX_CONNECTING ? PX_CAUSE_CONNECT_TIMEOUT
                                                  : PX_CAUSE_REQUEST_TIMEOUT);
    }
    tell_doomed(m);
    if (m->nreq == 0 && (m->state == PX_MUX_CONNECTING || m->state == PX_MUX_HANDSHAKE))
        conn_drop(m, 0, 0); /* nothing waits for it any more */
}

/* ---- events ------------------------------------------------------------ */

/* --close server: the response is counted; close once the server's FIN is here. */
static void wait_eof(struct px_mux *m, short what)
{
    enum px_io io = PX_IO_DONE;
    while (!(what & EV_CLOSED) && io == PX_IO_DONE) {
        size_t n;
        io = transport_of(m)->read(&m->link.conn, m->rbuf, m->rbuf_len, &n);
        if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE)
            return;
    }
    conn_drop(m, 0, 0);
}

static void read_all(struct px_mux *m, short what)
{
    const struct px_transport *t = transport_of(m);
    int fin = (what & EV_CLOSED) != 0;
    for (;;) {
        size_t n = 0;
        enum px_io io = t->read(&m->link.conn, m->rbuf, m->rbuf_len, &n);
        if (io == PX_IO_WANT_READ || io == PX_IO_WANT_WRITE)
            return;
        if (io != PX_IO_DONE) {
            conn_fail(m, io == PX_IO_EOF ? PX_CAUSE_CLOSED : m->link.conn.cause);
            return;
        }
        if (m->framing->recv(m->sess, m->rbuf, n) < 0) {
            conn_fail(m, PX_CAUSE_H2_PROTOCOL);
            return;
        }
        /* A short read emptied the socket (plain streams), unless a FIN waits. */
        if (t->short_read_drains && n < m->rbuf_len && !fin)
            return;
    }
}

static void mux_cb(int fd, short what, void *arg)
{
    (void)fd;
    struct px_mux *m = arg;
    m->in_io = 1;
    if (what & EV_TIMEOUT) {
        on_timeout(m);
    } else if (m->state == PX_MUX_CONNECTING) {
        px_link_ready(&m->link);
        do_handshake(m);
    } else if (m->state == PX_MUX_HANDSHAKE) {
        do_handshake(m);
    } else if (m->state == PX_MUX_OPEN && (what & (EV_READ | EV_CLOSED))) {
        read_all(m, what);
    } else if (m->state == PX_MUX_WAIT_EOF) {
        wait_eof(m, what);
    }
    m->in_io = 0;
    mux_pump(m);
}

/* Moves the connection on: opens it for waiting requests, feeds the session. */
static void mux_pump(struct px_mux *m)
{
    if (m->in_io)
        return; /* the running handler pumps at its end */
    m->in_io = 1;
    do {
        m->again = 0;
        if (m->state == PX_MUX_IDLE && m->nreq > 0)
            open_conn(m);
        if (m->state == PX_MUX_OPEN)
            session_step(m);
    } while (m->again || (m->state == PX_MUX_IDLE && m->nreq > 0));
    rearm(m);
    m->in_io = 0;
}

/* ---- the face ---------------------------------------------------------- */

int px_mux_init(struct px_mux *m, struct px_link_env *env, const struct px_framing *f,
                const void *framing_state, unsigned streams, unsigned per_conn,
                const struct px_mux_events *ev, char *rbuf, size_t rbuf_len)
{
    memset(m, 0, sizeof(*m));
    m->env = env;
    m->framing = f;
    m->framing_state = framing_state;
    m->events = *ev;
    m->cap = streams;
    m->per_conn = per_conn;
    m->rbuf = rbuf;
    m->rbuf_len = rbuf_len;
    m->link.conn.fd = -1;
    m->rec = calloc(streams, sizeof(*m->rec));
    m->wbuf = malloc(WBUF_BYTES);
    m->link.ev = event_new(env->base, -1, 0, mux_cb, m);
    return m->rec && m->wbuf && m->link.ev ? 0 : -1;
}

void px_mux_submit(struct px_mux *m, void *req, uint64_t deadline_us)
{
    for (unsigned i = 0; i < m->cap; i++) {
        if (m->rec[i].req == NULL) {
            m->rec[i] = (struct px_mux_req){.req = req, .deadline_us = deadline_us};
            m->nreq++;
            break;
        }
    }
    m->again = 1;
    mux_pump(m);
}

void px_mux_quiesce(struct px_mux *m)
{
    m->stopping = 1;
    if (m->state == PX_MUX_CONNECTING || m->state == PX_MUX_HANDSHAKE) {
        if (m->nreq == 0)
            conn_drop(m, 0, 0);
        return;
    }
    if (m->state == PX_MUX_OPEN)
        mux_pump(m);
}

void px_mux_abort(struct px_mux *m)
{
    if (m->rec == NULL)
        return;
    conn_drop(m, 0, 0);
    memset(m->rec, 0, m->cap * sizeof(*m->rec));
    m->nreq = 0;
}

void px_mux_release(struct px_mux *m)
{
    px_mux_abort(m);
    if (m->link.ev)
        event_free(m->link.ev);
    free(m->rec);
    free(m->wbuf);
    memset(m, 0, sizeof(*m));
}
