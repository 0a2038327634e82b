/* SPDX-License-Identifier: MIT */
/* http:// and https:// URLs: parsing and resolving the target once at start. */
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
/* Resolves host:port (first answer), or the Unix socket. 0, or -1 with the reason in err. */
int px_url_resolve(const struct px_url *url, struct sockaddr_storage *ss, socklen_t *sslen,
                   char *err, size_t errlen);
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
