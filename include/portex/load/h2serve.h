/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/2 side of `portex serve` (server.c), over nghttp2: one server
 * session per connection that answers every request with the fixed body, and
 * the test that tells an h2c client (prior knowledge: its first bytes are the
 * connection preface) from an HTTP/1.1 one on the same plain port. No I/O
 * here: server.c feeds what it read and sends what the session says.
 */
#ifndef PORTEX_LOAD_H2SERVE_H
#define PORTEX_LOAD_H2SERVE_H

#include <stddef.h>
#include <stdint.h>

#define PX_H2_PREFACE_LEN  24   /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
#define PX_H2SERVE_STREAMS 1000 /* SETTINGS_MAX_CONCURRENT_STREAMS: run's --streams maximum */

/* What the first bytes of a plain connection say. */
enum px_h2_sniff {
    PX_SNIFF_MORE = -1, /* a prefix of the preface so far: kept in pre, read on */
    PX_SNIFF_H1 = 0,    /* HTTP/1.1: pre (pre_len bytes) and buf go to its parser */
    PX_SNIFF_H2 = 1,    /* h2c: pre and buf go to the session */
};

/* Judges buf (n bytes) after the pre_len bytes already kept in pre; keeps buf
 * in pre while the answer is PX_SNIFF_MORE. */
enum px_h2_sniff px_h2_sniff(char pre[PX_H2_PREFACE_LEN], unsigned *pre_len, const char *buf,
                             size_t n);

struct px_h2serve;

/* A session answering with body (body_len bytes, not copied: it outlives the
 * session); *answered counts each response (the loop's own counter). NULL
 * when out of memory. Its SETTINGS are queued. */
struct px_h2serve *px_h2serve_new(const char *body, size_t body_len, uint64_t *answered);
void px_h2serve_free(struct px_h2serve *s);
/* Feeds n bytes from the client. 0, or -1: the session failed (close). */
int px_h2serve_recv(struct px_h2serve *s, const char *buf, size_t n);
/* The next bytes to send into *buf (valid until the next call): their length,
 * 0 when there is nothing, -1 when the session failed. */
long px_h2serve_send(struct px_h2serve *s, const char **buf);
/* 1 while the session still reads or writes (0 after a GOAWAY exchange). */
int px_h2serve_alive(const struct px_h2serve *s);

#endif
