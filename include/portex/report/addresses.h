/* SPDX-License-Identifier: MIT */
/* The addresses a target's name resolved to and what a probe found at each, in words. */
#ifndef PORTEX_REPORT_ADDRESSES_H
#define PORTEX_REPORT_ADDRESSES_H

#include <stddef.h>
#include <sys/socket.h>

#include "portex/base/url.h"

/* "[::1]:8080 ECONNREFUSED, 127.0.0.1:8080 answered"; a lone address not probed alone. */
void px_addrs_text(char *out, size_t outlen, const struct px_url_addr *a, size_t n);
/*
 * Where a load went and why there: "127.0.0.1:8080, the first of the 2 addresses of
 * localhost to answer a probe ([::1]:8080 ECONNREFUSED, 127.0.0.1:8080 answered)".
 * "" when there is nothing to add to the URL: its host is the one address, or the
 * addresses are unknown (n == 0, a result written before portex kept them).
 */
void px_addrs_target_words(char *out, size_t outlen, const struct px_url *url, int family,
                           const struct sockaddr_storage *target, const struct px_url_addr *a,
                           size_t n);

#endif
