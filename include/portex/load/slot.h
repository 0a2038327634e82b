/* SPDX-License-Identifier: MIT */
/*
 * The connection state machine of the engine. A slot carries one request at a
 * time: connect -> transport handshake -> write -> read -> close (or keep the
 * connection), its bytes through the transport table and its requests and
 * responses through the framing table, and every change of state through one
 * function that keeps the busy count and the free list in step. When a request
 * has ended the slot tells its owner (a worker) through the callback that the
 * owner handed down; the owner decides whether and when the next one starts.
 * Every attempt ends in exactly one outcome bucket.
 *
 * System calls: a short connection costs socket, connect, one edge-triggered
 * epoll registration for read, write and peer-close (EPOLLRDHUP tells that the
 * server's FIN came with the response, so no second recv), send, recv,
 * the registration's removal and close. The connect result is read from the
 * first send (a failed connect makes send return its errno), not SO_ERROR.
 */
#ifndef PORTEX_LOAD_SLOT_H
#define PORTEX_LOAD_SLOT_H

#include <stdint.h>

#include "portex/load/framing.h"
#include "portex/load/link.h"
#include "portex/load/mux.h"
#include "portex/load/transport.h"

struct event;
struct event_base;
struct px_latency;
struct px_load;
struct px_totals;

#define PX_SLOT_READ_BUF 65536 /* bytes a read may take: a short read empties the socket */

enum px_slot_state {
    PX_SLOT_IDLE,       /* no request; conn.fd may hold a kept-alive connection */
    PX_SLOT_CONNECTING, /* waiting for connect() to finish */
    PX_SLOT_HANDSHAKE,  /* transport handshake (TLS) under way */
    PX_SLOT_WRITING,    /* request partly written */
    PX_SLOT_READING,    /* waiting for (the rest of) the response */
    PX_SLOT_WAIT_EOF,   /* --close server: response read, waiting for the server's FIN */
    PX_SLOT_BACKOFF,    /* closed model: after a failure, restart from the event loop */
    PX_SLOT_STREAM,     /* HTTP/2: the request rides a shared connection (mux.h) */
};

/* What a slot's owner should do after its request ended. */
enum px_slot_next {
    PX_SLOT_NEXT_NOW,     /* start the next request at once (closed model) */
    PX_SLOT_NEXT_LOOP,    /* restart from the event loop, never inside the failing call chain */
    PX_SLOT_NEXT_BACKOFF, /* restart after a pause: a retry at once would only repeat */
};

struct px_slot;

/*
 * A slot is idle again: its request ended (counted already), or its pause is
 * over (next is then PX_SLOT_NEXT_NOW). The owner may start the next request
 * (px_slot_start, only for PX_SLOT_NEXT_NOW), pause the slot (px_slot_pause)
 * or leave it idle.
 */
typedef void (*px_slot_done_cb)(void *arg, struct px_slot *s, enum px_slot_next next);

/* What every slot of a run reads, and the two facts slots report for the run. */
struct px_slot_shared {
    const struct px_load *load;           /* what to drive */
    const struct px_transport *transport; /* how the bytes move */
    const struct px_framing *framing;     /* how requests and responses are framed */
    void *framing_state;                  /* the run's requests (framing->setup) */
    uint64_t first_eaddr_us; /* the run's first EADDRNOTAVAIL (monotonic us), 0 none; atomic */
    int timestamps;          /* enum px_ts of the run's first connection; atomic */
};

/* What a worker hands its slots. */
struct px_slot_owner {
    struct px_slot_shared *shared; /* the run's, shared by its workers */
    struct event_base *base;       /* the worker's loop: every event of its slots */
    void *transport_worker;        /* the worker's transport state (transport->worker_new) */
    struct px_totals *ctr;         /* the worker's counters: its thread alone writes them */
    struct px_latency *lat;        /* the worker's histograms, likewise */
    px_slot_done_cb done;          /* told when a slot is idle again */
    void *arg;                     /* for done */
};

struct px_slots;

/* One request at a time, and the connection it rides: its own (HTTP/1.1,
 * link.ev is the slot's one event: the connection's I/O, or a timer) or its
 * mux's, shared with other slots (HTTP/2; link.ev is then only its timer). */
struct px_slot {
    struct px_slots *pool;         /* the worker's slots, this one among them */
    struct px_link link;           /* the connection (HTTP/1.1), and the slot's one event */
    struct px_mux *mux;            /* HTTP/2: the connection it rides; NULL for HTTP/1.1 */
    enum px_slot_state state;      /* changed by slot_set() only */
    unsigned prev_free, next_free; /* free list links (indexes; n = none) */
    int in_free;                   /* on the free list (exactly when idle) */
    uint64_t t_start_us;           /* intended start: latency counts from here */
    uint64_t deadline_us;          /* t_start + timeout */
    size_t written;                /* request bytes sent */
    int reused;                    /* request rides a kept-alive connection */
    int resent;                    /* this attempt is the request's one resend */
    unsigned conn_reqs;            /* requests begun on this connection (--requests-per-conn) */
    int got_bytes;                 /* some response byte arrived */
    struct px_exchange x;          /* the response being read */
};

/* A worker's slots: the owner reads busy, nfree and stopping, and sets stopping.
 * HTTP/2: slot i rides mux i % nmux, so the first requests spread over the
 * connections. */
struct px_slots {
    struct px_slot_owner owner; /* who hands the slots work and hears when they are idle */
    struct px_slot *slot;       /* n of them */
    unsigned n;                 /* the worker's share of -c */
    unsigned free_head;         /* idle slots, most recently freed first; n = none */
    unsigned nfree;             /* idle slots, all on the free list */
    unsigned busy;              /* slots not idle; busy + nfree == n always */
    int stopping;           /* the owner starts nothing more: connections close as requests end */
    int resend;             /* may resend: an idempotent method and no --no-retry */
    struct px_link_env env; /* what the worker's connections share */
    struct px_mux *mux;     /* HTTP/2: the connections, n / --streams of them; NULL */
    unsigned nmux;
    int noted_eaddr;             /* saw the run's first EADDRNOTAVAIL (atomic) */
    uint64_t ok_before_eaddr;    /* the owner's ok count when noticing it (atomic) */
    char rbuf[PX_SLOT_READ_BUF]; /* the slots' one read buffer (a worker is one thread) */
};

/* n idle slots for an owner (copied): n requests at once, over n connections
 * (HTTP/1.1) or n / --streams (HTTP/2). 0, or -1 when out of memory. */
int px_slots_init(struct px_slots *p, const struct px_slot_owner *owner, unsigned n);
/* Closes every connection and frees the slots; a zeroed pool is fine. */
void px_slots_release(struct px_slots *p);
/* The idle slot to take next (the most recently freed), NULL when all are busy. */
struct px_slot *px_slots_take(struct px_slots *p);
/* Starts nothing more: idle connections close, paused slots become idle. */
void px_slots_quiesce(struct px_slots *p);
/* The drain is over: what is still in flight is counted cancelled and closed. */
void px_slots_cancel(struct px_slots *p);
/* Closes every connection at once (the loop has ended). */
void px_slots_close(struct px_slots *p);
/* The owner's ok count when it noticed the run's first EADDRNOTAVAIL, or
 * all its ok so far if it never did; safe while the run goes on. */
uint64_t px_slots_ok_before_eaddr(const struct px_slots *p);

/* Starts a request on an idle slot, intended at t_start_us (latency counts from it). */
void px_slot_start(struct px_slot *s, uint64_t t_start_us);
/* Closed model: an idle slot restarts from the loop after the pause next asks for. */
void px_slot_pause(struct px_slot *s, enum px_slot_next next);
/* True when the slot carries no request. */
int px_slot_idle(const struct px_slot *s);

#endif
