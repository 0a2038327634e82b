/* SPDX-License-Identifier: MIT */
/* libFuzzer target: URL, IP:PORT and IP parsers on one NUL-terminated string. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/url.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The Host header with the path is a URL again, and parses back to the same fields. */
static void check_url(const struct px_url *u)
{
    CHECK(u->host[0] != '\0' && strlen(u->host) < sizeof(u->host));
    CHECK(u->path[0] == '/' && strlen(u->path) < sizeof(u->path));
    CHECK(u->port != 0);
    char host[PX_URL_HOST_MAX + 16];
    px_url_host_header(u, host, sizeof(host));
    CHECK(strlen(host) < sizeof(host) - 1);
    char tiny[6];
    px_url_host_header(u, tiny, sizeof(tiny));
    CHECK(strlen(tiny) < sizeof(tiny));

    static char again[sizeof(host) + PX_URL_PATH_MAX + 16];
    /* The same scheme: https:// defaults to port 443, http:// to 80. */
    snprintf(again, sizeof(again), "%s://%s%s", u->tls ? "https" : "http", host, u->path);
    static struct px_url v;
    char err[256];
    CHECK(px_url_parse(again, &v, err, sizeof(err)) == 0);
    CHECK(strcmp(u->host, v.host) == 0 && strcmp(u->path, v.path) == 0);
    CHECK(u->port == v.port && u->port_given == v.port_given);
    CHECK(u->ipv6_literal == v.ipv6_literal && u->tls == v.tls);
    if (u->unix_path[0]) {
        /* A unix: URL prints as unix:SOCKET:PATH and parses back the same. */
        CHECK(strlen(u->unix_path) < sizeof(u->unix_path) && strchr(u->unix_path, ':') == NULL);
        snprintf(again, sizeof(again), "unix:%s:%s", u->unix_path, u->path);
        CHECK(px_url_parse(again, &v, err, sizeof(err)) == 0);
        CHECK(strcmp(u->unix_path, v.unix_path) == 0 && strcmp(u->path, v.path) == 0);
    }
}

/* An address prints as IP:PORT and parses back to the same bytes. */
static void check_addr(const struct sockaddr_storage *ss, socklen_t len)
{
    CHECK(ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
    CHECK(len ==
          (ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)));
    char text[80], ip[64], err[256];
    px_sockaddr_str((const struct sockaddr *)ss, text, sizeof(text));
    px_sockaddr_ip((const struct sockaddr *)ss, ip, sizeof(ip));
    struct sockaddr_storage back;
    socklen_t back_len;
    CHECK(px_addr_parse(text, &back, &back_len, err, sizeof(err)) == 0);
    CHECK(back_len == len && memcmp(&back, ss, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan sees any read past the terminator. */
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    static struct px_url url;
    char err[512];
    err[0] = '\0';
    if (px_url_parse(s, &url, err, sizeof(err)) == 0)
        check_url(&url);
    else
        CHECK(err[0] != '\0');

    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (px_addr_parse(s, &ss, &len, err, sizeof(err)) == 0)
        check_addr(&ss, len);

    if (px_ip_parse(s, &ss) == 0) {
        CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
        char ip[64];
        px_sockaddr_ip((const struct sockaddr *)&ss, ip, sizeof(ip));
        struct sockaddr_storage back;
        CHECK(px_ip_parse(ip, &back) == 0 && memcmp(&back, &ss, sizeof(ss)) == 0);
    }
    free(s);
    return 0;
}
