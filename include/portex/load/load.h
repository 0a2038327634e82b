/* SPDX-License-Identifier: MIT */
/*
 * The load: everything the engine reads to drive a target (what to send, how
 * often, over how many connections, how each one ends, from which ports),
 * filled by the cli and checked there; load.c sets the defaults.
 */
#ifndef PORTEX_LOAD_LOAD_H
#define PORTEX_LOAD_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "portex/base/url.h"
#include "portex/kernel/ceiling.h" /* enum px_close */

#define PX_MAX_HEADERS 64
#define PX_MAX_SOURCES 256

struct px_load {
    char url_text[PX_URL_PATH_MAX + PX_URL_HOST_MAX + 16];
    struct px_url url;
    struct sockaddr_storage target; /* resolved once at start: the address the run uses */
    socklen_t target_len;
    int family; /* -4 AF_INET, -6 AF_INET6; AF_UNSPEC: both, as the name resolves */
    struct px_url_addr addrs[PX_URL_ADDRS_MAX]; /* the name's addresses, in order, and probes */
    size_t naddrs;                              /* 0: not resolved here (a result read back) */

    unsigned threads;     /* worker threads, each with its own event_base */
    unsigned connections; /* closed model: slots; open model: in-flight cap */
    double rate_per_s;    /* open model when > 0 */
    uint64_t duration_ms; /* 0 with requests > 0 */
    uint64_t requests;    /* -n: exact count, 0 = by duration */
    int keepalive;        /* -k */
    int http2;            /* --http2: h2 by ALPN over TLS, h2c by prior knowledge over http */
    unsigned streams;     /* --streams: HTTP/2 requests at once per connection (1 without -k) */
    int no_retry;         /* --no-retry: never resend a request (slot.c resend_fresh) */
    enum px_close close;  /* short mode only */
    /* -k --requests-per-conn N: N requests per connection, then --close applies; 0 = no limit */
    unsigned requests_per_conn;
    uint64_t connect_timeout_ms;
    uint64_t timeout_ms;  /* whole request, from its (intended) start */
    uint64_t interval_ms; /* stats tick */

    const char *method;
    const char *headers[PX_MAX_HEADERS];
    size_t nheaders;
    char *body; /* malloc'd by the cli (px_load_release frees it), may be NULL */
    size_t body_len;

    uint16_t port_lo, port_hi;                       /* --port-range, 0 = namespace range */
    struct sockaddr_storage sources[PX_MAX_SOURCES]; /* --source, port 0 */
    size_t nsources;
    /* connections spread in turn over this many destination ports from the target's
     * (lab two-targets); 0 or 1: the target alone */
    unsigned target_ports;
    /* bind(source or any address, 0) before connect(), without IP_BIND_ADDRESS_NO_PORT:
     * the port is taken at bind() for every destination, and bind() fails with
     * EADDRINUSE when none is free (lab two-targets-bind) */
    int bind_first;

    /* https:// only: see portex/load/tls.h */
    int tls_insecure;       /* --insecure: no certificate verification */
    const char *tls_cacert; /* --cacert FILE, NULL: the system store */
    int tls_version;        /* --tls-version: 0 (both ends agree), 12 or 13 */
    int tls_resume;         /* --tls-resume: enum px_tls_resume */

    unsigned shard, shards; /* --shard K/N: this host's share of one run; shards 0 = alone */
    int64_t start_at_ns;    /* --start-at: wall-clock start in unix ns; 0 = at once */
    const char *unix_path;  /* --unix: connect to this socket; the URL gives Host and path */
};

/* Defaults of `portex run` (and of every command's load). */
void px_load_defaults(struct px_load *load);
/* Frees what the load owns (the body). */
void px_load_release(struct px_load *load);
/*
 * Takes this host's share of a run split by --shard K/N: in the closed model
 * -c, and -n in both models, are split with the remainders to the lowest
 * indexes. 0, or -1 with a one-line reason (a share would be 0) in err.
 */
int px_load_apply_shard(struct px_load *load, char *err, size_t errlen);
/* "h2" (--http2) or "http/1.1": summary.protocol. */
const char *px_load_protocol(const struct px_load *load);
/* Requests one connection carries at once: --streams with --http2 -k, else 1. */
unsigned px_load_conn_streams(const struct px_load *load);
/* "short" or "keepalive". */
const char *px_load_mode_name(const struct px_load *load);
/* "client", "server" or "rst". */
const char *px_close_name(enum px_close c);
/* "client", "server" or "rst" into *out. 0, or -1 for anything else. */
int px_close_parse(const char *s, enum px_close *out);

#endif
