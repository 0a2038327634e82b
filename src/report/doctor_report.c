/* SPDX-License-Identifier: MIT */
/* portex doctor's reports: the settings and what each means, the target, the ceilings, the traps. */
#include "portex/report/doctor_report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/base/url.h"
#include "portex/kernel/sysctls.h"
#include "portex/load/result_encode.h"
#include "portex/report/addresses.h"
#include "portex/report/json.h"
#include "portex/report/ports.h"

static void per_s_text(char *out, size_t len, const struct px_ceiling *c)
{
    if (isfinite(c->per_s))
        snprintf(out, len, "%.0f/s", c->per_s);
    else if (c->port_bound)
        snprintf(out, len, "ports free at close");
    else
        snprintf(out, len, "not port-bound");
}

static void text_tls_probe(FILE *f, const struct px_probe *p)
{
    if (p->tls_error[0])
        fprintf(f, "  TLS                    %s\n", p->tls_error);
    else
        fprintf(f, "  TLS                    %s; resumes sessions: %s\n", p->tls_version,
                p->tls_resumed ? "yes (a ticket from the first handshake was accepted)"
                               : "no (every connection pays a full handshake)");
}

/* One sysctl's line: its value and what that means for ports and TIME_WAIT. */
static void text_sysctl(FILE *f, const struct px_doctor *d, enum px_sysctl_id id)
{
    const struct px_env *e = &d->env;
    const struct px_sysctl *s = &px_sysctls[id];
    char bound[160];
    int64_t v;
    switch (id) {
    case PX_SYSCTL_PORT_RANGE:
        px_ports_bound_words(bound, sizeof(bound), d->bound_ports, d->bound_listening);
        fprintf(
            f, "  %-22s %u-%u: %llu usable ports toward one destination (minus reserved: %s%s%s)\n",
            s->label, e->port_lo, e->port_hi, (unsigned long long)d->usable_ports,
            e->reserved_ports[0] ? e->reserved_ports : "none", bound[0] ? "; minus " : "", bound);
        break;
    case PX_SYSCTL_RESERVED_PORTS:
        break; /* on the port range's line */
    case PX_SYSCTL_FILE_MAX:
        fprintf(f, "  %-22s %lld; RLIMIT_NOFILE soft %llu, hard %llu\n", s->label,
                (long long)e->file_max, (unsigned long long)e->nofile_soft,
                (unsigned long long)e->nofile_hard);
        break;
    default:
        v = px_sysctls_get_int(e, s);
        if (v < 0 && s->absent)
            fprintf(f, "  %-22s %s\n", s->label, s->absent);
        else
            fprintf(f, "  %-22s %lld%s%s: %s\n", s->label, (long long)v, s->unit[0] ? " " : "",
                    s->unit, px_sysctls_meaning(s, v));
    }
}

/* The namespace's settings, each with what it means for ports and TIME_WAIT. */
static void text_settings(FILE *f, const struct px_doctor *d)
{
    fprintf(f, "portex doctor: this network namespace, kernel %s\n\n", d->env.kernel);
    for (int id = 0; id < PX_SYSCTL_COUNT; id++)
        if (px_sysctls[id].users & PX_SYSCTL_DOCTOR)
            text_sysctl(f, d, (enum px_sysctl_id)id);
    fprintf(f, "  TIME_WAIT now          %lld in this namespace (sockstat)", (long long)d->tw_all);
    if (d->tw_target >= 0)
        fprintf(f, ", %lld toward the target", (long long)d->tw_target);
    fputc('\n', f);
    if (d->have_ext)
        fprintf(f, "  TcpExt                 TWRecycled %llu, TCPTimeWaitOverflow %llu\n",
                (unsigned long long)d->ext.tw_recycled, (unsigned long long)d->ext.tw_overflow);
    const char *nat = d->nat_rules == 1 ? "yes" : "none";
    if (d->nat_rules < 0)
        nat = "unknown (needs root)";
    if (d->ct_count >= 0)
        fprintf(f,
                "  conntrack              %lld of %lld entries (nf_conntrack_count/max); "
                "NAT rules: %s\n",
                (long long)d->ct_count, (long long)d->ct_max, nat);
}

/* What one connection to the target told (TCP_INFO, TLS, one GET). */
static void text_target(FILE *f, const struct px_doctor *d)
{
    const struct px_probe *p = &d->probe;
    char where[80];
    px_sockaddr_str((const struct sockaddr *)&p->addr, where, sizeof(where));
    fprintf(f, "\ntarget %s (%s)\n", d->url_text, where);
    char words[1200];
    px_addrs_target_words(words, sizeof(words), &d->url, d->family, &p->addr, d->addrs, d->naddrs);
    if (words[0])
        fprintf(f, "  address                %s\n", words);
    if (!p->reached) {
        fprintf(f, "  %s\n", p->error);
    } else if (p->addr.ss_family == AF_UNIX) {
        fprintf(f, "  no ports involved      a Unix socket: no TCP, no TIME_WAIT\n");
        if (p->http_status)
            fprintf(f, "  HTTP                   %d to GET %s\n", p->http_status, d->url.path);
    } else {
        fprintf(f, "  TCP timestamps         %s\n",
                p->timestamps ? "negotiated: tcp_tw_reuse can work toward this server"
                              : "NOT negotiated: tcp_tw_reuse cannot help against this "
                                "server");
        fprintf(f, "  window scaling         %s\n", p->window_scaling ? "yes" : "no");
        fprintf(f, "  SACK                   %s\n", p->sack ? "yes" : "no");
        fprintf(f, "  RTT                    %u us\n", p->rtt_us);
        if (p->tls)
            text_tls_probe(f, p);
        if (p->http_status)
            fprintf(f, "  HTTP                   %d to GET %s\n", p->http_status, d->url.path);
    }
}

void px_doctor_report_text(FILE *f, const struct px_doctor *d)
{
    text_settings(f, d);
    if (d->has_target)
        text_target(f, d);
    fprintf(f, "\npredicted short-connection ceilings%s (per source IP, destination IP and port)\n",
            d->has_target ? " toward the target" : "");
    for (size_t i = 0; i < d->nceilings; i++) {
        char ps[32];
        per_s_text(ps, sizeof(ps), &d->ceilings[i].c);
        fprintf(f, "  %-28s %14s  %s\n", d->ceilings[i].config, ps, d->ceilings[i].c.formula);
    }

    fprintf(f, "\n");
    if (d->nflags == 0)
        fprintf(f, "no traps found in these settings\n");
    for (size_t i = 0; i < d->nflags; i++)
        fprintf(f, "! %s\n", d->flags[i]);
    fprintf(f, "\nto raise the ceiling, safest first: keep-alive; let the server close first; "
               "more source addresses or destination ports; a wider ip_local_port_range; "
               "tcp_tw_reuse=1 with timestamps on both ends.\n"
               "not: tcp_fin_timeout (does not touch TIME_WAIT); tcp_tw_recycle (removed in "
               "Linux 4.12, it broke clients behind NAT).\n");
}

static json_t *json_tls_probe(const struct px_probe *p)
{
    json_t *o = json_object();
    px_jset(o, "version", p->tls_version[0] ? json_string(p->tls_version) : NULL);
    if (p->tls_error[0]) {
        px_jset(o, "resumes_sessions", NULL);
        px_jset(o, "error", json_string(p->tls_error));
    } else {
        px_jset(o, "resumes_sessions", json_boolean(p->tls_resumed));
    }
    return o;
}

/* The target as probed: where it is, whether it answered, what TCP (and TLS) agreed. */
static json_t *json_target(const struct px_doctor *d)
{
    const struct px_probe *p = &d->probe;
    json_t *o = json_object();
    px_jset(o, "url", json_string(d->url_text));
    if (p->addr.ss_family == AF_UNIX) {
        char where[PX_URL_UNIX_MAX + 8];
        px_sockaddr_str((const struct sockaddr *)&p->addr, where, sizeof(where));
        px_jset(o, "address", json_string(where));
        px_jset(o, "port", NULL);
    } else {
        char ip[64];
        px_sockaddr_ip((const struct sockaddr *)&p->addr, ip, sizeof(ip));
        px_jset(o, "address", json_string(ip));
        px_jset(o, "port", px_ju64(d->url.port));
    }
    px_jset(o, "family", px_family_name(d->family) ? json_string(px_family_name(d->family)) : NULL);
    px_jset(o, "resolved", px_result_encode_addrs(d->addrs, d->naddrs));
    px_jset(o, "reached", json_boolean(p->reached));
    if (!p->reached) {
        px_jset(o, "error", json_string(p->error));
        return o;
    }
    px_jset(o, "timestamps_negotiated", json_boolean(p->timestamps));
    px_jset(o, "window_scaling", json_boolean(p->window_scaling));
    px_jset(o, "sack", json_boolean(p->sack));
    px_jset(o, "rtt_us", px_ju64(p->rtt_us));
    px_jset(o, "http_status", p->http_status ? json_integer(p->http_status) : NULL);
    if (p->tls)
        px_jset(o, "tls", json_tls_probe(p));
    return o;
}

static json_t *json_ceilings(const struct px_doctor *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i < d->nceilings; i++) {
        json_t *o = json_object();
        px_jset(o, "config", json_string(d->ceilings[i].config));
        px_jset(o, "per_s", px_json_real10(d->ceilings[i].c.per_s));
        px_jset(o, "formula", json_string(d->ceilings[i].c.formula));
        json_array_append_new(a, o);
    }
    return a;
}

void px_doctor_report_json(FILE *f, const struct px_doctor *d)
{
    const struct px_env *e = &d->env;
    json_t *doc = json_object();
    px_jset(doc, "command", json_string("doctor"));
    px_jset(doc, "kernel", json_string(e->kernel));
    px_jset(doc, "sysctl", px_result_encode_sysctl(e));
    json_t *nofile = json_object();
    px_jset(nofile, "soft", px_ju64(e->nofile_soft));
    px_jset(nofile, "hard", px_ju64(e->nofile_hard));
    px_jset(doc, "nofile", nofile);
    px_jset(doc, "usable_ports", px_ju64(d->usable_ports));
    px_jset(doc, "bound_ports", d->bound_ports >= 0 ? json_integer(d->bound_ports) : NULL);
    json_t *tw = json_object();
    px_jset(tw, "all", json_integer(d->tw_all));
    px_jset(tw, "target", d->tw_target >= 0 ? json_integer(d->tw_target) : NULL);
    px_jset(doc, "time_wait", tw);
    if (d->have_ext) {
        json_t *ext = json_object();
        px_jset(ext, "TWRecycled", px_ju64(d->ext.tw_recycled));
        px_jset(ext, "TCPTimeWaitOverflow", px_ju64(d->ext.tw_overflow));
        px_jset(doc, "tcpext", ext);
    }
    px_jset(doc, "conntrack",
            d->ct_count >= 0 ? json_pack("{s:I,s:I}", "count", (json_int_t)d->ct_count, "max",
                                         (json_int_t)d->ct_max)
                             : NULL);
    px_jset(doc, "nat_rules", d->nat_rules < 0 ? NULL : json_boolean(d->nat_rules == 1));
    if (d->has_target)
        px_jset(doc, "target", json_target(d));
    px_jset(doc, "ceilings", json_ceilings(d));
    json_t *flags = json_array();
    for (size_t i = 0; i < d->nflags; i++)
        json_array_append_new(flags, json_string(d->flags[i]));
    px_jset(doc, "flags", flags);
    px_json_print_tree(f, doc);
    json_decref(doc);
}
