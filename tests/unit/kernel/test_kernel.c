/* SPDX-License-Identifier: MIT */
/* Unit tests of the kernel readers against a fake /proc tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include "fakeproc.h"
#include "portex/kernel/kernel.h"

static const char netstat[] =
    "TcpExt: SyncookiesSent TW TWRecycled TWKilled PAWSTimewait TCPAbortOnData "
    "TCPTimeWaitOverflow TCPSynRetrans ListenOverflows ListenDrops\n"
    "TcpExt: 0 1234 56 3 2749 7 89 321 4 5\n"
    "IpExt: InNoRoutes\n"
    "IpExt: 0\n";

static const char sockstat[] = "sockets: used 100\n"
                               "TCP: inuse 5 orphan 0 tw 14116 alloc 10 mem 1\n"
                               "UDP: inuse 1 mem 0\n";

static void px_tcpext_read__named_fields(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "net/netstat", netstat);
    struct px_tcpext ext;
    assert_int_equal(px_tcpext_read(dir, &ext), 0);
    assert_int_equal(ext.tw, 1234);
    assert_int_equal(ext.tw_recycled, 56);
    assert_int_equal(ext.abort_on_data, 7);
    assert_int_equal(ext.tw_overflow, 89);
    assert_int_equal(ext.syn_retrans, 321);
    assert_int_equal(ext.tw_killed, 3);
    assert_int_equal(ext.paws_timewait, 2749);
    assert_int_equal(ext.listen_drops, 5);
    fakeproc_remove(dir);
}

/* /proc/net/snmp: the Tcp pair of lines, past Ip and Icmp, MaxConn's -1 left alone. */
static void px_tcp_snmp_read__tcp_lines(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "net/snmp",
                   "Ip: Forwarding DefaultTTL\nIp: 1 64\n"
                   "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens "
                   "AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs "
                   "OutRsts InCsumErrors\n"
                   "Tcp: 1 200 120000 -1 6000 1117 0 0 3 100 200 0 0 2749 0\n"
                   "Udp: InDatagrams\nUdp: 5\n");
    struct px_tcp_snmp tcp;
    assert_int_equal(px_tcp_snmp_read(dir, &tcp), 0);
    assert_int_equal(tcp.active_opens, 6000);
    assert_int_equal(tcp.passive_opens, 1117);
    assert_int_equal(tcp.out_rsts, 2749);
    fakeproc_remove(dir);
}

/* Columns by header name, hex, insert_failed and drop summed over the CPU rows. */
static void px_conntrack_read__sums_cpu_rows(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "net/stat/nf_conntrack",
                   "entries  clashres found new invalid ignore delete chainlength insert "
                   "insert_failed drop early_drop icmp_error  expect_new expect_create "
                   "expect_delete search_restart\n"
                   "00000064  00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
                   "00000000 0000012c 0000012c 00000000 00000000  00000000 00000000 00000000 "
                   "00000000\n"
                   "00000064  00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
                   "00000000 00000064 00000064 00000000 00000000  00000000 00000000 00000000 "
                   "00000000\n");
    struct px_conntrack ct;
    assert_int_equal(px_conntrack_read(dir, &ct), 0);
    assert_int_equal(ct.entries, 100);
    assert_int_equal(ct.insert_failed, 400);
    assert_int_equal(ct.drop, 400);
    fakeproc_write(dir, "net/stat/nf_conntrack", "entries insert_failed drop\n");
    assert_int_equal(px_conntrack_read(dir, &ct), -1); /* no row */
    fakeproc_remove(dir);
}

/* One thread's reads of its own tree, and how many came back wrong. */
struct tcpext_reader {
    char *dir;
    uint64_t tw; /* the TW value written in dir */
    int wrong;
};

static void *tcpext_read_loop(void *arg)
{
    struct tcpext_reader *r = arg;
    for (int i = 0; i < 3000; i++) {
        struct px_tcpext ext;
        if (px_tcpext_read(r->dir, &ext) < 0 || ext.tw != r->tw)
            r->wrong++;
    }
    return NULL;
}

/* The stats thread and doctor read at the same time: neither may see the other's lines. */
static void px_tcpext_read__two_threads_at_once(void **state)
{
    (void)state;
    struct tcpext_reader r[2] = {{.dir = fakeproc_new(), .tw = 1111},
                                 {.dir = fakeproc_new(), .tw = 2222}};
    fakeproc_write(r[0].dir, "net/netstat", "TcpExt: TW TWRecycled\nTcpExt: 1111 1\n");
    fakeproc_write(r[1].dir, "net/netstat",
                   "TcpExt: SyncookiesSent SyncookiesRecv TW\nTcpExt: 0 0 2222\n");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, tcpext_read_loop, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(r[0].wrong, 0);
    assert_int_equal(r[1].wrong, 0);
    fakeproc_remove(r[0].dir);
    fakeproc_remove(r[1].dir);
}

static void px_sockstat_tw__reads_tw(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "net/sockstat", sockstat);
    assert_int_equal(px_sockstat_tw(dir), 14116);
    assert_int_equal(px_sockstat_tw("/nonexistent"), -1);
    fakeproc_remove(dir);
}

static void px_env_read__sysctls_and_absent_delay(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "sys/net/ipv4/ip_local_port_range", "1000\t1999\n");
    fakeproc_write(dir, "sys/net/ipv4/ip_local_reserved_ports", "1000-1009,1500\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_tw_reuse", "2\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_timestamps", "1\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_fin_timeout", "30\n");
    struct px_env env;
    px_env_read(dir, &env);
    assert_int_equal(env.port_lo, 1000);
    assert_int_equal(env.port_hi, 1999);
    assert_string_equal(env.reserved_ports, "1000-1009,1500");
    assert_int_equal(env.tw_reuse, 2);
    assert_int_equal(env.tw_reuse_delay_ms, -1);
    assert_int_equal(env.timestamps, 1);
    assert_int_equal(env.fin_timeout, 30);
    assert_int_equal(
        px_usable_ports(env.port_lo, env.port_hi, 0, 0, env.reserved_ports, NULL, NULL), 1000 - 11);
    fakeproc_remove(dir);
}

static void px_usable_ports__per_socket_range_narrows(void **state)
{
    (void)state;
    unsigned lo, hi;
    assert_int_equal(px_usable_ports(32768, 60999, 40000, 40099, "", &lo, &hi), 100);
    assert_int_equal(lo, 40000);
    assert_int_equal(hi, 40099);
    /* A bound outside the namespace range is ignored, as the kernel does. */
    assert_int_equal(px_usable_ports(32768, 60999, 1000, 32867, "", &lo, &hi), 100);
    assert_int_equal(lo, 32768);
    assert_int_equal(px_usable_ports(32768, 60999, 0, 0, "", NULL, NULL), 28232);
    assert_int_equal(px_reserved_in_range("32768-32777,40000, 70000", 32768, 60999), 11);
}

static void px_is_loopback__v4_v6(void **state)
{
    (void)state;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.3.2.1", &a.sin_addr);
    assert_true(px_is_loopback(&a));
    inet_pton(AF_INET, "198.18.0.2", &a.sin_addr);
    assert_false(px_is_loopback(&a));
    struct sockaddr_in6 b = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::1", &b.sin6_addr);
    assert_true(px_is_loopback(&b));
    inet_pton(AF_INET6, "2001:db8::1", &b.sin6_addr);
    assert_false(px_is_loopback(&b));
}

static void px_sysctl_write_int__round_trip(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "sys/net/ipv4/tcp_tw_reuse", "2\n");
    assert_int_equal(px_sysctl_write_int(dir, "net.ipv4.tcp_tw_reuse", 0), 0);
    int64_t v;
    assert_int_equal(px_sysctl_int(dir, "net.ipv4.tcp_tw_reuse", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(px_sysctl_int(dir, "net.ipv4.nope", &v), -1);
    fakeproc_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_tcpext_read__named_fields),
        cmocka_unit_test(px_tcp_snmp_read__tcp_lines),
        cmocka_unit_test(px_conntrack_read__sums_cpu_rows),
        cmocka_unit_test(px_tcpext_read__two_threads_at_once),
        cmocka_unit_test(px_sockstat_tw__reads_tw),
        cmocka_unit_test(px_env_read__sysctls_and_absent_delay),
        cmocka_unit_test(px_usable_ports__per_socket_range_narrows),
        cmocka_unit_test(px_is_loopback__v4_v6),
        cmocka_unit_test(px_sysctl_write_int__round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
