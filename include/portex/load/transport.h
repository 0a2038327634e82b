/* SPDX-License-Identifier: MIT */
/*
 * How a connection's bytes move, behind a small table of functions (as wrk
 * routes connect/read/write through `struct sock`): plain sockets (TCP and
 * Unix streams) use send/recv, TLS plugs in its own. The table also sets up
 * and tears down what a transport keeps per run (its context) and per worker
 * thread or server loop, and sums up what it saw, so that the engine and the
 * server hold a `const struct px_transport *` (transports.h picks it) and never
 * name TLS. The state machines above are the same for every transport.
 */
#ifndef PORTEX_LOAD_TRANSPORT_H
#define PORTEX_LOAD_TRANSPORT_H

#include <stddef.h>

struct px_load;
struct px_tls_summary;

/* Result of one transport step. */
enum px_io {
    PX_IO_DONE = 0,       /* the step finished (bytes moved, handshake complete) */
    PX_IO_WANT_READ = 1,  /* wait until the socket is readable, then call again */
    PX_IO_WANT_WRITE = 2, /* wait until the socket is writable, then call again */
    PX_IO_EOF = 3,        /* read: the peer closed (TLS: close_notify or a clean EOF) */
    PX_IO_ERROR = -1,     /* failed: conn->cause says why */
};

/* One connection as the transport sees it. */
struct px_conn {
    int fd;      /* connected socket, -1 when none */
    void *state; /* the transport's per-connection state (TLS: SSL *), NULL for plain */
    int cause;   /* enum px_cause of the last PX_IO_ERROR */
    int resumed; /* the handshake resumed a session (TLS) */
    int h2;      /* the handshake agreed on h2 by ALPN (TLS) */
};

struct px_transport {
    int short_read_drains; /* a read shorter than asked means the socket is empty (plain
                            * streams; not TLS, whose records may sit in its buffer) */
    int handshake_io;      /* the handshake moves bytes, so its success proves the
                            * connection (plain: the first write proves it) */
    int nodelay;           /* set TCP_NODELAY: the transport writes more than once per
                            * request (TLS handshake flights), so Nagle would hold them */

    /* A client context for a run, from its load (TLS: SNI, verification, version,
     * resumption); plain has none (*ctx = NULL). 0, or -1 with a one-line reason in err. */
    int (*ctx_new)(void **ctx, const struct px_load *load, char *err, size_t errlen);
    /* Frees a context of ctx_new. NULL is fine. */
    void (*ctx_free)(void *ctx);
    /* One worker thread's (or server loop's) state over a context that outlives
     * it (TLS: the session to resume, the first reasons); plain has none. 0, or -1
     * when out of memory. */
    int (*worker_new)(void **worker, void *ctx);
    /* Frees a worker's state. NULL is fine. */
    void (*worker_free)(void *worker);
    /* Adds what one worker saw to a run's summary, once its thread has ended:
     * the protocol and the first reason per TLS cause, where sum has none yet. */
    void (*summarize)(const void *worker, struct px_tls_summary *sum);

    /* Sets up per-connection state once fd is connected (worker: of worker_new);
     * 0, or -1 with c->cause. */
    int (*attach)(struct px_conn *c, void *worker);
    /* Drives the handshake (plain: DONE at once, no system call). */
    enum px_io (*handshake)(struct px_conn *c);
    /* Reads up to len bytes; *n gets the count when DONE. */
    enum px_io (*read)(struct px_conn *c, char *buf, size_t len, size_t *n);
    /* Writes up to len bytes; *n gets the count when DONE (may be short). */
    enum px_io (*write)(struct px_conn *c, const char *buf, size_t len, size_t *n);
    /* Ends the connection's transport state before close(fd): TLS sends
     * close_notify when `graceful`, frees its state; plain does nothing. */
    void (*detach)(struct px_conn *c, int graceful);
};

/* Plain sockets: send/recv with MSG_NOSIGNAL, for TCP and Unix streams. */
extern const struct px_transport px_transport_plain;

#endif
