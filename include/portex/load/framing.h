/* SPDX-License-Identifier: MIT */
/*
 * How requests and responses are framed on a connection, behind a small table
 * like the transport's. One request at a time (HTTP/1.1, h1.c): the slot
 * (slot.c) asks for the bytes of a request, feeds what comes back, and learns
 * when the response is whole, its status and whether the connection may carry
 * another request. Several at once (HTTP/2, h2.c: `multiplexed`): a session per
 * connection takes exchanges, turns bytes from the server into their ends and
 * says what to send; the connection (mux.c) moves the bytes. Neither knows the
 * other's protocol.
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

/* What a session tells its connection about one exchange (req: as given to submit). */
struct px_session_events {
    void *arg;
    /* The exchange's response began (its first header block). */
    void (*first_byte)(void *arg, void *req);
    /* The exchange ended: status > 0 with the whole response, else 0 and cause
     * (enum px_cause; refused_stream: the server did not process it). */
    void (*end)(void *arg, void *req, int status, int cause);
};

struct px_framing {
    const char *protocol; /* "http/1.1" or "h2": summary.protocol */
    int multiplexed;      /* several exchanges per connection: the session ops below;
                           * else one at a time: request, begin, feed, eof */
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

    /* A client session for one connection (its preface and SETTINGS queued), for
     * up to `streams` exchanges at once; events tell their ends. 0, or -1 (memory). */
    int (*open)(void **sess, const void *state, unsigned streams,
                const struct px_session_events *ev);
    /* Frees a session. Exchanges still open are not told: the connection counts them. */
    void (*close)(void *sess);
    /* Queues the run's request as a new exchange for req: its id (> 0), or -1 when
     * the session takes no more (a GOAWAY either way, or every stream in use). */
    int (*submit)(void *sess, void *req);
    /* Feeds n bytes from the server. 0, or -1: the session failed (cause says why). */
    int (*recv)(void *sess, const char *buf, size_t n);
    /* The next bytes to send into *buf (valid until the next call): their length,
     * 0 when there is nothing, -1 when the session failed. */
    long (*send)(void *sess, const char **buf);
    /* 1 while the session still reads or writes; 0 once it ended (GOAWAY sent or
     * both ways, or a failure it answered with its own GOAWAY). */
    int (*alive)(const void *sess);
    /* 1 when another exchange may be submitted (no GOAWAY seen or sent). */
    int (*accepts)(const void *sess);
    /* Why the exchanges still open end with the session: enum px_cause, or -1
     * when the session knows nothing against the peer (the connection's cause holds). */
    int (*cause)(const void *sess);
    /* Gives up on exchange id (RST_STREAM CANCEL); it is not told. 1 when it was
     * held by flow control (its request body waits on a send window of 0). */
    int (*cancel)(void *sess, int id);
    /* Starts no more exchanges: GOAWAY(NO_ERROR) once those open have ended. */
    void (*finish)(void *sess);
};

#endif
