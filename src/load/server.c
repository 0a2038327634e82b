/* SPDX-License-Identifier: MIT */
/*
 * `portex serve`: a small fast HTTP/1.1 target. Each loop has its own
 * SO_REUSEPORT listener, so the kernel spreads connections without a shared
 * accept queue. Keep-alive is honoured; on "Connection: close" or HTTP/1.0
 * the server sends the response and closes first (it then holds TIME_WAIT).
 * Every byte moves through the transport table (plain or TLS, picked once
 * from the config): a connection's handshake runs non-blocking in the same
 * callback before HTTP, and is no system call at all for plain sockets.
 * HTTP/2 (h2 by ALPN, or h2c: the first bytes are the preface) goes to an
 * nghttp2 session (h2serve.c) instead of the HTTP/1.1 parser.
 */
#include "portex/load/server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "portex/base/atomic.h"
#include "portex/base/outcome.h"
#include "portex/kernel/sock.h"
#include "portex/load/h2serve.h"
#include "portex/load/listen_unix.h"
#include "portex/load/transports.h"

#define READ_BUF         16384
#define BACKOFF_FIRST_MS 10   /* the first pause of a listener after accept() ran out */
#define BACKOFF_MAX_MS   1000 /* the longest: one try a second while the shortage lasts */

struct srv_loop;

/*
 * A loop's listener and its pause. When accept() fails for want of descriptors
 * or memory the connection stays queued and the socket stays readable, so a
 * listener left on would call accept() again at once, for ever (libevent's
 * does, and logs each failure): it is disabled for backoff_ms instead, the
 * pause doubling while the failures go on, and the loop serves the
 * connections it has meanwhile.
 */
struct srv_listener {
    struct srv_loop *loop;
    struct evconnlistener *lev;
    struct event *resume; /* timer: enables lev again */
    unsigned backoff_ms;  /* the last pause; 0 once an accept succeeded */
};

struct conn {
    struct srv_loop *loop;
    int fd;
    struct event *ev;
    http_parser parser;
    char *out; /* pending response bytes */
    size_t out_len, out_off, out_cap;
    int close_after;          /* close once `out` is sent */
    int reading;              /* event armed for EV_READ (else EV_WRITE) */
    int ready;                /* the transport's handshake is done */
    struct px_conn tc;        /* the transport's view of this connection */
    struct event *delay_ev;   /* --delay: the response's timer, made at first use */
    struct conn *prev, *next; /* the loop's open connections */

    /* HTTP/2 (h2 by ALPN, h2c by its preface), NULL: HTTP/1.1; sniffed once the
     * first bytes told which, until then they wait in pre. */
    struct px_h2serve *h2;
    int sniffed;
    unsigned pre_len;
    char pre[PX_H2_PREFACE_LEN];
};

struct srv_loop {
    struct px_server *srv;
    pthread_t thread;
    struct event_base *base;
    struct srv_listener listener; /* TCP; lev NULL with unix_only */
    uint64_t accepted;            /* written by this loop only */
    uint64_t requests;            /* written by this loop only */
    uint64_t accept_errors;       /* failed accept() calls; written by this loop only */
    int accept_errno;             /* the last one's errno; written by this loop only */
    struct conn *conns;           /* open connections, freed at the end */
    void *transport_worker;       /* this loop's transport state (TLS: counts, reasons) */
    char rbuf[READ_BUF];
    struct event *stop_ev; /* activated by px_server_stop from another thread */

    /* On the Unix socket that every loop shares; lev NULL without one. */
    struct srv_listener unix_listener;
};

struct px_server {
    struct px_server_config cfg;
    const struct px_transport *transport; /* plain, or TLS when cfg.tls is set */
    struct sockaddr_storage bound;
    struct srv_loop *loops;
    unsigned nloops;
    int unix_fd;      /* listening Unix socket, shared by every loop; -1 none */
    int unix_created; /* we bound unix_path: unlink it at the end */
    unsigned running;
    char *body;
    char *hdr_keep, *hdr_keep10, *hdr_close; /* response heads, precomputed */
    size_t len_keep, len_keep10, len_close;
};

static void conn_free(struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->loop->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->ev);
    if (c->delay_ev)
        event_free(c->delay_ev);
    /* close_notify only when the server closes first: after the client's
     * close it would meet a closed socket and draw an RST. */
    c->loop->srv->transport->detach(&c->tc, c->close_after && c->out_off == c->out_len);
    close(c->fd);
    px_h2serve_free(c->h2);
    free(c->out);
    free(c);
}

static int out_append(struct conn *c, const char *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *o = realloc(c->out, cap);
        if (o == NULL)
            return -1;
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    const struct px_server *srv = c->loop->srv;
    int keep = http_should_keep_alive(p);
    const char *hdr = srv->hdr_close;
    size_t hlen = srv->len_close;
    if (keep && p->http_major == 1 && p->http_minor == 0) {
        hdr = srv->hdr_keep10;
        hlen = srv->len_keep10;
    } else if (keep) {
        hdr = srv->hdr_keep;
        hlen = srv->len_keep;
    }
    if (out_append(c, hdr, hlen) < 0)
        return -1;
    if (p->method != HTTP_HEAD && out_append(c, srv->body, srv->cfg.body_bytes) < 0)
        return -1;
    PX_BUMP(c->loop->requests, 1);
    if (!keep) {
        c->close_after = 1;
        http_parser_pause(p, 1); /* nothing after this request is read */
    }
    return 0;
}

static const http_parser_settings req_settings = {
    .on_message_complete = on_message_complete,
};

static const char bad_request[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static void conn_cb(evutil_socket_t fd, short what, void *arg);

static void conn_arm(struct conn *c, short what)
{
    int reading = what == EV_READ;
    if (reading == c->reading && event_pending(c->ev, EV_READ | EV_WRITE, NULL))
        return;
    event_del(c->ev);
    event_assign(c->ev, c->loop->base, c->fd, what | EV_PERSIST, conn_cb, c);
    event_add(c->ev, NULL);
    c->reading = reading;
}

/* Sends what is pending. 0 when the connection lives on, -1 when freed. */
static int conn_flush(struct conn *c)
{
    const struct px_transport *t = c->loop->srv->transport;
    while (c->out_off < c->out_len) {
        size_t n = 0;
        enum px_io r = t->write(&c->tc, c->out + c->out_off, c->out_len - c->out_off, &n);
        if (r == PX_IO_DONE) {
            c->out_off += n;
            continue;
        }
        if (r == PX_IO_WANT_WRITE || r == PX_IO_WANT_READ) {
            conn_arm(c, r == PX_IO_WANT_WRITE ? EV_WRITE : EV_READ);
            return 0;
        }
        conn_free(c);
        return -1;
    }
    c->out_off = c->out_len = 0;
    if (c->close_after) {
        /* The server closes first: its FIN goes out before the client's. */
        conn_free(c);
        return -1;
    }
    conn_arm(c, EV_READ);
    return 0;
}

/* Feeds request bytes to the parser; 0 to read on, 1 to stop and flush. */
static int conn_parse(struct conn *c, const char *buf, size_t n)
{
    http_parser_execute(&c->parser, &req_settings, buf, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED)
        return 1;
    if (e != HPE_OK) {
        out_append(c, bad_request, sizeof(bad_request) - 1);
        c->close_after = 1;
        return 1;
    }
    return 0;
}

/* HTTP/2: the session takes the bytes and says what to send; it ends after a
 * GOAWAY exchange or a failure (its GOAWAY sent first). As conn_parse. */
static int h2_input(struct conn *c, const char *buf, size_t n)
{
    int failed = px_h2serve_recv(c->h2, buf, n) < 0;
    const char *out;
    long k;
    while ((k = px_h2serve_send(c->h2, &out)) > 0)
        if (out_append(c, out, (size_t)k) < 0)
            failed = 1;
    c->close_after = failed || k < 0 || !px_h2serve_alive(c->h2);
    return c->close_after;
}

/* Bytes from the client, once its first ones told HTTP/2 (ALPN, or the h2c
 * preface) from HTTP/1.1. As conn_parse. */
static int conn_input(struct conn *c, const char *buf, size_t n)
{
    if (!c->sniffed) {
        enum px_h2_sniff k = c->tc.h2 ? PX_SNIFF_H2 : px_h2_sniff(c->pre, &c->pre_len, buf, n);
        if (k == PX_SNIFF_MORE)
            return 0;
        c->sniffed = 1;
        const struct px_server *srv = c->loop->srv;
        if (k == PX_SNIFF_H2 &&
            (c->h2 = px_h2serve_new(srv->body, srv->cfg.body_bytes, &c->loop->requests)) == NULL)
            return c->close_after = 1;
        if (c->pre_len > 0 && conn_input(c, c->pre, c->pre_len))
            return 1;
    }
    return c->h2 ? h2_input(c, buf, n) : conn_parse(c, buf, n);
}

/* --delay: the answer waits on a timer (conn_cb flushes it: EV_TIMEOUT) with the socket's
 * event off, so nothing the client sends flushes it early. 0, or -1: no timer, send now. */
static int conn_delay(struct conn *c)
{
    uint64_t us = c->loop->srv->cfg.delay_us;
    if (c->delay_ev == NULL && (c->delay_ev = evtimer_new(c->loop->base, conn_cb, c)) == NULL)
        return -1;
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000)};
    event_del(c->ev);
    return evtimer_add(c->delay_ev, &tv);
}

/*
 * Reads until the transport wants the socket again. A plain read shorter than
 * the buffer emptied the socket, so no recv just to hear EAGAIN; TLS reads go
 * on until OpenSSL wants the socket: records may sit decrypted in its buffer
 * while the socket itself has nothing more to say.
 */
static void conn_read(struct conn *c)
{
    const struct px_transport *t = c->loop->srv->transport;
    for (;;) {
        size_t n = 0;
        enum px_io r = t->read(&c->tc, c->loop->rbuf, sizeof(c->loop->rbuf), &n);
        if (r == PX_IO_WANT_READ || r == PX_IO_WANT_WRITE)
            break;
        if (r != PX_IO_DONE) {
            conn_free(c);
            return;
        }
        if (conn_input(c, c->loop->rbuf, n))
            break;
        if (t->short_read_drains && n < sizeof(c->loop->rbuf))
            break;
    }
    if (c->loop->srv->cfg.delay_us && c->out_off < c->out_len && conn_delay(c) == 0)
        return;
    conn_flush(c);
}

static void conn_handshake(struct conn *c)
{
    enum px_io r = c->loop->srv->transport->handshake(&c->tc);
    if (r == PX_IO_WANT_READ || r == PX_IO_WANT_WRITE) {
        conn_arm(c, r == PX_IO_WANT_READ ? EV_READ : EV_WRITE);
        return;
    }
    if (r != PX_IO_DONE) {
        conn_free(c);
        return;
    }
    c->ready = 1;
    conn_read(c);
}

static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct conn *c = arg;
    if (!c->ready)
        conn_handshake(c);
    else if ((what & EV_READ) && c->out_off == c->out_len)
        conn_read(c);
    else
        conn_flush(c);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    struct srv_listener *sl = arg;
    struct srv_loop *loop = sl->loop;
    sl->backoff_ms = 0;
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    PX_BUMP(loop->accepted, 1);
    c->loop = loop;
    c->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->ev = event_new(loop->base, fd, EV_READ | EV_PERSIST, conn_cb, c);
    if (c->ev == NULL) {
        close(fd);
        free(c);
        return;
    }
    c->reading = 1;
    c->tc = (struct px_conn){.fd = fd};
    if (loop->srv->transport->attach(&c->tc, loop->transport_worker) < 0) {
        event_free(c->ev);
        close(fd);
        free(c);
        return;
    }
    event_add(c->ev, NULL);
    c->next = loop->conns;
    if (loop->conns)
        loop->conns->prev = c;
    loop->conns = c;
}

/*
 * Errors of one queued connection that Linux hands up through accept()
 * (accept(2): "Error handling"): the next accept may well succeed, so they
 * are counted but do not pause the listener.
 */
static int accept_error_is_one_connection(int err)
{
    switch (err) {
    case ENETDOWN:
    case EPROTO:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return 1;
    default:
        return 0;
    }
}

/* The pause after `last_ms`: 10 ms, doubling up to 1 s. */
static unsigned backoff_next(unsigned last_ms)
{
    if (last_ms == 0)
        return BACKOFF_FIRST_MS;
    return last_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : last_ms * 2;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct srv_listener *sl = arg;
    evconnlistener_enable(sl->lev);
}

/*
 * accept() failed with an error that libevent does not retry by itself (it
 * skips EAGAIN, EINTR and ECONNABORTED). Set, this callback also keeps
 * libevent from logging the failure. EMFILE, ENFILE, ENOBUFS and ENOMEM (and
 * anything unknown) pause the listener; see struct srv_listener.
 */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
    struct srv_listener *sl = arg;
    int err = EVUTIL_SOCKET_ERROR();
    PX_BUMP(sl->loop->accept_errors, 1);
    PX_STORE(sl->loop->accept_errno, err);
    if (accept_error_is_one_connection(err))
        return;
    evconnlistener_disable(lev);
    sl->backoff_ms = backoff_next(sl->backoff_ms);
    struct timeval pause = {.tv_sec = sl->backoff_ms / 1000,
                            .tv_usec = (suseconds_t)(sl->backoff_ms % 1000) * 1000};
    event_add(sl->resume, &pause);
}

/* Makes lev (NULL: failed) sl's listener, with the error callback and the
 * resume timer. 0, or -1 (sl->lev stays set for the cleanup). */
static int listener_init(struct srv_listener *sl, struct srv_loop *loop, struct evconnlistener *lev)
{
    sl->loop = loop;
    sl->lev = lev;
    if (lev == NULL)
        return -1;
    sl->resume = evtimer_new(loop->base, resume_cb, sl);
    if (sl->resume == NULL)
        return -1;
    evconnlistener_set_error_cb(lev, accept_error_cb);
    return 0;
}

static void listener_free(struct srv_listener *sl)
{
    if (sl->lev)
        evconnlistener_free(sl->lev);
    if (sl->resume)
        event_free(sl->resume);
}

static char *make_head(const char *extra, size_t body, size_t *len)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nServer: portex\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     body, extra);
    *len = (size_t)n;
    return strdup(buf);
}

/* An active event survives until the loop runs it; a bare event_base_loopbreak
 * before the thread entered event_base_loop would be forgotten (the loop
 * clears the flag on entry) and the join would wait forever. */
void px_server_config_defaults(struct px_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cpus > 0 ? (unsigned)cpus : 1;
    cfg->body_bytes = 13;
    char err[128];
    px_addr_parse("127.0.0.1:8080", &cfg->addr, &cfg->addr_len, err, sizeof(err));
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void use_pthreads(void)
{
    evthread_use_pthreads();
}

/*
 * 0 when addr's port is free. The listeners set SO_REUSEPORT so that the loops
 * share one port, but that also lets a second server of the same user join a
 * running one and silently take part of its connections: a probe bound without
 * SO_REUSEPORT fails with EADDRINUSE against any listener there.
 */
static int port_in_use(const struct sockaddr_storage *addr)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
    if ((addr->ss_family == AF_INET && in->sin_port == 0) ||
        (addr->ss_family == AF_INET6 && in6->sin6_port == 0))
        return 0;
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0; /* the listeners' own bind will say what is wrong */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* as the listeners */
    int busy =
        bind(fd, (const struct sockaddr *)addr, px_sock_addrlen(addr)) < 0 && errno == EADDRINUSE;
    close(fd);
    return busy;
}

/* Loop i: its event base, transport state, stop event and listeners. 0, or -1 with the reason. */
static int loop_init(struct px_server *s, unsigned i, char *err, size_t errlen)
{
    struct srv_loop *loop = &s->loops[i];
    loop->srv = s;
    /* --delay: libevent's default clock is the coarse one, a jiffy behind, and a timer
     * on it fires up to 4 ms early; the precise clock (timerfd) never does. */
    struct event_config *ec = event_config_new();
    if (ec != NULL && s->cfg.delay_us > 0)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    loop->base = ec != NULL ? event_base_new_with_config(ec) : NULL;
    if (ec != NULL)
        event_config_free(ec);
    if (loop->base == NULL || s->transport->worker_new(&loop->transport_worker, s->cfg.tls) < 0)
        goto oom;
    loop->stop_ev = event_new(loop->base, -1, 0, stop_cb, loop->base);
    if (loop->stop_ev == NULL)
        goto oom;
    /* Every loop watches the one Unix socket (no SO_REUSEPORT for paths);
     * a loop that loses the race to accept gets EAGAIN, which libevent skips. */
    struct srv_listener *ul = &loop->unix_listener;
    if (s->unix_fd >= 0 &&
        listener_init(ul, loop,
                      evconnlistener_new(loop->base, accept_cb, ul, LEV_OPT_CLOSE_ON_EXEC, 0,
                                         s->unix_fd)) < 0)
        goto oom;
    if (s->cfg.unix_only)
        return 0;
    /* Every loop binds the same port: the first one picks it when 0 was asked. */
    struct srv_listener *tl = &loop->listener;
    struct evconnlistener *lev = evconnlistener_new_bind(
        loop->base, accept_cb, tl,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC,
        4096, (struct sockaddr *)&s->bound, (int)px_sock_addrlen(&s->bound));
    if (lev == NULL) {
        snprintf(err, errlen, "cannot listen: %s", strerror(errno));
        return -1;
    }
    if (listener_init(tl, loop, lev) < 0)
        goto oom;
    if (i == 0) {
        socklen_t blen = sizeof(s->bound);
        getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&s->bound, &blen);
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory setting up the server");
    return -1;
}

struct px_server *px_server_new(const struct px_server_config *cfg, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, use_pthreads);
    struct px_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto oom;
    s->unix_fd = -1;
    s->cfg = *cfg;
    s->transport = px_transports_pick(cfg->tls != NULL);
    s->nloops = cfg->threads ? cfg->threads : 1;
    s->loops = calloc(s->nloops, sizeof(*s->loops));
    s->body = malloc(cfg->body_bytes + 1);
    s->hdr_keep = make_head("", cfg->body_bytes, &s->len_keep);
    s->hdr_keep10 = make_head("Connection: keep-alive\r\n", cfg->body_bytes, &s->len_keep10);
    s->hdr_close = make_head("Connection: close\r\n", cfg->body_bytes, &s->len_close);
    if (!s->loops || !s->body || !s->hdr_keep || !s->hdr_keep10 || !s->hdr_close)
        goto oom;
    for (size_t i = 0; i < cfg->body_bytes; i++)
        s->body[i] = (char)('a' + i % 26);
    if (cfg->body_bytes > 0)
        s->body[cfg->body_bytes - 1] = '\n';
    s->bound = cfg->addr;
    if (!cfg->unix_only && port_in_use(&s->bound)) {
        snprintf(err, errlen, "cannot listen: %s", strerror(EADDRINUSE));
        px_server_free(s);
        return NULL;
    }
    if (cfg->unix_path[0] &&
        px_unix_listen(cfg->unix_path, &s->unix_fd, &s->unix_created, err, errlen) < 0) {
        px_server_free(s);
        return NULL;
    }
    for (unsigned i = 0; i < s->nloops; i++) {
        if (loop_init(s, i, err, errlen) < 0) {
            px_server_free(s);
            return NULL;
        }
    }
    return s;
oom:
    snprintf(err, errlen, "out of memory setting up the server");
    px_server_free(s);
    return NULL;
}

void px_server_address(const struct px_server *s, struct sockaddr_storage *out)
{
    *out = s->bound;
}

static void *loop_main(void *arg)
{
    struct srv_loop *loop = arg;
    event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

int px_server_start(struct px_server *s, char *err, size_t errlen)
{
    for (unsigned i = 0; i < s->nloops; i++) {
        int rc = pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]);
        if (rc != 0) {
            snprintf(err, errlen, "cannot create server thread: %s", strerror(rc));
            px_server_stop(s);
            return -1;
        }
        s->running = i + 1;
    }
    return 0;
}

void px_server_stop(struct px_server *s)
{
    for (unsigned i = 0; i < s->running; i++)
        event_active(s->loops[i].stop_ev, EV_READ, 0);
    for (unsigned i = 0; i < s->running; i++)
        pthread_join(s->loops[i].thread, NULL);
    s->running = 0;
}

void px_server_counts(const struct px_server *s, uint64_t *accepted, uint64_t *requests)
{
    *accepted = *requests = 0;
    for (unsigned i = 0; i < s->nloops; i++) {
        *accepted += PX_LOAD(s->loops[i].accepted);
        *requests += PX_LOAD(s->loops[i].requests);
    }
}

void px_server_accept_errors(const struct px_server *s, uint64_t *errors, int *last_errno)
{
    *errors = 0;
    *last_errno = 0;
    for (unsigned i = 0; i < s->nloops; i++) {
        uint64_t n = PX_LOAD(s->loops[i].accept_errors);
        *errors += n;
        if (n > 0)
            *last_errno = PX_LOAD(s->loops[i].accept_errno);
    }
}

void px_server_free(struct px_server *s)
{
    if (s == NULL)
        return;
    px_server_stop(s);
    for (unsigned i = 0; s->loops && i < s->nloops; i++) {
        struct srv_loop *loop = &s->loops[i];
        listener_free(&loop->listener);
        listener_free(&loop->unix_listener);
        while (loop->conns)
            conn_free(loop->conns);
        s->transport->worker_free(loop->transport_worker);
        if (loop->stop_ev)
            event_free(loop->stop_ev);
        if (loop->base)
            event_base_free(loop->base);
    }
    if (s->unix_fd >= 0)
        close(s->unix_fd);
    if (s->unix_created)
        unlink(s->cfg.unix_path);
    free(s->loops);
    free(s->body);
    free(s->hdr_keep);
    free(s->hdr_keep10);
    free(s->hdr_close);
    free(s);
}
