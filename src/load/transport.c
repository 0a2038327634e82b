/* SPDX-License-Identifier: MIT */
/* The plain transport: send/recv on a connected stream socket. */
#include "portex/load/transport.h"

#include <errno.h>
#include <sys/socket.h>

#include "portex/base/outcome.h"

/* Plain sockets keep nothing per run or per worker, and have nothing to sum up. */
static int plain_ctx_new(void **ctx, const struct px_load *load, char *err, size_t errlen)
{
    (void)load;
    (void)err;
    (void)errlen;
    *ctx = NULL;
    return 0;
}

static void plain_ctx_free(void *ctx)
{
    (void)ctx;
}

static int plain_worker_new(void **worker, void *ctx)
{
    (void)ctx;
    *worker = NULL;
    return 0;
}

static void plain_worker_free(void *worker)
{
    (void)worker;
}

static void plain_summarize(const void *worker, struct px_tls_summary *sum)
{
    (void)worker;
    (void)sum;
}

static int plain_attach(struct px_conn *c, void *worker)
{
    (void)worker;
    c->state = NULL;
    c->resumed = 0;
    return 0;
}

static enum px_io plain_handshake(struct px_conn *c)
{
    (void)c;
    return PX_IO_DONE;
}

static enum px_io plain_read(struct px_conn *c, char *buf, size_t len, size_t *n)
{
    for (;;) {
        ssize_t r = recv(c->fd, buf, len, 0);
        if (r > 0) {
            *n = (size_t)r;
            return PX_IO_DONE;
        }
        if (r == 0)
            return PX_IO_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return PX_IO_WANT_READ;
        c->cause = px_cause_from_errno(errno);
        return PX_IO_ERROR;
    }
}

static enum px_io plain_write(struct px_conn *c, const char *buf, size_t len, size_t *n)
{
    for (;;) {
        ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (w > 0) {
            *n = (size_t)w;
            return PX_IO_DONE;
        }
        if (w == 0) { /* nothing taken of a non-empty buffer: the peer is gone */
            c->cause = px_cause_from_errno(EPIPE);
            return PX_IO_ERROR;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return PX_IO_WANT_WRITE;
        c->cause = px_cause_from_errno(errno);
        return PX_IO_ERROR;
    }
}

static void plain_detach(struct px_conn *c, int graceful)
{
    (void)c;
    (void)graceful;
}

const struct px_transport px_transport_plain = {
    .short_read_drains = 1,
    .handshake_io = 0,
    .nodelay = 0,
    .ctx_new = plain_ctx_new,
    .ctx_free = plain_ctx_free,
    .worker_new = plain_worker_new,
    .worker_free = plain_worker_free,
    .summarize = plain_summarize,
    .attach = plain_attach,
    .handshake = plain_handshake,
    .read = plain_read,
    .write = plain_write,
    .detach = plain_detach,
};
