/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 framing: request bytes built once per run, responses parsed by http.c. */
#include "portex/load/h1.h"

#include <stdlib.h>
#include <string.h>

#include "portex/base/url.h"
#include "portex/load/load.h"

/* The run's request bytes. */
struct h1 {
    char *req; /* every request */
    size_t req_len;
    char *req_last; /* -k --requests-per-conn N --close server: the Nth, with Connection: close */
    size_t req_last_len;
    int head; /* HEAD request: no response body */
};

static void h1_teardown(void *state)
{
    struct h1 *h = state;
    if (h == NULL)
        return;
    free(h->req);
    free(h->req_last);
    free(h);
}

static int build_requests(struct h1 *h, const struct px_load *cfg)
{
    char host[PX_URL_HOST_MAX + 16];
    px_url_host_header(&cfg->url, host, sizeof(host));
    struct px_http_request_spec spec = {
        .method = cfg->method,
        .host = host,
        .path = cfg->url.path,
        .headers = cfg->headers,
        .nheaders = cfg->nheaders,
        .body = cfg->body,
        .body_len = cfg->body_len,
        .close = !cfg->keepalive && cfg->close == PX_CLOSE_SERVER,
    };
    h->head = strcmp(cfg->method, "HEAD") == 0;
    if (px_http_request_build(&spec, &h->req, &h->req_len) < 0)
        return -1;
    if (!cfg->keepalive || cfg->requests_per_conn == 0 || cfg->close != PX_CLOSE_SERVER)
        return 0;
    /* The connection's last request asks the server to close first. */
    spec.close = 1;
    return px_http_request_build(&spec, &h->req_last, &h->req_last_len);
}

static int h1_setup(void **state, const struct px_load *load)
{
    struct h1 *h = calloc(1, sizeof(*h));
    if (h == NULL || build_requests(h, load) < 0) {
        h1_teardown(h);
        *state = NULL;
        return -1;
    }
    *state = h;
    return 0;
}

static void h1_request(const void *state, int last, const char **buf, size_t *len)
{
    const struct h1 *h = state;
    int use_last = last && h->req_last != NULL;
    *buf = use_last ? h->req_last : h->req;
    *len = use_last ? h->req_last_len : h->req_len;
}

static void h1_begin(const void *state, struct px_exchange *x)
{
    const struct h1 *h = state;
    x->status = 0;
    x->keep_alive = 0;
    px_http_resp_init(&x->h1, h->head);
}

static enum px_frame h1_done(struct px_exchange *x, int keep_alive)
{
    x->status = x->h1.status;
    x->keep_alive = keep_alive;
    return PX_FRAME_DONE;
}

static enum px_frame h1_feed(struct px_exchange *x, const char *buf, size_t n)
{
    size_t used;
    int step = px_http_resp_feed(&x->h1, buf, n, &used);
    /* Bytes past the response were never asked for: do not reuse. */
    if (step == PX_HTTP_DONE)
        return h1_done(x, x->h1.keep_alive && used == n);
    return step == PX_HTTP_ERROR ? PX_FRAME_ERROR : PX_FRAME_MORE;
}

static enum px_frame h1_eof(struct px_exchange *x)
{
    int step = px_http_resp_eof(&x->h1);
    if (step == PX_HTTP_DONE)
        return h1_done(x, x->h1.keep_alive);
    return step == PX_HTTP_ERROR ? PX_FRAME_ERROR : PX_FRAME_MORE;
}

const struct px_framing px_framing_h1 = {
    .protocol = "http/1.1",
    .multiplexed = 0,
    .setup = h1_setup,
    .teardown = h1_teardown,
    .request = h1_request,
    .begin = h1_begin,
    .feed = h1_feed,
    .eof = h1_eof,
};
