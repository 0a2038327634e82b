/* SPDX-License-Identifier: MIT */
/* The port budget in words: the range, and what connect() cannot take from it. */
#include "portex/report/ports.h"

#include <inttypes.h>
#include <stdio.h>

#include "portex/load/result.h"

void px_ports_bound_words(char *out, size_t outlen, int64_t bound, int64_t listening)
{
    static const char *const lis[2] = {"a listener", "listeners"};
    static const char *const other[2] = {"a socket that neither listens nor connects",
                                         "sockets that neither listen nor connect"};
    int64_t rest = bound - (listening > 0 ? listening : 0);
    out[0] = '\0';
    if (bound <= 0)
        return;
    if (rest == 0)
        snprintf(out, outlen, "%" PRId64 " bound by %s", bound, lis[bound > 1]);
    else if (rest == bound)
        snprintf(out, outlen, "%" PRId64 " bound by %s", bound, other[bound > 1]);
    else
        snprintf(out, outlen, "%" PRId64 " bound: %" PRId64 " by %s, %" PRId64 " by %s", bound,
                 listening, lis[listening > 1], rest, other[rest > 1]);
}

void px_ports_range_text(char *out, size_t outlen, const struct px_exhaustion *ex, int per_socket,
                         unsigned hosts)
{
    char bound[160], open[96] = "";
    const char *source = per_socket ? "per-socket --port-range" : "ip_local_port_range";
    px_ports_bound_words(bound, sizeof(bound), ex->bound_ports, ex->bound_listening);
    if (ex->open_ports > 0)
        snprintf(open, sizeof(open), "%s%" PRId64 " held by %s already open toward the target",
                 bound[0] ? ", " : "", ex->open_ports,
                 ex->open_ports > 1 ? "connections" : "a connection");
    if ((bound[0] == '\0' && open[0] == '\0') || hosts > 1) {
        snprintf(out, outlen, "(%u-%u, %s)", ex->port_lo, ex->port_hi, source);
        return;
    }
    /* What the range holds, then what the kernel keeps connect() from: reserved, bound,
     * and the 4-tuples toward the target that open connections have. */
    uint64_t range = ex->port_hi >= ex->port_lo ? ex->port_hi - ex->port_lo + 1u : 0;
    uint64_t taken = ex->usable_ports + (uint64_t)(ex->bound_ports > 0 ? ex->bound_ports : 0) +
                     (uint64_t)(ex->open_ports > 0 ? ex->open_ports : 0);
    char reserved[48] = "";
    if (range > taken)
        snprintf(reserved, sizeof(reserved), "%" PRIu64 " reserved, ", range - taken);
    snprintf(out, outlen, "(%" PRIu64 " in %u-%u, %s; %s%s%s)", range, ex->port_lo, ex->port_hi,
             source, reserved, bound, open);
}
