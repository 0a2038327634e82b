/* SPDX-License-Identifier: MIT */
/* Unit tests of the predicted ceilings (KERNEL-FACTS.md, Ceilings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "portex/kernel/ceiling.h"

static struct px_ceiling_in base(void)
{
    struct px_ceiling_in in = {
        .ports = 28232,
        .close = PX_CLOSE_CLIENT,
        .tw_reuse = 0,
        .reuse_delay_ms = 1000,
        .kernel_major = 6,
        .kernel_minor = 18,
        .timestamps = PX_TS_YES,
        .connections = 64,
        .lifetime_s = 0.0,
    };
    return in;
}

static void px_ceiling_predict__no_reuse_is_ports_over_60s(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_true(fabs(c.per_s - 28232.0 / 60.0) < 1e-9);
    assert_true(c.burst == 28232.0);
    assert_false(c.reuse_applies);
    assert_non_null(strstr(c.formula, "60 s"));
    assert_null(strstr(c.formula, "fin_timeout"));
}

static void px_ceiling_predict__reuse2_only_on_loopback(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.tw_reuse = 2;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_false(c.reuse_applies);
    assert_non_null(strstr(c.formula, "loopback only"));
    in.loopback = 1;
    px_ceiling_predict(&in, &c);
    assert_true(c.reuse_applies);
    assert_true(fabs(c.per_s - 28232.0) < 1e-6);
}

static void px_ceiling_predict__reuse_needs_server_timestamps(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.tw_reuse = 1;
    in.ports = 1000;
    in.timestamps = PX_TS_NO;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_false(c.reuse_applies);
    assert_true(fabs(c.per_s - 1000.0 / 60.0) < 1e-9);
    assert_non_null(strstr(c.formula, "no timestamps"));
}

static void px_ceiling_predict__reuse_delay(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.tw_reuse = 1;
    in.ports = 1000;
    in.reuse_delay_ms = 100;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_true(fabs(c.per_s - 10000.0) < 1e-6);
    in.reuse_delay_ms = -1; /* 4.19-6.13: about P per second */
    in.kernel_minor = 1;
    px_ceiling_predict(&in, &c);
    assert_true(fabs(c.per_s - 1000.0) < 1e-6);
}

static void px_ceiling_predict__sources_multiply(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.ports = 1000;
    in.sources = 4;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_true(c.burst == 4000.0);
    assert_true(fabs(c.per_s - 4000.0 / 60.0) < 1e-9);
}

/* Ns x Nd x Np: connect() picks a port per 4-tuple, so two destination ports get P each. */
static void px_ceiling_predict__destinations_multiply(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.ports = 100;
    in.destinations = 2;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_true(c.burst == 200.0);
    assert_non_null(strstr(c.formula, "P x 2"));
    in.sources = 4;
    px_ceiling_predict(&in, &c);
    assert_true(c.burst == 800.0);
}

/* bind(addr, 0) first takes each port for every destination: the destinations do not count. */
static void px_ceiling_predict__bind_first_ignores_destinations(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.ports = 100;
    in.destinations = 2;
    in.bind_first = 1;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_true(c.burst == 100.0);
    assert_non_null(strstr(c.formula, "bind() before connect()"));
    assert_true(px_ceiling_expected_ok(&c, 3.0, 2000) == 100.0);
}

static void px_ceiling_predict__keepalive_and_server_close_not_port_bound(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.keepalive = 1;
    in.lifetime_s = 0.001;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_false(c.port_bound);
    assert_true(fabs(c.per_s - 64000.0) < 1e-6);
    in.keepalive = 0;
    in.close = PX_CLOSE_SERVER;
    px_ceiling_predict(&in, &c);
    assert_false(c.port_bound);
    assert_true(isinf(c.burst));
}

static void px_ceiling_predict__n_per_conn_is_n_times_short(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.ports = 1000;
    struct px_ceiling shortc, c;
    px_ceiling_predict(&in, &shortc);
    in.keepalive = 1;
    in.requests_per_conn = 10;
    px_ceiling_predict(&in, &c);
    assert_true(c.port_bound);
    assert_true(fabs(c.per_s - 10 * shortc.per_s) < 1e-9);
    assert_true(c.burst == 10000.0);
    assert_true(c.hold_s == 60.0);
    assert_non_null(strstr(c.formula, "10 requests per connection: 10 x (client closes first"));
    /* The connection lives N request times: 10 x 1000 / (10 x 0.5 s + 60 s). */
    in.lifetime_s = 0.5;
    px_ceiling_predict(&in, &c);
    assert_true(fabs(c.per_s - 10 * 1000.0 / 65.0) < 1e-9);
    assert_true(px_ceiling_expected_ok(&c, 3.0, 100000) == 10000.0);
}

static void px_ceiling_predict__n_per_conn_keeps_close_policy(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.keepalive = 1;
    in.requests_per_conn = 10;
    in.close = PX_CLOSE_SERVER;
    in.lifetime_s = 0.001;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_false(c.port_bound);
    assert_true(fabs(c.per_s - 64000.0) < 1e-6);
    in.requests_per_conn = 1; /* one per connection, client closes: a short connection */
    in.close = PX_CLOSE_CLIENT;
    px_ceiling_predict(&in, &c);
    assert_true(c.port_bound);
    assert_true(fabs(c.per_s - 28232.0 / 60.001) < 1e-9);
}

static void px_ceiling_predict__rst_binds_only_when_slots_reach_ports(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.close = PX_CLOSE_RST;
    in.lifetime_s = 0.001;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_false(c.port_bound);
    assert_true(fabs(c.per_s - 64000.0) < 1e-6);
    in.ports = 64;
    px_ceiling_predict(&in, &c);
    assert_true(c.port_bound);
    assert_true(fabs(c.per_s - 64000.0) < 1e-6);
}

static void px_ceiling_expected_ok__bursts(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.ports = 200;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_true(px_ceiling_expected_ok(&c, 3.0, 1000) == 200.0);
    in.tw_reuse = 1;
    px_ceiling_predict(&in, &c);
    assert_true(px_ceiling_expected_ok(&c, 3.0, 1000) == 600.0);
    assert_true(px_ceiling_expected_ok(&c, 3.0, 100) == 300.0);
}

/* The timetable starts at t=0, so D seconds at R hold ceil(R x D) starts, not R x D. */
static void px_ceiling_expected_ok__counts_whole_starts(void **state)
{
    (void)state;
    struct px_ceiling_in in = base();
    in.ports = 1000;
    struct px_ceiling c;
    px_ceiling_predict(&in, &c);
    assert_true(px_ceiling_expected_ok(&c, 1.5, 3) == 5.0);
    assert_true(px_ceiling_expected_ok(&c, 0.001, 0.001) == 1.0);
    assert_true(px_ceiling_expected_ok(&c, 3.0, 100) == 300.0);
    assert_true(px_ceiling_expected_ok(&c, 0.3, 10) == 3.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_ceiling_predict__no_reuse_is_ports_over_60s),
        cmocka_unit_test(px_ceiling_predict__reuse2_only_on_loopback),
        cmocka_unit_test(px_ceiling_predict__reuse_needs_server_timestamps),
        cmocka_unit_test(px_ceiling_predict__reuse_delay),
        cmocka_unit_test(px_ceiling_predict__sources_multiply),
        cmocka_unit_test(px_ceiling_predict__destinations_multiply),
        cmocka_unit_test(px_ceiling_predict__bind_first_ignores_destinations),
        cmocka_unit_test(px_ceiling_predict__keepalive_and_server_close_not_port_bound),
        cmocka_unit_test(px_ceiling_predict__n_per_conn_is_n_times_short),
        cmocka_unit_test(px_ceiling_predict__n_per_conn_keeps_close_policy),
        cmocka_unit_test(px_ceiling_predict__rst_binds_only_when_slots_reach_ports),
        cmocka_unit_test(px_ceiling_expected_ok__bursts),
        cmocka_unit_test(px_ceiling_expected_ok__counts_whole_starts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
