/* SPDX-License-Identifier: MIT */
/* Mode tables of lab and compare, the --modes parser, and the per-mode reports. */
#include "portex/cmd/mode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/load/result.h"

/* Lab modes: each in fresh namespaces, so every sysctl is set per side. */
const struct px_mode px_lab_modes[] = {
    {.name = "noreuse",
     .what = "client closes, tcp_tw_reuse=0",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "reuse",
     .what = "client closes, tcp_tw_reuse=1",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 1},
    {.name = "reuse-server-nots",
     .what = "tcp_tw_reuse=1, server tcp_timestamps=0",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 0},
    {.name = "keepalive",
     .what = "keep-alive connections",
     .is_default = 1,
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "server-close",
     .what = "server closes first, tcp_tw_reuse=0",
     .close = PX_CLOSE_SERVER,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "rst",
     .what = "client closes with RST, tcp_tw_reuse=0",
     .close = PX_CLOSE_RST,
     .client_reuse = 0,
     .server_timestamps = 1},
    {.name = "sources4",
     .what = "4 client addresses, tcp_tw_reuse=0",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .sources = 4},
    {.name = "delay100",
     .what = "tcp_tw_reuse=1, tcp_tw_reuse_delay=100",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 1,
     .reuse_delay_ms = 100},
    {.name = "hosts4",
     .what = "4 client hosts, merged, tcp_tw_reuse=0",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .hosts = 4},
    {.name = "reuse-conn10",
     .what = "10 requests per connection, tcp_tw_reuse=1",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = 1,
     .requests_per_conn = 10},
    {.name = "noreuse-conn10",
     .what = "10 requests per connection, tcp_tw_reuse=0",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .requests_per_conn = 10},
    {.name = "h2",
     .what = "HTTP/2 (h2c), 10 streams per connection",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .http2 = 1,
     .streams = 10},
    /* Through a source NAT in a middle namespace (--nat-ports ports on one address).
     * The lab's -c 64 stays below the NAT's tuples: more in flight at once (a burst
     * after a stall of a busy machine) would meet the NAT's concurrency ceiling. */
    {.name = "nat",
     .what = "SNAT, client closes first",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_NAT,
     .rule = PX_RULE_NAT_RECYCLE},
    {.name = "nat-server-close",
     .what = "SNAT, server closes first",
     .close = PX_CLOSE_SERVER,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_NAT,
     .rule = PX_RULE_NAT_PAWS,
     .connections = 1000},
    {.name = "nat-keepalive",
     .what = "SNAT, keep-alive, -c 2 x NAT ports",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_NAT,
     .rule = PX_RULE_NAT_CONCURRENCY,
     .connections_per_nat = 2,
     .closed_model = 1,
     .server_delay_ms = 100},
    {.name = "nat-2addr",
     .what = "SNAT to 2 addresses, keep-alive",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_NAT,
     .rule = PX_RULE_NAT_CONCURRENCY,
     .nat_addrs = 2,
     .connections_per_nat = 2,
     .closed_model = 1,
     .server_delay_ms = 100},
    {.name = "nat-random-fully",
     .what = "SNAT fully-random, client closes",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_NAT,
     .rule = PX_RULE_NAT_RECYCLE,
     .nat_flags = "fully-random"},
    /* Through nginx in a middle namespace whose port range is --ports, tcp_tw_reuse=0.
     * -c 1000: the proxy's ports, not the client's slots, are what may run out; on a
     * busy machine 64 slots would turn a stall into missed starts. */
    {.name = "proxy",
     .what = "nginx, HTTP/1.0 upstream (its default)",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_PROXY,
     .rule = PX_RULE_PROXY_RACE,
     /* Fewer in flight than the proxy's ports: then only TIME_WAIT can take them all,
      * and the split of who closed first explains the count (a stall of a busy machine
      * with 1000 in flight has nginx run out on connections in flight instead). */
     .connections = 64},
    {.name = "proxy-http11",
     .what = "nginx, HTTP/1.1 upstream, no keepalive",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_PROXY,
     .rule = PX_RULE_PROXY_CLOSES,
     .upstream_http11 = 1,
     .connections = 1000},
    {.name = "proxy-keepalive",
     .what = "nginx, upstream keepalive 32",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_PROXY,
     .rule = PX_RULE_PROXY_KEEPALIVE,
     .upstream_http11 = 1,
     .upstream_keepalive = 32,
     /* No more in flight than nginx keeps idle: it never closes one, so the upstream
      * connections it ever opens are at most 32, whatever a busy machine does. */
     .connections = 32},
    {.name = "proxy-reuse",
     .what = "nginx, HTTP/1.1, proxy tcp_tw_reuse=1",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = 1,
     .middle = PX_MIDDLE_PROXY,
     .rule = PX_RULE_PROXY_CLOSES,
     .upstream_http11 = 1,
     .proxy_reuse = 1,
     /* Far from a divisor of the default 3 s on both sides: a wave of reused ports
      * starting near the end of the load would count or not on a busy machine's whim
      * (waves at 0, 0.85, 1.7 and 2.55 s, each 50 ms long at the defaults; the next
      * at 3.4 s; a client stalled and sending late still lands in the same waves). */
     .proxy_reuse_delay_ms = 850,
     .connections = 1000},
    /* One client, one server listening on two ports. */
    {.name = "two-targets",
     .what = "2 server ports, port chosen at connect()",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .target_ports = 2},
    {.name = "two-targets-bind",
     .what = "2 server ports, bind() before connect()",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = 1,
     .target_ports = 2,
     .bind_first = 1},
};
const size_t px_lab_nmodes = sizeof(px_lab_modes) / sizeof(px_lab_modes[0]);

/* Compare modes: this namespace as it is; only tcp_tw_reuse may be set (guarded). */
const struct px_mode px_compare_modes[] = {
    {.name = "keepalive",
     .what = "keep-alive connections",
     .is_default = 1,
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "server-close",
     .what = "server closes first",
     .is_default = 1,
     .close = PX_CLOSE_SERVER,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "rst",
     .what = "client closes with RST",
     .is_default = 1,
     .close = PX_CLOSE_RST,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "short",
     .what = "client closes, current tcp_tw_reuse",
     .is_default = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = -1},
    {.name = "short-noreuse",
     .what = "client closes, tcp_tw_reuse=0",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 0,
     .server_timestamps = -1},
    {.name = "short-reuse",
     .what = "client closes, tcp_tw_reuse=1",
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = -1},
    {.name = "conn10",
     .what = "10 requests per connection, client closes",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = -1,
     .requests_per_conn = 10},
    {.name = "reuse-conn10",
     .what = "10 requests per connection, tcp_tw_reuse=1",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = 1,
     .server_timestamps = -1,
     .requests_per_conn = 10},
    {.name = "h2",
     .what = "HTTP/2, 10 streams per connection",
     .keepalive = 1,
     .close = PX_CLOSE_CLIENT,
     .client_reuse = -1,
     .server_timestamps = -1,
     .http2 = 1,
     .streams = 10},
};
const size_t px_compare_nmodes = sizeof(px_compare_modes) / sizeof(px_compare_modes[0]);

/* Not in the table: no port is used, so what it reaches is the server's own ceiling. */
const struct px_mode px_compare_control_mode = {
    .name = "unix-control",
    .what = "short, over the Unix socket (no ports)",
    .close = PX_CLOSE_CLIENT,
    .client_reuse = -1,
    .server_timestamps = -1,
};

static int list_choices(const struct px_mode *table, size_t ntable, int allow_all, char *err,
                        size_t errlen, size_t n)
{
    for (size_t i = 0; i < ntable && n < errlen; i++)
        n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "", table[i].name);
    if (allow_all && n < errlen)
        snprintf(err + n, errlen - n, ", or all");
    return -1;
}

int px_mode_list_parse(const char *list, const struct px_mode *table, size_t ntable, int allow_all,
                       const struct px_mode **out, size_t *nout, char *err, size_t errlen)
{
    *nout = 0;
    if (allow_all && strcmp(list, "all") == 0) {
        for (; *nout < ntable && *nout < PX_MAX_MODES; (*nout)++)
            out[*nout] = &table[*nout];
        return 0;
    }
    char buf[256];
    if (strlen(list) >= sizeof(buf)) {
        snprintf(err, errlen, "invalid --modes '%.40s...': too long", list);
        return -1;
    }
    strcpy(buf, list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const struct px_mode *m = NULL;
        for (size_t i = 0; i < ntable && m == NULL; i++)
            if (strcmp(table[i].name, tok) == 0)
                m = &table[i];
        if (m == NULL || *nout >= PX_MAX_MODES) {
            size_t n = (size_t)snprintf(err, errlen, "invalid --modes entry '%s': expected", tok);
            return list_choices(table, ntable, allow_all, err, errlen, n);
        }
        out[(*nout)++] = m;
    }
    if (*nout == 0) {
        snprintf(err, errlen, "invalid --modes '%s': expected a comma-separated list", list);
        return -1;
    }
    return 0;
}

size_t px_mode_defaults(const struct px_mode *table, size_t ntable, int allow_sysctl,
                        const struct px_mode **out)
{
    size_t n = 0;
    for (size_t i = 0; i < ntable && n < PX_MAX_MODES; i++)
        if (table[i].is_default ||
            (allow_sysctl && table[i].client_reuse >= 0 && !table[i].requests_per_conn))
            out[n++] = &table[i];
    return n;
}

void px_mode_label(const struct px_mode *const *modes, size_t i, char *out, size_t outlen)
{
    unsigned k = 1;
    for (size_t j = 0; j < i; j++)
        k += strcmp(modes[j]->name, modes[i]->name) == 0;
    if (k == 1)
        snprintf(out, outlen, "%s", modes[i]->name);
    else
        snprintf(out, outlen, "%s#%u", modes[i]->name, k);
}

int px_mode_result_start(struct px_mode_result *res, const struct px_mode *mode, int stopped)
{
    memset(res, 0, sizeof(*res));
    res->name = mode->name;
    res->what = mode->what;
    res->server_timestamps = mode->server_timestamps;
    if (stopped)
        snprintf(res->note, sizeof(res->note), "not run: interrupted");
    return !stopped;
}

void px_mode_results_free(struct px_mode_result *res, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        px_run_free(res[i].run);
        res[i].run = NULL;
    }
}

void px_mode_note_interrupted(FILE *f)
{
    fputs("interrupted by a signal: the mode that was running reports what ran until then, "
          "later modes did not run\n",
          f);
}
