/* SPDX-License-Identifier: MIT */
/* What portex doctor found (settings, the target's TCP_INFO, ceilings, traps), and its reports. */
#ifndef PORTEX_DOCTOR_REPORT_H
#define PORTEX_DOCTOR_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "portex/base/url.h"
#include "portex/kernel/ceiling.h"
#include "portex/kernel/kernel.h"

#define PX_DOCTOR_MAX_FLAGS    12
#define PX_DOCTOR_MAX_CEILINGS 8

/* What TCP_INFO told about one connection to the target. */
struct px_probe {
    int reached;       /* the connection was established */
    char error[512];   /* why not */
    int connect_errno; /* connect()'s errno when not reached; 0 otherwise */
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
    int tls_cause;        /* enum px_cause of a failed handshake (a TLS one), 0 when none */
};

struct px_doctor_ceiling {
    char config[64];
    struct px_ceiling c;
};

struct px_doctor {
    int has_target;                                        /* a URL was given */
    char url_text[PX_URL_PATH_MAX + PX_URL_HOST_MAX + 16]; /* as given */
    struct px_url url;
    int family;                                 /* -4 AF_INET, -6 AF_INET6, else AF_UNSPEC */
    struct px_url_addr addrs[PX_URL_ADDRS_MAX]; /* the URL's addresses and each probe */
    size_t naddrs;                              /* 0: none (no URL, or not resolved) */
    struct px_env env;
    uint64_t usable_ports;   /* the range minus reserved and bound ports */
    int64_t bound_ports;     /* ports of the range held without a connection; -1 unknown */
    int64_t bound_listening; /* of them, by a listener; -1 unknown */
    int64_t tw_all;          /* /proc/net/sockstat tw */
    int64_t tw_target;       /* sock_diag toward the target, -1 without one */
    struct px_tcpext ext;
    int have_ext;
    int64_t ct_count; /* nf_conntrack_count: connections tracked now; -1 no conntrack */
    int64_t ct_max;   /* nf_conntrack_max; -1 no conntrack */
    int nat_rules;    /* a nat chain (nftables) or table (iptables): 1 yes, 0 no, -1 unknown */
    struct px_probe probe;
    char flags[PX_DOCTOR_MAX_FLAGS][320];
    size_t nflags;
    struct px_doctor_ceiling ceilings[PX_DOCTOR_MAX_CEILINGS];
    size_t nceilings;
};

/* The settings and what each means, the target, the ceilings and the traps, for a person. */
void px_doctor_report_text(FILE *f, const struct px_doctor *d);
/* The same as one JSON document (README.md, portex doctor). */
void px_doctor_report_json(FILE *f, const struct px_doctor *d);

#endif
