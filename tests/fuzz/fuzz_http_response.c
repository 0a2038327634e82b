/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the response reader fed in arbitrary chunks, responses back to back. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "portex/load/http.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Responses read from one input, as on one keep-alive connection; bounds the loop. */
#define MAX_RESPONSES 64

/* Mostly small chunks (down to one byte), so every parser state sees a buffer end. */
static size_t chunk_size(uint32_t *state, size_t left)
{
    uint32_t r = next_rand(state);
    size_t n = (r & 3) == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 16;
    return n < left ? n : left;
}

static void check_status(const struct px_http_resp *r)
{
    CHECK(r->status == 0 || (r->status >= 100 && r->status <= 999));
}

struct outcome {
    int step;       /* last step: DONE, ERROR, or MORE after EOF */
    size_t used;    /* bytes that belong to this response */
    int status;     /* at DONE */
    int keep_alive; /* at DONE */
};

/*
 * Reads one response from buf: in chunks when state is not NULL, else in one
 * feed. The stream ends (EOF) after len bytes unless the response is DONE first.
 */
static struct outcome read_one(const uint8_t *buf, size_t len, int head, uint32_t *state)
{
    struct px_http_resp r;
    px_http_resp_init(&r, head);
    struct outcome o = {PX_HTTP_MORE, 0, 0, 0};
    while (o.used < len) {
        size_t left = len - o.used;
        size_t n = state ? chunk_size(state, left) : left;
        size_t used = n + 1;
        o.step = px_http_resp_feed(&r, (const char *)buf + o.used, n, &used);
        CHECK(o.step == PX_HTTP_MORE || o.step == PX_HTTP_DONE || o.step == PX_HTTP_ERROR);
        CHECK(used <= n);
        /* The engine reads on after MORE: every byte fed must have been taken. */
        if (o.step == PX_HTTP_MORE)
            CHECK(used == n);
        check_status(&r);
        o.used += used;
        if (o.step != PX_HTTP_MORE)
            break;
    }
    if (o.step == PX_HTTP_MORE) {
        o.step = px_http_resp_eof(&r);
        CHECK(o.step == PX_HTTP_MORE || o.step == PX_HTTP_DONE || o.step == PX_HTTP_ERROR);
        check_status(&r);
        if (o.step == PX_HTTP_DONE)
            CHECK(r.keep_alive == 0);
    }
    if (o.step == PX_HTTP_DONE) {
        CHECK(r.status >= 100 && r.status <= 999);
        CHECK(r.keep_alive == 0 || r.keep_alive == 1);
        o.status = r.status;
        o.keep_alive = r.keep_alive;
        /* DONE is sticky: more bytes or an EOF change nothing. */
        size_t used = 1;
        size_t extra = len - o.used < 8 ? len - o.used : 8;
        CHECK(px_http_resp_feed(&r, (const char *)buf + o.used, extra, &used) == PX_HTTP_DONE);
        CHECK(used <= extra);
        CHECK(px_http_resp_eof(&r) == PX_HTTP_DONE);
        CHECK(r.status == o.status);
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* data[0]: HEAD flags of the first responses; data[1]: chunking seed. */
    uint8_t heads = data[0];
    uint32_t state = 0x9e3779b9u ^ ((uint32_t)data[0] << 8 | data[1]);
    data += 2;
    size -= 2;
    size_t off = 0;
    for (int i = 0; i < MAX_RESPONSES; i++) {
        int head = i < 8 ? (heads >> i) & 1 : (int)(next_rand(&state) & 1);
        struct outcome chunked = read_one(data + off, size - off, head, &state);
        /* Chunking must not change the answer: compare with one feed of it all. */
        struct outcome whole = read_one(data + off, size - off, head, NULL);
        CHECK(chunked.step == whole.step);
        if (chunked.step == PX_HTTP_DONE) {
            CHECK(chunked.used == whole.used);
            CHECK(chunked.status == whole.status);
            CHECK(chunked.keep_alive == whole.keep_alive);
        }
        if (chunked.step != PX_HTTP_DONE || off + chunked.used >= size)
            break;
        /* Under keep-alive the bytes past a response are the next response's. */
        CHECK(chunked.used > 0);
        off += chunked.used;
    }
    return 0;
}
