/* SPDX-License-Identifier: MIT */
/*
 * The /metrics endpoint (--metrics ADDR): libevent's evhttp on a thread and an
 * event_base of its own, never a worker's, serving the exposition last
 * published, OpenMetrics or the Prometheus text format 0.0.4 by the
 * scraper's Accept. A slow or hostile scraper cannot stall the process or
 * grow its memory: each connection's input is capped, its output is one
 * response at a time, idle and stalled connections are closed, and accepting
 * pauses while PX_ENDPOINT_MAX_CONNS are open.
 */
#ifndef PORTEX_LOAD_ENDPOINT_H
#define PORTEX_LOAD_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PX_ENDPOINT_MAX_CONNS 16    /* open connections; accepting pauses at this many */
#define PX_ENDPOINT_READ_MAX  16384 /* bytes read ahead per connection (pipelined requests) */
#define PX_ENDPOINT_TIMEOUT_S 5     /* no byte read or written for this long: closed */
#define PX_ENDPOINT_REQUEST_S 10    /* a connection that completes no request this long: closed */

/* Content types of the two formats. */
#define PX_ENDPOINT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define PX_ENDPOINT_PROMETHEUS  "text/plain; version=0.0.4; charset=utf-8"

struct px_endpoint;

/* What the endpoint did so far. */
struct px_endpoint_counts {
    uint64_t openmetrics; /* responses written whole, per format */
    uint64_t prometheus;
    uint64_t connections; /* accepted */
    uint64_t shut;        /* closed for completing no request within PX_ENDPOINT_REQUEST_S */
    uint64_t paused;      /* times accepting paused at PX_ENDPOINT_MAX_CONNS */
};

/*
 * Binds and listens on addr (port 0: a free one) in the calling thread; nothing
 * is served before px_endpoint_start. NULL with "cannot listen on ADDR: reason"
 * in err.
 */
struct px_endpoint *px_endpoint_open(const struct sockaddr_storage *addr, socklen_t addr_len,
                                     char *err, size_t errlen);
/* The bound address, with the port chosen when 0 was asked. */
void px_endpoint_address(const struct px_endpoint *ep, struct sockaddr_storage *out);
/* Starts the thread that serves. 0, or -1 with the reason in err. */
int px_endpoint_start(struct px_endpoint *ep, char *err, size_t errlen);
/*
 * Serves these renderings from now on (both copied; from any thread). final:
 * they are the last, and px_endpoint_taken_fd turns readable once one of them
 * was written whole to a scraper. 0, or -1 when out of memory (the old stay).
 */
int px_endpoint_publish(struct px_endpoint *ep, const char *openmetrics, size_t om_len,
                        const char *prometheus, size_t prom_len, int final);
/*
 * An eventfd that polls readable once a GET of /metrics carrying the final
 * publish was written whole to its socket: the last values were taken.
 */
int px_endpoint_taken_fd(const struct px_endpoint *ep);
/* The counts so far (from any thread). */
void px_endpoint_counts(const struct px_endpoint *ep, struct px_endpoint_counts *out);
/* Stops the thread, closes every connection and the listener, frees. NULL is fine. */
void px_endpoint_free(struct px_endpoint *ep);

/*
 * 1 when an Accept header asks for OpenMetrics (application/openmetrics-text
 * with q > 0, as Prometheus does first), 0 for the 0.0.4 text (no Accept,
 * curl's, or text/plain).
 */
int px_endpoint_wants_openmetrics(const char *accept);

#endif
