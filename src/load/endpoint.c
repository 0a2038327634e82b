/* SPDX-License-Identifier: MIT */
/*
 * The /metrics endpoint: evhttp on its own thread and event_base. The socket
 * is bound here, in the caller's thread (exact errno, no blocking name lookup:
 * the address is numeric), and handed to evhttp. evhttp alone would let a
 * scraper hold the process: its timeout is re-armed by every byte (a
 * slowloris sending one header byte a second lives for hours) and it reads
 * pipelined requests without limit while a response waits for a reader that
 * never reads. So each connection's bufferevent is made here (evhttp_set_bevcb)
 * with a read watermark, and a sweeper closes the connections that complete
 * no request in time and pauses accepting at PX_ENDPOINT_MAX_CONNS.
 */
#include "portex/load/endpoint.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "portex/base/atomic.h"
#include "portex/base/clock.h"
#include "portex/base/url.h"

#define SWEEP_MS   250
#define CONN_SLOTS (2 * PX_ENDPOINT_MAX_CONNS) /* room for closed ones not swept yet */

enum { FMT_OPENMETRICS, FMT_PROMETHEUS, FMT_COUNT };

/* A connection evhttp serves, held by one reference of ours so that the
 * sweeper sees when evhttp lets go of it. */
struct ep_conn {
    struct bufferevent *bev;
    uint64_t since_us; /* accepted, then its last request (monotonic) */
    int shut;          /* shut down for completing no request in time */
    uint64_t gen;      /* the publish its response in progress carries */
    int fmt;           /* and that response's format */
};

struct px_endpoint {
    int fd; /* the listening socket until evhttp owns it; -1 then */
    struct sockaddr_storage addr;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *stop_ev;  /* activated by px_endpoint_free from another thread */
    struct event *sweep_ev; /* every SWEEP_MS */
    pthread_t thread;
    int started;
    int taken_fd; /* eventfd: a final response was written whole */

    pthread_mutex_t mu;    /* guards the five below */
    char *text[FMT_COUNT]; /* what a scrape gets, per format */
    size_t len[FMT_COUNT]; /* bytes of text */
    uint64_t gen;          /* bumped by every publish */
    uint64_t final_gen;    /* the final publish's gen; 0: none yet */
    int taken;             /* a response of final_gen was written whole */

    /* The serving thread's alone. */
    struct ep_conn conns[CONN_SLOTS];
    unsigned nconns;
    int paused;                       /* accepting paused at PX_ENDPOINT_MAX_CONNS */
    struct px_endpoint_counts counts; /* written by the serving thread; read relaxed */
};

/* One media range of an Accept header, [p, p + len): OpenMetrics with q > 0? */
static int range_is_openmetrics(const char *p, size_t len)
{
    static const char om[] = "application/openmetrics-text";
    size_t n = sizeof(om) - 1;
    if (len < n || strncasecmp(p, om, n) != 0 || (len > n && strchr("; \t", p[n]) == NULL))
        return 0;
    /* q=0 means "not acceptable" (RFC 9110, 12.4.2). */
    for (const char *q = p + n; q + 2 <= p + len; q++)
        if (strncasecmp(q, "q=", 2) == 0 && (q[-1] == ';' || q[-1] == ' ' || q[-1] == '\t'))
            return strtod(q + 2, NULL) > 0;
    return 1;
}

int px_endpoint_wants_openmetrics(const char *accept)
{
    for (const char *p = accept; p != NULL && *p != '\0';) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, ",");
        if (range_is_openmetrics(p, len))
            return 1;
        p = p[len] == ',' ? p + len + 1 : NULL;
    }
    return 0;
}

/* ---- the serving thread --------------------------------------------------- */

static struct ep_conn *conn_of(struct px_endpoint *ep, struct evhttp_request *req)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    for (unsigned i = 0; i < ep->nconns; i++)
        if (ep->conns[i].bev == bev)
            return &ep->conns[i];
    return NULL;
}

/* Accepting pauses while PX_ENDPOINT_MAX_CONNS are open: new connections wait
 * in the kernel's backlog, and the descriptors the load needs are not taken. */
static void limit_conns(struct px_endpoint *ep)
{
    struct evconnlistener *l = evhttp_bound_socket_get_listener(ep->bound);
    if (!ep->paused && ep->nconns >= PX_ENDPOINT_MAX_CONNS) {
        evconnlistener_disable(l);
        ep->paused = 1;
        PX_BUMP(ep->counts.paused, 1);
    } else if (ep->paused && ep->nconns < PX_ENDPOINT_MAX_CONNS) {
        evconnlistener_enable(l);
        ep->paused = 0;
    }
}

/* evhttp makes every connection's bufferevent here: capped input, one more reference. */
static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
    struct px_endpoint *ep = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return NULL;
    /* evhttp reads on while a response waits: without a cap a client that
     * pipelines requests and never reads the answers grows this buffer for ever. */
    bufferevent_setwatermark(bev, EV_READ, 0, PX_ENDPOINT_READ_MAX);
    PX_BUMP(ep->counts.connections, 1);
    if (ep->nconns < CONN_SLOTS) {
        bufferevent_incref(bev);
        ep->conns[ep->nconns++] = (struct ep_conn){.bev = bev, .since_us = px_clock_us()};
    }
    limit_conns(ep);
    return bev;
}

/*
 * Every SWEEP_MS: lets go of the connections evhttp has freed (it clears their
 * callbacks; our reference closes the socket), and shuts down those that
 * completed no request for PX_ENDPOINT_REQUEST_S (evhttp then reads EOF and
 * frees them). evhttp's own timeout cannot do this: each byte re-arms it.
 */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_endpoint *ep = arg;
    uint64_t now = px_clock_us();
    for (unsigned i = 0; i < ep->nconns;) {
        struct ep_conn *c = &ep->conns[i];
        bufferevent_data_cb rd, wr;
        bufferevent_event_cb ev;
        bufferevent_getcb(c->bev, &rd, &wr, &ev, NULL);
        if (rd == NULL && wr == NULL && ev == NULL) {
            bufferevent_decref(c->bev);
            *c = ep->conns[--ep->nconns];
            continue;
        }
        if (!c->shut && now - c->since_us > PX_ENDPOINT_REQUEST_S * 1000000ull) {
            shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
            c->shut = 1;
            PX_BUMP(ep->counts.shut, 1);
        }
        i++;
    }
    limit_conns(ep);
}

/* A GET's response went out whole: counted; one carrying the final publish
 * means the last values were taken. */
static void complete_cb(struct evhttp_request *req, void *arg)
{
    struct px_endpoint *ep = arg;
    struct ep_conn *c = conn_of(ep, req);
    if (c == NULL)
        return;
    PX_BUMP(*(c->fmt == FMT_OPENMETRICS ? &ep->counts.openmetrics : &ep->counts.prometheus), 1);
    pthread_mutex_lock(&ep->mu);
    int now_taken = !ep->taken && ep->final_gen != 0 && c->gen == ep->final_gen;
    if (now_taken)
        ep->taken = 1;
    pthread_mutex_unlock(&ep->mu);
    uint64_t one = 1;
    if (now_taken && write(ep->taken_fd, &one, sizeof(one)) < 0)
        return; /* an eventfd write fails only on overflow, far away */
}

/* GET or HEAD /metrics: the last publish, in the format the Accept header asks for. */
static void request_cb(struct evhttp_request *req, void *arg)
{
    struct px_endpoint *ep = arg;
    struct ep_conn *c = conn_of(ep, req);
    if (c != NULL)
        c->since_us = px_clock_us();
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (path == NULL || strcmp(path, "/metrics") != 0) {
        evhttp_send_error(req, HTTP_NOTFOUND, NULL);
        return;
    }
    const char *accept = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
    int fmt = px_endpoint_wants_openmetrics(accept) ? FMT_OPENMETRICS : FMT_PROMETHEUS;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    pthread_mutex_lock(&ep->mu);
    uint64_t gen = ep->gen;
    int added = evbuffer_add(out, ep->text[fmt], ep->len[fmt]);
    pthread_mutex_unlock(&ep->mu);
    if (added < 0) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      fmt == FMT_OPENMETRICS ? PX_ENDPOINT_OPENMETRICS : PX_ENDPOINT_PROMETHEUS);
    if (c != NULL && evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
        c->gen = gen;
        c->fmt = fmt;
        evhttp_request_set_on_complete_cb(req, complete_cb, ep);
    }
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* An active event survives until the loop runs it: a bare loopbreak before the
 * thread entered the loop would be forgotten (as in server.c). */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void *serve_main(void *arg)
{
    struct px_endpoint *ep = arg;
    event_base_dispatch(ep->base);
    return NULL;
}

/* ---- the face ----------------------------------------------------------- */

/* event_active() from another thread needs libevent's locking. */
static void use_pthreads(void)
{
    evthread_use_pthreads();
}

/* socket, SO_REUSEADDR (a restart finds the port in TIME_WAIT), bind, listen. fd or -1. */
static int listen_on(const struct sockaddr_storage *addr, socklen_t addr_len)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (const struct sockaddr *)addr, addr_len) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

struct px_endpoint *px_endpoint_open(const struct sockaddr_storage *addr, socklen_t addr_len,
                                     char *err, size_t errlen)
{
    struct px_endpoint *ep = calloc(1, sizeof(*ep));
    char where[80];
    px_sockaddr_str((const struct sockaddr *)addr, where, sizeof(where));
    if (ep == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&ep->mu, NULL);
    ep->taken_fd = -1;
    ep->fd = listen_on(addr, addr_len);
    if (ep->fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
        goto fail;
    }
    socklen_t len = sizeof(ep->addr);
    ep->taken_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    /* Before the first publish: an empty exposition (OpenMetrics ends with # EOF). */
    ep->text[FMT_OPENMETRICS] = strdup("# EOF\n");
    ep->text[FMT_PROMETHEUS] = strdup("");
    if (getsockname(ep->fd, (struct sockaddr *)&ep->addr, &len) < 0 || ep->taken_fd < 0 ||
        ep->text[FMT_OPENMETRICS] == NULL || ep->text[FMT_PROMETHEUS] == NULL) {
        snprintf(err, errlen, "cannot set up %s: %s", where, strerror(errno));
        goto fail;
    }
    ep->len[FMT_OPENMETRICS] = strlen(ep->text[FMT_OPENMETRICS]);
    return ep;
fail:
    px_endpoint_free(ep);
    return NULL;
}

void px_endpoint_address(const struct px_endpoint *ep, struct sockaddr_storage *out)
{
    *out = ep->addr;
}

/* The event base, evhttp with its limits, the socket handed over, the timers. 0 or -1. */
static int serve_setup(struct px_endpoint *ep)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, use_pthreads);
    if ((ep->base = event_base_new()) == NULL || (ep->http = evhttp_new(ep->base)) == NULL)
        return -1;
    evhttp_set_timeout(ep->http, PX_ENDPOINT_TIMEOUT_S);
    evhttp_set_max_headers_size(ep->http, 8192);
    evhttp_set_max_body_size(ep->http, 0); /* a body gets 413 */
    evhttp_set_allowed_methods(ep->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(ep->http, request_cb, ep);
    evhttp_set_bevcb(ep->http, bev_cb, ep);
    if ((ep->bound = evhttp_accept_socket_with_handle(ep->http, ep->fd)) == NULL)
        return -1;
    ep->fd = -1; /* evhttp closes it */
    ep->stop_ev = event_new(ep->base, -1, 0, stop_cb, ep->base);
    ep->sweep_ev = event_new(ep->base, -1, EV_PERSIST, sweep_cb, ep);
    const struct timeval sweep = {.tv_sec = 0, .tv_usec = SWEEP_MS * 1000};
    if (ep->stop_ev == NULL || ep->sweep_ev == NULL || event_add(ep->sweep_ev, &sweep) < 0)
        return -1;
    return 0;
}

int px_endpoint_start(struct px_endpoint *ep, char *err, size_t errlen)
{
    if (serve_setup(ep) < 0) {
        snprintf(err, errlen, "cannot set up the metrics server (an event loop, or memory)");
        return -1;
    }
    if (pthread_create(&ep->thread, NULL, serve_main, ep) != 0) {
        snprintf(err, errlen, "cannot start the metrics thread");
        return -1;
    }
    pthread_setname_np(ep->thread, "px-metrics"); /* for top -H, and bench/metrics.py */
    ep->started = 1;
    return 0;
}

int px_endpoint_publish(struct px_endpoint *ep, const char *openmetrics, size_t om_len,
                        const char *prometheus, size_t prom_len, int final)
{
    char *om = malloc(om_len + 1), *prom = malloc(prom_len + 1);
    if (om == NULL || prom == NULL) {
        free(om);
        free(prom);
        return -1;
    }
    memcpy(om, openmetrics, om_len);
    memcpy(prom, prometheus, prom_len);
    pthread_mutex_lock(&ep->mu);
    char *old[FMT_COUNT] = {ep->text[FMT_OPENMETRICS], ep->text[FMT_PROMETHEUS]};
    ep->text[FMT_OPENMETRICS] = om;
    ep->len[FMT_OPENMETRICS] = om_len;
    ep->text[FMT_PROMETHEUS] = prom;
    ep->len[FMT_PROMETHEUS] = prom_len;
    ep->gen++;
    if (final)
        ep->final_gen = ep->gen;
    pthread_mutex_unlock(&ep->mu);
    /* Outside the lock: a scrape copies what it serves under it. */
    free(old[FMT_OPENMETRICS]);
    free(old[FMT_PROMETHEUS]);
    return 0;
}

int px_endpoint_taken_fd(const struct px_endpoint *ep)
{
    return ep->taken_fd;
}

void px_endpoint_counts(const struct px_endpoint *ep, struct px_endpoint_counts *out)
{
    out->openmetrics = PX_LOAD(ep->counts.openmetrics);
    out->prometheus = PX_LOAD(ep->counts.prometheus);
    out->connections = PX_LOAD(ep->counts.connections);
    out->shut = PX_LOAD(ep->counts.shut);
    out->paused = PX_LOAD(ep->counts.paused);
}

void px_endpoint_free(struct px_endpoint *ep)
{
    if (ep == NULL)
        return;
    if (ep->started) {
        event_active(ep->stop_ev, EV_READ, 0);
        pthread_join(ep->thread, NULL);
    }
    if (ep->http)
        evhttp_free(ep->http); /* the listener and every connection */
    for (unsigned i = 0; i < ep->nconns; i++)
        bufferevent_decref(ep->conns[i].bev);
    if (ep->stop_ev)
        event_free(ep->stop_ev);
    if (ep->sweep_ev)
        event_free(ep->sweep_ev);
    if (ep->base)
        event_base_free(ep->base);
    if (ep->fd >= 0)
        close(ep->fd);
    if (ep->taken_fd >= 0)
        close(ep->taken_fd);
    free(ep->text[FMT_OPENMETRICS]);
    free(ep->text[FMT_PROMETHEUS]);
    pthread_mutex_destroy(&ep->mu);
    free(ep);
}
