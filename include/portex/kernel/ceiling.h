/* SPDX-License-Identifier: MIT */
/* Predicted short-connection ceilings (KERNEL-FACTS.md, Ceilings), with the formula in words. */
#ifndef PORTEX_CEILING_H
#define PORTEX_CEILING_H

#include <stddef.h>
#include <stdint.h>

/* Who closes a TCP connection first, which decides who holds TIME_WAIT (KERNEL-FACTS.md). */
enum px_close {
    PX_CLOSE_CLIENT, /* client sends FIN first and holds TIME_WAIT */
    PX_CLOSE_SERVER, /* "Connection: close", wait for the server's FIN */
    PX_CLOSE_RST,    /* SO_LINGER {1, 0}: RST, no TIME_WAIT */
};

enum px_ts { PX_TS_UNKNOWN = -1, PX_TS_NO = 0, PX_TS_YES = 1 };

struct px_ceiling_in {
    uint64_t ports;   /* usable ports P toward the target */
    unsigned sources; /* source addresses (multiply P); 0 counts as 1 */
    /* destinations (addresses x ports) the connections are spread over: each has its
     * own P, unless bind_first; 0 counts as 1 */
    unsigned destinations;
    /* bind(addr, 0) before connect() without IP_BIND_ADDRESS_NO_PORT: the port is
     * taken for every destination, so P x sources in all, whatever destinations */
    int bind_first;
    int keepalive;
    enum px_close close;
    int64_t tw_reuse;       /* client namespace net.ipv4.tcp_tw_reuse */
    int loopback;           /* target on loopback (tw_reuse=2 applies there only) */
    int64_t reuse_delay_ms; /* tcp_tw_reuse_delay; -1 when the kernel has none */
    int kernel_major, kernel_minor;
    enum px_ts timestamps; /* were timestamps negotiated with the target */
    unsigned connections;  /* -c */
    unsigned streams;      /* HTTP/2 -k --streams: requests in flight per connection; 0 counts as 1 */
    double lifetime_s;     /* connection lifetime T (mean request time) */
    /* -k --requests-per-conn N: N requests per connection, then it closes; 0 = no limit */
    unsigned requests_per_conn;
    int unix_socket; /* target is a Unix socket: no ports at all */
};

struct px_ceiling {
    double per_s;      /* sustained requests per second (= new connections per second unless
                          N requests share one); INFINITY: not port-bound */
    double burst;      /* requests before the first EADDRNOTAVAIL; INFINITY: none */
    double hold_s;     /* how long a port stays unusable after close */
    int port_bound;    /* ports (TIME_WAIT) are what limits this configuration */
    int reuse_applies; /* tcp_tw_reuse takes effect for this target */
    char formula[256]; /* in words, with the numbers */
};

/* TIME_WAIT length on Linux: TCP_TIMEWAIT_LEN, hard-coded, no sysctl moves it. */
#define PX_TIME_WAIT_S 60.0

void px_ceiling_predict(const struct px_ceiling_in *in, struct px_ceiling *out);
/* Successes expected in a run of duration_s at a demand of rate_per_s (0 = unbounded). */
double px_ceiling_expected_ok(const struct px_ceiling *c, double duration_s, double rate_per_s);

#endif
