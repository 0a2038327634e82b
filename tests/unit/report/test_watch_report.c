/* SPDX-License-Identifier: MIT */
/* Unit tests of portex watch's reports: the live frame stays inside the screen, the
 * verdict, the plain lines and the JSON document, from a watch fed records made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/kernel/channels.h"
#include "portex/kernel/netlink.h"
#include "portex/kernel/trace.h"
#include "portex/load/procs.h"
#include "portex/load/watch.h"
#include "portex/report/watch_report.h"

/* A client-side TIME_WAIT socket 127.0.0.1:(40000 + i) -> 127.0.0.1:dport. */
static struct px_diag_sock tw_sock(int i, uint16_t dport, uint32_t expires_ms)
{
    struct px_diag_sock s = {.family = AF_INET,
                             .state = TCP_TIME_WAIT,
                             .sport = (uint16_t)(40000 + i),
                             .dport = dport,
                             .expires_ms = expires_ms};
    inet_pton(AF_INET, "127.0.0.1", &s.src[0]);
    inet_pton(AF_INET, "127.0.0.1", &s.dst[0]);
    return s;
}

/* A watch whose namespace has 100 ports and no reuse, and whose last tick saw n TIME_WAIT
 * sockets toward 127.0.0.1:8080 and, when failures, that many EADDRNOTAVAIL of pid 4242. */
static struct px_watch *fed_watch(int n, int failures)
{
    struct px_watch_config cfg = {.interval_ms = 1000, .proc = "/proc"};
    char err[256];
    struct px_watch *w = px_watch_new(&cfg, err, sizeof(err));
    assert_non_null(w);
    struct px_channel_rules r = {
        .port_lo = 40000, .port_hi = 40099, .tw_reuse = 0, .timestamps = 1, .kernel_major = 6};
    px_channels_set_rules(w->channels, &r);
    struct px_diag_sock s[100];
    for (int i = 0; i < n; i++)
        s[i] = tw_sock(i, 8080, 50000);
    px_channels_sum(w->channels, s, (size_t)n, 1000, 0);
    for (int i = 0; i < failures; i++) {
        struct px_trace_event ev = {.kind = PX_TRACE_EADDRNOTAVAIL, .pid = 4242, .time_ns = 10};
        px_procs_event(&ev, w->procs);
    }
    px_procs_end_tick(w->procs);
    w->ticks = w->last.n = 3;
    w->last.sockets = (size_t)n;
    return w;
}

/* Every line of the frame fits the columns, and the frame fits the rows less one. */
static void px_watch_report_frame__fits_the_screen(void **state)
{
    (void)state;
    struct px_watch *w = fed_watch(100, 3);
    static char buf[65536];
    size_t n = px_watch_report_frame(buf, sizeof(buf), w, 8, 30);
    assert_int_equal(strlen(buf), n);
    assert_memory_equal(buf, "\033[H", 3);
    assert_string_equal(buf + n - 3, "\033[J");
    int lines = 0;
    for (char *p = buf + 3, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1, lines++) {
        size_t len = (size_t)(nl - p);
        assert_true(len >= 3 && memcmp(nl - 3, "\033[K", 3) == 0);
        assert_true(len - 3 <= 30);
    }
    assert_int_equal(lines, 7);
    px_watch_free(w);
}

/* The first line says what the person on call needs first. */
static void px_watch_report_frame__verdicts(void **state)
{
    (void)state;
    static char buf[65536];
    struct px_watch *w = fed_watch(100, 5);
    px_watch_report_frame(buf, sizeof(buf), w, 40, 200);
    assert_non_null(strstr(buf, "EXHAUSTED: 127.0.0.1 -> 127.0.0.1:8080 has all 100 usable ports"));
    assert_non_null(strstr(buf, "5 EADDRNOTAVAIL in the last tick"));
    assert_non_null(strstr(buf, "no processes: tracing is off (not asked for)"));
    px_watch_free(w);
    w = fed_watch(40, 0);
    px_watch_report_frame(buf, sizeof(buf), w, 40, 200);
    assert_non_null(strstr(buf, "ok: fullest channel 40% of 100 usable ports"));
    assert_non_null(strstr(buf, "40/100"));
    px_watch_free(w);
}

/* A channel less full but filling names the verdict: 60 old TIME_WAIT toward :8080 take
 * no new port, 20 entered this tick toward :8081 (20/s) leave it 80 ports, 4 s. */
static void px_watch_report_frame__filling_names_the_soonest(void **state)
{
    (void)state;
    static char buf[65536];
    struct px_watch *w = fed_watch(0, 0);
    struct px_diag_sock s[80];
    for (int i = 0; i < 80; i++)
        s[i] = i < 60 ? tw_sock(i, 8080, 50000) : tw_sock(i, 8081, 59500);
    px_channels_sum(w->channels, s, 80, 1000, 0);
    px_watch_report_frame(buf, sizeof(buf), w, 40, 200);
    assert_non_null(strstr(buf, "filling: 127.0.0.1 -> 127.0.0.1:8081 full in 4s at 20 new/s"));
    px_watch_free(w);
}

static void px_watch_report_lines__key_values(void **state)
{
    (void)state;
    struct px_watch *w = fed_watch(100, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    px_watch_report_lines(f, w);
    fclose(f);
    assert_non_null(strstr(text, "tick=3 "));
    assert_non_null(strstr(text, "channel tick=3 source=127.0.0.1 destination=127.0.0.1:8080 "
                                 "usable=100 in_use=100 established=0 syn_sent=0 time_wait=100"));
    assert_non_null(strstr(text, "exhausted_in_s=0.0 hold_s=60 owner_pid=0 owner=-\n"));
    free(text);
    px_watch_free(w);
}

static void px_watch_report_json__document(void **state)
{
    (void)state;
    struct px_watch *w = fed_watch(100, 2);
    /* a kernel before 6.14: no tcp_tw_reuse_delay, written as null */
    w->env.tw_reuse = 2;
    w->env.tw_reuse_delay_ms = -1;
    w->env.timestamps = 1;
    w->env.max_tw_buckets = 4096;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    px_watch_report_json(f, w);
    fclose(f);
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    assert_non_null(doc);
    json_t *c = json_array_get(json_object_get(doc, "channels"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "source")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(c, "destination")), "127.0.0.1:8080");
    assert_int_equal(json_integer_value(json_object_get(c, "usable_ports")), 100);
    json_t *peak = json_object_get(c, "peak");
    assert_int_equal(json_integer_value(json_object_get(peak, "time_wait")), 100);
    assert_int_equal(json_integer_value(json_object_get(peak, "in_use")), 100);
    assert_true(json_is_integer(json_object_get(peak, "established")));
    assert_true(json_is_integer(json_object_get(peak, "syn_sent")));
    assert_true(json_number_value(json_object_get(c, "exhausted_in_s")) == 0);
    assert_true(json_is_number(json_object_get(c, "new_per_s")));
    json_t *p = json_array_get(json_object_get(doc, "processes"), 0);
    assert_int_equal(json_integer_value(json_object_get(p, "pid")), 4242);
    assert_int_equal(json_integer_value(json_object_get(p, "eaddrnotavail")), 2);
    assert_true(json_is_null(json_object_get(p, "connect_call_us")));
    assert_int_equal(json_integer_value(json_object_get(doc, "ticks")), 3);
    /* the namespace's sysctls, keyed and ordered by the one table (kernel/sysctls.c) */
    json_t *ns = json_object_get(doc, "namespace");
    const char *keys[] = {"port_range",   "reserved_in_range",     "bound_in_range",
                          "usable_ports", "tcp_tw_reuse",          "tcp_tw_reuse_delay_ms",
                          "tcp_timestamps", "tcp_max_tw_buckets"};
    assert_int_equal(json_object_size(ns), sizeof(keys) / sizeof(keys[0]));
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(ns, key, v) assert_string_equal(key, keys[k++]);
    assert_int_equal(json_integer_value(json_object_get(ns, "tcp_tw_reuse")), 2);
    assert_true(json_is_null(json_object_get(ns, "tcp_tw_reuse_delay_ms")));
    assert_int_equal(json_integer_value(json_object_get(ns, "tcp_timestamps")), 1);
    assert_int_equal(json_integer_value(json_object_get(ns, "tcp_max_tw_buckets")), 4096);
    assert_true(json_is_object(json_object_get(doc, "counters")));
    json_t *tr = json_object_get(doc, "tracing");
    assert_true(json_is_false(json_object_get(tr, "on")));
    assert_string_equal(json_string_value(json_object_get(tr, "why")), "not asked for");
    json_decref(doc);
    free(text);
    px_watch_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_watch_report_frame__fits_the_screen),
        cmocka_unit_test(px_watch_report_frame__verdicts),
        cmocka_unit_test(px_watch_report_frame__filling_names_the_soonest),
        cmocka_unit_test(px_watch_report_lines__key_values),
        cmocka_unit_test(px_watch_report_json__document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
