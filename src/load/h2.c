/* SPDX-License-Identifier: MIT */
/* HTTP/2 framing: the run's header list, and a client session per connection over nghttp2. */
#include "portex/load/h2.h"

#include <ctype.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/outcome.h"
#include "portex/base/url.h"
#include "portex/load/load.h"

/* Our receive windows, as h2load's -w 30 -W 30: the response never waits on us. */
#define WINDOW_MAX ((1u << 30) - 1)
#define NV_MAX     (5 + 64) /* pseudo-headers, user-agent, -H headers */

/* The run's request, as nghttp2 takes it. */
struct h2 {
    nghttp2_nv nv[NV_MAX];
    size_t nnv;
    char *names; /* -H names in lower case (HTTP/2 wants them so), back to back */
    char authority[PX_URL_HOST_MAX + 16];
    const char *body; /* --body, NULL: none (the load's, which outlives the run) */
    size_t body_len;
};

/* One exchange of a session. */
struct h2_stream {
    void *req;        /* the connection's, given to submit; NULL: free */
    int status;       /* :status of the last header block */
    size_t sent;      /* request body bytes handed to nghttp2 */
    size_t hdr_bytes; /* response header bytes so far */
    int began;        /* first_byte told */
    int peer_rst;     /* the server sent RST_STREAM */
    int local_rst;    /* we reset it: the response broke the rules */
    int next_free;    /* free list link, -1: none */
};

struct h2_sess {
    nghttp2_session *ng;
    const struct h2 *run;
    struct px_session_events ev;
    struct h2_stream *st; /* streams records, `n` of them */
    unsigned n;
    int free_head;
    int goaway_recv;  /* the server sent GOAWAY */
    int local_goaway; /* nghttp2 sent GOAWAY with an error: the server broke the protocol */
    int failed;       /* mem_recv or mem_send failed */
};

/* ---- the run's request ------------------------------------------------- */

static void nv_set(nghttp2_nv *nv, const char *name, size_t nlen, const char *value, size_t vlen)
{
    nv->name = (uint8_t *)name;
    nv->namelen = nlen;
    nv->value = (uint8_t *)value;
    nv->valuelen = vlen;
    nv->flags = NGHTTP2_NV_FLAG_NONE;
}

/* Connection-specific headers have no place in HTTP/2 (RFC 9113 8.2.2); Host
 * is the :authority. */
static int h1_only(const char *name, size_t len)
{
    static const char *const skip[] = {
        "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strlen(skip[i]) == len && strncasecmp(skip[i], name, len) == 0)
            return 1;
    return 0;
}

/* One -H "Name: value" into the list; its name copied in lower case into *out. */
static void add_header(struct h2 *h, const char *line, char **out)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL || h->nnv >= NV_MAX)
        return;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (nlen == 0 || h1_only(line, nlen))
        return;
    for (size_t i = 0; i < nlen; i++)
        (*out)[i] = (char)tolower((unsigned char)line[i]);
    nv_set(&h->nv[h->nnv++], *out, nlen, v, strlen(v));
    *out += nlen;
}

static void h2_teardown(void *state)
{
    struct h2 *h = state;
    if (h == NULL)
        return;
    free(h->names);
    free(h);
}

static int h2_setup(void **state, const struct px_load *load)
{
    struct h2 *h = calloc(1, sizeof(*h));
    size_t names = 1;
    for (size_t i = 0; i < load->nheaders; i++)
        names += strlen(load->headers[i]);
    if (h == NULL || (h->names = malloc(names)) == NULL) {
        h2_teardown(h);
        *state = NULL;
        return -1;
    }
    px_url_host_header(&load->url, h->authority, sizeof(h->authority));
    const char *scheme = load->url.tls ? "https" : "http";
    nv_set(&h->nv[0], ":method", 7, load->method, strlen(load->method));
    nv_set(&h->nv[1], ":scheme", 7, scheme, strlen(scheme));
    nv_set(&h->nv[2], ":authority", 10, h->authority, strlen(h->authority));
    nv_set(&h->nv[3], ":path", 5, load->url.path, strlen(load->url.path));
    nv_set(&h->nv[4], "user-agent", 10, "portex/" PORTEX_VERSION, strlen("portex/" PORTEX_VERSION));
    h->nnv = 5;
    char *out = h->names;
    for (size_t i = 0; i < load->nheaders; i++)
        add_header(h, load->headers[i], &out);
    h->body = load->body;
    h->body_len = load->body ? load->body_len : 0;
    *state = h;
    return 0;
}

/* ---- streams ----------------------------------------------------------- */

static struct h2_stream *stream_of(struct h2_sess *s, int32_t id)
{
    return nghttp2_session_get_stream_user_data(s->ng, id);
}

static void stream_free(struct h2_sess *s, struct h2_stream *st, int32_t id)
{
    nghttp2_session_set_stream_user_data(s->ng, id, NULL);
    st->req = NULL;
    st->next_free = s->free_head;
    s->free_head = (int)(st - s->st);
}

/* Why a stream that closed without a whole response did. */
static int stream_cause(const struct h2_sess *s, const struct h2_stream *st, uint32_t code)
{
    if (code == NGHTTP2_REFUSED_STREAM)
        return PX_CAUSE_REFUSED;
    if (st->local_rst || s->local_goaway)
        return PX_CAUSE_H2_PROTOCOL;
    if (st->peer_rst)
        return px_cause_from_rst(code);
    return s->goaway_recv ? PX_CAUSE_GOAWAY : PX_CAUSE_H2_PROTOCOL;
}

/* The one place an exchange ends. */
static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *arg)
{
    (void)ng;
    struct h2_sess *s = arg;
    struct h2_stream *st = stream_of(s, id);
    if (st == NULL)
        return 0; /* cancelled: not told */
    void *req = st->req;
    int whole = code == NGHTTP2_NO_ERROR && st->status >= 100 && !st->local_rst;
    int status = whole ? st->status : 0;
    int cause = whole ? 0 : stream_cause(s, st, code);
    stream_free(s, st, id);
    s->ev.end(s->ev.arg, req, status, cause);
    return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
    (void)ng;
    struct h2_sess *s = arg;
    struct h2_stream *st = stream_of(s, f->hd.stream_id);
    if (f->hd.type == NGHTTP2_HEADERS && st != NULL && !st->began) {
        st->began = 1;
        s->ev.first_byte(s->ev.arg, st->req);
    }
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
    (void)ng;
    (void)flags;
    struct h2_sess *s = arg;
    struct h2_stream *st = stream_of(s, f->hd.stream_id);
    if (f->hd.type != NGHTTP2_HEADERS || st == NULL)
        return 0;
    st->hdr_bytes += nlen + vlen;
    if (st->hdr_bytes > PX_H2_HEADER_MAX) {
        /* nghttp2 resets this stream alone (INTERNAL_ERROR). */
        st->local_rst = 1;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (nlen == 7 && memcmp(name, ":status", 7) == 0 && vlen == 3 && isdigit(value[0]) &&
        isdigit(value[1]) && isdigit(value[2]))
        st->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
    (void)ng;
    struct h2_sess *s = arg;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        s->goaway_recv = 1;
    } else if (f->hd.type == NGHTTP2_RST_STREAM) {
        struct h2_stream *st = stream_of(s, f->hd.stream_id);
        if (st != NULL)
            st->peer_rst = 1;
    }
    return 0;
}

/* A GOAWAY we send with an error code: nghttp2 judged the server broken while
 * mem_recv returned normally; a RST_STREAM we send: a response broke the rules. */
static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
    (void)ng;
    struct h2_sess *s = arg;
    if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR) {
        s->local_goaway = 1;
    } else if (f->hd.type == NGHTTP2_RST_STREAM) {
        struct h2_stream *st = stream_of(s, f->hd.stream_id);
        if (st != NULL)
            st->local_rst = 1;
    }
    return 0;
}

static nghttp2_session_callbacks *callbacks;
static nghttp2_option *options;

static void make_callbacks(void)
{
    if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&options) != 0)
        return;
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
    /* Until the server's SETTINGS come nghttp2 would assume 100 streams, and a
     * server allowing fewer would refuse the rest of the first flight. */
    nghttp2_option_set_peer_max_concurrent_streams(options, 1);
}

/* ---- the session ------------------------------------------------------- */

static void sess_close(void *sess)
{
    struct h2_sess *s = sess;
    if (s == NULL)
        return;
    nghttp2_session_del(s->ng);
    free(s->st);
    free(s);
}

static int sess_open(void **sess, const void *state, unsigned streams,
                     const struct px_session_events *ev)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_callbacks);
    struct h2_sess *s = calloc(1, sizeof(*s));
    *sess = s;
    if (s == NULL || callbacks == NULL || options == NULL ||
        (s->st = calloc(streams, sizeof(*s->st))) == NULL)
        goto fail;
    s->run = state;
    s->ev = *ev;
    s->n = streams;
    s->free_head = -1;
    for (unsigned i = streams; i-- > 0;) {
        s->st[i].next_free = s->free_head;
        s->free_head = (int)i;
    }
    if (nghttp2_session_client_new2(&s->ng, callbacks, s, options) != 0)
        goto fail;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_MAX}};
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 3) != 0 ||
        nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, WINDOW_MAX) != 0)
        goto fail;
    return 0;
fail:
    sess_close(s);
    *sess = NULL;
    return -1;
}

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    (void)ng;
    (void)id;
    const struct h2_sess *s = arg;
    struct h2_stream *st = src->ptr;
    size_t left = s->run->body_len - st->sent;
    size_t n = left < len ? left : len;
    memcpy(buf, s->run->body + st->sent, n);
    st->sent += n;
    if (st->sent == s->run->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int sess_accepts(const void *sess)
{
    const struct h2_sess *s = sess;
    return s->free_head >= 0 && !s->failed &&
           nghttp2_session_check_request_allowed((nghttp2_session *)s->ng);
}

static int sess_submit(void *sess, void *req)
{
    struct h2_sess *s = sess;
    if (!sess_accepts(s))
        return -1;
    struct h2_stream *st = &s->st[s->free_head];
    int next = st->next_free;
    *st = (struct h2_stream){.req = req, .next_free = -1};
    nghttp2_data_provider body = {.source.ptr = st, .read_callback = body_read};
    int32_t id = nghttp2_submit_request(s->ng, NULL, s->run->nv, s->run->nnv,
                                        s->run->body_len ? &body : NULL, st);
    if (id < 0) {
        st->req = NULL;
        return -1;
    }
    s->free_head = next;
    return id;
}

static int sess_recv(void *sess, const char *buf, size_t n)
{
    struct h2_sess *s = sess;
    if (nghttp2_session_mem_recv(s->ng, (const uint8_t *)buf, n) < 0) {
        s->failed = 1;
        return -1;
    }
    return 0;
}

static long sess_send(void *sess, const char **buf)
{
    struct h2_sess *s = sess;
    const uint8_t *data = NULL;
    ssize_t n = nghttp2_session_mem_send(s->ng, &data);
    if (n < 0) {
        s->failed = 1;
        return -1;
    }
    *buf = (const char *)data;
    return (long)n;
}

static int sess_alive(const void *sess)
{
    const struct h2_sess *s = sess;
    nghttp2_session *ng = s->ng;
    return !s->failed && (nghttp2_session_want_read(ng) || nghttp2_session_want_write(ng));
}

static int sess_cause(const void *sess)
{
    const struct h2_sess *s = sess;
    if (s->failed || s->local_goaway)
        return PX_CAUSE_H2_PROTOCOL;
    return s->goaway_recv ? PX_CAUSE_GOAWAY : -1;
}

static int sess_cancel(void *sess, int id)
{
    struct h2_sess *s = sess;
    struct h2_stream *st = stream_of(s, id);
    if (st == NULL)
        return 0;
    /* Body bytes still to go, and no window to send them in. */
    int stalled = st->sent < s->run->body_len &&
                  (nghttp2_session_get_stream_remote_window_size(s->ng, id) <= 0 ||
                   nghttp2_session_get_remote_window_size(s->ng) <= 0);
    stream_free(s, st, id);
    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    return stalled;
}

static void sess_finish(void *sess)
{
    struct h2_sess *s = sess;
    nghttp2_session_terminate_session(s->ng, NGHTTP2_NO_ERROR);
}

const struct px_framing px_framing_h2 = {
    .protocol = "h2",
    .multiplexed = 1,
    .setup = h2_setup,
    .teardown = h2_teardown,
    .open = sess_open,
    .close = sess_close,
    .submit = sess_submit,
    .recv = sess_recv,
    .send = sess_send,
    .alive = sess_alive,
    .accepts = sess_accepts,
    .cause = sess_cause,
    .cancel = sess_cancel,
    .finish = sess_finish,
};
