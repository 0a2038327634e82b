/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the HTTP/2 response path of run --http2 (h2.c over
 * nghttp2). A client session with streams in flight is fed the input as the
 * server's bytes, in chunks, its own frames drained after each; then requests
 * are cancelled or the session closed as mux.c would. Every exchange must end
 * at most once, with a status or a cause that has a name, and those left open
 * when the session ends are exactly the ones the connection must count.
 *
 * Input: byte 0 = streams in flight (1..8) and whether a POST body goes,
 * byte 1 = chunking seed, then the server's bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/outcome.h"
#include "portex/base/url.h"
#include "portex/load/framing.h"
#include "portex/load/h2.h"
#include "portex/load/load.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STREAMS 8

struct req {
    int submitted; /* handed to the session */
    int ended;     /* told its end */
    int began;     /* told its first byte */
};

static struct req reqs[MAX_STREAMS * 4];

static void on_first_byte(void *arg, void *r)
{
    (void)arg;
    struct req *q = r;
    CHECK(q->submitted && !q->ended);
    q->began = 1;
}

static void on_end(void *arg, void *r, int status, int cause)
{
    (void)arg;
    struct req *q = r;
    CHECK(q->submitted && !q->ended);
    CHECK(status > 0 ? status >= 100 && status <= 999 : cause >= 0 && cause < PX_CAUSE_COUNT);
    CHECK(status > 0 || strcmp(px_cause_name(cause), "") != 0);
    q->ended = 1;
}

/* Drains what the session has to send (discarded: no server reads it). */
static void drain(void *sess)
{
    const char *out;
    for (int i = 0; i < 1000; i++)
        if (px_framing_h2.send(sess, &out) <= 0)
            return;
}

static void *run_state(int post)
{
    static struct px_load load;
    static void *state[2];
    if (state[post] != NULL)
        return state[post];
    char err[128];
    px_load_defaults(&load);
    if (px_url_parse("http://127.0.0.1:8080/fuzz", &load.url, err, sizeof(err)) < 0)
        abort();
    if (post) {
        load.method = "POST";
        load.body = "0123456789abcdef0123456789abcdef";
        load.body_len = 32;
    }
    if (px_framing_h2.setup(&state[post], &load) < 0)
        abort();
    return state[post];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned streams = 1 + (data[0] & 7);
    int post = (data[0] >> 3) & 1;
    uint32_t seed = 0x9e3779b9u ^ data[1];
    data += 2;
    size -= 2;
    memset(reqs, 0, sizeof(reqs));
    const struct px_session_events ev = {.first_byte = on_first_byte, .end = on_end};
    void *sess = NULL;
    if (px_framing_h2.open(&sess, run_state(post), streams, &ev) < 0)
        return 0;
    unsigned next = 0;
    int ids[MAX_STREAMS * 4] = {0};
    for (size_t off = 0; off <= size && next < MAX_STREAMS * 4;) {
        /* Keep the session full, as a mux does. */
        while (next < MAX_STREAMS * 4 && px_framing_h2.accepts(sess)) {
            reqs[next].submitted = 1;
            int id = px_framing_h2.submit(sess, &reqs[next]);
            if (id < 0) {
                reqs[next].submitted = 0;
                break;
            }
            ids[next++] = id;
        }
        drain(sess);
        if (off == size || !px_framing_h2.alive(sess))
            break;
        uint32_t r = next_rand(&seed);
        size_t n = (r & 3) == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 24;
        n = n < size - off ? n : size - off;
        if (px_framing_h2.recv(sess, (const char *)data + off, n) < 0)
            break;
        off += n;
    }
    /* Cancel one still open (a --timeout), as mux.c does: it is not told. */
    for (unsigned i = 0; i < next; i++)
        if (!reqs[i].ended && (seed & 1)) {
            px_framing_h2.cancel(sess, ids[i]);
            reqs[i].ended = 1;
            drain(sess);
            break;
        }
    int cause = px_framing_h2.cause(sess);
    CHECK(cause >= -1 && cause < PX_CAUSE_COUNT);
    px_framing_h2.close(sess); /* tells nothing: the rest is the connection's to count */
    for (unsigned i = 0; i < next; i++)
        CHECK(reqs[i].submitted);
    return 0;
}
