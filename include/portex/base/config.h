/* SPDX-License-Identifier: MIT */
/* One load run's settings, filled by the cli and read by the engine and reports. */
#ifndef PORTEX_CONFIG_H
#define PORTEX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "portex/base/url.h"

#define PX_MAX_HEADERS 64
#define PX_MAX_SOURCES 256

enum px_close {
    PX_CLOSE_CLIENT, /* client sends FIN first and holds TIME_WAIT */
    PX_CLOSE_SERVER, /* "Connection: close", wait for the server's FIN */
    PX_CLOSE_RST,    /* SO_LINGER {1, 0}: RST, no TIME_WAIT */
};

struct px_config {
    char url_text[PX_URL_PATH_MAX + PX_URL_HOST_MAX + 16];
    struct px_url url;
    struct sockaddr_storage target; /* resolved once at start */
    socklen_t target_len;

    unsigned threads;     /* worker threads, each with its own event_base */
    unsigned connections; /* closed model: slots; open model: in-flight cap */
    double rate_per_s;    /* open model when > 0 */
    uint64_t duration_ms; /* 0 with requests > 0 */
    uint64_t requests;    /* -n: exact count, 0 = by duration */
    int keepalive;        /* -k */
    enum px_close close;  /* short mode only */
    uint64_t connect_timeout_ms;
    uint64_t timeout_ms;  /* whole request, from its (intended) start */
    uint64_t interval_ms; /* stats tick */
    int quiet;            /* -q: no live line */

    const char *method;
    const char *headers[PX_MAX_HEADERS];
    size_t nheaders;
    char *body; /* malloc'd, may be NULL */
    size_t body_len;

    uint16_t port_lo, port_hi;                       /* --port-range, 0 = namespace range */
    struct sockaddr_storage sources[PX_MAX_SOURCES]; /* --source, port 0 */
    size_t nsources;

    /* https:// only: see portex/load/tls.h */
    int tls_insecure;       /* --insecure: no certificate verification */
    const char *tls_cacert; /* --cacert FILE, NULL: the system store */
    int tls_version;        /* --tls-version: 0 (both ends agree), 12 or 13 */
    int tls_resume;         /* --tls-resume: 0 off, 1 ticket (enum px_tls_resume) */

    const char *json_path; /* "-" = stdout */
    const char *csv_path;
    const char *svg_path;
};

/* Defaults of `portex run`. */
void px_config_defaults(struct px_config *cfg);
/* Frees what the config owns (the body). */
void px_config_release(struct px_config *cfg);
/* "short" or "keepalive". */
const char *px_config_mode_name(const struct px_config *cfg);
/* "client", "server" or "rst". */
const char *px_close_name(enum px_close c);
/* "off" or "ticket". */
const char *px_tls_resume_name(int resume);

#endif
