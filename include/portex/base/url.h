/* SPDX-License-Identifier: MIT */
/* http:// and https:// URLs: parsing, and resolving the target to its addresses at start. */
#ifndef PORTEX_URL_H
#define PORTEX_URL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PX_URL_HOST_MAX 256
#define PX_URL_PATH_MAX 2048
#define PX_URL_UNIX_MAX 108 /* sizeof(sockaddr_un.sun_path) */

struct px_url {
    char host[PX_URL_HOST_MAX];      /* without IPv6 brackets */
    uint16_t port;                   /* 80 when absent (443 for https) */
    int port_given;                  /* port written in the URL */
    int ipv6_literal;                /* host was [..] */
    char path[PX_URL_PATH_MAX];      /* "/" when absent; includes the query */
    char unix_path[PX_URL_UNIX_MAX]; /* Unix-socket target; "" for TCP */
    int tls;                         /* https:// */
};

/*
 * Parses "http[s]://host[:port][/path]", or "unix:SOCKET[:/path]" (a Unix-socket
 * target; Host: localhost). 0, or -1 with a one-line reason in err.
 */
int px_url_parse(const char *s, struct px_url *url, char *err, size_t errlen);
/* Sets the Unix socket to connect to (--unix). 0, or -1 with the reason in err. */
int px_url_set_unix(struct px_url *url, const char *path, char *err, size_t errlen);
/* A Unix-socket address for path. 0, or -1 with the reason in err. */
int px_unix_addr(const char *path, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
                 size_t errlen);
/* The Host header value: host, [v6] and ":port" when the port was given. */
void px_url_host_header(const struct px_url *url, char *out, size_t outlen);

/* Addresses of one name kept (and probed) at most, in the resolver's order: more than a
 * DNS round robin gives (8 dropped the 9th and 10th of a 10-address name unsaid). */
#define PX_URL_ADDRS_MAX 32

/* What a probe connect() found at one address; any other value is the errno it failed with
 * (ETIMEDOUT when --connect-timeout passed). */
#define PX_ADDR_NOT_TRIED (-1) /* not probed: an earlier address answered, or the only one */
#define PX_ADDR_ANSWERED  0    /* the connection was established */

/* One address the target's name resolved to, and what a probe connect to it found. */
struct px_url_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int probe; /* PX_ADDR_NOT_TRIED, PX_ADDR_ANSWERED or an errno */
};

/*
 * Resolves host:port to its addresses of one family (AF_INET for -4, AF_INET6 for -6,
 * AF_UNSPEC for both), each once, in the resolver's order (RFC 6724 in glibc: ::1
 * before 127.0.0.1 when /etc/hosts lists both), at most max; a Unix-socket target is
 * its one address. Every probe is PX_ADDR_NOT_TRIED. The count (at least 1), or -1
 * with the reason in err.
 */
int px_url_resolve_all(const struct px_url *url, int family, struct px_url_addr *out, size_t max,
                       char *err, size_t errlen);
/* "answered", "not tried", or the errno's name ("ECONNREFUSED"). */
const char *px_addr_probe_name(int probe);
/* The reverse of px_addr_probe_name into *probe. 0, or -1 for a name it never gives. */
int px_addr_probe_parse(const char *name, int *probe);
/* "ipv4" (-4), "ipv6" (-6), or NULL for AF_UNSPEC (both families). */
const char *px_family_name(int family);
/* Numeric "IP:PORT" or "[IPv6]:PORT" (port 0 allowed). 0, or -1 with the reason in err. */
int px_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
                  size_t errlen);
/* A numeric IPv4 or IPv6 address with port 0. 0 or -1. */
int px_ip_parse(const char *s, struct sockaddr_storage *ss);
/* The address alone: "1.2.3.4" or "::1". */
void px_sockaddr_ip(const struct sockaddr *sa, char *out, size_t outlen);
/* "1.2.3.4:80", "[::1]:80" or "unix:/path". */
void px_sockaddr_str(const struct sockaddr *sa, char *out, size_t outlen);

#endif
