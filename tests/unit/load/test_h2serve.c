/* SPDX-License-Identifier: MIT */
/* h2serve.c: the h2c preface test, and a server session answering a client session (h2.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "portex/base/outcome.h"
#include "portex/base/url.h"
#include "portex/load/h2.h"
#include "portex/load/h2serve.h"
#include "portex/load/load.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void px_h2_sniff__preface_whole_or_split_is_h2(void **state)
{
    (void)state;
    char pre[PX_H2_PREFACE_LEN];
    unsigned len = 0;
    assert_int_equal(px_h2_sniff(pre, &len, preface, 24), PX_SNIFF_H2);
    len = 0;
    assert_int_equal(px_h2_sniff(pre, &len, preface, 5), PX_SNIFF_MORE);
    assert_int_equal(len, 5);
    assert_int_equal(px_h2_sniff(pre, &len, preface + 5, 19), PX_SNIFF_H2);
    len = 0;
    assert_int_equal(px_h2_sniff(pre, &len, preface, 1), PX_SNIFF_MORE);
    assert_int_equal(px_h2_sniff(pre, &len, preface + 1, 30), PX_SNIFF_H2);
}

static void px_h2_sniff__requests_are_http11(void **state)
{
    (void)state;
    char pre[PX_H2_PREFACE_LEN];
    unsigned len = 0;
    assert_int_equal(px_h2_sniff(pre, &len, "GET / HTTP/1.1\r\n", 16), PX_SNIFF_H1);
    len = 0;
    /* Differs at byte 11 only: kept until then, then HTTP/1.1 with the kept bytes. */
    assert_int_equal(px_h2_sniff(pre, &len, "PRI * HTTP/", 11), PX_SNIFF_MORE);
    assert_int_equal(px_h2_sniff(pre, &len, "1.1\r\n", 5), PX_SNIFF_H1);
    assert_int_equal(len, 11);
    assert_memory_equal(pre, "PRI * HTTP/", 11);
}

static void px_cause_from_rst__codes_by_name_refused_apart(void **state)
{
    (void)state;
    assert_int_equal(px_cause_from_rst(7), PX_CAUSE_REFUSED);
    assert_string_equal(px_cause_name(px_cause_from_rst(2)), "rst_stream:INTERNAL_ERROR");
    assert_string_equal(px_cause_name(px_cause_from_rst(8)), "rst_stream:CANCEL");
    assert_string_equal(px_cause_name(px_cause_from_rst(99)), "rst_stream:unknown");
    assert_string_equal(px_cause_name(PX_CAUSE_REFUSED), "refused_stream");
}

struct ends {
    int ok, failed, first;
};

static void on_first(void *arg, void *req)
{
    (void)req;
    ((struct ends *)arg)->first++;
}

static void on_end(void *arg, void *req, int status, int cause)
{
    (void)req;
    (void)cause;
    struct ends *e = arg;
    if (status == 200)
        e->ok++;
    else
        e->failed++;
}

/* Moves every byte one way: from a client session (h2.c) or a server session. */
static int pump_client(void *cli, struct px_h2serve *srv)
{
    const char *out;
    long n;
    int moved = 0;
    while ((n = px_framing_h2.send(cli, &out)) > 0) {
        assert_int_equal(px_h2serve_recv(srv, out, (size_t)n), 0);
        moved = 1;
    }
    while ((n = px_h2serve_send(srv, &out)) > 0) {
        assert_int_equal(px_framing_h2.recv(cli, out, (size_t)n), 0);
        moved = 1;
    }
    return moved;
}

static void h2serve__answers_every_stream_of_a_client_session(void **state)
{
    (void)state;
    struct px_load load;
    char err[128];
    px_load_defaults(&load);
    assert_int_equal(px_url_parse("http://127.0.0.1:8080/x", &load.url, err, sizeof(err)), 0);
    void *run = NULL;
    assert_int_equal(px_framing_h2.setup(&run, &load), 0);
    struct ends e = {0};
    const struct px_session_events ev = {.arg = &e, .first_byte = on_first, .end = on_end};
    void *cli = NULL;
    assert_int_equal(px_framing_h2.open(&cli, run, 10, &ev), 0);
    uint64_t answered = 0;
    static const char body[] = "hello, h2";
    struct px_h2serve *srv = px_h2serve_new(body, sizeof(body) - 1, &answered);
    assert_non_null(srv);
    static int reqs[25];
    int submitted = 0;
    for (int round = 0; round < 100 && e.ok < 25; round++) {
        while (submitted < 25 && px_framing_h2.accepts(cli) &&
               px_framing_h2.submit(cli, &reqs[submitted]) > 0)
            submitted++;
        pump_client(cli, srv);
    }
    assert_int_equal(e.ok, 25);
    assert_int_equal(e.failed, 0);
    assert_int_equal(e.first, 25);
    assert_int_equal(answered, 25);
    /* GOAWAY from the client: both sessions end. */
    px_framing_h2.finish(cli);
    while (pump_client(cli, srv))
        ;
    assert_false(px_framing_h2.alive(cli));
    px_framing_h2.close(cli);
    px_h2serve_free(srv);
    px_framing_h2.teardown(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_h2_sniff__preface_whole_or_split_is_h2),
        cmocka_unit_test(px_h2_sniff__requests_are_http11),
        cmocka_unit_test(px_cause_from_rst__codes_by_name_refused_apart),
        cmocka_unit_test(h2serve__answers_every_stream_of_a_client_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
