/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 over byte buffers: request building and response parsing (no I/O). */
#ifndef PORTEX_HTTP_H
#define PORTEX_HTTP_H

#include <http_parser.h>
#include <stddef.h>

struct px_http_request_spec {
    const char *method;         /* "GET" */
    const char *host;           /* Host header value */
    const char *path;           /* "/..." */
    const char *const *headers; /* "Name: value" lines, without CRLF */
    size_t nheaders;
    const char *body; /* may be NULL */
    size_t body_len;
    int close; /* add "Connection: close" */
};

/* Builds the request bytes into a malloc'd buffer. 0, or -1 on allocation failure. */
int px_http_request_build(const struct px_http_request_spec *spec, char **out, size_t *out_len);
/*
 * True for the methods RFC 9110 9.2.2 calls idempotent (GET, HEAD, PUT,
 * DELETE, OPTIONS, TRACE): the only ones a client may send again on its own.
 */
int px_http_idempotent(const char *method);

enum px_http_step {
    PX_HTTP_MORE = 0,  /* response not complete yet */
    PX_HTTP_DONE = 1,  /* a whole response was read */
    PX_HTTP_ERROR = -1 /* not HTTP, or broken: count as a parse error */
};

struct px_http_resp {
    http_parser parser;
    int head;       /* the request was HEAD: no body follows */
    int status;     /* final status code, 0 until headers end */
    int done;       /* on_message_complete seen */
    int keep_alive; /* connection may carry another request (never after a 101) */
    int interim;    /* a 1xx just ended; the final response follows */
};

/* Prepares for one response to a request (head: the request was HEAD). */
void px_http_resp_init(struct px_http_resp *r, int head);
/* Feeds bytes; *used tells how many belong to this response. */
int px_http_resp_feed(struct px_http_resp *r, const char *buf, size_t len, size_t *used);
/*
 * The peer closed: DONE when that ends a close-delimited body, MORE when the
 * response was cut short, ERROR when the bytes before were not HTTP.
 */
int px_http_resp_eof(struct px_http_resp *r);

#endif
