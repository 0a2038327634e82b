/* SPDX-License-Identifier: MIT */
/* portex serve's HTTP/2: the h2c preface test and a server session per connection. */
#include "portex/load/h2serve.h"

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/atomic.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum px_h2_sniff px_h2_sniff(char pre[PX_H2_PREFACE_LEN], unsigned *pre_len, const char *buf,
                             size_t n)
{
    /* A request line differs at byte 0, "PRI * HTTP/1.1" at byte 11. */
    size_t have = *pre_len;
    size_t k = n < PX_H2_PREFACE_LEN - have ? n : PX_H2_PREFACE_LEN - have;
    if (memcmp(buf, preface + have, k) != 0)
        return PX_SNIFF_H1;
    if (have + k == PX_H2_PREFACE_LEN)
        return PX_SNIFF_H2;
    memcpy(pre + have, buf, k);
    *pre_len = (unsigned)(have + k);
    return PX_SNIFF_MORE;
}

struct px_h2serve {
    nghttp2_session *ng;
    const char *body;
    size_t body_len;
    uint64_t *answered;
};

/* Stream user data: (void *)1 marks a HEAD request until it is answered, then
 * the body bytes already handed out (as an integer). */
#define HEAD_MARK ((void *)1)

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    (void)src;
    struct px_h2serve *s = arg;
    size_t off = (size_t)(uintptr_t)nghttp2_session_get_stream_user_data(ng, id);
    size_t left = s->body_len - off;
    size_t n = left < len ? left : len;
    memcpy(buf, s->body + off, n);
    nghttp2_session_set_stream_user_data(ng, id, (void *)(uintptr_t)(off + n));
    if (off + n == s->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int answer(struct px_h2serve *s, int32_t id)
{
    char len[24];
    snprintf(len, sizeof(len), "%zu", s->body_len);
    int head = nghttp2_session_get_stream_user_data(s->ng, id) == HEAD_MARK;
    nghttp2_session_set_stream_user_data(s->ng, id, NULL);
    const nghttp2_nv nv[] = {
        {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"server", (uint8_t *)"portex", 6, 6, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-type", (uint8_t *)"text/plain", 12, 10, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-length", (uint8_t *)len, 14, strlen(len), NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_data_provider dp = {.read_callback = body_read};
    int rc = nghttp2_submit_response(s->ng, id, nv, sizeof(nv) / sizeof(nv[0]),
                                     head || s->body_len == 0 ? NULL : &dp);
    if (rc == 0)
        PX_BUMP(*s->answered, 1);
    return rc == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
    (void)flags;
    (void)arg;
    if (f->hd.type == NGHTTP2_HEADERS && nlen == 7 && memcmp(name, ":method", 7) == 0 &&
        vlen == 4 && memcmp(value, "HEAD", 4) == 0)
        nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, HEAD_MARK);
    return 0;
}

/* The request is whole (END_STREAM on its HEADERS or its last DATA): answer. */
static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
    (void)ng;
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return answer(arg, f->hd.stream_id);
    return 0;
}

static nghttp2_session_callbacks *callbacks;
static nghttp2_option *options;

static void make_callbacks(void)
{
    if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&options) != 0)
        return;
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    /* Closed streams are not kept for priority handling: memory stays per open stream. */
    nghttp2_option_set_no_closed_streams(options, 1);
    /* Rapid reset (CVE-2023-44487): a client resetting streams faster than
     * this is sent GOAWAY. Explicit, whatever the library's default. */
    nghttp2_option_set_stream_reset_rate_limit(options, 1000, 33);
}

struct px_h2serve *px_h2serve_new(const char *body, size_t body_len, uint64_t *answered)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_callbacks);
    struct px_h2serve *s = calloc(1, sizeof(*s));
    if (s == NULL || callbacks == NULL || options == NULL)
        goto fail;
    s->body = body;
    s->body_len = body_len;
    s->answered = answered;
    if (nghttp2_session_server_new2(&s->ng, callbacks, s, options) != 0)
        goto fail;
    /* nghttp2 sends no SETTINGS of its own: without these it would only ACK. */
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, PX_H2SERVE_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (1u << 20)},
    };
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 2) != 0)
        goto fail;
    return s;
fail:
    px_h2serve_free(s);
    return NULL;
}

void px_h2serve_free(struct px_h2serve *s)
{
    if (s == NULL)
        return;
    nghttp2_session_del(s->ng);
    free(s);
}

int px_h2serve_recv(struct px_h2serve *s, const char *buf, size_t n)
{
    return nghttp2_session_mem_recv(s->ng, (const uint8_t *)buf, n) < 0 ? -1 : 0;
}

long px_h2serve_send(struct px_h2serve *s, const char **buf)
{
    const uint8_t *data = NULL;
    ssize_t n = nghttp2_session_mem_send(s->ng, &data);
    *buf = (const char *)data;
    return n < 0 ? -1 : (long)n;
}

int px_h2serve_alive(const struct px_h2serve *s)
{
    return nghttp2_session_want_read(s->ng) || nghttp2_session_want_write(s->ng);
}
