/* SPDX-License-Identifier: MIT */
/* The port budget in words: the range, and what connect() cannot take from it. */
#ifndef PORTEX_REPORT_PORTS_H
#define PORTEX_REPORT_PORTS_H

#include <stddef.h>
#include <stdint.h>

struct px_exhaustion;

/* "1 bound by a listener", "2 bound: 1 by a listener, 1 by a socket that neither
 * listens nor connects"; "" when none is (or unknown, bound < 0). */
void px_ports_bound_words(char *out, size_t outlen, int64_t bound, int64_t listening);
/*
 * Where one run's usable ports come from, in parentheses: "(32768-60999,
 * ip_local_port_range)", and when ports of the range are held: "(500 in
 * 40000-40499, ip_local_port_range; 1 bound by a listener)". hosts > 1 (a merge):
 * the first host's range alone.
 */
void px_ports_range_text(char *out, size_t outlen, const struct px_exhaustion *ex, int per_socket,
                         unsigned hosts);

#endif
