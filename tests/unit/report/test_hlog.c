/* SPDX-License-Identifier: MIT */
/* Unit tests of the HdrHistogram V2 encoder: bytes derived by hand from the spec, a round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "portex/load/hist.h"
#include "portex/report/hlog.h"

/* The V2 header for lowest 1, highest 60,000,000, 2 digits, ratio 1.0, payload length n. */
static void expect_header(const uint8_t *b, uint8_t payload_len)
{
    const uint8_t want[40] = {
        0x1c, 0x84, 0x93, 0x13,                                /* cookie: V2 | 0x10 */
        0x00, 0x00, 0x00, payload_len,                         /* payload length */
        0x00, 0x00, 0x00, 0x00,                                /* normalizingIndexOffset */
        0x00, 0x00, 0x00, 0x02,                                /* significant digits */
        0,    0,    0,    0,           0,    0,    0,    1,    /* lowestDiscernibleValue */
        0,    0,    0,    0,           0x03, 0x93, 0x87, 0x00, /* highest: 60,000,000 */
        0x3f, 0xf0, 0x00, 0x00,        0x00, 0x00, 0x00, 0x00, /* ratio 1.0 (double) */
    };
    assert_memory_equal(b, want, sizeof(want));
}

/* HdrHistogram's countsArrayIndex for lowest 1 and 2 digits, written from its spec. */
static unsigned hdr_index(uint64_t v)
{
    const unsigned sub_half_mag = 7, sub_half = 128;
    unsigned bucket = 64 - 0 - sub_half_mag - 1 - (unsigned)__builtin_clzll(v | 255);
    uint64_t sub = v >> bucket;
    return ((bucket + 1) << sub_half_mag) + (unsigned)sub - sub_half;
}

static void px_hist_index__equals_hdrhistogram_counts_index(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 70000; v++)
        assert_int_equal(px_hist_index(v), hdr_index(v));
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++) {
        uint64_t lo, hi;
        px_hist_bounds(i, &lo, &hi);
        assert_int_equal(hdr_index(lo), i);
        assert_int_equal(hdr_index(hi), i);
    }
    /* getBucketsNeededToCoverValue(60e6) then (buckets + 1) * subBucketHalfCount. */
    unsigned buckets = 1;
    for (uint64_t untrackable = 256; untrackable <= PX_HLOG_HIGHEST; untrackable <<= 1)
        buckets++;
    assert_int_equal((buckets + 1) * 128, PX_HIST_BUCKETS);
}

static void px_hlog_encode_raw__empty_is_one_zero(void **state)
{
    (void)state;
    static struct px_hist h;
    static uint8_t buf[PX_HLOG_RAW_MAX];
    px_hist_init(&h);

    size_t n = px_hlog_encode_raw(&h, buf, sizeof(buf));

    assert_int_equal(n, 41);
    expect_header(buf, 1);
    assert_int_equal(buf[40], 0x00);
}

static void px_hlog_encode_raw__counts_and_zero_runs(void **state)
{
    (void)state;
    static struct px_hist h;
    static uint8_t buf[PX_HLOG_RAW_MAX];
    px_hist_init(&h);
    px_hist_record(&h, 1);
    px_hist_record(&h, 1);
    px_hist_record(&h, 300); /* index 256 + 300/2 - 128 = 278 */

    size_t n = px_hlog_encode_raw(&h, buf, sizeof(buf));

    /* [0] 0 alone -> 0; [1] 2 -> zigzag 4; [2..277] 276 zeros -> -276 -> zigzag
     * 551 = 0x227 -> LEB128 a7 04; [278] 1 -> 2. */
    const uint8_t want[] = {0x00, 0x04, 0xa7, 0x04, 0x02};
    assert_int_equal(n, 40 + sizeof(want));
    expect_header(buf, sizeof(want));
    assert_memory_equal(buf + 40, want, sizeof(want));
}

static void px_hlog_encode_raw__large_count_takes_two_bytes(void **state)
{
    (void)state;
    static struct px_hist h;
    static uint8_t buf[PX_HLOG_RAW_MAX];
    px_hist_init(&h);
    for (int i = 0; i < 300; i++)
        px_hist_record(&h, 0);

    size_t n = px_hlog_encode_raw(&h, buf, sizeof(buf));

    /* 300 -> zigzag 600 = 0x258 -> d8 04 */
    assert_int_equal(n, 42);
    assert_int_equal(buf[40], 0xd8);
    assert_int_equal(buf[41], 0x04);
}

/* ---- a small decoder, the reverse of the spec, for the round trip ---- */

static size_t unbase64(const char *s, uint8_t *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i + 3 < len; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *p = strchr(tab, s[i + k]);
            if (s[i + k] == '=')
                pad++;
            v = (v << 6) | (s[i + k] == '=' || p == NULL ? 0u : (uint32_t)(p - tab));
        }
        out[n++] = (uint8_t)(v >> 16);
        if (pad < 2)
            out[n++] = (uint8_t)(v >> 8);
        if (pad < 1)
            out[n++] = (uint8_t)v;
    }
    return n;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

static int64_t get_zigzag(const uint8_t *p, size_t *pos)
{
    uint64_t u = 0;
    for (int shift = 0; shift <= 56; shift += 7) {
        uint8_t b = p[(*pos)++];
        if (shift == 56) {
            u |= (uint64_t)b << 56;
            break;
        }
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Decodes a compressed base64 histogram into counts; returns the counts decoded. */
static size_t decode(const char *b64, uint64_t *counts)
{
    static uint8_t packed[PX_HLOG_RAW_MAX * 2], raw[PX_HLOG_RAW_MAX];
    size_t plen = unbase64(b64, packed);
    assert_int_equal(get_be(packed, 4), PX_HLOG_COOKIE_ZLIB);
    assert_int_equal(get_be(packed + 4, 4), plen - 8);
    uLongf rlen = sizeof(raw);
    assert_int_equal(uncompress(raw, &rlen, packed + 8, (uLong)(plen - 8)), Z_OK);
    assert_int_equal(get_be(raw, 4), PX_HLOG_COOKIE);
    size_t payload = (size_t)get_be(raw + 4, 4);
    assert_int_equal(rlen, 40 + payload);
    assert_int_equal(get_be(raw + 12, 4), PX_HLOG_SIG_DIGITS);
    assert_int_equal(get_be(raw + 16, 8), PX_HLOG_LOWEST);
    assert_int_equal(get_be(raw + 24, 8), PX_HLOG_HIGHEST);
    size_t pos = 40, idx = 0;
    while (pos < 40 + payload) {
        int64_t c = get_zigzag(raw, &pos);
        if (c < 0) {
            idx += (size_t)-c;
        } else {
            assert_true(idx < PX_HIST_BUCKETS);
            counts[idx++] = (uint64_t)c;
        }
    }
    assert_int_equal(pos, 40 + payload);
    return idx;
}

static void px_hlog_encode__round_trips(void **state)
{
    (void)state;
    static struct px_hist h;
    static uint64_t counts[PX_HIST_BUCKETS];
    px_hist_init(&h);
    srand(7);
    for (int i = 0; i < 20000; i++)
        px_hist_record(&h, (uint64_t)rand() % 200000u);
    for (int i = 0; i < 1000; i++)
        px_hist_record(&h, 7); /* a count that needs two LEB128 bytes and more */
    px_hist_record(&h, 59000000);

    char *b64 = px_hlog_encode(&h);
    assert_non_null(b64);
    size_t n = decode(b64, counts);
    free(b64);

    assert_int_equal(n, px_hist_index(59000000) + 1);
    uint64_t total = 0;
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++) {
        assert_int_equal(counts[i], h.buckets[i]);
        total += counts[i];
    }
    assert_int_equal(total, 21001);
}

static void px_hlog_write__header_legend_and_tagged_lines(void **state)
{
    (void)state;
    static struct px_hist h;
    char path[] = "/tmp/portex-test-hlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    struct px_hlog *l = px_hlog_open(path, err, sizeof(err));
    assert_non_null(l);
    px_hist_init(&h);
    px_hist_record(&h, 1500);

    assert_int_equal(px_hlog_write(l, 1700000000.25, NULL, 0.0, 1.0, &h), 0);
    assert_int_equal(px_hlog_write(l, 1700000000.25, "connect", 0.0, 1.0, &h), 0);
    assert_int_equal(px_hlog_close(l), 0);

    char text[4096];
    FILE *f = fopen(path, "r");
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    unlink(path);
    text[len] = '\0';
    assert_non_null(strstr(text, "\n#[StartTime: 1700000000.250 (seconds since epoch), "));
    assert_non_null(strstr(text, "\n#[BaseTime: 1700000000.250 (seconds since epoch)]\n"));
    assert_non_null(strstr(text, "\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                                 "\"Interval_Compressed_Histogram\"\n0.000,1.000,1.500,HIST"));
    assert_non_null(strstr(text, "\nTag=connect,0.000,1.000,1.500,HIST"));
}

static void px_hlog_write__later_run_stamped_from_base_time(void **state)
{
    (void)state;
    static struct px_hist h;
    char path[] = "/tmp/portex-test-hlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    struct px_hlog *l = px_hlog_open(path, err, sizeof(err));
    assert_non_null(l);
    px_hist_init(&h);

    /* compare: the second mode started 12.5 s after the first. */
    assert_int_equal(px_hlog_write(l, 1000.0, "short", 0.0, 1.0, &h), 0);
    assert_int_equal(px_hlog_write(l, 1012.5, "keepalive", 1.0, 1.0, &h), 0);
    assert_int_equal(px_hlog_close(l), 0);

    char text[4096];
    FILE *f = fopen(path, "r");
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    unlink(path);
    text[len] = '\0';
    assert_non_null(strstr(text, "#[BaseTime: 1000.000 (seconds since epoch)]\n"));
    assert_non_null(strstr(text, "\nTag=short,0.000,1.000,0.000,HIST"));
    assert_non_null(strstr(text, "\nTag=keepalive,13.500,1.000,0.000,HIST"));
}

static void px_hlog_open__bad_path_says_which(void **state)
{
    (void)state;
    char err[256];
    assert_null(px_hlog_open("/nonexistent-dir/x.hlog", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent-dir/x.hlog"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_hist_index__equals_hdrhistogram_counts_index),
        cmocka_unit_test(px_hlog_encode_raw__empty_is_one_zero),
        cmocka_unit_test(px_hlog_encode_raw__counts_and_zero_runs),
        cmocka_unit_test(px_hlog_encode_raw__large_count_takes_two_bytes),
        cmocka_unit_test(px_hlog_encode__round_trips),
        cmocka_unit_test(px_hlog_write__header_legend_and_tagged_lines),
        cmocka_unit_test(px_hlog_write__later_run_stamped_from_base_time),
        cmocka_unit_test(px_hlog_open__bad_path_says_which),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
