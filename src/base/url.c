/* SPDX-License-Identifier: MIT */
/* URL parsing (http_parser_parse_url for http[s]://) and name resolution at start. */
#include "portex/base/url.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "portex/base/parse.h"

/* "http://" or "https://" (sets url->tls), case as the user likes. Returns the length
 * of the scheme with its "://", or 0 with the reason. http_parser takes any scheme:
 * this is the one check that is portex's own. */
static size_t parse_scheme(const char *s, struct px_url *url, char *err, size_t errlen)
{
    if (strncasecmp(s, "https://", 8) == 0) {
        url->tls = 1;
        return 8;
    }
    if (strncasecmp(s, "http://", 7) == 0)
        return 7;
    if (strstr(s, "://") == NULL)
        snprintf(err, errlen, "invalid URL '%s': expected http[s]://host[:port][/path]", s);
    else
        snprintf(err, errlen, "unsupported scheme in '%s': expected http:// or https:// (or unix:)",
                 s);
    return 0;
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

/* What http_parser takes in a host name (and IPv4 address). */
#define HOST_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_"

/* The text of one field http_parser found, or NULL when it found none. */
static const char *field(const char *s, const struct http_parser_url *u,
                         enum http_parser_url_fields f, size_t *len)
{
    if (!(u->field_set & (1u << f)))
        return NULL;
    *len = u->field_data[f].len;
    return s + u->field_data[f].off;
}

/* The host (http_parser has checked its characters), without user info. 0 or -1. */
static int take_host(const char *s, size_t scheme_len, const struct http_parser_url *u,
                     struct px_url *url, char *err, size_t errlen)
{
    size_t hlen = 0;
    const char *h = field(s, u, UF_HOST, &hlen);
    url->ipv6_literal = h != NULL && h[-1] == '[';
    /* Anything between "://" and the host is user info ("user:pass@"). */
    if (h != NULL && h - url->ipv6_literal != s + scheme_len) {
        snprintf(err, errlen,
                 "invalid URL '%s': user@ is not supported (portex sends no credentials); "
                 "expected http[s]://host[:port][/path]",
                 s);
        return -1;
    }
    if (hlen == 0 || hlen >= sizeof(url->host)) {
        snprintf(err, errlen, "invalid URL '%s': expected a host of 1-%d bytes after ://", s,
                 PX_URL_HOST_MAX - 1);
        return -1;
    }
    memcpy(url->host, h, hlen);
    struct in6_addr a6;
    if (url->ipv6_literal && inet_pton(AF_INET6, url->host, &a6) != 1) {
        snprintf(err, errlen, "invalid IPv6 address '%s' in URL", url->host);
        return -1;
    }
    return 0;
}

/* The port when written (http_parser took 0-65535), else the scheme's. 0 or -1. */
static int take_port(const char *s, const struct http_parser_url *u, struct px_url *url, char *err,
                     size_t errlen)
{
    size_t plen;
    const char *p = field(s, u, UF_PORT, &plen);
    url->port = url->tls ? 443 : 80;
    if (p == NULL)
        return 0;
    if (u->port == 0) {
        snprintf(err, errlen, "invalid port '%.*s' in URL: expected 1-65535", (int)plen, p);
        return -1;
    }
    url->port = u->port;
    url->port_given = 1;
    return 0;
}

/* The request target: what follows the host and port up to the fragment, "/" when
 * empty; a bare query gets its "/". http_parser lets tabs and bytes over 0x7f
 * through (non-strict build), which must not go into a request line. 0 or -1. */
static int take_path(const char *s, size_t len, const struct http_parser_url *u, struct px_url *url,
                     char *err, size_t errlen)
{
    size_t hlen = 0, plen = 0;
    const char *host = field(s, u, UF_HOST, &hlen); /* present: take_host passed */
    const char *port = field(s, u, UF_PORT, &plen);
    const char *end = port ? port + plen : host + hlen + url->ipv6_literal;
    size_t tlen = len - (size_t)(end - s);
    size_t off = *end != '/';
    if (tlen + 2 > sizeof(url->path)) {
        snprintf(err, errlen, "URL path too long: at most %d bytes", PX_URL_PATH_MAX - 2);
        return -1;
    }
    url->path[0] = '/';
    memcpy(url->path + off, end, tlen);
    url->path[off + tlen] = '\0';
    for (size_t i = 0; url->path[i]; i++) {
        unsigned char c = (unsigned char)url->path[i];
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errlen, "invalid character in URL path of '%s'", s);
            return -1;
        }
    }
    return 0;
}

/* The first byte of s[0, len) that is a space or a control character, or len. */
static size_t first_blank(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (unsigned char)s[i] > 0x20 && (unsigned char)s[i] != 0x7f)
        i++;
    return i;
}

/* True when [from, to) holds 1-65535 in decimal. */
static int port_ok(const char *from, const char *to)
{
    char text[8];
    uint64_t v;
    size_t n = (size_t)(to - from);
    if (n == 0 || n >= sizeof(text))
        return 0;
    memcpy(text, from, n);
    text[n] = '\0';
    return px_parse_u64(text, 1, 65535, &v) == 0;
}

/* True when [from, to) is an IPv6 address. */
static int ipv6_ok(const char *from, const char *to)
{
    char text[INET6_ADDRSTRLEN + 1];
    struct in6_addr a6;
    size_t n = (size_t)(to - from);
    if (n >= sizeof(text))
        return 0;
    memcpy(text, from, n);
    text[n] = '\0';
    return inet_pton(AF_INET6, text, &a6) == 1;
}

/* The colons in [from, to): two or more is an IPv6 address (a port adds one). */
static size_t colons(const char *from, const char *to)
{
    size_t n = 0;
    for (; from < to; from++)
        n += *from == ':';
    return n;
}

/*
 * http_parser only says no. Name the part at fault, left to right as a user reads
 * the URL: a blank, the host, the IPv6 literal, the port; else say what is
 * expected. Diagnosis only: nothing here accepts a URL.
 */
static int explain(const char *s, size_t scheme_len, size_t len, char *err, size_t errlen)
{
    const char *auth = s + scheme_len, *end = auth + strcspn(auth, "/?#");
    const char *close = *auth == '[' ? memchr(auth, ']', (size_t)(end - auth)) : NULL;
    const char *after = close ? close + 1 : auth + strspn(auth, HOST_CHARS);
    size_t blank = first_blank(s, len);
    if (len > UINT16_MAX)
        snprintf(err, errlen, "URL too long: at most %u bytes before any #fragment", UINT16_MAX);
    else if (blank < len)
        snprintf(err, errlen,
                 "invalid URL '%s': space or control character 0x%02x at byte %zu "
                 "(percent-encode it in a path)",
                 s, (unsigned char)s[blank], blank + 1);
    else if (*auth != '[' && colons(auth, end) >= 2)
        snprintf(err, errlen,
                 "invalid URL '%s': an IPv6 address goes in brackets, as in "
                 "http://[::1]:8080/",
                 s);
    else if (end == auth || *auth == ':')
        snprintf(err, errlen, "invalid URL '%s': expected a host after ://", s);
    else if (*auth == '[' && close == NULL)
        snprintf(err, errlen, "invalid URL '%s': unterminated IPv6 literal", s);
    else if (close != NULL && !ipv6_ok(auth + 1, close))
        snprintf(err, errlen, "invalid IPv6 address '%.*s' in URL", (int)(close - auth - 1),
                 auth + 1);
    else if (close == NULL && after < end && *after != ':')
        snprintf(err, errlen, "invalid host '%.*s' in URL: unexpected character '%c'",
                 (int)(strcspn(auth, ":/?#")), auth, *after);
    else if (after < end && *after == ':' && !port_ok(after + 1, end))
        snprintf(err, errlen, "invalid port '%.*s' in URL: expected 1-65535",
                 (int)(end - after - 1), after + 1);
    else
        snprintf(err, errlen, "invalid URL '%s': expected http[s]://host[:port][/path]", s);
    return -1;
}

int px_url_parse(const char *s, struct px_url *url, char *err, size_t errlen)
{
    memset(url, 0, sizeof(*url));
    if (strncmp(s, "unix:", 5) == 0)
        return parse_unix(s, url, err, errlen);
    size_t scheme_len = parse_scheme(s, url, err, errlen);
    if (scheme_len == 0)
        return -1;
    /* The fragment is never sent: cut before parsing and not checked. http_parser
     * keeps offsets in 16 bits. */
    size_t len = strcspn(s, "#");
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (len > UINT16_MAX || http_parser_parse_url(s, len, 0, &u) != 0)
        return explain(s, scheme_len, len, err, errlen);
    if (take_host(s, scheme_len, &u, url, err, errlen) < 0 ||
        take_port(s, &u, url, err, errlen) < 0)
        return -1;
    return take_path(s, len, &u, url, err, errlen);
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

/* True when a and b are the same address and port. */
static int same_addr(const struct px_url_addr *a, const struct addrinfo *b)
{
    return a->len == b->ai_addrlen && memcmp(&a->ss, b->ai_addr, b->ai_addrlen) == 0;
}

/* The words of a failed resolution, with the family when -4 or -6 narrowed it. */
static void resolve_error(const struct px_url *url, int family, int rc, char *err, size_t errlen)
{
    if (family == AF_UNSPEC)
        snprintf(err, errlen, "cannot resolve '%s': %s", url->host, gai_strerror(rc));
    else
        snprintf(err, errlen, "cannot resolve '%s' to an %s address (%s): %s", url->host,
                 family == AF_INET ? "IPv4" : "IPv6", family == AF_INET ? "-4" : "-6",
                 gai_strerror(rc));
}

int px_url_resolve_all(const struct px_url *url, int family, struct px_url_addr *out, size_t max,
                       char *err, size_t errlen)
{
    memset(out, 0, max * sizeof(*out));
    out[0].probe = PX_ADDR_NOT_TRIED;
    if (url->unix_path[0])
        return px_unix_addr(url->unix_path, &out[0].ss, &out[0].len, err, errlen) < 0 ? -1 : 1;
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", url->port);
    int rc = getaddrinfo(url->host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        resolve_error(url, family, rc != 0 ? rc : EAI_NONAME, err, errlen);
        return -1;
    }
    size_t n = 0;
    for (const struct addrinfo *ai = res; ai != NULL && n < max; ai = ai->ai_next) {
        int seen = ai->ai_addrlen > sizeof(out[0].ss);
        for (size_t i = 0; i < n && !seen; i++)
            seen = same_addr(&out[i], ai);
        if (seen)
            continue;
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        out[n++].probe = PX_ADDR_NOT_TRIED;
    }
    freeaddrinfo(res);
    return (int)n;
}

const char *px_addr_probe_name(int probe)
{
    if (probe == PX_ADDR_NOT_TRIED)
        return "not tried";
    if (probe == PX_ADDR_ANSWERED)
        return "answered";
    const char *name = probe > 0 ? strerrorname_np(probe) : NULL;
    return name ? name : "error";
}

int px_addr_probe_parse(const char *name, int *probe)
{
    /* Every errno glibc names lies below 256. */
    for (int p = PX_ADDR_NOT_TRIED; p < 256; p++) {
        if (strcmp(px_addr_probe_name(p), name) == 0) {
            *probe = p;
            return 0;
        }
    }
    return -1;
}

const char *px_family_name(int family)
{
    return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : NULL;
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
