/* SPDX-License-Identifier: MIT */
/*
 * Ceilings through a middle (KERNEL-FACTS.md, Behind a NAT, behind a proxy):
 * what a source NAT and a reverse proxy allow, predicted from their settings
 * (or, where the outcome hangs on a race, from the split the lab measured),
 * set beside what was measured, with the rule in words and a verdict.
 */
#ifndef PORTEX_KERNEL_MIDDLE_H
#define PORTEX_KERNEL_MIDDLE_H

#include <stddef.h>
#include <stdint.h>

#include "portex/kernel/netns.h"

/* What sits between the client and the server. */
enum px_middle { PX_MIDDLE_NONE, PX_MIDDLE_NAT, PX_MIDDLE_PROXY };

/* The middle's settings, as the lab made it. */
struct px_middle_settings {
    enum px_middle kind;
    unsigned nat_ports;          /* NAT: source ports per NAT address */
    unsigned nat_addrs;          /* NAT: addresses (2: alternating per new flow) */
    const char *nat_flags;       /* NAT: nft flags ("fully-random"), NULL none */
    unsigned proxy_ports;        /* proxy: the middle's ip_local_port_range size */
    int proxy_reuse;             /* proxy: the middle's tcp_tw_reuse */
    unsigned reuse_delay_ms;     /* proxy: the middle's tcp_tw_reuse_delay (reuse 1); 0: the
                                  * kernel has none, reuse after the next whole second */
    int upstream_http11;         /* proxy: proxy_http_version 1.1 and Connection "" */
    unsigned upstream_keepalive; /* proxy: idle upstream connections kept; 0 none */
};

/* The rule a mode through a middle is judged by. */
enum px_middle_rule {
    PX_RULE_NONE,            /* no middle: the port ceilings of ceiling.c */
    PX_RULE_NAT_RECYCLE,     /* client closes: conntrack recycles NAT tuples, nothing fails */
    PX_RULE_NAT_PAWS,        /* server closes: its TIME_WAIT refuses some recycled tuples */
    PX_RULE_NAT_CONCURRENCY, /* keep-alive: NAT ports x addresses connections at once */
    PX_RULE_PROXY_CLOSES,    /* the proxy closes every upstream connection first */
    PX_RULE_PROXY_RACE,      /* who closes first is a race: judged from the measured split */
    PX_RULE_PROXY_KEEPALIVE, /* upstream keepalive: no new upstream port per request */
};

/* What the lab measured around one mode, beside the client's own run. */
struct px_middle_figures {
    int measured;   /* 0: nothing measured (the mode did not run) */
    int has_middle; /* a middle namespace existed */
    struct px_netns_figures client, middle, server;
    int64_t upstream_eaddrnotavail; /* proxy: nginx's "(99: ...)" log lines; -1 otherwise */
};

/* A mode's run as the rules read it. */
struct px_middle_in {
    enum px_middle_rule rule;
    struct px_middle_settings set;
    double duration_s;    /* the mode's -d */
    double rate_per_s;    /* the mode's -r; 0: closed model */
    uint64_t requests;    /* started by the client (missed starts excluded) */
    uint64_t ok, failed;  /* client */
    uint64_t status_5xx;  /* client: HTTP 5xx answers (the proxy's 502s) */
    uint64_t connections; /* client: connections opened */
    unsigned slots;       /* client: -c */
    const struct px_middle_figures *fig;
};

enum px_verdict { PX_VERDICT_NONE, PX_VERDICT_MATCHES, PX_VERDICT_EXPLAINED, PX_VERDICT_DIFFERS };

#define PX_MIDDLE_TOLERANCE 0.05 /* matches (or explained) within 5% of the prediction */

/* The rule applied to one mode. */
struct px_judgement {
    enum px_verdict verdict;
    const char *figure; /* what the rule predicts: "ok", "connections", "failed" */
    double predicted, measured;
    char rule[400];  /* the rule in words, with the numbers */
    char split[200]; /* PX_VERDICT_EXPLAINED: the measured split it rests on; "" else */
    char why[200];   /* PX_VERDICT_DIFFERS: what differs; "" else */
};

/* Applies in->rule to the measured figures. */
void px_middle_judge(const struct px_middle_in *in, struct px_judgement *out);
/* "matches", "explained", "differs", or "-" (none). */
const char *px_verdict_name(enum px_verdict v);
/* Whether measured is within PX_MIDDLE_TOLERANCE of predicted (0 only for 0). */
int px_middle_within(double measured, double predicted);

#endif
