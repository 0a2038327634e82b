/* SPDX-License-Identifier: MIT */
/* portex doctor's reports: the settings and what each means, the target, the ceilings, the traps. */
#include "portex/report/doctor_report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portex/base/url.h"
#include "portex/kernel/sysctls.h"
#include "portex/report/json.h"
#include "portex/report/run_report.h"

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
    int64_t v;
    switch (id) {
    case PX_SYSCTL_PORT_RANGE:
        fprintf(f, "  %-22s %u-%u: %llu usable ports toward one destination (minus reserved: %s)\n",
                s->label, e->port_lo, e->port_hi, (unsigned long long)d->usable_ports,
                e->reserved_ports[0] ? e->reserved_ports : "none");
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
}

/* What one connection to the target told (TCP_INFO, TLS, one GET). */
static void text_target(FILE *f, const struct px_doctor *d)
{
    const struct px_probe *p = &d->probe;
    char where[80];
    px_sockaddr_str((const struct sockaddr *)&p->addr, where, sizeof(where));
    fprintf(f, "\ntarget %s (%s)\n", d->url_text, where);
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

static void json_tls_probe(struct px_json *j, const struct px_probe *p)
{
    px_json_obj_begin(j, "tls");
    px_json_str(j, "version", p->tls_version[0] ? p->tls_version : NULL);
    if (p->tls_error[0]) {
        px_json_null(j, "resumes_sessions");
        px_json_str(j, "error", p->tls_error);
    } else {
        px_json_bool(j, "resumes_sessions", p->tls_resumed);
    }
    px_json_obj_end(j);
}

void px_doctor_report_json(FILE *f, const struct px_doctor *d)
{
    const struct px_env *e = &d->env;
    struct px_json j;
    px_json_init(&j, f, 0);
    px_json_obj_begin(&j, NULL);
    px_json_str(&j, "command", "doctor");
    px_json_str(&j, "kernel", e->kernel);
    px_report_json_sysctl(&j, e);
    px_json_obj_begin(&j, "nofile");
    px_json_u64(&j, "soft", e->nofile_soft);
    px_json_u64(&j, "hard", e->nofile_hard);
    px_json_obj_end(&j);
    px_json_u64(&j, "usable_ports", d->usable_ports);
    px_json_obj_begin(&j, "time_wait");
    px_json_i64(&j, "all", d->tw_all);
    if (d->tw_target >= 0)
        px_json_i64(&j, "target", d->tw_target);
    else
        px_json_null(&j, "target");
    px_json_obj_end(&j);
    if (d->have_ext) {
        px_json_obj_begin(&j, "tcpext");
        px_json_u64(&j, "TWRecycled", d->ext.tw_recycled);
        px_json_u64(&j, "TCPTimeWaitOverflow", d->ext.tw_overflow);
        px_json_obj_end(&j);
    }
    if (d->has_target) {
        const struct px_probe *p = &d->probe;
        char ip[64];
        px_sockaddr_ip((const struct sockaddr *)&p->addr, ip, sizeof(ip));
        px_json_obj_begin(&j, "target");
        px_json_str(&j, "url", d->url_text);
        if (p->addr.ss_family == AF_UNIX) {
            char where[PX_URL_UNIX_MAX + 8];
            px_sockaddr_str((const struct sockaddr *)&p->addr, where, sizeof(where));
            px_json_str(&j, "address", where);
            px_json_null(&j, "port");
        } else {
            px_json_str(&j, "address", ip);
            px_json_u64(&j, "port", d->url.port);
        }
        px_json_bool(&j, "reached", p->reached);
        if (p->reached) {
            px_json_bool(&j, "timestamps_negotiated", p->timestamps);
            px_json_bool(&j, "window_scaling", p->window_scaling);
            px_json_bool(&j, "sack", p->sack);
            px_json_u64(&j, "rtt_us", p->rtt_us);
            if (p->http_status)
                px_json_i64(&j, "http_status", p->http_status);
            else
                px_json_null(&j, "http_status");
            if (p->tls)
                json_tls_probe(&j, p);
        } else {
            px_json_str(&j, "error", p->error);
        }
        px_json_obj_end(&j);
    }
    px_json_arr_begin(&j, "ceilings");
    for (size_t i = 0; i < d->nceilings; i++) {
        px_json_obj_begin(&j, NULL);
        px_json_str(&j, "config", d->ceilings[i].config);
        px_json_f64(&j, "per_s", d->ceilings[i].c.per_s);
        px_json_str(&j, "formula", d->ceilings[i].c.formula);
        px_json_obj_end(&j);
    }
    px_json_arr_end(&j);
    px_json_arr_begin(&j, "flags");
    for (size_t i = 0; i < d->nflags; i++)
        px_json_str(&j, NULL, d->flags[i]);
    px_json_arr_end(&j);
    px_json_obj_end(&j);
    px_json_finish(&j);
}
