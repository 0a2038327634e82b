/* SPDX-License-Identifier: MIT */
/* The built-in HTTP/1.1 and HTTP/2 target: one event loop per thread, SO_REUSEPORT listeners. */
#ifndef PORTEX_SERVER_H
#define PORTEX_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "portex/base/url.h"

struct px_server;
struct px_tls;

/* `portex serve`: the built-in HTTP/1.1 and HTTP/2 (h2c, h2 by ALPN) target. */
struct px_server_config {
    struct sockaddr_storage addr; /* listen address; port 0 picks a free one */
    socklen_t addr_len;
    unsigned threads;   /* loops, each with its own listener */
    size_t body_bytes;  /* size of the fixed response body */
    uint64_t delay_us;  /* service time: each response waits this long after its request */
    struct px_tls *tls; /* HTTPS: a server context (load/tls.h) that the TLS transport
                         * serves; freed by the caller after px_server_free; NULL: plain */

    /* --listen unix:PATH ("" for none); unix_only: no TCP listener then. */
    char unix_path[PX_URL_UNIX_MAX];
    int unix_only;
};

/* Defaults: 127.0.0.1:8080, one loop per CPU, a 13-byte body, plain HTTP. */
void px_server_config_defaults(struct px_server_config *cfg);

/* Binds the listeners. NULL with the reason in err. */
struct px_server *px_server_new(const struct px_server_config *cfg, char *err, size_t errlen);
/* The bound address (with the port chosen when 0 was asked). */
void px_server_address(const struct px_server *s, struct sockaddr_storage *out);
/* Starts the loops. 0, or -1 with the reason in err. */
int px_server_start(struct px_server *s, char *err, size_t errlen);
/* Stops the loops and joins them; safe from another thread. */
void px_server_stop(struct px_server *s);
/* Connections accepted and requests answered so far. */
void px_server_counts(const struct px_server *s, uint64_t *accepted, uint64_t *requests);
/*
 * accept() calls that failed so far, and the errno of a recent one (0 when
 * none failed). EMFILE at the open-files limit, ENFILE, ENOBUFS and ENOMEM
 * pause that listener for 10 ms, doubling to 1 s; the errors of one queued
 * connection (EPROTO, ENETUNREACH, ...) do not. Safe from another thread.
 */
void px_server_accept_errors(const struct px_server *s, uint64_t *errors, int *last_errno);
void px_server_free(struct px_server *s);

#endif
