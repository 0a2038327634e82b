/* SPDX-License-Identifier: MIT */
/* HdrHistogram V2 encoder and interval log writer, so HdrHistogram's own tools read portex. */
#include "portex/report/hlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "portex/load/hist.h"
#include "portex/load/stats.h"

/*
 * Why portex's buckets are HdrHistogram's counts, index for index.
 * HdrHistogram with lowestDiscernibleValue 1 and 2 significant digits has
 * unitMagnitude 0, subBucketCount 2^ceil(log2(2 * 10^2)) = 256,
 * subBucketHalfCount 128 and computes, for a value v (countsArrayIndex):
 *   bucketIndex    = 56 - clz64(v | 255)        (0 for v < 256, else msb(v) - 7)
 *   subBucketIndex = v >> bucketIndex
 *   index          = ((bucketIndex + 1) << 7) + subBucketIndex - 128.
 * For v < 256 that is v. For v >= 256 with m = msb(v) it is
 * (m - 6) * 128 + (v >> (m - 7)) - 128, and px_hist_index gives
 * 256 + (m - 8) * 128 + (v >> (m - 7)) - 128: the same number. With
 * highestTrackableValue 60,000,000 HdrHistogram needs 19 buckets
 * (256 << 18 = 2^26 > 60e6), so (19 + 1) * 128 = 2560 counts: PX_HIST_BUCKETS.
 * test_hlog.c checks the formula against px_hist_index over the whole range.
 */

static size_t put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    return 4;
}

static size_t put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    return 8;
}

/* ZigZag then LEB128 in at most 9 bytes (the 9th carries 8 bits): "LEB128-64b9B". */
static size_t put_zigzag(uint8_t *p, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (n < 8 && u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

/* Counts up to the last non-zero one (at least one), zero runs as negative lengths. */
static size_t put_counts(uint8_t *p, const struct px_hist *h)
{
    size_t limit = 1;
    for (size_t i = 0; i < PX_HIST_BUCKETS; i++)
        if (h->buckets[i])
            limit = i + 1;
    size_t n = 0;
    for (size_t i = 0; i < limit;) {
        uint64_t c = h->buckets[i++];
        int64_t zeros = 0;
        if (c == 0) {
            zeros = 1;
            while (i < limit && h->buckets[i] == 0) {
                zeros++;
                i++;
            }
        }
        n += put_zigzag(p + n, zeros > 1 ? -zeros : (int64_t)c);
    }
    return n;
}

size_t px_hlog_encode_raw(const struct px_hist *h, uint8_t *buf, size_t cap)
{
    if (cap < PX_HLOG_RAW_MAX)
        return 0;
    /* The conversion ratio is a big-endian IEEE double: 1.0. */
    const uint64_t one = 0x3ff0000000000000ull;
    size_t n = put32(buf, PX_HLOG_COOKIE);
    n += 4;                 /* payload length, below */
    n += put32(buf + n, 0); /* normalizingIndexOffset */
    n += put32(buf + n, PX_HLOG_SIG_DIGITS);
    n += put64(buf + n, PX_HLOG_LOWEST);
    n += put64(buf + n, PX_HLOG_HIGHEST);
    n += put64(buf + n, one);
    size_t payload = put_counts(buf + n, h);
    put32(buf + 4, (uint32_t)payload);
    return n + payload;
}

static char *base64(const uint8_t *in, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

char *px_hlog_encode(const struct px_hist *h)
{
    static const size_t raw_cap = PX_HLOG_RAW_MAX;
    uint8_t *raw = malloc(raw_cap);
    uLongf zlen = compressBound(raw_cap);
    uint8_t *packed = malloc(8 + zlen);
    char *out = NULL;
    if (raw == NULL || packed == NULL)
        goto done;
    size_t len = px_hlog_encode_raw(h, raw, raw_cap);
    /* HdrHistogram's writers deflate with zlib framing at the best compression. */
    if (compress2(packed + 8, &zlen, raw, (uLong)len, Z_BEST_COMPRESSION) != Z_OK)
        goto done;
    put32(packed, PX_HLOG_COOKIE_ZLIB);
    put32(packed + 4, (uint32_t)zlen);
    out = base64(packed, 8 + zlen);
done:
    free(raw);
    free(packed);
    return out;
}

struct px_hlog {
    FILE *f;
    int is_stdout;
    int header_done;
    double base_epoch_s; /* BaseTime: lines are stamped from it */
    int failed;          /* a write failed */
    const char *path;    /* the caller's string, for px_hlog_discard */
    int created;         /* the file did not exist before: discard removes it */
};

struct px_hlog *px_hlog_open(const char *path, char *err, size_t errlen)
{
    struct px_hlog *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->is_stdout = strcmp(path, "-") == 0;
    l->path = path;
    l->created = !l->is_stdout && access(path, F_OK) != 0;
    l->f = l->is_stdout ? stdout : fopen(path, "w");
    if (l->f == NULL) {
        snprintf(err, errlen, "cannot write --hlog '%s': %s", path, strerror(errno));
        free(l);
        return NULL;
    }
    return l;
}

static void header(struct px_hlog *l, double epoch_s)
{
    time_t secs = (time_t)epoch_s;
    struct tm tm;
    char when[64] = "";
    if (gmtime_r(&secs, &tm) != NULL)
        strftime(when, sizeof(when), "%a %b %d %H:%M:%S UTC %Y", &tm);
    fprintf(l->f,
            "#[Logged with portex %s; values in microseconds, Interval_Max in "
            "milliseconds]\n",
            PORTEX_VERSION);
    fprintf(l->f, "#[Histogram log format version 1.3]\n");
    fprintf(l->f, "#[StartTime: %.3f (seconds since epoch), %s]\n", epoch_s, when);
    fprintf(l->f, "#[BaseTime: %.3f (seconds since epoch)]\n", epoch_s);
    l->base_epoch_s = epoch_s;
    fprintf(l->f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                  "\"Interval_Compressed_Histogram\"\n");
    l->header_done = 1;
}

int px_hlog_write(struct px_hlog *l, double epoch_s, const char *tag, double start_s, double len_s,
                  const struct px_hist *h)
{
    if (!l->header_done)
        header(l, epoch_s);
    char *b64 = px_hlog_encode(h);
    if (b64 == NULL) {
        l->failed = 1;
        return -1;
    }
    double max_ms = h->count ? (double)h->max_us / PX_HLOG_MAX_UNIT_RATIO : 0.0;
    /* A later run in the same log (compare's next mode) started later. */
    start_s += epoch_s - l->base_epoch_s;
    int rc = fprintf(l->f, "%s%s%s%.3f,%.3f,%.3f,%s\n", tag ? "Tag=" : "", tag ? tag : "",
                     tag ? "," : "", start_s, len_s, max_ms, b64);
    free(b64);
    if (rc < 0)
        l->failed = 1;
    return rc < 0 ? -1 : 0;
}

/* Once per tick, so that the log can be followed during the run and survives a kill. */
static void flush(struct px_hlog *l)
{
    if (fflush(l->f) != 0)
        l->failed = 1;
}

void px_hlog_tick(void *arg, const struct px_stats_interval *iv)
{
    double len_s = iv->row->t - iv->start_s;
    px_hlog_write(arg, iv->epoch_s, NULL, iv->start_s, len_s, iv->total);
    px_hlog_write(arg, iv->epoch_s, "connect", iv->start_s, len_s, iv->connect);
    px_hlog_write(arg, iv->epoch_s, "ttfb", iv->start_s, len_s, iv->ttfb);
    flush(arg);
}

void px_hlog_tick_tagged(void *arg, const struct px_stats_interval *iv)
{
    const struct px_hlog_tagged *t = arg;
    char connect[80], ttfb[80];
    snprintf(connect, sizeof(connect), "%s.connect", t->tag);
    snprintf(ttfb, sizeof(ttfb), "%s.ttfb", t->tag);
    double len_s = iv->row->t - iv->start_s;
    px_hlog_write(t->log, iv->epoch_s, t->tag, iv->start_s, len_s, iv->total);
    px_hlog_write(t->log, iv->epoch_s, connect, iv->start_s, len_s, iv->connect);
    px_hlog_write(t->log, iv->epoch_s, ttfb, iv->start_s, len_s, iv->ttfb);
    flush(t->log);
}

int px_hlog_close(struct px_hlog *l)
{
    if (l == NULL)
        return 0;
    int rc = l->failed ? -1 : 0;
    if (l->is_stdout) {
        if (fflush(l->f) != 0)
            rc = -1;
    } else if (fclose(l->f) != 0) {
        rc = -1;
    }
    free(l);
    return rc;
}

void px_hlog_discard(struct px_hlog *l)
{
    if (l == NULL)
        return;
    const char *path = l->path;
    int created = l->created;
    px_hlog_close(l);
    if (created)
        unlink(path);
}
