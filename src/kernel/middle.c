/* SPDX-License-Identifier: MIT */
/*
 * The rules of a middle, one function each: a source NAT recycles its tuples
 * when the client closes first, meets the server's TIME_WAIT when the server
 * does, and caps concurrent connections per destination at its ports x
 * addresses; a reverse proxy without upstream keepalive runs out of its own
 * ports when it closes first, and who closes first may be a race.
 */
#include "portex/kernel/middle.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/kernel/ceiling.h"

typedef unsigned long long ull;

const char *px_verdict_name(enum px_verdict v)
{
    switch (v) {
    case PX_VERDICT_MATCHES:
        return "matches";
    case PX_VERDICT_EXPLAINED:
        return "explained";
    case PX_VERDICT_DIFFERS:
        return "differs";
    default:
        return "-";
    }
}

int px_middle_within(double measured, double predicted)
{
    if (predicted <= 0)
        return measured <= 0;
    return fabs(measured - predicted) <= PX_MIDDLE_TOLERANCE * predicted;
}

/* The figure against the prediction: `good` when within, else differs saying by how much. */
static void settle(struct px_judgement *out, enum px_verdict good)
{
    if (px_middle_within(out->measured, out->predicted)) {
        out->verdict = good;
        return;
    }
    out->verdict = PX_VERDICT_DIFFERS;
    if (out->predicted > 0)
        snprintf(out->why, sizeof(out->why), "%s %.0f, predicted %.0f (%+.0f%%)", out->figure,
                 out->measured, out->predicted,
                 (out->measured - out->predicted) / out->predicted * 100.0);
    else
        snprintf(out->why, sizeof(out->why), "%s %.0f, predicted 0", out->figure, out->measured);
}

/* A second condition that must hold too; the first failure is the one told. */
static void also(struct px_judgement *out, int holds, const char *why)
{
    if (holds || out->verdict == PX_VERDICT_DIFFERS)
        return;
    out->verdict = PX_VERDICT_DIFFERS;
    snprintf(out->why, sizeof(out->why), "%s", why);
}

static unsigned nat_tuples(const struct px_middle_settings *s)
{
    return s->nat_ports * (s->nat_addrs > 1 ? s->nat_addrs : 1);
}

/* Client closes first: the server holds no TIME_WAIT on the NAT's tuples, and
 * conntrack hands a tuple whose entry is in TIME_WAIT to the next SYN
 * (nf_nat_used_tuple_harder, 6.x): the NAT's ports carry every request. */
static void judge_nat_recycle(const struct px_middle_in *in, struct px_judgement *out)
{
    unsigned tuples = nat_tuples(&in->set);
    const struct px_netns_figures *m = &in->fig->middle;
    out->figure = "ok";
    out->predicted = (double)in->requests;
    out->measured = (double)in->ok;
    snprintf(out->rule, sizeof(out->rule),
             "the client closes first, so the server holds no TIME_WAIT on the NAT's tuples: "
             "conntrack gives a tuple whose entry is in TIME_WAIT to the next SYN, and with -c "
             "%u in flight%s %u NAT ports carry all %llu requests, %u entries in its table",
             in->slots, in->slots <= tuples ? " (fewer than its tuples)" : "", tuples,
             (ull)in->requests, tuples);
    settle(out, PX_VERDICT_MATCHES);
    char why[200];
    snprintf(why, sizeof(why), "conntrack held %llu entries, more than the %u NAT tuples",
             (ull)m->ct.entries, tuples);
    also(out, m->ct.entries <= tuples, why);
}

/* Server closes first: it holds TIME_WAIT on every recycled tuple, and takes a
 * SYN for one only with a newer timestamp (RFC 6191); each refused SYN (server
 * PAWSTimewait), one the NAT dropped, or one a busy server's listener dropped
 * (ListenDrops) ends in a SYN sent again or a connect timeout. */
static void judge_nat_paws(const struct px_middle_in *in, struct px_judgement *out)
{
    const struct px_middle_figures *f = in->fig;
    uint64_t refused = f->server.ext.paws_timewait, dropped = f->middle.ct.drop;
    uint64_t listen = f->server.ext.listen_drops, resent = f->client.ext.syn_retrans;
    uint64_t lost = refused + dropped + listen;
    out->figure = "failed";
    out->predicted = lost > resent ? (double)(lost - resent) : 0;
    out->measured = (double)in->failed;
    char drops[64] = "";
    if (listen)
        snprintf(drops, sizeof(drops), " + %llu", (ull)listen);
    snprintf(out->rule, sizeof(out->rule),
             "the server closes first and holds TIME_WAIT on the %u NAT tuples; a recycled "
             "tuple's SYN is taken only with a newer timestamp (RFC 6191), so some are "
             "refused; each refused or dropped SYN ends in a SYN sent again or a connect "
             "timeout: failed = refused + dropped%s - resent = %llu + %llu%s - %llu",
             nat_tuples(&in->set), listen ? " + listen drops" : "", (ull)refused, (ull)dropped,
             drops, (ull)resent);
    snprintf(drops, sizeof(drops), ", the server's listener dropped %llu", (ull)listen);
    snprintf(out->split, sizeof(out->split),
             "server refused %llu SYNs on its TIME_WAIT tuples (PAWS), NAT dropped %llu%s, "
             "client sent %llu SYNs again",
             (ull)refused, (ull)dropped, listen ? drops : "", (ull)resent);
    settle(out, PX_VERDICT_EXPLAINED);
}

/* Keep-alive through a NAT: every connection holds a tuple for its life. */
static void judge_nat_concurrency(const struct px_middle_in *in, struct px_judgement *out)
{
    unsigned tuples = nat_tuples(&in->set);
    double want = in->slots < tuples ? in->slots : tuples;
    out->figure = "connections";
    out->predicted = want;
    out->measured = (double)in->connections;
    snprintf(out->rule, sizeof(out->rule),
             "through a NAT the ceiling is concurrent connections per destination: %u ports x "
             "%u address%s = %u; keep-alive holds each one, so the SYNs of the other %u "
             "connections find no tuple (conntrack insert_failed, drop) and time out",
             in->set.nat_ports, in->set.nat_addrs > 1 ? in->set.nat_addrs : 1,
             in->set.nat_addrs > 1 ? "es" : "", tuples,
             in->slots > tuples ? in->slots - tuples : 0);
    settle(out, PX_VERDICT_MATCHES);
}

/* The proxy's 502s are its own connect() failures: one errno-99 line each. */
static void proxy_lines(const struct px_middle_in *in, struct px_judgement *out)
{
    char why[200];
    snprintf(why, sizeof(why), "%llu HTTP 5xx but %lld nginx errno-99 lines", (ull)in->status_5xx,
             (long long)in->fig->upstream_eaddrnotavail);
    also(out, (int64_t)in->status_5xx == in->fig->upstream_eaddrnotavail, why);
}

/*
 * Requests a pool of P ports carries in d seconds at R per second when each
 * use holds its port for D (a wave of P, then P more each time the oldest come
 * free): N(d) = k P + min(P, R (d - k D)), k = floor(d / D), at most R d.
 */
static double waves_ok(double ports, double rate, double d, double hold)
{
    double k = floor(d / hold + 1e-9);
    double last = rate > 0 ? rate * (d - k * hold) : ports;
    double n = k * ports + (last < ports ? (last > 0 ? last : 0) : ports);
    return rate > 0 && rate * d < n ? rate * d : n;
}

/* nginx closes every upstream connection first: each holds one of its ports for
 * 60 s, or for the reuse delay with tcp_tw_reuse=1. */
static void judge_proxy_closes(const struct px_middle_in *in, struct px_judgement *out)
{
    const struct px_middle_settings *s = &in->set;
    double hold = PX_TIME_WAIT_S;
    if (s->proxy_reuse == 1)
        hold = (s->reuse_delay_ms ? s->reuse_delay_ms : 1000) / 1000.0;
    out->figure = "ok";
    out->predicted = waves_ok(s->proxy_ports, in->rate_per_s, in->duration_s, hold);
    if (out->predicted > (double)in->requests)
        out->predicted = (double)in->requests;
    out->measured = (double)in->ok;
    if (s->proxy_reuse == 1)
        snprintf(out->rule, sizeof(out->rule),
                 "nginx closes each upstream connection first (HTTP/1.1, no keepalive) and "
                 "tcp_tw_reuse=1 lets it take a TIME_WAIT port again %.0f ms after the close: "
                 "waves of %u ports, k P + min(P, R (d - k D)) = %.0f in %.1f s at %.0f/s; "
                 "every other request is a 502",
                 hold * 1e3, s->proxy_ports, out->predicted, in->duration_s, in->rate_per_s);
    else
        snprintf(out->rule, sizeof(out->rule),
                 "nginx closes each upstream connection first (HTTP/1.1, no keepalive) and "
                 "holds its port in TIME_WAIT for 60 s: %.0f requests on its %u ports, then a "
                 "502 for every other (connect() to the upstream fails with EADDRNOTAVAIL)",
                 out->predicted, s->proxy_ports);
    settle(out, PX_VERDICT_MATCHES);
    proxy_lines(in, out);
}

/* nginx's HTTP/1.0 upstream: the server closes too, and whoever's FIN goes
 * first holds the TIME_WAIT. Only nginx's own closes pin its ports. */
static void judge_proxy_race(const struct px_middle_in *in, struct px_judgement *out)
{
    const struct px_middle_figures *f = in->fig;
    uint64_t up = f->server.tcp.passive_opens;
    uint64_t fm = px_netns_closed_first(&f->middle), fs = px_netns_closed_first(&f->server);
    uint64_t both = fm + fs > up ? fm + fs - up : 0;
    double share = up ? (double)fm / (double)up : 0;
    double cap = share > 0 ? in->set.proxy_ports / share : INFINITY;
    /* Requests that failed but not with a 502 (timeouts of a stalled, busy machine) had
     * nothing to do with nginx's ports: left out of what its ports could carry. */
    uint64_t other = in->failed > in->status_5xx ? in->failed - in->status_5xx : 0;
    double offered = (double)(in->requests - (other < in->requests ? other : in->requests));
    out->figure = "ok";
    out->predicted = cap < offered ? floor(cap + 0.5) : offered;
    out->measured = (double)in->ok;
    char runs_out[96] = "so with none closed first by it, its ports never run out";
    if (share > 0)
        snprintf(runs_out, sizeof(runs_out),
                 "so it runs out after %u / %.2f (its share) = %.0f upstream connections",
                 in->set.proxy_ports, share, cap);
    snprintf(out->rule, sizeof(out->rule),
             "nginx's default upstream is HTTP/1.0, so the server closes too and who sends the "
             "first FIN is a race; each connection nginx closes first holds one of its %u ports "
             "for 60 s, %s",
             in->set.proxy_ports, runs_out);
    int n = snprintf(out->split, sizeof(out->split),
                     "nginx closed %llu of %llu upstream connections first, the server %llu "
                     "(both at once: %llu)",
                     (ull)fm, (ull)up, (ull)fs, (ull)both);
    if (other && n > 0 && (size_t)n < sizeof(out->split))
        snprintf(out->split + n, sizeof(out->split) - (size_t)n,
                 "; %llu requests failed otherwise (not a 502), left out", (ull)other);
    settle(out, PX_VERDICT_EXPLAINED);
    proxy_lines(in, out);
}

/* Upstream keepalive: requests share kept connections, no new port each. With
 * no more in flight than nginx keeps idle, it never closes one: the upstream
 * connections are at most that many. */
static void judge_proxy_keepalive(const struct px_middle_in *in, struct px_judgement *out)
{
    unsigned keep = in->set.upstream_keepalive;
    uint64_t up = in->fig->server.tcp.passive_opens;
    out->figure = "ok";
    out->predicted = (double)in->requests;
    out->measured = (double)in->ok;
    snprintf(out->rule, sizeof(out->rule),
             "nginx keeps up to %u idle upstream connections (keepalive) and sends the next "
             "requests over them: no new upstream port per request, so its %u ports do not "
             "bind; with -c %u in flight it never has more than %u (%llu opened for %llu "
             "requests)",
             keep, in->set.proxy_ports, in->slots, in->slots < keep ? in->slots : keep, (ull)up,
             (ull)in->requests);
    settle(out, PX_VERDICT_MATCHES);
    proxy_lines(in, out);
    char why[200];
    snprintf(why, sizeof(why), "nginx opened %llu upstream connections, more than %u", (ull)up,
             keep);
    also(out, in->slots > keep || up <= keep, why);
}

static const struct {
    enum px_middle_rule rule;
    void (*judge)(const struct px_middle_in *in, struct px_judgement *out);
} rules[] = {
    {.rule = PX_RULE_NAT_RECYCLE, .judge = judge_nat_recycle},
    {.rule = PX_RULE_NAT_PAWS, .judge = judge_nat_paws},
    {.rule = PX_RULE_NAT_CONCURRENCY, .judge = judge_nat_concurrency},
    {.rule = PX_RULE_PROXY_CLOSES, .judge = judge_proxy_closes},
    {.rule = PX_RULE_PROXY_RACE, .judge = judge_proxy_race},
    {.rule = PX_RULE_PROXY_KEEPALIVE, .judge = judge_proxy_keepalive},
};

void px_middle_judge(const struct px_middle_in *in, struct px_judgement *out)
{
    memset(out, 0, sizeof(*out));
    out->figure = "-";
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (rules[i].rule == in->rule && in->fig != NULL && in->fig->measured) {
            rules[i].judge(in, out);
            return;
        }
}
