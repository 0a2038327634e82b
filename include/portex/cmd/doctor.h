/* SPDX-License-Identifier: MIT */
/*
 * portex doctor: this namespace's port budget and TIME_WAIT settings, what is
 * a trap among them, and for a target, whether it negotiates TCP timestamps
 * (without them tcp_tw_reuse cannot help) and the predicted ceilings.
 */
#ifndef PORTEX_DOCTOR_H
#define PORTEX_DOCTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "portex/base/config.h"
#include "portex/kernel/ceiling.h"
#include "portex/kernel/kernel.h"
#include "portex/base/url.h"

#define PX_DOCTOR_MAX_FLAGS    12
#define PX_DOCTOR_MAX_CEILINGS 8

/* What TCP_INFO told about one connection to the target. */
struct px_probe {
    int reached;     /* the connection was established */
    char error[512]; /* why not */
    struct sockaddr_storage addr;
    int timestamps;       /* negotiated (TCPI_OPT_TIMESTAMPS) */
    int window_scaling;   /* TCPI_OPT_WSCALE */
    int sack;             /* TCPI_OPT_SACK */
    uint32_t rtt_us;      /* smoothed RTT */
    int http_status;      /* status of a GET, 0 when none came */
    int tls;              /* https: a TLS probe was made */
    char tls_version[16]; /* negotiated protocol ("TLSv1.3"), "" when no handshake */
    int tls_resumed;      /* a second connection resumed the first one's session */
    char tls_error[320];  /* why the handshake failed, "" when it did not */
};

struct px_doctor_ceiling {
    char config[64];
    struct px_ceiling c;
};

struct px_doctor {
    struct px_env env;
    uint64_t usable_ports;
    int64_t tw_all;    /* /proc/net/sockstat tw */
    int64_t tw_target; /* sock_diag toward the target, -1 without one */
    struct px_tcpext ext;
    int have_ext;
    struct px_probe probe;
    char flags[PX_DOCTOR_MAX_FLAGS][320];
    size_t nflags;
    struct px_doctor_ceiling ceilings[PX_DOCTOR_MAX_CEILINGS];
    size_t nceilings;
};

/* Opens one connection to addr, reads TCP_INFO, asks GET path. 0 or -1 (error set). */
int px_doctor_probe(const struct sockaddr *addr, socklen_t len, const char *host_header,
                    const char *path, uint64_t timeout_ms, struct px_probe *out);
/* As px_doctor_probe over TLS (no verification: doctor describes, it does not
 * judge trust), then a second connection offering the first's session ticket. -1 when
 * no TLS handshake completed (TCP facts still filled when reached). */
int px_doctor_probe_tls(const struct sockaddr *addr, socklen_t len, const char *host,
                        const char *host_header, const char *path, uint64_t timeout_ms,
                        struct px_probe *out);
/* Fills d from the proc tree (and the probe, already in d->probe when has_target). */
void px_doctor_examine(const char *proc, const struct px_doctor_config *cfg, struct px_doctor *d);
void px_doctor_report_text(FILE *f, const struct px_doctor_config *cfg, const struct px_doctor *d);
void px_doctor_report_json(FILE *f, const struct px_doctor_config *cfg, const struct px_doctor *d);

#endif
