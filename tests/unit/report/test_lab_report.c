/* SPDX-License-Identifier: MIT */
/* Unit tests of portex lab's text: a sentence for every mode that ran, from its figures, and
 * honest when the run did not show what the mode is for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/cmd/mode.h"
#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/report/lab_report.h"
#include "portex/report/mode_report.h"

#define NMODES 11

static struct px_load loads[NMODES];
static struct px_run runs[NMODES];
static struct px_mode_result res[NMODES];

/* What one mode of the demo's lab measured (1000 ports, 2000 requests/s, 5 s). */
struct measured {
    uint64_t ok, ea, conns, recycled;
    double first_s; /* 0: no EADDRNOTAVAIL */
    int64_t tw_peak;
};

/* Mode `name` of the lab's table as lab.c runs it, with the figures m. */
static void make_mode(size_t i, const char *name, const struct measured *m)
{
    const struct px_mode *mode = NULL;
    for (size_t k = 0; k < px_lab_nmodes; k++)
        if (strcmp(px_lab_modes[k].name, name) == 0)
            mode = &px_lab_modes[k];
    assert_non_null(mode);
    px_mode_result_start(&res[i], mode, 0);
    struct px_load *load = &loads[i];
    px_load_defaults(load);
    load->rate_per_s = 2000;
    load->keepalive = mode->keepalive;
    load->close = mode->close;
    load->requests_per_conn = mode->requests_per_conn;
    load->nsources = mode->sources;
    struct px_run *run = &runs[i];
    memset(run, 0, sizeof(*run));
    run->load = load;
    run->duration_s = 5.0;
    run->hosts = mode->hosts;
    run->env.tw_reuse = mode->client_reuse;
    unsigned hosts = mode->hosts ? mode->hosts : 1;
    run->ex.usable_ports = 1000 * hosts;
    struct px_ceiling_in in = {.ports = 1000 * hosts,
                               .sources = mode->sources,
                               .keepalive = mode->keepalive,
                               .close = mode->close,
                               .tw_reuse = mode->client_reuse,
                               .reuse_delay_ms = mode->reuse_delay_ms ? mode->reuse_delay_ms : 1000,
                               .kernel_major = 6,
                               .kernel_minor = 18,
                               .timestamps = mode->server_timestamps ? PX_TS_YES : PX_TS_NO,
                               .connections = 64,
                               .lifetime_s = 0.001,
                               .requests_per_conn = mode->requests_per_conn};
    px_ceiling_predict(&in, &run->ex.ceiling);
    run->totals.ok = m->ok;
    run->totals.failed = m->ea;
    run->totals.cause[px_cause_from_errno(EADDRNOTAVAIL)] = m->ea;
    run->totals.connections_opened = m->conns;
    run->ex.seen = m->first_s > 0;
    run->ex.first_s = m->first_s;
    run->ex.time_wait_peak = m->tw_peak;
    struct px_series_row row = {.t = 5.0, .ok = m->ok, .tw_recycled = m->recycled};
    assert_int_equal(px_series_push(&run->series, &row), 0);
    res[i].ran = 1;
    res[i].run = run;
    res[i].predicted_ok = px_ceiling_expected_ok(&run->ex.ceiling, 5.0, 2000);
}

/* Every lab mode, with what `portex lab --ports 1000 -r 2000 -d 5s --modes all` measured. */
static void make_all(void)
{
    static const struct {
        const char *name;
        struct measured m;
    } all[NMODES] = {
        {"noreuse", {.ok = 1000, .ea = 9000, .conns = 1000, .first_s = 0.5, .tw_peak = 1000}},
        {"reuse",
         {.ok = 5000,
          .ea = 5000,
          .conns = 5000,
          .recycled = 4000,
          .first_s = 0.5,
          .tw_peak = 1000}},
        {"reuse-server-nots",
         {.ok = 1000, .ea = 9000, .conns = 1000, .first_s = 0.5, .tw_peak = 1000}},
        {"keepalive", {.ok = 10000, .conns = 18, .tw_peak = 18}},
        {"server-close", {.ok = 10000, .conns = 10000}},
        {"rst", {.ok = 10000, .conns = 10000}},
        {"sources4", {.ok = 4000, .ea = 6000, .conns = 4000, .first_s = 2.0, .tw_peak = 4000}},
        {"delay100", {.ok = 10000, .conns = 10000, .recycled = 9500, .tw_peak = 500}},
        {"hosts4", {.ok = 4000, .ea = 6000, .conns = 4000, .first_s = 2.0, .tw_peak = 4000}},
        {"reuse-conn10", {.ok = 10000, .conns = 1018, .recycled = 540, .tw_peak = 478}},
        {"noreuse-conn10",
         {.ok = 9876, .ea = 124, .conns = 1000, .first_s = 4.94, .tw_peak = 1000}},
    };
    for (size_t i = 0; i < NMODES; i++)
        make_mode(i, all[i].name, &all[i].m);
}

static void free_all(void)
{
    for (size_t i = 0; i < NMODES; i++)
        px_series_free(&runs[i].series);
}

static char *story(size_t i)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    px_lab_report_story(f, &res[i]);
    fclose(f);
    return buf;
}

/* Asserts that mode i's sentence holds every one of the NULL-terminated words. */
static void expect_story(size_t i, ...)
{
    char *s = story(i);
    assert_int_equal(strncmp(s, res[i].name, strlen(res[i].name)), 0);
    assert_int_equal(s[strlen(res[i].name)], ':');
    va_list ap;
    va_start(ap, i);
    for (const char *w = va_arg(ap, const char *); w != NULL; w = va_arg(ap, const char *))
        if (strstr(s, w) == NULL)
            fail_msg("%s's sentence lacks '%s':\n%s", res[i].name, w, s);
    va_end(ap);
    free(s);
}

static void px_lab_report_text__a_sentence_for_every_mode_that_ran(void **state)
{
    (void)state;
    make_all();
    px_mode_result_start(&res[4], &px_lab_modes[4], 1); /* server-close: interrupted */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct px_lab_report lab = {1000, 2000, 5.0, "198.18.0.1", "198.18.0.2"};
    px_lab_report_text(f, &lab, res, NMODES);
    fclose(f);
    for (size_t i = 0; i < NMODES; i++) {
        char start[64];
        snprintf(start, sizeof(start), "\n%s: ", res[i].name);
        const char *at = strstr(buf, start);
        if (i == 4)
            assert_null(at);
        else if (at == NULL || strstr(at + 1, start) != NULL)
            fail_msg("want exactly one sentence of %s in:\n%s", res[i].name, buf);
    }
    free(buf);
    free_all();
}

static void px_lab_report_story__figures_and_rules(void **state)
{
    (void)state;
    make_all();
    expect_story(0, "1000 ok, then the budget of 1000 ports ran out at t=0.50 s",
                 "no port came back within the run (9000 EADDRNOTAVAIL)", "TIME_WAIT for 60 s",
                 "tcp_fin_timeout does not change it", NULL);
    expect_story(1, "5000 ok; the budget of 1000 ports ran out at t=0.50 s",
                 "then 4000 connections took a TIME_WAIT port back (TWRecycled) 1000 ms",
                 "ceiling of 999.0/s", "had TCP timestamps", NULL);
    expect_story(2, "(9000 EADDRNOTAVAIL; TWRecycled 0: no port reused)",
                 "tcp_timestamps=0 left its SYN-ACK without a timestamp",
                 "This was the original incident: a client with tcp_tw_reuse=1 still ran out of "
                 "ports because the server had TCP timestamps off.",
                 NULL);
    expect_story(3, "10000 ok over 18 connections, 0 EADDRNOTAVAIL", "no TIME_WAIT", NULL);
    expect_story(4, "10000 connections through 1000 ports, 0 EADDRNOTAVAIL",
                 "server holds TIME_WAIT", "LAST_ACK", NULL);
    expect_story(5, "10000 connections through 1000 ports", "RST and skips TIME_WAIT", NULL);
    expect_story(6, "4000 ok, then the budget of 4 addresses x 1000 ports ran out at t=2.00 s",
                 "IP_BIND_ADDRESS_NO_PORT", NULL);
    expect_story(7, "10000 ok and the ports never ran out: 9500 connections took a TIME_WAIT",
                 "the offered 2000/s stayed under the ceiling of 9901.0/s", "not where it stops",
                 "tcp_tw_reuse_delay=100", NULL);
    expect_story(8, "the budget of 4 hosts x 1000 ports ran out at t=2.00 s",
                 "port space of its own", NULL);
    expect_story(9, "10000 ok over 1018 connections and the ports never ran out",
                 "N x P / (N x T + D)", NULL);
    expect_story(10,
                 "9876 ok over 1000 connections, then the budget of 1000 ports x 10 "
                 "requests ran out at t=4.94 s",
                 "(124 EADDRNOTAVAIL)", "10 requests before its port sits 60 s", NULL);
    free_all();
}

/* A low -r never fills the ports: the sentences say the run does not show the limit. */
static void px_lab_report_story__says_what_the_run_did_not_show(void **state)
{
    (void)state;
    const struct measured low = {.ok = 500, .conns = 500, .tw_peak = 500};
    make_mode(0, "noreuse", &low);
    expect_story(0, "the ports never ran out: 500 ok fit in the budget of 1000 ports",
                 "does not show the limit", "more than 1000 requests within 60 s", NULL);
    make_mode(1, "reuse", &low);
    expect_story(1, "500 ok fit in the budget of 1000 ports without taking back a single port",
                 "does not show reuse", NULL);
    make_mode(4, "server-close", &low);
    expect_story(4, "500 ok over 500 connections, no more than the 1000 ports",
                 "cannot show ports coming free", NULL);
    const struct measured nots = {
        .ok = 5000, .ea = 5000, .conns = 5000, .recycled = 4000, .first_s = 0.5, .tw_peak = 1000};
    make_mode(2, "reuse-server-nots", &nots);
    expect_story(2, "TWRecycled 4000: yet some ports were reused", NULL);
    for (size_t i = 0; i < 5; i++)
        px_series_free(&runs[i].series);
}

/* A mode without a row (a new one) still gets a sentence, told from its ceiling. */
static void px_lab_report_story__a_mode_without_a_row(void **state)
{
    (void)state;
    const struct measured m = {
        .ok = 1000, .ea = 9000, .conns = 1000, .first_s = 0.5, .tw_peak = 1000};
    make_mode(0, "noreuse", &m);
    res[0].name = "no-such-row"; /* "nat" once, before the lab had a nat mode */
    expect_story(0, "1000 ok, then the budget of 1000 ports ran out at t=0.50 s",
                 "P / (T + 60 s) = 1000 / 60 s", NULL);
    px_series_free(&runs[0].series);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_lab_report_text__a_sentence_for_every_mode_that_ran),
        cmocka_unit_test(px_lab_report_story__figures_and_rules),
        cmocka_unit_test(px_lab_report_story__says_what_the_run_did_not_show),
        cmocka_unit_test(px_lab_report_story__a_mode_without_a_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
