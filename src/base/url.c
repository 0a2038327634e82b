/* SPDX-License-Identifier: MIT */
/* URL parsing and one-shot name resolution for the target. */
#include "portex/base/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "portex/base/parse.h"

/* "http://" or "https://" (sets url->tls): what follows, or NULL with the reason. */
static const char *parse_scheme(const char *s, struct px_url *url, char *err, size_t errlen)
{
    const char *sep = strstr(s, "://");
    if (sep == NULL) {
        snprintf(err, errlen, "invalid URL '%s': expected http[s]://host[:port][/path]", s);
        return NULL;
    }
    size_t slen = (size_t)(sep - s);
    if (slen == 5 && strncasecmp(s, "https", 5) == 0) {
        url->tls = 1;
    } else if (slen != 4 || strncasecmp(s, "http", 4) != 0) {
        snprintf(err, errlen, "unsupported scheme in '%s': expected http:// or https:// (or unix:)",
                 s);
        return NULL;
    }
    return sep + 3;
}

int px_url_set_unix(struct px_url *url, const char *path, char *err, size_t errlen)
{
    if (path[0] == '\0' || strlen(path) >= sizeof(url->unix_path)) {
        snprintf(err, errlen, "invalid Unix socket path '%s': expected 1-%d bytes", path,
                 PX_URL_UNIX_MAX - 1);
        return -1;
    }
    strcpy(url->unix_path, path);
    return 0;
}

/* "unix:SOCKET[:/path]": the socket path ends at the first ':'. */
static int parse_unix(const char *s, struct px_url *url, char *err, size_t errlen)
{
    const char *sock = s + 5;
    size_t slen = strcspn(sock, ":");
    char path[PX_URL_UNIX_MAX];
    if (slen == 0 || slen >= sizeof(path)) {
        snprintf(err, errlen, "invalid URL '%s': expected unix:SOCKET[:/path], SOCKET 1-%d bytes",
                 s, PX_URL_UNIX_MAX - 1);
        return -1;
    }
    memcpy(path, sock, slen);
    path[slen] = '\0';
    const char *rest = sock[slen] == ':' ? sock + slen + 1 : "/";
    /* The path as in http:// URLs: a fragment is dropped, the same length limit. */
    size_t plen = strcspn(rest, "#");
    if (*rest != '/' || plen + 2 > sizeof(url->path)) {
        snprintf(err, errlen, "invalid URL '%s': expected unix:SOCKET[:/path]", s);
        return -1;
    }
    for (size_t i = 0; i < plen; i++) {
        if ((unsigned char)rest[i] <= 0x20 || (unsigned char)rest[i] >= 0x7f) {
            snprintf(err, errlen, "invalid character in URL path of '%s'", s);
            return -1;
        }
    }
    strcpy(url->host, "localhost");
    url->port = 80;
    memcpy(url->path, rest, plen);
    url->path[plen] = '\0';
    return px_url_set_unix(url, path, err, errlen);
}

/* The host: an [IPv6] literal or a name/IPv4 of [A-Za-z0-9._-]. Returns what follows it, or NULL.
 */
static const char *parse_host(const char *s, const char *h, struct px_url *url, char *err,
                              size_t errlen)
{
    const char *host_end, *after;
    if (*h == '[') {
        host_end = strchr(h, ']');
        if (host_end == NULL) {
            snprintf(err, errlen, "invalid URL '%s': unterminated IPv6 literal", s);
            return NULL;
        }
        h++;
        after = host_end + 1;
        url->ipv6_literal = 1;
    } else {
        host_end = h + strcspn(h, ":/?#");
        after = host_end;
    }
    size_t hlen = (size_t)(host_end - h);
    if (hlen == 0 || hlen >= sizeof(url->host)) {
        snprintf(err, errlen, "invalid URL '%s': expected a host after ://", s);
        return NULL;
    }
    memcpy(url->host, h, hlen);
    if (url->ipv6_literal) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, url->host, &a6) != 1) {
            snprintf(err, errlen, "invalid IPv6 address '%s' in URL", url->host);
            return NULL;
        }
        return after;
    }
    for (size_t i = 0; i < hlen; i++) {
        int c = (unsigned char)url->host[i];
        if (!isalnum(c) && c != '-' && c != '.' && c != '_') {
            snprintf(err, errlen, "invalid host '%s' in URL: unexpected character '%c'", url->host,
                     c);
            return NULL;
        }
    }
    return after;
}

/* ":PORT" when present (1-65535). Returns what follows it, or NULL. */
static const char *parse_port(const char *s, const char *after, struct px_url *url, char *err,
                              size_t errlen)
{
    url->port = url->tls ? 443 : 80;
    if (*after != ':')
        return after;
    const char *p = after + 1;
    size_t plen = strcspn(p, "/?#");
    char port[8];
    uint64_t v;
    if (plen == 0 || plen >= sizeof(port)) {
        snprintf(err, errlen, "invalid port in '%s': expected 1-65535", s);
        return NULL;
    }
    memcpy(port, p, plen);
    port[plen] = '\0';
    if (px_parse_u64(port, 1, 65535, &v) < 0) {
        snprintf(err, errlen, "invalid port '%s' in URL: expected 1-65535", port);
        return NULL;
    }
    url->port = (uint16_t)v;
    url->port_given = 1;
    return p + plen;
}

/* The path with its query ("/" when absent); the fragment is never sent. 0 or -1. */
static int parse_path(const char *s, const char *after, struct px_url *url, char *err,
                      size_t errlen)
{
    if (*after == '\0' || *after == '#') {
        strcpy(url->path, "/");
        return 0;
    }
    if (*after != '/' && *after != '?') {
        snprintf(err, errlen, "invalid URL '%s': expected http://host[:port][/path]", s);
        return -1;
    }
    size_t plen = strcspn(after, "#");
    if (plen + 2 > sizeof(url->path)) {
        snprintf(err, errlen, "URL path too long: at most %d bytes", PX_URL_PATH_MAX - 2);
        return -1;
    }
    size_t off = 0;
    if (*after == '?')
        url->path[off++] = '/';
    memcpy(url->path + off, after, plen);
    for (size_t i = 0; url->path[i]; i++) {
        unsigned char c = (unsigned char)url->path[i];
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errlen, "invalid character in URL path of '%s'", s);
            return -1;
        }
    }
    return 0;
}

int px_url_parse(const char *s, struct px_url *url, char *err, size_t errlen)
{
    memset(url, 0, sizeof(*url));
    if (strncmp(s, "unix:", 5) == 0)
        return parse_unix(s, url, err, errlen);
    const char *h = parse_scheme(s, url, err, errlen);
    const char *after = h ? parse_host(s, h, url, err, errlen) : NULL;
    after = after ? parse_port(s, after, url, err, errlen) : NULL;
    return after ? parse_path(s, after, url, err, errlen) : -1;
}

void px_url_host_header(const struct px_url *url, char *out, size_t outlen)
{
    const char *l = url->ipv6_literal ? "[" : "";
    const char *r = url->ipv6_literal ? "]" : "";
    if (url->port_given)
        snprintf(out, outlen, "%s%s%s:%u", l, url->host, r, url->port);
    else
        snprintf(out, outlen, "%s%s%s", l, url->host, r);
}

int px_unix_addr(const char *path, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
                 size_t errlen)
{
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    memset(ss, 0, sizeof(*ss));
    if (path[0] == '\0' || strlen(path) >= sizeof(un->sun_path)) {
        snprintf(err, errlen, "invalid Unix socket path '%s': expected 1-%zu bytes", path,
                 sizeof(un->sun_path) - 1);
        return -1;
    }
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    *sslen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    return 0;
}

int px_url_resolve(const struct px_url *url, struct sockaddr_storage *ss, socklen_t *sslen,
                   char *err, size_t errlen)
{
    if (url->unix_path[0])
        return px_unix_addr(url->unix_path, ss, sslen, err, errlen);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", url->port);
    int rc = getaddrinfo(url->host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "cannot resolve '%s': %s", url->host, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int px_ip_parse(const char *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

int px_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
                  size_t errlen)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            goto bad;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            goto bad;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= sizeof(host))
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    uint64_t port;
    if (px_parse_u64(colon + 1, 0, 65535, &port) < 0 || px_ip_parse(host, ss) < 0)
        goto bad;
    if (ss->ss_family == AF_INET) {
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        *sslen = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(struct sockaddr_in6);
    }
    return 0;
bad:
    snprintf(err, errlen, "invalid address '%s': expected IP:PORT or [IPv6]:PORT", s);
    return -1;
}

void px_sockaddr_ip(const struct sockaddr *sa, char *out, size_t outlen)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (inet_ntop(sa->sa_family, a, out, (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "?");
}

void px_sockaddr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(out, outlen, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(out, outlen, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(out, outlen, "unix:%s", ((const struct sockaddr_un *)sa)->sun_path);
    } else {
        snprintf(out, outlen, "?");
    }
}
