/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 request bytes and an http-parser based response reader. */
#include "portex/load/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int px_http_request_build(const struct px_http_request_spec *spec, char **out, size_t *out_len)
{
    size_t cap =
        strlen(spec->method) + strlen(spec->path) + strlen(spec->host) + 128 + spec->body_len;
    for (size_t i = 0; i < spec->nheaders; i++)
        cap += strlen(spec->headers[i]) + 2;
    char *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    size_t n = (size_t)snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", spec->method,
                                spec->path, spec->host);
    int has_ua = 0;
    for (size_t i = 0; i < spec->nheaders; i++) {
        if (strncasecmp(spec->headers[i], "user-agent:", 11) == 0)
            has_ua = 1;
        n += (size_t)snprintf(buf + n, cap - n, "%s\r\n", spec->headers[i]);
    }
    if (!has_ua)
        n += (size_t)snprintf(buf + n, cap - n, "User-Agent: portex/" PORTEX_VERSION "\r\n");
    if (spec->body != NULL)
        n += (size_t)snprintf(buf + n, cap - n, "Content-Length: %zu\r\n", spec->body_len);
    if (spec->close)
        n += (size_t)snprintf(buf + n, cap - n, "Connection: close\r\n");
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    if (spec->body != NULL) {
        memcpy(buf + n, spec->body, spec->body_len);
        n += spec->body_len;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int px_http_idempotent(const char *method)
{
    static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
    for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
        if (strcmp(method, idempotent[i]) == 0)
            return 1;
    return 0;
}

/* A 1xx other than 101: the final response follows on the same stream. */
static int is_interim(unsigned status)
{
    return status >= 100 && status < 200 && status != 101;
}

/*
 * RFC 9112 section 6.3: a response to HEAD, any 1xx, 204 and 304 end at their
 * headers whatever Content-Length or Transfer-Encoding they carry; http-parser
 * alone would wait for the announced body until the request times out.
 */
static int is_bodiless(const struct px_http_resp *r, unsigned status)
{
    return r->head || (status >= 100 && status < 200) || status == 204 || status == 304;
}

static int on_headers_complete(http_parser *p)
{
    struct px_http_resp *r = p->data;
    /* RFC 9112: the status code is 3 digits; http-parser also takes "2" or "20". */
    if (p->status_code < 100)
        return -1;
    r->status = (int)p->status_code;
    /* 1 tells http-parser that no body follows. */
    return is_bodiless(r, p->status_code) ? 1 : 0;
}

static int on_message_complete(http_parser *p)
{
    struct px_http_resp *r = p->data;
    /* Stop right after this message: what follows is the final response
     * (interim), another protocol (101), or not ours. */
    http_parser_pause(p, 1);
    if (is_interim(p->status_code)) {
        r->interim = 1;
        r->status = 0;
        return 0;
    }
    r->done = 1;
    /* RFC 9110 section 15.2.2: after a 101 the bytes are no longer HTTP. */
    r->keep_alive = p->status_code != 101 && http_should_keep_alive(p);
    return 0;
}

static const http_parser_settings settings = {
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

void px_http_resp_init(struct px_http_resp *r, int head)
{
    memset(r, 0, sizeof(*r));
    http_parser_init(&r->parser, HTTP_RESPONSE);
    r->parser.data = r;
    r->head = head;
}

int px_http_resp_feed(struct px_http_resp *r, const char *buf, size_t len, size_t *used)
{
    size_t n = 0;
    for (;;) {
        n += http_parser_execute(&r->parser, &settings, buf + n, len - n);
        if (!r->interim)
            break;
        /* A fresh parser for the final response: http-parser would refuse
         * it after an interim one that said "Connection: close". */
        r->interim = 0;
        http_parser_init(&r->parser, HTTP_RESPONSE);
        if (n == len)
            break;
    }
    *used = n;
    if (r->done)
        return PX_HTTP_DONE;
    if (HTTP_PARSER_ERRNO(&r->parser) != HPE_OK)
        return PX_HTTP_ERROR;
    return PX_HTTP_MORE;
}

int px_http_resp_eof(struct px_http_resp *r)
{
    if (r->done)
        return PX_HTTP_DONE;
    if (HTTP_PARSER_ERRNO(&r->parser) != HPE_OK)
        return PX_HTTP_ERROR;
    /* Zero bytes tell http-parser that the stream ended. */
    http_parser_execute(&r->parser, &settings, NULL, 0);
    if (r->done) {
        r->keep_alive = 0;
        return PX_HTTP_DONE;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    return e == HPE_OK || e == HPE_INVALID_EOF_STATE ? PX_HTTP_MORE : PX_HTTP_ERROR;
}
