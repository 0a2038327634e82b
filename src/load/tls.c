/* SPDX-License-Identifier: MIT */
/* TLS contexts and the non-blocking TLS transport over OpenSSL 3. */
#include "portex/load/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "portex/base/outcome.h"
#include "portex/load/load.h"
#include "portex/load/result.h"

#define REASON_MAX   128
#define N_TLS_CAUSES 3 /* tls_handshake, tls_verify, tls_eof */

/* ALPN wire format: length-prefixed protocol names. A --http2 client offers
 * h2 alone; the server prefers h2 and speaks both. */
static const unsigned char alpn_http11[] = "\x08http/1.1";
static const unsigned char alpn_h2[] = "\x02h2";
static const unsigned char alpn_server[] = "\x02h2\x08http/1.1";

struct px_tls {
    SSL_CTX *ctx;
    int server;
    int resume;    /* enum px_tls_resume (client) */
    char sni[256]; /* "" for IP literals: RFC 6066 forbids them in SNI */
};

struct px_tls_worker {
    struct px_tls *tls;
    SSL_SESSION *last;   /* the last resumable session received (ticket) */
    uint64_t full;       /* completed full handshakes */
    uint64_t resumed;    /* completed resumed handshakes */
    const char *version; /* OpenSSL's static protocol name of the last handshake */
    char reason[N_TLS_CAUSES][REASON_MAX]; /* first reason seen per TLS cause */
};

static int file_readable(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* The first OpenSSL reason in the error queue (cleared), for setup messages. */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown OpenSSL error";
}

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct px_tls_worker *w = SSL_get_app_data(ssl);
    if (w == NULL || !SSL_SESSION_is_resumable(sess))
        return 0;
    SSL_SESSION_free(w->last);
    w->last = sess;
    return 1; /* we keep the reference */
}

/*
 * Partial writes so that the engine's write loop sees progress; read-ahead so
 * that one recv takes several records (without it OpenSSL reads a record's
 * header and its body with two). Buffered records are why the transport says
 * short reads do not drain the socket: callers read until WANT_READ.
 */
static void set_modes(SSL_CTX *ctx)
{
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
}

static int set_versions(SSL_CTX *ctx, int version, char *err, size_t errlen)
{
    int lo = TLS1_2_VERSION, hi = 0;
    if (version == 12)
        lo = hi = TLS1_2_VERSION;
    else if (version == 13)
        lo = hi = TLS1_3_VERSION;
    else if (version != 0) {
        snprintf(err, errlen, "invalid TLS version %d: expected 1.2 or 1.3", version);
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, lo);
    SSL_CTX_set_max_proto_version(ctx, hi);
    return 0;
}

static int client_verify_setup(struct px_tls *t, const struct px_tls_client_opts *o, char *err,
                               size_t errlen)
{
    if (o->insecure) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    if (o->cacert) {
        if (file_readable(o->cacert, "--cacert", err, errlen) < 0)
            return -1;
        if (SSL_CTX_load_verify_locations(t->ctx, o->cacert, NULL) != 1) {
            snprintf(err, errlen, "cannot load --cacert '%s': %s (expected PEM certificates)",
                     o->cacert, ossl_reason());
            return -1;
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        snprintf(err, errlen, "cannot load the system CA store: %s", ossl_reason());
        return -1;
    }
    if (o->host == NULL)
        return 0;
    X509_VERIFY_PARAM *p = SSL_CTX_get0_param(t->ctx);
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, o->host, ip) == 1 || inet_pton(AF_INET6, o->host, ip) == 1;
    int rc = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(p, o->host)
                   : X509_VERIFY_PARAM_set1_host(p, o->host, 0);
    if (rc != 1) {
        snprintf(err, errlen, "invalid host '%s' for certificate verification", o->host);
        return -1;
    }
    return 0;
}

struct px_tls *px_tls_client_new(const struct px_tls_client_opts *o, char *err, size_t errlen)
{
    struct px_tls *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        snprintf(err, errlen, "cannot create a TLS context: out of memory");
        goto fail;
    }
    t->resume = o->resume;
    if (set_versions(t->ctx, o->version, err, errlen) < 0 ||
        client_verify_setup(t, o, err, errlen) < 0)
        goto fail;
    unsigned char ip[16];
    if (o->host && inet_pton(AF_INET, o->host, ip) != 1 && inet_pton(AF_INET6, o->host, ip) != 1)
        snprintf(t->sni, sizeof(t->sni), "%s", o->host);
    /* SSL_CTX_set_alpn_protos returns 0 on success. */
    if (o->h2)
        SSL_CTX_set_alpn_protos(t->ctx, alpn_h2, sizeof(alpn_h2) - 1);
    else
        SSL_CTX_set_alpn_protos(t->ctx, alpn_http11, sizeof(alpn_http11) - 1);
    /* AES-128 first, as h2load and browsers offer: SHA-256 key schedule. */
    SSL_CTX_set_ciphersuites(t->ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                     "TLS_CHACHA20_POLY1305_SHA256");
    set_modes(t->ctx);
    if (o->resume == PX_TLS_RESUME_TICKET) {
        /* Sessions go to the worker (new_session_cb), not to a shared locked cache. */
        SSL_CTX_set_session_cache_mode(t->ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(t->ctx, new_session_cb);
    } else {
        SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    }
    return t;
fail:
    px_tls_free(t);
    return NULL;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, alpn_server, sizeof(alpn_server) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ex == NULL)
        return -1;
    int rc = X509_add_ext(x, ex, -1);
    X509_EXTENSION_free(ex);
    return rc == 1 ? 0 : -1;
}

/* A self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1. */
static int self_signed(SSL_CTX *ctx)
{
    int rc = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (key == NULL || x == NULL)
        goto out;
    unsigned char serial[8];
    BIGNUM *bn = NULL;
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f; /* positive */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(x);
    ok = ok && X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) != NULL && X509_set_pubkey(x, key) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                    -1, -1, 0) &&
         X509_set_issuer_name(x, name) &&
         add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") == 0 &&
         X509_sign(x, key, EVP_sha256()) > 0 && SSL_CTX_use_certificate(ctx, x) == 1 &&
         SSL_CTX_use_PrivateKey(ctx, key) == 1;
    rc = ok ? 0 : -1;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static int server_load_files(SSL_CTX *ctx, const struct px_tls_server_opts *o, char *err,
                             size_t errlen)
{
    if (o->key_file == NULL || o->cert_file == NULL) {
        snprintf(err, errlen, "--cert and --key go together: give both or neither");
        return -1;
    }
    if (file_readable(o->cert_file, "--cert", err, errlen) < 0 ||
        file_readable(o->key_file, "--key", err, errlen) < 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
        snprintf(err, errlen, "cannot load --cert '%s': %s (expected a PEM certificate)",
                 o->cert_file, ossl_reason());
        return -1;
    }
    /* A key of another certificate fails here already (X509_R_KEY_VALUES_MISMATCH). */
    int loaded = SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) == 1;
    if (!loaded && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
        snprintf(err, errlen, "cannot load --key '%s': %s (expected a PEM private key)",
                 o->key_file, ossl_reason());
        return -1;
    }
    if (!loaded || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "--key '%s' does not match the certificate in --cert '%s'",
                 o->key_file, o->cert_file);
        return -1;
    }
    return 0;
}

static int write_cert(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write --write-cert '%s': %s", path, strerror(errno));
        return -1;
    }
    int ok = PEM_write_X509(f, SSL_CTX_get0_certificate(ctx)) == 1;
    if (fclose(f) != 0 || !ok) {
        snprintf(err, errlen, "cannot write --write-cert '%s': write failed", path);
        return -1;
    }
    return 0;
}

struct px_tls *px_tls_server_new(const struct px_tls_server_opts *o, char *err, size_t errlen)
{
    struct px_tls *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        snprintf(err, errlen, "cannot create a TLS context: out of memory");
        goto fail;
    }
    t->server = 1;
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    if (o->cert_file || o->key_file) {
        if (server_load_files(t->ctx, o, err, errlen) < 0)
            goto fail;
    } else if (self_signed(t->ctx) < 0) {
        snprintf(err, errlen, "cannot make a self-signed certificate: %s", ossl_reason());
        goto fail;
    }
    if (o->write_cert && write_cert(t->ctx, o->write_cert, err, errlen) < 0)
        goto fail;
    /* Tickets are stateless: no server cache (and no lock shared by the loops). */
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(t->ctx, 1);
    SSL_CTX_set_alpn_select_cb(t->ctx, alpn_select_cb, NULL);
    set_modes(t->ctx);
    return t;
fail:
    px_tls_free(t);
    return NULL;
}

void px_tls_free(struct px_tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

struct px_tls_worker *px_tls_worker_new(struct px_tls *t)
{
    struct px_tls_worker *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->tls = t;
    w->version = "";
    return w;
}

void px_tls_worker_free(struct px_tls_worker *w)
{
    if (w == NULL)
        return;
    SSL_SESSION_free(w->last);
    free(w);
}

void px_tls_worker_counts(const struct px_tls_worker *w, uint64_t *full, uint64_t *resumed)
{
    *full = w->full;
    *resumed = w->resumed;
}

const char *px_tls_worker_version(const struct px_tls_worker *w)
{
    return w->version;
}

static char *reason_slot(struct px_tls_worker *w, int cause)
{
    if (cause < PX_CAUSE_TLS_HANDSHAKE || cause > PX_CAUSE_TLS_EOF)
        return NULL;
    return w->reason[cause - PX_CAUSE_TLS_HANDSHAKE];
}

const char *px_tls_worker_reason(const struct px_tls_worker *w, int cause)
{
    const char *r = reason_slot((struct px_tls_worker *)w, cause);
    return r && r[0] ? r : NULL;
}

static void keep_reason(struct px_tls_worker *w, int cause, const char *reason)
{
    char *slot = reason_slot(w, cause);
    if (slot && slot[0] == '\0' && reason)
        snprintf(slot, REASON_MAX, "%s", reason);
}

static int tls_attach(struct px_conn *c, void *worker)
{
    struct px_tls_worker *w = worker;
    SSL *ssl = SSL_new(w->tls->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        c->cause = px_cause_from_errno(ENOMEM);
        return -1;
    }
    SSL_set_app_data(ssl, w);
    if (w->tls->server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (w->tls->sni[0])
            SSL_set_tlsext_host_name(ssl, w->tls->sni);
        if (w->tls->resume == PX_TLS_RESUME_TICKET && w->last)
            SSL_set_session(ssl, w->last);
    }
    c->state = ssl;
    c->resumed = 0;
    return 0;
}

/* Maps a failed SSL call to a transport result; errors get a cause and a reason. */
static enum px_io tls_fail(struct px_conn *c, int rc, int in_handshake)
{
    SSL *ssl = c->state;
    int saved_errno = errno;
    int e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ)
        return PX_IO_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return PX_IO_WANT_WRITE;
    if (e == SSL_ERROR_ZERO_RETURN && !in_handshake)
        return PX_IO_EOF;
    const char *reason = NULL;
    unsigned long err = ERR_peek_error();
    long vr = SSL_get_verify_result(ssl);
    if (e == SSL_ERROR_SYSCALL && err == 0 && saved_errno != 0) {
        c->cause = px_cause_from_errno(saved_errno);
    } else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && err == 0) ||
               ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        c->cause = PX_CAUSE_TLS_EOF;
        reason =
            in_handshake ? "peer closed during the handshake" : "peer closed without close_notify";
    } else if (ERR_GET_REASON(err) == SSL_R_HTTP_REQUEST) {
        /* Server side: the client spoke plain HTTP to the TLS port. */
        c->cause = PX_CAUSE_PARSE;
        reason = "plain HTTP request on the TLS port";
    } else if (ERR_GET_REASON(err) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
        /* The server would speak none of the protocols offered (h2). */
        c->cause = PX_CAUSE_NO_H2;
    } else if (in_handshake && vr != X509_V_OK) {
        c->cause = PX_CAUSE_TLS_VERIFY;
        reason = X509_verify_cert_error_string(vr);
    } else {
        c->cause = PX_CAUSE_TLS_HANDSHAKE;
        reason = err ? ERR_reason_error_string(err) : NULL;
    }
    keep_reason(SSL_get_app_data(ssl), c->cause, reason);
    ERR_clear_error();
    return PX_IO_ERROR;
}

/*
 * A plain HTTP request on a server's TLS port: answer with a TLS alert record
 * (fatal unexpected_message), as a TLS server does for what is not TLS, so that
 * the client sees bytes that are not HTTP. The rest of its request is read
 * first: closing over unread bytes would send an RST instead.
 */
static void reject_plain(int fd)
{
    static const char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a};
    char buf[16384];
    send(fd, alert, sizeof(alert), MSG_NOSIGNAL);
    while (recv(fd, buf, sizeof(buf), 0) > 0)
        ;
}

static enum px_io tls_handshake(struct px_conn *c)
{
    SSL *ssl = c->state;
    struct px_tls_worker *w = SSL_get_app_data(ssl);
    ERR_clear_error();
    errno = 0; /* SSL_ERROR_SYSCALL reads it */
    int rc = SSL_do_handshake(ssl);
    if (rc != 1) {
        enum px_io r = tls_fail(c, rc, 1);
        if (r == PX_IO_ERROR && c->cause == PX_CAUSE_PARSE && w->tls->server)
            reject_plain(c->fd);
        return r;
    }
    c->resumed = SSL_session_reused(ssl);
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    c->h2 = alpn_len == 2 && memcmp(alpn, "h2", 2) == 0;
    if (c->resumed)
        w->resumed++;
    else
        w->full++;
    w->version = SSL_get_version(ssl);
    return PX_IO_DONE;
}

static enum px_io tls_read(struct px_conn *c, char *buf, size_t len, size_t *n)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_read_ex(c->state, buf, len, n);
    return rc == 1 ? PX_IO_DONE : tls_fail(c, rc, 0);
}

static enum px_io tls_write(struct px_conn *c, const char *buf, size_t len, size_t *n)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_write_ex(c->state, buf, len, n);
    return rc == 1 ? PX_IO_DONE : tls_fail(c, rc, 0);
}

static void tls_detach(struct px_conn *c, int graceful)
{
    SSL *ssl = c->state;
    if (ssl == NULL)
        return;
    /* One SSL_shutdown sends close_notify without waiting for the peer's. */
    if (graceful && SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    /* Marked shut down either way, so SSL_free does not mark the kept session
     * unresumable (ssl_clear_bad_session) after an abort. */
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl);
    ERR_clear_error();
    c->state = NULL;
}

/* The run's client context from its load: SNI and the verified name from the URL. */
static int tls_ctx_new(void **ctx, const struct px_load *load, char *err, size_t errlen)
{
    struct px_tls_client_opts o = {
        .host = load->url.host,
        .insecure = load->tls_insecure,
        .cacert = load->tls_cacert,
        .version = load->tls_version,
        .resume = load->tls_resume ? PX_TLS_RESUME_TICKET : PX_TLS_RESUME_OFF,
        .h2 = load->http2,
    };
    *ctx = px_tls_client_new(&o, err, errlen);
    return *ctx ? 0 : -1;
}

static void tls_ctx_free(void *ctx)
{
    px_tls_free(ctx);
}

static int tls_worker_new(void **worker, void *ctx)
{
    *worker = px_tls_worker_new(ctx);
    return *worker ? 0 : -1;
}

static void tls_worker_free(void *worker)
{
    px_tls_worker_free(worker);
}

/* The worker's protocol and first reasons, where the summary has none yet
 * (the first worker that saw one speaks for the run). */
static void tls_summarize(const void *worker, struct px_tls_summary *sum)
{
    const struct px_tls_worker *w = worker;
    if (sum->version[0] == '\0')
        snprintf(sum->version, sizeof(sum->version), "%s", px_tls_worker_version(w));
    for (int c = PX_CAUSE_TLS_HANDSHAKE; c <= PX_CAUSE_TLS_EOF; c++) {
        char *slot = sum->reason[c - PX_CAUSE_TLS_HANDSHAKE];
        const char *r = px_tls_worker_reason(w, c);
        if (slot[0] == '\0' && r)
            snprintf(slot, PX_TLS_REASON_MAX, "%s", r);
    }
}

const struct px_transport px_transport_tls = {
    .short_read_drains = 0,
    .handshake_io = 1,
    .nodelay = 1,
    .ctx_new = tls_ctx_new,
    .ctx_free = tls_ctx_free,
    .worker_new = tls_worker_new,
    .worker_free = tls_worker_free,
    .summarize = tls_summarize,
    .attach = tls_attach,
    .handshake = tls_handshake,
    .read = tls_read,
    .write = tls_write,
    .detach = tls_detach,
};

const char *px_tls_resume_name(int resume)
{
    return resume == PX_TLS_RESUME_TICKET ? "ticket" : "off";
}

int px_tls_parse_resume(const char *s, int *out)
{
    if (strcmp(s, "off") == 0)
        *out = PX_TLS_RESUME_OFF;
    else if (strcmp(s, "ticket") == 0)
        *out = PX_TLS_RESUME_TICKET;
    else
        return -1;
    return 0;
}

int px_tls_parse_version(const char *s, int *out)
{
    if (strcmp(s, "1.2") == 0)
        *out = 12;
    else if (strcmp(s, "1.3") == 0)
        *out = 13;
    else
        return -1;
    return 0;
}
