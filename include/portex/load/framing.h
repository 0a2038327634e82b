/* SPDX-License-Identifier: MIT */
/*
 * How requests and responses are framed on a connection, behind a small table
 * like the transport's: the connection state machine (slot.c) asks for the
 * bytes of a request, feeds what comes back, and learns when the response is
 * whole, its status and whether the connection may carry another request.
 * It knows nothing more of HTTP/1.1 (h1.c), so HTTP/2 (several streams on one
 * connection) can come in beside it as another table.
 */
#ifndef PORTEX_LOAD_FRAMING_H
#define PORTEX_LOAD_FRAMING_H

#include <stddef.h>

#include "portex/load/http.h"

struct px_load;

/* Result of feeding a framing. */
enum px_frame {
    PX_FRAME_MORE = 0,  /* the response is not complete yet */
    PX_FRAME_DONE = 1,  /* the whole response is in: status and keep_alive are set */
    PX_FRAME_ERROR = -1 /* not valid for the protocol: counted as a parse error */
};

/* One request's response as the framing reads it. */
struct px_exchange {
    int status;             /* final status code, once DONE */
    int keep_alive;         /* once DONE: the connection may carry another request */
    struct px_http_resp h1; /* HTTP/1.1: the response parser */
};

struct px_framing {
    /* The run's requests from its load into *state. 0, or -1 when out of memory. */
    int (*setup)(void **state, const struct px_load *load);
    /* Frees what setup made. NULL is fine. */
    void (*teardown)(void *state);
    /* The bytes of a request; last: the connection's last one (-k --requests-per-conn). */
    void (*request)(const void *state, int last, const char **buf, size_t *len);
    /* Prepares x for the response to one request of this run. */
    void (*begin)(const void *state, struct px_exchange *x);
    /* Feeds n response bytes: MORE, DONE or ERROR. */
    enum px_frame (*feed)(struct px_exchange *x, const char *buf, size_t n);
    /* The peer closed: DONE when that ends the response, MORE when it was cut
     * short, ERROR when the bytes before were not valid. */
    enum px_frame (*eof)(struct px_exchange *x);
};

#endif
