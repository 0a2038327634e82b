/* SPDX-License-Identifier: MIT */
/* Unit tests of the channels: which sockets are client side, their sums, the usable
 * ports, the rate and the time to exhaustion, from records made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "portex/kernel/channels.h"
#include "portex/kernel/netlink.h"

/* A namespace as the lab makes it: 100 ports, no reuse, kernel 6.18. */
static const struct px_channel_rules no_reuse = {
    .port_lo = 40000,
    .port_hi = 40099,
    .reserved = "",
    .tw_reuse = 0,
    .reuse_delay_ms = 1000,
    .timestamps = 1,
    .kernel_major = 6,
    .kernel_minor = 18,
};

/* An IPv4 record src:sport -> dst:dport in state st. */
static struct px_diag_sock v4(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                              int st)
{
    struct px_diag_sock sk = {.family = AF_INET, .state = st, .sport = sport, .dport = dport};
    inet_pton(AF_INET, src, &sk.src[0]);
    inet_pton(AF_INET, dst, &sk.dst[0]);
    return sk;
}

static struct px_diag_sock v6(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                              int st)
{
    struct px_diag_sock sk = {.family = AF_INET6, .state = st, .sport = sport, .dport = dport};
    inet_pton(AF_INET6, src, sk.src);
    inet_pton(AF_INET6, dst, sk.dst);
    return sk;
}

/* A TIME_WAIT record that entered TIME_WAIT age_ms ago. */
static struct px_diag_sock tw(uint16_t sport, uint32_t age_ms)
{
    struct px_diag_sock sk = v4("127.0.0.1", sport, "127.0.0.1", 8080, TCP_TIME_WAIT);
    sk.expires_ms = 60000 - age_ms;
    return sk;
}

static const struct px_channel *only(const struct px_channels *t)
{
    const struct px_channel *c[4];
    assert_int_equal(px_channels_sorted(t, c, 4, 1), 1);
    return c[0];
}

/* Listeners, request sockets and accepted sockets are a server's; the rest form channels. */
static void px_channels_sum__client_side_only(void **state)
{
    (void)state;
    struct px_channels *t = px_channels_new(&no_reuse, NULL);
    struct px_diag_sock s[] = {
        v4("127.0.0.1", 8080, "0.0.0.0", 0, TCP_LISTEN),
        v4("127.0.0.1", 40010, "127.0.0.1", 8080, TCP_ESTABLISHED), /* client */
        v4("127.0.0.1", 8080, "127.0.0.1", 40010, TCP_ESTABLISHED), /* its accepted peer */
        v4("127.0.0.1", 8080, "127.0.0.1", 40011, 12),              /* NEW_SYN_RECV */
        v4("127.0.0.1", 9090, "127.0.0.1", 40012, TCP_TIME_WAIT),   /* listener gone */
        v4("127.0.0.1", 40013, "127.0.0.1", 8080, TCP_SYN_SENT),    /* client */
        v4("127.0.0.1", 40014, "127.0.0.1", 8080, TCP_CLOSE_WAIT),  /* client */
    };
    assert_int_equal(px_channels_sum(t, s, 7, 1000, 1.0), 0);
    const struct px_channel *c = only(t);
    assert_int_equal(px_channels_client_sockets(t), 3);
    assert_int_equal(c->state[TCP_ESTABLISHED], 1);
    assert_int_equal(c->state[TCP_SYN_SENT], 1);
    assert_int_equal(c->state[TCP_CLOSE_WAIT], 1);
    assert_int_equal(c->live, 3);
    assert_int_equal(c->in_use, 3);
    assert_ptr_equal(px_channels_of(t, &s[1]), c);
    assert_null(px_channels_of(t, &s[2]));
    char src[64], dst[64];
    px_channel_source(&c->key, src, sizeof(src));
    px_channel_destination(&c->key, dst, sizeof(dst));
    assert_string_equal(src, "127.0.0.1");
    assert_string_equal(dst, "127.0.0.1:8080");
    px_channels_free(t);
}

/* A v4-mapped IPv6 socket takes its port from the IPv4 budget: one channel, not two. */
static void px_channels_sum__folds_v4_mapped(void **state)
{
    (void)state;
    struct px_channels *t = px_channels_new(&no_reuse, NULL);
    struct px_diag_sock s[] = {
        v4("127.0.0.1", 40001, "127.0.0.1", 8080, TCP_ESTABLISHED),
        v6("::ffff:127.0.0.1", 40002, "::ffff:127.0.0.1", 8080, TCP_ESTABLISHED),
        v6("::1", 40003, "::1", 8080, TCP_ESTABLISHED),
    };
    px_channels_sum(t, s, 3, 1000, 1.0);
    const struct px_channel *c[4];
    assert_int_equal(px_channels_sorted(t, c, 4, 1), 2);
    assert_int_equal(c[0]->key.family, AF_INET);
    assert_int_equal(c[0]->live, 2);
    char dst[64];
    px_channel_destination(&c[1]->key, dst, sizeof(dst));
    assert_string_equal(dst, "[::1]:8080");
    px_channels_free(t);
}

/* Usable = range - reserved - bound inside the range (listening or bound only). */
static void px_channels_usable__range_reserved_bound(void **state)
{
    (void)state;
    struct px_channel_rules r = no_reuse;
    r.reserved = "40000-40009,50000";
    struct px_channels *t = px_channels_new(&r, NULL);
    assert_int_equal(px_channels_usable(t), 90);
    assert_int_equal(px_channels_reserved(t), 10);
    struct px_diag_sock s[] = {
        v4("0.0.0.0", 40050, "0.0.0.0", 0, TCP_LISTEN),
        v4("0.0.0.0", 40005, "0.0.0.0", 0, TCP_LISTEN), /* reserved already */
        v4("0.0.0.0", 8080, "0.0.0.0", 0, TCP_LISTEN),  /* outside the range */
    };
    px_channels_sum(t, s, 3, 1000, 1.0);
    assert_int_equal(px_channels_usable(t), 89);
    assert_int_equal(px_channels_bound(t), 1);
    static struct px_bound_ports b;
    memset(&b, 0, sizeof(b));
    b.bound[40060 / 8] |= 1u << (40060 % 8);
    b.bound[40050 / 8] |= 1u << (40050 % 8);
    b.listening[40070 / 8] |= 1u << (40070 % 8); /* not this tick's: left out */
    px_channels_set_bound(t, &b);
    assert_int_equal(px_channels_usable(t), 88);
    assert_int_equal(px_channels_bound(t), 2);
    px_channels_free(t);
}

/* Without reuse every TIME_WAIT port is held; the young ones are this tick's new ports. */
static void px_channels_sum__time_wait_without_reuse(void **state)
{
    (void)state;
    struct px_channels *t = px_channels_new(&no_reuse, NULL);
    struct px_diag_sock s[] = {tw(40001, 100), tw(40002, 900), tw(40003, 1500), tw(40004, 59000)};
    px_channels_sum(t, s, 4, 1000, 1.0);
    const struct px_channel *c = only(t);
    assert_int_equal(c->hold_ms, 60000);
    assert_false(c->reuse_applies);
    assert_int_equal(c->held_tw, 4);
    assert_int_equal(c->in_use, 4);
    assert_int_equal(c->entered_tw, 2);
    assert_true(c->new_per_s == 2.0);
    /* 59 s old: comes free within the first of the 60 one-second bins. */
    assert_int_equal(c->frees[0], 1);
    assert_int_equal(c->frees[59], 2);
    assert_int_equal(c->frees[58], 1);
    assert_int_equal(c->peak.time_wait, 4);
    px_channels_free(t);
}

/* tcp_tw_reuse=2 on loopback with a 1 s delay: only TIME_WAIT younger than it holds a port. */
static void px_channels_sum__reuse_on_loopback(void **state)
{
    (void)state;
    struct px_channel_rules r = no_reuse;
    r.tw_reuse = 2;
    struct px_channels *t = px_channels_new(&r, NULL);
    struct px_diag_sock s[] = {tw(40001, 100), tw(40002, 999), tw(40003, 1000), tw(40004, 30000),
                               v4("10.0.0.1", 40005, "10.0.0.2", 80, TCP_TIME_WAIT)};
    s[4].expires_ms = 30000;
    px_channels_sum(t, s, 5, 1000, 1.0);
    const struct px_channel *c[4];
    assert_int_equal(px_channels_sorted(t, c, 4, 1), 2);
    assert_true(c[0]->loopback);
    assert_true(c[0]->reuse_applies);
    assert_int_equal(c[0]->hold_ms, 1000);
    assert_int_equal(c[0]->held_tw, 2);
    assert_int_equal(c[0]->state[TCP_TIME_WAIT], 4);
    /* Off loopback, 2 acts as 0: the 30 s old socket still holds its port. */
    assert_false(c[1]->loopback);
    assert_false(c[1]->reuse_applies);
    assert_int_equal(c[1]->held_tw, 1);
    r.timestamps = 0; /* no timestamps from this end: no reuse anywhere */
    px_channels_set_rules(t, &r);
    px_channels_sum(t, s, 5, 1000, 2.0);
    assert_int_equal(px_channels_sorted(t, c, 4, 1), 2);
    assert_int_equal(c[0]->held_tw, 4);
    px_channels_free(t);
}

/* New ports per second: TIME_WAIT entered in the tick plus the growth of live sockets. */
static void px_channels_sum__rate_from_live_growth(void **state)
{
    (void)state;
    struct px_channels *t = px_channels_new(&no_reuse, NULL);
    struct px_diag_sock s[6];
    for (int i = 0; i < 6; i++)
        s[i] = v4("127.0.0.1", (uint16_t)(40001 + i), "127.0.0.1", 8080, TCP_ESTABLISHED);
    px_channels_sum(t, s, 2, 500, 0.5); /* first tick: live ones are not new */
    assert_true(only(t)->new_per_s == 0.0);
    s[0] = tw(40001, 200); /* one closed, four opened */
    px_channels_sum(t, s, 6, 500, 1.0);
    const struct px_channel *c = only(t);
    assert_int_equal(c->live, 5);
    assert_int_equal(c->entered_tw, 1);
    assert_true(c->new_per_s == 8.0); /* (1 + 5 - 2) / 0.5 s */
    assert_int_equal(c->new_total, 4);
    px_channels_sum(t, s, 0, 500, 1.5); /* all gone */
    assert_int_equal(px_channels_sorted(t, (const struct px_channel **)&c, 1, 1), 0);
    assert_int_equal(px_channels_count(t), 1);
    px_channels_free(t);
}

/* A channel with every usable port: 0 s to exhaustion, and the moment it first was. */
static void px_channels_sum__exhausted_is_zero(void **state)
{
    (void)state;
    struct px_channels *t = px_channels_new(&no_reuse, NULL);
    struct px_diag_sock s[100];
    for (int i = 0; i < 100; i++)
        s[i] = tw((uint16_t)(40000 + i), 5000);
    px_channels_sum(t, s, 99, 1000, 1.0);
    assert_true(only(t)->exhausted_in_s < 0); /* full at 99, taking none */
    assert_true(only(t)->first_full_s < 0);
    px_channels_sum(t, s, 100, 1000, 2.0);
    const struct px_channel *c = only(t);
    assert_int_equal(c->in_use, 100);
    assert_true(c->exhausted_in_s == 0.0);
    assert_true(c->first_full_s == 2.0);
    assert_int_equal(c->peak.in_use, 100);
    px_channels_free(t);
}

static void px_channel_exhausted_in_s__rate_and_frees(void **state)
{
    (void)state;
    struct px_channel c = {.hold_ms = 60000, .in_use = 50, .live = 50};
    assert_true(px_channel_exhausted_in_s(&c, 100, 10) == 5.0);
    assert_true(px_channel_exhausted_in_s(&c, 100, 0) == -1.0);
    assert_true(px_channel_exhausted_in_s(&c, 50, 0) == 0.0);
    /* 1/s for the 60 s hold adds 60 ports: 50 + 60 fits 120, not 100. */
    assert_true(px_channel_exhausted_in_s(&c, 120, 1) == -1.0);
    assert_true(px_channel_exhausted_in_s(&c, 100, 1) == 50.0);
    /* 80 in use, 30 of them TIME_WAIT freeing in the first second, 5 in the second. */
    struct px_channel d = {.hold_ms = 60000, .in_use = 80, .live = 50, .held_tw = 30};
    d.frees[0] = 30;
    assert_true(px_channel_exhausted_in_s(&d, 100, 20) == 1.0); /* 20 by the end of bin 0 */
    assert_true(px_channel_exhausted_in_s(&d, 100, 25) == 0.8);
    assert_true(px_channel_exhausted_in_s(&d, 100, 10) == 5.0); /* (20 + 30) / 10 */
}

/* --dest keeps the channels toward that address and port only; a mapped one too. */
static void px_channels_sum__dest_filter(void **state)
{
    (void)state;
    struct sockaddr_in dest = {.sin_family = AF_INET, .sin_port = htons(8080)};
    inet_pton(AF_INET, "127.0.0.1", &dest.sin_addr);
    struct px_channels *t = px_channels_new(&no_reuse, (struct sockaddr *)&dest);
    struct px_diag_sock s[] = {
        v4("127.0.0.1", 40001, "127.0.0.1", 8080, TCP_ESTABLISHED),
        v4("127.0.0.1", 40002, "127.0.0.1", 8081, TCP_ESTABLISHED),
        v6("::ffff:127.0.0.1", 40003, "::ffff:127.0.0.1", 8080, TCP_ESTABLISHED),
    };
    px_channels_sum(t, s, 3, 1000, 1.0);
    assert_int_equal(only(t)->live, 2);
    assert_int_equal(px_channels_count(t), 1);
    px_channels_free(t);
}

/* Fullest first; owners kept latest first, each once. */
static void px_channels_sorted__fullest_first_and_owners(void **state)
{
    (void)state;
    struct px_channels *t = px_channels_new(&no_reuse, NULL);
    struct px_diag_sock s[] = {
        v4("127.0.0.1", 40001, "127.0.0.1", 81, TCP_ESTABLISHED),
        v4("127.0.0.1", 40002, "127.0.0.1", 82, TCP_ESTABLISHED),
        v4("127.0.0.1", 40003, "127.0.0.1", 82, TCP_ESTABLISHED),
    };
    px_channels_sum(t, s, 3, 1000, 1.0);
    const struct px_channel *c[4];
    assert_int_equal(px_channels_sorted(t, c, 4, 0), 2);
    assert_int_equal(c[0]->key.dport, 82);
    struct px_channel *m = px_channels_of(t, &s[0]);
    px_channel_add_owner(m, 10);
    px_channel_add_owner(m, 20);
    px_channel_add_owner(m, 10);
    px_channel_add_owner(m, 30);
    assert_int_equal(m->owner[0], 30);
    assert_int_equal(m->owner[1], 10);
    assert_int_equal(m->owner[2], 20);
    assert_int_equal(m->owner[3], 0);
    px_channels_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_channels_sum__client_side_only),
        cmocka_unit_test(px_channels_sum__folds_v4_mapped),
        cmocka_unit_test(px_channels_usable__range_reserved_bound),
        cmocka_unit_test(px_channels_sum__time_wait_without_reuse),
        cmocka_unit_test(px_channels_sum__reuse_on_loopback),
        cmocka_unit_test(px_channels_sum__rate_from_live_growth),
        cmocka_unit_test(px_channels_sum__exhausted_is_zero),
        cmocka_unit_test(px_channel_exhausted_in_s__rate_and_frees),
        cmocka_unit_test(px_channels_sum__dest_filter),
        cmocka_unit_test(px_channels_sorted__fullest_first_and_owners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
