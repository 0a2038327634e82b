/* SPDX-License-Identifier: MIT */
/* Unit tests of URL and address parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "portex/base/url.h"

static void px_url_parse__host_port_path(void **state)
{
    (void)state;
    struct px_url u;
    char err[256];
    assert_int_equal(px_url_parse("http://127.0.0.1:8080/a/b?x=1", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/a/b?x=1");
    assert_int_equal(px_url_parse("http://example.test", &u, err, sizeof(err)), 0);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.path, "/");
    char host[300];
    px_url_host_header(&u, host, sizeof(host));
    assert_string_equal(host, "example.test");
}

static void px_url_parse__ipv6_literal(void **state)
{
    (void)state;
    struct px_url u;
    char err[256];
    assert_int_equal(px_url_parse("http://[::1]:9000/x", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);
    char host[300];
    px_url_host_header(&u, host, sizeof(host));
    assert_string_equal(host, "[::1]:9000");
    assert_int_equal(px_url_parse("http://[::1/x", &u, err, sizeof(err)), -1);
    assert_int_equal(px_url_parse("http://[zz::1]/", &u, err, sizeof(err)), -1);
}

static void px_url_parse__https_default_port(void **state)
{
    (void)state;
    struct px_url u;
    char err[256], host[300];
    assert_int_equal(px_url_parse("https://example.test/x", &u, err, sizeof(err)), 0);
    assert_int_equal(u.tls, 1);
    assert_int_equal(u.port, 443);
    px_url_host_header(&u, host, sizeof(host));
    assert_string_equal(host, "example.test");
    assert_int_equal(px_url_parse("HTTPS://[::1]:8443", &u, err, sizeof(err)), 0);
    assert_int_equal(u.tls, 1);
    assert_int_equal(u.port, 8443);
    assert_int_equal(px_url_parse("http://example.test/", &u, err, sizeof(err)), 0);
    assert_int_equal(u.tls, 0);
    assert_int_equal(u.port, 80);
    assert_int_equal(px_url_parse("httpx://example.test/", &u, err, sizeof(err)), -1);
}

static void px_url_parse__rejects_with_reason(void **state)
{
    (void)state;
    struct px_url u;
    char err[256];
    assert_int_equal(px_url_parse("gopher://127.0.0.1/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "expected http:// or https://"));
    assert_int_equal(px_url_parse("http://127.0.0.1:0/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "1-65535"));
    assert_int_equal(px_url_parse("http://127.0.0.1:65536/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "'65536'"));
    assert_int_equal(px_url_parse("127.0.0.1:80", &u, err, sizeof(err)), -1);
    assert_int_equal(px_url_parse("http://", &u, err, sizeof(err)), -1);
    assert_int_equal(px_url_parse("http://a b/", &u, err, sizeof(err)), -1);
    assert_int_equal(px_url_parse("http://host:/", &u, err, sizeof(err)), -1);
    assert_int_equal(px_url_parse("ftp://host/", &u, err, sizeof(err)), -1);
}

/* What http_parser lets through but a request line must not carry, and what it
 * takes that portex refuses. */
static void px_url_parse__request_target_and_refusals(void **state)
{
    (void)state;
    struct px_url u;
    char err[256];
    assert_int_equal(px_url_parse("http://h?x=1#frag", &u, err, sizeof(err)), 0);
    assert_string_equal(u.path, "/?x=1");
    assert_int_equal(px_url_parse("http://h/?", &u, err, sizeof(err)), 0);
    assert_string_equal(u.path, "/?");
    /* The fragment is never sent, never checked. */
    assert_int_equal(px_url_parse("http://h#", &u, err, sizeof(err)), 0);
    assert_string_equal(u.path, "/");
    assert_int_equal(px_url_parse("http://h/a#b c", &u, err, sizeof(err)), 0);
    assert_string_equal(u.path, "/a");
    assert_int_equal(px_url_parse("http://h/a\tb", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "invalid character in URL path"));
    assert_int_equal(px_url_parse("http://h/\xc3\xa4", &u, err, sizeof(err)), -1);
    assert_int_equal(px_url_parse("http://h/a b", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "0x20 at byte 11"));
    assert_int_equal(px_url_parse("http://u:p@h/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "user@ is not supported"));
    assert_int_equal(px_url_parse("http://@h/", &u, err, sizeof(err)), -1);
    assert_int_equal(px_url_parse("http://a!b/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unexpected character '!'"));
    assert_int_equal(px_url_parse("http://h:8x/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "'8x'"));
    assert_int_equal(px_url_parse("http:///x", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "expected a host"));
    assert_int_equal(px_url_parse("http://[zz::1]/", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "invalid IPv6 address 'zz::1'"));
    /* An IPv6 address without brackets: said, not "expected a host" or "invalid port". */
    assert_int_equal(px_url_parse("http://::1:8080/", &u, err, sizeof(err)), -1);
    assert_string_equal(err, "invalid URL 'http://::1:8080/': an IPv6 address goes in brackets, "
                             "as in http://[::1]:8080/");
    assert_int_equal(px_url_parse("http://fe80::1/x", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "an IPv6 address goes in brackets"));
}

static void px_url_parse__limits(void **state)
{
    (void)state;
    static char s[PX_URL_PATH_MAX + 64];
    struct px_url u;
    char err[PX_URL_HOST_MAX + 128]; /* the message quotes the URL */
    /* A path of PX_URL_PATH_MAX - 2 bytes is the longest taken. */
    strcpy(s, "http://h/");
    memset(s + 9, 'p', PX_URL_PATH_MAX - 3);
    s[9 + PX_URL_PATH_MAX - 3] = '\0';
    assert_int_equal(px_url_parse(s, &u, err, sizeof(err)), 0);
    assert_int_equal(strlen(u.path), PX_URL_PATH_MAX - 2);
    strcat(s, "p");
    assert_int_equal(px_url_parse(s, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "path too long"));
    strcpy(s, "http://");
    memset(s + 7, 'h', PX_URL_HOST_MAX - 1);
    s[7 + PX_URL_HOST_MAX - 1] = '\0';
    assert_int_equal(px_url_parse(s, &u, err, sizeof(err)), 0);
    strcat(s, "h");
    assert_int_equal(px_url_parse(s, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "1-255 bytes"));
    assert_int_equal(px_url_parse("http://h:65535", &u, err, sizeof(err)), 0);
    assert_int_equal(u.port, 65535);
    assert_int_equal(u.port_given, 1);
}

static void px_addr_parse__v4_v6(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    char err[256], out[64];
    assert_int_equal(px_addr_parse("127.0.0.1:0", &ss, &len, err, sizeof(err)), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(px_addr_parse("[::1]:8080", &ss, &len, err, sizeof(err)), 0);
    px_sockaddr_str((struct sockaddr *)&ss, out, sizeof(out));
    assert_string_equal(out, "[::1]:8080");
    assert_int_equal(px_addr_parse("localhost:80", &ss, &len, err, sizeof(err)), -1);
    assert_int_equal(px_addr_parse("1.2.3.4", &ss, &len, err, sizeof(err)), -1);
    assert_int_equal(px_addr_parse("1.2.3.4:70000", &ss, &len, err, sizeof(err)), -1);
}

static void px_url_parse__unix_socket_and_path(void **state)
{
    (void)state;
    struct px_url u;
    char err[256], out[160];

    assert_int_equal(px_url_parse("unix:/tmp/px.sock:/a/b?x=1", &u, err, sizeof(err)), 0);
    assert_string_equal(u.unix_path, "/tmp/px.sock");
    assert_string_equal(u.path, "/a/b?x=1");
    px_url_host_header(&u, out, sizeof(out));
    assert_string_equal(out, "localhost");
    struct px_url_addr a;
    assert_int_equal(px_url_resolve_all(&u, AF_UNSPEC, &a, 1, err, sizeof(err)), 1);
    assert_int_equal(a.ss.ss_family, AF_UNIX);
    assert_int_equal(a.len, 2 + strlen("/tmp/px.sock") + 1);
    px_sockaddr_str((struct sockaddr *)&a.ss, out, sizeof(out));
    assert_string_equal(out, "unix:/tmp/px.sock");

    assert_int_equal(px_url_parse("unix:/tmp/px.sock:/a#frag", &u, err, sizeof(err)), 0);
    assert_string_equal(u.path, "/a");
    assert_int_equal(px_url_parse("unix:rel.sock", &u, err, sizeof(err)), 0);
    assert_string_equal(u.unix_path, "rel.sock");
    assert_string_equal(u.path, "/");
}

static void px_url_parse__unix_rejects_with_reason(void **state)
{
    (void)state;
    struct px_url u;
    char err[256], longp[200];
    assert_int_equal(px_url_parse("unix:", &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unix:SOCKET"));
    assert_int_equal(px_url_parse("unix:/tmp/a.sock:x", &u, err, sizeof(err)), -1);
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(px_url_set_unix(&u, longp, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "1-107 bytes"));
}

/* Numeric hosts resolve to themselves; -4/-6 keep one family and name the option
 * when the host has none of it; a Unix socket is its one address. */
static void px_url_resolve_all__family_and_count(void **state)
{
    (void)state;
    struct px_url u;
    struct px_url_addr a[PX_URL_ADDRS_MAX];
    char err[256], out[160];
    assert_int_equal(px_url_parse("http://[::1]:8080/", &u, err, sizeof(err)), 0);
    assert_int_equal(px_url_resolve_all(&u, AF_UNSPEC, a, PX_URL_ADDRS_MAX, err, sizeof(err)), 1);
    px_sockaddr_str((struct sockaddr *)&a[0].ss, out, sizeof(out));
    assert_string_equal(out, "[::1]:8080");
    assert_int_equal(a[0].len, sizeof(struct sockaddr_in6));
    assert_int_equal(a[0].probe, PX_ADDR_NOT_TRIED);
    assert_int_equal(px_url_resolve_all(&u, AF_INET6, a, PX_URL_ADDRS_MAX, err, sizeof(err)), 1);
    assert_int_equal(px_url_resolve_all(&u, AF_INET, a, PX_URL_ADDRS_MAX, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot resolve '::1' to an IPv4 address (-4)"));
    assert_int_equal(px_url_parse("http://127.0.0.1:81/", &u, err, sizeof(err)), 0);
    assert_int_equal(px_url_resolve_all(&u, AF_INET6, a, PX_URL_ADDRS_MAX, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "(-6)"));
    assert_int_equal(px_url_parse("unix:/tmp/px.sock", &u, err, sizeof(err)), 0);
    assert_int_equal(px_url_resolve_all(&u, AF_UNSPEC, a, PX_URL_ADDRS_MAX, err, sizeof(err)), 1);
    assert_int_equal(a[0].ss.ss_family, AF_UNIX);
}

/* The words of a probe read back as the same value, errno names included. */
static void px_addr_probe_name__round_trips(void **state)
{
    (void)state;
    static const int probes[] = {PX_ADDR_NOT_TRIED, PX_ADDR_ANSWERED, ECONNREFUSED, ETIMEDOUT,
                                 ENETUNREACH};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        int back = -2;
        assert_int_equal(px_addr_probe_parse(px_addr_probe_name(probes[i]), &back), 0);
        assert_int_equal(back, probes[i]);
    }
    assert_string_equal(px_addr_probe_name(ECONNREFUSED), "ECONNREFUSED");
    assert_string_equal(px_addr_probe_name(PX_ADDR_ANSWERED), "answered");
    int p;
    assert_int_equal(px_addr_probe_parse("refused", &p), -1);
    assert_string_equal(px_family_name(AF_INET6), "ipv6");
    assert_null(px_family_name(AF_UNSPEC));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_url_parse__host_port_path),
        cmocka_unit_test(px_url_parse__ipv6_literal),
        cmocka_unit_test(px_url_parse__https_default_port),
        cmocka_unit_test(px_url_parse__rejects_with_reason),
        cmocka_unit_test(px_url_parse__request_target_and_refusals),
        cmocka_unit_test(px_url_parse__limits),
        cmocka_unit_test(px_addr_parse__v4_v6),
        cmocka_unit_test(px_url_parse__unix_socket_and_path),
        cmocka_unit_test(px_url_parse__unix_rejects_with_reason),
        cmocka_unit_test(px_url_resolve_all__family_and_count),
        cmocka_unit_test(px_addr_probe_name__round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
