/* SPDX-License-Identifier: MIT */
/* Unit tests of request building and the response reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/load/http.h"

static void px_http_request_build__headers_body_close(void **state)
{
    (void)state;
    const char *hdrs[] = {"X-A: 1", "Accept: */*"};
    struct px_http_request_spec spec = {
        .method = "POST",
        .host = "h:81",
        .path = "/p?q",
        .headers = hdrs,
        .nheaders = 2,
        .body = "abc",
        .body_len = 3,
        .close = 1,
    };
    char *out;
    size_t len;
    assert_int_equal(px_http_request_build(&spec, &out, &len), 0);
    const char *want = "POST /p?q HTTP/1.1\r\nHost: h:81\r\nX-A: 1\r\nAccept: */*\r\n"
                       "User-Agent: portex/" PORTEX_VERSION "\r\nContent-Length: 3\r\n"
                       "Connection: close\r\n\r\nabc";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    free(out);
}

static void px_http_request_build__no_close_for_client_close(void **state)
{
    (void)state;
    const char *hdrs[] = {"User-Agent: me"};
    struct px_http_request_spec spec = {
        .method = "GET", .host = "h", .path = "/", .headers = hdrs, .nheaders = 1};
    char *out;
    size_t len;
    assert_int_equal(px_http_request_build(&spec, &out, &len), 0);
    const char *want = "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: me\r\n\r\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    free(out);
}

/* Feeds `resp` in two pieces split at `cut`, then EOF if asked; returns the last step. */
static int feed_split(const char *resp, size_t cut, int eof, int head, struct px_http_resp *r)
{
    size_t len = strlen(resp), used;
    px_http_resp_init(r, head);
    int step = px_http_resp_feed(r, resp, cut, &used);
    if (step != PX_HTTP_MORE)
        return step;
    step = px_http_resp_feed(r, resp + cut, len - cut, &used);
    if (step == PX_HTTP_MORE && eof)
        step = px_http_resp_eof(r);
    return step;
}

static const char cl_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
static const char chunked_resp[] = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
static const char eof_resp[] = "HTTP/1.0 404 Not Found\r\n\r\nbody until close";

static void px_http_resp_feed__every_split_content_length(void **state)
{
    (void)state;
    for (size_t cut = 0; cut <= strlen(cl_resp); cut++) {
        struct px_http_resp r;
        assert_int_equal(feed_split(cl_resp, cut, 0, 0, &r), PX_HTTP_DONE);
        assert_int_equal(r.status, 200);
        assert_true(r.keep_alive);
    }
}

static void px_http_resp_feed__every_split_chunked(void **state)
{
    (void)state;
    for (size_t cut = 0; cut <= strlen(chunked_resp); cut++) {
        struct px_http_resp r;
        assert_int_equal(feed_split(chunked_resp, cut, 0, 0, &r), PX_HTTP_DONE);
        assert_int_equal(r.status, 201);
    }
}

static void px_http_resp_eof__ends_close_delimited_body(void **state)
{
    (void)state;
    for (size_t cut = 0; cut <= strlen(eof_resp); cut++) {
        struct px_http_resp r;
        assert_int_equal(feed_split(eof_resp, cut, 1, 0, &r), PX_HTTP_DONE);
        assert_int_equal(r.status, 404);
        assert_false(r.keep_alive);
    }
}

static void px_http_resp_eof__cut_short_is_more(void **state)
{
    (void)state;
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    assert_int_equal(px_http_resp_feed(&r, cl_resp, strlen(cl_resp) - 2, &used), PX_HTTP_MORE);
    assert_int_equal(px_http_resp_eof(&r), PX_HTTP_MORE);
    px_http_resp_init(&r, 0);
    assert_int_equal(px_http_resp_eof(&r), PX_HTTP_MORE);
}

static void px_http_resp_feed__garbage_is_error(void **state)
{
    (void)state;
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    const char g[] = "SSH-2.0-OpenSSH_9.2\r\n";
    assert_int_equal(px_http_resp_feed(&r, g, strlen(g), &used), PX_HTTP_ERROR);
    px_http_resp_init(&r, 0);
    const char bad_len[] = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
    assert_int_equal(px_http_resp_feed(&r, bad_len, strlen(bad_len), &used), PX_HTTP_ERROR);
}

/* Found by tests/fuzz/fuzz_http_response: http-parser takes "2" or "20" as a status. */
static void px_http_resp_feed__status_under_three_digits_is_error(void **state)
{
    (void)state;
    const char *bad[] = {"HTTP/1.1 2 OK\r\nContent-Length: 0\r\n\r\n",
                         "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
                         "HTTP/1.1 0 OK\r\nContent-Length: 0\r\n\r\n",
                         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct px_http_resp r;
        size_t used;
        px_http_resp_init(&r, 0);
        assert_int_equal(px_http_resp_feed(&r, bad[i], strlen(bad[i]), &used), PX_HTTP_ERROR);
        assert_int_equal(r.status, 0);
    }
}

static void px_http_resp_feed__oversized_headers_is_error(void **state)
{
    (void)state;
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    const char start[] = "HTTP/1.1 200 OK\r\nX-Big: ";
    assert_int_equal(px_http_resp_feed(&r, start, strlen(start), &used), PX_HTTP_MORE);
    char chunk[4096];
    memset(chunk, 'a', sizeof(chunk));
    int step = PX_HTTP_MORE;
    for (int i = 0; i < 64 && step == PX_HTTP_MORE; i++)
        step = px_http_resp_feed(&r, chunk, sizeof(chunk), &used);
    assert_int_equal(step, PX_HTTP_ERROR);
}

static void px_http_resp_feed__stops_after_one_response(void **state)
{
    (void)state;
    char two[256];
    snprintf(two, sizeof(two), "%s%s", cl_resp, cl_resp);
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    assert_int_equal(px_http_resp_feed(&r, two, strlen(two), &used), PX_HTTP_DONE);
    assert_int_equal(used, strlen(cl_resp));
}

static void px_http_resp_feed__head_has_no_body(void **state)
{
    (void)state;
    const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 1);
    assert_int_equal(px_http_resp_feed(&r, h, strlen(h), &used), PX_HTTP_DONE);
    assert_int_equal(r.status, 200);
}

static void px_http_resp_feed__skips_100_continue(void **state)
{
    (void)state;
    char both[256];
    snprintf(both, sizeof(both), "HTTP/1.1 100 Continue\r\n\r\n%s", cl_resp);
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    assert_int_equal(px_http_resp_feed(&r, both, strlen(both), &used), PX_HTTP_DONE);
    assert_int_equal(r.status, 200);
}

static void px_http_resp_feed__connection_close_not_keepalive(void **state)
{
    (void)state;
    const char c[] = "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    assert_int_equal(px_http_resp_feed(&r, c, strlen(c), &used), PX_HTTP_DONE);
    assert_int_equal(r.status, 503);
    assert_false(r.keep_alive);
}

/* A response with no body by rule, followed by bytes that are not its own. */
struct bodiless_case {
    const char *bytes; /* the response, then whatever the peer sends next */
    size_t resp_len;   /* bytes that belong to the response (interim ones included) */
    int head;          /* the request was HEAD */
    int status;        /* final status */
    int keep_alive;    /* the connection may carry another request */
};

#define NEXT       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define R204       "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
#define R304       "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
#define R204_TE    "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"
#define R304_TE    "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
#define HEAD_CL    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
#define HEAD_TE    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define C100       "HTTP/1.1 100 Continue\r\n\r\n"
#define C100_CLOSE "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"
#define E103_CL    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nContent-Length: 5\r\n\r\n"
#define U101       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
#define U101_BARE  "HTTP/1.1 101 Switching Protocols\r\n\r\n"
#define WS         "\x81\x05hello"

static const struct bodiless_case bodiless_cases[] = {
    {.bytes = R204 NEXT, .resp_len = sizeof(R204) - 1, .status = 204, .keep_alive = 1},
    {.bytes = R304 NEXT, .resp_len = sizeof(R304) - 1, .status = 304, .keep_alive = 1},
    {.bytes = R204_TE NEXT, .resp_len = sizeof(R204_TE) - 1, .status = 204, .keep_alive = 1},
    {.bytes = R304_TE NEXT, .resp_len = sizeof(R304_TE) - 1, .status = 304, .keep_alive = 1},
    {.bytes = HEAD_CL NEXT,
     .resp_len = sizeof(HEAD_CL) - 1,
     .head = 1,
     .status = 200,
     .keep_alive = 1},
    {.bytes = HEAD_TE NEXT,
     .resp_len = sizeof(HEAD_TE) - 1,
     .head = 1,
     .status = 200,
     .keep_alive = 1},
    {.bytes = C100 NEXT, .resp_len = sizeof(C100 NEXT) - 1, .status = 200, .keep_alive = 1},
    {.bytes = C100 C100 NEXT,
     .resp_len = sizeof(C100 C100 NEXT) - 1,
     .status = 200,
     .keep_alive = 1},
    {.bytes = C100_CLOSE NEXT,
     .resp_len = sizeof(C100_CLOSE NEXT) - 1,
     .status = 200,
     .keep_alive = 1},
    {.bytes = E103_CL NEXT, .resp_len = sizeof(E103_CL NEXT) - 1, .status = 200, .keep_alive = 1},
    {.bytes = C100 R204 NEXT, .resp_len = sizeof(C100 R204) - 1, .status = 204, .keep_alive = 1},
    {.bytes = U101 WS, .resp_len = sizeof(U101) - 1, .status = 101, .keep_alive = 0},
    {.bytes = U101_BARE NEXT, .resp_len = sizeof(U101_BARE) - 1, .status = 101, .keep_alive = 0},
    {.bytes = C100 U101 WS, .resp_len = sizeof(C100 U101) - 1, .status = 101, .keep_alive = 0},
};

/* Feeds c->bytes in pieces of at most `piece` bytes, the first one `first` bytes long,
 * until the response is done; returns the last step and the bytes it used in *used_total. */
static int feed_pieces(const struct bodiless_case *c, size_t first, size_t piece,
                       struct px_http_resp *r, size_t *used_total)
{
    size_t len = strlen(c->bytes), off = 0, used;
    int step = PX_HTTP_MORE;
    px_http_resp_init(r, c->head);
    while (off < len && step == PX_HTTP_MORE) {
        size_t n = off == 0 ? first : piece;
        if (n > len - off)
            n = len - off;
        step = px_http_resp_feed(r, c->bytes + off, n, &used);
        if (step == PX_HTTP_MORE)
            assert_int_equal(used, n); /* nothing is left behind mid-response */
        off += used;
    }
    *used_total = off;
    return step;
}

static void check_bodiless(size_t i, size_t first, size_t piece)
{
    const struct bodiless_case *c = &bodiless_cases[i];
    struct px_http_resp r;
    size_t used;
    int step = feed_pieces(c, first, piece, &r, &used);
    if (step != PX_HTTP_DONE || used != c->resp_len || r.status != c->status ||
        r.keep_alive != c->keep_alive)
        fail_msg("case %zu (first %zu, then %zu): step %d used %zu/%zu status %d keep_alive %d", i,
                 first, piece, step, used, c->resp_len, r.status, r.keep_alive);
}

static void px_http_resp_feed__bodiless_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bodiless_cases) / sizeof(bodiless_cases[0]); i++)
        check_bodiless(i, strlen(bodiless_cases[i].bytes), 1);
}

static void px_http_resp_feed__bodiless_split_at_every_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bodiless_cases) / sizeof(bodiless_cases[0]); i++) {
        const struct bodiless_case *c = &bodiless_cases[i];
        for (size_t cut = 1; cut <= c->resp_len; cut++)
            check_bodiless(i, cut, strlen(c->bytes));
    }
}

static void px_http_resp_feed__bodiless_byte_by_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bodiless_cases) / sizeof(bodiless_cases[0]); i++)
        check_bodiless(i, 1, 1);
}

static void px_http_resp_eof__after_interim_is_more(void **state)
{
    (void)state;
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    assert_int_equal(px_http_resp_feed(&r, C100, strlen(C100), &used), PX_HTTP_MORE);
    assert_int_equal(used, strlen(C100));
    assert_int_equal(r.status, 0);
    assert_int_equal(px_http_resp_eof(&r), PX_HTTP_MORE);
}

static void px_http_resp_feed__200_body_is_still_read(void **state)
{
    (void)state;
    const char with_body[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    struct px_http_resp r;
    size_t used;
    px_http_resp_init(&r, 0);
    assert_int_equal(px_http_resp_feed(&r, with_body, strlen(with_body), &used), PX_HTTP_MORE);
    assert_int_equal(px_http_resp_feed(&r, "hello", 5, &used), PX_HTTP_DONE);
    assert_int_equal(used, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_http_request_build__headers_body_close),
        cmocka_unit_test(px_http_request_build__no_close_for_client_close),
        cmocka_unit_test(px_http_resp_feed__every_split_content_length),
        cmocka_unit_test(px_http_resp_feed__every_split_chunked),
        cmocka_unit_test(px_http_resp_eof__ends_close_delimited_body),
        cmocka_unit_test(px_http_resp_eof__cut_short_is_more),
        cmocka_unit_test(px_http_resp_feed__garbage_is_error),
        cmocka_unit_test(px_http_resp_feed__status_under_three_digits_is_error),
        cmocka_unit_test(px_http_resp_feed__oversized_headers_is_error),
        cmocka_unit_test(px_http_resp_feed__stops_after_one_response),
        cmocka_unit_test(px_http_resp_feed__head_has_no_body),
        cmocka_unit_test(px_http_resp_feed__skips_100_continue),
        cmocka_unit_test(px_http_resp_feed__connection_close_not_keepalive),
        cmocka_unit_test(px_http_resp_feed__bodiless_whole),
        cmocka_unit_test(px_http_resp_feed__bodiless_split_at_every_byte),
        cmocka_unit_test(px_http_resp_feed__bodiless_byte_by_byte),
        cmocka_unit_test(px_http_resp_eof__after_interim_is_more),
        cmocka_unit_test(px_http_resp_feed__200_body_is_still_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
