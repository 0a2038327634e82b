/* SPDX-License-Identifier: MIT */
/*
 * nginx as the lab's reverse proxy: found on PATH (or in /usr/sbin), given a
 * generated config in a private tmpfs of the middle namespace (nothing on the
 * host's disk), run as one process (master_process off) that dies with the
 * process that started it, and its upstream connect() failures counted from
 * its error log.
 */
#ifndef PORTEX_CMD_LAB_NGINX_H
#define PORTEX_CMD_LAB_NGINX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PX_NGINX_DIR "/tmp/portex-nginx" /* in the middle's own tmpfs */
#define PX_NGINX_LOG PX_NGINX_DIR "/error.log"

/* What the proxy does. */
struct px_nginx_conf {
    const char *dir;      /* its config, pid file, error log and temp paths */
    const char *listen;   /* IP:PORT the client connects to */
    const char *upstream; /* IP:PORT of portex serve */
    int http11;           /* proxy_http_version 1.1 and Connection "" (else nginx's HTTP/1.0) */
    unsigned keepalive;   /* idle upstream connections kept (keepalive N); 0 none */
};

/* The nginx binary: PATH, then /usr/sbin, /sbin, /usr/local/sbin. 0, or -1. */
int px_nginx_find(char *out, size_t outlen);
/* nginx.conf for c into out. Its length, or -1 when out is too small. */
int px_nginx_conf_text(const struct px_nginx_conf *c, char *out, size_t outlen);
/*
 * In a new mount namespace, a tmpfs over /tmp: what nginx writes there goes
 * when the last process of the namespace exits, SIGKILL included. 0, or -1
 * with the reason.
 */
int px_nginx_private_tmp(char *err, size_t errlen);
/*
 * Writes c's config under c->dir and starts nginx (bin) on it: the process
 * gets PR_SET_PDEATHSIG SIGKILL before exec, so it dies with the caller, and
 * /dev/null for stdio. Returns its pid once its pid file exists (its
 * listening socket is open then), or -1 with the reason (its log's last line).
 */
pid_t px_nginx_start(const char *bin, const struct px_nginx_conf *c, char *err, size_t errlen);
/* SIGTERM, at most 2 s for it to exit, then SIGKILL; reaped. */
void px_nginx_stop(pid_t pid);
/*
 * Lines of the error log at path that record a connect() failing with errno 99
 * (EADDRNOTAVAIL: "(99: Cannot assign requested address)"). -1 when unreadable.
 */
int64_t px_nginx_count_eaddrnotavail(const char *path);

#endif
