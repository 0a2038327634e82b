/* SPDX-License-Identifier: MIT */
/* Unit tests of the lab's rules through a middle: each prediction and its verdict from figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "portex/kernel/middle.h"

static const struct px_middle_settings nat100 = {
    .kind = PX_MIDDLE_NAT, .nat_ports = 100, .nat_addrs = 1};
static const struct px_middle_settings proxy100 = {.kind = PX_MIDDLE_PROXY, .proxy_ports = 100};

/* Server closes first: failed = refused + dropped + listen drops - resent (measured here). */
static void px_middle_judge__nat_paws_explained_by_the_lost_syns(void **state)
{
    (void)state;
    struct px_middle_figures f = {.measured = 1, .has_middle = 1};
    f.server.ext.paws_timewait = 2811;
    f.middle.ct.drop = 161;
    f.client.ext.syn_retrans = 2746;
    struct px_middle_in in = {
        .rule = PX_RULE_NAT_PAWS, .set = nat100, .requests = 6000, .failed = 225, .fig = &f};
    struct px_judgement j;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_EXPLAINED);
    assert_true(j.predicted == 226.0 && j.measured == 225.0);
    assert_non_null(strstr(j.split, "refused 2811"));
    /* A busy server's listener dropped 300 more: without them it would not add up. */
    f.server.ext.listen_drops = 300;
    in.failed = 525;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_EXPLAINED);
    assert_non_null(strstr(j.split, "listener dropped 300"));
    in.failed = 225;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_DIFFERS);
}

/* Keep-alive through 100 x 2 NAT tuples with 400 slots: 200 connections, no more. */
static void px_middle_judge__nat_concurrency_is_ports_times_addresses(void **state)
{
    (void)state;
    struct px_middle_figures f = {.measured = 1, .has_middle = 1};
    struct px_middle_settings two = nat100;
    two.nat_addrs = 2;
    struct px_middle_in in = {
        .rule = PX_RULE_NAT_CONCURRENCY, .set = two, .connections = 200, .slots = 400, .fig = &f};
    struct px_judgement j;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_MATCHES);
    assert_true(j.predicted == 200.0);
    in.connections = 100; /* `snat to A-B`: one address for one client and one server */
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_DIFFERS);
}

/* The race: P x U / Fm from the measured split, 5xx beside nginx's errno-99 lines. */
static void px_middle_judge__proxy_race_from_the_split(void **state)
{
    (void)state;
    struct px_middle_figures f = {.measured = 1, .has_middle = 1, .upstream_eaddrnotavail = 1266};
    f.middle.ext.tw = 100;
    f.server.ext.tw = 134;
    f.server.tcp.passive_opens = 234;
    struct px_middle_in in = {.rule = PX_RULE_PROXY_RACE,
                              .set = proxy100,
                              .requests = 1500,
                              .ok = 234,
                              .failed = 1266,
                              .status_5xx = 1266,
                              .fig = &f};
    struct px_judgement j;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_EXPLAINED);
    assert_true(j.predicted == 234.0);
    assert_non_null(strstr(j.split, "nginx closed 100 of 234"));
    /* A 502 without its log line is not explained. */
    f.upstream_eaddrnotavail = 1200;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_DIFFERS);
}

/* nginx closed none first: no ceiling, and timeouts (not 502s) are left out. */
static void px_middle_judge__proxy_race_none_closed_by_nginx(void **state)
{
    (void)state;
    struct px_middle_figures f = {.measured = 1, .has_middle = 1, .upstream_eaddrnotavail = 0};
    f.server.ext.tw = 954;
    f.server.tcp.passive_opens = 954;
    struct px_middle_in in = {.rule = PX_RULE_PROXY_RACE,
                              .set = proxy100,
                              .requests = 993,
                              .ok = 929,
                              .failed = 64,
                              .fig = &f};
    struct px_judgement j;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_EXPLAINED);
    assert_true(j.predicted == 929.0);
    assert_non_null(strstr(j.rule, "never run out"));
    assert_non_null(strstr(j.split, "64 requests failed otherwise"));
}

/* HTTP/1.1 without keepalive: nginx closes all first, P ok. */
static void px_middle_judge__proxy_closes_first_p_ok(void **state)
{
    (void)state;
    struct px_middle_figures f = {.measured = 1, .has_middle = 1, .upstream_eaddrnotavail = 1400};
    f.middle.ext.tw = 100;
    f.server.tcp.passive_opens = 100;
    struct px_middle_settings s = proxy100;
    s.upstream_http11 = 1;
    struct px_middle_in in = {.rule = PX_RULE_PROXY_CLOSES,
                              .set = s,
                              .duration_s = 3,
                              .rate_per_s = 500,
                              .requests = 1500,
                              .ok = 100,
                              .failed = 1400,
                              .status_5xx = 1400,
                              .fig = &f};
    struct px_judgement j;
    px_middle_judge(&in, &j);
    assert_int_equal(j.verdict, PX_VERDICT_MATCHES);
    assert_true(j.predicted == 100.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_middle_judge__nat_paws_explained_by_the_lost_syns),
        cmocka_unit_test(px_middle_judge__nat_concurrency_is_ports_times_addresses),
        cmocka_unit_test(px_middle_judge__proxy_race_from_the_split),
        cmocka_unit_test(px_middle_judge__proxy_race_none_closed_by_nginx),
        cmocka_unit_test(px_middle_judge__proxy_closes_first_p_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
