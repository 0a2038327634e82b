/* SPDX-License-Identifier: MIT */
/* Unit tests of the modes' table (lab, compare): headers in words, predicted beside measured
 * over the same window, the sustained ceiling on lines of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/report/mode_report.h"

static struct px_load load[2];
static struct px_run runs[2];
static struct px_mode_result res[2];

/*
 * The demo's lab, two modes: 1000 ports, 2000 requests/s for 5 s. noreuse ran
 * out after 1000 ok at t=0.50 s; keep-alive carried 9860 requests over 64
 * connections of 0.0968 ms each (C / T = 661,157/s by Little's law).
 */
static void make_modes(void)
{
    memset(runs, 0, sizeof(runs));
    memset(res, 0, sizeof(res));
    for (size_t i = 0; i < 2; i++) {
        px_load_defaults(&load[i]);
        load[i].rate_per_s = 2000;
        load[i].keepalive = (int)i;
        runs[i].load = &load[i];
        runs[i].duration_s = 5.0;
        runs[i].ex.usable_ports = 1000;
        struct px_ceiling_in in = {.ports = 1000,
                                   .keepalive = (int)i,
                                   .close = PX_CLOSE_CLIENT,
                                   .tw_reuse = 0,
                                   .reuse_delay_ms = 1000,
                                   .kernel_major = 6,
                                   .kernel_minor = 18,
                                   .timestamps = PX_TS_YES,
                                   .connections = 64,
                                   .lifetime_s = i ? 0.0000968 : 0.001};
        px_ceiling_predict(&in, &runs[i].ex.ceiling);
        res[i].ran = 1;
        res[i].run = &runs[i];
        res[i].predicted_ok = px_ceiling_expected_ok(&runs[i].ex.ceiling, 5.0, 2000);
    }
    res[0].name = "noreuse";
    res[0].what = "client closes, tcp_tw_reuse=0";
    runs[0].totals.ok = 1000;
    runs[0].totals.failed = 9000;
    runs[0].totals.cause[px_cause_from_errno(EADDRNOTAVAIL)] = 9000;
    runs[0].ex.seen = 1;
    runs[0].ex.first_s = 0.5;
    runs[0].ex.time_wait_peak = 1000;
    res[1].name = "keepalive";
    res[1].what = "keep-alive connections";
    runs[1].totals.ok = 9860;
    runs[1].totals.connections_opened = 64;
    runs[1].ex.time_wait_peak = 64;
}

static char *table(size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    px_mode_report_table(f, res, n);
    fclose(f);
    return buf;
}

/* The line of text that starts with prefix. */
static char *line_of(char *text, const char *prefix)
{
    for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            size_t n = strcspn(p, "\n");
            char *out = calloc(1, n + 1);
            assert_non_null(out);
            memcpy(out, p, n);
            return out;
        }
    fail_msg("no line starts with '%s' in:\n%s", prefix, text);
    return NULL;
}

static void px_mode_report_table__headers_spelled_out(void **state)
{
    (void)state;
    make_modes();
    char *t = table(2);
    char *group = line_of(t, "   ");
    char *head = line_of(t, "mode ");
    assert_non_null(strstr(group, "predicted"));
    assert_non_null(strstr(group, "measured"));
    const char *words[] = {"ok/s", "EADDRNOTAVAIL", "TIME_WAIT peak", "ran out at", "verdict"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        assert_non_null(strstr(head, words[i]));
    const char *cryptic[] = {"EADDRNA ", "1st EA", "pred.", "TW peak"};
    for (size_t i = 0; i < sizeof(cryptic) / sizeof(cryptic[0]); i++)
        assert_null(strstr(t, cryptic[i]));
    free(group);
    free(head);
    free(t);
}

/* noreuse: 1000 predicted over 5 s is 200.0/s, as measured; 16.7/s is the sustained rate. */
static void px_mode_report_table__predicted_over_the_same_window(void **state)
{
    (void)state;
    make_modes();
    char *t = table(2);
    char *row = line_of(t, "noreuse ");
    char want[256];
    snprintf(want, sizeof(want), " %8s %8s  %8s %8s  %13s  %14s  %10s  %s", "1000", "200.0", "1000",
             "200.0", "9000", "1000", "0.50s", "matches");
    assert_non_null(strstr(row, want));
    assert_null(strstr(row, "16.7"));
    char *sustained = line_of(t, "  noreuse ");
    assert_non_null(strstr(sustained, " 16.7/s  client closes first, tcp_tw_reuse=0"));
    assert_non_null(strstr(t, "\nsustained ceiling once the ports have run out"));
    free(row);
    free(sustained);
    free(t);
}

/* keep-alive: the ports predict every offered request; its ceiling reads "not port-bound". */
static void px_mode_report_table__keepalive_not_port_bound(void **state)
{
    (void)state;
    make_modes();
    char *t = table(2);
    char *row = line_of(t, "keepalive ");
    char want[256];
    snprintf(want, sizeof(want), " %8s %8s  %8s %8s  ", "10000", "2000.0", "9860", "1972.0");
    assert_non_null(strstr(row, want));
    char *sustained = line_of(t, "  keepalive ");
    assert_non_null(strstr(sustained, " not port-bound  keep-alive: no TIME_WAIT"));
    assert_null(strstr(t, "661"));
    free(row);
    free(sustained);
    free(t);
}

/* TIME_WAIT left by an earlier mode or run is marked, and the mark explained once. */
static void px_mode_report_table__time_wait_from_before_marked(void **state)
{
    (void)state;
    make_modes();
    runs[1].ex.time_wait_at_start = 100;
    runs[1].ex.time_wait_peak = 164;
    char *t = table(2);
    char *row = line_of(t, "keepalive ");
    assert_non_null(strstr(row, "  164*  "));
    char *note = line_of(t, "* ");
    assert_non_null(strstr(note, "before this mode started (left by an earlier mode or run)"));
    free(row);
    free(note);
    free(t);
}

/* A mode that did not run gets its note, and no sustained line. */
static void px_mode_report_table__not_run(void **state)
{
    (void)state;
    make_modes();
    res[1].ran = 0;
    snprintf(res[1].note, sizeof(res[1].note), "not run: interrupted");
    char *t = table(2);
    char *row = line_of(t, "keepalive ");
    assert_non_null(strstr(row, "not run: interrupted"));
    assert_null(strstr(t, "  keepalive "));
    free(row);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_mode_report_table__headers_spelled_out),
        cmocka_unit_test(px_mode_report_table__predicted_over_the_same_window),
        cmocka_unit_test(px_mode_report_table__keepalive_not_port_bound),
        cmocka_unit_test(px_mode_report_table__time_wait_from_before_marked),
        cmocka_unit_test(px_mode_report_table__not_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
