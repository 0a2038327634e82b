/* SPDX-License-Identifier: MIT */
/*
 * TLS over OpenSSL 3, driven non-blocking through `struct px_transport`:
 * a client context (SNI, ALPN http/1.1 or h2, verification, version,
 * resumption) and a server context (ALPN: h2 preferred, http/1.1) (a self-signed ECDSA P-256
 * certificate made in memory unless files are given, session tickets on).
 */
#ifndef PORTEX_LOAD_TLS_H
#define PORTEX_LOAD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "portex/load/transport.h"

/* Resumption policy of a client. */
enum px_tls_resume {
    PX_TLS_RESUME_OFF = 0, /* every connection pays a full handshake */
    PX_TLS_RESUME_TICKET,  /* each worker offers the last session ticket it got */
};

/* "off" or "ticket". */
const char *px_tls_resume_name(int resume);
/* --tls-resume and the result format: "off" -> 0, "ticket" -> 1. 0 or -1. */
int px_tls_parse_resume(const char *s, int *out);
/* --tls-version and the result format: "1.2" -> 12, "1.3" -> 13. 0 or -1. */
int px_tls_parse_version(const char *s, int *out);

struct px_tls_client_opts {
    const char *host;   /* SNI and the name verified; an IP literal is checked as an IP */
    int insecure;       /* skip certificate verification */
    const char *cacert; /* PEM file of trusted CAs; NULL: the system store */
    int version;        /* 0: what both ends agree, 12: TLS 1.2 only, 13: TLS 1.3 only */
    int resume;         /* enum px_tls_resume */
    int h2;             /* offer h2 by ALPN (--http2) instead of http/1.1 */
};

struct px_tls_server_opts {
    const char *cert_file;  /* PEM certificate (chain); NULL: self-signed in memory */
    const char *key_file;   /* PEM private key matching cert_file */
    const char *write_cert; /* write the certificate PEM here; NULL: do not */
};

/* Shared, read-only after setup: one per run or server. */
struct px_tls;
/* Per worker thread (or server loop): the kept session, counts and reasons. */
struct px_tls_worker;

/* A client context. NULL with a one-line reason in err (unreadable --cacert, ...). */
struct px_tls *px_tls_client_new(const struct px_tls_client_opts *o, char *err, size_t errlen);
/* A server context. NULL with a one-line reason (unreadable file, key not matching). */
struct px_tls *px_tls_server_new(const struct px_tls_server_opts *o, char *err, size_t errlen);
void px_tls_free(struct px_tls *t);

/* One worker's state over a context; the context must outlive it. NULL on OOM. */
struct px_tls_worker *px_tls_worker_new(struct px_tls *t);
void px_tls_worker_free(struct px_tls_worker *w);
/* Handshakes this worker completed: full and resumed. */
void px_tls_worker_counts(const struct px_tls_worker *w, uint64_t *full, uint64_t *resumed);
/* The protocol of the last completed handshake ("TLSv1.3"), "" before any. */
const char *px_tls_worker_version(const struct px_tls_worker *w);
/* OpenSSL's reason for the first failure of this cause seen by the worker, or NULL. */
const char *px_tls_worker_reason(const struct px_tls_worker *w, int cause);

/*
 * The TLS transport: ctx_new makes a client context from the load, worker_new
 * a `struct px_tls_worker` over a client or server context, and a handshake
 * that meets plain HTTP on a server answers it with a TLS alert.
 */
extern const struct px_transport px_transport_tls;

#endif
