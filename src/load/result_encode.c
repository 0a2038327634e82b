/* SPDX-License-Identifier: MIT */
/* The mergeable result format, written: a run as jansson trees (result_decode.c reads it back). */
#include "portex/load/result_encode.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/load/load.h"
#include "portex/base/outcome.h"
#include "portex/base/url.h"
#include "portex/kernel/sysctls.h"
#include "portex/load/hist.h"
#include "portex/load/result.h"
#include "portex/load/stats.h"
#include "portex/load/tls.h"

json_t *px_ju64(uint64_t v)
{
    return json_integer((json_int_t)v);
}

json_t *px_jf64(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

void px_jset(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v ? v : json_null());
}

json_t *px_result_encode_addrs(const struct px_url_addr *a, size_t n)
{
    if (n == 0)
        return json_null();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char where[PX_URL_UNIX_MAX + 16];
        px_sockaddr_str((const struct sockaddr *)&a[i].ss, where, sizeof(where));
        json_array_append_new(
            arr, json_pack("{s:s,s:s}", "address", where, "probe", px_addr_probe_name(a[i].probe)));
    }
    return arr;
}

json_t *px_result_encode_config(const struct px_load *cfg)
{
    json_t *o = json_object();
    px_jset(o, "url", json_string(cfg->url_text));
    px_jset(o, "mode", json_string(px_load_mode_name(cfg)));
    px_jset(o, "protocol", json_string(px_load_protocol(cfg)));
    px_jset(o, "streams", cfg->http2 ? px_ju64(px_load_conn_streams(cfg)) : NULL);
    /* With N requests per connection the close policy applies after the Nth. */
    px_jset(o, "close",
            cfg->keepalive && !cfg->requests_per_conn ? json_null()
                                                      : json_string(px_close_name(cfg->close)));
    px_jset(o, "requests_per_conn",
            cfg->keepalive && cfg->requests_per_conn ? px_ju64(cfg->requests_per_conn) : NULL);
    px_jset(o, "rate_per_s", cfg->rate_per_s > 0 ? px_jf64(cfg->rate_per_s) : json_null());
    px_jset(o, "connections", px_ju64(cfg->connections));
    px_jset(o, "threads", px_ju64(cfg->threads));
    px_jset(o, "duration_s", cfg->duration_ms ? px_jf64((double)cfg->duration_ms / 1000.0) : NULL);
    px_jset(o, "requests", cfg->requests ? px_ju64(cfg->requests) : NULL);
    px_jset(o, "method", jstr(cfg->method));
    px_jset(o, "no_retry", json_boolean(cfg->no_retry));
    px_jset(o, "connect_timeout_s", px_jf64((double)cfg->connect_timeout_ms / 1000.0));
    px_jset(o, "timeout_s", px_jf64((double)cfg->timeout_ms / 1000.0));
    px_jset(o, "interval_s", px_jf64((double)cfg->interval_ms / 1000.0));
    char buf[PX_URL_UNIX_MAX + 16]; /* "unix:" and a socket path, or IP:PORT */
    px_sockaddr_str((const struct sockaddr *)&cfg->target, buf, sizeof(buf));
    px_jset(o, "target", json_string(buf));
    px_jset(o, "family", jstr(px_family_name(cfg->family)));
    px_jset(o, "resolved", px_result_encode_addrs(cfg->addrs, cfg->naddrs));
    px_jset(o, "port_range", cfg->port_lo ? json_pack("[ii]", cfg->port_lo, cfg->port_hi) : NULL);
    json_t *src = json_array();
    for (size_t i = 0; i < cfg->nsources; i++) {
        px_sockaddr_ip((const struct sockaddr *)&cfg->sources[i], buf, sizeof(buf));
        json_array_append_new(src, json_string(buf));
    }
    px_jset(o, "sources", src);
    /* Written only when set, so that the documents of every other load keep their bytes. */
    if (cfg->target_ports > 1)
        px_jset(o, "target_ports", px_ju64(cfg->target_ports));
    if (cfg->bind_first)
        px_jset(o, "bind_first", json_true());
    if (cfg->url.tls)
        px_jset(o, "tls",
                json_pack("{s:b,s:o,s:o,s:s}", "insecure", cfg->tls_insecure, "cacert",
                          jstr(cfg->tls_cacert), "version",
                          jstr(cfg->tls_version == 12   ? "1.2"
                               : cfg->tls_version == 13 ? "1.3"
                                                        : NULL),
                          "resume", px_tls_resume_name(cfg->tls_resume)));
    return o;
}

/* A sysctl this kernel lacks (-1) is left out rather than written as a fake
 * value; read back, a missing key is -1 again. */
static void sysctl_set(json_t *o, const struct px_sysctl *s, const struct px_env *env)
{
    if (s->kind == PX_SYSCTL_INT) {
        int64_t v = px_sysctls_get_int(env, s);
        if (v >= 0)
            px_jset(o, s->name, json_integer(v));
        return;
    }
    char text[PX_SYSCTL_TEXT_MAX];
    px_sysctls_get_text(env, s, text, sizeof(text));
    px_jset(o, s->name, json_string(text));
}

json_t *px_result_encode_sysctl(const struct px_env *env)
{
    json_t *o = json_object();
    for (size_t i = 0; i < PX_SYSCTL_COUNT; i++)
        if (px_sysctls[i].users & PX_SYSCTL_ENV)
            sysctl_set(o, &px_sysctls[i], env);
    return o;
}

json_t *px_result_encode_environment(const struct px_env *env)
{
    json_t *o = json_object();
    px_jset(o, "kernel", json_string(env->kernel));
    px_jset(o, "sysctl", px_result_encode_sysctl(env));
    px_jset(o, "nofile",
            json_pack("{s:I,s:I}", "soft", (json_int_t)env->nofile_soft, "hard",
                      (json_int_t)env->nofile_hard));
    px_jset(o, "cpus", json_integer(env->cpus));
    return o;
}

/* [index, count], built directly: json_pack parses its format on every call. */
static json_t *bucket_pair(uint32_t idx, uint64_t count)
{
    json_t *p = json_array();
    json_array_append_new(p, json_integer(idx));
    json_array_append_new(p, json_integer((json_int_t)count));
    return p;
}

static json_t *buckets_json(const struct px_series_bucket *b, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, bucket_pair(b[i].idx, b[i].count));
    return a;
}

static json_t *row_json(const struct px_series *s, const struct px_series_row *r)
{
    json_t *o = json_object();
    px_jset(o, "t", px_jf64(round(r->t * 1000) / 1000));
    px_jset(o, "started", px_ju64(r->started));
    px_jset(o, "ok", px_ju64(r->ok));
    px_jset(o, "failed", px_ju64(r->failed));
    px_jset(o, "eaddrnotavail", px_ju64(r->eaddrnotavail));
    px_jset(o, "other_errors", px_ju64(r->other_errors));
    px_jset(o, "connections_opened", px_ju64(r->connections_opened));
    px_jset(o, "in_flight", px_ju64(r->in_flight));
    px_jset(o, "time_wait", json_integer(r->time_wait));
    px_jset(o, "time_wait_all", json_integer(r->time_wait_all));
    px_jset(o, "tw_recycled", px_ju64(r->tw_recycled));
    px_jset(o, "tw_overflow", px_ju64(r->tw_overflow));
    px_jset(o, "p50_us", px_ju64(r->p50_us));
    px_jset(o, "p99_us", px_ju64(r->p99_us));
    px_jset(o, "drain", json_boolean(r->drain));
    px_jset(o, "retries", px_ju64(r->retries));
    px_jset(o, "hist_count", px_ju64(r->hist_count));
    px_jset(o, "hist_sum_us", px_ju64(r->hist_sum_us));
    px_jset(o, "hist_min_us", px_ju64(r->hist_min_us));
    px_jset(o, "hist_max_us", px_ju64(r->hist_max_us));
    /* A row pushed without a histogram may sit on no bucket array at all. */
    px_jset(o, "hist", buckets_json(r->hist_len ? s->buckets + r->hist_off : NULL, r->hist_len));
    if (s->tls) {
        px_jset(o, "tls_full", px_ju64(r->tls_full));
        px_jset(o, "tls_resumed", px_ju64(r->tls_resumed));
        px_jset(o, "tls_p50_us", px_ju64(r->tls_p50_us));
    }
    return o;
}

json_t *px_result_encode_series(const struct px_series *series)
{
    json_t *a = json_array();
    for (size_t i = 0; i < series->count; i++)
        json_array_append_new(a, row_json(series, &series->rows[i]));
    return a;
}

json_t *px_result_encode_hist(const struct px_hist *h)
{
    json_t *o = json_object();
    px_jset(o, "count", px_ju64(h->count));
    px_jset(o, "sum_us", px_ju64(h->sum_us));
    px_jset(o, "min_us", h->count ? px_ju64(h->min_us) : json_null());
    px_jset(o, "max_us", h->count ? px_ju64(h->max_us) : json_null());
    json_t *a = json_array();
    for (unsigned i = 0; i < PX_HIST_BUCKETS; i++)
        if (h->buckets[i])
            json_array_append_new(a, bucket_pair(i, h->buckets[i]));
    px_jset(o, "buckets", a);
    return o;
}

static json_t *totals_json(const struct px_totals *t)
{
    json_t *o = json_object();
    int https = 0; /* some https counter moved: write that group too */
#define PUT_COUNTER(name, kind, meaning)                                                           \
    if ((kind) != PX_COUNTER_HTTPS)                                                                \
        px_jset(o, #name, px_ju64(t->name));                                                       \
    else                                                                                           \
        https |= t->name != 0;
    PX_TOTALS(PUT_COUNTER)
#undef PUT_COUNTER
#define PUT_HTTPS_COUNTER(name, kind, meaning)                                                     \
    if ((kind) == PX_COUNTER_HTTPS && https)                                                       \
        px_jset(o, #name, px_ju64(t->name));
    PX_TOTALS(PUT_HTTPS_COUNTER)
#undef PUT_HTTPS_COUNTER
    json_t *st = json_object();
    static const char *const cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 1; i <= 5; i++)
        px_jset(st, cls[i - 1], px_ju64(t->status[i]));
    px_jset(o, "status", st);
    json_t *c = json_object();
    for (int i = 0; i < PX_CAUSE_COUNT; i++)
        if (t->cause[i])
            px_jset(c, px_cause_name(i), px_ju64(t->cause[i]));
    px_jset(o, "causes", c);
    return o;
}

/* Infinity (no ceiling from ports) is written as null and read back as infinity. */
static json_t *ceiling_json(const struct px_ceiling *c)
{
    json_t *o = json_object();
    px_jset(o, "per_s", px_jf64(c->per_s));
    px_jset(o, "burst", px_jf64(c->burst));
    px_jset(o, "hold_s", px_jf64(c->hold_s));
    px_jset(o, "port_bound", json_boolean(c->port_bound));
    px_jset(o, "reuse_applies", json_boolean(c->reuse_applies));
    px_jset(o, "formula", json_string(c->formula));
    return o;
}

static json_t *exhaustion_json(const struct px_exhaustion *ex)
{
    json_t *o = json_object();
    px_jset(o, "time_wait_peak", json_integer(ex->time_wait_peak));
    px_jset(o, "time_wait_at_start", json_integer(ex->time_wait_at_start));
    px_jset(o, "seen", json_boolean(ex->seen));
    px_jset(o, "first_s", px_jf64(ex->first_s));
    px_jset(o, "ok_before", px_ju64(ex->ok_before));
    px_jset(o, "usable_ports", px_ju64(ex->usable_ports));
    px_jset(o, "bound_ports", json_integer(ex->bound_ports));
    px_jset(o, "bound_listening", json_integer(ex->bound_listening));
    px_jset(o, "open_ports", json_integer(ex->open_ports));
    px_jset(o, "port_lo", px_ju64(ex->port_lo));
    px_jset(o, "port_hi", px_ju64(ex->port_hi));
    px_jset(o, "timestamps", json_integer(ex->timestamps));
    px_jset(o, "loopback", json_boolean(ex->loopback));
    px_jset(o, "ceiling", ceiling_json(&ex->ceiling));
    return o;
}

json_t *px_result_encode_data(const struct px_run *run)
{
    const struct px_load *cfg = run->load;
    json_t *o = json_object();
    px_jset(o, "format", json_integer(PX_RESULT_FORMAT));
    px_jset(o, "hist_layout",
            json_pack("{s:i,s:I,s:i}", "sub_bits", PX_HIST_SUB_BITS, "max_us",
                      (json_int_t)PX_HIST_MAX_US, "buckets", PX_HIST_BUCKETS));
    px_jset(o, "t0_unix_ns", json_integer(run->t0_unix_ns));
    /* A merged result is no longer one shard. */
    int shard = cfg->shards && run->hosts <= 1;
    px_jset(o, "shard", shard ? json_integer(cfg->shard) : NULL);
    px_jset(o, "shards", shard ? json_integer(cfg->shards) : NULL);
    px_jset(o, "host", json_string(run->host));
    px_jset(o, "hosts", json_integer(run->hosts ? run->hosts : 1));
    px_jset(o, "interrupted", json_boolean(run->interrupted));
    px_jset(o, "duration_s", px_jf64(run->duration_s));
    px_jset(o, "drain_s", px_jf64(run->drain_s));
    px_jset(o, "totals", totals_json(&run->totals));
    json_t *lat = json_object();
    px_jset(lat, "connect", px_result_encode_hist(&run->lat.connect));
    px_jset(lat, "ttfb", px_result_encode_hist(&run->lat.ttfb));
    px_jset(lat, "total", px_result_encode_hist(&run->lat.total));
    px_jset(lat, "connect_call", px_result_encode_hist(&run->lat.connect_call));
    if (cfg->url.tls) {
        px_jset(lat, "tls", px_result_encode_hist(&run->lat.tls));
        px_jset(o, "tls_version", json_string(run->tls.version));
    }
    px_jset(o, "latency", lat);
    px_jset(o, "exhaustion", exhaustion_json(&run->ex));
    return o;
}
