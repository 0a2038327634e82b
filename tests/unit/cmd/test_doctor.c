/* SPDX-License-Identifier: MIT */
/* Unit tests of doctor's findings over a fake /proc: what reaching tcp_max_tw_buckets means. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fakeproc.h"
#include "portex/cmd/doctor.h"
#include "portex/kernel/netlink.h"

/* A fresh namespace's settings with the TcpExt line given. */
static char *namespace_with(const char *tcpext_values)
{
    char *dir = fakeproc_new();
    fakeproc_write(dir, "sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
    fakeproc_write(dir, "sys/net/ipv4/ip_local_reserved_ports", "\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_tw_reuse", "2\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_timestamps", "1\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_fin_timeout", "60\n");
    fakeproc_write(dir, "sys/net/ipv4/tcp_max_tw_buckets", "262144\n");
    char netstat[256];
    snprintf(netstat, sizeof(netstat), "TcpExt: TW TWRecycled TCPTimeWaitOverflow\nTcpExt: %s\n",
             tcpext_values);
    fakeproc_write(dir, "net/netstat", netstat);
    return dir;
}

static int has_flag(const struct px_doctor *d, const char *text)
{
    for (size_t i = 0; i < d->nflags; i++)
        if (strstr(d->flags[i], text) != NULL)
            return 1;
    return 0;
}

/* The sysctl's line says what reaching it means; a namespace that reached it is told so. */
static void px_doctor_examine__tw_buckets_reached(void **state)
{
    (void)state;
    static struct px_doctor_config cfg;
    static struct px_doctor d;
    static struct px_bound_ports none; /* no port held inside the range */
    char *dir = namespace_with("10 0 0");
    px_doctor_config_defaults(&cfg);
    memset(&d, 0, sizeof(d));
    px_doctor_examine(dir, &cfg, &none, &d);
    assert_false(has_flag(&d, "TCPTimeWaitOverflow is"));
    fakeproc_remove(dir);
    dir = namespace_with("10 0 250");
    memset(&d, 0, sizeof(d));
    px_doctor_examine(dir, &cfg, &none, &d);
    assert_true(has_flag(&d, "TCPTimeWaitOverflow is 250: tcp_max_tw_buckets (262144) was "
                             "reached and that many sockets skipped TIME_WAIT"));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    px_doctor_report_text(f, &d);
    fclose(f);
    assert_non_null(strstr(text, "tcp_max_tw_buckets     262144: TIME_WAIT sockets kept at most; "
                                 "past it new ones are dropped at once (TCPTimeWaitOverflow)"));
    free(text);
    fakeproc_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_doctor_examine__tw_buckets_reached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
