/* SPDX-License-Identifier: MIT */
/* Unit tests of portex watch's options: defaults, each value, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "portex/cmd/cli.h"
#include "portex/cmd/watch.h"

static int parse(struct px_watch_cmd_config *cfg, char *err, size_t errlen, int argc, ...)
{
    char *argv[16] = {"watch"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return px_watch_parse(argc, argv, cfg, err, errlen);
}

static void px_watch_parse__defaults(void **state)
{
    (void)state;
    struct px_watch_cmd_config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, sizeof(err), 1), PX_CLI_OK);
    assert_int_equal(cfg.watch.interval_ms, 1000);
    assert_int_equal(cfg.watch.duration_ms, 0);
    assert_int_equal(cfg.watch.count, 0);
    assert_int_equal(cfg.watch.dest.ss_family, AF_UNSPEC);
    assert_int_equal(cfg.watch.trace, 1);
    assert_null(cfg.out.json);
    assert_int_equal(cfg.out.quiet, 0);
}

static void px_watch_parse__every_option(void **state)
{
    (void)state;
    struct px_watch_cmd_config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, sizeof(err), 9, "--interval", "250ms", "-d", "2m", "--dest",
                           "[2001:db8::1]:443", "--json", "-"),
                     PX_CLI_OK);
    assert_int_equal(cfg.watch.interval_ms, 250);
    assert_int_equal(cfg.watch.duration_ms, 120000);
    const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)&cfg.watch.dest;
    assert_int_equal(d->sin6_family, AF_INET6);
    assert_int_equal(ntohs(d->sin6_port), 443);
    assert_string_equal(cfg.out.json, "-");
    assert_int_equal(parse(&cfg, err, sizeof(err), 4, "--count", "3", "-q"), PX_CLI_OK);
    assert_int_equal(cfg.watch.count, 3);
    assert_int_equal(cfg.out.quiet, 1);
}

static void px_watch_parse__refusals_name_the_value(void **state)
{
    (void)state;
    struct px_watch_cmd_config cfg;
    char err[256];
    assert_int_equal(parse(&cfg, err, sizeof(err), 3, "--dest", "example.com:80"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "invalid --dest 'example.com:80': expected IP:PORT"));
    assert_int_equal(parse(&cfg, err, sizeof(err), 3, "--interval", "99ms"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "invalid --interval '99ms'"));
    assert_int_equal(parse(&cfg, err, sizeof(err), 5, "-d", "5s", "--count", "1"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "-d and --count"));
    assert_int_equal(parse(&cfg, err, sizeof(err), 2, "eth0"), PX_CLI_USAGE);
    assert_non_null(strstr(err, "unexpected argument 'eth0'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_watch_parse__defaults),
        cmocka_unit_test(px_watch_parse__every_option),
        cmocka_unit_test(px_watch_parse__refusals_name_the_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
