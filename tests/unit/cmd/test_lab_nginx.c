/* SPDX-License-Identifier: MIT */
/* Unit tests of the lab's nginx: its generated config and the count of errno-99 log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fakeproc.h"
#include "portex/cmd/lab_nginx.h"

/* One process that keeps its parent-death signal, every path under dir, nothing else. */
static void px_nginx_conf_text__one_process_everything_under_dir(void **state)
{
    (void)state;
    struct px_nginx_conf c = {
        .dir = "/tmp/px", .listen = "198.18.1.254:80", .upstream = "198.18.2.1:80"};
    char out[4096];
    assert_true(px_nginx_conf_text(&c, out, sizeof(out)) > 0);
    const char *want[] = {"daemon off;",
                          "master_process off;",
                          "user root root;",
                          "pid /tmp/px/nginx.pid;",
                          "error_log /tmp/px/error.log error;",
                          "client_body_temp_path /tmp/px/body;",
                          "proxy_temp_path /tmp/px/proxy;",
                          "fastcgi_temp_path /tmp/px/fastcgi;",
                          "uwsgi_temp_path /tmp/px/uwsgi;",
                          "scgi_temp_path /tmp/px/scgi;",
                          "server 198.18.2.1:80;",
                          "listen 198.18.1.254:80"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(out, want[i]) == NULL)
            fail_msg("missing %s in:\n%s", want[i], out);
    /* nginx's default upstream: HTTP/1.0, no keepalive. */
    assert_null(strstr(out, "proxy_http_version"));
    assert_null(strstr(out, "keepalive"));
    assert_int_equal(px_nginx_conf_text(&c, out, 64), -1);
}

static void px_nginx_conf_text__http11_and_keepalive(void **state)
{
    (void)state;
    struct px_nginx_conf c = {.dir = "/tmp/px",
                              .listen = "198.18.1.254:80",
                              .upstream = "198.18.2.1:80",
                              .http11 = 1,
                              .keepalive = 32};
    char out[4096];
    assert_true(px_nginx_conf_text(&c, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "proxy_http_version 1.1;"));
    assert_non_null(strstr(out, "proxy_set_header Connection \"\";"));
    assert_non_null(strstr(out, "keepalive 32;"));
}

/* Only the connect() failures with errno 99 count; a missing log is -1. */
static void px_nginx_count_eaddrnotavail__errno_99_lines(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "error.log",
                   "2026/12/06 03:00:00 [crit] 7#7: *1 connect() to 198.18.2.1:80 failed (99: "
                   "Cannot assign requested address) while connecting to upstream, client: "
                   "198.18.1.1\n"
                   "2026/12/06 03:00:00 [error] 7#7: *2 connect() failed (111: Connection "
                   "refused) while connecting to upstream\n"
                   "2026/12/06 03:00:01 [crit] 7#7: *3 connect() to 198.18.2.1:80 failed (99: "
                   "Cannot assign requested address) while connecting to upstream\n");
    char path[512];
    snprintf(path, sizeof(path), "%s/error.log", dir);
    assert_int_equal(px_nginx_count_eaddrnotavail(path), 2);
    snprintf(path, sizeof(path), "%s/missing.log", dir);
    assert_int_equal(px_nginx_count_eaddrnotavail(path), -1);
    fakeproc_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_nginx_conf_text__one_process_everything_under_dir),
        cmocka_unit_test(px_nginx_conf_text__http11_and_keepalive),
        cmocka_unit_test(px_nginx_count_eaddrnotavail__errno_99_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
