/* SPDX-License-Identifier: MIT */
/*
 * One client connection of the engine, the part that every connection kind
 * shares: the socket (dial.h), connect(), the transport's attach and
 * handshake, the one edge-triggered event that carries its I/O and its
 * deadline, what an established connection is counted as (connections
 * opened, connect and TLS latency, TCP timestamps), and its close. An
 * HTTP/1.1 slot (slot.c) rides one link per request place; an HTTP/2
 * connection (mux.c) rides one for several. The owner keeps the state: a link
 * only does the steps it is asked for and calls nothing back.
 */
#ifndef PORTEX_LOAD_LINK_H
#define PORTEX_LOAD_LINK_H

#include <stdint.h>

#include "portex/load/transport.h"

struct event;
struct event_base;
struct px_latency;
struct px_load;
struct px_totals;

/* What the connections of one worker share. */
struct px_link_env {
    const struct px_load *load;           /* target, ports, sources, timeouts */
    const struct px_transport *transport; /* how the bytes move */
    void *transport_worker;               /* the worker's transport state */
    struct event_base *base;              /* the worker's loop */
    struct px_totals *ctr;                /* the worker's counters (its thread alone) */
    struct px_latency *lat;               /* the worker's histograms, likewise */
    int *timestamps;   /* the run's enum px_ts, from its first connection; atomic */
    unsigned src_next; /* --source round robin */
    unsigned dst_next; /* target ports round robin (lab two-targets) */
    int nodelay;       /* set TCP_NODELAY on new connections */
    int ts_probed;     /* TCP_INFO read on this worker's first connection */
};

struct px_link {
    struct event *ev;      /* the connection's I/O, or a pure timer while there is none */
    struct px_conn conn;   /* the connection as the transport sees it; conn.fd -1: none */
    uint64_t t_connect_us; /* when connect() was called */
    uint64_t t_ready_us;   /* when the socket first reported ready after connect() */
    int established;       /* the connection carried its first successful step */
};

/* How px_link_open went. */
enum px_link_open {
    PX_LINK_FAILED = -1,    /* no connection (socket, bind, connect at once): *err is the errno
                             * or, with *cause set, an enum px_cause of the transport */
    PX_LINK_CONNECTING = 0, /* connect() under way: the event says when it is done */
    PX_LINK_CONNECTED = 1,  /* connected at once (Unix sockets): the first step follows now */
};

/*
 * Opens a connection toward env->load->target and registers it once for its
 * whole life on l->ev (made by the owner): edge-triggered read, write and peer
 * close, calling cb(fd, what, arg). On PX_LINK_FAILED nothing is left open,
 * and *cause is a px_cause (the transport's) or -1 with *err an errno.
 */
enum px_link_open px_link_open(struct px_link *l, struct px_link_env *env,
                               void (*cb)(int, short, void *), void *arg, int *cause, int *err);
/* connect() reported ready (or failed: the first transport step tells). */
void px_link_ready(struct px_link *l);
/* The connection carried its first byte: counted as opened, its connect latency kept. */
void px_link_established(struct px_link *l, struct px_link_env *env);
/* Drives the transport handshake; a handshake that moves bytes (TLS) and
 * completes establishes the connection and counts its kind (full, resumed). */
enum px_io px_link_handshake(struct px_link *l, struct px_link_env *env);
/* Waits on the link's event until deadline_us (monotonic us); the I/O registration stays. */
void px_link_wait(struct px_link *l, uint64_t deadline_us);
/* Ends the connection: graceful lets the transport say goodbye (TLS close_notify),
 * rst sends RST (SO_LINGER 0, no TIME_WAIT). Nothing when there is none. */
void px_link_close(struct px_link *l, const struct px_transport *t, int graceful, int rst);

#endif
