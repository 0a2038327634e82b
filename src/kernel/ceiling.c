/* SPDX-License-Identifier: MIT */
/*
 * Ceilings per (source IP, destination IP, destination port, namespace).
 * P ports, T connection lifetime, D how long a closed port stays unusable:
 * 60 s of TIME_WAIT, or the reuse delay when tcp_tw_reuse applies.
 */
#include "portex/kernel/ceiling.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* KERNEL-FACTS.md, tcp_tw_reuse: when the delay before reuse is. */
static double reuse_delay_s(const struct px_ceiling_in *in, const char **why)
{
    if (in->reuse_delay_ms > 0) {
        *why = "tcp_tw_reuse_delay";
        return (double)in->reuse_delay_ms / 1000.0;
    }
    if (in->kernel_major > 4 || (in->kernel_major == 4 && in->kernel_minor >= 19)) {
        *why = "the next whole-second tick (4.19-6.13)";
        return 1.0;
    }
    *why = "1-2 s on kernels before 4.19";
    return 1.0;
}

/*
 * -k --requests-per-conn N: each connection carries N requests, then closes as
 * a short one would. A connection lives N request times, and every port it
 * holds served N requests: N x P / (N x T + D), N times the short ceiling
 * when T is small.
 */
static void predict_n_per_conn(const struct px_ceiling_in *in, struct px_ceiling *out)
{
    unsigned n = in->requests_per_conn;
    struct px_ceiling_in one = *in;
    one.keepalive = 0;
    one.requests_per_conn = 0;
    one.lifetime_s = in->lifetime_s > 0 ? in->lifetime_s * n : 0;
    px_ceiling_predict(&one, out);
    out->per_s *= n;
    out->burst *= n;
    char inner[sizeof(out->formula)];
    memcpy(inner, out->formula, sizeof(inner));
    snprintf(out->formula, sizeof(out->formula), "%u requests per connection: %u x (%.200s)", n, n,
             inner);
}

/* No TIME_WAIT on the client (keep-alive, the server closes first, RST with
 * fewer slots than ports): Little's law on the in-flight count. */
static void predict_in_flight(const struct px_ceiling_in *in, double t, struct px_ceiling *out)
{
    const char *what = in->keepalive               ? "keep-alive"
                       : in->close == PX_CLOSE_RST ? "RST close (a port is held only in flight)"
                                                   : "server closes first";
    unsigned n = in->streams > 1 ? in->streams : 1;
    double flight = (double)in->connections * n;
    out->per_s = t > 0 ? flight / t : INFINITY;
    if (n > 1 && t > 0)
        snprintf(out->formula, sizeof(out->formula),
                 "%s: no TIME_WAIT on the client, so ports do not bind; C x streams / request "
                 "time = %u x %u / %.3f ms (Little's law)",
                 what, in->connections, n, t * 1e3);
    else if (t > 0)
        snprintf(out->formula, sizeof(out->formula),
                 "%s: no TIME_WAIT on the client, so ports do not bind; "
                 "C / request time = %u / %.3f ms (Little's law)",
                 what, in->connections, t * 1e3);
    else
        snprintf(out->formula, sizeof(out->formula),
                 "%s: no TIME_WAIT on the client, so ports do not bind; "
                 "C / request time with C = %u (Little's law)",
                 what, in->connections);
}

/* RST close with -c reaching P: each port is held for the connection's life only. */
static void predict_rst(const struct px_ceiling_in *in, double ports, double t,
                        struct px_ceiling *out)
{
    out->per_s = t > 0 ? ports / t : INFINITY;
    out->port_bound = 1;
    out->hold_s = t;
    if (t > 0)
        snprintf(out->formula, sizeof(out->formula),
                 "RST close skips TIME_WAIT, and -c %u reaches the %.0f ports: P / T = "
                 "%.0f ports / %.3f ms",
                 in->connections, ports, ports, t * 1e3);
    else
        snprintf(out->formula, sizeof(out->formula),
                 "RST close skips TIME_WAIT, and -c %u reaches the %.0f ports: P / T",
                 in->connections, ports);
}

/* The client closes first and holds TIME_WAIT: 60 s, or the reuse delay when reuse applies. */
static void predict_time_wait(const struct px_ceiling_in *in, double ports, double t,
                              struct px_ceiling *out)
{
    out->port_bound = 1;
    out->burst = ports;
    int reuse_on = in->tw_reuse == 1 || (in->tw_reuse == 2 && in->loopback);
    out->reuse_applies = reuse_on && in->timestamps != PX_TS_NO;
    if (out->reuse_applies) {
        const char *why;
        double d = reuse_delay_s(in, &why);
        out->hold_s = d;
        out->per_s = ports / (t + d);
        snprintf(out->formula, sizeof(out->formula),
                 "client closes first, tcp_tw_reuse=%lld applies: P / (T + D) = %.0f / "
                 "(%.3f + %.3f s, %s)",
                 (long long)in->tw_reuse, ports, t, d, why);
        return;
    }
    out->hold_s = PX_TIME_WAIT_S;
    out->per_s = ports / (t + PX_TIME_WAIT_S);
    const char *reason = in->tw_reuse == 2   ? "tcp_tw_reuse=2 is for loopback only"
                         : in->tw_reuse == 0 ? "tcp_tw_reuse=0"
                         : in->timestamps == PX_TS_NO
                             ? "tcp_tw_reuse=1 but the server negotiated no timestamps"
                             : "tcp_tw_reuse unknown";
    snprintf(out->formula, sizeof(out->formula),
             "client closes first, %s, TIME_WAIT lasts 60 s: P / (T + 60 s) = %.0f / %.0f s",
             reason, ports, t + PX_TIME_WAIT_S);
}

/* Several destinations, or a bind() before connect(): said before the rule. */
static void note_destinations(const struct px_ceiling_in *in, unsigned dests,
                              struct px_ceiling *out)
{
    char rule[sizeof(out->formula)];
    memcpy(rule, out->formula, sizeof(rule));
    if (in->bind_first)
        snprintf(out->formula, sizeof(out->formula),
                 "bind() before connect() takes a port for every destination: not x %u; "
                 "%.170s",
                 dests, rule);
    else
        snprintf(out->formula, sizeof(out->formula),
                 "connect() picks a port per destination: P x %u; %.190s", dests, rule);
}

void px_ceiling_predict(const struct px_ceiling_in *in, struct px_ceiling *out)
{
    if (in->keepalive && in->requests_per_conn > 0) {
        predict_n_per_conn(in, out);
        return;
    }
    double ports = (double)in->ports * (in->sources > 1 ? in->sources : 1);
    unsigned dests = in->destinations > 1 ? in->destinations : 1;
    if (!in->bind_first)
        ports *= dests; /* Ns x Nd x Np: a port is chosen per 4-tuple at connect() */
    double t = in->lifetime_s > 0 ? in->lifetime_s : 0;
    out->burst = INFINITY;
    out->port_bound = 0;
    out->hold_s = 0;
    out->reuse_applies = 0;
    if (in->unix_socket) {
        out->per_s = INFINITY;
        snprintf(out->formula, sizeof(out->formula),
                 "not port-bound: a Unix socket uses no ports and leaves no TIME_WAIT");
        return;
    }
    /* RST close frees the port at close: only ports in flight are held, at
     * most C of them. Fewer slots than ports cannot run out of ports. */
    int rst_free = in->close == PX_CLOSE_RST && (double)in->connections < ports;
    if (in->keepalive || in->close == PX_CLOSE_SERVER || rst_free)
        predict_in_flight(in, t, out);
    else if (in->close == PX_CLOSE_RST)
        predict_rst(in, ports, t, out);
    else
        predict_time_wait(in, ports, t, out);
    if (dests > 1 || in->bind_first)
        note_destinations(in, dests, out);
}

double px_ceiling_expected_ok(const struct px_ceiling *c, double duration_s, double rate_per_s)
{
    /* Starts at t = 0, 1/R, ... before D: ceil(R x D), less a rounding hair (10 x 0.3). */
    double demand = rate_per_s > 0 ? ceil(rate_per_s * duration_s - 1e-9) : INFINITY;
    if (!c->port_bound || !isfinite(c->burst)) {
        double cap = isfinite(c->per_s) ? c->per_s * duration_s : INFINITY;
        return demand < cap ? demand : cap;
    }
    /* A burst of P, then P more every time the held ports come free. */
    double rounds = c->hold_s > 0 ? ceil(duration_s / c->hold_s) : 1;
    double ok = c->burst * (rounds > 1 ? rounds : 1);
    return demand < ok ? demand : ok;
}
