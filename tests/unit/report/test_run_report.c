/* SPDX-License-Identifier: MIT */
/* Unit tests of the reports: the text a person reads, the JSON, the CSV and the SVG chart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/report/run_report.h"
#include "portex/report/svg.h"

static struct px_load cfg;
static struct px_run run;

/* A finished short-connection run that ran out of ports at t=1.5 s. */
static void make_run(void)
{
    char err[128];
    px_load_defaults(&cfg);
    snprintf(cfg.url_text, sizeof(cfg.url_text), "http://127.0.0.1:8080/");
    assert_int_equal(px_url_parse(cfg.url_text, &cfg.url, err, sizeof(err)), 0);
    assert_int_equal(
        px_addr_parse("127.0.0.1:8080", &cfg.target, &cfg.target_len, err, sizeof(err)), 0);
    memset(&run, 0, sizeof(run));
    run.load = &cfg;
    run.totals.started = 1000;
    run.totals.ok = 900;
    run.totals.failed = 100;
    run.totals.connections_opened = 900;
    run.totals.status[2] = 900;
    run.totals.cause[px_cause_from_errno(EADDRNOTAVAIL)] = 100;
    px_hist_init(&run.lat.connect);
    px_hist_init(&run.lat.ttfb);
    px_hist_init(&run.lat.total);
    for (uint64_t v = 100; v < 1000; v++) {
        px_hist_record(&run.lat.connect, v / 4);
        px_hist_record(&run.lat.ttfb, v);
        px_hist_record(&run.lat.total, v + 10);
    }
    run.duration_s = 10.0;
    run.drain_s = 0.25;
    snprintf(run.env.kernel, sizeof(run.env.kernel), "6.18.0");
    run.env.kernel_major = 6;
    run.env.kernel_minor = 18;
    run.env.port_lo = 32768;
    run.env.port_hi = 60999;
    run.env.tw_reuse = 0;
    run.env.tw_reuse_delay_ms = 1000;
    run.env.timestamps = 1;
    run.env.fin_timeout = 30;
    run.ex.time_wait_peak = 28232;
    run.ex.time_wait_at_start = 0;
    run.ex.seen = 1;
    run.ex.first_s = 1.5;
    run.ex.ok_before = 500;
    run.ex.timestamps = PX_TS_YES;
    px_run_predict(&run);
    for (int i = 1; i <= 3; i++) {
        struct px_series_row r = {.t = i, .started = 300, .ok = 300, .time_wait = 9000 * i};
        assert_int_equal(px_series_push(&run.series, &r), 0);
    }
}

/* What a report writer printed into memory. */
static char *capture(void (*write)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    write(f);
    fclose(f);
    return buf;
}

static void write_text(FILE *f)
{
    px_report_text(f, &run);
}

static void write_json(FILE *f)
{
    px_report_json(f, &run);
}

static void write_csv(FILE *f)
{
    px_report_csv(f, &run.series);
}

static void write_svg(FILE *f)
{
    const struct px_run *runs[2] = {&run, &run};
    const char *names[2] = {"first <a&b>", "second"};
    px_svg_write(f, "title", runs, names, 2);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void px_report_text__counts_causes_and_exhaustion(void **state)
{
    (void)state;
    make_run();
    char *t = capture(write_text);
    assert_non_null(strstr(t, "requests             1,000 (ok 900, failed 100)"));
    assert_non_null(strstr(t, "duration             10.00 s load window (+ 0.25 s drain"));
    assert_non_null(strstr(t, "requests/s           100.0 (ok/s 90.0)"));
    assert_non_null(strstr(t, "EADDRNOTAVAIL                     100"));
    assert_non_null(strstr(t, "first EADDRNOTAVAIL  t=1.50s, after 500 ok"));
    assert_non_null(strstr(t, "usable ports         28,232 (32768-60999"));
    /* tcp_fin_timeout is not TIME_WAIT: the report says so instead of blaming it. */
    assert_non_null(strstr(t, "tcp_fin_timeout=30 changes nothing"));
    assert_non_null(strstr(t, "TIME_WAIT lasts 60 s"));
    free(t);
    px_series_free(&run.series);
}

/* -r 0.5 is not "0 new requests/s"; whole rates keep their plain form. */
static void px_report_text__fractional_rate_shown(void **state)
{
    (void)state;
    make_run();
    cfg.rate_per_s = 0.5;
    char *t = capture(write_text);
    assert_non_null(strstr(t, "open model: 0.5 new requests/s"));
    free(t);
    cfg.rate_per_s = 1500;
    t = capture(write_text);
    assert_non_null(strstr(t, "open model: 1500 new requests/s"));
    free(t);
    px_series_free(&run.series);
}

static void px_diagnose__reuse_without_timestamps(void **state)
{
    (void)state;
    make_run();
    run.env.tw_reuse = 1;
    run.ex.timestamps = PX_TS_NO;
    px_run_predict(&run);
    char diag[1024];
    px_diagnose(&run, diag, sizeof(diag));
    assert_non_null(strstr(diag, "negotiated no TCP timestamps"));
    assert_false(run.ex.ceiling.reuse_applies);
    /* 28232 ports / 60 s: the no-reuse ceiling. */
    assert_true(run.ex.ceiling.per_s > 470 && run.ex.ceiling.per_s < 471);
    px_series_free(&run.series);
}

static void px_report_json__keys_values_and_balance(void **state)
{
    (void)state;
    make_run();
    char *j = capture(write_json);
    assert_int_equal(j[0], '{');
    int depth = 0, in_str = 0;
    for (const char *p = j; *p; p++) {
        if (in_str) {
            if (*p == '\\')
                p++;
            else if (*p == '"')
                in_str = 0;
            continue;
        }
        if (*p == '"')
            in_str = 1;
        else if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        assert_true(depth >= 0);
    }
    assert_int_equal(depth, 0);
    assert_non_null(strstr(j, "\"requests\": 1000"));
    assert_non_null(strstr(j, "\"ok\": 900"));
    assert_non_null(strstr(j, "\"EADDRNOTAVAIL\": 100"));
    assert_non_null(strstr(j, "\"duration_s\": 10"));
    assert_non_null(strstr(j, "\"drain_s\": 0.25"));
    assert_non_null(strstr(j, "\"requests_per_s\": 100"));
    assert_non_null(strstr(j, "\"usable_ports\": 28232"));
    assert_int_equal(count(j, "\"started\":300"), 3);
    free(j);
    px_series_free(&run.series);
}

static void px_report_csv__header_and_one_line_per_row(void **state)
{
    (void)state;
    make_run();
    char *c = capture(write_csv);
    assert_int_equal(strncmp(c, "t,started,ok,failed,eaddrnotavail", 33), 0);
    assert_int_equal(count(c, "\n"), 4);
    assert_non_null(strstr(c, "\n2.000,300,300,"));
    free(c);
    px_series_free(&run.series);
}

static void px_svg_write__one_panel_per_run_escaped(void **state)
{
    (void)state;
    make_run();
    char *s = capture(write_svg);
    assert_int_equal(strncmp(s, "<?xml", 5), 0);
    assert_non_null(strstr(s, "</svg>\n"));
    assert_int_equal(count(s, "<g class=\"panel\""), 2);
    assert_non_null(strstr(s, "first &lt;a&amp;b&gt;"));
    assert_null(strstr(s, "<a&b>"));
    assert_non_null(strstr(s, "predicted 470"));
    free(s);
    px_series_free(&run.series);
}

/* Every request refused: the last line says nothing listens there, not a port ceiling. */
static void px_diagnose__nothing_listens(void **state)
{
    (void)state;
    make_run();
    memset(run.totals.cause, 0, sizeof(run.totals.cause));
    run.totals.ok = run.totals.status[2] = run.totals.connections_opened = 0;
    run.totals.failed = 1000;
    run.totals.cause[px_cause_from_errno(ECONNREFUSED)] = 990;
    run.totals.cause[PX_CAUSE_CANCELLED] = 10;
    char diag[1024];
    px_diagnose(&run, diag, sizeof(diag));
    assert_string_equal(
        diag, "nothing listens at 127.0.0.1:8080: every request was refused (ECONNREFUSED).");
    /* One other cause, or one ok: the port story again. */
    run.totals.cause[PX_CAUSE_CANCELLED] = 0;
    run.totals.cause[px_cause_from_errno(ECONNRESET)] = 10;
    px_diagnose(&run, diag, sizeof(diag));
    assert_null(strstr(diag, "nothing listens"));
    px_series_free(&run.series);
}

/* No request succeeded, none for want of a port (unreachable, a TLS error, a closed
 * connection): the last line names the cause, not "0.0 ok/s" beside a port ceiling. */
static void px_diagnose__no_request_succeeded(void **state)
{
    (void)state;
    make_run();
    memset(run.totals.cause, 0, sizeof(run.totals.cause));
    run.totals.ok = run.totals.status[2] = run.totals.connections_opened = 0;
    run.totals.failed = 5;
    run.totals.cause[px_cause_from_errno(ENETUNREACH)] = 4;
    run.totals.cause[PX_CAUSE_CANCELLED] = 1;
    char diag[1024];
    px_diagnose(&run, diag, sizeof(diag));
    assert_string_equal(diag, "no request succeeded at 127.0.0.1:8080: ENETUNREACH 4 of 5 "
                              "(Network is unreachable); ports are not what stopped them.");
    /* One EADDRNOTAVAIL among them: the port story. */
    run.totals.failed = 6;
    run.totals.cause[px_cause_from_errno(EADDRNOTAVAIL)] = 1;
    px_diagnose(&run, diag, sizeof(diag));
    assert_non_null(strstr(diag, "ports ran out"));
    px_series_free(&run.series);
}

/* A Unix socket path with no socket file: ENOENT for every request is nothing listening. */
static void px_diagnose__no_unix_socket_file(void **state)
{
    (void)state;
    char err[128];
    make_run();
    assert_int_equal(px_url_set_unix(&cfg.url, "/tmp/none.sock", err, sizeof(err)), 0);
    struct sockaddr_un *un = (struct sockaddr_un *)&cfg.target;
    memset(&cfg.target, 0, sizeof(cfg.target));
    un->sun_family = AF_UNIX;
    snprintf(un->sun_path, sizeof(un->sun_path), "/tmp/none.sock");
    memset(run.totals.cause, 0, sizeof(run.totals.cause));
    run.totals.ok = run.totals.status[2] = run.totals.connections_opened = 0;
    run.totals.failed = 3;
    run.totals.cause[px_cause_from_errno(ENOENT)] = 3;
    run.ex.seen = 0;
    char diag[1024];
    px_diagnose(&run, diag, sizeof(diag));
    assert_string_equal(
        diag, "nothing listens at unix:/tmp/none.sock: no socket file there for any request "
              "(ENOENT).");
    px_series_free(&run.series);
}

/* A name's addresses: which one the load went to and what the probe found at each. */
static void px_report_text__names_the_address_used(void **state)
{
    (void)state;
    make_run();
    char *t = capture(write_text);
    assert_null(strstr(t, "\n  to ")); /* an IP literal says it all */
    free(t);
    char err[128];
    snprintf(cfg.url_text, sizeof(cfg.url_text), "http://localhost:8080/");
    assert_int_equal(px_url_parse(cfg.url_text, &cfg.url, err, sizeof(err)), 0);
    assert_int_equal(
        px_addr_parse("[::1]:8080", &cfg.addrs[0].ss, &cfg.addrs[0].len, err, sizeof(err)), 0);
    cfg.addrs[0].probe = ECONNREFUSED;
    cfg.addrs[1].ss = cfg.target;
    cfg.addrs[1].len = cfg.target_len;
    cfg.addrs[1].probe = PX_ADDR_ANSWERED;
    cfg.naddrs = 2;
    t = capture(write_text);
    assert_non_null(strstr(t,
                           "\n  to 127.0.0.1:8080, the first of the 2 addresses of localhost to "
                           "answer a probe ([::1]:8080 ECONNREFUSED, 127.0.0.1:8080 answered)\n"));
    free(t);
    char *j = capture(write_json);
    assert_non_null(strstr(j, "\"target\": \"127.0.0.1:8080\",\n    \"family\": null,\n"
                              "    \"resolved\": [\n      {\"address\":\"[::1]:8080\",\"probe\":"
                              "\"ECONNREFUSED\"},\n"));
    free(j);
    cfg.naddrs = 0;
    px_series_free(&run.series);
}

/* Ports bound inside the range at start: connect() skips them, so the usable ports,
 * the ceiling and the words all leave them out. */
static void px_report_text__bound_ports_are_not_usable(void **state)
{
    (void)state;
    make_run();
    run.env.port_lo = 40000;
    run.env.port_hi = 40499;
    run.ex.bound_ports = run.ex.bound_listening = 1;
    px_run_predict(&run);
    assert_int_equal(run.ex.usable_ports, 499);
    assert_non_null(strstr(run.ex.ceiling.formula, "499 / 60 s"));
    char *t = capture(write_text);
    assert_non_null(
        strstr(t, "usable ports         499 (500 in 40000-40499, ip_local_port_range; 1 bound by a "
                  "listener)\n"));
    assert_non_null(strstr(t, "ports ran out at t=1.50s: 499 usable ports"));
    free(t);
    char *j = capture(write_json);
    assert_non_null(strstr(j, "\"usable_ports\": 499,\n    \"bound_ports\": 1,"));
    free(j);
    /* Ten reserved, two bound without listening: the range's 500 told apart. */
    snprintf(run.env.reserved_ports, sizeof(run.env.reserved_ports), "40100-40109");
    run.ex.bound_ports = 2;
    run.ex.bound_listening = 0;
    px_run_predict(&run);
    t = capture(write_text);
    assert_non_null(strstr(t, "usable ports         488 (500 in 40000-40499, ip_local_port_range; "
                              "10 reserved, 2 bound by sockets that neither listen nor connect)"));
    free(t);
    px_series_free(&run.series);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_report_text__counts_causes_and_exhaustion),
        cmocka_unit_test(px_report_text__fractional_rate_shown),
        cmocka_unit_test(px_diagnose__reuse_without_timestamps),
        cmocka_unit_test(px_diagnose__nothing_listens),
        cmocka_unit_test(px_diagnose__no_request_succeeded),
        cmocka_unit_test(px_diagnose__no_unix_socket_file),
        cmocka_unit_test(px_report_text__names_the_address_used),
        cmocka_unit_test(px_report_text__bound_ports_are_not_usable),
        cmocka_unit_test(px_report_json__keys_values_and_balance),
        cmocka_unit_test(px_report_csv__header_and_one_line_per_row),
        cmocka_unit_test(px_svg_write__one_panel_per_run_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
