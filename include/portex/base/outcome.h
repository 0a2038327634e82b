/* SPDX-License-Identifier: MIT */
/* Outcome buckets: every attempt ends in exactly one of them. */
#ifndef PORTEX_OUTCOME_H
#define PORTEX_OUTCOME_H

#include <stddef.h>

/*
 * Failure causes. HTTP classes are buckets too, so that
 * requests = ok + sum(cause) always. errno causes are indexed by errno value
 * from PX_CAUSE_ERRNO_BASE; errno values past PX_ERRNO_MAX land in "errno_other".
 */
enum px_cause {
    PX_CAUSE_HTTP_4XX,        /* server answered 4xx */
    PX_CAUSE_HTTP_5XX,        /* server answered 5xx */
    PX_CAUSE_BAD_STATUS,      /* final status outside 200-599 */
    PX_CAUSE_SWITCHED,        /* 101 Switching Protocols: left HTTP, never reused */
    PX_CAUSE_CONNECT_TIMEOUT, /* no connection within --connect-timeout */
    PX_CAUSE_REQUEST_TIMEOUT, /* no whole response within --timeout */
    PX_CAUSE_CLOSED,          /* peer closed before the whole response; on a kept-alive
                               * connection or a resend, before any byte, and not resent */
    PX_CAUSE_PARSE,           /* response is not valid HTTP/1.x */
    PX_CAUSE_CANCELLED,       /* still in flight when the run was stopped */
    PX_CAUSE_TLS_HANDSHAKE,   /* TLS handshake failed (OpenSSL's reason kept per worker) */
    PX_CAUSE_TLS_VERIFY,      /* server certificate not trusted or wrong name */
    PX_CAUSE_TLS_EOF,         /* peer closed mid TLS record or handshake, no close_notify */
    PX_CAUSE_NO_H2,           /* --http2 over TLS: the server did not agree on h2 (ALPN) */
    PX_CAUSE_GOAWAY,          /* HTTP/2: the connection ended after the server's GOAWAY
                               * with the stream unanswered */
    PX_CAUSE_REFUSED,         /* HTTP/2: refused, not processed (REFUSED_STREAM, or above a
                               * GOAWAY's last stream), and not resent */
    PX_CAUSE_FLOW_STALL,      /* HTTP/2: --timeout passed with the request body held by a
                               * send window of 0 (flow control) */
    PX_CAUSE_H2_PROTOCOL,     /* HTTP/2: the server broke the protocol (nghttp2 ended the
                               * connection with its own GOAWAY, or reset the stream) */
    PX_CAUSE_RST_STREAM,      /* HTTP/2: the server reset the stream: + its error code (0-13) */
    PX_CAUSE_RST_LAST = PX_CAUSE_RST_STREAM + 13,
    PX_CAUSE_RST_OTHER,   /* HTTP/2: reset with an error code above 13 */
    PX_CAUSE_ERRNO_OTHER, /* errno above PX_ERRNO_MAX */
    PX_CAUSE_ERRNO_BASE,
};

#define PX_ERRNO_MAX   134
#define PX_CAUSE_COUNT (PX_CAUSE_ERRNO_BASE + PX_ERRNO_MAX + 1)

/* The bucket for a failed system call's errno. */
int px_cause_from_errno(int err);
/* The bucket of an HTTP/2 RST_STREAM's error code (REFUSED_STREAM: refused). */
int px_cause_from_rst(unsigned code);
/* Stable name: "EADDRNOTAVAIL", "connect_timeout", "http_4xx", ... */
const char *px_cause_name(int cause);
/* Human words for the text report: "cannot assign requested address (ports exhausted)". */
const char *px_cause_label(int cause);

#endif
