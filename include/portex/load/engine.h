/* SPDX-License-Identifier: MIT */
/* The load engine: worker threads, one event_base each, opening and closing connections. */
#ifndef PORTEX_ENGINE_H
#define PORTEX_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "portex/load/hist.h"
#include "portex/load/result.h"

struct px_load;
struct px_engine;

/* Prepares workers and the request bytes; NULL with the reason in err. */
struct px_engine *px_engine_new(const struct px_load *cfg, char *err, size_t errlen);
/* Starts the worker threads. 0, or -1 with the reason in err. */
int px_engine_start(struct px_engine *e, char *err, size_t errlen);
/* Asks every worker to stop starting requests and drain; safe from any thread. */
void px_engine_stop(struct px_engine *e);
/* True once every worker has finished. */
int px_engine_done(const struct px_engine *e);
/* Joins the workers. */
void px_engine_wait(struct px_engine *e);
/* Monotonic start time of the run (us), the zero of every series. */
uint64_t px_engine_start_us(const struct px_engine *e);
/*
 * The load window in seconds (valid after px_engine_wait): from the first start
 * to the end of -d, to a stop, or with -n to the last completion. Rates divide by it.
 */
double px_engine_duration_s(const struct px_engine *e);
/* How long in-flight requests drained after the load window (after px_engine_wait). */
double px_engine_drain_s(const struct px_engine *e);
/* Sums of all workers so far; safe while the run goes on. */
void px_engine_totals(const struct px_engine *e, struct px_totals *out);
/* Merged total-latency histogram so far; safe while the run goes on. */
void px_engine_total_hist(const struct px_engine *e, struct px_hist *out);
/* Merged TLS handshake latency histogram so far; safe while the run goes on. */
void px_engine_tls_hist(const struct px_engine *e, struct px_hist *out);
/* https: the negotiated protocol and OpenSSL's first reason per TLS cause
 * (after px_engine_wait); all empty for http. */
void px_engine_tls_summary(const struct px_engine *e, struct px_tls_summary *out);
/* Merged connect and first-byte histograms so far; safe while the run goes on. */
void px_engine_phase_hists(const struct px_engine *e, struct px_hist *connect,
                           struct px_hist *ttfb);
/* All merged histograms (after px_engine_wait). */
void px_engine_latency(const struct px_engine *e, struct px_latency *out);
/*
 * The run's first EADDRNOTAVAIL (after px_engine_wait): 1 with its time since
 * start and the ok count before it, 0 when there was none.
 */
int px_engine_first_eaddrnotavail(const struct px_engine *e, double *t_s, uint64_t *ok_before);
/* enum px_ts: were TCP timestamps negotiated on the run's first connection. */
int px_engine_timestamps(const struct px_engine *e);
void px_engine_free(struct px_engine *e);

#endif
