/* SPDX-License-Identifier: MIT */
/*
 * portex lab's text: the modes' table, then one sentence per mode that ran,
 * told from its measured figures with the kernel rule behind it
 * (KERNEL-FACTS.md). The stories are a table: a mode names one of three
 * tellers (ports held in TIME_WAIT for 60 s, ports given back by tcp_tw_reuse,
 * no TIME_WAIT on the client) and the rule in words, so a new lab mode is one
 * row. Each teller says so when the run did not show what the mode is for
 * (a low -r that never filled the ports).
 */
#include "portex/report/lab_report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "portex/load/result.h"
#include "portex/report/mode_report.h"
#include "portex/report/mode_result.h"
#include "portex/report/topo_report.h"

/* What a mode's run measured, in the figures its sentence uses. */
struct figures {
    const struct px_run *run;
    const struct px_ceiling *c;
    unsigned long long ok, ea, conns, missed, recycled;
    double ok_per_s;
    char budget[64]; /* the ports that bound it, in words ("4 addresses x 1000 ports") */
};

struct story;
typedef void (*tell_fn)(FILE *f, const char *name, const struct figures *fig,
                        const struct story *st);

/* One mode's story: who tells it and the rule it shows. */
struct story {
    const char *mode;
    tell_fn tell;
    const char *rule; /* the kernel's rule, in words, after a colon */
    const char *coda; /* a sentence of its own after the rule, or NULL */
};

static void figures_of(const struct px_run *run, struct figures *fig)
{
    memset(fig, 0, sizeof(*fig));
    fig->run = run;
    fig->c = &run->ex.ceiling;
    fig->ok = (unsigned long long)run->totals.ok;
    fig->ea = (unsigned long long)px_totals_errno(&run->totals, EADDRNOTAVAIL);
    fig->conns = (unsigned long long)run->totals.connections_opened;
    fig->missed = (unsigned long long)run->totals.missed_starts;
    for (size_t i = 0; i < run->series.count; i++)
        fig->recycled += (unsigned long long)run->series.rows[i].tw_recycled;
    fig->ok_per_s = run->duration_s > 0 ? (double)run->totals.ok / run->duration_s : 0.0;
    /* A merged result counts every host's ports; sources multiply them in the ceiling. */
    const struct px_load *load = run->load;
    unsigned long long ports = (unsigned long long)run->ex.usable_ports;
    size_t n = 0;
    if (run->hosts > 1)
        n = (size_t)snprintf(fig->budget, sizeof(fig->budget), "%u hosts x %llu ports", run->hosts,
                             ports / run->hosts);
    else if (load->nsources > 1)
        n = (size_t)snprintf(fig->budget, sizeof(fig->budget), "%zu addresses x %llu ports",
                             load->nsources, ports);
    else
        n = (size_t)snprintf(fig->budget, sizeof(fig->budget), "%llu ports", ports);
    if (load->keepalive && load->requests_per_conn > 0 && n < sizeof(fig->budget))
        snprintf(fig->budget + n, sizeof(fig->budget) - n, " x %u requests",
                 load->requests_per_conn);
}

/* ": rule." and the coda, closing a sentence. */
static void rule_end(FILE *f, const struct story *st)
{
    fprintf(f, ": %s.", st->rule);
    if (st->coda != NULL)
        fprintf(f, " %s", st->coda);
    fputc('\n', f);
}

/* Ports held: each port sits in TIME_WAIT for 60 s, so the budget is spent once. */
static void tell_held(FILE *f, const char *name, const struct figures *fig, const struct story *st)
{
    const struct px_run *run = fig->run;
    if (!run->ex.seen) {
        fprintf(f,
                "%s: the ports never ran out: %llu ok fit in the budget of %s, so this run "
                "does not show the limit (raise -r or -d to offer more than %.0f requests "
                "within %.0f s)",
                name, fig->ok, fig->budget, fig->c->burst, fig->c->hold_s);
        rule_end(f, st);
        return;
    }
    fprintf(f, "%s: %llu ok", name, fig->ok);
    if (fig->conns != fig->ok)
        fprintf(f, " over %llu connections", fig->conns);
    fprintf(f, ", then the budget of %s ran out at t=%.2f s", fig->budget, run->ex.first_s);
    if (run->duration_s < fig->c->hold_s)
        fprintf(f, " and no port came back within the run");
    fprintf(f, " (%llu EADDRNOTAVAIL", fig->ea);
    if (run->env.tw_reuse == 1)
        fprintf(f, "; TWRecycled %llu: %s", fig->recycled,
                fig->recycled ? "yet some ports were reused" : "no port reused");
    fputc(')', f);
    rule_end(f, st);
}

/* Ports given back: tcp_tw_reuse lets connect() take a TIME_WAIT port after the delay. */
static void tell_reuse(FILE *f, const char *name, const struct figures *fig, const struct story *st)
{
    const struct px_run *run = fig->run;
    double delay_ms = fig->c->hold_s * 1e3;
    fprintf(f, "%s: %llu ok", name, fig->ok);
    if (fig->conns != fig->ok)
        fprintf(f, " over %llu connections", fig->conns);
    if (fig->recycled == 0 && !run->ex.seen) {
        fprintf(f,
                " fit in the budget of %s without taking back a single port, so this run "
                "does not show reuse (raise -r or -d)",
                fig->budget);
    } else if (fig->recycled == 0) {
        fprintf(f,
                ", then the budget of %s ran out at t=%.2f s and no TIME_WAIT port was reused "
                "(TWRecycled 0, %llu EADDRNOTAVAIL), though reuse should have applied",
                fig->budget, run->ex.first_s, fig->ea);
    } else if (run->ex.seen) {
        fprintf(f,
                "; the budget of %s ran out at t=%.2f s, then %llu connections took a TIME_WAIT "
                "port back (TWRecycled) %.0f ms after it closed, up to the ceiling of %.1f/s "
                "(%.1f ok/s over the whole run)",
                fig->budget, run->ex.first_s, fig->recycled, delay_ms, fig->c->per_s,
                fig->ok_per_s);
    } else {
        fprintf(f,
                " and the ports never ran out: %llu connections took a TIME_WAIT port back "
                "(TWRecycled), and the offered %.10g/s stayed under the ceiling of %.1f/s, so "
                "this run shows reuse keeping up, not where it stops (raise -r past %.0f/s)",
                fig->recycled, run->load->rate_per_s, fig->c->per_s, fig->c->per_s);
    }
    rule_end(f, st);
}

/* No TIME_WAIT on the client: ports come free at once (or are never given up). */
static void tell_free(FILE *f, const char *name, const struct figures *fig, const struct story *st)
{
    const struct px_run *run = fig->run;
    unsigned long long ports = (unsigned long long)run->ex.usable_ports;
    int reused = run->load->keepalive && run->load->requests_per_conn == 0;
    if (run->ex.seen) {
        fprintf(f, "%s: yet %llu EADDRNOTAVAIL from t=%.2f s: ports did bind here (%s)", name,
                fig->ea, run->ex.first_s, fig->c->formula);
    } else if (reused) {
        fprintf(f, "%s: %llu ok over %llu connections, 0 EADDRNOTAVAIL", name, fig->ok, fig->conns);
        if (fig->missed)
            fprintf(f, " (%llu starts missed: all %u connections were busy)", fig->missed,
                    run->load->connections);
    } else if (fig->conns <= ports) {
        fprintf(f,
                "%s: %llu ok over %llu connections, no more than the %llu ports, so this run "
                "cannot show ports coming free (raise -r or -d past %llu connections)",
                name, fig->ok, fig->conns, ports, ports);
    } else {
        fprintf(f,
                "%s: %llu connections through %llu ports, 0 EADDRNOTAVAIL, TIME_WAIT peak %lld "
                "at the client",
                name, fig->conns, ports, (long long)run->ex.time_wait_peak);
    }
    rule_end(f, st);
}

#define INCIDENT                                                                                   \
    "This was the original incident: a client with tcp_tw_reuse=1 still ran out of ports "         \
    "because the server had TCP timestamps off."

static const struct story stories[] = {
    {.mode = "noreuse",
     .tell = tell_held,
     .rule = "a client that closes first holds each port in TIME_WAIT for 60 s, fixed in the "
             "kernel (tcp_fin_timeout does not change it)"},
    {.mode = "reuse",
     .tell = tell_reuse,
     .rule = "tcp_tw_reuse=1 lets connect() take a TIME_WAIT port again once the reuse delay "
             "has passed, if the old connection had TCP timestamps"},
    {.mode = "reuse-server-nots",
     .tell = tell_held,
     .rule = "the server's tcp_timestamps=0 left its SYN-ACK without a timestamp, and "
             "tcp_tw_reuse=1 only reuses a port whose old connection had timestamps, so it "
             "behaves like noreuse",
     .coda = INCIDENT},
    {.mode = "keepalive",
     .tell = tell_free,
     .rule = "a connection that stays open keeps its one port and leaves no TIME_WAIT behind, "
             "so ports do not bind (C / request time, Little's law)"},
    {.mode = "server-close",
     .tell = tell_free,
     .rule = "the server sent the first FIN, so the server holds TIME_WAIT and each client "
             "port comes free after LAST_ACK"},
    {.mode = "rst",
     .tell = tell_free,
     .rule = "SO_LINGER {1, 0} closes with RST and skips TIME_WAIT, so a port is held only "
             "while its request is in flight"},
    {.mode = "sources4",
     .tell = tell_held,
     .rule = "with IP_BIND_ADDRESS_NO_PORT connect() picks the port per 4-tuple, so each "
             "source address gets the whole range toward the server, each port then 60 s in "
             "TIME_WAIT"},
    {.mode = "delay100",
     .tell = tell_reuse,
     .rule = "tcp_tw_reuse_delay=100 (Linux 6.14+) lets tcp_tw_reuse=1 take a TIME_WAIT port "
             "100 ms after it entered TIME_WAIT instead of 1000 ms: ten times the ceiling"},
    {.mode = "hosts4",
     .tell = tell_held,
     .rule = "each client host (namespace) has a port space of its own, and the merge adds the "
             "shards exactly, so 4 hosts give what 4 source addresses give (sources4)"},
    {.mode = "reuse-conn10",
     .tell = tell_reuse,
     .rule = "each connection carries 10 requests before its port enters TIME_WAIT, and "
             "tcp_tw_reuse=1 takes the port back after the delay: N x P / (N x T + D)"},
    {.mode = "noreuse-conn10",
     .tell = tell_held,
     .rule = "each connection carries 10 requests before its port sits 60 s in TIME_WAIT, so "
             "the same ports serve ten times noreuse's requests"},
    {.mode = "h2",
     .tell = tell_free,
     .rule = "HTTP/2 carries 10 requests at once on each connection, so C connections hold C "
             "ports for any rate and leave no TIME_WAIT (C x streams / request time)"},
};

/* A mode without a row of its own: the teller its ceiling calls for, its formula as the rule. */
static const struct story *story_for(const struct px_mode_result *r, struct story *fallback)
{
    for (size_t i = 0; i < sizeof(stories) / sizeof(stories[0]); i++)
        if (strcmp(stories[i].mode, r->name) == 0)
            return &stories[i];
    const struct px_ceiling *c = &r->run->ex.ceiling;
    fallback->mode = r->name;
    fallback->tell = !c->port_bound ? tell_free : c->reuse_applies ? tell_reuse : tell_held;
    fallback->rule = c->formula;
    fallback->coda = NULL;
    return fallback;
}

void px_lab_report_story(FILE *f, const struct px_mode_result *r)
{
    /* The modes of a topology of their own (a middle, two targets) tell theirs there. */
    if (!r->ran || px_topo_report_sentence(f, r))
        return;
    struct story fallback;
    const struct story *st = story_for(r, &fallback);
    struct figures fig;
    figures_of(r->run, &fig);
    st->tell(f, r->name, &fig, st);
}

void px_lab_report_text(FILE *f, const struct px_lab_report *lab,
                        const struct px_mode_result *results, size_t n)
{
    size_t direct = 0; /* modes of the client-server table (not through a middle) */
    for (size_t i = 0; i < n; i++)
        direct += !results[i].ran || results[i].middle.kind == PX_MIDDLE_NONE;
    if (direct == 0) {
        fprintf(f, "portex lab: %.10g new requests/s for %.1f s per mode\n", lab->rate_per_s,
                lab->duration_s);
    } else {
        fprintf(f,
                "portex lab: %u client ports, %.10g new requests/s for %.1f s per mode, "
                "client %s -> server %s over veth\n\n",
                lab->ports, lab->rate_per_s, lab->duration_s, lab->client_ip, lab->server_ip);
        px_mode_report_table(f, results, n);
    }
    px_topo_report_table(f, results, n);
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++)
        px_lab_report_story(f, &results[i]);
}
