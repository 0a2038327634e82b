/* SPDX-License-Identifier: MIT */
/*
 * How a connection's bytes move, behind a small table of functions (as wrk
 * routes connect/read/write through `struct sock`): plain TCP or Unix sockets
 * use send/recv, TLS plugs in its own. The engine's state machine is the same
 * for all; only the transport differs.
 */
#ifndef PORTEX_LOAD_TRANSPORT_H
#define PORTEX_LOAD_TRANSPORT_H

#include <stddef.h>

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
    void *tls;   /* transport state (SSL *), NULL for plain */
    int cause;   /* enum px_cause of the last PX_IO_ERROR */
    int resumed; /* TLS: the handshake resumed a session */
};

struct px_transport {
    const char *name;      /* "tcp", "tls", "unix" */
    int short_read_drains; /* a read shorter than asked means the socket is empty (plain
                            * streams; not TLS, whose records may sit in its buffer) */
    int handshake_io;      /* the handshake moves bytes, so its success proves the
                            * connection (plain: the first write proves it) */
    int nodelay;           /* set TCP_NODELAY: the transport writes more than once per
                            * request (TLS handshake flights), so Nagle would hold them */
    /* Sets up per-connection state once fd is connected; 0, or -1 with c->cause. */
    int (*attach)(struct px_conn *c, void *ctx);
    /* Drives the handshake (plain: DONE at once). */
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
