/* SPDX-License-Identifier: MIT */
/*
 * How a request's end is counted, whichever connection carried it (an
 * HTTP/1.1 slot, an HTTP/2 stream): a whole response by its status, a
 * failure by its cause, and which failures call for a pause before the next
 * try. The worker's own counters only (one thread writes them).
 */
#ifndef PORTEX_LOAD_TALLY_H
#define PORTEX_LOAD_TALLY_H

#include <stdint.h>

struct px_latency;
struct px_totals;

/* One failure of cause (enum px_cause); the run's first failure for want of
 * a port (out_of_ports: px_dial_out_of_ports) is noted in *first_eaddr_us
 * (monotonic us, shared by the workers: atomic). */
void px_tally_failure(struct px_totals *ctr, uint64_t *first_eaddr_us, int cause, int out_of_ports);
/* One whole response started at t_start_us: its total latency, its status
 * class, and ok (2xx, 3xx) or the failure its status is (4xx, 5xx, 101, other). */
void px_tally_response(struct px_totals *ctr, struct px_latency *lat, uint64_t *first_eaddr_us,
                       uint64_t t_start_us, int status);
/* 1 when a try at once would only repeat the failure (no free port, no fd,
 * nobody listening, no route, no h2 by ALPN): pause instead of spinning. */
int px_tally_backoff(int cause);

#endif
