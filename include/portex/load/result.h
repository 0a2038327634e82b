/* SPDX-License-Identifier: MIT */
/* What a run produced: totals, latency histograms, the time series, the environment. */
#ifndef PORTEX_RESULT_H
#define PORTEX_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "portex/kernel/ceiling.h"
#include "portex/load/hist.h"
#include "portex/kernel/kernel.h"
#include "portex/base/outcome.h"
#include "portex/load/counters.h"
#include "portex/load/series.h"

/* Counts of one worker, or of the whole run once summed: the PX_TOTALS list
 * (counters.h, one uint64_t each), then the two families of buckets. */
struct px_totals {
#define PX_TOTALS_MEMBER(name, https, meaning) uint64_t name;
    PX_TOTALS(PX_TOTALS_MEMBER)
#undef PX_TOTALS_MEMBER
    uint64_t status[6];             /* responses by class, index 1..5 */
    uint64_t cause[PX_CAUSE_COUNT]; /* failures by enum px_cause; they add up to `failed` */
};

/* Latency histograms of a run. */
struct px_latency {
    struct px_hist connect; /* connect() to established, new connections only */
    struct px_hist ttfb;    /* intended start to first response byte */
    struct px_hist total;   /* intended start to whole response */
    struct px_hist tls;     /* https: connection established to TLS handshake done */
    struct px_hist connect_call; /* the nonblocking connect() call itself: the kernel's
                                  * port search, slower as the range fills */
};

#define PX_TLS_REASON_MAX 128

/* The TLS side of a run (https only). */
struct px_tls_summary {
    char version[16]; /* protocol of a completed handshake ("TLSv1.3"), "" when none */
    /* OpenSSL's reason for the first failure of each TLS cause, indexed by
     * cause - PX_CAUSE_TLS_HANDSHAKE; "" when that cause never happened. */
    char reason[PX_CAUSE_TLS_EOF - PX_CAUSE_TLS_HANDSHAKE + 1][PX_TLS_REASON_MAX];
};

#include "portex/load/load.h"

/* What the run did to the port budget, and what theory says it should. */
struct px_exhaustion {
    int64_t time_wait_peak;     /* TIME_WAIT toward the target, highest sample; -1 unknown */
    int64_t time_wait_at_start; /* already there before the run (earlier runs); -1 unknown */
    int seen;                   /* some request failed with EADDRNOTAVAIL */
    double first_s;             /* time of the first one */
    uint64_t ok_before;         /* ok requests before it */
    uint64_t usable_ports;      /* P: range in force minus reserved, bound and open ports */
    int64_t bound_ports;        /* ports of the range held without a connection at start
                                 * (listeners, bound-only sockets), each once; -1 unknown */
    int64_t bound_listening;    /* of them, held by a listener; -1 unknown */
    int64_t open_ports;         /* ports of the range that connections already open toward the
                                 * target from the run's source addresses held at start (another
                                 * program's), not counted in bound_ports; -1 unknown */
    unsigned port_lo, port_hi;  /* range in force (namespace range or --port-range) */
    int timestamps;             /* enum px_ts, from TCP_INFO on the first connection */
    int loopback;               /* target is on loopback */
    struct px_ceiling ceiling;  /* prediction for this run's settings */
};

/* One finished run, as the reports see it. */
struct px_run {
    /* The load as it ran: the run's own copy (px_run_free frees it); its method,
     * headers and body are borrowed from the command's config. */
    struct px_load *load;
    struct px_totals totals;
    struct px_latency lat;
    double duration_s; /* the load window: first start to the end of -d, a stop, or
                        * (-n) the last completion; every rate divides by it */
    double drain_s;    /* in-flight requests finishing after the window (counted) */
    struct px_env env; /* kernel and limits in the run's namespace, at start */
    struct px_series series;
    struct px_exhaustion ex;
    int interrupted;    /* stopped early by SIGINT or SIGTERM */
    int64_t t0_unix_ns; /* wall clock of the engine's start (aligns hosts' series); 0 unknown */
    char host[64];      /* host name of the client */
    unsigned hosts;     /* results merged into this one; 0 or 1: one host */
    struct px_tls_summary tls;
};

/* A run of load, with nothing measured yet (a copy of load is kept). NULL when out of memory. */
struct px_run *px_run_new(const struct px_load *load);
/* Frees the run, its series and its copy of the load. NULL is fine. */
void px_run_free(struct px_run *run);
/* Fills run->ex.ceiling and the port fields from env, cfg, the bound ports and the
 * measured latency. */
void px_run_predict(struct px_run *run);
/*
 * What px_run_predict fills, for a load in env whose requests last lifetime_s
 * on average, with ex->timestamps as negotiated: the usable ports and the
 * ceiling into ex. Reads nothing else, so a run still going can be predicted.
 */
void px_exhaustion_predict(struct px_exhaustion *ex, const struct px_load *cfg,
                           const struct px_env *env, double lifetime_s);

/* dst += src; reads src with relaxed atomic loads (a worker may be writing it). */
void px_totals_add(struct px_totals *dst, const struct px_totals *src);
/* Attempts still in flight. */
uint64_t px_totals_in_flight(const struct px_totals *t);
/* Count of one errno cause. */
uint64_t px_totals_errno(const struct px_totals *t, int err);

#endif
