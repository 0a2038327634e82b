/* SPDX-License-Identifier: MIT */
/* The mergeable result format, read back: a document into a run, every key checked by name. */
#include "portex/load/result_decode.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portex/load/load.h"
#include "portex/base/outcome.h"
#include "portex/base/url.h"
#include "portex/kernel/sysctls.h"
#include "portex/load/hist.h"
#include "portex/load/result.h"
#include "portex/load/stats.h"
#include "portex/load/result_encode.h"
#include "portex/load/tls.h"

/* Reader state: where we are (for messages) and the first error. */
struct rd {
    const char *where;
    char *err;
    size_t errlen;
    int failed;
};

static void fail(struct rd *r, const char *key, const char *what)
{
    if (!r->failed)
        snprintf(r->err, r->errlen, "%s%s%s: %s", r->where, *r->where ? "." : "", key, what);
    r->failed = 1;
}

static const json_t *get_obj(struct rd *r, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_object(v)) {
        fail(r, key, "missing or not an object");
        return NULL;
    }
    return v;
}

static const json_t *get_arr(struct rd *r, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_array(v)) {
        fail(r, key, "missing or not an array");
        return NULL;
    }
    return v;
}

static uint64_t get_u64(struct rd *r, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        fail(r, key, "missing or not a non-negative integer");
        return 0;
    }
    return (uint64_t)json_integer_value(v);
}

/* An integer, or null read as if_null. */
static int64_t get_i64(struct rd *r, const json_t *o, const char *key, int64_t if_null)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_null(v))
        return if_null;
    if (!json_is_integer(v)) {
        fail(r, key, "missing or not an integer");
        return 0;
    }
    return json_integer_value(v);
}

/* A number, or null read as if_null. */
static double get_f64(struct rd *r, const json_t *o, const char *key, double if_null)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_null(v))
        return if_null;
    if (!json_is_number(v)) {
        fail(r, key, "missing or not a number");
        return 0;
    }
    return json_number_value(v);
}

static int get_bool(struct rd *r, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v)) {
        fail(r, key, "missing or not true/false");
        return 0;
    }
    return json_is_true(v);
}

/* A string (null reads as ""). */
static void get_str(struct rd *r, const json_t *o, const char *key, char *out, size_t outlen)
{
    const json_t *v = json_object_get(o, key);
    out[0] = '\0';
    if (json_is_null(v))
        return;
    if (!json_is_string(v) || json_string_length(v) >= outlen) {
        fail(r, key, json_is_string(v) ? "too long" : "missing or not a string");
        return;
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
}

static const char *intern_method(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(known[i], m) == 0)
            return known[i];
    return NULL;
}

static uint64_t ms_of(double s)
{
    return s > 0 ? (uint64_t)llround(s * 1000.0) : 0;
}

static void read_sources(struct rd *r, const json_t *o, struct px_load *cfg)
{
    const json_t *a = get_arr(r, o, "sources");
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || i >= PX_MAX_SOURCES ||
            px_ip_parse(json_string_value(v), &cfg->sources[cfg->nsources++]) < 0) {
            fail(r, "sources", "expected up to 256 numeric IP addresses");
            return;
        }
    }
}

/* config.tls of an https result (absent otherwise); --cacert's path is not kept. */
static void read_tls_config(const json_t *o, struct px_load *cfg)
{
    if (!json_is_object(o))
        return;
    cfg->tls_insecure = json_is_true(json_object_get(o, "insecure"));
    const char *v = json_string_value(json_object_get(o, "version"));
    if (v == NULL || px_tls_parse_version(v, &cfg->tls_version) < 0)
        cfg->tls_version = 0;
    v = json_string_value(json_object_get(o, "resume"));
    if (v == NULL || px_tls_parse_resume(v, &cfg->tls_resume) < 0)
        cfg->tls_resume = 0;
}

/* "IP:PORT", "[IPv6]:PORT" or "unix:PATH" into ss. 0, or -1 with the reason in e. */
static int parse_target(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *e,
                        size_t elen)
{
    if (strncmp(text, "unix:", 5) == 0)
        return px_unix_addr(text + 5, ss, len, e, elen);
    return px_addr_parse(text, ss, len, e, elen);
}

/* config.family and config.resolved; results written before portex kept them lack both. */
static void read_addrs(struct rd *r, const json_t *o, struct px_load *cfg)
{
    const char *fam = json_string_value(json_object_get(o, "family"));
    cfg->family = AF_UNSPEC;
    if (fam != NULL)
        cfg->family = strcmp(fam, "ipv4") == 0 ? AF_INET : strcmp(fam, "ipv6") == 0 ? AF_INET6 : -1;
    if (cfg->family < 0)
        fail(r, "family", "expected \"ipv4\", \"ipv6\" or null");
    const json_t *a = json_object_get(o, "resolved");
    if (a == NULL || json_is_null(a))
        return;
    size_t i;
    const json_t *v;
    char e[128];
    _Static_assert(PX_URL_ADDRS_MAX == 32, "the message below names the most addresses");
    if (!json_is_array(a) || json_array_size(a) > PX_URL_ADDRS_MAX)
        fail(r, "resolved", "expected null or at most 32 {\"address\", \"probe\"}");
    json_array_foreach(a, i, v)
    {
        struct px_url_addr *x = &cfg->addrs[i];
        const char *addr = json_string_value(json_object_get(v, "address"));
        const char *probe = json_string_value(json_object_get(v, "probe"));
        if (r->failed || addr == NULL || probe == NULL ||
            parse_target(addr, &x->ss, &x->len, e, sizeof(e)) < 0 ||
            px_addr_probe_parse(probe, &x->probe) < 0) {
            fail(r, "resolved", "expected {\"address\": IP:PORT, \"probe\": a probe's outcome}");
            return;
        }
        cfg->naddrs = i + 1;
    }
}

static void read_config(struct rd *r, const json_t *doc, struct px_load *cfg)
{
    const json_t *o = get_obj(r, doc, "config");
    if (o == NULL)
        return;
    r->where = "config";
    get_str(r, o, "url", cfg->url_text, sizeof(cfg->url_text));
    char buf[64];
    get_str(r, o, "mode", buf, sizeof(buf));
    cfg->keepalive = strcmp(buf, "keepalive") == 0;
    /* Added with HTTP/2: a document without it ran HTTP/1.1. */
    const json_t *proto = json_object_get(o, "protocol");
    cfg->http2 = json_is_string(proto) && strcmp(json_string_value(proto), "h2") == 0;
    const json_t *streams = json_object_get(o, "streams");
    cfg->streams = json_is_integer(streams) ? (unsigned)json_integer_value(streams) : 1;
    get_str(r, o, "close", buf, sizeof(buf));
    if (px_close_parse(buf, &cfg->close) < 0)
        cfg->close = PX_CLOSE_CLIENT;
    const json_t *rpc = json_object_get(o, "requests_per_conn");
    cfg->requests_per_conn = json_is_integer(rpc) ? (unsigned)json_integer_value(rpc) : 0;
    cfg->rate_per_s = get_f64(r, o, "rate_per_s", 0);
    cfg->connections = (unsigned)get_u64(r, o, "connections");
    cfg->threads = (unsigned)get_u64(r, o, "threads");
    cfg->duration_ms = ms_of(get_f64(r, o, "duration_s", 0));
    cfg->requests = (uint64_t)get_i64(r, o, "requests", 0);
    get_str(r, o, "method", buf, sizeof(buf));
    cfg->method = intern_method(buf);
    /* Added after format 1: a document from before it resent as the default does. */
    cfg->no_retry = json_object_get(o, "no_retry") ? get_bool(r, o, "no_retry") : 0;
    cfg->connect_timeout_ms = ms_of(get_f64(r, o, "connect_timeout_s", 0));
    cfg->timeout_ms = ms_of(get_f64(r, o, "timeout_s", 0));
    cfg->interval_ms = ms_of(get_f64(r, o, "interval_s", 0));
    char target[PX_URL_UNIX_MAX + 8];
    get_str(r, o, "target", target, sizeof(target));
    char e[128];
    if (!r->failed && px_url_parse(cfg->url_text, &cfg->url, e, sizeof(e)) < 0)
        fail(r, "url", e);
    /* --unix: the URL names Host and path, the socket is the target. */
    int is_unix = strncmp(target, "unix:", 5) == 0;
    if (!r->failed && is_unix &&
        (px_url_set_unix(&cfg->url, target + 5, e, sizeof(e)) < 0 ||
         px_unix_addr(target + 5, &cfg->target, &cfg->target_len, e, sizeof(e)) < 0))
        fail(r, "target", e);
    if (!r->failed && is_unix)
        cfg->unix_path = cfg->url.unix_path;
    if (!r->failed && !is_unix &&
        px_addr_parse(target, &cfg->target, &cfg->target_len, e, sizeof(e)) < 0)
        fail(r, "target", e);
    read_addrs(r, o, cfg);
    read_tls_config(json_object_get(o, "tls"), cfg);
    const json_t *pr = json_object_get(o, "port_range");
    int lo, hi;
    if (json_is_array(pr) && json_unpack((json_t *)pr, "[ii]", &lo, &hi) == 0) {
        cfg->port_lo = (uint16_t)lo;
        cfg->port_hi = (uint16_t)hi;
    } else if (!json_is_null(pr)) {
        fail(r, "port_range", "missing or not null or [lo, hi]");
    }
    read_sources(r, o, cfg);
    const json_t *tp = json_object_get(o, "target_ports"); /* absent: one port */
    if (tp != NULL &&
        (!json_is_integer(tp) || json_integer_value(tp) < 1 || json_integer_value(tp) > 65535))
        fail(r, "target_ports", "not a port count (1-65535)");
    cfg->target_ports = json_is_integer(tp) ? (unsigned)json_integer_value(tp) : 0;
    cfg->bind_first = json_is_true(json_object_get(o, "bind_first"));
    if (!r->failed && cfg->method == NULL)
        fail(r, "method", "not a method portex sends");
}

static int64_t sysctl_get(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Integers may be missing (the kernel lacked them); texts and ranges must be there. */
static void read_sysctl(struct rd *r, const json_t *o, const struct px_sysctl *s,
                        struct px_env *env)
{
    if (s->kind == PX_SYSCTL_INT) {
        px_sysctls_set_int(env, s, sysctl_get(o, s->name));
        return;
    }
    char text[PX_SYSCTL_TEXT_MAX];
    get_str(r, o, s->name, text, s->size);
    /* Only a range can be malformed. */
    if (!r->failed && px_sysctls_set_text(env, s, text) < 0)
        fail(r, s->name, "expected \"LO HI\"");
}

static void read_environment(struct rd *r, const json_t *doc, struct px_env *env)
{
    const json_t *o = get_obj(r, doc, "environment");
    if (o == NULL)
        return;
    r->where = "environment";
    get_str(r, o, "kernel", env->kernel, sizeof(env->kernel));
    if (sscanf(env->kernel, "%d.%d", &env->kernel_major, &env->kernel_minor) != 2)
        env->kernel_major = env->kernel_minor = 0;
    env->cpus = (long)get_i64(r, o, "cpus", 0);
    const json_t *nf = get_obj(r, o, "nofile");
    const json_t *s = get_obj(r, o, "sysctl");
    if (nf == NULL || s == NULL)
        return;
    env->nofile_soft = (uint64_t)get_i64(r, nf, "soft", 0);
    env->nofile_hard = (uint64_t)get_i64(r, nf, "hard", 0);
    r->where = "environment.sysctl";
    for (size_t i = 0; i < PX_SYSCTL_COUNT; i++)
        if (px_sysctls[i].users & PX_SYSCTL_ENV)
            read_sysctl(r, s, &px_sysctls[i], env);
}

/* [[index, count], ...] into add(idx, count); checks indexes and returns the sum. */
static uint64_t read_buckets(struct rd *r, const json_t *a, const char *key,
                             int (*add)(void *, uint32_t, uint64_t), void *arg)
{
    size_t i;
    const json_t *pair;
    uint64_t sum = 0;
    json_array_foreach(a, i, pair)
    {
        const json_t *vi = json_array_get(pair, 0), *vn = json_array_get(pair, 1);
        json_int_t idx = json_integer_value(vi), n = json_integer_value(vn);
        if (json_array_size(pair) != 2 || !json_is_integer(vi) || !json_is_integer(vn) || idx < 0 ||
            idx >= PX_HIST_BUCKETS || n < 0) {
            fail(r, key, "expected [[index, count], ...] with 0 <= index < buckets");
            return 0;
        }
        if (add(arg, (uint32_t)idx, (uint64_t)n) < 0) {
            fail(r, key, "out of memory");
            return 0;
        }
        sum += (uint64_t)n;
    }
    return sum;
}

static int hist_add(void *arg, uint32_t idx, uint64_t n)
{
    ((struct px_hist *)arg)->buckets[idx] += n;
    return 0;
}

static void read_hist(struct rd *r, const json_t *o, const char *key, struct px_hist *h)
{
    px_hist_init(h);
    const json_t *v = get_obj(r, o, key);
    if (v == NULL)
        return;
    h->count = get_u64(r, v, "count");
    h->sum_us = get_u64(r, v, "sum_us");
    h->min_us = (uint64_t)get_i64(r, v, "min_us", -1);
    h->max_us = (uint64_t)get_i64(r, v, "max_us", 0);
    const json_t *a = get_arr(r, v, "buckets");
    if (a != NULL && read_buckets(r, a, key, hist_add, h) != h->count && !r->failed)
        fail(r, key, "bucket counts do not add up to count");
}

static int row_add(void *arg, uint32_t idx, uint64_t n)
{
    struct px_series *s = arg;
    if (px_series_bucket_push(s, idx, n) < 0)
        return -1;
    s->rows[s->count - 1].hist_len++;
    return 0;
}

static void read_row(struct rd *r, const json_t *o, struct px_series *s)
{
    struct px_series_row row;
    memset(&row, 0, sizeof(row));
    row.t = get_f64(r, o, "t", 0);
    row.started = get_u64(r, o, "started");
    row.ok = get_u64(r, o, "ok");
    row.failed = get_u64(r, o, "failed");
    row.eaddrnotavail = get_u64(r, o, "eaddrnotavail");
    row.other_errors = get_u64(r, o, "other_errors");
    row.connections_opened = get_u64(r, o, "connections_opened");
    row.in_flight = get_u64(r, o, "in_flight");
    row.time_wait = get_i64(r, o, "time_wait", -1);
    row.time_wait_all = get_i64(r, o, "time_wait_all", -1);
    row.tw_recycled = get_u64(r, o, "tw_recycled");
    row.tw_overflow = get_u64(r, o, "tw_overflow");
    row.p50_us = get_u64(r, o, "p50_us");
    row.p99_us = get_u64(r, o, "p99_us");
    row.drain = get_bool(r, o, "drain");
    /* Added after format 1: a row from before it reads 0. */
    row.retries = json_object_get(o, "retries") ? get_u64(r, o, "retries") : 0;
    if (json_object_get(o, "tls_full")) { /* https results only */
        s->tls = 1;
        row.tls_full = get_u64(r, o, "tls_full");
        row.tls_resumed = get_u64(r, o, "tls_resumed");
        row.tls_p50_us = get_u64(r, o, "tls_p50_us");
    }
    if (r->failed || px_series_push(s, &row) < 0) {
        fail(r, "series", "a row could not be read");
        return;
    }
    struct px_series_row *last = &s->rows[s->count - 1];
    last->hist_count = get_u64(r, o, "hist_count");
    last->hist_sum_us = get_u64(r, o, "hist_sum_us");
    last->hist_min_us = get_u64(r, o, "hist_min_us");
    last->hist_max_us = get_u64(r, o, "hist_max_us");
    const json_t *a = get_arr(r, o, "hist");
    uint64_t count = last->hist_count;
    if (a != NULL && read_buckets(r, a, "hist", row_add, s) != count && !r->failed)
        fail(r, "hist", "bucket counts do not add up to hist_count");
}

static void read_series(struct rd *r, const json_t *doc, struct px_series *s)
{
    const json_t *a = get_arr(r, doc, "series");
    size_t i;
    const json_t *row;
    r->where = "series";
    json_array_foreach(a, i, row)
    {
        if (!json_is_object(row)) {
            fail(r, "series", "a row is not an object");
            return;
        }
        read_row(r, row, s);
        if (r->failed)
            return;
    }
}

static void read_totals(struct rd *r, const json_t *o, struct px_totals *t)
{
    r->where = "result.totals";
    int https = -1; /* https results only: the group is there when its first key is */
#define GET_COUNTER(name, kind, meaning)                                                           \
    if ((kind) == PX_COUNTER_HTTPS && https < 0)                                                   \
        https = json_object_get(o, #name) != NULL;                                                 \
    if ((kind) == PX_COUNTER_BASE || ((kind) == PX_COUNTER_HTTPS && https > 0) ||                  \
        ((kind) == PX_COUNTER_ADDED && json_object_get(o, #name) != NULL))                         \
        t->name = get_u64(r, o, #name);
    PX_TOTALS(GET_COUNTER)
#undef GET_COUNTER
    const json_t *st = get_obj(r, o, "status");
    const json_t *c = get_obj(r, o, "causes");
    if (st == NULL || c == NULL)
        return;
    static const char *const cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 1; i <= 5; i++)
        t->status[i] = get_u64(r, st, cls[i - 1]);
    const char *name;
    const json_t *v;
    uint64_t sum = 0;
    json_object_foreach((json_t *)c, name, v)
    {
        int cause = 0;
        while (cause < PX_CAUSE_COUNT && strcmp(px_cause_name(cause), name) != 0)
            cause++;
        if (cause == PX_CAUSE_COUNT) {
            fail(r, name, "not a failure cause portex knows");
            return;
        }
        t->cause[cause] = get_u64(r, c, name);
        sum += t->cause[cause];
    }
    if (!r->failed && sum != t->failed)
        fail(r, "causes", "do not add up to failed");
}

static void read_exhaustion(struct rd *r, const json_t *o, struct px_exhaustion *ex)
{
    r->where = "result.exhaustion";
    ex->time_wait_peak = get_i64(r, o, "time_wait_peak", -1);
    ex->time_wait_at_start = get_i64(r, o, "time_wait_at_start", -1);
    ex->seen = get_bool(r, o, "seen");
    ex->first_s = get_f64(r, o, "first_s", 0);
    ex->ok_before = get_u64(r, o, "ok_before");
    ex->usable_ports = get_u64(r, o, "usable_ports");
    /* Results written before portex counted bound ports lack both: unknown. */
    ex->bound_ports = json_object_get(o, "bound_ports") ? get_i64(r, o, "bound_ports", -1) : -1;
    ex->bound_listening =
        json_object_get(o, "bound_listening") ? get_i64(r, o, "bound_listening", -1) : -1;
    ex->open_ports = json_object_get(o, "open_ports") ? get_i64(r, o, "open_ports", -1) : -1;
    ex->port_lo = (unsigned)get_u64(r, o, "port_lo");
    ex->port_hi = (unsigned)get_u64(r, o, "port_hi");
    ex->timestamps = (int)get_i64(r, o, "timestamps", -1);
    ex->loopback = get_bool(r, o, "loopback");
    const json_t *c = get_obj(r, o, "ceiling");
    if (c == NULL)
        return;
    r->where = "result.exhaustion.ceiling";
    ex->ceiling.per_s = get_f64(r, c, "per_s", INFINITY);
    ex->ceiling.burst = get_f64(r, c, "burst", INFINITY);
    ex->ceiling.hold_s = get_f64(r, c, "hold_s", INFINITY);
    ex->ceiling.port_bound = get_bool(r, c, "port_bound");
    ex->ceiling.reuse_applies = get_bool(r, c, "reuse_applies");
    get_str(r, c, "formula", ex->ceiling.formula, sizeof(ex->ceiling.formula));
}

/* Results are only comparable bucket by bucket under the same layout. */
static void check_layout(struct rd *r, const json_t *o)
{
    r->where = "result";
    int64_t format = get_i64(r, o, "format", -1);
    if (!r->failed && format != PX_RESULT_FORMAT) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%lld, expected %d (written by another portex version)",
                 (long long)format, PX_RESULT_FORMAT);
        {
            fail(r, "format", msg);
            return;
        }
    }
    const json_t *l = get_obj(r, o, "hist_layout");
    if (l == NULL)
        return;
    r->where = "result.hist_layout";
    if (get_u64(r, l, "sub_bits") != PX_HIST_SUB_BITS ||
        get_u64(r, l, "max_us") != PX_HIST_MAX_US || get_u64(r, l, "buckets") != PX_HIST_BUCKETS)
        fail(r, "layout",
             "differs from this portex's histograms (sub_bits 8, max_us 60000000, "
             "buckets 2560)");
}

static void read_result(struct rd *r, const json_t *doc, struct px_load *cfg, struct px_run *run)
{
    r->where = "";
    const json_t *o = get_obj(r, doc, "result");
    if (o == NULL)
        return;
    check_layout(r, o);
    if (r->failed)
        return;
    r->where = "result";
    run->t0_unix_ns = get_i64(r, o, "t0_unix_ns", 0);
    cfg->shard = (unsigned)get_i64(r, o, "shard", 0);
    cfg->shards = (unsigned)get_i64(r, o, "shards", 0);
    if (!r->failed && cfg->shards && cfg->shard >= cfg->shards)
        fail(r, "shard", "not below shards");
    get_str(r, o, "host", run->host, sizeof(run->host));
    /* hosts > 1: a merged result; one host's reads as a plain run (0). */
    run->hosts = (unsigned)get_u64(r, o, "hosts");
    if (run->hosts == 1)
        run->hosts = 0;
    run->interrupted = get_bool(r, o, "interrupted");
    run->duration_s = get_f64(r, o, "duration_s", 0);
    run->drain_s = get_f64(r, o, "drain_s", 0);
    const json_t *t = get_obj(r, o, "totals");
    const json_t *lat = get_obj(r, o, "latency");
    const json_t *ex = get_obj(r, o, "exhaustion");
    if (r->failed)
        return;
    read_totals(r, t, &run->totals);
    r->where = "result.latency";
    read_hist(r, lat, "connect", &run->lat.connect);
    read_hist(r, lat, "ttfb", &run->lat.ttfb);
    read_hist(r, lat, "total", &run->lat.total);
    if (json_object_get(lat, "tls")) /* https results only; else left zeroed */
        read_hist(r, lat, "tls", &run->lat.tls);
    if (json_object_get(lat, "connect_call")) /* absent before it was measured: zeroed */
        read_hist(r, lat, "connect_call", &run->lat.connect_call);
    const char *v = json_string_value(json_object_get(o, "tls_version"));
    snprintf(run->tls.version, sizeof(run->tls.version), "%s", v ? v : "");
    read_exhaustion(r, ex, &run->ex);
}

struct px_run *px_result_decode(const json_t *doc, char *err, size_t errlen)
{
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "not a JSON object");
        return NULL;
    }
    struct px_load defaults;
    px_load_defaults(&defaults);
    struct px_run *run = px_run_new(&defaults);
    if (run == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct px_load *cfg = run->load;
    struct rd r = {.where = "", .err = err, .errlen = errlen};
    read_result(&r, doc, cfg, run);
    r.where = "";
    if (!r.failed)
        read_config(&r, doc, cfg);
    r.where = "";
    if (!r.failed)
        read_environment(&r, doc, &run->env);
    r.where = "";
    if (!r.failed)
        read_series(&r, doc, &run->series);
    if (r.failed) {
        px_run_free(run);
        return NULL;
    }
    return run;
}

struct px_run *px_result_decode_text(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, 0, &je);
    if (doc == NULL) {
        snprintf(err, errlen, "not valid JSON: %s (line %d)", je.text, je.line);
        return NULL;
    }
    struct px_run *run = px_result_decode(doc, err, errlen);
    json_decref(doc);
    return run;
}

struct px_run *px_result_decode_file(const char *path, char *err, size_t errlen)
{
    /* jansson reads both as a document without its '{': say what they are. */
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot read %s: it is a directory", path);
        return NULL;
    }
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        snprintf(err, errlen, "%s: empty file, expected the JSON of portex run --json", path);
        return NULL;
    }
    json_error_t je;
    json_t *doc = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(path, 0, &je);
    if (doc == NULL) {
        if (je.line < 0 || strstr(je.text, "unable to open") != NULL)
            snprintf(err, errlen, "cannot read %s: %s", path, je.text);
        else
            snprintf(err, errlen, "%s: not valid JSON: %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    char msg[256];
    struct px_run *run = px_result_decode(doc, msg, sizeof(msg));
    if (run == NULL)
        snprintf(err, errlen, "%s: %s", path, msg);
    json_decref(doc);
    return run;
}
