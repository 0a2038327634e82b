/* SPDX-License-Identifier: MIT */
/*
 * One HTTP/2 connection of a worker and the requests it carries at once (up to
 * its streams): the connection through link.h (the same dial, connect,
 * handshake and accounting as an HTTP/1.1 slot's), the protocol through a
 * multiplexed framing's session (h2.c), the bytes through the transport. Its
 * requests belong to slots (slot.c): each is handed over with its deadline
 * and comes back exactly once through the events the slots gave, with a
 * status or a cause. A request waits while the connection is being made, or
 * while it takes no more (GOAWAY, --requests-per-conn spent); the next
 * connection carries it. Only a connection that fails at once (socket,
 * connect: EADDRNOTAVAIL...) ends requests inside the call that handed one
 * over, and only with a failure; every other end comes from the event loop.
 */
#ifndef PORTEX_LOAD_MUX_H
#define PORTEX_LOAD_MUX_H

#include <stddef.h>
#include <stdint.h>

#include "portex/load/link.h"

struct px_framing;

/* What a mux tells the owner of a request (req: as handed to px_mux_submit). */
struct px_mux_events {
    void *arg;
    void (*first_byte)(void *arg, void *req); /* its response began */
    /* It ended: status > 0 with the whole response, else 0 and cause (enum px_cause). */
    void (*end)(void *arg, void *req, int status, int cause);
};

enum px_mux_state {
    PX_MUX_IDLE,       /* no connection */
    PX_MUX_CONNECTING, /* connect() under way */
    PX_MUX_HANDSHAKE,  /* transport handshake (TLS) under way */
    PX_MUX_OPEN,       /* the session runs */
    PX_MUX_WAIT_EOF,   /* --close server: GOAWAY sent, waiting for the server's FIN */
};

/* One request of the connection. */
struct px_mux_req {
    void *req;            /* the owner's; NULL: free */
    uint64_t deadline_us; /* its --timeout, from its intended start */
    int id;               /* its stream, 0 while it waits for the connection */
    int doomed;           /* about to be told its end */
    int cause;            /* that end's enum px_cause */
};

struct px_mux {
    struct px_link link;              /* the connection */
    struct px_link_env *env;          /* the worker's, shared by its connections */
    const struct px_framing *framing; /* multiplexed: the session ops */
    const void *framing_state;        /* the run's request (framing->setup) */
    struct px_mux_events events;      /* for the requests' owner */
    enum px_mux_state state;
    void *sess;             /* the framing's session, NULL without a connection */
    struct px_mux_req *rec; /* cap records */
    unsigned cap;           /* --streams: requests at once */
    unsigned nreq;          /* records in use */
    unsigned per_conn;      /* requests per connection, 0: no limit */
    unsigned conn_reqs;     /* requests the connection has taken */
    int in_io;              /* inside a handler: hand-overs wait for its end */
    int again;              /* a request was handed over meanwhile */
    int stopping;           /* close once no request is left */
    uint64_t armed_us;      /* the deadline the event waits for, 0: none */
    char *rbuf;             /* the worker's read buffer */
    size_t rbuf_len;
    char *wbuf; /* bytes for the server, coalesced into one write */
    size_t wlen, woff;
    const char *pend; /* the rest of the session's last chunk */
    size_t pend_len;
};

/* A mux of `streams` requests at once, `per_conn` per connection (0: any);
 * no connection yet. 0, or -1 when out of memory (px_mux_release either way). */
int px_mux_init(struct px_mux *m, struct px_link_env *env, const struct px_framing *f,
                const void *framing_state, unsigned streams, unsigned per_conn,
                const struct px_mux_events *ev, char *rbuf, size_t rbuf_len);
/* Hands a request over (at most `streams` at once); the connection opens when
 * there is none. Its end comes through the events (see above). */
void px_mux_submit(struct px_mux *m, void *req, uint64_t deadline_us);
/* Starts nothing more: the connection closes once its requests have ended. */
void px_mux_quiesce(struct px_mux *m);
/* Closes the connection at once and forgets its requests without telling them. */
void px_mux_abort(struct px_mux *m);
/* Aborts and frees; a zeroed mux is fine. */
void px_mux_release(struct px_mux *m);

#endif
