/* SPDX-License-Identifier: MIT */
/*
 * The lab's topologies in words and numbers. The modes through a middle get a
 * table of their own (the figure their rule predicts is not always ok: a NAT
 * caps connections, a refused SYN ends in a failure), the rule under it, and
 * one sentence each from a table of per-mode functions.
 */
#include "portex/report/topo_report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/base/outcome.h"
#include "portex/kernel/middle.h"
#include "portex/load/result.h"
#include "portex/load/result_encode.h"
#include "portex/report/json.h"
#include "portex/report/mode_result.h"

typedef unsigned long long ull;

/* ---- JSON ----------------------------------------------------------------- */

static json_t *ns_json(const struct px_netns_figures *f)
{
    json_t *o = json_object();
    px_jset(o, "time_wait_peak", json_integer(f->time_wait_peak));
    px_jset(o, "closed_first", px_ju64(px_netns_closed_first(f)));
    px_jset(o, "tw_recycled", px_ju64(f->ext.tw_recycled));
    return o;
}

json_t *px_topo_report_namespaces(const struct px_mode_result *r)
{
    const struct px_middle_figures *f = &r->fig;
    if (!f->measured)
        return json_null();
    json_t *client = ns_json(&f->client), *server = ns_json(&f->server), *middle = json_null();
    px_jset(client, "syn_retransmits", px_ju64(f->client.ext.syn_retrans));
    px_jset(server, "connections_accepted", px_ju64(f->server.tcp.passive_opens));
    px_jset(server, "paws_refused", px_ju64(f->server.ext.paws_timewait));
    px_jset(server, "listen_drops", px_ju64(f->server.ext.listen_drops));
    if (f->has_middle) {
        middle = ns_json(&f->middle);
        if (r->middle.kind == PX_MIDDLE_NAT)
            px_jset(middle, "conntrack",
                    json_pack("{s:I,s:I,s:I,s:I}", "count", (json_int_t)f->middle.ct.entries,
                              "count_peak", (json_int_t)f->middle.ct_peak, "insert_failed",
                              (json_int_t)f->middle.ct.insert_failed, "drop",
                              (json_int_t)f->middle.ct.drop));
        if (r->middle.kind == PX_MIDDLE_PROXY)
            px_jset(middle, "upstream_eaddrnotavail", json_integer(f->upstream_eaddrnotavail));
    }
    json_t *o = json_object();
    px_jset(o, "client", client);
    px_jset(o, "middle", middle);
    px_jset(o, "server", server);
    return o;
}

json_t *px_topo_report_prediction(const struct px_mode_result *r)
{
    if (!r->judged)
        return NULL;
    const struct px_judgement *j = &r->judgement;
    json_t *o = json_object();
    px_jset(o, "figure", json_string(j->figure));
    px_jset(o, "predicted", px_json_real10(j->predicted));
    px_jset(o, "measured", px_json_real10(j->measured));
    px_jset(o, "rule", json_string(j->rule));
    if (j->split[0])
        px_jset(o, "split", json_string(j->split));
    if (j->why[0])
        px_jset(o, "differs", json_string(j->why));
    return o;
}

json_t *px_topo_report_middle(const struct px_mode_result *r)
{
    const struct px_middle_settings *s = &r->middle;
    if (s->kind == PX_MIDDLE_NAT)
        return json_pack("{s:s,s:I,s:I,s:o}", "kind", "nat", "ports", (json_int_t)s->nat_ports,
                         "addresses", (json_int_t)s->nat_addrs, "flags",
                         s->nat_flags ? json_string(s->nat_flags) : json_null());
    if (s->kind == PX_MIDDLE_PROXY)
        return json_pack("{s:s,s:I,s:i,s:s,s:I}", "kind", "proxy", "ports",
                         (json_int_t)s->proxy_ports, "tcp_tw_reuse", s->proxy_reuse, "upstream",
                         s->upstream_http11 ? "HTTP/1.1" : "HTTP/1.0", "upstream_keepalive",
                         (json_int_t)s->upstream_keepalive);
    return NULL;
}

/* ---- the table ---------------------------------------------------------- */

/* The middle's own figures in a few words. */
static void middle_words(const struct px_mode_result *r, char *out, size_t outlen)
{
    const struct px_middle_figures *f = &r->fig;
    if (r->middle.kind == PX_MIDDLE_NAT)
        snprintf(out, outlen, "conntrack %llu, insert_failed %llu, drop %llu",
                 (ull)f->middle.ct.entries, (ull)f->middle.ct.insert_failed,
                 (ull)f->middle.ct.drop);
    else
        snprintf(out, outlen, "nginx errno-99 lines %lld", (long long)f->upstream_eaddrnotavail);
}

static int through_middle(const struct px_mode_result *r)
{
    return r->ran && r->middle.kind != PX_MIDDLE_NONE;
}

#define TOPO_FMT "%-17s %-11s %9s %9s %7s %7s %8s %8s %10s  %-16s %-44s %s\n"

static void table_row(FILE *f, const struct px_mode_result *r)
{
    const struct px_run *run = r->run;
    const struct px_judgement *j = &r->judgement;
    const struct px_middle_figures *fig = &r->fig;
    char pred[24], meas[24], ok[24], failed[24], s5[24], tmo[24], syn[24], tw[48], mid[96];
    snprintf(pred, sizeof(pred), "%.0f", j->predicted);
    snprintf(meas, sizeof(meas), "%.0f", j->measured);
    snprintf(ok, sizeof(ok), "%llu", (ull)run->totals.ok);
    snprintf(failed, sizeof(failed), "%llu", (ull)run->totals.failed);
    snprintf(s5, sizeof(s5), "%llu", (ull)run->totals.status[5]);
    snprintf(tmo, sizeof(tmo), "%llu", (ull)run->totals.cause[PX_CAUSE_CONNECT_TIMEOUT]);
    snprintf(syn, sizeof(syn), "%llu", (ull)fig->client.ext.syn_retrans);
    snprintf(tw, sizeof(tw), "%lld/%lld/%lld", (long long)fig->client.time_wait_peak,
             (long long)fig->middle.time_wait_peak, (long long)fig->server.time_wait_peak);
    middle_words(r, mid, sizeof(mid));
    fprintf(f, TOPO_FMT, r->name, j->figure, pred, meas, ok, failed, s5, tmo, syn, tw, mid,
            px_verdict_name(j->verdict));
}

void px_topo_report_table(FILE *f, const struct px_mode_result *res, size_t n)
{
    size_t shown = 0;
    for (size_t i = 0; i < n; i++)
        shown += through_middle(&res[i]);
    if (shown == 0)
        return;
    fprintf(f, "\nthrough a middle: client 198.18.1.1 -> middle 198.18.1.254 | 198.18.2.254 -> "
               "server 198.18.2.1 (a source NAT, or nginx)\n");
    fprintf(f, TOPO_FMT, "mode", "predicts", "predicted", "measured", "ok", "failed", "HTTP 5xx",
            "timeouts", "SYN resent", "TIME_WAIT c/m/s", "middle", "verdict");
    for (size_t i = 0; i < n; i++)
        if (through_middle(&res[i]))
            table_row(f, &res[i]);
    fprintf(f, "timeouts: connect timeouts; SYN resent: the client's TCPSynRetrans; TIME_WAIT "
               "c/m/s: peaks in the client, middle and server namespaces\n");
}

/* ---- one sentence per mode ------------------------------------------------ */

static uint64_t totals_of(const struct px_mode_result *r, int err)
{
    return px_totals_errno(&r->run->totals, err);
}

/* ": rule." closing the sentence of a judged mode, then its split or what differs. */
static void rule_end(FILE *f, const struct px_mode_result *r)
{
    const struct px_judgement *j = &r->judgement;
    fprintf(f, ": %s.", j->rule);
    if (j->split[0])
        fprintf(f, " Measured split: %s.", j->split);
    if (j->why[0])
        fprintf(f, " It differs: %s.", j->why);
    fputc('\n', f);
}

static void say_nat(FILE *f, const struct px_mode_result *r)
{
    fprintf(f,
            "%s: %llu of %llu requests ok through a source NAT of %u ports, conntrack ended "
            "with %llu entries, %llu EADDRNOTAVAIL",
            r->name, (ull)r->run->totals.ok, (ull)r->run->totals.started, r->middle.nat_ports,
            (ull)r->fig.middle.ct.entries, (ull)totals_of(r, EADDRNOTAVAIL));
    rule_end(f, r);
}

static void say_nat_server_close(FILE *f, const struct px_mode_result *r)
{
    fprintf(f,
            "%s: %llu ok, %llu failed on connect timeouts and never with EADDRNOTAVAIL; the "
            "server counted %llu entries into TIME_WAIT on the NAT's %u tuples",
            r->name, (ull)r->run->totals.ok, (ull)r->run->totals.failed,
            (ull)px_netns_closed_first(&r->fig.server), r->middle.nat_ports);
    rule_end(f, r);
}

static void say_nat_keepalive(FILE *f, const struct px_mode_result *r)
{
    const struct px_middle_figures *g = &r->fig;
    fprintf(f,
            "%s: %llu connections opened of the %u wanted; the NAT dropped the others' SYNs "
            "(insert_failed %llu, drop %llu), and the client saw %llu SYN retransmits and %llu "
            "connect timeouts, not EADDRNOTAVAIL",
            r->name, (ull)r->run->totals.connections_opened, r->run->load->connections,
            (ull)g->middle.ct.insert_failed, (ull)g->middle.ct.drop, (ull)g->client.ext.syn_retrans,
            (ull)r->run->totals.cause[PX_CAUSE_CONNECT_TIMEOUT]);
    rule_end(f, r);
}

static void say_nat_2addr(FILE *f, const struct px_mode_result *r)
{
    fprintf(f,
            "%s: %llu connections through %u addresses x %u ports, each new flow taking the "
            "next address (nft's `snat to A-B` would hash one client and one server onto one "
            "address)",
            r->name, (ull)r->run->totals.connections_opened, r->middle.nat_addrs,
            r->middle.nat_ports);
    rule_end(f, r);
}

static void say_nat_random_fully(FILE *f, const struct px_mode_result *r)
{
    fprintf(f,
            "%s: %llu of %llu ok, conntrack %llu entries, %llu drops, as without fully-random, "
            "which picks the port at random and adds none",
            r->name, (ull)r->run->totals.ok, (ull)r->run->totals.started,
            (ull)r->fig.middle.ct.entries, (ull)r->fig.middle.ct.drop);
    rule_end(f, r);
}

/* A proxy mode: ok, 502s, and the errno-99 lines beside them. */
static void say_proxy(FILE *f, const struct px_mode_result *r)
{
    fprintf(f,
            "%s: %llu ok, %llu HTTP 502 and %lld errno-99 lines in nginx's log, %llu upstream "
            "connections, nginx's TIME_WAIT peak %lld, 0 EADDRNOTAVAIL at the client",
            r->name, (ull)r->run->totals.ok, (ull)r->run->totals.status[5],
            (long long)r->fig.upstream_eaddrnotavail, (ull)r->fig.server.tcp.passive_opens,
            (long long)r->fig.middle.time_wait_peak);
    if (totals_of(r, EADDRNOTAVAIL) > 0)
        fprintf(f, " (%llu here)", (ull)totals_of(r, EADDRNOTAVAIL));
    rule_end(f, r);
}

static void say_proxy_reuse(FILE *f, const struct px_mode_result *r)
{
    fprintf(f, "%s: %llu ok from %u ports, TWRecycled %llu in nginx's namespace, %llu HTTP 502",
            r->name, (ull)r->run->totals.ok, r->middle.proxy_ports,
            (ull)r->fig.middle.ext.tw_recycled, (ull)r->run->totals.status[5]);
    rule_end(f, r);
}

/* Two server ports: what ran out (connect()'s EADDRNOTAVAIL or bind()'s EADDRINUSE), or not. */
static void say_two_targets(FILE *f, const struct px_mode_result *r)
{
    int bind_first = r->run->load->bind_first;
    uint64_t out = totals_of(r, bind_first ? EADDRINUSE : EADDRNOTAVAIL);
    fprintf(f, "%s: %llu ok from %llu client ports toward two server ports", r->name,
            (ull)r->run->totals.ok, (ull)r->run->ex.usable_ports);
    if (out == 0)
        fprintf(f, " and the ports never ran out, so this run does not show the ceiling "
                   "(raise -r or -d)");
    else if (bind_first)
        fprintf(f, ", then bind() failed with EADDRINUSE (%llu)", (ull)out);
    else
        fprintf(f, ", then EADDRNOTAVAIL (%llu)", (ull)out);
    if (bind_first)
        fprintf(f, ": a bind(addr, 0) before connect() takes the port for every destination, "
                   "so the two share one range; IP_BIND_ADDRESS_NO_PORT leaves the choice to "
                   "connect().\n");
    else
        fprintf(f, ": connect() picks a port per destination (4-tuple), so each destination "
                   "gets the whole range.\n");
}

static const struct {
    const char *name;
    void (*say)(FILE *f, const struct px_mode_result *r);
} sentences[] = {
    {.name = "nat", .say = say_nat},
    {.name = "nat-server-close", .say = say_nat_server_close},
    {.name = "nat-keepalive", .say = say_nat_keepalive},
    {.name = "nat-2addr", .say = say_nat_2addr},
    {.name = "nat-random-fully", .say = say_nat_random_fully},
    {.name = "proxy", .say = say_proxy},
    {.name = "proxy-http11", .say = say_proxy},
    {.name = "proxy-keepalive", .say = say_proxy},
    {.name = "proxy-reuse", .say = say_proxy_reuse},
    {.name = "two-targets", .say = say_two_targets},
    {.name = "two-targets-bind", .say = say_two_targets},
};

int px_topo_report_sentence(FILE *f, const struct px_mode_result *r)
{
    /* A topology of its own: a middle, or several target ports. */
    if (!r->ran || (r->middle.kind == PX_MIDDLE_NONE && r->run->load->target_ports <= 1))
        return 0;
    for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++)
        if (strcmp(sentences[i].name, r->name) == 0) {
            sentences[i].say(f, r);
            return 1;
        }
    return 0;
}

void px_topo_report_note(const struct px_mode_result *r, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!through_middle(r))
        return;
    const struct px_run *run = r->run;
    if (r->middle.kind == PX_MIDDLE_NAT)
        snprintf(out, outlen,
                 "NAT: conntrack %llu entries, insert_failed %llu, drop %llu; client: %llu "
                 "failed, %llu SYN retransmits",
                 (ull)r->fig.middle.ct.entries, (ull)r->fig.middle.ct.insert_failed,
                 (ull)r->fig.middle.ct.drop, (ull)run->totals.failed,
                 (ull)r->fig.client.ext.syn_retrans);
    else
        snprintf(out, outlen,
                 "nginx: %lld upstream connect() EADDRNOTAVAIL (errno 99); client: %llu HTTP "
                 "5xx; upstream connections %llu",
                 (long long)r->fig.upstream_eaddrnotavail, (ull)run->totals.status[5],
                 (ull)r->fig.server.tcp.passive_opens);
}
